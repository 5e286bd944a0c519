package cloudfront

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	cf "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	kvs "github.com/aws/aws-sdk-go-v2/service/cloudfrontkeyvaluestore"
	kvstypes "github.com/aws/aws-sdk-go-v2/service/cloudfrontkeyvaluestore/types"
	"github.com/aws/smithy-go"

	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/render"
	cfrender "github.com/edgegw/edgegw/render/cloudfront"
)

// The HS256 secrets. The viewer-request function reads each auth policy's HMAC secret from a CloudFront
// KeyValueStore (targets.cloudfront.key_value_store, created when missing) under the key
// cfrender.SecretKey names. Apply reads each value from the environment by the variable the manifest
// references, associates the store with the viewer-request function and writes a key (PutKey, with the
// store's ETag) only when its value changed. The store's values are never read back: the deploy record
// keeps a keyed one-way fingerprint per key (HMAC-SHA-256 keyed by the value), never the value. Keys are
// written before TestFunction runs, since CloudFront's test reads the associated store; a failed apply
// after a write leaves the new value (the old one is unknown), and a rollback leaves the keys as they are.

// secretKey is one key the function reads and where its value comes from.
type secretKey struct {
	key   string
	env   string // the variable the manifest names; "" for a value the manifest holds
	value string // resolved; "" when the variable is not set
}

// kvsStore is the store the viewer-request function reads, with the clients of both planes.
type kvsStore struct {
	setting string // targets.cloudfront.key_value_store: a name or an ARN
	data    *kvs.Client
	getenv  func(string) string
	keys    []secretKey
}

// kvsDefaultName names the store when targets.cloudfront.key_value_store is unset: the function's name.
func kvsDefaultName(s *Settings) string {
	if s.KeyValueStore != "" {
		return s.KeyValueStore
	}
	return s.Function
}

// secretKeys resolves the keys the gateway's viewer-request function reads, sorted by key.
func (p *Provider) secretKeys() []secretKey {
	if p.kvs == nil || p.gateway == nil {
		return nil
	}
	byKey := map[string]secretKey{}
	for _, ap := range p.gateway.AuthPolicies {
		k := cfrender.SecretKey(ap)
		if k == "" {
			continue
		}
		sk := secretKey{key: k, env: ap.JWT.Secret.Env}
		if sk.env != "" {
			sk.value = p.kvs.getenv(sk.env)
		} else {
			sk.value = ap.JWT.Secret.Literal
		}
		byKey[k] = sk
	}
	var out []secretKey
	for _, sk := range byKey {
		out = append(out, sk)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

// missingSecret is the error for a secret whose variable is not set: nothing was changed.
func missingSecret(sk secretKey) error {
	return fmt.Errorf("providers/%s: KeyValueStore key %s reads %s, which is not set: export %s before apply (the manifest references it with {env: %s}); nothing was changed", Name, sk.key, sk.env, sk.env, sk.env)
}

// kvsFingerprint is a key's identity in the deploy record: HMAC-SHA-256 keyed by the value over the store
// and the key, so equal values under two keys or stores do not look alike. HS256 secrets are at least 32
// bytes (ir.CheckHMACSecret), so it cannot be reversed by guessing.
func kvsFingerprint(store, key, value string) string {
	m := hmac.New(sha256.New, []byte(value))
	m.Write([]byte("edgegw cloudfront keyvaluestore key\x00" + store + "\x00" + key))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// isARN tells a store's ARN from its name.
func isARN(s string) bool { return strings.HasPrefix(s, "arn:") }

// findStore returns the store's ARN, "" when no store of that name exists (an ARN is taken as given).
func (p *Provider) findStore(ctx context.Context) (string, error) {
	if isARN(p.kvs.setting) {
		return p.kvs.setting, nil
	}
	out, err := p.client.DescribeKeyValueStore(ctx, &cf.DescribeKeyValueStoreInput{Name: aws.String(p.kvs.setting)})
	var nf *types.EntityNotFound
	switch {
	case errors.As(err, &nf) || isNotFound(err):
		return "", nil
	case err != nil:
		return "", p.apiError("describe KeyValueStore "+p.kvs.setting, err)
	case out.KeyValueStore == nil:
		return "", fmt.Errorf("providers/%s: KeyValueStore %s: CloudFront answered no store", Name, p.kvs.setting)
	}
	return aws.ToString(out.KeyValueStore.ARN), nil
}

// ensureStore returns the store's ARN, creating the store when it does not exist.
func (p *Provider) ensureStore(ctx context.Context) (string, error) {
	arn, err := p.findStore(ctx)
	if err != nil || arn != "" {
		return arn, err
	}
	out, err := p.client.CreateKeyValueStore(ctx, &cf.CreateKeyValueStoreInput{Name: aws.String(p.kvs.setting),
		Comment: aws.String("edgegw: HS256 secrets and route table of " + p.base + "-viewer-request")})
	if err != nil {
		return "", p.apiError("create KeyValueStore "+p.kvs.setting, err)
	}
	if out.KeyValueStore == nil || aws.ToString(out.KeyValueStore.ARN) == "" {
		return "", fmt.Errorf("providers/%s: create KeyValueStore %s: CloudFront answered no ARN", Name, p.kvs.setting)
	}
	return aws.ToString(out.KeyValueStore.ARN), nil
}

// kvsChanges lists the keys a plan would write: the secrets whose fingerprint differs from the newest
// record's, and the route keys to write and remove (kvsroutes.go). A key whose variable is not set here
// is a warning (apply refuses it).
func (p *Provider) kvsChanges(ctx context.Context, recs []storedRecord, arts []render.Artifact, liveVersion string) (changes []providers.Change, warnings []string, arn string, err error) {
	table, err := routeTableOf(arts, cfrender.SecretKeys(p.gatewayOrEmpty()))
	if err != nil {
		return nil, nil, "", err
	}
	routes := p.usesRoutes(table, recs)
	keys := p.secretKeys()
	if len(keys) == 0 && !routes {
		return nil, nil, "", nil
	}
	if arn, err = p.findStore(ctx); err != nil {
		return nil, nil, "", err
	}
	if arn == "" {
		changes = append(changes, providers.Change{Action: providers.Create, Kind: "keyvaluestore", Name: "KeyValueStore " + p.kvs.setting})
	}
	recorded := newestFingerprints(recs)
	for _, sk := range keys {
		if sk.value == "" {
			warnings = append(warnings, fmt.Sprintf("KeyValueStore key %s is not compared: %s is not set here (apply reads it and refuses without it)", sk.key, sk.env))
			continue
		}
		if arn == "" || recorded[sk.key] != kvsFingerprint(arn, sk.key, sk.value) {
			changes = append(changes, providers.Change{Action: providers.Update, Kind: "keyvaluestore key", Name: fmt.Sprintf("KeyValueStore %s: key %s", p.kvs.setting, sk.key)})
		}
	}
	if routes {
		rd, w, err := p.resolveRoutes(ctx, table, recs, arn, liveVersion)
		if err != nil {
			return nil, nil, "", err
		}
		changes = append(changes, p.routeChanges(rd)...)
		warnings = append(warnings, w...)
	}
	return changes, warnings, arn, nil
}

// newestFingerprints returns the key fingerprints of the newest record that holds any.
func newestFingerprints(recs []storedRecord) map[string]string {
	for i := len(recs) - 1; i >= 0; i-- {
		if len(recs[i].Secrets) > 0 {
			return recs[i].Secrets
		}
	}
	return nil
}

// kvsPlan is what apply writes to the store, resolved before any mutation.
type kvsPlan struct {
	keys []secretKey
	arn  string
	fps  map[string]string // every key's fingerprint once written: the deploy record's
}

// prepareSecrets resolves every secret before apply changes anything: a variable that is not set fails it.
func (p *Provider) prepareSecrets() (*kvsPlan, error) {
	keys := p.secretKeys()
	if len(keys) == 0 {
		return nil, nil
	}
	for _, sk := range keys {
		if sk.value == "" {
			return nil, missingSecret(sk)
		}
	}
	return &kvsPlan{keys: keys}, nil
}

// writeSecrets writes each key whose fingerprint differs from the newest record's, each PutKey carrying
// the store's current ETag; a conflict (the store moved meanwhile) reads the ETag again, up to 3 times.
func (p *Provider) writeSecrets(ctx context.Context, kp *kvsPlan, recs []storedRecord) error {
	recorded := newestFingerprints(recs)
	kp.fps = map[string]string{}
	etag := ""
	for _, sk := range kp.keys {
		fp := kvsFingerprint(kp.arn, sk.key, sk.value)
		kp.fps[sk.key] = fp
		if recorded[sk.key] == fp {
			continue
		}
		key := sk
		if err := p.ifMatch(ctx, kp.arn, &etag, "write key "+sk.key+" of KeyValueStore "+kp.arn, func(etag string) (*string, error) {
			out, err := p.kvs.data.PutKey(ctx, &kvs.PutKeyInput{KvsARN: aws.String(kp.arn), Key: aws.String(key.key), Value: aws.String(key.value), IfMatch: aws.String(etag)})
			if err != nil {
				return nil, err
			}
			return out.ETag, nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// ifMatch runs one conditional write to the store arn with its ETag (read first when *etag is empty) and
// keeps the ETag the write answers in *etag; a ConflictException (the store moved meanwhile) reads the
// ETag again, up to 3 times. what names the write in an error, without the value it carried.
func (p *Provider) ifMatch(ctx context.Context, arn string, etag *string, what string, write func(etag string) (*string, error)) error {
	for attempt := 0; ; attempt++ {
		if *etag == "" {
			d, err := p.kvs.data.DescribeKeyValueStore(ctx, &kvs.DescribeKeyValueStoreInput{KvsARN: aws.String(arn)})
			if err != nil {
				return p.kvsError("read the ETag of KeyValueStore "+arn, err)
			}
			*etag = aws.ToString(d.ETag)
		}
		next, err := write(*etag)
		var conflict *kvstypes.ConflictException
		if errors.As(err, &conflict) && attempt < 3 {
			*etag = ""
			continue
		}
		if err != nil {
			return p.kvsError(what, err)
		}
		*etag = aws.ToString(next)
		return nil
	}
}

// kvsError says which data-plane call failed, without the value it carried.
func (p *Provider) kvsError(what string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "AccessDeniedException":
			return &providers.CredentialsError{Target: Name, Var: CredentialsHint,
				Err: fmt.Errorf("%s: AWS refused the credentials (%s): give them cloudfront-keyvaluestore:DescribeKeyValueStore, PutKey, UpdateKeys and ListKeys", what, ae.ErrorCode())}
		case "ConflictException":
			return &providers.StalePlanError{Target: Name, Reason: what + ": the store's ETag kept moving (409 ConflictException): someone writes it meanwhile"}
		}
		return fmt.Errorf("providers/%s: %s: %s", Name, what, ae.ErrorCode())
	}
	return fmt.Errorf("providers/%s: %s: %w", Name, what, err)
}

// firstStore is the store a function's LIVE stage associates, "" when none: a restore keeps it.
func firstStore(lf *liveFunction) string {
	if len(lf.kvs) == 0 {
		return ""
	}
	return lf.kvs[0]
}

// kvsAssociations is the viewer-request function's KeyValueStore association, nil without one.
func kvsAssociations(arn string) *types.KeyValueStoreAssociations {
	if arn == "" {
		return nil
	}
	return &types.KeyValueStoreAssociations{Quantity: aws.Int32(1), Items: []types.KeyValueStoreAssociation{{KeyValueStoreARN: aws.String(arn)}}}
}

// summaryKVS returns the store ARNs a function's summary associates.
func summaryKVS(s *types.FunctionSummary) []string {
	if s == nil || s.FunctionConfig == nil || s.FunctionConfig.KeyValueStoreAssociations == nil {
		return nil
	}
	var out []string
	for _, a := range s.FunctionConfig.KeyValueStoreAssociations.Items {
		out = append(out, aws.ToString(a.KeyValueStoreARN))
	}
	return out
}

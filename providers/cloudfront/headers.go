package cloudfront

// The response headers policy. CloudFront runs no viewer-response function (nor a Lambda@Edge
// viewer-response) on an origin's answer of 400 or more, so the Strict-Transport-Security header the
// viewer-response code writes never reaches a viewer on an origin's 500. A response headers policy attached
// to a cache behavior applies to every response CloudFront serves from the cache or forwards from the
// origin. When the manifest has tls.hsts, render writes response-headers-policy.json, the API's
// ResponseHeadersPolicyConfig without Name and Comment. edgegw owns the custom policy named
// `<function>-headers`: apply creates it (or updates it, If-Match its ETag) before the distribution update
// and sets its id as ResponseHeadersPolicyId on every cache behavior in the same UpdateDistribution as the
// function associations. The policy's ETag is part of the base token, so a policy edited after the plan makes
// the plan stale. A behavior that uses another response headers policy is refused, never taken over (a
// behavior has one); a manifest that drops tls.hsts detaches edgegw's policy and leaves the policy itself.
// The policy is only read when the manifest wants it or a cache behavior uses some policy, so a gateway
// without HSTS needs no permission for it.
//
// In deploy-record codes and restore points the policy is the key headersPolicyFile: a config (ours,
// attached), empty (none attached), or absent (a record older than the policy: leave it as it is).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	cf "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/smithy-go"

	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/render"
	cfrender "github.com/edgegw/edgegw/render/cloudfront"
)

// headersPolicyFile is the artifact render/cloudfront writes when the manifest has tls.hsts, and the key of
// the policy in deploy-record codes and restore points.
const headersPolicyFile = cfrender.HeadersPolicyFile

// headersSuffix is appended to targets.cloudfront.function to name the policy.
const headersSuffix = "-headers"

// headersIAM names the permissions the policy needs, for a refused call.
const headersIAM = "cloudfront:ListResponseHeadersPolicies, cloudfront:GetResponseHeadersPolicy, cloudfront:CreateResponseHeadersPolicy and cloudfront:UpdateResponseHeadersPolicy"

func (p *Provider) headersName() string { return p.base + headersSuffix }

// liveHeaders is edgegw's response headers policy as read; exists is false when CloudFront has no custom
// policy by that name.
type liveHeaders struct {
	exists  bool
	id      string
	etag    string
	comment string
	doc     []byte // its config without Name and Comment, as headersDoc writes it
	// shipped is set once this apply wrote the policy (created: created it), so a failure after it puts
	// doc and comment back; a created policy is left, attached to nothing.
	shipped, created bool
}

// wrote reports whether this apply changed the policy already.
func (h *liveHeaders) wrote() bool { return h != nil && h.shipped }

// token is the policy's part of the base token: its ETag, nothing when there is no policy (or it was not
// read, because nothing needs it).
func (h *liveHeaders) token() string {
	if h == nil || !h.exists {
		return ""
	}
	return " headers:" + h.etag
}

// headersCodes is the policy's entry in codes from the rendered artifacts: the config, or nil (none wanted).
func headersCodes(arts []render.Artifact) map[string][]byte {
	codes := map[string][]byte{headersPolicyFile: nil}
	for _, a := range arts {
		if a.Path == headersPolicyFile {
			codes[headersPolicyFile] = a.Data
		}
	}
	return codes
}

// headersCode adds the desired policy config to codes (nil: none wanted, so edgegw's is detached).
func headersCode(codes map[string][]byte, want map[string]render.Artifact) {
	codes[headersPolicyFile] = want[headersPolicyFile].Data
}

// parseHeadersDoc reads a policy config as render writes it.
func parseHeadersDoc(b []byte) (*types.ResponseHeadersPolicyConfig, error) {
	var c types.ResponseHeadersPolicyConfig
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("providers/%s: %s is not a CloudFront ResponseHeadersPolicyConfig (%v): render the manifest again with the cloudfront renderer", Name, headersPolicyFile, err)
	}
	return &c, nil
}

// headersDoc is cfg without Name and Comment, with the empty parts CloudFront may answer left out, as JSON:
// two configs that do the same give the same bytes.
func headersDoc(cfg *types.ResponseHeadersPolicyConfig) ([]byte, error) {
	c := *cfg
	c.Name, c.Comment = nil, nil
	if h := c.CustomHeadersConfig; h != nil && len(h.Items) == 0 {
		c.CustomHeadersConfig = nil
	}
	if h := c.RemoveHeadersConfig; h != nil && len(h.Items) == 0 {
		c.RemoveHeadersConfig = nil
	}
	if s := c.ServerTimingHeadersConfig; s != nil && !aws.ToBool(s.Enabled) {
		c.ServerTimingHeadersConfig = nil
	}
	return json.Marshal(&c)
}

// canonicalHeaders is headersDoc of a config as render writes it.
func canonicalHeaders(b []byte) (*types.ResponseHeadersPolicyConfig, []byte, error) {
	cfg, err := parseHeadersDoc(b)
	if err != nil {
		return nil, nil, err
	}
	doc, err := headersDoc(cfg)
	return cfg, doc, err
}

// headersError says which policy call failed and what to do.
func (p *Provider) headersError(what string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "AccessDenied":
			return &providers.CredentialsError{Target: Name, Var: CredentialsHint,
				Err: fmt.Errorf("%s: AWS refused the credentials (%s): give them %s", what, ae.ErrorCode(), headersIAM)}
		case "ResponseHeadersPolicyAlreadyExists":
			return &providers.StalePlanError{Target: Name, Reason: what + ": a response headers policy named " + p.headersName() + " was created meanwhile"}
		case "NoSuchResponseHeadersPolicy":
			return &providers.StalePlanError{Target: Name, Reason: what + ": the response headers policy " + p.headersName() + " was deleted meanwhile"}
		case "TooManyResponseHeadersPolicies":
			return fmt.Errorf("providers/%s: %s: the account holds as many response headers policies as CloudFront allows: delete one that no distribution uses, or ask AWS for a higher quota", Name, what)
		}
	}
	return p.apiError(what, err)
}

// readHeaders finds edgegw's policy by name (GetResponseHeadersPolicy takes an id) among the account's
// custom policies, and reads its ETag and config.
func (p *Provider) readHeaders(ctx context.Context) (*liveHeaders, error) {
	name := p.headersName()
	var marker *string
	for {
		out, err := p.client.ListResponseHeadersPolicies(ctx, &cf.ListResponseHeadersPoliciesInput{Type: types.ResponseHeadersPolicyTypeCustom, Marker: marker})
		if err != nil {
			return nil, p.headersError("list the response headers policies", err)
		}
		list := out.ResponseHeadersPolicyList
		if list == nil {
			break
		}
		for _, s := range list.Items {
			rp := s.ResponseHeadersPolicy
			if rp != nil && rp.ResponseHeadersPolicyConfig != nil && aws.ToString(rp.ResponseHeadersPolicyConfig.Name) == name {
				return p.readHeadersByID(ctx, aws.ToString(rp.Id))
			}
		}
		next := aws.ToString(list.NextMarker)
		if next == "" || next == aws.ToString(marker) {
			break
		}
		marker = list.NextMarker
	}
	return &liveHeaders{}, nil
}

func (p *Provider) readHeadersByID(ctx context.Context, id string) (*liveHeaders, error) {
	what := "read the response headers policy " + p.headersName() + " (" + id + ")"
	out, err := p.client.GetResponseHeadersPolicy(ctx, &cf.GetResponseHeadersPolicyInput{Id: aws.String(id)})
	if err != nil {
		return nil, p.headersError(what, err)
	}
	if out.ResponseHeadersPolicy == nil || out.ResponseHeadersPolicy.ResponseHeadersPolicyConfig == nil {
		return nil, fmt.Errorf("providers/%s: %s: CloudFront answered no config", Name, what)
	}
	cfg := out.ResponseHeadersPolicy.ResponseHeadersPolicyConfig
	doc, err := headersDoc(cfg)
	if err != nil {
		return nil, err
	}
	return &liveHeaders{exists: true, id: id, etag: aws.ToString(out.ETag), comment: aws.ToString(cfg.Comment), doc: doc}, nil
}

// headerIDs returns the response headers policy id of every cache behavior of dc, the default first, in
// the order and with the names of behaviors().
func headerIDs(dc *types.DistributionConfig) (names []string, ids []**string) {
	names, _, _ = behaviors(dc)
	if dc.DefaultCacheBehavior != nil {
		ids = append(ids, &dc.DefaultCacheBehavior.ResponseHeadersPolicyId)
	}
	if dc.CacheBehaviors != nil {
		for i := range dc.CacheBehaviors.Items {
			ids = append(ids, &dc.CacheBehaviors.Items[i].ResponseHeadersPolicyId)
		}
	}
	return names, ids
}

// usesHeaders reports whether a cache behavior of dc uses a response headers policy: id, or any when id is "".
func usesHeaders(dc *types.DistributionConfig, id string) bool {
	_, ids := headerIDs(dc)
	for _, x := range ids {
		if got := aws.ToString(*x); got != "" && (id == "" || got == id) {
			return true
		}
	}
	return false
}

// loadHeaders reads edgegw's policy into *hp, once, when codes want one or a cache behavior of dc uses a
// policy (which may be edgegw's, to detach).
func (p *Provider) loadHeaders(ctx context.Context, hp **liveHeaders, dc *types.DistributionConfig, codes map[string][]byte) error {
	doc, ok := codes[headersPolicyFile]
	if *hp != nil || !ok || (len(doc) == 0 && !usesHeaders(dc, "")) {
		return nil
	}
	h, err := p.readHeaders(ctx)
	if err != nil {
		return err
	}
	*hp = h
	return nil
}

// checkHeaders refuses, when codes want a policy, a cache behavior that uses another response headers
// policy: a behavior has one, and the other team's headers would be lost.
func (p *Provider) checkHeaders(h *liveHeaders, dc *types.DistributionConfig, codes map[string][]byte) error {
	if doc := codes[headersPolicyFile]; len(doc) == 0 {
		return nil
	}
	names, ids := headerIDs(dc)
	for i, x := range ids {
		got := aws.ToString(*x)
		if got == "" || (h != nil && h.exists && got == h.id) {
			continue
		}
		return fmt.Errorf("providers/%s: distribution %s: %s uses the response headers policy %s, and edgegw's %s must carry the manifest's Strict-Transport-Security there (a cache behavior has one response headers policy): remove that policy from the behavior, or merge its headers into the manifest and remove it", Name, p.distID, names[i], got, p.headersName())
	}
	return nil
}

// attachHeaders sets edgegw's policy on every cache behavior of dc when codes want one, or takes it off
// the behaviors that use it when they want none; it returns how many behaviors changed. Before the policy
// exists (a plan) every behavior counts.
func (p *Provider) attachHeaders(h *liveHeaders, dc *types.DistributionConfig, codes map[string][]byte) int {
	doc, ok := codes[headersPolicyFile]
	if !ok {
		return 0
	}
	_, ids := headerIDs(dc)
	n := 0
	for _, x := range ids {
		got := aws.ToString(*x)
		switch {
		case len(doc) > 0 && (h == nil || !h.exists):
			n++
		case len(doc) > 0 && got != h.id:
			*x = aws.String(h.id)
			n++
		case len(doc) == 0 && h != nil && h.exists && got == h.id:
			*x = nil
			n++
		}
	}
	return n
}

// restoreHeaderIDs gives every cache behavior of dc the response headers policy it had in old; it reports
// whether that changed dc.
func restoreHeaderIDs(dc, old *types.DistributionConfig) bool {
	_, cur := headerIDs(dc)
	_, prev := headerIDs(old)
	if len(cur) != len(prev) {
		return false
	}
	changed := false
	for i := range cur {
		if aws.ToString(*cur[i]) != aws.ToString(*prev[i]) {
			*cur[i] = *prev[i]
			changed = true
		}
	}
	return changed
}

// headersDetail is the policy's entry in a restore point: its config when edgegw's policy is attached to
// a cache behavior of dc, "" for none.
func headersDetail(h *liveHeaders, dc *types.DistributionConfig) string {
	if h == nil || !h.exists || !usesHeaders(dc, h.id) {
		return ""
	}
	return encodeCode(h.doc)
}

// headersFromDetail reads the policy's entry of a restore point into codes; absent, codes stay as they are.
func headersFromDetail(d map[string]string, codes map[string][]byte) {
	s, ok := d[headersPolicyFile]
	if !ok {
		return
	}
	if s == "" {
		codes[headersPolicyFile] = nil
		return
	}
	if c, err := decodeCode(s); err == nil {
		codes[headersPolicyFile] = c
	}
}

// headersArtifact is edgegw's live policy as the artifact plan compares with response-headers-policy.json,
// when it is attached to a cache behavior: the rendered bytes when the live config does the same.
func headersArtifact(h *liveHeaders, dc *types.DistributionConfig, arts []render.Artifact) *render.Artifact {
	if h == nil || !h.exists || !usesHeaders(dc, h.id) {
		return nil
	}
	a := &render.Artifact{Target: cfrender.Name, Path: headersPolicyFile, MediaType: "application/json", Data: h.doc}
	for _, w := range arts {
		if w.Path != headersPolicyFile {
			continue
		}
		if _, doc, err := canonicalHeaders(w.Data); err == nil && bytes.Equal(doc, h.doc) {
			a.Data, a.Canonical = w.Data, w.Canonical
		}
	}
	return a
}

// hstsSummary is the header a config sends, for plan.
func hstsSummary(cfg *types.ResponseHeadersPolicyConfig) string {
	if cfg.SecurityHeadersConfig == nil || cfg.SecurityHeadersConfig.StrictTransportSecurity == nil {
		return "no Strict-Transport-Security"
	}
	s := cfg.SecurityHeadersConfig.StrictTransportSecurity
	v := fmt.Sprintf("Strict-Transport-Security: max-age=%d", aws.ToInt32(s.AccessControlMaxAgeSec))
	if aws.ToBool(s.IncludeSubdomains) {
		v += "; includeSubDomains"
	}
	if aws.ToBool(s.Preload) {
		v += "; preload"
	}
	if aws.ToBool(s.Override) {
		v += " (replacing the origin's)"
	}
	return v
}

// planHeaders lists the policy's changes: created or updated (kind "response headers policy"), attached
// to or detached from cache behaviors (kind "association"). It refuses a behavior that uses another policy.
func (p *Provider) planHeaders(h *liveHeaders, dc *types.DistributionConfig, codes map[string][]byte) ([]providers.Change, []string, error) {
	if err := p.checkHeaders(h, dc, codes); err != nil {
		return nil, nil, err
	}
	var out []providers.Change
	var warnings []string
	name := p.headersName()
	if doc := codes[headersPolicyFile]; len(doc) > 0 {
		cfg, want, err := canonicalHeaders(doc)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case h == nil || !h.exists:
			out = append(out, providers.Change{Action: providers.Create, Kind: "response headers policy", Name: name + ": " + hstsSummary(cfg)})
		case !bytes.Equal(h.doc, want):
			out = append(out, providers.Change{Action: providers.Update, Kind: "response headers policy", Name: name + ": " + hstsSummary(cfg)})
		}
		if n := p.attachHeaders(h, copyConfig(dc), codes); n > 0 {
			out = append(out, providers.Change{Action: providers.Update, Kind: "association",
				Name: fmt.Sprintf("distribution %s: %d cache behavior(s) to use response headers policy %s", p.distID, n, name)})
		}
		return out, warnings, nil
	}
	if n := p.attachHeaders(h, copyConfig(dc), codes); n > 0 {
		out = append(out, providers.Change{Action: providers.Delete, Kind: "association",
			Name: fmt.Sprintf("distribution %s: response headers policy %s off %d cache behavior(s)", p.distID, name, n)})
		warnings = append(warnings, fmt.Sprintf("the manifest has no tls.hsts: apply detaches the response headers policy %s (%s) from %d cache behavior(s) and keeps the policy itself; delete it by hand once no distribution uses it", name, h.id, n))
	}
	return out, warnings, nil
}

// shipHeaders makes codes' policy config edgegw's policy, creating the policy or updating it (If-Match its
// ETag) when the config differs; the comment carries note. No config, nothing to write.
func (p *Provider) shipHeaders(ctx context.Context, h *liveHeaders, codes map[string][]byte, note string) error {
	doc := codes[headersPolicyFile]
	if len(doc) == 0 || h == nil {
		return nil
	}
	cfg, want, err := canonicalHeaders(doc)
	if err != nil {
		return err
	}
	if h.exists && bytes.Equal(h.doc, want) {
		return nil
	}
	name := p.headersName()
	cfg.Name, cfg.Comment = aws.String(name), aws.String(note)
	if h.exists {
		out, err := p.client.UpdateResponseHeadersPolicy(ctx, &cf.UpdateResponseHeadersPolicyInput{Id: aws.String(h.id), IfMatch: aws.String(h.etag), ResponseHeadersPolicyConfig: cfg})
		if err != nil {
			return p.headersError("update the response headers policy "+name, err)
		}
		h.etag, h.shipped = aws.ToString(out.ETag), true // h.doc and h.comment stay what to put back
		return nil
	}
	out, err := p.client.CreateResponseHeadersPolicy(ctx, &cf.CreateResponseHeadersPolicyInput{ResponseHeadersPolicyConfig: cfg})
	if err != nil {
		return p.headersError("create the response headers policy "+name, err)
	}
	if out.ResponseHeadersPolicy == nil || aws.ToString(out.ResponseHeadersPolicy.Id) == "" {
		return fmt.Errorf("providers/%s: create the response headers policy %s: CloudFront answered no id", Name, name)
	}
	h.exists, h.created, h.shipped = true, true, true
	h.id, h.etag = aws.ToString(out.ResponseHeadersPolicy.Id), aws.ToString(out.ETag)
	return nil
}

// restoreHeaders puts back the config shipHeaders replaced, with its comment; a policy this apply created
// stays, and restoring the associations leaves it attached to nothing.
func (p *Provider) restoreHeaders(ctx context.Context, h *liveHeaders) error {
	if !h.wrote() || h.created {
		return nil
	}
	name := p.headersName()
	cur, err := p.readHeadersByID(ctx, h.id) // the ETag the update gave, or a later one
	if err != nil {
		return err
	}
	cfg, err := parseHeadersDoc(h.doc)
	if err != nil {
		return err
	}
	cfg.Name, cfg.Comment = aws.String(name), aws.String(h.comment)
	if _, err := p.client.UpdateResponseHeadersPolicy(ctx, &cf.UpdateResponseHeadersPolicyInput{Id: aws.String(h.id), IfMatch: aws.String(cur.etag), ResponseHeadersPolicyConfig: cfg}); err != nil {
		return p.headersError("put the previous config of the response headers policy "+name+" back", err)
	}
	return nil
}

// headersOf finds the policy config of version: in the restore point, else in the newest record that
// shipped it or replaced it. ok is false when none of them knows (a record older than the policy).
func headersOf(rp providers.RestorePoint, recs []storedRecord) (doc []byte, ok bool) {
	codes := map[string][]byte{}
	if headersFromDetail(rp.Detail, codes); len(codes) > 0 {
		return codes[headersPolicyFile], true
	}
	for i := len(recs) - 1; i >= 0; i-- {
		r := recs[i]
		if c, has := r.Code[headersPolicyFile]; has && r.Record.Version == rp.Version {
			return c, true
		}
		if r.Record.Previous.Version == rp.Version {
			if headersFromDetail(r.Record.Previous.Detail, codes); len(codes) > 0 {
				return codes[headersPolicyFile], true
			}
		}
	}
	return nil, false
}

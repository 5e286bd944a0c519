package cloudfront

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	cf "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	kvs "github.com/aws/aws-sdk-go-v2/service/cloudfrontkeyvaluestore"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/providers/endpoint"
	"github.com/edgegw/edgegw/render"
	cfrender "github.com/edgegw/edgegw/render/cloudfront"
)

// Region is where CloudFront's control plane lives: the API is global and signs in us-east-1.
const Region = "us-east-1"

// CredentialsHint names where the AWS default chain looks, for the missing-credentials error.
const CredentialsHint = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"

// Defaults of the propagation wait (Verify) and of the TestFunction budget.
const (
	DefaultPollInterval = 60 * time.Second
	DefaultPollTimeout  = 30 * time.Minute
	// MaxComputeUtilization is the highest ComputeUtilization TestFunction may report for a test event
	// before the apply refuses to publish: CloudFront throttles a function that exceeds 100 in production.
	MaxComputeUtilization = 70
)

// function is one of the two CloudFront Functions edgegw owns on the distribution.
type function struct {
	artifact  string          // the artifact path that holds its code
	eventType types.EventType // the event it is associated with on every cache behavior
	suffix    string          // appended to targets.cloudfront.function to name it
}

var functions = []function{
	{cfrender.RequestFile, types.EventTypeViewerRequest, "-viewer-request"},
	{cfrender.ResponseFile, types.EventTypeViewerResponse, "-viewer-response"},
}

// Provider deploys the two functions and their association with the distribution's cache behaviors.
// CloudFront keeps no function history: the code a deploy replaced is kept in its deploy record (and in
// the plan's restore point), and a rollback publishes it again.
type Provider struct {
	client     *cf.Client
	lambda     *lambda.Client // the lambda-edge-auth companion's function (lambda.go)
	lambdaFn   string         // targets.cloudfront.lambda_function
	distID     string
	base       string // targets.cloudfront.function
	recordsDir string
	gateway    *ir.Gateway
	waf        *wafDeploy // nil without the waf-rate-limit companion
	kvs        *kvsStore  // nil when the viewer-request function reads no secret and no route table (kvs.go)
	store      *kvsStore  // the store kvs becomes when the build's route table goes there (kvsroutes.go)
	// pending is what Apply writes to the store (ship consumes it); recordSecrets the fingerprints the
	// next deploy record keeps.
	pending       *kvsPlan
	recordSecrets map[string]string
	// pendingRoutes is what Apply or Rollback does with the route keys (ship consumes it); recordRoutes
	// what the next deploy record keeps of them (kvsroutes.go).
	pendingRoutes *routeDeploy
	recordRoutes  *routeDeploy

	pollInterval time.Duration
	pollTimeout  time.Duration
	progress     func(providers.Progress)
	sleep        func(context.Context, time.Duration) error
}

var (
	_ providers.Provider = (*Provider)(nil)
	_ providers.Verifier = (*Provider)(nil)
	_ providers.Locator  = (*Provider)(nil)

	_ providers.ProgressReporter = (*Provider)(nil)
)

// Options build a provider without the registry, for tests and embedding.
type Options struct {
	// Getenv reads the endpoint override; os.Getenv when nil. The credentials come from the AWS default
	// chain, which reads the process environment and the shared config files itself.
	Getenv     func(string) string
	HTTPClient *http.Client
	// DialContext, when set, dials every connection of the SDK's own HTTP client (HTTPClient unset): a
	// test points the KeyValueStore data plane, whose host the SDK prefixes with the account id, at a
	// local server with it.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// BaseDir is the manifest's directory; the deploy records live under it (RecordsDir).
	BaseDir string
	// PollInterval is how often Verify reads the distribution's status while it deploys; PollTimeout bounds
	// the wait. Zero takes targets.cloudfront.poll_interval and propagation_timeout, else
	// DefaultPollInterval and DefaultPollTimeout.
	PollInterval, PollTimeout time.Duration
	// MaxBackoff bounds the SDK's retry backoff on throttling and 5xx answers (its default when zero).
	MaxBackoff time.Duration
	// Progress receives the propagation steps Verify reports.
	Progress func(providers.Progress)
}

// RecordsDir is where the deploy records of a distribution live, relative to the manifest's directory:
// commit it with the manifest (a CI apply job commits it back), so history and rollback survive the runner.
func RecordsDir(distID string) string { return filepath.Join(".edgegw", "cloudfront", distID) }

// New builds the provider from the manifest's `targets.cloudfront` block and the AWS default chain.
func New(cfg providers.Config) (providers.Provider, error) {
	return Open(cfg.Gateway, Options{Getenv: cfg.Getenv, BaseDir: cfg.BaseDir})
}

// Open builds the provider for g. Missing credentials are a *providers.CredentialsError.
func Open(g *ir.Gateway, o Options) (*Provider, error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	s, err := settingsOf(g)
	if err != nil {
		return nil, err
	}
	// The SDK's own log lines (an IMDS fallback while looking for credentials) would land in the command's
	// output; what matters reaches the user as errors.
	opts := []func(*config.LoadOptions) error{config.WithRegion(Region), config.WithLogger(logging.Nop{})}
	if o.HTTPClient != nil {
		opts = append(opts, config.WithHTTPClient(o.HTTPClient))
	} else if o.DialContext != nil {
		opts = append(opts, config.WithHTTPClient(awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) { tr.DialContext = o.DialContext })))
	}
	if o.MaxBackoff > 0 {
		opts = append(opts, config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) { so.MaxBackoff = o.MaxBackoff })
		}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, &providers.CredentialsError{Target: Name, Var: CredentialsHint, Err: fmt.Errorf("the AWS configuration cannot be loaded: %w", err)}
	}
	if _, err := awsCfg.Credentials.Retrieve(ctx); err != nil {
		return nil, &providers.CredentialsError{Target: Name, Var: CredentialsHint,
			Err: errors.New("the AWS default credential chain found none (environment, shared config and credentials files, SSO, web identity, instance role); give it credentials allowed cloudfront:*Function*, cloudfront:GetDistribution* and cloudfront:UpdateDistribution")}
	}
	base, ok, err := endpoint.Get(o.Getenv, endpoint.AWSCloudFront)
	if err != nil {
		return nil, fmt.Errorf("providers/%s: %w", Name, err)
	}
	client := cf.NewFromConfig(awsCfg, func(co *cf.Options) {
		if ok {
			co.BaseEndpoint = aws.String(base)
		}
	})
	lopts, err := lambdaOptions(o.Getenv)
	if err != nil {
		return nil, err
	}
	p := &Provider{client: client, lambda: lambda.NewFromConfig(awsCfg, lopts), lambdaFn: s.LambdaFunction, distID: s.DistributionID, base: s.Function, gateway: g,
		recordsDir: filepath.Join(o.BaseDir, RecordsDir(s.DistributionID)), pollInterval: o.PollInterval, pollTimeout: o.PollTimeout,
		progress: o.Progress, sleep: sleepCtx}
	if err := p.openWAF(s, awsCfg, o.Getenv); err != nil {
		return nil, err
	}
	// The store is there for the secrets, and for a route table too large for the function's code, which
	// only the rendered artifacts tell (kvsroutes.go).
	kbase, kok, err := endpoint.Get(o.Getenv, endpoint.AWSCloudFrontKeyValueStore)
	if err != nil {
		return nil, fmt.Errorf("providers/%s: %w", Name, err)
	}
	p.store = &kvsStore{setting: kvsDefaultName(s), getenv: o.Getenv, data: kvs.NewFromConfig(awsCfg, func(ko *kvs.Options) {
		if kok {
			ko.BaseEndpoint = aws.String(kbase)
		}
	})}
	if len(cfrender.SecretKeys(g)) > 0 {
		p.kvs = p.store
	}
	poll, timeout, _ := s.durations()
	if p.pollInterval <= 0 {
		p.pollInterval = poll
	}
	if p.pollTimeout <= 0 {
		p.pollTimeout = timeout
	}
	if p.pollInterval <= 0 {
		p.pollInterval = DefaultPollInterval
	}
	if p.pollTimeout <= 0 {
		p.pollTimeout = DefaultPollTimeout
	}
	if p.progress == nil {
		p.progress = func(providers.Progress) {}
	}
	return p, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func settingsOf(g *ir.Gateway) (*Settings, error) {
	if g != nil {
		if t, ok := g.Targets.Lookup(Name); ok {
			if s, ok := t.Config.(*Settings); ok && s != nil && s.DistributionID != "" && s.Function != "" {
				return s, nil
			}
		}
	}
	return nil, fmt.Errorf("providers/%s: the manifest has no targets.cloudfront block with distribution_id and function: add `cloudfront: {distribution_id: E..., function: NAME}` under targets", Name)
}

// Name implements providers.Provider.
func (p *Provider) Name() string { return Name }

// Location implements providers.Locator: where the deploy records are.
func (p *Provider) Location() string {
	return "distribution " + p.distID + ", records in " + p.recordsDir
}

func (p *Provider) fnName(f function) string { return p.base + f.suffix }

// apiError says which call failed and what to do.
func (p *Provider) apiError(what string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "AccessDenied", "InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "UnrecognizedClientException":
			return &providers.CredentialsError{Target: Name, Var: CredentialsHint,
				Err: fmt.Errorf("%s: AWS refused the credentials (%s): give them cloudfront:*Function*, cloudfront:GetDistribution* and cloudfront:UpdateDistribution", what, ae.ErrorCode())}
		case "NoSuchDistribution":
			return fmt.Errorf("providers/%s: %s: no distribution %s: check targets.cloudfront.distribution_id (and that the credentials' account owns it)", Name, what, p.distID)
		case "PreconditionFailed":
			return &providers.StalePlanError{Target: Name, Reason: what + ": CloudFront refused the ETag (412 PreconditionFailed): someone changed it meanwhile"}
		}
	}
	return fmt.Errorf("providers/%s: %s: %w", Name, what, err)
}

// liveFunction is one function as CloudFront holds it.
type liveFunction struct {
	exists  bool   // a DEVELOPMENT stage exists
	devETag string // the DEVELOPMENT stage's ETag, for UpdateFunction, TestFunction and PublishFunction
	live    bool   // a LIVE stage exists
	etag    string // the LIVE stage's ETag
	arn     string
	comment string
	code    []byte   // the LIVE code
	kvs     []string // the KeyValueStore ARNs the LIVE stage associates
}

// liveState is what plan and apply read: both functions and the distribution's config.
type liveState struct {
	fns      map[string]*liveFunction // by artifact path
	dist     *types.DistributionConfig
	distETag string
	waf      *liveWAF // the web ACL, with the waf-rate-limit companion

	headers *liveHeaders // edgegw's response headers policy, once something needs it (headers.go)
}

func (l *liveState) token() string {
	var b strings.Builder
	b.WriteString("dist:" + l.distETag)
	for _, f := range functions {
		e := "none"
		if lf := l.fns[f.artifact]; lf.live {
			e = lf.etag
		}
		b.WriteString(" " + strings.TrimSuffix(f.artifact, ".js") + ":" + e)
	}
	if l.waf != nil {
		b.WriteString(" waf:" + l.waf.lockToken)
	}
	b.WriteString(l.headers.token())
	return b.String()
}

// version names what is live: both functions' LIVE code, by digest, "" when either is not live.
func (l *liveState) version() string {
	codes := map[string][]byte{}
	for _, f := range functions {
		lf := l.fns[f.artifact]
		if !lf.live {
			return ""
		}
		codes[f.artifact] = lf.code
	}
	return versionOf(codes)
}

// versionOf is the version id of a pair of function codes: the start of each one's SHA-256.
func versionOf(codes map[string][]byte) string {
	var parts []string
	for _, f := range functions {
		sum := sha256.Sum256(codes[f.artifact])
		parts = append(parts, hex.EncodeToString(sum[:])[:12])
	}
	return strings.Join(parts, ".")
}

func isNotFound(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() == "NoSuchFunctionExists" || ae.ErrorCode() == "EntityNotFound"
	}
	return false
}

func (p *Provider) readFunction(ctx context.Context, f function) (*liveFunction, error) {
	name := p.fnName(f)
	lf := &liveFunction{}
	live, err := p.client.DescribeFunction(ctx, &cf.DescribeFunctionInput{Name: aws.String(name), Stage: types.FunctionStageLive})
	switch {
	case isNotFound(err):
	case err != nil:
		return nil, p.apiError("describe function "+name+" (LIVE)", err)
	default:
		lf.live, lf.etag = true, aws.ToString(live.ETag)
		lf.arn, lf.comment = summaryARN(live.FunctionSummary), summaryComment(live.FunctionSummary)
		lf.kvs = summaryKVS(live.FunctionSummary)
	}
	dev, err := p.client.DescribeFunction(ctx, &cf.DescribeFunctionInput{Name: aws.String(name), Stage: types.FunctionStageDevelopment})
	switch {
	case isNotFound(err):
	case err != nil:
		return nil, p.apiError("describe function "+name+" (DEVELOPMENT)", err)
	default:
		lf.exists, lf.devETag = true, aws.ToString(dev.ETag)
		if lf.arn == "" {
			lf.arn = summaryARN(dev.FunctionSummary)
		}
	}
	if lf.live {
		code, err := p.client.GetFunction(ctx, &cf.GetFunctionInput{Name: aws.String(name), Stage: types.FunctionStageLive})
		if err != nil {
			return nil, p.apiError("read the LIVE code of function "+name, err)
		}
		lf.code = code.FunctionCode
	}
	return lf, nil
}

func summaryARN(s *types.FunctionSummary) string {
	if s == nil || s.FunctionMetadata == nil {
		return ""
	}
	return aws.ToString(s.FunctionMetadata.FunctionARN)
}

func summaryComment(s *types.FunctionSummary) string {
	if s == nil || s.FunctionConfig == nil {
		return ""
	}
	return aws.ToString(s.FunctionConfig.Comment)
}

func (p *Provider) readLive(ctx context.Context) (*liveState, error) {
	l := &liveState{fns: map[string]*liveFunction{}}
	for _, f := range functions {
		lf, err := p.readFunction(ctx, f)
		if err != nil {
			return nil, err
		}
		l.fns[f.artifact] = lf
	}
	out, err := p.client.GetDistributionConfig(ctx, &cf.GetDistributionConfigInput{Id: aws.String(p.distID)})
	if err != nil {
		return nil, p.apiError("read the config of distribution "+p.distID, err)
	}
	if out.DistributionConfig == nil {
		return nil, fmt.Errorf("providers/%s: distribution %s: CloudFront answered no config", Name, p.distID)
	}
	l.dist, l.distETag = out.DistributionConfig, aws.ToString(out.ETag)
	if p.waf != nil {
		if l.waf, err = p.waf.read(ctx); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// desiredCode returns the code of each function from the artifacts.
func desiredCode(arts []render.Artifact) (map[string]render.Artifact, error) {
	out := map[string]render.Artifact{}
	for _, a := range arts {
		out[a.Path] = a
	}
	for _, f := range functions {
		if _, ok := out[f.artifact]; !ok {
			return nil, fmt.Errorf("providers/%s: the rendered artifacts have no %s: render with the cloudfront renderer", Name, f.artifact)
		}
	}
	return out, nil
}

// Plan implements providers.Provider: it reads both functions (LIVE and DEVELOPMENT) and the
// distribution's config, and compares the LIVE code and the cache behaviors' associations with the
// artifacts. It changes nothing.
func (p *Provider) Plan(ctx context.Context, in providers.PlanInput) (*providers.TargetPlan, error) {
	if a, ok := lambdaArtifact(in.Artifacts); ok {
		return p.planLambda(ctx, in, a)
	}
	want, err := desiredCode(in.Artifacts)
	if err != nil {
		return nil, err
	}
	l, err := p.readLive(ctx)
	if err != nil {
		return nil, err
	}
	hcodes := headersCodes(in.Artifacts)
	if err := p.loadHeaders(ctx, &l.headers, l.dist, hcodes); err != nil {
		return nil, err
	}
	recs, rerr := p.readRecords()
	state := providers.LiveState{Token: l.token(), Version: l.version(), Detail: restoreDetail(l)}
	if state.Version != "" {
		state.Artifacts = []render.Artifact{}
		for _, f := range functions {
			a := render.Artifact{Target: cfrender.Name, Path: f.artifact, MediaType: "application/javascript", Data: l.fns[f.artifact].code}
			if w := want[f.artifact]; a.Digest() == w.Digest() {
				a.Canonical = w.Canonical
			}
			state.Artifacts = append(state.Artifacts, a)
		}
		if a := wafArtifact(l); a != nil {
			state.Artifacts = append(state.Artifacts, *a)
		}
		if a := headersArtifact(l.headers, l.dist, in.Artifacts); a != nil {
			state.Artifacts = append(state.Artifacts, *a)
		}
		if a := liveRouteArtifact(recs, state.Version, want); a != nil {
			state.Artifacts = append(state.Artifacts, *a)
		}
		if r := lastRecordOf(recs, state.Version); r != nil {
			rec := r.Record
			state.Record = &rec
			for i := range state.Artifacts {
				for _, ra := range rec.Artifacts {
					if ra.Path == state.Artifacts[i].Path && ra.Digest == state.Artifacts[i].Digest() && state.Artifacts[i].Canonical == "" {
						state.Artifacts[i].Canonical = ra.Canonical
					}
				}
			}
			// The record's artifacts are what plan compares with only when the vendor gives none back.
			state.Record.Artifacts = nil
		}
	}
	if err := p.checkOrigins(in.Gateway, l.dist); err != nil {
		return nil, err
	}
	tp := providers.Diff(Name, cfrender.Name, state, in)
	if rerr != nil {
		tp.Warnings = append(tp.Warnings, rerr.Error())
	}
	if c := l.fns[functions[0].artifact].comment; state.Version != "" && strings.HasPrefix(c, commentPrefix) && lastRecordOf(recs, state.Version) == nil {
		tp.Warnings = append(tp.Warnings, fmt.Sprintf("the live functions were deployed by edgegw (%q) but no deploy record of version %s is in %s: history and rollback need that folder; commit it with the manifest (or check out the commit that holds it)", c, state.Version, p.recordsDir))
	}
	if _, err := p.associate(l, l.dist, true); err != nil {
		return nil, err
	}
	if n, _ := p.associate(l, copyConfig(l.dist), false); n > 0 {
		tp.Changes = append(tp.Changes, providers.Change{Action: providers.Update, Kind: "association",
			Name: fmt.Sprintf("distribution %s: %d cache behavior(s) to associate with %s and %s", p.distID, n, p.fnName(functions[0]), p.fnName(functions[1]))})
	}
	hch, hwarn, err := p.planHeaders(l.headers, l.dist, hcodes)
	if err != nil {
		return nil, err
	}
	tp.Changes, tp.Warnings = append(tp.Changes, hch...), append(tp.Warnings, hwarn...)
	kch, kwarn, arn, err := p.kvsChanges(ctx, recs, in.Artifacts, state.Version)
	if err != nil {
		return nil, err
	}
	_, routeTable := want[cfrender.KVSFile]
	for i, f := range functions {
		if !readsStore(i, routeTable) {
			continue
		}
		if lf := l.fns[f.artifact]; arn != "" && lf.live && !slices.Contains(lf.kvs, arn) {
			tp.Changes = append(tp.Changes, providers.Change{Action: providers.Update, Kind: "keyvaluestore association",
				Name: fmt.Sprintf("function %s: associate KeyValueStore %s", p.fnName(f), p.kvs.setting)})
		}
	}
	tp.Changes = append(tp.Changes, kch...)
	tp.Warnings = append(tp.Warnings, kwarn...)
	if p.associateWAF(l, copyConfig(l.dist)) > 0 {
		tp.Changes = append(tp.Changes, providers.Change{Action: providers.Update, Kind: "association",
			Name: fmt.Sprintf("distribution %s: web ACL %s (was %q)", p.distID, p.waf.name, aws.ToString(l.dist.WebACLId))})
	}
	for _, f := range functions {
		lf := l.fns[f.artifact]
		if lf.exists && lf.live && lf.comment != "" && !strings.HasPrefix(lf.comment, commentPrefix) {
			tp.Warnings = append(tp.Warnings, fmt.Sprintf("function %s exists and was not deployed by edgegw (its comment is %q): apply replaces its code", p.fnName(f), lf.comment))
		}
	}
	return tp, nil
}

// restoreDetail keeps what a restore needs in the plan's restore point: the LIVE code of each function
// (CloudFront keeps no earlier code) and whether the distribution associated them.
func restoreDetail(l *liveState) map[string]string {
	d := map[string]string{}
	for _, f := range functions {
		if lf := l.fns[f.artifact]; lf.live {
			d[f.artifact] = encodeCode(lf.code)
		}
	}
	if associatedAll(l) {
		d[detailAssociated] = "true"
	}
	if l.waf != nil {
		d[wafFile] = encodeCode(l.waf.doc) // edgegw's rules before the deploy; empty: none
	}
	d[headersPolicyFile] = headersDetail(l.headers, l.dist)
	return d
}

const detailAssociated = "associated"

// behaviors returns the function associations of every cache behavior, the default first, with names
// for messages.
func behaviors(dc *types.DistributionConfig) (names []string, assocs []**types.FunctionAssociations, lambdas []*types.LambdaFunctionAssociations) {
	if dc.DefaultCacheBehavior != nil {
		names = append(names, "the default cache behavior")
		assocs = append(assocs, &dc.DefaultCacheBehavior.FunctionAssociations)
		lambdas = append(lambdas, dc.DefaultCacheBehavior.LambdaFunctionAssociations)
	}
	if dc.CacheBehaviors != nil {
		for i := range dc.CacheBehaviors.Items {
			b := &dc.CacheBehaviors.Items[i]
			names = append(names, fmt.Sprintf("cache behavior %q", aws.ToString(b.PathPattern)))
			assocs = append(assocs, &b.FunctionAssociations)
			lambdas = append(lambdas, b.LambdaFunctionAssociations)
		}
	}
	return
}

// associate points the viewer-request and viewer-response associations of every cache behavior of dc
// at edgegw's functions, leaving the other event types alone, and returns how many behaviors changed.
// With check, it changes nothing and only refuses a behavior that holds another function on one of
// those events, or a Lambda@Edge function there (CloudFront allows one of the two per event).
func (p *Provider) associate(l *liveState, dc *types.DistributionConfig, check bool) (int, error) {
	names, assocs, lambdas := behaviors(dc)
	changed := 0
	for i, ap := range assocs {
		if check {
			if la := lambdas[i]; la != nil {
				for _, x := range la.Items {
					if x.EventType == types.EventTypeViewerRequest || x.EventType == types.EventTypeViewerResponse {
						return 0, fmt.Errorf("providers/%s: distribution %s: %s runs the Lambda@Edge function %s on %s, where the gateway's CloudFront Function must run (CloudFront allows one of the two per event): remove that association", Name, p.distID, names[i], aws.ToString(x.LambdaFunctionARN), x.EventType)
					}
				}
			}
		}
		var items []types.FunctionAssociation
		if *ap != nil {
			items = (*ap).Items
		}
		var out []types.FunctionAssociation
		differs := false
		for _, f := range functions {
			want := l.fns[f.artifact].arn
			found := false
			for _, it := range items {
				if it.EventType != f.eventType {
					continue
				}
				found = true
				got := aws.ToString(it.FunctionARN)
				if check && got != want && !strings.HasSuffix(got, ":function/"+p.fnName(f)) {
					return 0, fmt.Errorf("providers/%s: distribution %s: %s runs the function %s on %s, which edgegw's %s would replace: remove that association, or name the gateway's function after it in targets.cloudfront.function", Name, p.distID, names[i], got, f.eventType, p.fnName(f))
				}
				if got != want || want == "" {
					differs = true
				}
			}
			if !found {
				differs = true
			}
			out = append(out, types.FunctionAssociation{EventType: f.eventType, FunctionARN: aws.String(want)})
		}
		for _, it := range items {
			if it.EventType != types.EventTypeViewerRequest && it.EventType != types.EventTypeViewerResponse {
				out = append(out, it)
			}
		}
		if differs {
			changed++
			if !check {
				*ap = &types.FunctionAssociations{Quantity: aws.Int32(int32(len(out))), Items: out}
			}
		}
	}
	return changed, nil
}

// associatedAll reports whether every cache behavior runs edgegw's functions on both events.
func associatedAll(l *liveState) bool {
	for _, f := range functions {
		if l.fns[f.artifact].arn == "" {
			return false
		}
	}
	p := &Provider{}
	n, _ := p.associate(l, copyConfig(l.dist), false)
	return n == 0
}

// dissociate removes edgegw's functions from every cache behavior of dc; it returns how many changed.
func (p *Provider) dissociate(dc *types.DistributionConfig) int {
	_, assocs, _ := behaviors(dc)
	changed := 0
	for _, ap := range assocs {
		if *ap == nil {
			continue
		}
		var out []types.FunctionAssociation
		for _, it := range (*ap).Items {
			mine := false
			for _, f := range functions {
				if it.EventType == f.eventType && strings.HasSuffix(aws.ToString(it.FunctionARN), ":function/"+p.fnName(f)) {
					mine = true
				}
			}
			if !mine {
				out = append(out, it)
			}
		}
		if len(out) != len((*ap).Items) {
			changed++
			*ap = &types.FunctionAssociations{Quantity: aws.Int32(int32(len(out))), Items: out}
		}
	}
	return changed
}

// copyConfig copies what associate changes, so a check never touches the config read.
func copyConfig(dc *types.DistributionConfig) *types.DistributionConfig {
	c := *dc
	if dc.DefaultCacheBehavior != nil {
		d := *dc.DefaultCacheBehavior
		c.DefaultCacheBehavior = &d
	}
	if dc.CacheBehaviors != nil {
		cb := *dc.CacheBehaviors
		cb.Items = append([]types.CacheBehavior(nil), dc.CacheBehaviors.Items...)
		c.CacheBehaviors = &cb
	}
	return &c
}

// checkOrigins refuses a gateway whose pools name an origin the distribution does not have: the
// viewer-request function selects origins by id (the manifest's origin names), and CloudFront fails a
// request whose function selects an unknown one. edgegw does not manage the distribution's origins.
func (p *Provider) checkOrigins(g *ir.Gateway, dc *types.DistributionConfig) error {
	if g == nil {
		return nil
	}
	have := map[string]bool{}
	if dc.Origins != nil {
		for _, o := range dc.Origins.Items {
			have[aws.ToString(o.Id)] = true
		}
	}
	for _, pool := range g.Pools {
		for _, name := range pool.Origins {
			if have[name] {
				continue
			}
			where := ""
			if o := g.Origin(name); o != nil {
				where = " (" + o.URL + ")"
			}
			return fmt.Errorf("providers/%s: %s: pool %q sends requests to origin %q, and distribution %s has no origin with that id: add an origin with Id %s%s to the distribution, since the functions select origins by the manifest's names", Name, pool.Pos, pool.Name, name, p.distID, name, where)
		}
	}
	return nil
}

// readsStore reports whether functions[i] opens the KeyValueStore: the viewer-request function for the
// secrets and the route table, the viewer-response function (built from the same table) only when the
// routes are in the store.
func readsStore(i int, routeTable bool) bool { return i == 0 || routeTable }

package cloudflare

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	cf "github.com/cloudflare/cloudflare-go/v6"
	"github.com/cloudflare/cloudflare-go/v6/dns"
	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/cloudflare/cloudflare-go/v6/workers"
	"github.com/cloudflare/cloudflare-go/v6/zones"

	"github.com/edgegw/edgegw/providers"
)

// Cloudflare API error codes the provider acts on.
const (
	codeScriptNotFound = 10007 // the script does not exist yet
	codeSecretsChanged = 10220 // a rollback to a version whose secrets changed since, refused without force
)

// api is the part of the Workers API the provider uses. The SDK stays behind it, so the provider's logic
// reads as the deploy steps and the SDK's generated types stay in this file.
type api interface {
	// UploadVersion uploads a version without deploying it and returns its id.
	UploadVersion(ctx context.Context, script string, up upload) (string, error)
	// CreateScript uploads a script's first version through the script upload, which deploys it at once
	// and is the only upload that takes Durable Object migrations.
	CreateScript(ctx context.Context, script string, up upload) error
	// Version reads a version's annotations and plain-text bindings.
	Version(ctx context.Context, script, id string) (*version, error)
	// Deployments lists the script's deployments, newest (the active one) first. A script that does not
	// exist yet has none: nil and no error.
	Deployments(ctx context.Context, script string) ([]deployment, error)
	// Deploy sends one version to 100 % of traffic with message as the deployment's annotation; force
	// deploys also where Cloudflare would refuse (error 10220).
	Deploy(ctx context.Context, script, versionID, message string, force bool) (string, error)
	// PutSecret sets one secret_text binding through the secrets API.
	PutSecret(ctx context.Context, script, name string, value providers.Sensitive) error
	// ZoneID finds a zone of the account by name.
	ZoneID(ctx context.Context, name string) (string, error)
	// Routes lists a zone's Workers routes; NewRoute and DeleteRoute change them.
	Routes(ctx context.Context, zoneID string) ([]route, error)
	NewRoute(ctx context.Context, zoneID, pattern, script string) error
	DeleteRoute(ctx context.Context, zoneID, routeID string) error
	// MigrationTag reads the Durable Object migration tag the script is at (from the account's script
	// list: no call reads one script's).
	MigrationTag(ctx context.Context, script string) (string, error)
	// CustomDomains lists the account's Workers Custom Domains, of every script; AttachDomain (idempotent,
	// a PUT) and DetachDomain change them. Cloudflare makes a custom domain's DNS record and certificate.
	CustomDomains(ctx context.Context) ([]customDomain, error)
	AttachDomain(ctx context.Context, zoneID, host, script string) error
	DetachDomain(ctx context.Context, domainID string) error
	// Records lists a zone's DNS records named name; NewPlaceholder creates a proxied AAAA 100:: record
	// with comment, and DeleteRecord deletes one.
	Records(ctx context.Context, zoneID, name string) ([]dnsRecord, error)
	RecordsWithComment(ctx context.Context, zoneID, comment string) ([]dnsRecord, error)
	NewPlaceholder(ctx context.Context, zoneID, name, comment string) error
	DeleteRecord(ctx context.Context, zoneID, recordID string) error
}

// customDomain is one Workers Custom Domain of the account.
type customDomain struct {
	ID, Host, Script, ZoneID, ZoneName string
}

// dnsRecord is one DNS record of a zone.
type dnsRecord struct {
	ID, Name, Type, Content, Comment string
	Proxied                          bool
}

// route is one zone Workers route.
type route struct {
	ID, Pattern, Script string
}

// upload is one version upload: the modules and the metadata part.
type upload struct {
	MainModule         string
	CompatibilityDate  string
	CompatibilityFlags []string
	// Bindings are passed as written, except that the provider adds its own plain-text ones.
	Bindings     []binding
	KeepBindings []string
	Tag, Message string // the version's workers/tag and workers/message annotations
	Files        []file
	// Migration creates or deletes Durable Object classes (CreateScript only).
	Migration *migration
}

// migration is a single-step Durable Object migration from OldTag (empty on the first) to Tag, creating
// SQLite-backed classes and deleting others.
type migration struct {
	OldTag, Tag string
	Classes     []string
	Deleted     []string
}

// binding is one Worker binding of the metadata part, in the API's JSON shape.
type binding struct {
	Type        string `json:"type"`
	Name        string `json:"name"`
	Text        string `json:"text,omitempty"`
	ClassName   string `json:"class_name,omitempty"`
	ScriptName  string `json:"script_name,omitempty"`
	NamespaceID string `json:"namespace_id,omitempty"`
	Simple      any    `json:"simple,omitempty"`
}

// file is one module part. Filename and ContentType are what the SDK's multipart encoder reads: the part's
// filename is how the API finds the main module, and a module Worker needs application/javascript+module.
type file struct {
	name, contentType string
	*bytes.Reader
}

func newFile(name, contentType string, data []byte) file {
	return file{name: name, contentType: contentType, Reader: bytes.NewReader(data)}
}

// Filename implements the SDK's named-reader interface.
func (f file) Filename() string { return f.name }

// ContentType implements the SDK's typed-reader interface.
func (f file) ContentType() string { return f.contentType }

// version is what the provider reads back of a version.
type version struct {
	ID          string
	Annotations map[string]string
	// Text holds the plain_text bindings by name.
	Text map[string]string
	// Classes are the Durable Object classes the version binds in its own script.
	Classes []string
}

// deployment is one deployment of the script.
type deployment struct {
	ID       string
	Created  time.Time
	Versions []deploymentVersion
	Message  string // workers/message
	Trigger  string // workers/triggered_by
}

type deploymentVersion struct {
	ID         string
	Percentage float64
}

// primary is the version serving the largest share of traffic (all of it after an edgegw deploy).
func (d deployment) primary() string {
	best, pct := "", -1.0
	for _, v := range d.Versions {
		if v.Percentage > pct {
			best, pct = v.ID, v.Percentage
		}
	}
	return best
}

// apiCode returns the first Cloudflare error code of err, 0 when err is not an API error.
func apiCode(err error) int64 {
	var e *cf.Error
	if errors.As(err, &e) && len(e.Errors) > 0 {
		return e.Errors[0].Code
	}
	return 0
}

// sdk is the api through cloudflare-go v6.
type sdk struct {
	account string
	w       *workers.WorkerService
	z       *zones.ZoneService
	d       *dns.RecordService
}

// Client tuning: the SDK retries 429 (honouring Retry-After), 408, 409 and 5xx answers and transport
// errors; a request that outlives its timeout is not retried.
const (
	maxRetries     = 4
	requestTimeout = 60 * time.Second
)

func newSDK(baseURL, token, account string, httpClient *http.Client, timeout time.Duration) *sdk {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	// Built from explicit options only: cf.NewClient would also read CLOUDFLARE_API_KEY and friends from
	// the process environment, behind the provider's getenv.
	opts := []option.RequestOption{
		option.WithBaseURL(baseURL),
		option.WithAPIToken(token),
		option.WithHTTPClient(httpClient),
		option.WithMaxRetries(maxRetries),
		option.WithRequestTimeout(timeout),
	}
	return &sdk{account: account, w: workers.NewWorkerService(opts...), z: zones.NewZoneService(opts...), d: dns.NewRecordService(opts...)}
}

func (s *sdk) UploadVersion(ctx context.Context, script string, up upload) (string, error) {
	md := workers.ScriptVersionNewParamsMetadata{
		MainModule: cf.F(up.MainModule),
		Annotations: cf.F(workers.ScriptVersionNewParamsMetadataAnnotations{
			WorkersTag: cf.F(up.Tag), WorkersMessage: cf.F(up.Message),
		}),
	}
	if up.CompatibilityDate != "" {
		md.CompatibilityDate = cf.F(up.CompatibilityDate)
	}
	if len(up.CompatibilityFlags) > 0 {
		md.CompatibilityFlags = cf.F(up.CompatibilityFlags)
	}
	if len(up.KeepBindings) > 0 {
		md.KeepBindings = cf.F(up.KeepBindings)
	}
	var bs []workers.ScriptVersionNewParamsMetadataBindingUnion
	for _, b := range up.Bindings {
		x := workers.ScriptVersionNewParamsMetadataBinding{
			Name: cf.F(b.Name), Type: cf.F(workers.ScriptVersionNewParamsMetadataBindingsType(b.Type)),
		}
		if b.Text != "" {
			x.Text = cf.F(b.Text)
		}
		if b.ClassName != "" {
			x.ClassName = cf.F(b.ClassName)
		}
		if b.ScriptName != "" {
			x.ScriptName = cf.F(b.ScriptName)
		}
		if b.NamespaceID != "" {
			x.NamespaceID = cf.F(b.NamespaceID)
		}
		if b.Simple != nil {
			x.Simple = cf.F(b.Simple)
		}
		bs = append(bs, x)
	}
	if len(bs) > 0 {
		md.Bindings = cf.F(bs)
	}
	files := make([]io.Reader, len(up.Files))
	for i, f := range up.Files {
		files[i] = f
	}
	var id string
	err := once(ctx, func(opts ...option.RequestOption) error {
		for _, f := range up.Files {
			_, _ = f.Seek(0, io.SeekStart)
		}
		res, err := s.w.Scripts.Versions.New(ctx, script, workers.ScriptVersionNewParams{
			AccountID: cf.F(s.account), Metadata: cf.F(md), Files: cf.F(files),
		}, opts...)
		if err == nil {
			if id = res.ID; id == "" {
				return errors.New("the API answered without a version id")
			}
		}
		return err
	}, func() (bool, error) {
		// The upload's message is unique to it (see buildUpload): one of the newest versions carries it
		// when the upload went through.
		res, err := s.w.Scripts.Versions.List(ctx, script, workers.ScriptVersionListParams{AccountID: cf.F(s.account), PerPage: cf.F(int64(3))})
		if err != nil {
			return false, err
		}
		for _, x := range res.Result.Items {
			v, err := s.Version(ctx, script, x.ID)
			if err != nil {
				return false, err
			}
			if v.Annotations["workers/message"] == up.Message {
				id = v.ID
				return true, nil
			}
		}
		return false, nil
	})
	return id, err
}

func (s *sdk) Version(ctx context.Context, script, id string) (*version, error) {
	res, err := s.w.Scripts.Versions.Get(ctx, script, id, workers.ScriptVersionGetParams{AccountID: cf.F(s.account)})
	if err != nil {
		return nil, err
	}
	v := &version{ID: res.ID, Annotations: map[string]string{}, Text: map[string]string{}}
	// The SDK does not type a version's annotations; they are read from the raw result.
	var raw struct {
		Annotations map[string]any `json:"annotations"`
	}
	if err := json.Unmarshal([]byte(res.JSON.RawJSON()), &raw); err == nil {
		for k, x := range raw.Annotations {
			if s, ok := x.(string); ok {
				v.Annotations[k] = s
			}
		}
	}
	for _, b := range res.Resources.Bindings {
		if b.Type == "plain_text" {
			v.Text[b.Name] = b.Text
		}
		if b.Type == "durable_object_namespace" && b.ScriptName == "" && b.ClassName != "" && !slices.Contains(v.Classes, b.ClassName) {
			v.Classes = append(v.Classes, b.ClassName)
		}
	}
	return v, nil
}

func (s *sdk) Deployments(ctx context.Context, script string) ([]deployment, error) {
	res, err := s.w.Scripts.Deployments.List(ctx, script, workers.ScriptDeploymentListParams{AccountID: cf.F(s.account)})
	if apiCode(err) == codeScriptNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]deployment, 0, len(res.Deployments))
	for _, d := range res.Deployments {
		out = append(out, fromSDK(d))
	}
	return out, nil
}

func fromSDK(d workers.Deployment) deployment {
	x := deployment{ID: d.ID, Created: d.CreatedOn, Message: d.Annotations.WorkersMessage, Trigger: d.Annotations.WorkersTriggeredBy}
	for _, v := range d.Versions {
		x.Versions = append(x.Versions, deploymentVersion{ID: v.VersionID, Percentage: v.Percentage})
	}
	return x
}

func (s *sdk) Deploy(ctx context.Context, script, versionID, message string, force bool) (string, error) {
	p := workers.ScriptDeploymentNewParams{
		AccountID: cf.F(s.account),
		Deployment: workers.DeploymentParam{
			Strategy:    cf.F(workers.DeploymentStrategyPercentage),
			Versions:    cf.F([]workers.DeploymentVersionParam{{Percentage: cf.F(100.0), VersionID: cf.F(versionID)}}),
			Annotations: cf.F(workers.DeploymentAnnotationsParam{WorkersMessage: cf.F(message)}),
		},
	}
	if force {
		p.Force = cf.F(true)
	}
	var id string
	err := once(ctx, func(opts ...option.RequestOption) error {
		res, err := s.w.Scripts.Deployments.New(ctx, script, p, opts...)
		if err == nil {
			id = res.ID
		}
		return err
	}, func() (bool, error) {
		deps, err := s.Deployments(ctx, script)
		if err != nil || len(deps) == 0 {
			return false, err
		}
		d := deps[0]
		if d.primary() == versionID && d.Message == message {
			id = d.ID
			return true, nil
		}
		return false, nil
	})
	return id, err
}

func (s *sdk) PutSecret(ctx context.Context, script, name string, value providers.Sensitive) error {
	_, err := s.w.Scripts.Secrets.Update(ctx, script, workers.ScriptSecretUpdateParams{
		AccountID: cf.F(s.account),
		Body: workers.ScriptSecretUpdateParamsBodyWorkersBindingKindSecretText{
			Name: cf.F(name), Text: cf.F(value.Reveal()),
			Type: cf.F(workers.ScriptSecretUpdateParamsBodyWorkersBindingKindSecretTextTypeSecretText),
		},
	})
	if err != nil {
		return fmt.Errorf("put secret %s: %w", name, redactErr(err))
	}
	return nil
}

// redactErr drops the SDK error's text, which repeats the request URL and the raw answer, for the secrets
// call, keeping only the status and the API's error codes.
func redactErr(err error) error {
	var e *cf.Error
	if !errors.As(err, &e) {
		return err
	}
	msg := fmt.Sprintf("status %d", e.StatusCode)
	for _, d := range e.Errors {
		msg += fmt.Sprintf("; error %d: %s", d.Code, d.Message)
	}
	return errors.New(msg)
}

func (s *sdk) ZoneID(ctx context.Context, name string) (string, error) {
	res, err := s.z.List(ctx, zones.ZoneListParams{Name: cf.F(name), Account: cf.F(zones.ZoneListParamsAccount{ID: cf.F(s.account)})})
	if err != nil {
		return "", err
	}
	for _, z := range res.Result {
		if z.Name == name {
			return z.ID, nil
		}
	}
	return "", fmt.Errorf("zone %s is not in account %s: add it to the account, or fix targets.cloudflare.zone and the domains' zones", name, s.account)
}

func (s *sdk) Routes(ctx context.Context, zoneID string) ([]route, error) {
	res, err := s.w.Routes.List(ctx, workers.RouteListParams{ZoneID: cf.F(zoneID)})
	if err != nil {
		return nil, err
	}
	out := make([]route, 0, len(res.Result))
	for _, r := range res.Result {
		out = append(out, route{ID: r.ID, Pattern: r.Pattern, Script: r.Script})
	}
	return out, nil
}

func (s *sdk) NewRoute(ctx context.Context, zoneID, pattern, script string) error {
	return once(ctx, func(opts ...option.RequestOption) error {
		_, err := s.w.Routes.New(ctx, workers.RouteNewParams{ZoneID: cf.F(zoneID), Pattern: cf.F(pattern), Script: cf.F(script)}, opts...)
		return err
	}, func() (bool, error) {
		rs, err := s.Routes(ctx, zoneID)
		return slices.ContainsFunc(rs, func(r route) bool { return r.Pattern == pattern && r.Script == script }), err
	})
}

func (s *sdk) DeleteRoute(ctx context.Context, zoneID, routeID string) error {
	_, err := s.w.Routes.Delete(ctx, routeID, workers.RouteDeleteParams{ZoneID: cf.F(zoneID)})
	return gone(err)
}

// gone takes a 404 on a DELETE for the success it is: the thing is gone, whether an earlier try whose
// answer was lost (the SDK retries a DELETE) or someone else deleted it.
func gone(err error) error {
	var e *cf.Error
	if errors.As(err, &e) && e.StatusCode == http.StatusNotFound {
		return nil
	}
	return err
}

func (s *sdk) CreateScript(ctx context.Context, script string, up upload) error {
	md := workers.ScriptUpdateParamsMetadata{
		MainModule: cf.F(up.MainModule),
		Annotations: cf.F(workers.ScriptUpdateParamsMetadataAnnotations{
			WorkersTag: cf.F(up.Tag), WorkersMessage: cf.F(up.Message),
		}),
	}
	if up.CompatibilityDate != "" {
		md.CompatibilityDate = cf.F(up.CompatibilityDate)
	}
	if len(up.CompatibilityFlags) > 0 {
		md.CompatibilityFlags = cf.F(up.CompatibilityFlags)
	}
	if len(up.KeepBindings) > 0 {
		md.KeepBindings = cf.F(up.KeepBindings)
	}
	var bs []workers.ScriptUpdateParamsMetadataBindingUnion
	for _, b := range up.Bindings {
		x := workers.ScriptUpdateParamsMetadataBinding{
			Name: cf.F(b.Name), Type: cf.F(workers.ScriptUpdateParamsMetadataBindingsType(b.Type)),
		}
		if b.Text != "" {
			x.Text = cf.F(b.Text)
		}
		if b.ClassName != "" {
			x.ClassName = cf.F(b.ClassName)
		}
		if b.ScriptName != "" {
			x.ScriptName = cf.F(b.ScriptName)
		}
		if b.NamespaceID != "" {
			x.NamespaceID = cf.F(b.NamespaceID)
		}
		if b.Simple != nil {
			x.Simple = cf.F(b.Simple)
		}
		bs = append(bs, x)
	}
	if len(bs) > 0 {
		md.Bindings = cf.F(bs)
	}
	if up.Migration != nil {
		m := workers.SingleStepMigrationParam{NewTag: cf.F(up.Migration.Tag)}
		if up.Migration.OldTag != "" {
			m.OldTag = cf.F(up.Migration.OldTag)
		}
		if len(up.Migration.Classes) > 0 {
			m.NewSqliteClasses = cf.F(up.Migration.Classes)
		}
		if len(up.Migration.Deleted) > 0 {
			m.DeletedClasses = cf.F(up.Migration.Deleted)
		}
		md.Migrations = cf.F[workers.ScriptUpdateParamsMetadataMigrationsUnion](m)
	}
	files := make([]io.Reader, len(up.Files))
	for i, f := range up.Files {
		files[i] = f
	}
	// The script upload is a PUT, but one that applies a migration cannot be replayed: the tag is then
	// already applied, and the API refuses it.
	return once(ctx, func(opts ...option.RequestOption) error {
		for _, f := range up.Files {
			_, _ = f.Seek(0, io.SeekStart)
		}
		_, err := s.w.Scripts.Update(ctx, script, workers.ScriptUpdateParams{AccountID: cf.F(s.account), Metadata: cf.F(md), Files: cf.F(files)}, opts...)
		return err
	}, func() (bool, error) {
		deps, err := s.Deployments(ctx, script)
		return len(deps) > 0, err
	})
}

func (s *sdk) CustomDomains(ctx context.Context) ([]customDomain, error) {
	res, err := s.w.Domains.List(ctx, workers.DomainListParams{AccountID: cf.F(s.account)})
	if err != nil {
		return nil, err
	}
	out := make([]customDomain, 0, len(res.Result))
	for _, d := range res.Result {
		out = append(out, customDomain{ID: d.ID, Host: d.Hostname, Script: d.Service, ZoneID: d.ZoneID, ZoneName: d.ZoneName})
	}
	return out, nil
}

func (s *sdk) AttachDomain(ctx context.Context, zoneID, host, script string) error {
	_, err := s.w.Domains.Update(ctx, workers.DomainUpdateParams{AccountID: cf.F(s.account), ZoneID: cf.F(zoneID),
		Hostname: cf.F(host), Service: cf.F(script), Environment: cf.F("production")})
	return err
}

func (s *sdk) DetachDomain(ctx context.Context, domainID string) error {
	_, err := s.w.Domains.Delete(ctx, domainID, workers.DomainDeleteParams{AccountID: cf.F(s.account)})
	return gone(err)
}

func (s *sdk) Records(ctx context.Context, zoneID, name string) ([]dnsRecord, error) {
	return s.records(ctx, dns.RecordListParams{ZoneID: cf.F(zoneID), Name: cf.F(dns.RecordListParamsName{Exact: cf.F(name)})})
}

func (s *sdk) RecordsWithComment(ctx context.Context, zoneID, comment string) ([]dnsRecord, error) {
	return s.records(ctx, dns.RecordListParams{ZoneID: cf.F(zoneID), Comment: cf.F(dns.RecordListParamsComment{Exact: cf.F(comment)})})
}

func (s *sdk) records(ctx context.Context, p dns.RecordListParams) ([]dnsRecord, error) {
	// Page by page, stopping at a short page: the SDK's auto-pager asks for one more, empty, page.
	const perPage = 1000
	var out []dnsRecord
	p.PerPage = cf.F(float64(perPage))
	for page := 1; ; page++ {
		p.Page = cf.F(float64(page))
		res, err := s.d.List(ctx, p)
		if err != nil {
			return nil, err
		}
		for _, r := range res.Result {
			out = append(out, dnsRecord{ID: r.ID, Name: r.Name, Type: string(r.Type), Content: r.Content, Comment: r.Comment, Proxied: r.Proxied})
		}
		if len(res.Result) < perPage {
			return out, nil
		}
	}
}

func (s *sdk) NewPlaceholder(ctx context.Context, zoneID, name, comment string) error {
	return once(ctx, func(opts ...option.RequestOption) error {
		_, err := s.d.New(ctx, dns.RecordNewParams{ZoneID: cf.F(zoneID), Body: dns.AAAARecordParam{
			Name: cf.F(name), Type: cf.F(dns.AAAARecordTypeAAAA), Content: cf.F(placeholderAddr), Proxied: cf.F(true),
			TTL: cf.F(dns.TTL1), Comment: cf.F(comment),
		}}, opts...)
		return err
	}, func() (bool, error) {
		rs, err := s.Records(ctx, zoneID, name)
		return slices.ContainsFunc(rs, func(r dnsRecord) bool { return r.Comment == comment }), err
	})
}

// once runs a mutation that is not idempotent (a POST) without the SDK's retries, which would replay it
// when its answer, not the request, was lost. A 429 is waited out (Retry-After) and tried again: the API
// did nothing. After a 5xx, a dropped connection or a timed-out request, landed reads whether the
// mutation took effect before it is tried again. At most maxRetries tries follow the first.
func once(ctx context.Context, do func(...option.RequestOption) error, landed func() (bool, error)) error {
	var err error
	for try := 0; ; try++ {
		err = do(option.WithMaxRetries(0))
		if err == nil || try == maxRetries || ctx.Err() != nil {
			return err
		}
		var e *cf.Error
		wait := backoff(try)
		switch {
		case errors.As(err, &e) && e.StatusCode == http.StatusTooManyRequests:
			if d, ok := retryAfter(e.Response); ok {
				wait = d
			}
		case errors.As(err, &e) && e.StatusCode < 500:
			return err // refused: trying again changes nothing
		default:
			ok, lerr := landed()
			if lerr == nil && ok {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// backoff is the wait before try+2 when the answer gave none: 0.5 s, 1 s, 2 s, 4 s.
var backoff = func(try int) time.Duration { return min(500*time.Millisecond<<try, 8*time.Second) }

// retryAfter reads a 429's Retry-After in seconds, capped at a minute.
func retryAfter(res *http.Response) (time.Duration, bool) {
	if res == nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(res.Header.Get("Retry-After")))
	if err != nil || n < 0 {
		return 0, false
	}
	return min(time.Duration(n)*time.Second, time.Minute), true
}

func (s *sdk) DeleteRecord(ctx context.Context, zoneID, recordID string) error {
	_, err := s.d.Delete(ctx, recordID, dns.RecordDeleteParams{ZoneID: cf.F(zoneID)})
	return gone(err)
}

func (s *sdk) MigrationTag(ctx context.Context, script string) (string, error) {
	res, err := s.w.Scripts.List(ctx, workers.ScriptListParams{AccountID: cf.F(s.account)})
	if err != nil {
		return "", err
	}
	for _, x := range res.Result {
		if x.ID == script {
			return x.MigrationTag, nil
		}
	}
	return "", fmt.Errorf("script %s is not in the account's script list", script)
}

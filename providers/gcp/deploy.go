package gcp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"

	compute "google.golang.org/api/compute/v1"
	"google.golang.org/api/googleapi"

	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/render"
	gcprender "github.com/edgegw/edgegw/render/gcp"
)

// ProjectVar is read for the project when targets.gcp has none.
const ProjectVar = "GOOGLE_CLOUD_PROJECT"

// CredentialsVar is where Google ADC looks first.
const CredentialsVar = "GOOGLE_APPLICATION_CREDENTIALS"

// StandbySuffix names the map that keeps the previous deploy: <url_map>-edgegw-previous.
const StandbySuffix = "-edgegw-previous"

// Provider deploys a URL map with the backend services, health checks, internet NEGs, backend buckets and
// Cloud Armor policies behind it through compute/v1. The live
// map's fingerprint is the plan's base token; the map live before each deploy is kept in a standby map, to
// which rollback returns in one update.
type Provider struct {
	c        *Client
	project  string
	urlMap   string
	standby  string
	rendered string // the project the artifacts' references name
	progress func(string)
}

var _ providers.Provider = (*Provider)(nil)

// New builds the provider from targets.gcp and the environment: Google ADC for the credentials,
// GOOGLE_CLOUD_PROJECT when the block names no project, CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE to send
// the calls to another server. Progress goes to stderr.
func New(cfg providers.Config) (providers.Provider, error) {
	return NewProvider(context.Background(), cfg, ClientOptions{
		Progress: func(s string) { fmt.Fprintln(os.Stderr, "gcp: "+s) },
	})
}

// NewProvider is New with the client's options (tests: a fake endpoint, short pauses). o.Project and
// o.Getenv are set from cfg.
func NewProvider(ctx context.Context, cfg providers.Config, o ClientOptions) (*Provider, error) {
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	var s *Settings
	if cfg.Gateway != nil {
		if t, ok := cfg.Gateway.Targets.Lookup(Name); ok {
			s, _ = t.Config.(*Settings)
		}
	}
	if s == nil {
		return nil, errors.New("providers/gcp: the manifest has no targets.gcp block: add `gcp: {project: ..., url_map: ...}` under targets")
	}
	project, rendered := s.Project, s.Project
	if project == "" {
		project, rendered = strings.TrimSpace(getenv(ProjectVar)), gcprender.DefaultProject
		if project == "" {
			return nil, &providers.CredentialsError{Target: Name, Var: ProjectVar,
				Err: errors.New("targets.gcp names no project and GOOGLE_CLOUD_PROJECT is not set: write targets.gcp.project or set GOOGLE_CLOUD_PROJECT to the project id")}
		}
	}
	if len(s.URLMap)+len(StandbySuffix) > 63 {
		return nil, fmt.Errorf("providers/gcp: targets.gcp.url_map %q is too long: the standby map %s%s must fit GCP's 63 characters, so use at most %d", s.URLMap, s.URLMap, StandbySuffix, 63-len(StandbySuffix))
	}
	o.Project, o.Getenv = project, getenv
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
	c, err := NewClient(ctx, o)
	if err != nil {
		var ce *providers.CredentialsError
		if errors.As(err, &ce) {
			ce.Err = fmt.Errorf("Google Application Default Credentials: %w; point it at a service account key or authorized_user file, or run `gcloud auth application-default login`", ce.Err)
		}
		return nil, err
	}
	return &Provider{c: c, project: project, urlMap: s.URLMap, standby: s.URLMap + StandbySuffix, rendered: rendered, progress: o.Progress}, nil
}

// refused turns a 401 or 403, or a token endpoint that refuses the credentials, into a
// *providers.CredentialsError (exit 4) naming what to fix.
func (p *Provider) refused(err error) error {
	if te, ok := tokenError(err); ok && !te.Temporary() {
		return &providers.CredentialsError{Target: Name, Var: CredentialsVar,
			Err: fmt.Errorf("the token endpoint refused the Application Default Credentials: %w", te)}
	}
	var ge *googleapi.Error
	if errors.As(err, &ge) && (ge.Code == http.StatusUnauthorized || ge.Code == http.StatusForbidden) {
		return &providers.CredentialsError{Target: Name, Var: CredentialsVar,
			Err: fmt.Errorf("the Compute API refused the credentials (%d) for URL map %s in project %s: give the account roles/compute.loadBalancerAdmin on the project: %w", ge.Code, p.urlMap, p.project, err)}
	}
	return err
}

// Name implements providers.Provider.
func (p *Provider) Name() string { return Name }

// bundle parses the artifacts, references moved to the project deployed to when the manifest named none.
func (p *Provider) bundle(arts []render.Artifact) (*gcprender.Bundle, error) {
	if p.rendered != p.project {
		from, to := []byte("projects/"+p.rendered+"/"), []byte("projects/"+p.project+"/")
		moved := make([]render.Artifact, len(arts))
		for i, a := range arts {
			a.Data = bytes.ReplaceAll(a.Data, from, to)
			moved[i] = a
		}
		arts = moved
	}
	b, err := gcprender.Parse(arts)
	if err != nil {
		return nil, fmt.Errorf("providers/gcp: %w", err)
	}
	for _, a := range arts {
		var dst any
		switch a.Path {
		case gcprender.URLMapPath:
			dst = b.URLMap
		case gcprender.BackendServicesPath:
			dst = b.BackendServices
		case gcprender.BackendBucketsPath:
			dst = b.BackendBuckets
		case gcprender.EndpointGroupsPath:
			dst = b.EndpointGroups
		case gcprender.HealthChecksPath:
			dst = b.HealthChecks
		case gcprender.SecurityPoliciesPath:
			dst = b.SecurityPolicies
		default:
			continue
		}
		var raw any
		if err := json.Unmarshal(a.Data, &raw); err != nil {
			return nil, fmt.Errorf("providers/gcp: %s: %w", a.Path, err)
		}
		forceZeros(reflect.ValueOf(dst), raw)
	}
	if b.URLMap.Name != p.urlMap {
		return nil, fmt.Errorf("providers/gcp: the rendered URL map is %s, targets.gcp.url_map is %s: render again", b.URLMap.Name, p.urlMap)
	}
	return b, nil
}

// forceZeros lists in ForceSendFields every field the artifact writes at its zero value (outlierDetection's
// enforcingConsecutiveErrors: 0): compute/v1 leaves zero fields out of a request unless forced, and
// ForceSendFields is not part of the JSON, so decoding loses it.
func forceZeros(v reflect.Value, raw any) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			forceZeros(v.Elem(), raw)
		}
	case reflect.Slice:
		arr, _ := raw.([]any)
		for i := 0; i < v.Len() && i < len(arr); i++ {
			forceZeros(v.Index(i), arr[i])
		}
	case reflect.Struct:
		obj, _ := raw.(map[string]any)
		force := v.FieldByName("ForceSendFields")
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			r, ok := obj[name]
			if !ok || name == "" || name == "-" {
				continue
			}
			fv := v.Field(i)
			switch fv.Kind() {
			case reflect.Bool, reflect.Int, reflect.Int64, reflect.Float64, reflect.String:
				if fv.IsZero() && force.IsValid() && force.CanSet() && !slicesContain(force.Interface().([]string), f.Name) {
					force.Set(reflect.Append(force, reflect.ValueOf(f.Name)))
				}
			default:
				forceZeros(fv, r)
			}
		}
	}
}

func slicesContain(s []string, x string) bool {
	for _, e := range s {
		if e == x {
			return true
		}
	}
	return false
}

func token(m *compute.UrlMap) string {
	if m == nil {
		return "none"
	}
	return m.Fingerprint
}

// liveVersion is the version a live map carries in its record, or fp-<fingerprint> for a map edgegw did
// not write.
func liveVersion(m *compute.UrlMap) (string, *providers.DeployRecord) {
	if m == nil {
		return "", nil
	}
	if rec, ok := parseDescription(m.Description); ok && rec.Kind != kindPrevious {
		return rec.Version, &rec
	}
	if rec, ok := parseDescription(m.Description); ok {
		return rec.Version, nil
	}
	return "fp-" + m.Fingerprint, nil
}

// Plan implements providers.Provider: it reads the live map (its fingerprint is the base token) and the
// backend services, health checks, NEGs, backend buckets and Cloud Armor policies the artifacts name,
// compares them with the artifacts and, when the map changes and what it references exists, has GCP
// validate the planned map and run its tests[]. It changes nothing.
func (p *Provider) Plan(ctx context.Context, in providers.PlanInput) (*providers.TargetPlan, error) {
	b, err := p.bundle(in.Artifacts)
	if err != nil {
		return nil, err
	}
	live, err := p.c.GetURLMap(ctx, p.urlMap)
	if err != nil {
		return nil, p.refused(err)
	}
	services, err := p.liveServices(ctx, b)
	if err != nil {
		return nil, err
	}
	checks, err := p.liveChecks(ctx, b)
	if err != nil {
		return nil, err
	}
	lv, err := p.liveOthers(ctx, b)
	if err != nil {
		return nil, err
	}
	state := providers.LiveState{Token: token(live)}
	state.Version, state.Record = liveVersion(live)
	var arts []render.Artifact
	missing := false
	for _, a := range in.Artifacts {
		switch a.Path {
		case gcprender.URLMapPath:
			if live != nil {
				arts = append(arts, liveArtifact(a, matches(b.URLMap, live, "description"), live))
			}
		case gcprender.BackendServicesPath:
			arts, missing = appendObjects(arts, a, b.BackendServices, services, missing)
		case gcprender.HealthChecksPath:
			arts, missing = appendObjects(arts, a, b.HealthChecks, checks, missing)
		case gcprender.EndpointGroupsPath:
			arts, missing = appendObjects(arts, a, b.EndpointGroups, lv.groups, missing)
		case gcprender.BackendBucketsPath:
			arts, missing = appendObjects(arts, a, b.BackendBuckets, lv.buckets, missing)
		case gcprender.SecurityPoliciesPath:
			arts, missing = appendObjects(arts, a, b.SecurityPolicies, lv.policies, missing)
		default:
			arts = append(arts, a) // the error pages: Cloud Storage objects, not deployed here
		}
	}
	if state.Record != nil {
		state.Record.Artifacts = nil // compare the live objects, not what the record says was shipped
		state.Record.Gateway = nil   // the record keeps the IR digest only, not the route digests
	}
	state.Artifacts = arts
	tp := providers.Diff(Name, Name, state, in)
	if len(b.ErrorPages) > 0 {
		var buckets []string
		for _, e := range b.ErrorPages {
			buckets = append(buckets, "gs://"+e.Bucket+"/"+e.Object)
		}
		tp.Warnings = append(tp.Warnings, fmt.Sprintf("the error pages are Cloud Storage objects, which this deploy does not write: create %s as %s says (each bucket a website whose notFoundPage is that object) before the first apply", strings.Join(buckets, ", "), gcprender.ErrorPagesPath))
	}
	for _, sp := range b.SecurityPolicies {
		if l := lv.policies[sp.Name]; l != nil && !matches(sp, l) {
			tp.Warnings = append(tp.Warnings, fmt.Sprintf("Cloud Armor policy %s differs from %s: apply refuses, since its rules change through addRule and patchRule, which this deploy does not call; update them with `gcloud compute security-policies rules update` or delete the policy's backend service reference and the policy, then apply", sp.Name, gcprender.SecurityPoliciesPath))
		}
	}
	if live != nil && state.Record == nil {
		tp.Warnings = append(tp.Warnings, fmt.Sprintf("URL map %s carries no edgegw deploy record: apply replaces it and keeps it in %s for rollback", p.urlMap, p.standby))
	}
	changed := changesArtifact(tp.Changes, gcprender.URLMapPath)
	switch {
	case changed && !missing:
		if err := p.c.ValidateURLMap(ctx, b.URLMap); err != nil {
			return nil, fmt.Errorf("%w; fix the manifest and plan again (nothing was changed)", err)
		}
	case changed:
		tp.Warnings = append(tp.Warnings, "the planned map references objects that do not exist yet, so GCP validates it (and runs its tests[]) at apply, once they are created and before the map changes")
	}
	return tp, nil
}

func changesArtifact(cs []providers.Change, path string) bool {
	for _, c := range cs {
		if c.Kind == "artifact" && c.Name == path {
			return true
		}
	}
	return false
}

// liveArtifact is the desired artifact when the live object already is what it asks for, else the live
// object as JSON (a different digest: a change).
func liveArtifact(want render.Artifact, same bool, live any) render.Artifact {
	if same {
		return want
	}
	data, _ := json.Marshal(live)
	return render.Artifact{Target: want.Target, Path: want.Path, MediaType: want.MediaType, Data: data}
}

// appendObjects adds the live counterpart of a list artifact; missing reports an object not live yet.
func appendObjects[T any](arts []render.Artifact, a render.Artifact, want []T, live map[string]T, missing bool) ([]render.Artifact, bool) {
	if len(live) == 0 && len(want) > 0 {
		return arts, true
	}
	same := len(live) == len(want)
	var got []T
	for _, w := range want {
		l, ok := live[objectName(w)]
		if !ok {
			missing, same = true, false
			continue
		}
		got = append(got, l)
		if !matches(w, l) {
			same = false
		}
	}
	return append(arts, liveArtifact(a, same, got)), missing
}

func objectName(v any) string {
	switch o := v.(type) {
	case *compute.BackendService:
		return o.Name
	case *compute.HealthCheck:
		return o.Name
	case *compute.BackendBucket:
		return o.Name
	case *compute.SecurityPolicy:
		return o.Name
	case gcprender.EndpointGroup:
		return o.Group.Name
	}
	return ""
}

// others are the live NEGs, backend buckets and Cloud Armor policies the artifacts name.
type others struct {
	groups   map[string]gcprender.EndpointGroup
	buckets  map[string]*compute.BackendBucket
	policies map[string]*compute.SecurityPolicy
}

func (p *Provider) liveOthers(ctx context.Context, b *gcprender.Bundle) (*others, error) {
	o := &others{groups: map[string]gcprender.EndpointGroup{}, buckets: map[string]*compute.BackendBucket{}, policies: map[string]*compute.SecurityPolicy{}}
	for _, g := range b.EndpointGroups {
		l, err := p.c.GetEndpointGroup(ctx, g.Group.Name)
		if err != nil {
			return nil, err
		}
		if l != nil {
			o.groups[g.Group.Name] = *l
		}
	}
	for _, bb := range b.BackendBuckets {
		l, err := p.c.GetBackendBucket(ctx, bb.Name)
		if err != nil {
			return nil, err
		}
		if l != nil {
			o.buckets[bb.Name] = l
		}
	}
	for _, sp := range b.SecurityPolicies {
		l, err := p.c.GetSecurityPolicy(ctx, sp.Name)
		if err != nil {
			return nil, err
		}
		if l != nil {
			o.policies[sp.Name] = l
		}
	}
	return o, nil
}

func (p *Provider) liveServices(ctx context.Context, b *gcprender.Bundle) (map[string]*compute.BackendService, error) {
	out := map[string]*compute.BackendService{}
	for _, bs := range b.BackendServices {
		l, err := p.c.GetBackendService(ctx, bs.Name)
		if err != nil {
			return nil, err
		}
		if l != nil {
			out[bs.Name] = l
		}
	}
	return out, nil
}

func (p *Provider) liveChecks(ctx context.Context, b *gcprender.Bundle) (map[string]*compute.HealthCheck, error) {
	out := map[string]*compute.HealthCheck{}
	for _, hc := range b.HealthChecks {
		l, err := p.c.GetHealthCheck(ctx, hc.Name)
		if err != nil {
			return nil, err
		}
		if l != nil {
			out[hc.Name] = l
		}
	}
	return out, nil
}

// outputOnly are the fields GCP sets, never part of what a deploy asks for.
var outputOnly = map[string]bool{"id": true, "kind": true, "selfLink": true, "creationTimestamp": true, "fingerprint": true, "region": true}

// matches reports whether live holds every field want sets, with the same value: GCP adds defaults and
// output-only fields, and writes references as full URLs (compared without the API's base URL); the
// manifest positions descriptions end with are not compared either. The top-level fields named in skip
// are not compared.
func matches(want, live any, skip ...string) bool {
	w, l := toTree(want), toTree(live)
	wm, _ := w.(map[string]any)
	for _, k := range skip {
		delete(wm, k)
	}
	return subset(w, l)
}

func toTree(v any) any {
	b, _ := json.Marshal(v)
	var t any
	_ = json.Unmarshal(b, &t)
	return t
}

func subset(w, l any) bool {
	if l == nil {
		return zero(w) // a field sent at its zero value may come back left out
	}
	switch wv := w.(type) {
	case map[string]any:
		lv, ok := l.(map[string]any)
		if !ok {
			return false
		}
		for k, x := range wv {
			if outputOnly[k] {
				continue
			}
			if !subset(x, lv[k]) {
				return false
			}
		}
		return true
	case []any:
		lv, ok := l.([]any)
		if !ok || len(lv) != len(wv) {
			return false
		}
		for i := range wv {
			if !subset(wv[i], lv[i]) {
				return false
			}
		}
		return true
	case string:
		ls, ok := l.(string)
		return ok && relative(withoutPosition(wv)) == relative(withoutPosition(ls))
	default:
		return reflect.DeepEqual(w, l)
	}
}

func zero(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	case float64:
		return x == 0
	case string:
		return x == ""
	}
	return false
}

// position is the manifest position a rendered description ends with: "route v2 (edgegw.yaml:31:5)".
var position = regexp.MustCompile(` \([^()]*:[0-9]+:[0-9]+\)$`)

// withoutPosition drops it: a route that only moved in the manifest file is no change.
func withoutPosition(s string) string { return position.ReplaceAllString(s, "") }

// relative strips the API's base URL from a resource reference.
func relative(s string) string {
	for _, base := range []string{gcprender.ComputeBase, "https://compute.googleapis.com/compute/v1/"} {
		if strings.HasPrefix(s, base) {
			return strings.TrimPrefix(s, base)
		}
	}
	return s
}

// version names what a plan ships: the first 12 hex digits of the digest of its artifacts' digests.
func version(tp *providers.TargetPlan) string {
	var ds []string
	for _, a := range tp.Artifacts {
		d := a.Digest
		if a.Canonical != "" {
			d = a.Canonical
		}
		ds = append(ds, a.Path+"="+d)
	}
	sort.Strings(ds)
	sum := sha256.Sum256([]byte(strings.Join(ds, "\n")))
	return hex.EncodeToString(sum[:])[:12]
}

// undo is one step that puts back what an apply changed.
type undo struct {
	what string
	do   func(ctx context.Context) error
}

// Apply implements providers.Provider: the internet NEGs (created, or their endpoints replaced), the
// Cloud Armor policies (created), the health checks, the backend services and the backend buckets
// (created, or updated where they differ); the live map copied into the standby map; GCP validates the new map; the map is updated
// with the planned fingerprint (created on a first deploy) carrying the deploy record. A failure after
// the first change puts back everything changed, newest first, and is a *providers.PartialError.
func (p *Provider) Apply(ctx context.Context, tp *providers.TargetPlan, rec providers.DeployRecord) (*providers.Result, error) {
	b, err := p.bundle(tp.RenderedArtifacts())
	if err != nil {
		return nil, err
	}
	live, err := p.c.GetURLMap(ctx, p.urlMap)
	if err != nil {
		return nil, err
	}
	if token(live) != tp.BaseToken {
		return nil, &providers.StalePlanError{Target: Name, Reason: fmt.Sprintf("URL map %s moved from fingerprint %s to %s since the plan was made", p.urlMap, tp.BaseToken, token(live))}
	}
	lv, err := p.liveOthers(ctx, b)
	if err != nil {
		return nil, err
	}
	for _, sp := range b.SecurityPolicies {
		if l := lv.policies[sp.Name]; l != nil && !matches(sp, l) {
			return nil, fmt.Errorf("providers/gcp: Cloud Armor policy %s differs from %s, and its rules change through addRule and patchRule, which this deploy does not call: update them with `gcloud compute security-policies rules update`, then apply (nothing was changed)", sp.Name, gcprender.SecurityPoliciesPath)
		}
	}
	for _, g := range b.EndpointGroups {
		if l, ok := lv.groups[g.Group.Name]; ok && !matches(g.Group, l.Group) {
			return nil, fmt.Errorf("providers/gcp: network endpoint group %s differs from %s in its type or port, which GCP does not change in place: delete it (after the backend services that use it) and apply again (nothing was changed)", g.Group.Name, gcprender.EndpointGroupsPath)
		}
	}
	var undos []undo
	fail := func(step string, cause error) (*providers.Result, error) {
		return nil, p.restore(ctx, undos, step, cause)
	}
	for _, g := range b.EndpointGroups {
		name := g.Group.Name
		l, ok := lv.groups[name]
		if !ok {
			if err := p.c.InsertEndpointGroup(ctx, g.Group); err != nil {
				return fail("create network endpoint group "+name, err)
			}
			undos = append(undos, undo{"delete network endpoint group " + name, func(ctx context.Context) error { return p.c.DeleteEndpointGroup(ctx, name) }})
			if err := p.c.AttachEndpoints(ctx, name, g.Endpoints); err != nil {
				return fail("attach the endpoints of "+name, err)
			}
			continue
		}
		if matches(g.Endpoints, l.Endpoints) {
			continue
		}
		old, want := l.Endpoints, g.Endpoints
		if len(old) > 0 {
			if err := p.c.DetachEndpoints(ctx, name, old); err != nil {
				return fail("detach the old endpoints of "+name, err)
			}
			undos = append(undos, undo{"attach the old endpoints of " + name + " again", func(ctx context.Context) error { return p.c.AttachEndpoints(ctx, name, old) }})
		}
		if err := p.c.AttachEndpoints(ctx, name, want); err != nil {
			return fail("attach the endpoints of "+name, err)
		}
		undos = append(undos, undo{"detach the new endpoints of " + name, func(ctx context.Context) error { return p.c.DetachEndpoints(ctx, name, want) }})
	}
	for _, sp := range b.SecurityPolicies {
		if lv.policies[sp.Name] != nil {
			continue
		}
		if err := p.c.InsertSecurityPolicy(ctx, sp); err != nil {
			return fail("create security policy "+sp.Name, err)
		}
		name := sp.Name
		undos = append(undos, undo{"delete security policy " + name, func(ctx context.Context) error { return p.c.DeleteSecurityPolicy(ctx, name) }})
	}
	for _, hc := range b.HealthChecks {
		cur, err := p.c.GetHealthCheck(ctx, hc.Name)
		if err != nil {
			return fail("read health check "+hc.Name, err)
		}
		switch {
		case cur == nil:
			if err := p.c.InsertHealthCheck(ctx, hc); err != nil {
				return fail("create health check "+hc.Name, err)
			}
			name := hc.Name
			undos = append(undos, undo{"delete health check " + name, func(ctx context.Context) error { return p.c.DeleteHealthCheck(ctx, name) }})
		case !matches(hc, cur):
			if err := p.c.UpdateHealthCheck(ctx, hc); err != nil {
				return fail("update health check "+hc.Name, err)
			}
			prev := cur
			undos = append(undos, undo{"put health check " + prev.Name + " back", func(ctx context.Context) error { return p.c.UpdateHealthCheck(ctx, prev) }})
		}
	}
	for _, bs := range b.BackendServices {
		cur, err := p.c.GetBackendService(ctx, bs.Name)
		if err != nil {
			return fail("read backend service "+bs.Name, err)
		}
		switch {
		case cur == nil:
			if err := p.c.InsertBackendService(ctx, bs); err != nil {
				return fail("create backend service "+bs.Name, err)
			}
			name := bs.Name
			undos = append(undos, undo{"delete backend service " + name, func(ctx context.Context) error { return p.c.DeleteBackendService(ctx, name) }})
		case !matches(bs, cur):
			if err := p.c.UpdateBackendService(ctx, bs, cur.Fingerprint); err != nil {
				return fail("update backend service "+bs.Name, err)
			}
			prev := cur
			undos = append(undos, undo{"put backend service " + prev.Name + " back", func(ctx context.Context) error {
				now, err := p.c.GetBackendService(ctx, prev.Name)
				if err != nil || now == nil {
					return fmt.Errorf("read it: %v", err)
				}
				return p.c.UpdateBackendService(ctx, prev, now.Fingerprint)
			}})
		}
	}
	for _, bb := range b.BackendBuckets {
		cur := lv.buckets[bb.Name]
		switch {
		case cur == nil:
			if err := p.c.InsertBackendBucket(ctx, bb); err != nil {
				return fail("create backend bucket "+bb.Name, err)
			}
			name := bb.Name
			undos = append(undos, undo{"delete backend bucket " + name, func(ctx context.Context) error { return p.c.DeleteBackendBucket(ctx, name) }})
		case !matches(bb, cur):
			if err := p.c.UpdateBackendBucket(ctx, bb); err != nil {
				return fail("update backend bucket "+bb.Name, err)
			}
			prev := cur
			undos = append(undos, undo{"put backend bucket " + prev.Name + " back", func(ctx context.Context) error { return p.c.UpdateBackendBucket(ctx, prev) }})
		}
	}
	if err := p.c.ValidateURLMap(ctx, b.URLMap); err != nil {
		return fail("validate", err)
	}
	_, liveRec := liveVersion(live)
	if live != nil {
		u, err := p.keep(ctx, live, liveRec)
		if err != nil {
			return fail("keep the live map in "+p.standby, err)
		}
		if u != nil {
			undos = append(undos, *u)
		}
	}
	rec.Target, rec.Version, rec.Seq = Name, version(tp), 1
	if liveRec != nil {
		rec.Seq = liveRec.Seq + 1
	}
	m := *b.URLMap
	m.Description = description(rec)
	if live == nil {
		err = p.c.InsertURLMap(ctx, &m)
	} else {
		err = p.c.UpdateURLMap(ctx, &m, tp.BaseToken)
		prev, ours := *live, m.Description
		undos = append(undos, undo{"put URL map " + p.urlMap + " back", func(ctx context.Context) error {
			now, err := p.c.GetURLMap(ctx, p.urlMap)
			if err != nil || now == nil {
				return fmt.Errorf("read it: %v", err)
			}
			if now.Description != ours {
				return nil // the update did not happen, or another change (a 412's) is live: not ours to undo
			}
			return p.c.UpdateURLMap(ctx, &prev, now.Fingerprint)
		}})
	}
	if err != nil {
		return fail("update URL map "+p.urlMap, err)
	}
	return &providers.Result{Target: Name, Version: rec.Version, Record: rec.Seq}, nil
}

// keep copies the live map into the standby map and returns the step that puts the standby back.
func (p *Provider) keep(ctx context.Context, live *compute.UrlMap, liveRec *providers.DeployRecord) (*undo, error) {
	sb := *live
	sb.Name, sb.Id, sb.SelfLink, sb.CreationTimestamp, sb.Kind = p.standby, 0, "", "", ""
	if liveRec == nil {
		v, _ := liveVersion(live)
		sb.Description = fmt.Sprintf("%s%s ver:%s seq:0 git:none ir:none prev:none by:", recordPrefix, kindPrevious, v)
	}
	cur, err := p.c.GetURLMap(ctx, p.standby)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		if err := p.c.InsertURLMap(ctx, &sb); err != nil {
			return nil, err
		}
		return &undo{"delete the standby map " + p.standby, func(ctx context.Context) error { return p.c.DeleteURLMap(ctx, p.standby) }}, nil
	}
	if err := p.c.UpdateURLMap(ctx, &sb, cur.Fingerprint); err != nil {
		return nil, err
	}
	prev := *cur
	return &undo{"put the standby map " + p.standby + " back", func(ctx context.Context) error {
		now, err := p.c.GetURLMap(ctx, p.standby)
		if err != nil || now == nil {
			return fmt.Errorf("read it: %v", err)
		}
		return p.c.UpdateURLMap(ctx, &prev, now.Fingerprint)
	}}, nil
}

// restore runs the undo steps newest first. Nothing changed yet: the cause itself. Else a
// *providers.PartialError saying what was put back, or what could not be.
func (p *Provider) restore(ctx context.Context, undos []undo, step string, cause error) error {
	if len(undos) == 0 {
		return cause
	}
	var failed []string
	for i := len(undos) - 1; i >= 0; i-- {
		p.progress("restore: " + undos[i].what)
		if err := undos[i].do(ctx); err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", undos[i].what, err))
		}
	}
	status, msg := providers.StatusRestored, fmt.Sprintf("%d change(s) made before it were put back", len(undos))
	if len(failed) > 0 {
		status = providers.StatusRestoreFailed
		msg = "putting back what it changed failed: " + strings.Join(failed, "; ") + ": check them by hand"
	}
	err := fmt.Errorf("providers/gcp: %s: %w; %s", step, cause, msg)
	var stale *providers.StalePlanError
	if errors.As(cause, &stale) && len(failed) == 0 {
		return err // a stale plan stays a stale plan (exit 5): nothing is left changed
	}
	return &providers.PartialError{Report: &providers.Report{Targets: []providers.TargetReport{{Target: Name, Status: status, Error: err.Error()}}}, Err: err}
}

// Rollback implements providers.Provider: one update of the live map with the standby map's content, the
// map live before the last deploy. Backend services and health checks stay as they are.
func (p *Provider) Rollback(ctx context.Context, rp providers.RestorePoint, rec providers.DeployRecord) (*providers.Result, error) {
	if rp.Version == "" {
		return nil, fmt.Errorf("providers/gcp: no URL map was live before this deploy, so there is none to return to: delete URL map %s by hand (or detach it from its target proxy) if it must go", p.urlMap)
	}
	sb, err := p.c.GetURLMap(ctx, p.standby)
	if err != nil {
		return nil, err
	}
	var held string
	if sb != nil {
		held, _ = liveVersion(sb)
	}
	if sb == nil || held != rp.Version {
		return nil, fmt.Errorf("providers/gcp: the standby map %s holds version %q, not %s: only the deploy before the live one is kept; return further with `edgegw rollback --to REF`", p.standby, held, rp.Version)
	}
	live, err := p.c.GetURLMap(ctx, p.urlMap)
	if err != nil {
		return nil, err
	}
	if live == nil {
		return nil, fmt.Errorf("providers/gcp: URL map %s is not live: apply first", p.urlMap)
	}
	_, liveRec := liveVersion(live)
	rec.Target, rec.Version, rec.Seq = Name, rp.Version, 1
	if liveRec != nil {
		rec.Seq = liveRec.Seq + 1
	}
	m := *sb
	m.Name, m.Id, m.SelfLink, m.CreationTimestamp, m.Kind = p.urlMap, 0, "", "", ""
	m.Description = description(rec)
	if err := p.c.UpdateURLMap(ctx, &m, live.Fingerprint); err != nil {
		return nil, err
	}
	return &providers.Result{Target: Name, Version: rp.Version, Record: rec.Seq}, nil
}

// History implements providers.Provider from the two maps' records (two reads): the standby's, then the
// live map's.
func (p *Provider) History(ctx context.Context) ([]providers.DeployRecord, error) {
	live, err := p.c.GetURLMap(ctx, p.urlMap)
	if err != nil || live == nil {
		return nil, p.refused(err)
	}
	sb, err := p.c.GetURLMap(ctx, p.standby)
	if err != nil {
		return nil, err
	}
	var out []providers.DeployRecord
	for _, m := range []*compute.UrlMap{sb, live} {
		if m == nil {
			continue
		}
		if rec, ok := parseDescription(m.Description); ok && rec.Kind != kindPrevious {
			out = append(out, rec)
		}
	}
	if len(out) == 2 && out[0].Seq >= out[1].Seq {
		out[0].Seq, out[1].Seq = 1, 2
	}
	return out, nil
}

package fastly

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	gofastly "github.com/fastly/go-fastly/v12/fastly"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/providers/endpoint"
	"github.com/edgegw/edgegw/render"
	fastlyvcl "github.com/edgegw/edgegw/render/fastly"
)

// RendererName is the render target the provider ships (render/fastly registers it).
const RendererName = "fastly"

// The credential variables, in the order they are tried.
const (
	TokenVar = "FASTLY_API_TOKEN"
	KeyVar   = "FASTLY_API_KEY"
)

// Provider deploys to one Fastly VCL service through versions: every apply clones the live version,
// changes in the clone only what differs from the artifacts, validates it on Fastly's side and activates
// it. The live version number is the plan's base token.
type Provider struct {
	client    *gofastly.Client
	serviceID string
	// staged remembers, per staged version, what Activate needs that the plan does not carry.
	staged map[int]stagedVersion
	// validatePlan is targets.fastly.validate_plan; validated holds the clones plan compiled, by the plan
	// they were made for (base token and artifact digests), so the apply of the same run stages none again.
	validatePlan bool
	validated    map[string]int
	// getenv reads the secrets dictionaries.json names, at apply time; fetch reads JWKS key sets, whose
	// items are kept per URL for the run in jwks.
	getenv func(string) string
	fetch  *http.Client
	jwks   map[string]map[string]string
	retry  *RetryTransport
}

type stagedVersion struct {
	base      int  // the version cloned
	hasRecord bool // the clone already holds an edgegw_record VCL file (cloned from base)
	service   []byte
	// dictionaries.json shipped, the item writes activation makes, and their record.
	dictsJSON []byte
	writes    []itemWrite
	dicts     []recordedDictionary
	// incomplete is set when a secret was not set at staging (plan with validate_plan): never activated.
	incomplete bool
}

var (
	_ providers.Provider        = (*Provider)(nil)
	_ providers.Stager          = (*Provider)(nil)
	_ providers.RemoteValidator = (*Provider)(nil)
	_ providers.Verifier        = (*Provider)(nil)
)

// New builds the provider from the manifest's `targets.fastly` and the environment: FASTLY_API_TOKEN
// (FASTLY_API_KEY when it is unset), and FASTLY_API_URL to send the calls to another server.
func New(cfg providers.Config) (providers.Provider, error) {
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	base, ok, err := endpoint.Get(getenv, endpoint.FastlyAPIURL)
	if err != nil {
		return nil, fmt.Errorf("providers/fastly: %w", err)
	}
	if !ok {
		base = gofastly.DefaultEndpoint
	}
	token := strings.TrimSpace(getenv(TokenVar))
	if token == "" {
		token = strings.TrimSpace(getenv(KeyVar))
	}
	if token == "" {
		return nil, &providers.CredentialsError{Target: Name, Var: TokenVar,
			Err: fmt.Errorf("neither %s nor %s is set (create an API token with the global scope for the service)", TokenVar, KeyVar)}
	}
	var s *Settings
	if cfg.Gateway != nil {
		if t, ok := cfg.Gateway.Targets.Lookup(Name); ok {
			s, _ = t.Config.(*Settings)
		}
	}
	if s == nil {
		return nil, errors.New("providers/fastly: the manifest has no targets.fastly block: add `fastly: {service_id: ...}` under targets")
	}
	id, err := resolve(s.ServiceID, getenv)
	if err != nil {
		return nil, err
	}
	c, err := gofastly.NewClientForEndpoint(token, base)
	if err != nil {
		return nil, fmt.Errorf("providers/fastly: %s: %w", endpoint.FastlyAPIURL, err)
	}
	// go-fastly's FASTLY_DEBUG_MODE dumps every request body to stdout, a dictionary item write with its
	// secret value included: never on here.
	c.DebugMode = false
	retry := NewRetryTransport(c.HTTPClient.Transport, nil)
	c.HTTPClient = &http.Client{Transport: retry}
	return &Provider{client: c, retry: retry, serviceID: id, staged: map[int]stagedVersion{}, validatePlan: s.ValidatePlan, validated: map[string]int{},
		getenv: getenv, fetch: &http.Client{Timeout: 10 * time.Second}, jwks: map[string]map[string]string{}}, nil
}

func resolve(v ir.Value, getenv func(string) string) (string, error) {
	if v.Env == "" {
		return v.Literal, nil
	}
	if s := strings.TrimSpace(getenv(v.Env)); s != "" {
		return s, nil
	}
	return "", fmt.Errorf("providers/fastly: targets.fastly.service_id reads %s, which is not set: set it to the service id", v.Env)
}

// Name implements providers.Provider.
func (p *Provider) Name() string { return Name }

// apiError says which call failed and what to do; rejected credentials become a *CredentialsError (exit
// 4), and the rate limit names when it resets.
func (p *Provider) apiError(what string, err error) error {
	var he *gofastly.HTTPError
	if errors.As(err, &he) {
		switch he.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return &providers.CredentialsError{Target: Name, Var: TokenVar,
				Err: fmt.Errorf("%s: the Fastly API refused the token (%d): give it the global scope on service %s", what, he.StatusCode, p.serviceID)}
		case http.StatusTooManyRequests:
			when := "within the hour"
			if he.RateLimitReset != nil {
				when = "at " + time.Unix(int64(*he.RateLimitReset), 0).UTC().Format("15:04:05 UTC")
			}
			left := ""
			if he.RateLimitRemaining != nil {
				left = fmt.Sprintf(" (%d calls left)", *he.RateLimitRemaining)
			}
			return fmt.Errorf("providers/fastly: %s: rate limited by the Fastly API%s: the account allows 1,000 mutating calls an hour and the limit resets %s; nothing was activated, re-run after that", what, left, when)
		case http.StatusNotFound:
			if strings.HasPrefix(what, "read service") {
				return fmt.Errorf("providers/fastly: %s: no such service: check targets.fastly.service_id (and that the token may see it): %w", what, err)
			}
		}
	}
	return fmt.Errorf("providers/fastly: %s: %w", what, err)
}

func (p *Provider) service(ctx context.Context) (*gofastly.Service, error) {
	svc, err := p.client.GetService(ctx, &gofastly.GetServiceInput{ServiceID: p.serviceID})
	if err != nil {
		return nil, p.apiError("read service "+p.serviceID, err)
	}
	return svc, nil
}

func token(active int) string {
	if active == 0 {
		return "none"
	}
	return strconv.Itoa(active)
}

func versionString(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// Plan implements providers.Provider: it reads the live version (its number is the base token) and its
// objects, and compares them with the artifacts. It changes nothing.
func (p *Provider) Plan(ctx context.Context, in providers.PlanInput) (*providers.TargetPlan, error) {
	want, err := sortArtifacts(in.Artifacts)
	if err != nil {
		return nil, err
	}
	if err := checkDictionaries(in.Gateway, want); err != nil {
		return nil, err
	}
	wants, err := p.resolveDictionaries(ctx, want.dicts, false)
	if err != nil {
		return nil, err
	}
	if in.Gateway != nil {
		for _, ap := range in.Gateway.AuthPolicies {
			if ap.JWT != nil && ap.JWT.Secret != nil && ap.JWT.Secret.Env != "" {
				if v := p.getenv(ap.JWT.Secret.Env); v != "" {
					if err := ir.CheckHMACSecret(ap, v); err != nil {
						return nil, fmt.Errorf("providers/fastly: %w", err)
					}
				}
			}
		}
	}
	svc, err := p.service(ctx)
	if err != nil {
		return nil, err
	}
	active := activeVersion(svc)
	live := providers.LiveState{Token: token(active), Version: versionString(active)}
	var warnings []string
	var sr *storedRecord
	if active > 0 {
		o, err := p.readObjects(ctx, active)
		if err != nil {
			return nil, err
		}
		if v := o.vcls[recordVCL]; v != nil {
			if sr, err = decodeRecord(str(v.Content)); err != nil {
				warnings = append(warnings, fmt.Sprintf("the deploy record of live version %d (VCL file %s) cannot be read (%v): route changes are not listed; the next apply writes a new one", active, recordVCL, err))
				sr = nil
			}
		}
		if sr != nil {
			rec := sr.Record
			expand(rec.Gateway, providers.Summarize(in.Gateway))
			live.Record = &rec
		}
		live.Artifacts = liveArtifacts(o, want, sr)
	}
	tp := providers.Diff(Name, RendererName, live, in)
	tp.Warnings = append(tp.Warnings, warnings...)
	dc, dw, err := p.dictionaryChanges(ctx, active, wants, recordedByName(sr))
	if err != nil {
		return nil, err
	}
	tp.Changes = append(tp.Changes, dc...)
	tp.Warnings = append(tp.Warnings, dw...)
	if p.validatePlan && tp.HasChanges() {
		if err := p.validateOnPlan(ctx, tp, want); err != nil {
			return nil, err
		}
	}
	return tp, nil
}

// planKey identifies what a clone was staged for: the base version and the exact artifacts.
func planKey(tp *providers.TargetPlan) string {
	var b strings.Builder
	b.WriteString(tp.BaseToken)
	for _, a := range tp.Artifacts {
		b.WriteString(" " + a.Path + "=" + a.Digest)
	}
	for _, c := range tp.Changes {
		if strings.HasPrefix(c.Kind, "dictionary") {
			b.WriteString(" " + c.Name + "=" + c.After)
		}
	}
	return b.String()
}

// validateOnPlan stages the plan in a throw-away clone and has Fastly compile it. The clone is never
// activated by plan; an apply of the same plan in this run activates it instead of staging another.
func (p *Provider) validateOnPlan(ctx context.Context, tp *providers.TargetPlan, want *desired) error {
	key := planKey(tp)
	if _, done := p.validated[key]; done {
		return nil
	}
	// Plan may run without the secrets (a pull request's CI): the clone then holds every dictionary but
	// apply does not activate it, it stages its own with the secrets read.
	n, err := p.stage(ctx, tp, want, false)
	if err != nil {
		return err
	}
	ok, msg, err := p.client.ValidateVersion(ctx, &gofastly.ValidateVersionInput{ServiceID: p.serviceID, ServiceVersion: n})
	if err != nil {
		return p.apiError(fmt.Sprintf("validate the planned version %d", n), err)
	}
	if !ok {
		return fmt.Errorf("providers/fastly: the planned version %d (a clone of version %s that is never activated) does not validate on Fastly: %s; fix the manifest (or the fastly renderer) and plan again", n, tp.BaseToken, strings.TrimSpace(msg))
	}
	p.validated[key] = n
	return nil
}

// liveArtifacts gives back the live version as artifacts: its VCL files as they are, and its objects as
// a service.json — the bytes planned when the live objects already are what they ask for, so a service that
// matches plans no change, else the record's or a listing of the live objects.
func liveArtifacts(o *objects, want *desired, sr *storedRecord) []render.Artifact {
	recorded := map[string]providers.ArtifactDigest{}
	if sr != nil {
		for _, a := range sr.Record.Artifacts {
			recorded[a.Path] = a
		}
	}
	out := []render.Artifact{}
	for _, path := range ownedVCLPaths(want, sr) {
		v := o.vcls[vclName(path)]
		if v == nil {
			continue
		}
		a := render.Artifact{Target: RendererName, Path: path, MediaType: VCLMediaType, Data: []byte(str(v.Content))}
		if r, ok := recorded[path]; ok && r.Digest == a.Digest() {
			a.Canonical = r.Canonical
		}
		out = append(out, a)
	}
	svc := render.Artifact{Target: RendererName, Path: ServiceFile, MediaType: "application/json"}
	switch {
	case o.serviceMatches(want.service):
		svc.Data, svc.Canonical = want.serviceArt.Data, want.serviceArt.Canonical
	case sr != nil && sr.Service != nil && matchesRecorded(o, sr.Service):
		svc.Data = sr.Service
	default:
		svc.Data = o.service().marshal()
	}
	out = append(out, svc)
	if sr != nil && sr.DictionariesJSON != nil {
		out = append(out, render.Artifact{Target: RendererName, Path: DictionariesFile, MediaType: "application/json", Data: sr.DictionariesJSON})
	}
	return out
}

// checkDictionaries refuses artifacts without the dictionaries the gateway's VCL reads: that VCL would
// verify tokens against empty dictionaries and refuse every one.
func checkDictionaries(g *ir.Gateway, want *desired) error {
	if g == nil {
		return nil
	}
	have := map[string]bool{}
	for _, n := range dictionaryNames(want.dicts) {
		have[n] = true
	}
	var missing []string
	for _, d := range fastlyvcl.Dictionaries(g) {
		if !have[d.Name] {
			missing = append(missing, d.Name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("providers/fastly: the VCL reads the edge dictionaries %s, which the artifacts do not list in %s: render again with this edgegw (`edgegw plan` renders it)", strings.Join(missing, ", "), DictionariesFile)
	}
	return nil
}

func matchesRecorded(o *objects, data []byte) bool {
	s, err := ParseService(data)
	return err == nil && o.serviceMatches(s)
}

// ownedVCLPaths lists the VCL artifacts edgegw owns on the service: the ones planned and the ones the live
// record says were shipped, main.vcl always. Other VCL files of the service are left alone.
func ownedVCLPaths(want *desired, sr *storedRecord) []string {
	seen := map[string]bool{MainVCL: true}
	out := []string{MainVCL}
	add := func(path string) {
		if strings.HasSuffix(path, ".vcl") && !seen[path] {
			seen[path] = true
			out = append(out, path)
		}
	}
	for _, name := range sortedKeys(want.vcls) {
		add(want.vcls[name].Path)
	}
	if sr != nil {
		for _, a := range sr.Record.Artifacts {
			add(a.Path)
		}
	}
	return out
}

// Stage implements providers.Stager: it clones the version the plan was made against (or makes a first
// version) and changes in the clone only the objects that differ from the artifacts.
func (p *Provider) Stage(ctx context.Context, tp *providers.TargetPlan) (*providers.Staged, error) {
	key := planKey(tp)
	if n, ok := p.validated[key]; ok && !p.staged[n].incomplete {
		// Staged and compiled by plan in this run, from the same base and artifacts.
		delete(p.validated, key)
		return &providers.Staged{Target: Name, Version: strconv.Itoa(n), Plan: tp}, nil
	}
	want, err := sortArtifacts(tp.RenderedArtifacts())
	if err != nil {
		return nil, err
	}
	delete(p.validated, key)
	n, err := p.stage(ctx, tp, want, true)
	if err != nil {
		return nil, err
	}
	return &providers.Staged{Target: Name, Version: strconv.Itoa(n), Plan: tp}, nil
}

// stage makes the version tp asks for, inactive, and returns its number. Without needSecrets an unset
// secret is left out, and the version is marked incomplete: it is compiled, never activated.
func (p *Provider) stage(ctx context.Context, tp *providers.TargetPlan, want *desired, needSecrets bool) (int, error) {
	base := 0
	var err error
	if tp.BaseToken != "none" && tp.BaseToken != "" {
		if base, err = strconv.Atoi(tp.BaseToken); err != nil {
			return 0, fmt.Errorf("providers/fastly: the plan's base token %q is not a version number: run `edgegw plan` again", tp.BaseToken)
		}
	}
	// Resolve every item first (the secrets from the environment), so a missing one changes nothing.
	wants, err := p.resolveDictionaries(ctx, want.dicts, needSecrets)
	if err != nil {
		return 0, err
	}
	var v *gofastly.Version
	if base > 0 {
		v, err = p.client.CloneVersion(ctx, &gofastly.CloneVersionInput{ServiceID: p.serviceID, ServiceVersion: base})
		if err != nil {
			return 0, p.apiError(fmt.Sprintf("clone version %d", base), err)
		}
	} else {
		v, err = p.client.CreateVersion(ctx, &gofastly.CreateVersionInput{ServiceID: p.serviceID})
		if err != nil {
			return 0, p.apiError("create the first version", err)
		}
	}
	n := num(v.Number)
	o, err := p.readObjects(ctx, n)
	if err != nil {
		return 0, err
	}
	var sr *storedRecord
	if rv := o.vcls[recordVCL]; rv != nil {
		sr, _ = decodeRecord(str(rv.Content))
	}
	vcls := map[string]string{}
	for name, a := range want.vcls {
		vcls[name] = string(a.Data)
	}
	var owned []string
	for _, path := range ownedVCLPaths(want, sr) {
		owned = append(owned, vclName(path))
	}
	for _, c := range o.changes(want.service, vcls, owned) {
		if err := c.run(ctx, p.client, p.serviceID, n); err != nil {
			return 0, p.apiError(fmt.Sprintf("version %d (staged, not active): %s", n, c.what), err)
		}
	}
	writes, dicts, err := p.stageDictionaries(ctx, n, wants, recordedByName(sr))
	if err != nil {
		return 0, err
	}
	st := stagedVersion{base: base, hasRecord: o.vcls[recordVCL] != nil, service: want.serviceArt.Data, writes: writes, dicts: dicts}
	for _, w := range wants {
		st.incomplete = st.incomplete || len(w.unset) > 0
	}
	if want.dicts != nil {
		st.dictsJSON = want.dictsArt.Data
	}
	p.staged[n] = st
	return n, nil
}

// ValidateStaged implements providers.RemoteValidator: Fastly compiles the staged version.
func (p *Provider) ValidateStaged(ctx context.Context, s *providers.Staged) error {
	n, err := strconv.Atoi(s.Version)
	if err != nil {
		return fmt.Errorf("providers/fastly: staged version %q is not a number", s.Version)
	}
	ok, msg, err := p.client.ValidateVersion(ctx, &gofastly.ValidateVersionInput{ServiceID: p.serviceID, ServiceVersion: n})
	if err != nil {
		return p.apiError(fmt.Sprintf("validate version %d", n), err)
	}
	if !ok {
		return fmt.Errorf("providers/fastly: version %d does not validate on Fastly: %s; it stays an inactive draft and nothing was activated: fix the manifest (or the fastly renderer) and apply again", n, strings.TrimSpace(msg))
	}
	return nil
}

// Activate implements providers.Stager: it refuses when the live version moved since the plan, writes the
// deploy record into the staged version (its comment and the edgegw_record VCL file), and activates it.
// When the activation call fails but the version went live anyway, the previous version is activated
// again before the error is returned.
func (p *Provider) Activate(ctx context.Context, s *providers.Staged, rec providers.DeployRecord) (*providers.Result, error) {
	n, err := strconv.Atoi(s.Version)
	if err != nil {
		return nil, fmt.Errorf("providers/fastly: staged version %q is not a number", s.Version)
	}
	st, ok := p.staged[n]
	if !ok {
		return nil, fmt.Errorf("providers/fastly: version %d was not staged by this run", n)
	}
	svc, err := p.service(ctx)
	if err != nil {
		return nil, err
	}
	if live := activeVersion(svc); token(live) != s.Plan.BaseToken {
		return nil, &providers.StalePlanError{Target: Name, Reason: fmt.Sprintf("the live version moved from %s to %s since the plan was made (version %d stays an inactive draft)", s.Plan.BaseToken, token(live), n)}
	}
	seq := 1
	for _, r := range history(svc) {
		if r.Kind == providers.KindApply {
			seq++ // a rollback's entry stands for a live version, not a record of its own
		}
	}
	rec.Target, rec.Version, rec.Seq = Name, strconv.Itoa(n), seq
	if rec.Previous.Version == "" && st.base > 0 {
		rec.Previous = providers.RestorePoint{Target: Name, Version: strconv.Itoa(st.base)}
	}
	if _, err := p.client.UpdateVersion(ctx, &gofastly.UpdateVersionInput{ServiceID: p.serviceID, ServiceVersion: n, Comment: gofastly.ToPointer(comment(rec))}); err != nil {
		return nil, p.apiError(fmt.Sprintf("write the deploy record into version %d's comment", n), err)
	}
	content := encodeRecord(storedRecord{Record: rec, Service: st.service, DictionariesJSON: st.dictsJSON, Dictionaries: st.dicts})
	if st.hasRecord {
		_, err = p.client.UpdateVCL(ctx, &gofastly.UpdateVCLInput{ServiceID: p.serviceID, ServiceVersion: n, Name: recordVCL, Content: &content})
	} else {
		_, err = p.client.CreateVCL(ctx, &gofastly.CreateVCLInput{ServiceID: p.serviceID, ServiceVersion: n, Name: gofastly.ToPointer(recordVCL), Content: &content})
	}
	if err != nil {
		return nil, p.apiError(fmt.Sprintf("write the deploy record into version %d (VCL file %s)", n, recordVCL), err)
	}
	// Dictionary items are not versioned: they change for the live version at once, so they are written
	// last, just before the activation, and put back when it fails.
	for i, w := range st.writes {
		if err := p.writeItems(ctx, w.name, w.id, w.ops); err != nil {
			return nil, p.undoneWith(ctx, err, st.writes[:i], "nothing was activated")
		}
	}
	if _, err := p.client.ActivateVersion(ctx, &gofastly.ActivateVersionInput{ServiceID: p.serviceID, ServiceVersion: n}); err != nil {
		return nil, p.undoneWith(ctx, p.activationFailed(ctx, n, st.base, err), st.writes, "")
	}
	delete(p.staged, n)
	return &providers.Result{Target: Name, Version: strconv.Itoa(n), Record: seq}, nil
}

// activationFailed reads what is live after a failed activation call: a version that went live despite
// the error is replaced by the previous one, so the target is never left on a version the apply reports
// as failed.
func (p *Provider) activationFailed(ctx context.Context, n, base int, cause error) error {
	err := p.apiError(fmt.Sprintf("activate version %d", n), cause)
	svc, rerr := p.service(ctx)
	if rerr != nil {
		return fmt.Errorf("%w; and reading what is live failed too (%v): check the service's active version by hand", err, rerr)
	}
	if activeVersion(svc) != n {
		return fmt.Errorf("%w; version %s is still live", err, orNone(token(activeVersion(svc))))
	}
	if base == 0 {
		return fmt.Errorf("%w; version %d went live anyway and there is no earlier version to restore: check it by hand", err, n)
	}
	if _, aerr := p.client.ActivateVersion(ctx, &gofastly.ActivateVersionInput{ServiceID: p.serviceID, ServiceVersion: base}); aerr != nil {
		return fmt.Errorf("%w; version %d went live anyway and restoring version %d failed (%v): activate it by hand", err, n, base, p.apiError("activate", aerr))
	}
	return fmt.Errorf("%w; version %d went live anyway, so version %d was activated again", err, n, base)
}

// undoneWith puts back the public dictionary items writes changed and says so on err; a secret written
// stays written (its old value cannot be read back).
func (p *Provider) undoneWith(ctx context.Context, err error, writes []itemWrite, note string) error {
	if len(writes) == 0 {
		if note != "" {
			return fmt.Errorf("%w; %s", err, note)
		}
		return err
	}
	msg := "the dictionary items written were put back"
	secret := false
	for _, w := range writes {
		secret = secret || w.undo == nil
	}
	if secret {
		msg += " (a secret value written stays written: its old value cannot be read back)"
	}
	if failed := p.undoWrites(ctx, writes); len(failed) > 0 {
		msg = "putting the dictionary items back failed: " + strings.Join(failed, "; ") + ": restore them by hand"
	}
	if note != "" {
		msg = note + "; " + msg
	}
	return fmt.Errorf("%w; %s", err, msg)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// Apply implements providers.Provider for callers that do not stage: stage, validate, activate.
func (p *Provider) Apply(ctx context.Context, tp *providers.TargetPlan, rec providers.DeployRecord) (*providers.Result, error) {
	s, err := p.Stage(ctx, tp)
	if err != nil {
		return nil, err
	}
	if err := p.ValidateStaged(ctx, s); err != nil {
		return nil, err
	}
	return p.Activate(ctx, s, rec)
}

// Rollback implements providers.Provider: it puts back the public dictionary items the version to return
// to was live with (restoreItems: two reads, then one read and, when they differ, one write per
// dictionary), and activates it. Fastly keeps every version, so nothing is uploaded; no record is written
// either (see record.go).
func (p *Provider) Rollback(ctx context.Context, rp providers.RestorePoint, rec providers.DeployRecord) (*providers.Result, error) {
	if rp.Version == "" {
		return nil, fmt.Errorf("providers/fastly: no version was live before this deploy, so there is none to activate: deactivate the service by hand if it must go offline")
	}
	n, err := strconv.Atoi(rp.Version)
	if err != nil {
		return nil, fmt.Errorf("providers/fastly: version %q is not a version number (see `edgegw history --target fastly`)", rp.Version)
	}
	// The public dictionary items the version was live with go back first (items are not versioned).
	if _, err := p.restoreItems(ctx, n); err != nil {
		return nil, fmt.Errorf("%w; nothing was activated: version %d is not live again", err, n)
	}
	if _, err := p.client.ActivateVersion(ctx, &gofastly.ActivateVersionInput{ServiceID: p.serviceID, ServiceVersion: n}); err != nil {
		return nil, p.apiError(fmt.Sprintf("activate version %d", n), err)
	}
	return &providers.Result{Target: Name, Version: rp.Version}, nil
}

// History implements providers.Provider from the version comments: one call.
func (p *Provider) History(ctx context.Context) ([]providers.DeployRecord, error) {
	svc, err := p.service(ctx)
	if err != nil {
		return nil, err
	}
	return history(svc), nil
}

// Verify implements providers.Verifier: the activated version must be the live one.
func (p *Provider) Verify(ctx context.Context, r *providers.Result) error {
	svc, err := p.service(ctx)
	if err != nil {
		return err
	}
	if live := token(activeVersion(svc)); live != r.Version {
		return fmt.Errorf("providers/fastly: version %s was activated but version %s is live: another activation happened meanwhile", r.Version, live)
	}
	return nil
}

package cloudflare

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/providers/endpoint"
)

// The credential variables.
const (
	TokenVar   = "CLOUDFLARE_API_TOKEN"
	AccountVar = "CLOUDFLARE_ACCOUNT_ID"
)

// metadataFile is the renderer's upload metadata artifact (render/cloudflare writes it beside the Worker);
// wrangler.toml and other artifacts that are not modules are not uploaded.
const metadataFile = "metadata.json"

// moduleTypes are the media types uploaded as module parts.
var moduleTypes = []string{
	"application/javascript+module", "text/javascript+module", "application/javascript", "text/javascript",
	"application/wasm", "text/plain", "application/octet-stream", "application/source-map",
}

// Provider deploys the Worker through the Workers versions and deployments API.
type Provider struct {
	api     api
	account string
	script  string
	zone    string // targets.cloudflare.zone
	// manifest is the manifest file, for the git commit a staged version's annotations name.
	manifest string

	// Set by Plan, read by the steps that follow it in the same apply.
	planned   map[string]*providers.GatewaySummary // by artifact set, see artifactKey
	routes    map[string][]wantHost                // by artifact set
	zoneIDs   map[string]string
	liveToken string
	noScript  bool
	// The live version's Durable Object classes and the migration tag the script is at.
	liveClasses []string
	liveTag     string
	// uploaded is set when Stage deployed through the script upload on a live script: the version that
	// was live before, deployed again when activation fails.
	uploaded string
	// moved maps a base token to the deployment this process's own secrets call made from it (a secret
	// change is a deployment on Cloudflare), so Activate does not take it for someone else's deploy.
	moved   map[string]string
	pending []providers.Secret // secrets of a first deploy, set once the script exists
	// undo puts back the routes, custom domains and DNS records the last activation changed, when a later
	// step of the same apply fails and the engine restores this target.
	undo    edgeUndo
	lastSeq int // records seen by the last read, for the sequence number of the next
}

var (
	_ providers.Provider        = (*Provider)(nil)
	_ providers.Stager          = (*Provider)(nil)
	_ providers.SecretWriter    = (*Provider)(nil)
	_ providers.Locator         = (*Provider)(nil)
	_ providers.ForceRollbacker = (*Provider)(nil)
)

// Options build a provider without the registry, for tests and embedding.
type Options struct {
	// Getenv reads the credentials and the endpoint override; os.Getenv when nil.
	Getenv     func(string) string
	HTTPClient *http.Client
	// Timeout bounds each API request (60 s when zero); a timed-out request is not retried.
	Timeout time.Duration
	// BaseDir is the manifest's directory.
	BaseDir string
}

// New builds the provider from the manifest's `targets.cloudflare` block and the environment.
func New(cfg providers.Config) (providers.Provider, error) {
	return Open(cfg.Gateway, Options{Getenv: cfg.Getenv, BaseDir: cfg.BaseDir})
}

// Open builds the provider for g. Missing credentials are a *providers.CredentialsError naming the variable.
func Open(g *ir.Gateway, o Options) (*Provider, error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Timeout == 0 {
		o.Timeout = requestTimeout
	}
	s, err := settingsOf(g)
	if err != nil {
		return nil, err
	}
	token := strings.TrimSpace(o.Getenv(TokenVar))
	if token == "" {
		return nil, &providers.CredentialsError{Target: Name, Var: TokenVar,
			Err: errors.New("no API token: create one with Workers Scripts: Edit, and Zone: Read, Workers Routes: Edit and DNS: Edit on the manifest's zones")}
	}
	account, v := accountID(s, o.Getenv)
	if account == "" {
		written := "not set"
		if !s.AccountID.IsZero() {
			written = s.AccountID.String()
		}
		return nil, &providers.CredentialsError{Target: Name, Var: v,
			Err: fmt.Errorf("no account id: targets.cloudflare.account_id is %s and %s is empty", written, v)}
	}
	base, ok, err := endpoint.Get(o.Getenv, endpoint.CloudflareBaseURL)
	if err != nil {
		return nil, fmt.Errorf("providers/%s: %w", Name, err)
	}
	if !ok {
		base = endpoint.Variables(endpoint.Cloudflare)[0].Default
	}
	p := newProvider(newSDK(base, token, account, o.HTTPClient, o.Timeout), account, s.Script)
	p.zone = s.Zone
	p.manifest = manifestFile(g, o.BaseDir)
	return p, nil
}

func newProvider(a api, account, script string) *Provider {
	return &Provider{api: a, account: account, script: script, planned: map[string]*providers.GatewaySummary{},
		routes: map[string][]wantHost{}, zoneIDs: map[string]string{}, moved: map[string]string{}}
}

func settingsOf(g *ir.Gateway) (*Settings, error) {
	if g != nil {
		if t, ok := g.Targets.Lookup(Name); ok {
			if s, ok := t.Config.(*Settings); ok && s != nil {
				if s.Script == "" {
					return nil, fmt.Errorf("providers/%s: targets.cloudflare.script is empty: write the Worker script's name", Name)
				}
				return s, nil
			}
		}
	}
	return nil, fmt.Errorf("providers/%s: the manifest has no targets.cloudflare block: add one with account_id, zone and script", Name)
}

// accountID resolves the account id: the manifest's literal, the variable it names, or CLOUDFLARE_ACCOUNT_ID.
// v names the variable to set when it is empty.
func accountID(s *Settings, getenv func(string) string) (id, v string) {
	switch {
	case s.AccountID.Literal != "":
		return s.AccountID.Literal, AccountVar
	case s.AccountID.Env != "":
		return strings.TrimSpace(getenv(s.AccountID.Env)), s.AccountID.Env
	default:
		return strings.TrimSpace(getenv(AccountVar)), AccountVar
	}
}

// manifestFile is the manifest the gateway was read from, when its positions name it.
func manifestFile(g *ir.Gateway, baseDir string) string {
	if g == nil {
		return ""
	}
	f := g.SectionPos("targets." + Name).File
	if f == "" {
		return ""
	}
	for _, c := range []string{f, filepath.Join(baseDir, filepath.Base(f))} {
		if _, err := os.Stat(c); err == nil {
			return c
		}
	}
	return ""
}

// Name implements providers.Provider.
func (p *Provider) Name() string { return Name }

// Location implements providers.Locator: the account and script.
func (p *Provider) Location() string { return "account " + p.account + ", script " + p.script }

func (p *Provider) wrap(step string, err error) error {
	return fmt.Errorf("providers/%s: %s (script %s): %w", Name, step, p.script, err)
}

// live reads the active deployment; nil when the script has none (or does not exist).
func (p *Provider) live(ctx context.Context) (*deployment, []deployment, error) {
	deps, err := p.api.Deployments(ctx, p.script)
	if err != nil {
		return nil, nil, p.wrap("read deployments", err)
	}
	p.lastSeq = len(records(deps))
	if len(deps) == 0 {
		return nil, deps, nil
	}
	return &deps[0], deps, nil
}

// artifactKey identifies a set of artifacts by their digests.
func artifactKey(ds []providers.ArtifactDigest) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.Path + "=" + d.Digest + ";")
	}
	return b.String()
}

// Plan implements providers.Provider: the base token is the active deployment's id, and the live version's
// summary (see record.go) is what Diff compares with the desired artifacts and gateway.
func (p *Provider) Plan(ctx context.Context, in providers.PlanInput) (*providers.TargetPlan, error) {
	active, _, err := p.live(ctx)
	if err != nil {
		return nil, err
	}
	live := providers.LiveState{}
	p.noScript = active == nil
	p.liveClasses, p.liveTag = nil, ""
	if active != nil {
		live.Token = active.ID
		live.Version = active.primary()
		live.Record = &providers.DeployRecord{} // live, but not from edgegw: everything is a change
		v, err := p.api.Version(ctx, p.script, live.Version)
		if err != nil {
			return nil, p.wrap("read live version "+live.Version, err)
		}
		sum, err := decodeSummary(v.Text)
		if err != nil {
			return nil, p.wrap("read live version "+live.Version, err)
		}
		if sum != nil {
			live.Record = &providers.DeployRecord{Version: live.Version, Artifacts: sum.Artifacts, Gateway: sum.Gateway}
			p.liveTag = sum.Migration
		}
		p.liveClasses = v.Classes
		if p.liveTag == "" && len(v.Classes) > 0 {
			p.liveTag = MigrationTag // deployed before the summary carried the tag: edgegw's first migration
		}
	}
	p.liveToken = live.Token
	tp := providers.Diff(Name, Name, live, in)
	if m := p.migrationFor(renderedClasses(tp)); m != nil && !p.noScript {
		// A migration's old_tag must be the script's: read it, since wrangler may have migrated it since
		// the tag the live version records.
		tag, err := p.api.MigrationTag(ctx, p.script)
		if err != nil {
			return nil, p.wrap("read the script's Durable Object migration tag", err)
		}
		p.liveTag = tag
	}
	if m := p.migrationFor(renderedClasses(tp)); m != nil && tp.HasChanges() {
		tp.Changes = append(tp.Changes, providers.Change{Action: providers.Create, Kind: kindMigration, Name: m.String()})
	}
	if in.Gateway != nil {
		key := artifactKey(tp.Digests())
		p.planned[key] = providers.Summarize(in.Gateway)
		want := desiredHosts(in.Gateway, p.zone)
		p.routes[key] = want
		ep, err := p.planEdge(ctx, want)
		if err != nil {
			return nil, err
		}
		tp.Changes = append(tp.Changes, edgeChanges(ep, tp)...)
		tp.Warnings = append(tp.Warnings, ep.warnings...)
	}
	return tp, nil
}

// renderedMetadata is the part of the renderer's metadata.json the provider reads.
type renderedMetadata struct {
	MainModule         string    `json:"main_module"`
	CompatibilityDate  string    `json:"compatibility_date"`
	CompatibilityFlags []string  `json:"compatibility_flags"`
	Bindings           []binding `json:"bindings"`
	KeepBindings       []string  `json:"keep_bindings"`
}

// kindMigration is the change kind of a Durable Object migration.
const kindMigration = "migration"

// renderedClasses are the Durable Object classes the plan's metadata.json binds in the script itself.
func renderedClasses(tp *providers.TargetPlan) []string {
	for _, a := range tp.Artifacts {
		if a.Path == metadataFile {
			var md renderedMetadata
			if json.Unmarshal(a.Data, &md) == nil {
				return ownClasses(md.Bindings)
			}
		}
	}
	return nil
}

// buildUpload turns the plan's artifacts into a version upload.
func (p *Provider) buildUpload(tp *providers.TargetPlan) (upload, error) {
	var up upload
	var md renderedMetadata
	haveMD := false
	for _, a := range tp.Artifacts {
		switch {
		case a.Path == metadataFile:
			if err := json.Unmarshal(a.Data, &md); err != nil {
				return up, fmt.Errorf("%s: %w (re-render the target)", metadataFile, err)
			}
			haveMD = true
		case slices.Contains(moduleTypes, a.MediaType):
			up.Files = append(up.Files, newFile(a.Path, a.MediaType, a.Data))
		}
	}
	if len(up.Files) == 0 {
		return up, errors.New("no module among the artifacts: nothing to upload")
	}
	up.MainModule = md.MainModule
	if !haveMD || up.MainModule == "" {
		for _, f := range up.Files {
			if f.contentType == "application/javascript+module" {
				up.MainModule = f.name
				break
			}
		}
	}
	if !slices.ContainsFunc(up.Files, func(f file) bool { return f.name == up.MainModule }) {
		return up, fmt.Errorf("the main module %q is not among the uploaded modules", up.MainModule)
	}
	up.CompatibilityDate, up.CompatibilityFlags = md.CompatibilityDate, md.CompatibilityFlags
	// A secret binding carries a value: the value goes through the secrets API, never in metadata. The
	// version keeps the script's secrets instead.
	for _, b := range md.Bindings {
		if b.Type == "secret_text" || b.Type == "secret_key" {
			continue
		}
		if strings.HasPrefix(b.Name, summaryBinding) {
			return up, fmt.Errorf("binding %s: the %s* names are the provider's own", b.Name, summaryBinding)
		}
		up.Bindings = append(up.Bindings, b)
	}
	up.KeepBindings = md.KeepBindings
	for _, k := range []string{"secret_text", "secret_key"} {
		if !slices.Contains(up.KeepBindings, k) {
			up.KeepBindings = append(up.KeepBindings, k)
		}
	}
	sum := versionSummary{Artifacts: tp.Digests(), Gateway: p.planned[artifactKey(tp.Digests())], Migration: p.liveTag}
	if up.Migration = p.migrationFor(ownClasses(up.Bindings)); up.Migration != nil {
		sum.Migration = up.Migration.Tag
	}
	bs, err := encodeSummary(sum)
	if err != nil {
		return up, err
	}
	up.Bindings = append(up.Bindings, bs...)
	ird := "unknown"
	if sum.Gateway != nil {
		ird = sum.Gateway.Digest
	}
	commit := "unknown"
	if p.manifest != "" {
		if c, dirty, err := providers.ManifestCommit(p.manifest); err == nil && c != "" {
			commit = c
			if dirty {
				commit += "+dirty"
			}
		}
	}
	up.Tag = validPrefix("ir:"+ird, maxTag)
	// up: tells this upload from any other of the same commit, so a retry can find it (api.go's once).
	nonce := make([]byte, 4)
	_, _ = rand.Read(nonce)
	up.Message = "edgegw git:" + commit + " ir:" + ird + " up:" + hex.EncodeToString(nonce)
	return up, nil
}

// MigrationTag is the Durable Object migration a script's first deploy applies, creating the classes its
// Durable Object bindings name (render/cloudflare's EdgegwState). Later migrations count on: v2, v3, ….
const MigrationTag = "v1"

// migrationFor is the migration a deploy of a Worker binding classes needs: on a script's first deploy,
// MigrationTag creating them; later, only when the class set differs from the live version's, one step
// from the live tag creating the new classes and deleting the ones no longer bound (their state with
// them); otherwise none.
func (p *Provider) migrationFor(classes []string) *migration {
	if p.noScript {
		if len(classes) == 0 {
			return nil
		}
		return &migration{Tag: MigrationTag, Classes: classes}
	}
	var added, deleted []string
	for _, c := range classes {
		if !slices.Contains(p.liveClasses, c) {
			added = append(added, c)
		}
	}
	for _, c := range p.liveClasses {
		if !slices.Contains(classes, c) {
			deleted = append(deleted, c)
		}
	}
	if len(added)+len(deleted) == 0 {
		return nil
	}
	return &migration{OldTag: p.liveTag, Tag: nextTag(p.liveTag), Classes: added, Deleted: deleted}
}

// nextTag follows tag: "" → v1, v1 → v2, and any other tag gets "-2" (or its trailing number counted on).
func nextTag(tag string) string {
	if tag == "" {
		return MigrationTag
	}
	i := len(tag)
	for i > 0 && tag[i-1] >= '0' && tag[i-1] <= '9' {
		i--
	}
	if i == len(tag) {
		return tag + "-2"
	}
	n, _ := strconv.Atoi(tag[i:])
	return tag[:i] + strconv.Itoa(n+1)
}

func (m *migration) String() string {
	var parts []string
	if len(m.Classes) > 0 {
		parts = append(parts, "new "+strings.Join(m.Classes, ", "))
	}
	if len(m.Deleted) > 0 {
		parts = append(parts, "delete "+strings.Join(m.Deleted, ", ")+" and its state")
	}
	from := ""
	if m.OldTag != "" {
		from = m.OldTag + " → "
	}
	return from + m.Tag + ": " + strings.Join(parts, "; ")
}

// Stage implements providers.Stager: it uploads a version (Workers.Scripts.Versions.New) that serves no
// traffic yet. A deploy that needs a Durable Object migration is the exception (migrationFor): the
// versions API takes no migrations, so the Worker goes through the script upload with the migration,
// which deploys it at once. On a first deploy no route reaches it before Activate; on a live script
// Activate's failure deploys the version live before again.
func (p *Provider) Stage(ctx context.Context, tp *providers.TargetPlan) (*providers.Staged, error) {
	p.uploaded = ""
	up, err := p.buildUpload(tp)
	if err != nil {
		return nil, p.wrap("upload version", err)
	}
	if up.Migration != nil {
		if err := p.api.CreateScript(ctx, p.script, up); err != nil {
			return nil, p.wrap("upload script with migration "+up.Migration.Tag, err)
		}
		active, _, err := p.live(ctx)
		if err != nil {
			return nil, err
		}
		if active == nil {
			return nil, p.wrap("upload script", errors.New("the script has no deployment after its upload"))
		}
		if !p.noScript {
			p.uploaded = tp.RestorePoint.Version
		}
		p.noScript = false
		p.moved[tp.BaseToken] = active.ID // the deployment the upload made is this apply's own
		return &providers.Staged{Target: Name, Version: active.primary(), Plan: tp}, nil
	}
	id, err := p.api.UploadVersion(ctx, p.script, up)
	if err != nil {
		return nil, p.wrap("upload version", err)
	}
	return &providers.Staged{Target: Name, Version: id, Plan: tp}, nil
}

// ownClasses are the Durable Object classes the Worker itself defines (bindings without script_name).
func ownClasses(bs []binding) []string {
	var out []string
	for _, b := range bs {
		if b.Type == "durable_object_namespace" && b.ScriptName == "" && b.ClassName != "" && !slices.Contains(out, b.ClassName) {
			out = append(out, b.ClassName)
		}
	}
	return out
}

// Activate implements providers.Stager: one deployment of the staged version at 100 %, its annotation
// carrying the deploy record. It refuses when the active deployment is no longer the plan's base token
// (or the one this apply's own secrets call made from it).
func (p *Provider) Activate(ctx context.Context, s *providers.Staged, rec providers.DeployRecord) (*providers.Result, error) {
	active, _, err := p.live(ctx)
	if err != nil {
		return nil, err
	}
	tok := ""
	if active != nil {
		tok = active.ID
	}
	own, moved := "", false
	if s.Plan != nil {
		own, moved = p.moved[s.Plan.BaseToken]
	}
	if s.Plan != nil && tok != s.Plan.BaseToken && (!moved || tok != own) {
		return nil, &providers.StalePlanError{Target: Name,
			Reason: fmt.Sprintf("the active deployment moved from %q to %q since the plan was made", s.Plan.BaseToken, tok)}
	}
	res, err := p.activate(ctx, s, rec)
	if err != nil && p.uploaded != "" {
		// The script upload of a migration made the version live in Stage: the one live before goes back.
		prev := p.uploaded
		p.uploaded = ""
		if _, derr := p.api.Deploy(ctx, p.script, prev, encodeMessage(providers.DeployRecord{Kind: providers.KindRestore,
			Previous: providers.RestorePoint{Target: Name, Version: s.Version}, Who: rec.Who, Note: "restored after a failed apply"}), true); derr != nil {
			return nil, fmt.Errorf("%w; deploying version %s again failed too: %v; deploy it by hand (wrangler rollback %s)", err, prev, derr, prev)
		}
		p.lastSeq++
		back := fmt.Errorf("%w; version %s, live since the script upload, was replaced by %s again", err, s.Version, prev)
		var pe *providers.PartialError
		if errors.As(err, &pe) {
			return nil, back
		}
		return nil, &providers.PartialError{Report: &providers.Report{Targets: []providers.TargetReport{{Target: Name, Status: providers.StatusRestored, Version: prev, Error: back.Error()}}}, Err: back}
	}
	p.uploaded = ""
	return res, err
}

func (p *Provider) activate(ctx context.Context, s *providers.Staged, rec providers.DeployRecord) (*providers.Result, error) {
	var err error
	// Routes, custom domains and DNS records first: a new host then reaches the script when its new
	// version goes live. A failure here, or of the deployment, puts back what changed: nothing stays
	// half-applied.
	p.undo = nil
	var undo edgeUndo
	var created []string
	if s.Plan != nil {
		if want, ok := p.routes[artifactKey(s.Plan.Digests())]; ok {
			if undo, created, err = p.syncEdge(ctx, want); err != nil {
				return nil, edgeFailure(err)
			}
		}
	}
	if _, err := p.api.Deploy(ctx, p.script, s.Version, encodeMessage(rec, created...), false); err != nil {
		err = p.wrap("deploy version "+s.Version, err)
		if len(undo) > 0 {
			err = edgeFailure(&EdgeRestoreError{Err: err, Restore: undo.run(ctx)})
		}
		return nil, err
	}
	p.undo = undo
	p.lastSeq++
	res := &providers.Result{Target: Name, Version: s.Version, Record: p.lastSeq}
	if len(p.pending) > 0 {
		secrets := p.pending
		p.pending = nil
		if err := p.putSecrets(ctx, secrets); err != nil {
			return nil, fmt.Errorf("%w; version %s is deployed but its secrets are not all set: fix the cause and apply again", err, s.Version)
		}
	}
	return res, nil
}

// Apply implements providers.Provider: Stage, then Activate.
func (p *Provider) Apply(ctx context.Context, tp *providers.TargetPlan, rec providers.DeployRecord) (*providers.Result, error) {
	s, err := p.Stage(ctx, tp)
	if err != nil {
		return nil, err
	}
	return p.Activate(ctx, s, rec)
}

// SecretsChangedError is Cloudflare refusing a rollback (error 10220) because secrets changed since the
// version was live.
type SecretsChangedError struct {
	Script  string
	Version string
	Err     error
}

var _ providers.NeedsForce = (*SecretsChangedError)(nil)

func (e *SecretsChangedError) Error() string {
	return fmt.Sprintf("providers/%s: Cloudflare refused to roll back script %s to version %s (error %d): secrets changed since that version was live, "+
		"and a rolled-back version runs with the secrets it was deployed with, not today's values; nothing was changed. "+
		"Check that version works with those secrets, then run `edgegw rollback --force` (with the same flags) to deploy it anyway", Name, e.Script, e.Version, codeSecretsChanged)
}

func (e *SecretsChangedError) Unwrap() error { return e.Err }

// NeedsForce implements providers.NeedsForce: `rollback --force` deploys the version anyway.
func (e *SecretsChangedError) NeedsForce() {}

// Rollback implements providers.Provider: exactly one API call, a deployment of rp's version at 100 %.
// Cloudflare refuses it with error 10220 when secrets changed since that version: the rollback then fails
// with a *SecretsChangedError, and `rollback --force` goes through ForceRollback. Restoring after a failed
// apply forces past 10220 itself, since that apply's own secrets call is what changed them.
func (p *Provider) Rollback(ctx context.Context, rp providers.RestorePoint, rec providers.DeployRecord) (*providers.Result, error) {
	res, err := p.rollback(ctx, rp, rec, rec.Kind == providers.KindRestore)
	if rec.Kind == providers.KindRestore && len(p.undo) > 0 {
		// A restore after a later failure of the same apply: the edge that activation changed goes back too.
		undo := p.undo
		p.undo = nil
		if uerr := undo.run(ctx); uerr != nil {
			return res, errors.Join(err, p.wrap("restore routes, custom domains and DNS records", uerr))
		}
	}
	return res, err
}

// edgeFailure reports an activation that failed after it changed the edge as the engine reports an apply
// it restored (exit 3): the target was switched in part and put back, or putting it back failed.
func edgeFailure(err error) error {
	var er *EdgeRestoreError
	if !errors.As(err, &er) {
		return err
	}
	status := providers.StatusRestored
	if er.Restore != nil {
		status = providers.StatusRestoreFailed
	}
	return &providers.PartialError{Report: &providers.Report{Targets: []providers.TargetReport{{Target: Name, Status: status, Error: err.Error()}}}, Err: err}
}

// ForceRollback implements providers.ForceRollbacker: Rollback, deploying also where Cloudflare refuses
// it (the deployment's force flag).
func (p *Provider) ForceRollback(ctx context.Context, rp providers.RestorePoint, rec providers.DeployRecord) (*providers.Result, error) {
	return p.rollback(ctx, rp, rec, true)
}

func (p *Provider) rollback(ctx context.Context, rp providers.RestorePoint, rec providers.DeployRecord, force bool) (*providers.Result, error) {
	if rp.Version == "" {
		return nil, fmt.Errorf("providers/%s: nothing was live on script %s before: a Worker cannot be undeployed to nothing; "+
			"delete the script in the dashboard or deploy a fixed manifest", Name, p.script)
	}
	if _, err := p.api.Deploy(ctx, p.script, rp.Version, encodeMessage(rec), force); err != nil {
		if apiCode(err) == codeSecretsChanged {
			return nil, &SecretsChangedError{Script: p.script, Version: rp.Version, Err: err}
		}
		return nil, p.wrap("deploy version "+rp.Version, err)
	}
	p.lastSeq++
	return &providers.Result{Target: Name, Version: rp.Version, Record: p.lastSeq}, nil
}

// History implements providers.Provider: the deployments edgegw made, oldest first, read from their
// annotations (one API call). Cloudflare keeps a bounded list of recent deployments; older ones are gone.
func (p *Provider) History(ctx context.Context) ([]providers.DeployRecord, error) {
	_, deps, err := p.live(ctx)
	if err != nil {
		return nil, err
	}
	return records(deps), nil
}

// PutSecrets implements providers.SecretWriter: each value through the secrets API, never in metadata. On
// a script's first deploy the script does not exist yet: the values are set right after activation.
func (p *Provider) PutSecrets(ctx context.Context, secrets []providers.Secret) error {
	if p.noScript {
		p.pending = secrets
		return nil
	}
	return p.putSecrets(ctx, secrets)
}

func (p *Provider) putSecrets(ctx context.Context, secrets []providers.Secret) error {
	before := p.liveToken
	for _, s := range secrets {
		if err := p.api.PutSecret(ctx, p.script, s.Name, s.Value); err != nil {
			return p.wrap("secrets", err)
		}
	}
	// A secret change deploys a new version on Cloudflare: remember the deployment it made.
	active, _, err := p.live(ctx)
	if err != nil {
		return err
	}
	if active != nil && before != "" {
		p.moved[before] = active.ID
	}
	return nil
}

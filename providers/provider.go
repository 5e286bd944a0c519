// Package providers owns deploying: the Provider interface every target implements, the registry providers
// add themselves to, the capability tables, and the engine that plans, applies and rolls back across targets
// (stale-plan checks, locks, thresholds, restore on failure, deploy records, the saved plan file).
//
// A provider ships what render produced and never re-derives gateway semantics. The engine knows nothing of
// any vendor: it talks to providers only through the interfaces in this file, and discovers optional
// abilities (staging, remote validation, verification, locks, secrets) by type assertion, as dnscontrol does.
// This package must not import cmd/ or any vendor SDK.
package providers

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/render"
)

// Provider is what every target implements. Methods are called by one goroutine at a time per target.
type Provider interface {
	// Name is the target name, as written under `targets:` in the manifest.
	Name() string
	// Plan reads the live state and compares it with the desired artifacts. It changes nothing remotely.
	// The returned plan carries the vendor's base token (to refuse a stale plan later) and the restore
	// point to return to if the apply fails. Use Diff to build it.
	Plan(ctx context.Context, in PlanInput) (*TargetPlan, error)
	// Apply makes the plan's artifacts live and writes rec with them. It must refuse with a *StalePlanError
	// when the live token is no longer p.BaseToken. Providers that implement Stager are activated through
	// Stage and Activate instead.
	Apply(ctx context.Context, p *TargetPlan, rec DeployRecord) (*Result, error)
	// Rollback makes the restore point live again and writes rec (Kind "rollback" or "restore").
	Rollback(ctx context.Context, rp RestorePoint, rec DeployRecord) (*Result, error)
	// History returns the deploy records of this target, oldest first. They live with the target (its
	// directory, or the vendor's annotation fields) so they survive an ephemeral CI runner.
	History(ctx context.Context) ([]DeployRecord, error)
}

// PlanInput is what a provider plans from.
type PlanInput struct {
	Gateway   *ir.Gateway
	Artifacts []render.Artifact
}

// Result is what an activation left live.
type Result struct {
	Target  string `json:"target"`
	Version string `json:"version"` // the vendor's version id now live
	Record  int    `json:"record"`  // sequence number of the deploy record written
}

// Staged is a version uploaded but not live.
type Staged struct {
	Target  string `json:"target"`
	Version string `json:"version"`
	Plan    *TargetPlan
}

// Stager is implemented by targets that can upload a version without making it live (Workers versions,
// Fastly draft versions, AFD blue/green rule sets). The engine stages every stageable target before it
// activates any, so a broken upload fails before traffic moves.
type Stager interface {
	Stage(ctx context.Context, p *TargetPlan) (*Staged, error)
	// Activate makes a staged version live and writes rec; it refuses a moved base token like Apply.
	Activate(ctx context.Context, s *Staged, rec DeployRecord) (*Result, error)
}

// ForceRollbacker is implemented by targets whose vendor refuses some rollbacks unless forced (Cloudflare
// refuses a deployment of a version whose secrets changed since, error 10220). `rollback --force` calls
// ForceRollback instead of Rollback; without it the provider's error explains the refusal.
type ForceRollbacker interface {
	ForceRollback(ctx context.Context, rp RestorePoint, rec DeployRecord) (*Result, error)
}

// NeedsForce is implemented by the error a provider returns when its vendor refused a rollback that
// `rollback --force` would carry out (Cloudflare's error 10220). Nothing changed on the vendor's side; the
// command exits with the blocked code (5), since going on is the user's decision, and the error itself
// says what forcing would do.
type NeedsForce interface {
	error
	NeedsForce()
}

// RemoteValidator is implemented by targets whose vendor validates a staged version (Fastly validate,
// GCP URL-map tests, CloudFront TestFunction).
type RemoteValidator interface {
	ValidateStaged(ctx context.Context, s *Staged) error
}

// Verifier checks a target after activation (an HTTP probe, the vendor's propagation status). A failed
// verification restores the targets already activated.
type Verifier interface {
	Verify(ctx context.Context, r *Result) error
}

// TrafficShifter is implemented by targets that can move a share of traffic to a staged version (Workers
// gradual deployments). The engine does not use it yet: apply activates at 100 %.
type TrafficShifter interface {
	ShiftTraffic(ctx context.Context, s *Staged, percent int) error
}

// Locator is implemented by targets whose deploys live somewhere a reader should be told (the local target's
// directory); history prints it beside the target's name.
type Locator interface {
	Location() string
}

// ProgressReporter is implemented by targets with steps long enough to report progress of their own
// (CloudFront's propagation to every edge location); the engine hands them its progress output before an
// apply or a rollback.
type ProgressReporter interface {
	ReportProgress(func(Progress))
}

// Tailer streams the target's live logs.
type Tailer interface {
	Tail(ctx context.Context, emit func(line string)) error
}

// Locker is implemented by targets without a vendor token strong enough to refuse a concurrent apply. Lock
// fails with a *LockedError naming the holder when the target is already locked.
type Locker interface {
	Lock(ctx context.Context, info LockInfo) (unlock func() error, err error)
	// ForceUnlock breaks the lock with the given id; it fails when the lock held has another id.
	ForceUnlock(ctx context.Context, id string) error
}

// SecretWriter is implemented by targets that store secret values through the vendor's secret API. The
// engine resolves the values from the environment at apply time and passes them only here.
type SecretWriter interface {
	PutSecrets(ctx context.Context, secrets []Secret) error
}

// Secret is one secret value to upload, named as the manifest references it.
type Secret struct {
	Name  string // the environment variable, e.g. JWT_SECRET_KEY
	Value Sensitive
}

// Config is what a provider is built from.
type Config struct {
	Gateway *ir.Gateway
	// BaseDir is the manifest's directory; relative paths in the target's addressing are resolved from it.
	BaseDir string
	Getenv  func(string) string
}

// NewFunc builds a provider for one gateway. It returns a *CredentialsError when the vendor's credentials
// are missing, so plan can still show the offline part.
type NewFunc func(cfg Config) (Provider, error)

// Registration is what a provider package registers in init.
type Registration struct {
	Name string // the target name under `targets:`
	// Renderer is the render target this provider ships (render.Lookup name), e.g. "ir".
	Renderer     string
	Capabilities Capabilities
	// Limits are checked offline, at plan time, against the rendered artifacts.
	Limits []Limit
	// NotReverted lists what a rollback of this target leaves as it is (printed after every rollback).
	NotReverted []string
	// Credentials names the environment variables (or the chain) the provider reads, for messages and docs.
	Credentials string
	// Settings returns a pointer to a zero value of the target's `targets.<name>` block type (its yaml tags
	// are the keys a manifest may write); CheckSettings validates a decoded block. The manifest decodes the
	// block with positions; the core never looks inside it (see manifest.TargetBlock).
	Settings      func() any
	CheckSettings func(cfg any) []manifest.BlockProblem
	// Companions are the companions a manifest may list under targets.<name>.companions.
	Companions []string
	// OldNames are earlier spellings of the name, refused with a message naming the new one.
	OldNames []string
	// EdgeHeaders are the response headers the vendor's edge adds; seeing one shows the edge answered
	// (verify-dns --http).
	EdgeHeaders []string
	// PublicDNS is set for targets that answer the manifest's hostnames on the public internet: a plan that
	// adds or changes a domain on such a target runs the DNS preflight first. The local target does not.
	PublicDNS bool
	New       NewFunc
}

// Limit is a size limit of the vendor.
type Limit struct {
	Path     string // artifact path, or "" for the sum of all artifacts
	MaxBytes int
	Reason   string // e.g. "CloudFront Functions: 10 KB per function"
}

var (
	regMu sync.RWMutex
	reg   = map[string]Registration{}
)

// Register adds a provider. It panics on a duplicate name or on a capability entry without a reason:
// both are programming errors found at start-up.
func Register(r Registration) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := reg[r.Name]; dup {
		panic("providers: provider registered twice: " + r.Name)
	}
	for f, s := range r.Capabilities {
		if s.Reason == "" {
			panic(fmt.Sprintf("providers: %s: capability %s has no reason", r.Name, f))
		}
	}
	if r.Settings == nil {
		r.Settings = func() any { return &struct{}{} }
	}
	manifest.RegisterTargetBlock(manifest.TargetBlock{Name: r.Name, OldNames: r.OldNames, New: r.Settings, Check: r.checkSettings})
	reg[r.Name] = r
}

// checkSettings runs the target's own checks and refuses companions it does not offer.
func (r Registration) checkSettings(cfg any) []manifest.BlockProblem {
	var out []manifest.BlockProblem
	if r.CheckSettings != nil {
		out = r.CheckSettings(cfg)
	}
	if cl, ok := cfg.(ir.Companioned); ok {
		for _, c := range cl.CompanionList() {
			if !slices.Contains(r.Companions, c) {
				offered := "none"
				if len(r.Companions) > 0 {
					offered = strings.Join(r.Companions, ", ")
				}
				out = append(out, manifest.InvalidField("companions", "companions of "+r.Name+": "+offered, "%q is not a companion of %s", c, r.Name))
			}
		}
	}
	return out
}

// NotBuilt lists what this build lacks of a registered target: its capability table, its renderer, its
// deploy. A target is known (its manifest block is read, verify-dns knows its edge) before it is built.
func (r Registration) NotBuilt() []string {
	var out []string
	if r.Capabilities == nil {
		out = append(out, "capability table")
	}
	if r.Renderer == "" {
		out = append(out, "renderer")
	}
	if r.New == nil {
		out = append(out, "deploy")
	}
	return out
}

// NotBuiltError says a known target cannot be used for what was asked.
func (r Registration) NotBuiltError(what string) error {
	return fmt.Errorf("target %s cannot %s: this edgegw knows the target but does not build its %s yet", r.Name, what, strings.Join(r.NotBuilt(), ", "))
}

// Lookup returns the registration of a target.
func Lookup(name string) (Registration, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	r, ok := reg[name]
	return r, ok
}

// Names lists the registered providers, sorted.
func Names() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	n := make([]string, 0, len(reg))
	for k := range reg {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Registrations lists the registered providers, sorted by name.
func Registrations() []Registration {
	var out []Registration
	for _, n := range Names() {
		r, _ := Lookup(n)
		out = append(out, r)
	}
	return out
}

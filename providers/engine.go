package providers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/render"
)

// Target is one configured target: its registration and, when credentials allowed building it, the provider.
type Target struct {
	Name         string
	Registration Registration
	Provider     Provider // nil when Offline is set
	Offline      error    // why the live state cannot be read, usually a *CredentialsError
}

// ConfiguredTargets builds the targets g configures, narrowed to only when it is not empty. A configured
// target without a provider in this build is returned in skipped with the reason, not as an error.
func ConfiguredTargets(g *ir.Gateway, cfg Config, only []string) (targets []Target, skipped []SkippedTarget, err error) {
	names := g.Targets.Names()
	if len(names) == 0 {
		return nil, nil, errors.New("providers: the manifest configures no target: add `targets: {local: {}}` to deploy on this machine")
	}
	for _, o := range only {
		if slices.Contains(names, o) {
			continue
		}
		if _, old := manifest.RenamedTarget(o); old {
			return nil, nil, fmt.Errorf("providers: --target %s: %w", o, CheckTargetName(o, false))
		}
		if CheckTargetName(o, false) != nil {
			return nil, nil, fmt.Errorf("providers: --target %s: no such target; --target takes one of the manifest's targets: %s", o, strings.Join(names, ", "))
		}
		return nil, nil, fmt.Errorf("providers: --target %s: not configured under `targets:` in the manifest (configured: %s)", o, strings.Join(names, ", "))
	}
	cfg.Gateway = g
	for _, n := range names {
		if len(only) > 0 && !slices.Contains(only, n) {
			continue
		}
		reg, ok := Lookup(n)
		if !ok {
			skipped = append(skipped, SkippedTarget{Target: n, Reason: "no target named " + n + " is built into this edgegw"})
			continue
		}
		if reg.New == nil || reg.Renderer == "" {
			skipped = append(skipped, SkippedTarget{Target: n, Reason: reg.NotBuiltError("be deployed").Error()})
			continue
		}
		t := Target{Name: n, Registration: reg}
		p, err := reg.New(cfg)
		var ce *CredentialsError
		switch {
		case errors.As(err, &ce):
			t.Offline = err
		case err != nil:
			return nil, nil, err
		default:
			t.Provider = p
		}
		targets = append(targets, t)
	}
	return targets, skipped, nil
}

// PlanMeta describes where a plan comes from.
type PlanMeta struct {
	ManifestPath   string
	ManifestDigest string
	Commit         string
	Dirty          bool
	EdgegwVersion  string
	Now            time.Time
}

// MakePlan renders every target, checks sizes against the vendor's limits, and reads the live state of each
// target that has a provider. Offline targets get the rendered artifacts only. A target's failure is kept in
// Problems; the returned error is non-nil when any target failed, and the plan is still returned so the
// caller can show the rest.
func MakePlan(ctx context.Context, g *ir.Gateway, targets []Target, meta PlanMeta) (*Plan, error) {
	p := &Plan{
		FormatVersion: PlanFormatVersion, EdgegwVersion: meta.EdgegwVersion, CreatedAt: meta.Now.UTC(),
		ManifestPath: meta.ManifestPath, ManifestDigest: meta.ManifestDigest, Commit: meta.Commit, Dirty: meta.Dirty,
	}
	var errs []error
	fail := func(t string, err error) {
		pos := g.SectionPos("targets." + t)
		var re *render.RouteError
		if errors.As(err, &re) && g.Route(re.Route) != nil {
			pos = g.Route(re.Route).Pos
		}
		p.Problems = append(p.Problems, TargetProblem{Target: t, Error: err.Error(), Pos: pos})
		errs = append(errs, err)
	}
	for _, t := range targets {
		r, err := render.Lookup(t.Registration.Renderer)
		if err != nil {
			fail(t.Name, fmt.Errorf("providers/%s: %w", t.Name, err))
			continue
		}
		arts, err := r.Render(g)
		if err == nil {
			err = render.Canonicalize(r, g, arts)
		}
		if err != nil {
			fail(t.Name, fmt.Errorf("providers/%s: render: %w", t.Name, err))
			continue
		}
		if err := checkLimits(t.Name, t.Registration.Limits, arts); err != nil {
			fail(t.Name, err)
			continue
		}
		budget(t.Registration.Limits, arts)
		if t.Provider == nil {
			p.Targets = append(p.Targets, &TargetPlan{Target: t.Name, Renderer: r.Name(), Artifacts: plannedArtifacts(arts),
				Offline: true, OfflineReason: t.Offline.Error()})
			continue
		}
		tp, err := t.Provider.Plan(ctx, PlanInput{Gateway: g, Artifacts: arts})
		var ce *CredentialsError
		switch {
		case errors.As(err, &ce):
			p.Targets = append(p.Targets, &TargetPlan{Target: t.Name, Renderer: r.Name(), Artifacts: plannedArtifacts(arts),
				Offline: true, OfflineReason: err.Error()})
		case err != nil:
			fail(t.Name, err)
		default:
			p.Targets = append(p.Targets, tp)
		}
	}
	return p, errors.Join(errs...)
}

// budget sets MaxBytes of the artifacts a provider limit names by path, where the renderer set none, so plan
// reports every per-artifact limit the same way.
func budget(limits []Limit, arts []render.Artifact) {
	for _, l := range limits {
		for i := range arts {
			if l.Path != "" && arts[i].Path == l.Path && arts[i].MaxBytes == 0 {
				arts[i].MaxBytes = l.MaxBytes
			}
		}
	}
}

func checkLimits(target string, limits []Limit, arts []render.Artifact) error {
	for _, l := range limits {
		size := 0
		for _, a := range arts {
			if l.Path == "" || a.Path == l.Path {
				size += len(a.Data)
			}
		}
		if size > l.MaxBytes {
			what := "the artifacts"
			if l.Path != "" {
				what = l.Path
			}
			return fmt.Errorf("providers/%s: %s is %d bytes, over the limit of %d (%s): split routes or drop features for this target",
				target, what, size, l.MaxBytes, l.Reason)
		}
	}
	for _, a := range arts {
		if a.MaxBytes > 0 && len(a.Data) > a.MaxBytes {
			return fmt.Errorf("providers/%s: %s is %d bytes, over the target's limit of %d: split routes or drop features for this target",
				target, a.Path, len(a.Data), a.MaxBytes)
		}
	}
	return nil
}

// DefaultMaxDeleteShare is the share of live routes an apply may delete without --force (as octoDNS's
// update threshold, a typo that empties the route table should not go live unreviewed).
const DefaultMaxDeleteShare = 0.3

// CheckThresholds returns a *ThresholdError when p deletes more than maxShare of a target's live routes or
// touches an apex domain that is already live.
func CheckThresholds(p *Plan, maxShare float64) error {
	var reasons []string
	for _, t := range p.Targets {
		_, _, del := t.Count("route")
		if t.LiveRoutes > 0 && float64(del)/float64(t.LiveRoutes) > maxShare {
			reasons = append(reasons, fmt.Sprintf("%s: deletes %d of %d live routes (more than %.0f%%)", t.Target, del, t.LiveRoutes, maxShare*100))
		}
		if t.LiveVersion == "" {
			continue // nothing live yet: a first deploy cannot break a live apex
		}
		for _, c := range t.Changes {
			if c.Kind == "domain" && c.Apex {
				reasons = append(reasons, fmt.Sprintf("%s: %s apex domain %s (%s): the zone's root moves with it", t.Target, c.Action, c.Name, c.Pos))
			}
		}
	}
	if len(reasons) > 0 {
		return &ThresholdError{Reasons: reasons}
	}
	return nil
}

// Progress is one step of an apply or a rollback, for the views.
type Progress struct {
	Target  string `json:"target"`
	Step    string `json:"step"`   // lock, check, secrets, stage, validate, activate, verify, restore, rollback
	Status  string `json:"status"` // start, done, failed
	Version string `json:"version,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Target statuses in a Report.
const (
	StatusUnchanged     = "unchanged"
	StatusApplied       = "applied"
	StatusRolledBack    = "rolled_back"
	StatusRestored      = "restored"       // activated, then put back after a later failure
	StatusRestoreFailed = "restore_failed" // activated, and putting it back failed: check it by hand
	StatusFailed        = "failed"
	StatusNotStarted    = "not_started"
)

// TargetReport is the outcome of one target.
type TargetReport struct {
	Target   string `json:"target"`
	Status   string `json:"status"`
	Version  string `json:"version,omitempty"`  // live after the operation
	Previous string `json:"previous,omitempty"` // live before
	Record   int    `json:"record,omitempty"`
	Error    string `json:"error,omitempty"`
}

// Report is the outcome of an apply or rollback.
type Report struct {
	Targets []TargetReport `json:"targets"`
	// NotReverted lists what a rollback left as it was.
	NotReverted []string `json:"not_reverted,omitempty"`
}

// PartialError reports an operation that changed some targets and failed on another. Exit code 3.
type PartialError struct {
	Report *Report
	Err    error
}

func (e *PartialError) Error() string {
	var parts []string
	for _, t := range e.Report.Targets {
		if t.Status != StatusUnchanged {
			parts = append(parts, t.Target+" "+strings.ReplaceAll(t.Status, "_", " "))
		}
	}
	return fmt.Sprintf("%v (%s)", e.Err, strings.Join(parts, ", "))
}

func (e *PartialError) Unwrap() error { return e.Err }

// ApplyOptions tune Apply.
type ApplyOptions struct {
	Gateway *ir.Gateway
	// Force skips the thresholds (route deletions, apex changes).
	Force bool
	// ForceUnlock breaks the lock with this id before locking.
	ForceUnlock    string
	MaxDeleteShare float64 // 0 means DefaultMaxDeleteShare
	Who            string
	Kind           string // record kind, KindApply by default
	Note           string
	Now            func() time.Time
	Getenv         func(string) string
	Progress       func(Progress)
	// VerifyHTTP, when set, runs after each target is activated and has passed its own Verify (`apply
	// --verify-url`); an error restores the targets switched so far, like any failed step.
	VerifyHTTP func(ctx context.Context, target string) error
}

func (o *ApplyOptions) defaults() {
	if o.MaxDeleteShare == 0 {
		o.MaxDeleteShare = DefaultMaxDeleteShare
	}
	if o.Kind == "" {
		o.Kind = KindApply
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Progress == nil {
		o.Progress = func(Progress) {}
	}
	if o.Who == "" {
		o.Who = Who(o.Getenv)
	}
}

// Apply ships exactly the plan's artifacts. It refuses a risky plan without Force, a locked target, and a
// stale plan; stages every stageable target and validates remotely before activating any; activates target
// by target and verifies; on any failure (or cancellation) it restores the targets already activated from
// their restore points and returns a *PartialError. In-flight vendor calls are not cancelled: a first
// SIGINT stops the apply between steps.
func Apply(ctx context.Context, p *Plan, provs map[string]Provider, opts ApplyOptions) (*Report, error) {
	opts.defaults()
	rep := &Report{}
	for _, pp := range p.Problems {
		return rep, fmt.Errorf("providers: the plan has a problem on %s: %s", pp.Target, pp.Error)
	}
	if err := p.Unplanned(); err != nil {
		return rep, err
	}
	var work []*TargetPlan
	for _, tp := range p.Targets {
		if !tp.HasChanges() {
			rep.Targets = append(rep.Targets, TargetReport{Target: tp.Target, Status: StatusUnchanged, Version: tp.LiveVersion, Previous: tp.LiveVersion})
			continue
		}
		if tp.Offline || provs[tp.Target] == nil {
			return rep, &CredentialsError{Target: tp.Target, Err: errors.New(tp.OfflineReason)}
		}
		work = append(work, tp)
	}
	if len(work) == 0 {
		if opts.ForceUnlock != "" {
			// Nothing to apply, but the lock was asked to be broken: break it, or say it was not there.
			var names []string
			for _, tp := range p.Targets {
				names = append(names, tp.Target)
			}
			return rep, breakLock(context.WithoutCancel(ctx), names, provs, opts.ForceUnlock, opts.Progress)
		}
		return rep, nil
	}
	if !opts.Force {
		if err := CheckThresholds(p, opts.MaxDeleteShare); err != nil {
			return rep, err
		}
	}
	call := context.WithoutCancel(ctx)
	for _, tp := range work {
		if pr, ok := provs[tp.Target].(ProgressReporter); ok {
			pr.ReportProgress(opts.Progress)
		}
	}

	unlock, err := lockAll(call, work, provs, opts, "apply")
	if err != nil {
		return rep, err
	}
	defer unlock()

	// Apply exactly what was reviewed: the live state must still be what the plan was made against.
	for _, tp := range work {
		opts.Progress(Progress{Target: tp.Target, Step: "check", Status: "start"})
		fresh, err := provs[tp.Target].Plan(call, PlanInput{Gateway: opts.Gateway, Artifacts: tp.RenderedArtifacts()})
		if err != nil {
			return rep, fmt.Errorf("providers/%s: read live state: %w", tp.Target, err)
		}
		if fresh.BaseToken != tp.BaseToken {
			opts.Progress(Progress{Target: tp.Target, Step: "check", Status: "failed", Error: "live state moved"})
			return rep, &StalePlanError{Target: tp.Target, Reason: fmt.Sprintf("the live state moved from %q to %q since the plan was made", tp.BaseToken, fresh.BaseToken)}
		}
		opts.Progress(Progress{Target: tp.Target, Step: "check", Status: "done"})
	}

	results := map[string]*TargetReport{}
	for _, tp := range work {
		results[tp.Target] = &TargetReport{Target: tp.Target, Status: StatusNotStarted, Previous: tp.LiveVersion, Version: tp.LiveVersion}
	}
	finish := func() {
		for _, tp := range work {
			rep.Targets = append(rep.Targets, *results[tp.Target])
		}
	}
	var activated []*TargetPlan
	failed := func(tp *TargetPlan, step string, err error) (*Report, error) {
		opts.Progress(Progress{Target: tp.Target, Step: step, Status: "failed", Error: err.Error()})
		r := results[tp.Target]
		if r.Status == StatusNotStarted {
			r.Status = StatusFailed
		}
		r.Error = err.Error()
		err = fmt.Errorf("providers/%s: %s: %w", tp.Target, step, err)
		restore(call, activated, provs, results, opts, err)
		finish()
		if len(activated) > 0 {
			return rep, &PartialError{Report: rep, Err: err}
		}
		return rep, err
	}

	staged := map[string]*Staged{}
	for _, tp := range work {
		prov := provs[tp.Target]
		if sw, ok := prov.(SecretWriter); ok {
			secrets, err := ResolveSecrets(opts.Gateway, opts.Getenv)
			if err == nil && len(secrets) > 0 {
				opts.Progress(Progress{Target: tp.Target, Step: "secrets", Status: "start"})
				err = sw.PutSecrets(call, secrets)
			}
			if err != nil {
				return failed(tp, "secrets", err)
			}
		}
		if err := ctx.Err(); err != nil {
			return failed(tp, "stage", err)
		}
		st, ok := prov.(Stager)
		if !ok {
			continue
		}
		opts.Progress(Progress{Target: tp.Target, Step: "stage", Status: "start"})
		s, err := st.Stage(call, tp)
		if err != nil {
			return failed(tp, "stage", err)
		}
		staged[tp.Target] = s
		opts.Progress(Progress{Target: tp.Target, Step: "stage", Status: "done", Version: s.Version})
		if v, ok := prov.(RemoteValidator); ok {
			opts.Progress(Progress{Target: tp.Target, Step: "validate", Status: "start"})
			if err := v.ValidateStaged(call, s); err != nil {
				return failed(tp, "validate", err)
			}
			opts.Progress(Progress{Target: tp.Target, Step: "validate", Status: "done"})
		}
	}

	for _, tp := range work {
		if err := ctx.Err(); err != nil {
			return failed(tp, "activate", err)
		}
		prov := provs[tp.Target]
		rec := DeployRecord{Target: tp.Target, Kind: opts.Kind, Previous: tp.RestorePoint, Commit: p.Commit, Dirty: p.Dirty,
			ManifestPath: p.ManifestPath, ManifestDigest: p.ManifestDigest, Artifacts: tp.Digests(), Who: opts.Who,
			Time: opts.Now().UTC(), Note: opts.Note, Gateway: Summarize(opts.Gateway)}
		opts.Progress(Progress{Target: tp.Target, Step: "activate", Status: "start"})
		var res *Result
		var err error
		if s, ok := staged[tp.Target]; ok {
			res, err = prov.(Stager).Activate(call, s, rec)
		} else {
			res, err = prov.Apply(call, tp, rec)
		}
		if err != nil {
			return failed(tp, "activate", err)
		}
		activated = append(activated, tp)
		r := results[tp.Target]
		r.Status, r.Version, r.Record = StatusApplied, res.Version, res.Record
		opts.Progress(Progress{Target: tp.Target, Step: "activate", Status: "done", Version: res.Version})
		if v, ok := prov.(Verifier); ok {
			opts.Progress(Progress{Target: tp.Target, Step: "verify", Status: "start"})
			if err := v.Verify(call, res); err != nil {
				return failed(tp, "verify", err)
			}
			opts.Progress(Progress{Target: tp.Target, Step: "verify", Status: "done"})
		}
		if opts.VerifyHTTP != nil {
			opts.Progress(Progress{Target: tp.Target, Step: "verify-http", Status: "start"})
			if err := opts.VerifyHTTP(call, tp.Target); err != nil {
				return failed(tp, "verify-http", err)
			}
			opts.Progress(Progress{Target: tp.Target, Step: "verify-http", Status: "done"})
		}
	}
	finish()
	return rep, nil
}

// restore puts the activated targets back, newest first.
func restore(ctx context.Context, activated []*TargetPlan, provs map[string]Provider, results map[string]*TargetReport, opts ApplyOptions, cause error) {
	for i := len(activated) - 1; i >= 0; i-- {
		tp := activated[i]
		r := results[tp.Target]
		opts.Progress(Progress{Target: tp.Target, Step: "restore", Status: "start", Version: tp.RestorePoint.Version})
		rec := DeployRecord{Target: tp.Target, Kind: KindRestore, Previous: RestorePoint{Target: tp.Target, Version: r.Version},
			Who: opts.Who, Time: opts.Now().UTC(), Note: "restored after a failed apply: " + cause.Error()}
		if prev := findOrigin(mustHistory(ctx, provs[tp.Target]), tp.RestorePoint.Version); prev != nil {
			rec.Commit, rec.Dirty, rec.ManifestPath, rec.ManifestDigest, rec.Artifacts, rec.Gateway = prev.Commit, prev.Dirty, prev.ManifestPath, prev.ManifestDigest, prev.Artifacts, prev.Gateway
		}
		res, err := provs[tp.Target].Rollback(ctx, tp.RestorePoint, rec)
		if err != nil {
			r.Status = StatusRestoreFailed
			r.Error = fmt.Sprintf("restore to version %q failed: %v; check the target by hand", tp.RestorePoint.Version, err)
			opts.Progress(Progress{Target: tp.Target, Step: "restore", Status: "failed", Error: err.Error()})
			continue
		}
		r.Status, r.Version, r.Record = StatusRestored, res.Version, res.Record
		opts.Progress(Progress{Target: tp.Target, Step: "restore", Status: "done", Version: res.Version})
	}
}

func mustHistory(ctx context.Context, p Provider) []DeployRecord {
	h, _ := p.History(ctx)
	return h
}

// findOrigin returns the record that first made version live: the deploy that created it. Its commit is
// what that version runs, and its restore point is what was live before it.
func findOrigin(recs []DeployRecord, version string) *DeployRecord {
	if version == "" {
		return nil
	}
	for i := range recs {
		if recs[i].Version == version {
			return &recs[i]
		}
	}
	return nil
}

// lockAll takes every target's lock (breaking the one named by ForceUnlock first) and returns the release.
func lockAll(ctx context.Context, work []*TargetPlan, provs map[string]Provider, opts ApplyOptions, op string) (func(), error) {
	var names []string
	for _, tp := range work {
		names = append(names, tp.Target)
	}
	return lockTargets(ctx, names, provs, opts.ForceUnlock, opts.Who, op, opts.Progress)
}

// ErrNoLock is returned by Locker.ForceUnlock when the target holds no lock.
var ErrNoLock = errors.New("no lock held")

func lockTargets(ctx context.Context, names []string, provs map[string]Provider, forceID, who, op string, progress func(Progress)) (func(), error) {
	if forceID != "" {
		if err := breakLock(ctx, names, provs, forceID, progress); err != nil {
			return nil, err
		}
	}
	var unlocks []func() error
	release := func() {
		for i := len(unlocks) - 1; i >= 0; i-- {
			_ = unlocks[i]()
		}
	}
	info := LockInfo{ID: newLockID(), Who: who, Operation: op, PID: os.Getpid(), Created: time.Now().UTC()}
	for _, n := range names {
		l, ok := provs[n].(Locker)
		if !ok {
			continue
		}
		u, err := l.Lock(ctx, info)
		if err != nil {
			release()
			return nil, err
		}
		progress(Progress{Target: n, Step: "lock", Status: "done"})
		unlocks = append(unlocks, u)
	}
	return release, nil
}

// breakLock breaks the lock with id on every named target that holds it; it fails when none does.
func breakLock(ctx context.Context, names []string, provs map[string]Provider, id string, progress func(Progress)) error {
	broke := false
	for _, n := range names {
		l, ok := provs[n].(Locker)
		if !ok {
			continue
		}
		err := l.ForceUnlock(ctx, id)
		switch {
		case err == nil:
			broke = true
			progress(Progress{Target: n, Step: "unlock", Status: "done"})
		case errors.Is(err, ErrNoLock):
		default:
			return err
		}
	}
	if !broke {
		return fmt.Errorf("providers: unlock %s: no target holds a lock with that id (see the lock error for the id; nothing was broken)", id)
	}
	return nil
}

// Unlock breaks the lock with id on every target that holds it (`edgegw unlock ID`); it fails when none
// does, or when a target's lock has another id: only the lock a dead run left is broken, never one a live
// run took since.
func Unlock(ctx context.Context, targets []Provider, id string, progress func(Progress)) error {
	if progress == nil {
		progress = func(Progress) {}
	}
	provs := map[string]Provider{}
	var names []string
	for _, p := range targets {
		provs[p.Name()] = p
		names = append(names, p.Name())
	}
	return breakLock(context.WithoutCancel(ctx), names, provs, id, progress)
}

func newLockID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// RollbackOptions tune Rollback.
type RollbackOptions struct {
	// Version rolls back to this vendor version instead of the one before the live deploy.
	Version     string
	ForceUnlock string
	// Force rolls back where the vendor refuses it unless forced (see ForceRollbacker).
	Force    bool
	Who      string
	Now      func() time.Time
	Getenv   func(string) string
	Progress func(Progress)
	// Warn reports what the rollback went on despite, such as a deploy record that cannot be read.
	Warn func(target, msg string)
}

// RollbackPlan is what a rollback will do on one target.
type RollbackPlan struct {
	Target string
	From   string       // the version live now
	To     RestorePoint // the version to make live
	// Origin is the record that first made To live; its commit is what will be live again.
	Origin *DeployRecord
	// Made is the record that first made From live, whose restore point To is; nil with --version.
	Made *DeployRecord
	// Explicit is set when --version chose To.
	Explicit bool
}

// PlanRollback decides where a target rolls back to from its records. Without an explicit version it is
// an undo stack: the target returns to what was live before the live version was first applied, so a
// second rollback goes one deploy further back rather than undoing the first rollback.
func PlanRollback(target string, recs []DeployRecord, version string) (*RollbackPlan, error) {
	if len(recs) == 0 {
		return nil, fmt.Errorf("providers/%s: %w: the target has no deploy records (apply first)", target, ErrNothingToRollBack)
	}
	live := recs[len(recs)-1].Version
	rp := &RollbackPlan{Target: target, From: live}
	if version != "" {
		if version == live {
			return nil, fmt.Errorf("providers/%s: version %s is already live", target, version)
		}
		o := findOrigin(recs, version)
		if o == nil {
			return nil, fmt.Errorf("providers/%s: no deploy record for version %q: see `edgegw history --target %s`", target, version, target)
		}
		rp.To, rp.Origin, rp.Explicit = RestorePoint{Target: target, Version: version}, o, true
		return rp, nil
	}
	made := findOrigin(recs, live)
	if made == nil || made.Previous.Version == "" {
		return nil, fmt.Errorf("providers/%s: %w: version %s is the first deploy of this target", target, ErrNothingToRollBack, live)
	}
	rp.To, rp.Made = made.Previous, made
	rp.Origin = findOrigin(recs, rp.To.Version)
	return rp, nil
}

// rollbackSafe refuses a rollback whose target a skipped record might change: the version to leave is
// found by the first record that made it live, and a skipped record older than that one may have been it.
// A record of a deploy (kind apply) is always the first for its version, since every deploy makes a new
// version; with --version, only the commit shown for the version could be wrong, not where it goes.
func rollbackSafe(target string, recs []DeployRecord, rp *RollbackPlan, skipped *SkippedRecordsError) error {
	if skipped == nil || rp != nil && rp.Explicit {
		return nil
	}
	if rp != nil && rp.Made != nil && rp.Made.Kind == KindApply {
		return nil
	}
	live := ""
	if len(recs) > 0 {
		live = recs[len(recs)-1].Version
	}
	for _, s := range skipped.Skipped {
		if rp == nil || rp.Made == nil || s.Seq <= rp.Made.Seq {
			return fmt.Errorf("providers/%s: cannot tell which version came before version %s: %s cannot be read and may be the deploy that made it live; restore or remove that file, or pick the version with --version N (see `edgegw history`)",
				target, live, s.File)
		}
	}
	return nil
}

// Rollback returns each target to its previous deploy by the provider's native path and records it. A
// failure on one target does not undo the others: in an incident, every target that could roll back stays
// rolled back, and the error is a *PartialError when some did.
func Rollback(ctx context.Context, targets []Provider, opts RollbackOptions) (*Report, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Progress == nil {
		opts.Progress = func(Progress) {}
	}
	if opts.Warn == nil {
		opts.Warn = func(string, string) {}
	}
	if opts.Who == "" {
		opts.Who = Who(opts.Getenv)
	}
	call := context.WithoutCancel(ctx)
	provs := map[string]Provider{}
	var names []string
	for _, p := range targets {
		provs[p.Name()] = p
		names = append(names, p.Name())
		if pr, ok := p.(ProgressReporter); ok {
			pr.ReportProgress(opts.Progress)
		}
	}
	rep := &Report{NotReverted: notReverted(names)}
	// Lock first, then read what is live: an apply that finished while we waited is what we roll back
	// from, never a state read before the lock.
	unlock, err := lockTargets(call, names, provs, opts.ForceUnlock, opts.Who, "rollback", opts.Progress)
	if err != nil {
		return rep, err
	}
	defer unlock()
	var plans []*RollbackPlan
	for _, p := range targets {
		recs, err := p.History(call)
		var skipped *SkippedRecordsError
		if errors.As(err, &skipped) {
			opts.Warn(p.Name(), err.Error())
		} else if err != nil {
			return rep, fmt.Errorf("providers/%s: read deploy records: %w", p.Name(), err)
		}
		rp, err := PlanRollback(p.Name(), recs, opts.Version)
		if serr := rollbackSafe(p.Name(), recs, rp, skipped); serr != nil {
			return rep, serr
		}
		if err != nil {
			return rep, err
		}
		plans = append(plans, rp)
	}
	var errs []error
	done := 0
	for _, rp := range plans {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			rep.Targets = append(rep.Targets, TargetReport{Target: rp.Target, Status: StatusNotStarted, Version: rp.From})
			continue
		}
		rec := DeployRecord{Target: rp.Target, Kind: KindRollback, Previous: RestorePoint{Target: rp.Target, Version: rp.From},
			Who: opts.Who, Time: opts.Now().UTC(), Note: fmt.Sprintf("rollback from version %s to %s", rp.From, rp.To.Version)}
		if o := rp.Origin; o != nil {
			rec.Commit, rec.Dirty, rec.ManifestPath, rec.ManifestDigest, rec.Artifacts, rec.Gateway = o.Commit, o.Dirty, o.ManifestPath, o.ManifestDigest, o.Artifacts, o.Gateway
		}
		opts.Progress(Progress{Target: rp.Target, Step: "rollback", Status: "start", Version: rp.To.Version})
		var res *Result
		if fr, ok := provs[rp.Target].(ForceRollbacker); ok && opts.Force {
			res, err = fr.ForceRollback(call, rp.To, rec)
		} else {
			res, err = provs[rp.Target].Rollback(call, rp.To, rec)
		}
		if err != nil {
			err = fmt.Errorf("providers/%s: rollback to version %s: %w", rp.Target, rp.To.Version, err)
			errs = append(errs, err)
			opts.Progress(Progress{Target: rp.Target, Step: "rollback", Status: "failed", Error: err.Error()})
			rep.Targets = append(rep.Targets, TargetReport{Target: rp.Target, Status: StatusFailed, Version: rp.From, Error: err.Error()})
			continue
		}
		done++
		opts.Progress(Progress{Target: rp.Target, Step: "rollback", Status: "done", Version: res.Version})
		rep.Targets = append(rep.Targets, TargetReport{Target: rp.Target, Status: StatusRolledBack, Version: res.Version, Previous: rp.From, Record: res.Record})
	}
	err = errors.Join(errs...)
	if err != nil && done > 0 {
		return rep, &PartialError{Report: rep, Err: err}
	}
	return rep, err
}

// notReverted is what no rollback touches, plus what each provider declares.
func notReverted(names []string) []string {
	out := []string{"secret values (the vendor's secret store keeps the latest)", "KV and other data stores", "DNS records"}
	for _, n := range names {
		if reg, ok := Lookup(n); ok {
			for _, s := range reg.NotReverted {
				out = append(out, n+": "+s)
			}
		}
	}
	return out
}

// NotReverted returns what a rollback of the named targets leaves as it was.
func NotReverted(names []string) []string { return notReverted(names) }

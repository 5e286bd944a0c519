// Package fake is a fault-injecting in-memory provider for tests of the engine and the commands: it
// implements every optional interface, fails at a chosen step, slows calls down, and lets a test move the
// live state behind a saved plan. It is never linked into the edgegw binary.
package fake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/render"
)

// Faults choose where the provider fails. A nil error means the step succeeds.
type Faults struct {
	Plan, Stage, Validate, Activate, Verify, Rollback, Secrets error
	// Delay slows every call down, to test interrupts and concurrency.
	Delay time.Duration
}

// Provider is the fake target.
type Provider struct {
	name string
	mu   sync.Mutex
	// Faults may be changed by the test between calls.
	Faults   Faults
	live     int
	next     int
	versions map[int][]render.Artifact
	records  []providers.DeployRecord
	moves    int // bumps of the token made behind the engine's back
	lock     *providers.LockInfo
	// Calls lists every call, e.g. "stage", "activate 2", "rollback 1".
	Calls []string
	// Secrets holds what PutSecrets received.
	Secrets []providers.Secret
	// Log receives a line per call, formatted with %v like a careless provider would (secrets included).
	Log io.Writer
}

var (
	_ providers.Provider        = (*Provider)(nil)
	_ providers.Stager          = (*Provider)(nil)
	_ providers.RemoteValidator = (*Provider)(nil)
	_ providers.Verifier        = (*Provider)(nil)
	_ providers.Locker          = (*Provider)(nil)
	_ providers.SecretWriter    = (*Provider)(nil)
)

// New returns an empty fake target with the given name.
func New(name string) *Provider {
	return &Provider{name: name, versions: map[int][]render.Artifact{}, Log: io.Discard}
}

// Name implements providers.Provider.
func (p *Provider) Name() string { return p.name }

// Live returns the live version number, 0 when nothing is live.
func (p *Provider) Live() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.live
}

// LiveData returns the live artifact bytes by path.
func (p *Provider) LiveData() map[string]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]string{}
	for _, a := range p.versions[p.live] {
		out[a.Path] = string(a.Data)
	}
	return out
}

// MoveLiveState simulates another deploy made outside this process: the token moves.
func (p *Provider) MoveLiveState() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.moves++
}

func (p *Provider) call(ctx context.Context, what string) {
	p.mu.Lock()
	p.Calls = append(p.Calls, what)
	d := p.Faults.Delay
	p.mu.Unlock()
	fmt.Fprintf(p.Log, "fake/%s: %s\n", p.name, what)
	if d > 0 {
		time.Sleep(d)
	}
}

func (p *Provider) tokenLocked() string {
	return fmt.Sprintf("rec-%d/live-%d/moves-%d", len(p.records), p.live, p.moves)
}

// Plan implements providers.Provider.
func (p *Provider) Plan(ctx context.Context, in providers.PlanInput) (*providers.TargetPlan, error) {
	p.call(ctx, "plan")
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Faults.Plan != nil {
		return nil, p.Faults.Plan
	}
	// Like most vendors, the fake keeps neither the IR nor the artifacts in a form Diff can compare: it
	// reports the deploy record of the live version, and the engine compares digests.
	live := providers.LiveState{Token: p.tokenLocked()}
	if p.live > 0 {
		live.Version = strconv.Itoa(p.live)
		live.Record = &providers.DeployRecord{} // live, but no record of it: everything is a change
		for i := len(p.records) - 1; i >= 0; i-- {
			if p.records[i].Version == live.Version {
				live.Record = &p.records[i]
				break
			}
		}
	}
	return providers.Diff(p.name, "ir", live, in), nil
}

// Stage implements providers.Stager.
func (p *Provider) Stage(ctx context.Context, tp *providers.TargetPlan) (*providers.Staged, error) {
	p.call(ctx, "stage")
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Faults.Stage != nil {
		return nil, p.Faults.Stage
	}
	p.next++
	p.versions[p.next] = tp.RenderedArtifacts()
	return &providers.Staged{Target: p.name, Version: strconv.Itoa(p.next), Plan: tp}, nil
}

// ValidateStaged implements providers.RemoteValidator.
func (p *Provider) ValidateStaged(ctx context.Context, s *providers.Staged) error {
	p.call(ctx, "validate "+s.Version)
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.Faults.Validate
}

// Activate implements providers.Stager.
func (p *Provider) Activate(ctx context.Context, s *providers.Staged, rec providers.DeployRecord) (*providers.Result, error) {
	p.call(ctx, "activate "+s.Version)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Faults.Activate != nil {
		return nil, p.Faults.Activate
	}
	if s.Plan != nil && p.tokenLocked() != s.Plan.BaseToken {
		return nil, &providers.StalePlanError{Target: p.name, Reason: "token moved"}
	}
	n, _ := strconv.Atoi(s.Version)
	return p.activateLocked(n, rec), nil
}

func (p *Provider) activateLocked(n int, rec providers.DeployRecord) *providers.Result {
	p.live = n
	rec.Target, rec.Seq, rec.Version = p.name, len(p.records)+1, ""
	if n > 0 {
		rec.Version = strconv.Itoa(n)
	}
	p.records = append(p.records, rec)
	return &providers.Result{Target: p.name, Version: rec.Version, Record: rec.Seq}
}

// Apply implements providers.Provider.
func (p *Provider) Apply(ctx context.Context, tp *providers.TargetPlan, rec providers.DeployRecord) (*providers.Result, error) {
	s, err := p.Stage(ctx, tp)
	if err != nil {
		return nil, err
	}
	return p.Activate(ctx, s, rec)
}

// Verify implements providers.Verifier.
func (p *Provider) Verify(ctx context.Context, r *providers.Result) error {
	p.call(ctx, "verify "+r.Version)
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.Faults.Verify
}

// Rollback implements providers.Provider.
func (p *Provider) Rollback(ctx context.Context, rp providers.RestorePoint, rec providers.DeployRecord) (*providers.Result, error) {
	p.call(ctx, "rollback "+rp.Version)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Faults.Rollback != nil {
		return nil, p.Faults.Rollback
	}
	n := 0
	if rp.Version != "" {
		n, _ = strconv.Atoi(rp.Version)
		if _, ok := p.versions[n]; !ok {
			return nil, fmt.Errorf("fake/%s: no version %d", p.name, n)
		}
	}
	return p.activateLocked(n, rec), nil
}

// History implements providers.Provider.
func (p *Provider) History(ctx context.Context) ([]providers.DeployRecord, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]providers.DeployRecord(nil), p.records...), nil
}

// Lock implements providers.Locker.
func (p *Provider) Lock(ctx context.Context, info providers.LockInfo) (func() error, error) {
	p.call(ctx, "lock")
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lock != nil {
		return nil, &providers.LockedError{Target: p.name, Holder: *p.lock}
	}
	p.lock = &info
	return func() error {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.lock != nil && p.lock.ID == info.ID {
			p.lock = nil
		}
		return nil
	}, nil
}

// ForceUnlock implements providers.Locker.
func (p *Provider) ForceUnlock(ctx context.Context, id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lock == nil {
		return providers.ErrNoLock
	}
	if p.lock.ID != id {
		return errors.New("fake: lock id mismatch")
	}
	p.lock = nil
	return nil
}

// Locked returns the lock held, if any.
func (p *Provider) Locked() *providers.LockInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lock
}

// PutSecrets implements providers.SecretWriter. It logs the secrets with %v, as a careless provider
// would: the Sensitive type must keep the values out of the log.
func (p *Provider) PutSecrets(ctx context.Context, secrets []providers.Secret) error {
	p.call(ctx, "secrets")
	fmt.Fprintf(p.Log, "fake/%s: put secrets %v\n", p.name, secrets)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Faults.Secrets != nil {
		return p.Faults.Secrets
	}
	p.Secrets = append(p.Secrets, secrets...)
	return nil
}

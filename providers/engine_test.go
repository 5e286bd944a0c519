package providers_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/providers/fake"
	"github.com/edgegw/edgegw/render/irjson"
)

// gateway builds a small IR with the given route names (all prefix routes on one pool).
func gateway(routes ...string) *ir.Gateway {
	g := &ir.Gateway{SchemaVersion: 1, Name: "test",
		Domains: []ir.Domain{{Host: "api.example.com", Zone: "example.com", Pos: ir.Pos{File: "edgegw.yaml", Line: 3, Col: 5}}},
		Origins: []ir.Origin{{Name: "app", URL: "http://127.0.0.1:9000"}},
		Pools:   []ir.Pool{{Name: "app", Origins: []string{"app"}}},
	}
	for i, r := range routes {
		g.Routes = append(g.Routes, ir.Route{Name: r, Index: i, Match: ir.Match{Kind: ir.PathPrefix, Path: "/" + r}, Pool: "app",
			Pos: ir.Pos{File: "edgegw.yaml", Line: 10 + i, Col: 5}})
	}
	return g
}

func plan(t *testing.T, g *ir.Gateway, fakes ...*fake.Provider) *providers.Plan {
	t.Helper()
	var p providers.Plan
	p.FormatVersion = providers.PlanFormatVersion
	arts, err := irjson.Renderer{}.Render(g)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fakes {
		tp, err := f.Plan(context.Background(), providers.PlanInput{Gateway: g, Artifacts: arts})
		if err != nil {
			t.Fatal(err)
		}
		p.Targets = append(p.Targets, tp)
	}
	return &p
}

func provs(fakes ...*fake.Provider) map[string]providers.Provider {
	m := map[string]providers.Provider{}
	for _, f := range fakes {
		m[f.Name()] = f
	}
	return m
}

func apply(t *testing.T, g *ir.Gateway, opts providers.ApplyOptions, fakes ...*fake.Provider) (*providers.Report, error) {
	t.Helper()
	opts.Gateway = g
	opts.Getenv = func(string) string { return "" }
	return providers.Apply(context.Background(), plan(t, g, fakes...), provs(fakes...), opts)
}

func TestApplyPartialFailureRestoresActivatedTargets(t *testing.T) {
	a, b := fake.New("a"), fake.New("b")
	if _, err := apply(t, gateway("v1"), providers.ApplyOptions{}, a, b); err != nil {
		t.Fatal(err)
	}
	b.Faults.Verify = errors.New("edge answers 502")
	rep, err := apply(t, gateway("v1", "v2"), providers.ApplyOptions{}, a, b)
	var partial *providers.PartialError
	if !errors.As(err, &partial) {
		t.Fatalf("want a PartialError, got %v", err)
	}
	if a.Live() != 1 || b.Live() != 1 {
		t.Errorf("after the failure a=%d b=%d are live, want both back on version 1", a.Live(), b.Live())
	}
	got := map[string]string{}
	for _, tr := range rep.Targets {
		got[tr.Target] = tr.Status
	}
	if got["a"] != providers.StatusRestored || got["b"] != providers.StatusRestored {
		t.Errorf("statuses = %v, want both restored", got)
	}
	if !strings.Contains(err.Error(), "edge answers 502") {
		t.Errorf("error %q does not say why", err)
	}
	h, _ := a.History(context.Background())
	if last := h[len(h)-1]; last.Kind != providers.KindRestore || last.Version != "1" {
		t.Errorf("last record of a = %+v, want a restore record of version 1", last)
	}
}

func TestApplyStageFailureActivatesNothing(t *testing.T) {
	a, b := fake.New("a"), fake.New("b")
	b.Faults.Stage = errors.New("upload refused")
	_, err := apply(t, gateway("v1"), providers.ApplyOptions{}, a, b)
	var partial *providers.PartialError
	if err == nil || errors.As(err, &partial) {
		t.Fatalf("want a plain failure (nothing activated), got %v", err)
	}
	if a.Live() != 0 {
		t.Errorf("a was activated although b failed to stage")
	}
}

func TestApplyRestoreFailureIsReported(t *testing.T) {
	a, b := fake.New("a"), fake.New("b")
	if _, err := apply(t, gateway("v1"), providers.ApplyOptions{}, a, b); err != nil {
		t.Fatal(err)
	}
	b.Faults.Activate = errors.New("503 from the API")
	a.Faults.Rollback = errors.New("timeout")
	rep, err := apply(t, gateway("v1", "v2"), providers.ApplyOptions{}, a, b)
	if err == nil {
		t.Fatal("apply succeeded")
	}
	if rep.Targets[0].Status != providers.StatusRestoreFailed || !strings.Contains(rep.Targets[0].Error, "check the target by hand") {
		t.Errorf("a = %+v, want restore_failed telling the user to check", rep.Targets[0])
	}
}

func TestStalePlanRefused(t *testing.T) {
	a := fake.New("a")
	g := gateway("v1")
	p := plan(t, g, a)
	a.MoveLiveState()
	_, err := providers.Apply(context.Background(), p, provs(a), providers.ApplyOptions{Gateway: g})
	var stale *providers.StalePlanError
	if !errors.As(err, &stale) {
		t.Fatalf("want StalePlanError, got %v", err)
	}
	if a.Live() != 0 {
		t.Error("a stale plan was applied")
	}
}

func TestApplyTwiceSecondIsNoop(t *testing.T) {
	a := fake.New("a")
	g := gateway("v1")
	if _, err := apply(t, g, providers.ApplyOptions{}, a); err != nil {
		t.Fatal(err)
	}
	calls := len(a.Calls)
	rep, err := apply(t, g, providers.ApplyOptions{}, a)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Targets[0].Status != providers.StatusUnchanged {
		t.Errorf("second apply status = %s", rep.Targets[0].Status)
	}
	if extra := a.Calls[calls:]; len(extra) != 1 || extra[0] != "plan" {
		t.Errorf("second apply made calls %v, want only the plan read", extra)
	}
	if h, _ := a.History(context.Background()); len(h) != 1 {
		t.Errorf("%d records, want 1", len(h))
	}
}

func TestConcurrentApplyOneRefused(t *testing.T) {
	a := fake.New("a")
	a.Faults.Delay = 50 * time.Millisecond
	g1, g2 := gateway("v1"), gateway("v2")
	p1, p2 := plan(t, g1, a), plan(t, g2, a)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, pg := range []struct {
		p *providers.Plan
		g *ir.Gateway
	}{{p1, g1}, {p2, g2}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = providers.Apply(context.Background(), pg.p, provs(a), providers.ApplyOptions{Gateway: pg.g, Who: fmt.Sprintf("runner-%d", i)})
		}()
	}
	wg.Wait()
	var locked *providers.LockedError
	var stale *providers.StalePlanError
	n := 0
	for _, err := range errs {
		switch {
		case err == nil:
			n++
		case errors.As(err, &locked):
			if !strings.Contains(err.Error(), "--force-unlock "+locked.Holder.ID) || !strings.Contains(err.Error(), "runner-") {
				t.Errorf("lock error %q does not name the holder and how to break it", err)
			}
		case errors.As(err, &stale):
			// the loser started after the winner released the lock: the token moved
		default:
			t.Errorf("unexpected error %v", err)
		}
	}
	if n != 1 {
		t.Fatalf("%d applies succeeded (%v), want exactly 1", n, errs)
	}
}

func TestForceUnlock(t *testing.T) {
	a := fake.New("a")
	unlock, err := a.Lock(context.Background(), providers.LockInfo{ID: "dead1234", Who: "ci@runner-7", Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	_ = unlock
	g := gateway("v1")
	_, err = apply(t, g, providers.ApplyOptions{}, a)
	var locked *providers.LockedError
	if !errors.As(err, &locked) || locked.Holder.Who != "ci@runner-7" {
		t.Fatalf("want LockedError naming ci@runner-7, got %v", err)
	}
	if _, err := apply(t, g, providers.ApplyOptions{ForceUnlock: "wrong"}, a); err == nil {
		t.Fatal("--force-unlock with a wrong id broke the lock")
	}
	if _, err := apply(t, g, providers.ApplyOptions{ForceUnlock: "dead1234"}, a); err != nil {
		t.Fatalf("--force-unlock with the holder's id: %v", err)
	}
	if a.Live() != 1 || a.Locked() != nil {
		t.Errorf("live=%d lock=%v after the forced apply", a.Live(), a.Locked())
	}
}

// The guards work through a provider that keeps no IR and gives no artifacts back (the fake, like most
// vendors): the engine compares the live deploy record's gateway summary with the manifest.
func TestThresholds(t *testing.T) {
	a := fake.New("a")
	g := gateway("r1", "r2", "r3", "r4")
	if _, err := apply(t, g, providers.ApplyOptions{}, a); err != nil {
		t.Fatal(err)
	}
	p := plan(t, gateway("r1"), a)
	if p.Targets[0].LiveRoutes != 4 {
		t.Fatalf("live routes from the record = %d, want 4", p.Targets[0].LiveRoutes)
	}
	if _, _, del := p.Targets[0].Count("route"); del != 3 {
		t.Fatalf("plan deletes %d routes, want 3: %+v", del, p.Targets[0].Changes)
	}
	_, err := providers.Apply(context.Background(), p, provs(a), providers.ApplyOptions{Gateway: gateway("r1")})
	var th *providers.ThresholdError
	if !errors.As(err, &th) || !strings.Contains(err.Error(), "deletes 3 of 4 live routes") {
		t.Fatalf("want a threshold error on deleting 3 of 4 routes, got %v", err)
	}
	if _, err := providers.Apply(context.Background(), p, provs(a), providers.ApplyOptions{Gateway: gateway("r1"), Force: true}); err != nil {
		t.Fatalf("with Force: %v", err)
	}
	// Deleting 1 of 4 is under the threshold.
	if _, err := apply(t, g, providers.ApplyOptions{Force: true}, a); err != nil {
		t.Fatal(err)
	}
	if _, err := apply(t, gateway("r1", "r2", "r3"), providers.ApplyOptions{}, a); err != nil {
		t.Fatalf("deleting 1 of 4 live routes: %v", err)
	}
	// The same gateway again is no change, decided from the record's digests alone.
	if p := plan(t, gateway("r1", "r2", "r3"), a); p.HasChanges() {
		t.Fatalf("unchanged gateway planned as a change: %+v", p.Targets[0].Changes)
	}
}

func TestApexChangeNeedsForce(t *testing.T) {
	a := fake.New("a")
	old := gateway("r1")
	old.Domains = append(old.Domains, ir.Domain{Host: "example.com", Zone: "example.com", Apex: true, Pos: ir.Pos{File: "edgegw.yaml", Line: 4, Col: 5}})
	if _, err := apply(t, old, providers.ApplyOptions{}, a); err != nil {
		t.Fatal(err)
	}
	_, err := apply(t, gateway("r1"), providers.ApplyOptions{}, a)
	if err == nil || !strings.Contains(err.Error(), "delete apex domain example.com") {
		t.Fatalf("removing a live apex through a provider that keeps no IR: %v", err)
	}
	if _, err := apply(t, gateway("r1"), providers.ApplyOptions{Force: true}, a); err != nil {
		t.Fatalf("with Force: %v", err)
	}
}

func TestRollbackAfterRollback(t *testing.T) {
	a := fake.New("a")
	for _, g := range []*ir.Gateway{gateway("v1"), gateway("v2"), gateway("v3")} {
		// Each version replaces the one route: that is a deletion of every live route, so Force.
		if _, err := apply(t, g, providers.ApplyOptions{Force: true}, a); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []int{2, 1} {
		rep, err := providers.Rollback(context.Background(), []providers.Provider{a}, providers.RollbackOptions{Getenv: func(string) string { return "" }})
		if err != nil {
			t.Fatal(err)
		}
		if a.Live() != want {
			t.Fatalf("live = %d after rollback, want %d", a.Live(), want)
		}
		if len(rep.NotReverted) == 0 {
			t.Error("rollback does not say what it did not revert")
		}
	}
	_, err := providers.Rollback(context.Background(), []providers.Provider{a}, providers.RollbackOptions{})
	if !errors.Is(err, providers.ErrNothingToRollBack) {
		t.Fatalf("third rollback from the first deploy: %v", err)
	}
	if _, err := providers.Rollback(context.Background(), []providers.Provider{a}, providers.RollbackOptions{Version: "3"}); err != nil || a.Live() != 3 {
		t.Fatalf("rollback --version 3: live=%d err=%v", a.Live(), err)
	}
}

func TestSecretsNeverLeave(t *testing.T) {
	const canary = "canary-7f3a9c1e-secret-0123456789abcdef"
	var log bytes.Buffer
	a := fake.New("a")
	a.Log = &log
	g := gateway("v1")
	g.AuthPolicies = []ir.AuthPolicy{{Name: "bearer", JWT: &ir.JWT{Algorithms: []string{"HS256"}, Secret: &ir.Value{Env: "JWT_SECRET_KEY"}}}}
	p := plan(t, g, a)
	getenv := func(k string) string {
		if k == "JWT_SECRET_KEY" {
			return canary
		}
		return ""
	}
	if _, err := providers.Apply(context.Background(), p, provs(a), providers.ApplyOptions{Gateway: g, Getenv: getenv}); err != nil {
		t.Fatal(err)
	}
	if len(a.Secrets) != 1 || a.Secrets[0].Value.Reveal() != canary {
		t.Fatalf("the provider did not receive the secret: %v", a.Secrets)
	}
	b, _ := p.Marshal()
	for what, s := range map[string]string{"log": log.String(), "plan": string(b),
		"%#v": fmt.Sprintf("%#v %+v %q %x", a.Secrets[0], a.Secrets[0].Value, a.Secrets[0].Value, a.Secrets[0].Value)} {
		if strings.Contains(s, canary) {
			t.Errorf("the secret value is in the %s", what)
		}
	}
	if !strings.Contains(log.String(), "(sensitive)") {
		t.Errorf("log %q does not show the redaction", log.String())
	}
	_, err := providers.Apply(context.Background(), plan(t, gateway("v2"), a), provs(a), providers.ApplyOptions{Gateway: g, Force: true})
	if err == nil || !strings.Contains(err.Error(), "export JWT_SECRET_KEY") {
		t.Errorf("missing secret: %v", err)
	}
}

// lockHook runs onLock when the engine takes its lock: an apply that finished while the rollback waited.
type lockHook struct {
	*fake.Provider
	onLock func()
}

func (l lockHook) Lock(context.Context, providers.LockInfo) (func() error, error) {
	l.onLock()
	return func() error { return nil }, nil
}

func (l lockHook) ForceUnlock(context.Context, string) error { return providers.ErrNoLock }

func TestRollbackReadsLiveStateUnderTheLock(t *testing.T) {
	a := fake.New("a")
	for _, g := range []*ir.Gateway{gateway("v1"), gateway("v2")} {
		if _, err := apply(t, g, providers.ApplyOptions{Force: true}, a); err != nil {
			t.Fatal(err)
		}
	}
	hooked := lockHook{Provider: a, onLock: func() {
		if _, err := apply(t, gateway("v3"), providers.ApplyOptions{Force: true}, a); err != nil {
			t.Fatal(err)
		}
	}}
	rep, err := providers.Rollback(context.Background(), []providers.Provider{hooked}, providers.RollbackOptions{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	// Version 3 went live while the rollback waited for the lock: it is what is rolled back, to 2.
	if a.Live() != 2 || rep.Targets[0].Previous != "3" {
		t.Fatalf("live = %d, rolled back from %q; want 2 from \"3\" (the state read under the lock)", a.Live(), rep.Targets[0].Previous)
	}
}

package providers_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/providers/fake"
)

// An interrupt (SIGINT cancels the command's context) after the first target was activated: the engine
// finishes the call in flight, activates nothing more, and restores what it had switched.
func TestInterruptRestoresActivatedTargets(t *testing.T) {
	a, b := fake.New("a"), fake.New("b")
	if _, err := apply(t, gateway("v1"), providers.ApplyOptions{}, a, b); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g := gateway("v1", "v2")
	opts := providers.ApplyOptions{Gateway: g, Getenv: func(string) string { return "" }, Progress: func(p providers.Progress) {
		if p.Target == "a" && p.Step == "activate" && p.Status == "done" {
			cancel() // the user presses Ctrl-C while a is being switched
		}
	}}
	_, err := providers.Apply(ctx, plan(t, g, a, b), provs(a, b), opts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want the interrupt in the error chain, got %v", err)
	}
	if a.Live() != 1 || b.Live() != 1 {
		t.Errorf("after the interrupt a=%d b=%d are live, want both on version 1", a.Live(), b.Live())
	}
	for _, c := range b.Calls {
		if c == "activate 2" {
			t.Errorf("b was activated after the interrupt: %v", b.Calls)
		}
	}
	if !slices.Contains(a.Calls, "activate 2") {
		t.Errorf("a was never switched, so the test proves nothing: %v", a.Calls)
	}
}

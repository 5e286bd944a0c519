// Package testrun runs test cases (a manifest's own `tests:` or the conformance corpus) against a target and
// reports each difference. It owns the loop: it builds every request, signs test tokens, keeps each case's
// clock, scripts the origins (one loopback recording server per origin per case), observes at the origins
// what reached them, compares with the case's expectations and, for a target other than the reference,
// with what the reference gateway decided for the same requests.
//
// A target provides an Engine (instance.go) and registers it from its own package's init with
// RegisterEngine; this package registers the reference gateway as the `local` target.
//
// It never reads a manifest (it gets the IR), never prints, and does not know the providers' capability
// tables: the caller passes what a target cannot enforce (Options.Cannot).
package testrun

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Env is what a run may read from the outside world.
type Env struct {
	// Getenv resolves {env: NAME} references (HS secrets).
	Getenv func(string) string
	// Now is the start of each case's clock.
	Now func() time.Time
}

// ErrRuntimeMissing is what an Engine's Open wraps when its runtime (node, workerd, falco) is not installed:
// the suite fails such a target under CI and skips it with the message otherwise.
var ErrRuntimeMissing = errors.New("runtime missing")

var (
	mu      sync.Mutex
	engines = map[string]Engine{}
)

// RegisterEngine adds the engine of a target; call it from the target package's init.
func RegisterEngine(target string, e Engine) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := engines[target]; dup {
		panic("testrun: engine for " + target + " registered twice")
	}
	engines[target] = e
}

// Engines lists the targets with an engine, sorted.
func Engines() []string {
	mu.Lock()
	defer mu.Unlock()
	out := make([]string, 0, len(engines))
	for t := range engines {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// LookupEngine returns the engine of a target.
func LookupEngine(target string) (Engine, bool) {
	mu.Lock()
	defer mu.Unlock()
	e, ok := engines[target]
	return e, ok
}

// Resolve turns a --target value into engines: "all" is every registered engine; an unknown name or a
// target without an engine in this build is an error that lists the choices.
func Resolve(target string) ([]string, []Engine, error) {
	reg := Engines()
	if target == "all" {
		var es []Engine
		for _, t := range reg {
			e, _ := LookupEngine(t)
			es = append(es, e)
		}
		return reg, es, nil
	}
	e, ok := LookupEngine(target)
	if !ok {
		return nil, nil, fmt.Errorf("target %s has no test engine in this edgegw (with an engine: %s, or all)", target, strings.Join(reg, ", "))
	}
	return []string{target}, []Engine{e}, nil
}

// Result is the outcome of one case on one target.
type Result struct {
	Target string `json:"target"`
	// Index is the case's place in its manifest's tests (tests[Index]); Pos where it was written.
	Index    int      `json:"index"`
	Name     string   `json:"name"`
	Pos      string   `json:"pos,omitempty"`
	Features []string `json:"features,omitempty"`
	Pass     bool     `json:"pass"`
	// Skipped, when set, says why the case did not run (a feature the target declares it cannot enforce, a
	// constraint of it the manifest breaks, or a case the runtime cannot execute: Unexecutable);
	// Pass is false and the case is not a failure.
	Skipped string `json:"skipped,omitempty"`
	// Unexecutable marks a skip because the target's test runtime cannot execute the case (the engine's
	// Unexecutable), not because the target declares it cannot enforce a feature.
	Unexecutable bool `json:"unexecutable,omitempty"`
	// Diffs are the expectations that did not hold and, on a target other than the reference, the
	// decisions that differ from the reference's.
	Diffs []Diff `json:"diffs,omitempty"`
	// Notes say how the case ran when that matters to the reader (e.g. which key signed its token).
	Notes []string `json:"notes,omitempty"`
	// Error is set when the case could not run (Pass is false).
	Error string `json:"error,omitempty"`
	// Observed is what happened at the last request of the case, for the report.
	Observed *Observed `json:"observed,omitempty"`
	// RuntimeMissing is set when Error comes from an engine whose runtime is not installed.
	RuntimeMissing bool `json:"runtime_missing,omitempty"`
}

// Failed says whether the result counts as a failure (a skipped case does not).
func (r Result) Failed() bool { return !r.Pass && r.Skipped == "" }

// Where names the case for a difference line: tests[4] "expired token", edgegw.yaml:88:5.
func (r Result) Where() string {
	s := fmt.Sprintf("tests[%d] %q", r.Index, r.Name)
	if r.Pos != "" {
		s += ", " + r.Pos
	}
	return s
}

// Lines renders every difference as one line; a difference from the reference reads
// `cloudflare: 403, reference: 401 (tests[4] "expired token", edgegw.yaml:88:5)`.
func (r Result) Lines() []string {
	var out []string
	for _, d := range r.Diffs {
		if d.Reference {
			out = append(out, fmt.Sprintf("%s%s: %s: %s, reference: %s (%s)", d.stepPrefix(), d.Field, r.Target, d.Got, d.Want, r.Where()))
		} else {
			out = append(out, d.String())
		}
	}
	return out
}

// Diff is one expectation that did not hold, or (Reference) one decision that differs from the reference's,
// whose value is then Want.
type Diff struct {
	// Step names the request in a sequence ("steps[2]", "steps[2] #5"); empty for a one-request case.
	Step      string `json:"step,omitempty"`
	Field     string `json:"field"`
	Want      string `json:"want"`
	Got       string `json:"got"`
	Reference bool   `json:"reference,omitempty"`
}

func (d Diff) stepPrefix() string {
	if d.Step == "" {
		return ""
	}
	return d.Step + " "
}

func (d Diff) String() string {
	if d.Reference {
		return fmt.Sprintf("%s%s: got %s, reference: %s", d.stepPrefix(), d.Field, d.Got, d.Want)
	}
	return fmt.Sprintf("%s%s: want %s, got %s", d.stepPrefix(), d.Field, d.Want, d.Got)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

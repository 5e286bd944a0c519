// Package testrun runs a manifest's `tests:` cases against a target and reports each decision difference.
// It owns the case semantics (signing test tokens, comparing expectations) and a registry of runners, one per
// target: this package ships the runner of the `local` target, whose runtime is the reference gateway; a target
// package registers the runner
// that executes ITS rendered artifact against the same cases, from its init, with Register.
//
// It never reads a manifest (it gets the IR) and never prints: commands turn Results into views.
package testrun

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/edgegw/edgegw/manifest/ir"
)

// Env is what a run may read from the outside world.
type Env struct {
	// Getenv resolves {env: NAME} references (HS secrets).
	Getenv func(string) string
	// Now is the time tokens are issued at and the gateway's clock.
	Now func() time.Time
}

// Runner executes cases against one target.
type Runner interface {
	// Run executes every case in g.Tests (or the ones in only, by index) and returns one Result per case,
	// in order. An error means the target could not run at all (a runtime missing), not a failed case.
	Run(ctx context.Context, g *ir.Gateway, cases []ir.TestCase, env Env) ([]Result, error)
}

var (
	mu      sync.Mutex
	runners = map[string]Runner{}
)

// Register adds the runner of a target; call it from the target package's init.
func Register(target string, r Runner) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := runners[target]; dup {
		panic("testrun: runner for " + target + " registered twice")
	}
	runners[target] = r
}

// Registered lists the targets with a runner, sorted.
func Registered() []string {
	mu.Lock()
	defer mu.Unlock()
	out := make([]string, 0, len(runners))
	for t := range runners {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// Resolve turns a --target value into runners: "all" is every registered runner; an unknown name or a target
// without a runner in this build is an error that lists the choices.
func Resolve(target string) ([]string, []Runner, error) {
	reg := Registered()
	if target == "all" {
		var rs []Runner
		for _, t := range reg {
			rs = append(rs, lookup(t))
		}
		return reg, rs, nil
	}
	r := lookup(target)
	if r == nil {
		return nil, nil, fmt.Errorf("target %s has no test runner in this edgegw (with a runner: %s, or all)", target, strings.Join(reg, ", "))
	}
	return []string{target}, []Runner{r}, nil
}

func lookup(t string) Runner {
	mu.Lock()
	defer mu.Unlock()
	return runners[t]
}

// Result is the outcome of one case on one target.
type Result struct {
	Target string `json:"target"`
	Name   string `json:"name"`
	Pos    string `json:"pos,omitempty"`
	Pass   bool   `json:"pass"`
	// Diffs are the expectations that did not hold.
	Diffs []Diff `json:"diffs,omitempty"`
	// Notes say how the case ran when that matters to the reader (e.g. which key signed its token).
	Notes []string `json:"notes,omitempty"`
	// Error is set when the case could not run (Pass is false).
	Error string `json:"error,omitempty"`
	// Observed is what happened, for the report.
	Observed *Observed `json:"observed,omitempty"`
}

// Diff is one expectation that did not hold.
type Diff struct {
	Field string `json:"field"`
	Want  string `json:"want"`
	Got   string `json:"got"`
}

func (d Diff) String() string { return fmt.Sprintf("%s: want %s, got %s", d.Field, d.Want, d.Got) }

// Observed is what a target did with a case's request. Runners fill what they can see; Decided says whether
// Route, Pool and Origin are known (an artifact running in a vendor runtime may not report them).
type Observed struct {
	Status         int               `json:"status"`
	Header         map[string]string `json:"-"`
	Body           string            `json:"-"`
	Decided        bool              `json:"-"`
	Route          string            `json:"route,omitempty"`
	Pool           string            `json:"pool,omitempty"`
	Origin         string            `json:"origin,omitempty"`
	Reason         string            `json:"reason,omitempty"`
	UpstreamPath   string            `json:"upstream_path,omitempty"`
	UpstreamHeader map[string]string `json:"-"` // nil when no request reached an origin
}

// Compare checks an expectation against what was observed; every runner uses it, so targets are judged alike.
func Compare(e ir.TestExpect, o *Observed) (diffs []Diff, notes []string) {
	add := func(field, want, got string) { diffs = append(diffs, Diff{Field: field, Want: want, Got: got}) }
	orNone := func(s string) string {
		if s == "" {
			return "(none)"
		}
		return s
	}
	if e.Status != 0 && e.Status != o.Status {
		add("status", fmt.Sprint(e.Status), fmt.Sprint(o.Status))
	}
	decision := []struct{ field, want, got string }{
		{"route", e.Route, o.Route}, {"pool", e.Pool, o.Pool}, {"origin", e.Origin, o.Origin},
	}
	for _, f := range decision {
		if f.want == "" {
			continue
		}
		if !o.Decided {
			notes = append(notes, f.field+" not observable on this target; not checked")
			continue
		}
		if f.want != f.got {
			add(f.field, f.want, orNone(f.got))
		}
	}
	if e.UpstreamPath != "" && e.UpstreamPath != o.UpstreamPath {
		add("upstream_path", e.UpstreamPath, orNone(o.UpstreamPath))
	}
	if e.Upstream != nil {
		if o.UpstreamHeader == nil {
			add("upstream_headers", "a request upstream", "none reached an origin")
		} else {
			diffs = append(diffs, compareHeaders("upstream header", *e.Upstream, o.UpstreamHeader)...)
		}
	}
	if e.Response != nil {
		diffs = append(diffs, compareHeaders("header", *e.Response, o.Header)...)
	}
	if e.Body != nil && *e.Body != o.Body {
		add("body", fmt.Sprintf("%q", *e.Body), fmt.Sprintf("%q", truncate(o.Body, 200)))
	}
	return diffs, notes
}

func compareHeaders(what string, e ir.HeaderExpect, got map[string]string) []Diff {
	var diffs []Diff
	get := func(name string) (string, bool) {
		for k, v := range got {
			if strings.EqualFold(k, name) {
				return v, true
			}
		}
		return "", false
	}
	for _, name := range e.Present {
		if _, ok := get(name); !ok {
			diffs = append(diffs, Diff{Field: what + " " + name, Want: "present", Got: "absent"})
		}
	}
	for _, name := range e.Absent {
		if v, ok := get(name); ok {
			diffs = append(diffs, Diff{Field: what + " " + name, Want: "absent", Got: fmt.Sprintf("%q", v)})
		}
	}
	for _, h := range e.Equal {
		v, ok := get(h.Name)
		if !ok {
			diffs = append(diffs, Diff{Field: what + " " + h.Name, Want: fmt.Sprintf("%q", h.Value), Got: "absent"})
		} else if v != h.Value {
			diffs = append(diffs, Diff{Field: what + " " + h.Name, Want: fmt.Sprintf("%q", h.Value), Got: fmt.Sprintf("%q", v)})
		}
	}
	sort.SliceStable(diffs, func(i, j int) bool { return diffs[i].Field < diffs[j].Field })
	return diffs
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

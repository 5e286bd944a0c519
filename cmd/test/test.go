// Package test implements `edgegw test`: the manifest's own `tests:` cases, or the conformance corpus
// (--suite conformance), run on a target's engine and, for a target other than the reference, compared
// with the reference gateway's decision for the same requests.
package test

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/cmd/root"
	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/gateway/testrun/conformance"
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
)

// TestOptions are the inputs of `edgegw test`.
type TestOptions struct {
	IO           *cmdutil.IOStreams
	ManifestPath string
	Format       string
	Color        bool
	Target       string
	Run          string // regexp on case names
	Suite        string // "" (the manifest's tests) or "conformance"
	Vectors      string // the directory of the shared test vectors (Wycheproof)
	Getenv       func(string) string
	Now          func() time.Time
	Context      context.Context
	JSON         *cmdutil.JSONStream // --format json: the stream every line and the summary go to
}

func init() {
	root.AddCommand(func(f *cmdutil.Factory) *cobra.Command { return NewCmdTest(f, nil) })
}

// NewCmdTest builds the command; runF replaces the behaviour in tests.
func NewCmdTest(f *cmdutil.Factory, runF func(*TestOptions) error) *cobra.Command {
	opts := &TestOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "test",
		Short: "Run the manifest's tests, or the conformance suite, on a target",
		Long: `Run every case under the manifest's tests: and report, per case, pass or fail and what differed.

Every origin is a loopback server that answers as the case scripts it (origins:) and records what it
received, so which origin got a request, with which path and headers, is observed outside the target. A
case is one request or a sequence of steps sharing rate-limit and breaker state and a clock (at: 61s).

A case may ask for a signed token (jwt: {sub: alice, exp: +1h}). It is signed with the manifest's own HS
secret when the environment holds it; otherwise with a key generated for this run, which the target gets
the way it gets real keys (a JWKS or key file, a secret). A case that signs nothing and sends its own
Authorization header is verified against the manifest's real keys.

On a target other than local, every case also runs on the reference gateway and the target must decide
exactly as it does. A case whose features: the target declares it cannot enforce is skipped with the reason,
as is one whose manifest breaks a limit of a feature the target supports within limits (validate --target
refuses such a manifest at the line that breaks it, which the suite checks), and one the target's test
runtime cannot execute (counted apart: "skipped: runtime cannot execute").

--suite conformance runs the built-in corpus instead of the manifest's tests and prints a summary by feature.

Exit status is 0 only when no case fails on any target run.`,
		Example: `  edgegw test -f edgegw.yaml
  edgegw test --suite conformance --target local
  edgegw test --target all --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ManifestPath, opts.Format, opts.Color = f.ManifestPath, f.Format, f.Color()
			opts.Getenv, opts.Now, opts.Context, opts.JSON = f.Getenv, f.Now, cmd.Context(), f.JSONStream(cmd.Name())
			if runF != nil {
				return runF(opts)
			}
			return Run(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Target, "target", testrun.RefTarget, "the target whose engine runs the cases (local: the reference gateway), or all")
	cmd.Flags().StringVar(&opts.Run, "run", "", "run only the cases whose name matches this regular expression")
	cmd.Flags().StringVar(&opts.Suite, "suite", "", "run a built-in suite instead of the manifest's tests: conformance")
	cmd.Flags().StringVar(&opts.Vectors, "vectors", conformance.DefaultVectors, "directory of the shared test vectors the conformance suite reads (Wycheproof)")
	return cmd
}

// Run loads the cases, runs them on every selected target and prints the results.
func Run(o *TestOptions) error {
	if o.Target != "all" {
		if err := providers.CheckTargetName(o.Target, false); err != nil {
			return err
		}
	}
	targets, engines, err := testrun.Resolve(o.Target)
	if err != nil {
		return err
	}
	var filter *regexp.Regexp
	if o.Run != "" {
		if filter, err = regexp.Compile(o.Run); err != nil {
			return fmt.Errorf("test: --run: %w", err)
		}
	}
	var suite []conformance.Manifest
	switch o.Suite {
	case "":
		g, diags := manifest.Load(o.ManifestPath)
		if g == nil || diags.HasErrors() {
			cmdutil.PrintDiagnostics(o.IO, o.Format, o.Color, diags)
			return &cmdutil.SilentError{Code: cmdutil.ExitError, Err: fmt.Errorf("test: %s is invalid", o.ManifestPath)}
		}
		suite = []conformance.Manifest{{File: o.ManifestPath, Gateway: g}}
	case "conformance":
		var notes []string
		suite, notes, err = conformance.Load(conformance.LoadOptions{Vectors: o.Vectors, RequireVectors: o.Getenv("CI") != ""})
		if err != nil {
			return fmt.Errorf("test: %w", err)
		}
		for _, n := range notes {
			fmt.Fprintln(o.IO.ErrOut, "note: "+n)
		}
	default:
		return fmt.Errorf("test: --suite %q: the one built-in suite is conformance", o.Suite)
	}
	total := 0
	for i := range suite {
		var cases []ir.TestCase
		for _, tc := range suite[i].Gateway.Tests {
			if filter == nil || filter.MatchString(tc.Name) {
				cases = append(cases, tc)
			}
		}
		suite[i].Cases, total = cases, total+len(cases)
	}
	if total == 0 {
		return fmt.Errorf("test: %s has no tests to run (add a tests: section, or check --run)", o.ManifestPath)
	}
	ctx := o.Context
	if ctx == nil {
		ctx = context.Background()
	}
	env := testrun.Env{Getenv: o.Getenv, Now: o.Now}
	if env.Now == nil {
		env.Now = time.Now
	}
	v := newView(o)
	for i, e := range engines {
		opts := testrun.Options{Target: targets[i], Engine: e, Keys: &testrun.KeyCache{}}
		if targets[i] != testrun.RefTarget {
			opts.Reference = testrun.RefEngine{}
		}
		for _, m := range suite {
			findings := capabilityFindings(targets[i], m.Gateway) // once per manifest and target
			opts.Cannot = cannotWith(targets[i], findings)
			opts.Env = testrun.Env{Getenv: m.Getenv(env.Getenv), Now: env.Now}
			for _, r := range testrun.Run(ctx, m.Gateway, m.Cases, opts) {
				v.result(r, m.Gateway)
			}
			if o.Suite != "" {
				for _, c := range checkRefusals(m.Gateway, m.Cases, targets[i], findings) {
					v.refusal(c)
				}
			}
		}
	}
	return v.finish(targets, o.Suite != "")
}

// Cannot returns the capability check of a target for testrun: why it cannot enforce a feature, from the
// provider's table, or "" when it can. A target without a provider registration enforces everything it
// is tested on.
func Cannot(target string) func(string) string {
	reg, ok := providers.Lookup(target)
	if !ok {
		return nil
	}
	return func(f string) string {
		s := reg.Capabilities.Get(providers.Feature(f))
		if s.Supported {
			return ""
		}
		return s.Reason
	}
}

// CannotFor is Cannot for one manifest: besides the features the target cannot enforce at all, a feature
// it supports within constraints is one it cannot enforce for g when g breaks a constraint (validate
// --target refuses g then); the reason is the finding's. The capability check runs once per call.
func CannotFor(target string, g *ir.Gateway) func(string) string {
	return cannotWith(target, capabilityFindings(target, g))
}

// capabilityFindings is the capability check of g for target, or nil for a target without a provider
// registration (which enforces everything it is tested on).
func capabilityFindings(target string, g *ir.Gateway) []providers.Finding {
	if _, ok := providers.Lookup(target); !ok {
		return nil
	}
	return providers.CheckCapabilities(g, target)
}

func cannotWith(target string, findings []providers.Finding) func(string) string {
	cannot := Cannot(target)
	if cannot == nil {
		return nil
	}
	broken := map[string]string{}
	for _, fd := range findings {
		if _, seen := broken[string(fd.Feature)]; !seen {
			broken[string(fd.Feature)] = fd.Reason
		}
	}
	return func(f string) string {
		if why := cannot(f); why != "" {
			return why
		}
		return broken[f]
	}
}

// Refusal is the check that `validate --target` refuses a manifest that uses a feature the target
// declares it cannot enforce, at a position in the manifest.
type Refusal struct {
	Target  string `json:"target"`
	Feature string `json:"feature"`
	File    string `json:"file"`
	Pass    bool   `json:"pass"`
	Pos     string `json:"pos,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

// CheckRefusals checks, for every feature the cases need and the target cannot enforce for g (CannotFor:
// not at all, or not within its constraints), that the capability check refuses g at a position.
func CheckRefusals(g *ir.Gateway, cases []ir.TestCase, target string) []Refusal {
	return checkRefusals(g, cases, target, capabilityFindings(target, g))
}

func checkRefusals(g *ir.Gateway, cases []ir.TestCase, target string, findings []providers.Finding) []Refusal {
	cannot := cannotWith(target, findings)
	if cannot == nil {
		return nil
	}
	var out []Refusal
	seen := map[string]bool{}
	for _, tc := range cases {
		for _, f := range tc.Features {
			if seen[f] || cannot(f) == "" {
				continue
			}
			seen[f] = true
			r := Refusal{Target: target, Feature: f, File: fileOf(g, tc)}
			for _, fd := range findings {
				if string(fd.Feature) == f && fd.Pos.Line > 0 {
					r.Pass, r.Pos, r.Detail = true, fd.Pos.String(), fd.Reason
					break
				}
			}
			if !r.Pass {
				r.Detail = fmt.Sprintf("%s declares it cannot enforce %s, but validate --target %s does not refuse a manifest whose cases need it", target, f, target)
			}
			out = append(out, r)
		}
	}
	return out
}

func fileOf(g *ir.Gateway, tc ir.TestCase) string {
	if tc.Pos.File != "" {
		return tc.Pos.File
	}
	return g.Name
}

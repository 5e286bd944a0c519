// Package test implements `edgegw test`: the manifest's own `tests:` cases run against the reference gateway
// and, through their registered runners, against the targets' rendered artifacts.
package test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/cmd/root"
	"github.com/edgegw/edgegw/gateway/testrun"
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
	Getenv       func(string) string
	Now          func() time.Time
	Context      context.Context
	JSON         *cmdutil.JSONStream // --format json: the stream the case lines and the counts go to
}

func init() {
	root.AddCommand(func(f *cmdutil.Factory) *cobra.Command { return NewCmdTest(f, nil) })
}

// NewCmdTest builds the command; runF replaces the behaviour in tests.
func NewCmdTest(f *cmdutil.Factory, runF func(*TestOptions) error) *cobra.Command {
	opts := &TestOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "test",
		Short: "Run the manifest's tests against the reference gateway and the targets",
		Long: `Run every case under the manifest's tests: and report, per case, pass or fail and what differed.

A case may ask for a signed token (jwt: {sub: alice, exp: +1h}). It is signed with the manifest's own HS
secret when the environment holds it; otherwise with a test key generated for this run and trusted for that
case only (the output says which). A case that sends its own Authorization header is always verified against
the manifest's real keys: that is how to test tokens your identity provider issued, and attack tokens.

Exit status is 0 only when every case passes on every target run.`,
		Example: `  edgegw test -f edgegw.yaml
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
	cmd.Flags().StringVar(&opts.Target, "target", testrun.RefTarget, "the target whose runtime runs the cases (local: the reference gateway), or all")
	cmd.Flags().StringVar(&opts.Run, "run", "", "run only the cases whose name matches this regular expression")
	return cmd
}

// caseLine is the NDJSON view of one result. Its position has the shape of every other position in
// JSON output ({"file","line","col"}), not the runner's "file:line:col" text.
type caseLine struct {
	Type string `json:"type"`
	testrun.Result
	Pos *cmdutil.Pos `json:"pos,omitempty"`
}

// Run loads the manifest, runs the cases and prints one line per case.
func Run(o *TestOptions) error {
	if o.Target != "all" {
		if err := providers.CheckTargetName(o.Target, false); err != nil {
			return err
		}
	}
	targets, runners, err := testrun.Resolve(o.Target)
	if err != nil {
		return err
	}
	var filter *regexp.Regexp
	if o.Run != "" {
		if filter, err = regexp.Compile(o.Run); err != nil {
			return fmt.Errorf("test: --run: %w", err)
		}
	}
	g, diags := manifest.Load(o.ManifestPath)
	if g == nil || diags.HasErrors() {
		cmdutil.PrintDiagnostics(o.IO, o.Format, o.Color, diags)
		return &cmdutil.SilentError{Code: cmdutil.ExitError, Err: fmt.Errorf("test: %s is invalid", o.ManifestPath)}
	}
	var cases []ir.TestCase
	for _, tc := range g.Tests {
		if filter == nil || filter.MatchString(tc.Name) {
			cases = append(cases, tc)
		}
	}
	if len(cases) == 0 {
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
	passed, failed := 0, 0
	for i, r := range runners {
		results, err := r.Run(ctx, g, cases, env)
		if err != nil {
			return fmt.Errorf("test: target %s: %w", targets[i], err)
		}
		for k, res := range results {
			if res.Pass {
				passed++
			} else {
				failed++
			}
			o.print(res, cases[k].Pos)
		}
	}
	o.JSON.Set("passed", passed)
	o.JSON.Set("failed", failed)
	if o.Format != cmdutil.FormatJSON {
		fmt.Fprintf(o.IO.ErrOut, "%d passed, %d failed (%s; %s)\n", passed, failed, strings.Join(targets, ", "), o.ManifestPath)
	}
	if failed > 0 {
		return &cmdutil.SilentError{Code: cmdutil.ExitError, Err: fmt.Errorf("test: %d of %d cases failed", failed, passed+failed)}
	}
	return nil
}

func (o *TestOptions) print(res testrun.Result, pos ir.Pos) {
	res.Error = cmdutil.UserText(res.Error) // a runner's error, as the user reads it
	switch o.Format {
	case cmdutil.FormatJSON:
		line := caseLine{Type: "test", Result: res, Pos: cmdutil.PosOf(manifest.Range{File: pos.File, Start: manifest.Point{Line: pos.Line, Col: pos.Col}})}
		if o.JSON != nil {
			o.JSON.Emit(line)
		} else {
			_ = json.NewEncoder(o.IO.Out).Encode(line)
		}
		return
	case cmdutil.FormatGitHub:
		if !res.Pass {
			fmt.Fprintln(o.IO.Out, cmdutil.GitHubAnnotation(manifest.Diagnostic{
				Severity: manifest.SeverityError, Code: "test", Summary: res.Target + ": " + res.Name + ": " + failureText(res, "; "),
				Range: manifest.Range{File: pos.File, Start: manifest.Point{Line: pos.Line, Col: pos.Col}},
			}))
		}
	}
	printHuman(o.IO.Out, o.Color, res)
}

func printHuman(w io.Writer, color bool, res testrun.Result) {
	status := "PASS"
	if !res.Pass {
		status = "FAIL"
	}
	if color {
		if res.Pass {
			status = "\x1b[32m" + status + "\x1b[0m"
		} else {
			status = "\x1b[31m" + status + "\x1b[0m"
		}
	}
	line := fmt.Sprintf("%s  %-4s %s", status, res.Target, res.Name)
	if !res.Pass && res.Pos != "" {
		line += "  (" + res.Pos + ")"
	}
	fmt.Fprintln(w, line)
	if res.Error != "" {
		fmt.Fprintf(w, "      error: %s\n", res.Error)
	}
	for _, d := range res.Diffs {
		fmt.Fprintf(w, "      %s\n", d)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(w, "      note: %s\n", n)
	}
}

func failureText(res testrun.Result, sep string) string {
	var parts []string
	if res.Error != "" {
		parts = append(parts, res.Error)
	}
	for _, d := range res.Diffs {
		parts = append(parts, d.String())
	}
	return strings.Join(parts, sep)
}

package test

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
)

// view is every output of `edgegw test`: one line per case (human, github or a JSON object), then, for a
// suite, one line per feature and the capability refusals, then the summary.
type view struct {
	o       *TestOptions
	passed  int
	failed  int
	skipped int
	// unexecutable counts the skips because the target's test runtime cannot execute the case, apart from
	// the skips by capability.
	unexecutable int
	features     map[string]*featureCount
	refusals     []Refusal
}

type featureCount struct {
	Type    string `json:"type"`
	Target  string `json:"target"`
	Feature string `json:"feature"`
	Run     int    `json:"run"`
	Passed  int    `json:"passed"`
	Failed  int    `json:"failed"`
	Skipped int    `json:"skipped"`
	// Skipped are the cases skipped by capability; Unexecutable those the test runtime cannot execute.
	Unexecutable int `json:"unexecutable"`
}

func newView(o *TestOptions) *view { return &view{o: o, features: map[string]*featureCount{}} }

// caseLine is the JSON view of one result. Its position has the shape of every position in JSON output
// ({"file","line","col"}), not the text form the human view prints.
type caseLine struct {
	Type string `json:"type"`
	testrun.Result
	Pos *cmdutil.Pos `json:"pos,omitempty"`
	// Differences are the diffs as the human view prints them.
	Differences []string `json:"differences,omitempty"`
}

// emit writes one JSON message: to the command's stream (version line first, summary last), or, when the
// view runs without one (a caller of Run), as a bare line.
func (v *view) emit(msg any) {
	if v.o.JSON != nil {
		v.o.JSON.Emit(msg)
		return
	}
	_ = json.NewEncoder(v.o.IO.Out).Encode(msg)
}

// casePos is where the result's case was written.
func casePos(res testrun.Result, g *ir.Gateway) ir.Pos {
	if g != nil && res.Index >= 0 && res.Index < len(g.Tests) {
		return g.Tests[res.Index].Pos
	}
	return ir.Pos{}
}

func (v *view) result(res testrun.Result, g *ir.Gateway) {
	switch {
	case res.Unexecutable:
		v.unexecutable++
	case res.Skipped != "":
		v.skipped++
	case res.Pass:
		v.passed++
	default:
		v.failed++
	}
	features := res.Features
	if len(features) == 0 {
		features = []string{"(untagged)"}
	}
	for _, f := range features {
		k := res.Target + "\x00" + f
		c := v.features[k]
		if c == nil {
			c = &featureCount{Type: "feature_summary", Target: res.Target, Feature: f}
			v.features[k] = c
		}
		switch {
		case res.Unexecutable:
			c.Unexecutable++
		case res.Skipped != "":
			c.Skipped++
		case res.Pass:
			c.Run++
			c.Passed++
		default:
			c.Run++
			c.Failed++
		}
	}
	o := v.o
	switch o.Format {
	case cmdutil.FormatJSON:
		res.Error = cmdutil.UserText(res.Error)
		p := casePos(res, g)
		v.emit(caseLine{Type: "test", Result: res, Differences: res.Lines(),
			Pos: cmdutil.PosOf(manifest.Range{File: p.File, Start: manifest.Point{Line: p.Line, Col: p.Col}})})
		return
	case cmdutil.FormatGitHub:
		if res.Failed() {
			pos := casePos(res, g)
			fmt.Fprintln(o.IO.Out, cmdutil.GitHubAnnotation(manifest.Diagnostic{
				Severity: manifest.SeverityError, Code: "test", Summary: res.Target + ": " + res.Name + ": " + failureText(res, "; "),
				Range: manifest.Range{File: pos.File, Start: manifest.Point{Line: pos.Line, Col: pos.Col}},
			}))
		}
	}
	if v.o.Suite != "" && res.Pass {
		return // a suite prints its failures and skips; the summary counts the rest
	}
	res.Error = cmdutil.UserText(res.Error)
	printHuman(o.IO.Out, o.Color, res)
}

func (v *view) refusal(r Refusal) {
	v.refusals = append(v.refusals, r)
	if !r.Pass {
		v.failed++
	}
	if v.o.Format == cmdutil.FormatJSON {
		v.emit(struct {
			Type string `json:"type"`
			Refusal
		}{"capability_check", r})
		return
	}
	status := "PASS"
	if !r.Pass {
		status = "FAIL"
	}
	fmt.Fprintf(v.o.IO.Out, "%s  %s cannot enforce %s: validate refuses %s", status, r.Target, r.Feature, r.File)
	if r.Pos != "" {
		fmt.Fprintf(v.o.IO.Out, " at %s", r.Pos)
	}
	fmt.Fprintln(v.o.IO.Out)
	if !r.Pass {
		fmt.Fprintf(v.o.IO.Out, "      %s\n", r.Detail)
	}
}

func (v *view) finish(targets []string, suite bool) error {
	o := v.o
	if suite {
		keys := make([]string, 0, len(v.features))
		for k := range v.features {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if o.Format == cmdutil.FormatJSON {
			for _, k := range keys {
				v.emit(v.features[k])
			}
		} else {
			fmt.Fprintf(o.IO.Out, "\n%-10s %-22s %5s %7s %7s %8s %8s\n", "target", "feature", "run", "passed", "failed", "skipped", "unexec")
			for _, k := range keys {
				c := v.features[k]
				fmt.Fprintf(o.IO.Out, "%-10s %-22s %5d %7d %7d %8d %8d\n", c.Target, c.Feature, c.Run, c.Passed, c.Failed, c.Skipped, c.Unexecutable)
			}
		}
	}
	what := o.ManifestPath
	if suite {
		what = "suite " + o.Suite
	}
	if o.Format == cmdutil.FormatJSON {
		o.JSON.Set("targets", targets)
		o.JSON.Set("passed", v.passed)
		o.JSON.Set("failed", v.failed)
		o.JSON.Set("skipped", v.skipped)
		o.JSON.Set("unexecutable", v.unexecutable)
		v.emit(struct {
			Type         string   `json:"type"`
			Targets      []string `json:"targets"`
			Passed       int      `json:"passed"`
			Failed       int      `json:"failed"`
			Skipped      int      `json:"skipped"`
			Unexecutable int      `json:"unexecutable"`
		}{"test_summary", targets, v.passed, v.failed, v.skipped, v.unexecutable})
	} else {
		line := fmt.Sprintf("%d passed, %d failed, %d skipped", v.passed, v.failed, v.skipped)
		if v.unexecutable > 0 {
			line += fmt.Sprintf(", %d skipped: runtime cannot execute", v.unexecutable)
		}
		fmt.Fprintf(o.IO.ErrOut, "%s (%s; %s)\n", line, strings.Join(targets, ", "), what)
	}
	if v.failed > 0 {
		return &cmdutil.SilentError{Code: cmdutil.ExitError, Err: fmt.Errorf("test: %d of %d cases failed", v.failed, v.passed+v.failed)}
	}
	return nil
}

func printHuman(w io.Writer, color bool, res testrun.Result) {
	status := "PASS"
	switch {
	case res.Skipped != "":
		status = "SKIP"
	case !res.Pass:
		status = "FAIL"
	}
	if color {
		code := map[string]string{"PASS": "32", "FAIL": "31", "SKIP": "33"}[status]
		status = "\x1b[" + code + "m" + status + "\x1b[0m"
	}
	line := fmt.Sprintf("%s  %-4s %s", status, res.Target, res.Name)
	if res.Failed() && res.Pos != "" {
		line += "  (" + res.Pos + ")"
	}
	fmt.Fprintln(w, line)
	if res.Skipped != "" {
		fmt.Fprintf(w, "      %s\n", res.Skipped)
		return
	}
	if res.Error != "" {
		fmt.Fprintf(w, "      error: %s\n", res.Error)
	}
	for _, d := range res.Lines() {
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
	parts = append(parts, res.Lines()...)
	return strings.Join(parts, sep)
}

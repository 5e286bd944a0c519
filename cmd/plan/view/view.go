// Package view prints what the deploy commands (plan, apply, rollback, history) produce, in the three
// output formats: human text (coloured on a TTY), a versioned NDJSON stream on stdout, and for GitHub
// Actions the human text plus annotations, a markdown step summary and `has_changes=` as an output. In human
// text the plan and the history table are data and go to stdout (`edgegw plan > plan.txt`, as terraform
// prints its plan); progress, warnings and results go to stderr.
//
// The engine in providers returns data; this package only formats it, as terraform's views do.
package view

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/aymanbagabas/go-udiff"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/dnscheck"
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/render"
)

// Schema names the NDJSON stream's version, the one every command's --format json follows (see
// cmdutil.JSONStream).
const Schema = cmdutil.JSONSchema

// View writes one command's output.
type View struct {
	IO      *cmdutil.IOStreams
	Format  string
	Color   bool
	Command string
	Getenv  func(string) string
	// OutColor says whether the data on stdout may be coloured (stdout is a terminal).
	OutColor bool
	stream   *cmdutil.JSONStream
	md       strings.Builder // the GitHub step summary
	changes  bool
}

// New starts a view; for json it writes the version message at once.
func New(f *cmdutil.Factory, command string) *View {
	v := &View{IO: f.IO, Format: f.Format, Color: f.Color(), Command: command, Getenv: f.Getenv}
	if v.Getenv == nil {
		v.Getenv = os.Getenv
	}
	v.OutColor = !f.NoColor && f.IO.OutTTY && v.Getenv("NO_COLOR") == ""
	if v.Format == cmdutil.FormatJSON {
		v.stream = f.JSONStream(command) // the version line, if root has not written it yet
	}
	return v
}

func (v *View) json() bool { return v.Format == cmdutil.FormatJSON }

func (v *View) emit(msg any) { v.stream.Emit(msg) }

func (v *View) human(format string, args ...any) {
	if !v.json() {
		fmt.Fprintf(v.IO.ErrOut, format, args...)
	}
}

// data prints human text that is the command's result (the plan, the history table) on stdout.
func (v *View) data(format string, args ...any) {
	if !v.json() {
		fmt.Fprintf(v.IO.Out, format, args...)
	}
}

func (v *View) paint(code, s string) string { return paint(v.Color, code, s) }

// paintOut colours text for stdout.
func (v *View) paintOut(code, s string) string { return paint(v.OutColor, code, s) }

func paint(on bool, code, s string) string {
	if !on {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// Diagnostics prints manifest diagnostics.
func (v *View) Diagnostics(ds manifest.Diagnostics) {
	if len(ds) > 0 {
		cmdutil.PrintDiagnostics(v.IO, v.Format, v.Color, ds)
	}
}

// Info prints a line of progress (human text; an "info" message in json).
func (v *View) Info(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if v.json() {
		v.emit(map[string]any{"type": "info", "message": msg})
		return
	}
	fmt.Fprintln(v.IO.ErrOut, msg)
}

// DNSReport prints the DNS preflight's report: finding lines in the JSON stream, a table on stderr
// otherwise, and annotations in GitHub Actions.
func (v *View) DNSReport(r *dnscheck.Report) {
	switch v.Format {
	case cmdutil.FormatJSON:
		for _, f := range r.Findings {
			v.emit(struct {
				Type string `json:"type"`
				dnscheck.Finding
			}{"dns_finding", f})
		}
		return
	case cmdutil.FormatGitHub:
		_ = dnscheck.WriteGitHub(v.IO.Out, r)
	}
	_ = dnscheck.WriteHuman(v.IO.ErrOut, r)
}

// Warn prints a warning; in GitHub Actions it is also an annotation.
func (v *View) Warn(target, msg string) {
	msg = cmdutil.UserText(msg)
	switch v.Format {
	case cmdutil.FormatJSON:
		v.emit(map[string]any{"type": "warning", "target": target, "message": msg})
		return
	case cmdutil.FormatGitHub:
		fmt.Fprintf(v.IO.Out, "::warning title=%s::%s\n", escape(target), escape(msg))
	}
	fmt.Fprintf(v.IO.ErrOut, "%s %s: %s\n", v.paint("33", "warning:"), target, msg)
}

func escape(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// Plan prints a plan: per target a summary line, the changes (routes with their manifest position) and,
// in human output, a unified diff of each changed artifact.
func (v *View) Plan(p *providers.Plan) {
	for _, s := range p.Skipped {
		v.Warn(s.Target, s.Reason+"; not planned")
	}
	for _, pr := range p.Problems {
		if v.json() {
			m := map[string]any{"type": "target_error", "target": pr.Target, "error": cmdutil.UserText(pr.Error)}
			if pr.Pos.Line > 0 {
				m["pos"] = pr.Pos
			}
			v.emit(m)
			continue
		}
		where := ""
		if pr.Pos.Line > 0 {
			where = pr.Pos.String() + ": "
		}
		if v.Format == cmdutil.FormatGitHub {
			fmt.Fprintf(v.IO.Out, "::error title=%s::%s%s\n", escape(pr.Target), escape(where), escape(cmdutil.UserText(pr.Error)))
		}
		fmt.Fprintf(v.IO.ErrOut, "%s%s %s\n", where, v.paint("31", "error:"), cmdutil.UserText(pr.Error))
	}
	fmt.Fprintf(&v.md, "### edgegw %s\n\n| target | live version | changes |\n|---|---|---|\n", v.Command)
	for _, tp := range p.Targets {
		v.targetPlan(tp)
	}
	if p.HasChanges() {
		v.changes = true
	}
	if !v.json() {
		n := 0
		var offline []string
		for _, tp := range p.Targets {
			if tp.HasChanges() {
				n++
			}
			if tp.Offline {
				offline = append(offline, tp.Target)
			}
		}
		switch {
		case n == 0 && len(offline) > 0:
			// An unread target is not "no changes": its live state is unknown.
			v.data("\nNo changes in the targets read. Not read (live state unknown, see the warning above): %s.\n", strings.Join(offline, ", "))
		case n == 0 && p.PositionsOnly():
			v.data("\nNo changes. The live targets match the manifest; only comments or positions in it moved.\n")
		case n == 0:
			v.data("\nNo changes. The live targets match the manifest.\n")
		case n == 1:
			v.data("\nPlan: 1 target to change.\n")
		default:
			v.data("\nPlan: %d targets to change.\n", n)
		}
	}
}

func summary(tp *providers.TargetPlan) string {
	if tp.Offline {
		return "live state not read: " + tp.OfflineReason
	}
	if !tp.HasChanges() {
		return "no changes"
	}
	var parts []string
	// The core's kinds first, then a target's own (custom_domain, zone_route, …) in the order they appear.
	kinds := []string{"route", "domain", "artifact", "dictionary", "dictionary item"}
	for _, ch := range tp.Changes {
		if !slices.Contains(kinds, ch.Kind) {
			kinds = append(kinds, ch.Kind)
		}
	}
	for _, kind := range kinds {
		c, u, d := tp.Count(kind)
		var ps []string
		for _, n := range []struct {
			n    int
			verb string
		}{{c, "to add"}, {u, "to change"}, {d, "to remove"}} {
			if n.n > 0 {
				ps = append(ps, fmt.Sprintf("%d %s", n.n, n.verb))
			}
		}
		if len(ps) > 0 {
			label := strings.ReplaceAll(kind, "_", " ") + "s"
			if strings.HasSuffix(kind, "y") {
				label = strings.TrimSuffix(kind, "y") + "ies"
			}
			parts = append(parts, label+": "+strings.Join(ps, ", "))
		}
	}
	return strings.Join(parts, "; ")
}

func liveLabel(tp *providers.TargetPlan) string {
	switch {
	case tp.Offline:
		return "unknown"
	case tp.LiveVersion == "":
		return "none"
	default:
		return tp.LiveVersion
	}
}

func (v *View) targetPlan(tp *providers.TargetPlan) {
	fmt.Fprintf(&v.md, "| %s | %s | %s |\n", tp.Target, liveLabel(tp), summary(tp))
	for _, w := range tp.Warnings {
		v.Warn(tp.Target, w)
	}
	if v.json() {
		var arts []providers.ArtifactDigest
		arts = append(arts, tp.Digests()...)
		c, u, d := tp.Count("route")
		v.emit(map[string]any{"type": "target_plan", "target": tp.Target, "renderer": tp.Renderer, "live_version": tp.LiveVersion,
			"base_token": tp.BaseToken, "offline": tp.Offline, "offline_reason": tp.OfflineReason, "has_changes": tp.HasChanges(),
			"routes": map[string]int{"create": c, "update": u, "delete": d}, "artifacts": arts, "budgets": budgets(tp)})
		for _, ch := range tp.Changes {
			v.emit(map[string]any{"type": "planned_change", "target": tp.Target, "change": ch})
		}
		return
	}
	if tp.Offline {
		v.Warn(tp.Target, "live state not read: "+tp.OfflineReason+"; showing the offline part only")
		for _, a := range tp.Artifacts {
			v.data("  %s  %s  sha256:%s\n", a.Path, sizeText(a), a.Digest[:12])
		}
		return
	}
	v.data("%s: %s (live version %s)\n", v.paintOut("1", tp.Target), summary(tp), liveLabel(tp))
	for _, ch := range tp.Changes {
		color := map[providers.Action]string{providers.Create: "32", providers.Update: "33", providers.Delete: "31"}[ch.Action]
		line := fmt.Sprintf("  %s %s %s", ch.Action.Symbol(), ch.Kind, ch.Name)
		if ch.Pos.Line > 0 {
			line += "  " + ch.Pos.String()
		}
		if ch.Apex {
			line += "  (zone apex)"
		}
		v.data("%s\n", v.paintOut(color, line))
	}
	for _, d := range v.diffs(tp) {
		v.data("%s", d)
	}
	for _, a := range tp.Artifacts {
		if a.MaxBytes > 0 {
			v.data("  size: %s %s\n", a.Path, sizeText(a))
		}
	}
}

// sizeText is an artifact's size, against the target's limit when it has one: "5,451 of 10,240 bytes".
func sizeText(a providers.PlannedArtifact) string {
	if a.MaxBytes > 0 {
		return grouped(a.Size) + " of " + grouped(a.MaxBytes) + " bytes"
	}
	return grouped(a.Size) + " bytes"
}

// grouped writes n with thousands separators.
func grouped(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// budgets lists the artifacts that have a size limit, for the JSON view.
func budgets(tp *providers.TargetPlan) []map[string]any {
	out := []map[string]any{}
	for _, a := range tp.Artifacts {
		if a.MaxBytes > 0 {
			out = append(out, map[string]any{"path": a.Path, "size": a.Size, "max_bytes": a.MaxBytes})
		}
	}
	return out
}

// diffs returns a unified diff per changed artifact, coloured on a TTY.
func (v *View) diffs(tp *providers.TargetPlan) []string {
	live := map[string]render.Artifact{}
	for _, a := range tp.Live {
		live[a.Path] = a
	}
	var out []string
	for _, ch := range tp.Changes {
		if ch.Kind != "artifact" {
			continue
		}
		var before, after string
		if a, ok := live[ch.Name]; ok {
			before = string(a.Data)
		}
		size := 0
		for _, a := range tp.Artifacts {
			if a.Path == ch.Name {
				after, size = string(a.Data), a.Size
			}
		}
		if ch.Action == providers.Create {
			// A whole new file is not a useful diff; `edgegw render` shows it.
			out = append(out, fmt.Sprintf("  (new artifact %s, %d bytes)\n", ch.Name, size))
			continue
		}
		// go-udiff (a port of the Go tools' diff) writes standard unified diffs, the "\ No newline at end
		// of file" marker included.
		d := udiff.Unified(tp.Target+"/"+ch.Name+" (live "+liveLabel(tp)+")", tp.Target+"/"+ch.Name+" (planned)", before, after)
		if d == "" {
			continue
		}
		if v.OutColor {
			var b strings.Builder
			for _, l := range strings.SplitAfter(d, "\n") {
				switch {
				case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
					b.WriteString(v.paintOut("1", strings.TrimSuffix(l, "\n")) + "\n")
				case strings.HasPrefix(l, "+"):
					b.WriteString(v.paintOut("32", strings.TrimSuffix(l, "\n")) + "\n")
				case strings.HasPrefix(l, "-"):
					b.WriteString(v.paintOut("31", strings.TrimSuffix(l, "\n")) + "\n")
				case strings.HasPrefix(l, "@@"):
					b.WriteString(v.paintOut("36", strings.TrimSuffix(l, "\n")) + "\n")
				default:
					b.WriteString(l)
				}
			}
			d = b.String()
		}
		fmt.Fprintf(&v.md, "\n<details><summary>%s/%s</summary>\n\n```diff\n%s```\n</details>\n\n", tp.Target, ch.Name, strings.ReplaceAll(d, "```", "` ` `"))
		out = append(out, d)
	}
	return out
}

// Progress prints one step of an apply or rollback.
func (v *View) Progress(p providers.Progress) {
	if v.json() {
		m := map[string]any{"type": "progress"}
		b, _ := json.Marshal(p)
		_ = json.Unmarshal(b, &m)
		m["type"] = "progress"
		v.emit(m)
		return
	}
	if p.Status == "start" && !v.IO.ErrTTY {
		return // in logs, one line per finished step is enough
	}
	mark := map[string]string{"start": "…", "done": v.paint("32", "✓"), "failed": v.paint("31", "✗")}[p.Status]
	line := fmt.Sprintf("%s %s: %s", mark, p.Target, p.Step)
	if p.Version != "" {
		line += " version " + p.Version
	}
	if p.Error != "" {
		line += ": " + cmdutil.UserText(p.Error)
	}
	v.human("%s\n", line)
}

// Report prints the outcome per target and what was not reverted.
func (v *View) Report(r *providers.Report) {
	if r == nil {
		return
	}
	fmt.Fprintf(&v.md, "\n| target | result | version | previous |\n|---|---|---|---|\n")
	for _, t := range r.Targets {
		fmt.Fprintf(&v.md, "| %s | %s | %s | %s |\n", t.Target, t.Status, t.Version, t.Previous)
		if v.json() {
			v.emit(struct {
				Type string `json:"type"`
				providers.TargetReport
			}{"result", t})
			continue
		}
		if v.Format == cmdutil.FormatGitHub && t.Error != "" {
			fmt.Fprintf(v.IO.Out, "::error title=%s %s::%s\n", escape(t.Target), escape(t.Status), escape(cmdutil.UserText(t.Error)))
		}
		switch t.Status {
		case providers.StatusApplied:
			v.human("%s: applied, version %s is live (was %s)\n", t.Target, t.Version, orNone(t.Previous))
		case providers.StatusRolledBack:
			v.human("%s: rolled back, version %s is live (was %s)\n", t.Target, t.Version, orNone(t.Previous))
		case providers.StatusUnchanged:
			v.human("%s: no changes, version %s stays live\n", t.Target, orNone(t.Version))
		case providers.StatusRestored:
			v.human("%s: %s, version %s is live again\n", t.Target, v.paint("33", "restored after the failure"), orNone(t.Version))
		default:
			v.human("%s: %s: %s\n", t.Target, v.paint("31", strings.ReplaceAll(t.Status, "_", " ")), cmdutil.UserText(t.Error))
		}
	}
	if len(r.NotReverted) > 0 {
		if v.json() {
			v.emit(map[string]any{"type": "not_reverted", "items": r.NotReverted})
		} else {
			v.human("Not reverted:\n")
			for _, s := range r.NotReverted {
				v.human("  - %s\n", s)
			}
		}
		fmt.Fprintf(&v.md, "\nNot reverted: %s\n", strings.Join(r.NotReverted, "; "))
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// History prints deploy records per target; the last record of each target is the live one.
func (v *View) History(target, where string, recs []providers.DeployRecord) {
	if v.json() {
		for i, r := range recs {
			v.emit(struct {
				Type string `json:"type"`
				Live bool   `json:"live"`
				providers.DeployRecord
			}{"record", i == len(recs)-1, r})
		}
		return
	}
	v.data("%s %s\n", v.paintOut("1", target), where)
	if len(recs) == 0 {
		v.data("  no deploys yet\n")
		return
	}
	tw := tabwriter.NewWriter(v.IO.Out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  \tSEQ\tKIND\tVERSION\tCOMMIT\tTIME\tWHO\tNOTE")
	for i, r := range recs {
		mark := ""
		if i == len(recs)-1 {
			mark = "*"
		}
		fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", mark, r.Seq, r.Kind, orNone(r.Version), r.CommitLabel(),
			r.Time.Local().Format("2006-01-02 15:04:05"), r.Who, r.Note)
	}
	_ = tw.Flush()
	v.data("  (* live)\n")
}

// Finish writes the final summary: a json message, the GitHub step summary and outputs. It is called
// even on error, with the error the command returns.
func (v *View) Finish(err error, hasChanges bool) {
	code := cmdutil.ExitCode(err)
	switch v.Format {
	case cmdutil.FormatJSON:
		v.stream.Set("has_changes", hasChanges)
		v.stream.Finish(err)
	case cmdutil.FormatGitHub:
		if err != nil && code != cmdutil.ExitChanges {
			fmt.Fprintf(v.IO.Out, "::error title=edgegw %s::%s\n", v.Command, escape(cmdutil.UserMessage(err)))
			fmt.Fprintf(&v.md, "\n**failed** (exit %d): %s\n", code, cmdutil.UserMessage(err))
		}
		appendFile(v.Getenv("GITHUB_STEP_SUMMARY"), v.md.String())
		appendFile(v.Getenv("GITHUB_OUTPUT"), fmt.Sprintf("has_changes=%t\n", hasChanges))
	}
}

func appendFile(name, s string) {
	if name == "" {
		return
	}
	f, err := os.OpenFile(name, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = io.WriteString(f, s)
}

// ExitError wraps the engine's errors in the typed errors cmdutil.ExitCode maps to exit codes.
func ExitError(err error) error {
	var (
		partial *providers.PartialError
		stale   *providers.StalePlanError
		locked  *providers.LockedError
		thresh  *providers.ThresholdError
		creds   *providers.CredentialsError
		force   providers.NeedsForce
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &partial):
		return &cmdutil.PartialApplyError{Err: err}
	case errors.As(err, &stale), errors.As(err, &locked), errors.As(err, &thresh), errors.As(err, &force):
		return &cmdutil.BlockedError{Err: err}
	case errors.As(err, &creds):
		return &cmdutil.CredentialsError{Err: err}
	}
	return err
}

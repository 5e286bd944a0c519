package cmdutil

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/edgegw/edgegw/manifest"
)

// MaxPrintedDiagnostics bounds what one command prints: past it the problems are one mistake repeated,
// and a hostile manifest must not fill a terminal or a CI log.
const MaxPrintedDiagnostics = 50

// PrintDiagnostics writes diagnostics in the chosen format: human text to ErrOut; one NDJSON object per
// diagnostic to Out for json; workflow-command annotations to Out (plus the human text) for github. It prints at most
// MaxPrintedDiagnostics, then says how many more there are (for json, as a final summary object).
func PrintDiagnostics(ios *IOStreams, format string, color bool, diags manifest.Diagnostics) {
	omitted := 0
	if len(diags) > MaxPrintedDiagnostics {
		omitted = len(diags) - MaxPrintedDiagnostics
		diags = diags[:MaxPrintedDiagnostics]
	}
	more := fmt.Sprintf("… and %d more diagnostics", omitted)
	switch format {
	case FormatJSON:
		enc := json.NewEncoder(ios.Out)
		for _, d := range diags {
			_ = enc.Encode(struct {
				Type string `json:"type"`
				manifest.Diagnostic
				Pos *Pos `json:"pos,omitempty"`
			}{"diagnostic", d, PosOf(d.Range)})
		}
		if omitted > 0 {
			_ = enc.Encode(struct {
				Type        string `json:"type"`
				Diagnostics int    `json:"diagnostics"`
				Omitted     int    `json:"omitted"`
			}{"diagnostics_summary", len(diags) + omitted, omitted})
		}
	case FormatGitHub:
		for _, d := range diags {
			fmt.Fprintln(ios.Out, GitHubAnnotation(d))
		}
		if omitted > 0 {
			fmt.Fprintln(ios.Out, "::notice title=edgegw::"+more)
		}
		printHuman(ios.ErrOut, color, diags)
	default:
		printHuman(ios.ErrOut, color, diags)
	}
	if omitted > 0 && format != FormatJSON {
		fmt.Fprintln(ios.ErrOut, more)
	}
}

func printHuman(w io.Writer, color bool, diags manifest.Diagnostics) {
	for _, d := range diags {
		s := d.String()
		if color {
			c := "\x1b[31m"
			if d.Severity == manifest.SeverityWarning {
				c = "\x1b[33m"
			}
			tag := string(d.Severity) + "[" + d.Code + "]"
			s = strings.Replace(s, tag, c+tag+"\x1b[0m", 1)
		}
		fmt.Fprintln(w, s)
	}
}

// GitHubAnnotation formats a diagnostic as a GitHub Actions workflow command.
func GitHubAnnotation(d manifest.Diagnostic) string {
	kind := "error"
	if d.Severity == manifest.SeverityWarning {
		kind = "warning"
	}
	props := []string{"file=" + escapeProperty(d.Range.File)}
	if d.Range.Start.Line > 0 {
		props = append(props, fmt.Sprintf("line=%d", d.Range.Start.Line), fmt.Sprintf("col=%d", d.Range.Start.Col))
		if d.Range.End.Line > 0 {
			props = append(props, fmt.Sprintf("endLine=%d", d.Range.End.Line), fmt.Sprintf("endColumn=%d", d.Range.End.Col))
		}
	}
	props = append(props, "title="+escapeProperty(d.Code))
	msg := d.Summary
	if d.Detail != "" {
		msg += "\n" + d.Detail
	}
	return "::" + kind + " " + strings.Join(props, ",") + "::" + escapeData(msg)
}

func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// Pos is the one shape of a manifest position in JSON output: {"file","line","col"}, 1-based.
type Pos struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Col  int    `json:"col"`
}

// PosOf is the start of r as a Pos; nil when the line is not known (a position is never line 0).
func PosOf(r manifest.Range) *Pos {
	if r.Start.Line <= 0 {
		return nil
	}
	return &Pos{File: r.File, Line: r.Start.Line, Col: r.Start.Col}
}

package cmdutil

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/edgegw/edgegw/manifest"
)

// PrintDiagnostics writes diagnostics in the chosen format: human text to ErrOut; one NDJSON object per
// diagnostic to Out for json; workflow-command annotations to Out (plus the human text) for github.
func PrintDiagnostics(ios *IOStreams, format string, color bool, diags manifest.Diagnostics) {
	switch format {
	case FormatJSON:
		enc := json.NewEncoder(ios.Out)
		for _, d := range diags {
			_ = enc.Encode(struct {
				Type string `json:"type"`
				manifest.Diagnostic
			}{"diagnostic", d})
		}
	case FormatGitHub:
		for _, d := range diags {
			fmt.Fprintln(ios.Out, GitHubAnnotation(d))
		}
		printHuman(ios.ErrOut, color, diags)
	default:
		printHuman(ios.ErrOut, color, diags)
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

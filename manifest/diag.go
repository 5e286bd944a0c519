package manifest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/edgegw/edgegw/manifest/ir"
)

// Severity of a diagnostic.
type Severity string

// Severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Range is a span in a manifest file, 1-based; End may be zero when only the start is known.
type Range struct {
	File  string `json:"file"`
	Start Point  `json:"start"`
	End   Point  `json:"end,omitempty"`
}

// MarshalJSON writes start and end only when known: a position is never line 0.
func (r Range) MarshalJSON() ([]byte, error) {
	type point struct {
		Line int `json:"line"`
		Col  int `json:"col"`
	}
	out := struct {
		File  string `json:"file"`
		Start *point `json:"start,omitempty"`
		End   *point `json:"end,omitempty"`
	}{File: r.File}
	if r.Start.Line > 0 {
		out.Start = &point{r.Start.Line, r.Start.Col}
		if r.End.Line > 0 {
			out.End = &point{r.End.Line, r.End.Col}
		}
	}
	return json.Marshal(out)
}

// Point is a line and column, 1-based.
type Point struct {
	Line int `json:"line"`
	Col  int `json:"col"`
}

// Pos returns the start as an ir.Pos.
func (r Range) Pos() ir.Pos { return ir.Pos{File: r.File, Line: r.Start.Line, Col: r.Start.Col} }

// Diagnostic is one problem found in a manifest: data, printed by the command's view.
type Diagnostic struct {
	Severity Severity `json:"severity"`
	Code     string   `json:"code"`             // stable id, e.g. "E031"
	Summary  string   `json:"summary"`          // what is wrong
	Detail   string   `json:"detail,omitempty"` // why, and what to do
	Range    Range    `json:"range"`
}

// String formats the diagnostic as `file:line:col: error[E031]: summary` followed by the detail, indented.
func (d Diagnostic) String() string {
	var b strings.Builder
	b.WriteString(d.Range.File)
	if d.Range.Start.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", d.Range.Start.Line, d.Range.Start.Col)
	}
	fmt.Fprintf(&b, ": %s[%s]: %s", d.Severity, d.Code, d.Summary)
	if d.Detail != "" {
		for _, l := range strings.Split(d.Detail, "\n") {
			b.WriteString("\n    ")
			b.WriteString(l)
		}
	}
	return b.String()
}

// Diagnostics is a list of diagnostics.
type Diagnostics []Diagnostic

// HasErrors reports whether any diagnostic is an error.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Err returns a *DiagnosticsError when ds holds an error, else nil.
func (ds Diagnostics) Err() error {
	if !ds.HasErrors() {
		return nil
	}
	return &DiagnosticsError{Diagnostics: ds}
}

// Sort orders by file, line, column, then code, so output is stable.
func (ds Diagnostics) Sort() {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i].Range, ds[j].Range
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Start.Line != b.Start.Line {
			return a.Start.Line < b.Start.Line
		}
		if a.Start.Col != b.Start.Col {
			return a.Start.Col < b.Start.Col
		}
		return ds[i].Code < ds[j].Code
	})
}

// DiagnosticsError carries the diagnostics of an invalid manifest. Commands map it to exit code 1.
type DiagnosticsError struct {
	Diagnostics Diagnostics
}

func (e *DiagnosticsError) Error() string {
	n := 0
	for _, d := range e.Diagnostics {
		if d.Severity == SeverityError {
			n++
		}
	}
	if n == 1 {
		return "manifest: 1 error"
	}
	return fmt.Sprintf("manifest: %d errors", n)
}

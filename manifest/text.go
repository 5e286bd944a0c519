package manifest

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// utf8BOM is the byte order mark some editors write at the start of a UTF-8 file. It is not part of the
// YAML: left in, it would glue itself to the first key or comment.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// notTextDiagnostic says why data is not a text file (a NUL byte, UTF-16, bytes that are not UTF-8), at
// the first offending byte, or returns nil for UTF-8 text.
func notTextDiagnostic(name string, data []byte) *Diagnostic {
	bad := bytes.IndexByte(data, 0)
	what := "a NUL byte"
	if i := invalidUTF8(data); i >= 0 && (bad < 0 || i < bad) {
		bad, what = i, "bytes that are not UTF-8"
	}
	if bad < 0 {
		return nil
	}
	d := &Diagnostic{Severity: SeverityError, Code: CodeReadFile, Range: rangeAtOffset(name, data, bad),
		Summary: fmt.Sprintf("the manifest is not a text file: it holds %s", what),
		Detail:  "pass the YAML manifest with -f/--manifest; a manifest is UTF-8 text"}
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		d.Summary, d.Detail = "the manifest is UTF-16 text, not UTF-8", "save the file as UTF-8 (most editors: File › Save with Encoding › UTF-8)"
		d.Range = Range{File: name, Start: Point{Line: 1, Col: 1}}
	}
	return d
}

func invalidUTF8(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

// rangeAtOffset is the 1-based line and column (in characters) of byte offset off.
func rangeAtOffset(name string, data []byte, off int) Range {
	line, col := 1, 1
	for _, c := range data[:off] {
		switch {
		case c == '\n':
			line, col = line+1, 1
		case c&0xC0 != 0x80:
			col++
		}
	}
	return Range{File: name, Start: Point{Line: line, Col: col}}
}

// syntaxHint turns a parser error into the cause a reader can act on, when it is one of the common ones:
// a tab in the indentation, or a `{` or `[` that is never closed. The parser itself reports only the
// character it choked on, or where it gave up.
func syntaxHint(diag Diagnostic, data []byte) Diagnostic {
	if r, ok := indentTab(data, diag.Range.Start.Line, strings.Contains(diag.Summary, "'\t'")); ok {
		r.File = diag.Range.File
		return Diagnostic{Severity: SeverityError, Code: CodeYAML, Range: r,
			Summary: "a tab in the indentation: use spaces (YAML indents with spaces only)",
			Detail:  "replace the tab with spaces (in most editors: convert indentation to spaces)"}
	}
	if open, line, col, ok := unclosedFlow(data); ok {
		closer := map[byte]string{'{': "}", '[': "]"}[open]
		detail := fmt.Sprintf("close it with %s", closer)
		if at := diag.Range.Start; at.Line > 0 {
			detail += fmt.Sprintf(" (the parser gave up at line %d, column %d)", at.Line, at.Col)
		}
		return Diagnostic{Severity: SeverityError, Code: CodeYAML, Range: Range{File: diag.Range.File, Start: Point{Line: line, Col: col}},
			Summary: fmt.Sprintf("YAML: the %c opened at line %d, column %d is never closed", open, line, col), Detail: detail}
	}
	return diag
}

// indentTab finds a tab in the leading whitespace of line errLine, or, when the parser named a tab, of
// any line up to it. Tabs after the indentation (inside values) are not looked at.
func indentTab(data []byte, errLine int, parserSawTab bool) (Range, bool) {
	first := errLine
	if parserSawTab {
		first = 1
	}
	for i, l := range bytes.Split(data, []byte("\n")) {
		n := i + 1
		if n < first || (errLine > 0 && n > errLine) {
			continue
		}
		for j, c := range l {
			if c == '\t' {
				if rest := bytes.TrimLeft(l[j:], " \t\r"); len(rest) == 0 || rest[0] != '#' {
					return Range{Start: Point{Line: n, Col: j + 1}}, true
				}
				break
			}
			if c != ' ' {
				break
			}
		}
	}
	return Range{}, false
}

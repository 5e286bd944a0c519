package fastly

import (
	"fmt"
	"regexp"
	"strings"
)

// writer builds indented VCL.
type writer struct {
	b      strings.Builder
	indent int
}

func (w *writer) line(format string, args ...any) {
	if format == "" {
		w.b.WriteByte('\n')
		return
	}
	w.b.WriteString(strings.Repeat("  ", w.indent))
	if len(args) == 0 {
		w.b.WriteString(format)
	} else {
		fmt.Fprintf(&w.b, format, args...)
	}
	w.b.WriteByte('\n')
}

// open writes a line ending in "{" and indents what follows.
func (w *writer) open(format string, args ...any) {
	w.line(format, args...)
	w.indent++
}

// close ends a block opened with open.
func (w *writer) close(tail string) {
	w.indent--
	w.line("%s", "}"+tail)
}

// lit returns s as a VCL string literal. Fastly decodes %XX escapes inside "..." strings but not inside long
// strings, so anything holding a "%" (path escapes in regexes), a quote or a newline is written as a long
// string {"..."}, or with a delimiter when the text itself holds "}.
func lit(s string) string {
	if !strings.ContainsAny(s, "%\"\n\r") {
		return `"` + s + `"`
	}
	if !strings.Contains(s, `"}`) {
		return `{"` + s + `"}`
	}
	for i := 0; ; i++ {
		d := "EDGEGW"
		if i > 0 {
			d = fmt.Sprintf("EDGEGW%d", i)
		}
		if !strings.Contains(s, `"`+d+`}`) {
			return "{" + d + `"` + s + `"` + d + "}"
		}
	}
}

// heredoc returns s as a delimited long string, the form synthetic bodies use: JSON bodies end in "}",
// which would close a plain long string.
func heredoc(s string) string {
	for i := 0; ; i++ {
		d := "json"
		if i > 0 {
			d = fmt.Sprintf("json%d", i)
		}
		if !strings.Contains(s, `"`+d+`}`) {
			return "{" + d + `"` + s + `"` + d + "}"
		}
	}
}

// comment makes s safe inside a "#" comment: one line.
func comment(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
}

var identUnsafe = regexp.MustCompile(`[^A-Za-z0-9_]`)

// ident turns a manifest name into a VCL identifier part. Names may hold "-" and ".", which VCL does not
// allow in identifiers; taken records the identifiers in use so two names never collide.
func ident(name string, taken map[string]bool) string {
	base := identUnsafe.ReplaceAllString(name, "_")
	id := base
	for i := 2; taken[id]; i++ {
		id = fmt.Sprintf("%s_%d", base, i)
	}
	taken[id] = true
	return id
}

// reQuote escapes s for a PCRE pattern.
func reQuote(s string) string { return regexp.QuoteMeta(s) }

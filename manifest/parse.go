package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Parse decodes a manifest strictly and returns it with every diagnostic found. It never panics: any input
// either decodes or yields diagnostics. The Manifest is nil only when the YAML itself cannot be parsed.
func Parse(name string, data []byte) (*Manifest, Diagnostics) {
	if len(data) > MaxFileBytes {
		return nil, Diagnostics{{Severity: SeverityError, Code: CodeLimit, Range: Range{File: name},
			Summary: fmt.Sprintf("the manifest is larger than %d bytes, the limit", MaxFileBytes),
			Detail:  sizeFix}}
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	if d := notTextDiagnostic(name, data); d != nil {
		return nil, Diagnostics{*d}
	}
	if lim := prescan(data); lim != nil {
		return nil, Diagnostics{{Severity: SeverityError, Code: CodeLimit, Range: Range{File: name, Start: Point{Line: lim.line, Col: lim.col}},
			Summary: lim.summary, Detail: lim.fixIt}}
	}
	f, err := parseYAML(data)
	if err != nil {
		return nil, Diagnostics{syntaxHint(yamlDiagnostic(name, err), data)}
	}
	var body ast.Node
	docs := 0
	for _, doc := range f.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		docs++
		if docs == 1 {
			body = doc.Body
		} else {
			d := newDecoder(name)
			return nil, Diagnostics{{Severity: SeverityError, Code: CodeYAML, Range: d.rangeOf(doc.Body),
				Summary: "more than one YAML document", Detail: "a manifest is one document: remove the --- separator and what follows (another gateway has a manifest file of its own)"}}
		}
	}
	d := newDecoder(name)
	m := &Manifest{}
	if body == nil {
		d.errorf(Range{File: name, Start: Point{Line: 1, Col: 1}}, CodeRequired, "start from the quick-start manifest in the README", "the manifest is empty")
		return nil, d.diags
	}
	d.collectAnchors(body)
	d.decode(body, reflect.ValueOf(m).Elem(), "")
	m.src = d
	return m, d.diags
}

// parseYAML parses the syntax tree. The parser is a third-party library: a panic in it must still end as
// a diagnostic, never as a crash of the command.
func parseYAML(data []byte) (f *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("cannot parse YAML: %v", r)
		}
	}()
	// Duplicate keys are reported by the decoder, with every other problem, rather than stopping the parse.
	return parser.ParseBytes(data, 0, parser.AllowDuplicateMapKey())
}

func yamlDiagnostic(name string, err error) Diagnostic {
	diag := Diagnostic{Severity: SeverityError, Code: CodeYAML, Summary: "YAML: " + err.Error(), Range: Range{File: name}}
	var ye yaml.Error
	if errors.As(err, &ye) {
		diag.Summary = "YAML: " + ye.GetMessage()
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			diag.Range.Start = Point{Line: tk.Position.Line, Col: tk.Position.Column}
		}
	}
	return diag
}

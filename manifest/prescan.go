package manifest

import "fmt"

// The YAML parser (goccy/go-yaml) is kept because it gives every node its line and column, which the
// diagnostics need; yaml.v3 gives positions too but only on its own node tree, and neither bounds the
// work it does. goccy's cost grows faster than linearly with nesting depth, with the keys of one mapping
// (each key copies the keys before it) and with the length of one scalar, and every value costs it about
// 500 bytes. A manifest never needs any of that, so a single pass over the raw bytes bounds the shape
// before the parser sees it. It knows just enough YAML not to count brackets in quoted strings, comments
// and block scalars; it errs toward counting less.
//
// The limits were measured against `edgegw validate` (peak RSS under 256 MiB and under 2 s of CPU for the
// worst input under each, see TestValidateNearLimitsStaysBounded in the repository root), and each sits
// above what a manifest at the documented limits needs: 10,000 routes written out in full are about
// 160,000 values.
// MaxFileBytes of anything that passes costs the parser about 12 bytes a byte; a soft memory limit set by
// the command (main.go) keeps garbage from doubling that.
const (
	// maxScanDepth bounds nesting, flow and block together. The deepest a manifest goes is about eight
	// levels (tests[].expect.upstream_headers.equal.NAME); the parser's cost grows with depth times values.
	maxScanDepth = 32
	// maxNodes bounds scalars, collections and their items.
	maxNodes = 250_000
	// maxMappingKeys bounds the keys of one mapping. The sections keyed by name hold at most MaxOrigins
	// origins, pools or policies; dns.expect, keyed by host, is the largest a manifest may need.
	maxMappingKeys = 5000
	// maxKeyWork bounds the parser's quadratic work on mappings: the sum, over every mapping, of its keys
	// squared, halved. One mapping of maxMappingKeys keys fits with every other mapping a manifest has;
	// twenty of 4,000 keys do not.
	maxKeyWork = maxMappingKeys*(maxMappingKeys+1)/2 + 1_000_000
	// maxScalarBytes bounds one scalar as written (quotes, escapes and block indentation included): the
	// largest value a manifest holds is a 64 KiB body.
	maxScalarBytes = 4 * MaxBodyBytes
	// maxLines bounds the lines of the file; blank and comment lines cost the parser too.
	maxLines = 1_000_000
)

// shapeLimitError is a pre-scan limit crossed at a point of the file.
type shapeLimitError struct {
	line, col      int
	summary, fixIt string
}

type scanLevel struct {
	indent int  // column (0-based) of a block collection; -1 for a flow collection
	seq    bool // a sequence, not a mapping
	items  int
	// line and col (1-based) of a flow collection's opening bracket, so an unclosed one can be named
	line, col int
}

// prescan walks data once and reports the first limit it crosses, or nil.
func prescan(data []byte) *shapeLimitError {
	s := scanner{data: data, line: 1}
	return s.run()
}

type scanner struct {
	data      []byte
	i         int
	line, col int // 1-based line; 0-based column in characters
	block     []scanLevel
	flow      []scanLevel
	nodes     int
	keyWork   int
}

func (s *scanner) fail(summary, fix string) *shapeLimitError {
	return s.failAt(s.col, summary, fix)
}

func (s *scanner) failAt(col int, summary, fix string) *shapeLimitError {
	return &shapeLimitError{line: s.line, col: col + 1, summary: summary, fixIt: fix}
}

// advance moves past one byte, keeping line and column.
func (s *scanner) advance() {
	c := s.data[s.i]
	s.i++
	switch {
	case c == '\n':
		s.line++
		s.col = 0
	case c&0xC0 != 0x80: // not a UTF-8 continuation byte
		s.col++
	}
}

func (s *scanner) peek(off int) byte {
	if s.i+off < len(s.data) {
		return s.data[s.i+off]
	}
	return 0
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0 }

func (s *scanner) node() *shapeLimitError {
	s.nodes++
	if s.nodes > maxNodes {
		return s.fail(fmt.Sprintf("the manifest has more than %d YAML values", maxNodes), sizeFix)
	}
	return nil
}

func (s *scanner) push(l scanLevel) *shapeLimitError {
	col := s.col
	if l.indent >= 0 {
		col = l.indent
	}
	if l.indent < 0 {
		s.flow = append(s.flow, l)
	} else {
		s.block = append(s.block, l)
	}
	if len(s.block)+len(s.flow) > maxScanDepth {
		return s.failAt(col, fmt.Sprintf("nesting deeper than %d levels", maxScanDepth), "a manifest needs a few levels; flatten the structure")
	}
	return s.node()
}

func (s *scanner) mappingKey(l *scanLevel, col int) *shapeLimitError {
	l.items++
	if l.items > maxMappingKeys {
		return s.failAt(col, fmt.Sprintf("a mapping with more than %d keys", maxMappingKeys), "no section of a manifest holds that many entries: "+sizeFix)
	}
	s.keyWork += l.items
	if s.keyWork > maxKeyWork {
		return s.failAt(col, fmt.Sprintf("the mappings hold too many keys together (the sum of their key counts squared passes %d²)", maxMappingKeys),
			"a large mapping costs the parser the square of its keys; use fewer keys per mapping, or split the gateway into several manifests")
	}
	return nil
}

// blockEntry records a block sequence entry ("- ") or a block mapping key at column col.
func (s *scanner) blockEntry(col int, seq bool) *shapeLimitError {
	for len(s.block) > 0 && s.block[len(s.block)-1].indent > col {
		s.block = s.block[:len(s.block)-1]
	}
	// A sequence may sit at its key's indentation; the next key at that column ends it.
	if !seq && len(s.block) > 0 && s.block[len(s.block)-1].indent == col && s.block[len(s.block)-1].seq {
		s.block = s.block[:len(s.block)-1]
	}
	if n := len(s.block); n > 0 && s.block[n-1].indent == col && s.block[n-1].seq == seq {
		if seq {
			s.block[n-1].items++
			return s.node()
		}
		return s.mappingKey(&s.block[n-1], col)
	}
	if err := s.push(scanLevel{indent: col, seq: seq, items: 1}); err != nil {
		return err
	}
	if seq {
		return s.node()
	}
	return nil
}

func (s *scanner) run() *shapeLimitError {
	lineStart := true
	for s.i < len(s.data) {
		if lineStart && len(s.flow) == 0 {
			lineStart = false
			for s.i < len(s.data) && (s.data[s.i] == ' ') {
				s.advance()
			}
			if s.col == 0 && s.peek(0) == '-' && s.peek(1) == '-' && s.peek(2) == '-' && isBlank(s.peek(3)) {
				s.block = s.block[:0]
				s.i += 3
				s.col += 3
			}
			if s.i >= len(s.data) {
				break
			}
		}
		if err := s.token(&lineStart); err != nil {
			return err
		}
		if s.line > maxLines {
			return &shapeLimitError{line: maxLines + 1, col: 1, summary: fmt.Sprintf("the manifest has more than %d lines", maxLines),
				fixIt: "remove blank and comment lines, or split the gateway into several manifests"}
		}
	}
	return nil
}

// scalarDone checks the length of the scalar that started at byte from, line and column.
func (s *scanner) scalarDone(from, line, col int) *shapeLimitError {
	if s.i-from > maxScalarBytes {
		return &shapeLimitError{line: line, col: col + 1, summary: fmt.Sprintf("a value longer than %d bytes", maxScalarBytes),
			fixIt: fmt.Sprintf("no value of a manifest needs that much (a synthetic body is at most %d bytes): serve large content from an origin", MaxBodyBytes)}
	}
	return nil
}

// token scans from a point where a node may start up to the next such point.
func (s *scanner) token(lineStart *bool) *shapeLimitError {
	c := s.data[s.i]
	inFlow := len(s.flow) > 0
	switch {
	case c == '\n':
		s.advance()
		*lineStart = true
		return nil
	case c == ' ' || c == '\t' || c == '\r':
		s.advance()
		return nil
	case c == '#':
		s.skipLine()
		return nil
	case c == '[' || c == '{':
		err := s.push(scanLevel{indent: -1, seq: c == '[', items: 0, line: s.line, col: s.col + 1})
		s.advance()
		return err
	case c == ']' || c == '}':
		if inFlow {
			s.flow = s.flow[:len(s.flow)-1]
		}
		s.advance()
		return nil
	case c == ',' && inFlow:
		top := &s.flow[len(s.flow)-1]
		var err *shapeLimitError
		if top.seq {
			top.items++
			err = s.node()
		} else {
			err = s.mappingKey(top, s.col)
		}
		s.advance()
		return err
	case !inFlow && (c == '-' || c == '?') && isBlank(s.peek(1)):
		err := s.blockEntry(s.col, c == '-')
		s.advance()
		return err
	case c == ':' && isBlank(s.peek(1)):
		s.advance()
		return nil
	case c == '&' || c == '!':
		for s.i < len(s.data) && !isBlank(s.data[s.i]) && !(inFlow && isFlowIndicator(s.data[s.i])) {
			s.advance()
		}
		return nil
	case !inFlow && (c == '|' || c == '>'):
		return s.blockScalar()
	}
	// A scalar: quoted, or plain up to ": ", " #", the end of the line, or a flow indicator.
	startI, startLine, startCol := s.i, s.line, s.col
	if err := s.node(); err != nil {
		return err
	}
	switch c {
	case '"':
		s.advance()
		for s.i < len(s.data) && s.data[s.i] != '"' {
			if s.data[s.i] == '\\' && s.i+1 < len(s.data) {
				s.advance()
			}
			s.advance()
		}
		if s.i < len(s.data) {
			s.advance()
		}
	case '\'':
		s.advance()
		for s.i < len(s.data) {
			if s.data[s.i] == '\'' {
				if s.peek(1) != '\'' {
					break
				}
				s.advance()
			}
			s.advance()
		}
		if s.i < len(s.data) {
			s.advance()
		}
	default:
		from := s.i
		for s.i < len(s.data) {
			b := s.data[s.i]
			if b == '\n' || (b == ':' && (isBlank(s.peek(1)) || (inFlow && isFlowIndicator(s.peek(1))))) ||
				(b == '#' && s.i > 0 && (s.data[s.i-1] == ' ' || s.data[s.i-1] == '\t')) || (inFlow && isFlowIndicator(b)) {
				break
			}
			s.advance()
		}
		if s.i == from { // a lone ':' before a flow indicator
			s.advance()
		}
	}
	if err := s.scalarDone(startI, startLine, startCol); err != nil {
		return err
	}
	// A block mapping key: the scalar is followed by ":".
	if !inFlow {
		for s.i < len(s.data) && (s.data[s.i] == ' ' || s.data[s.i] == '\t') {
			s.advance()
		}
		if s.peek(0) == ':' && isBlank(s.peek(1)) {
			return s.blockEntry(startCol, false)
		}
	}
	return nil
}

func isFlowIndicator(c byte) bool { return c == ',' || c == '[' || c == ']' || c == '{' || c == '}' }

func (s *scanner) skipLine() {
	for s.i < len(s.data) && s.data[s.i] != '\n' {
		s.advance()
	}
}

// blockScalar skips a literal (|) or folded (>) scalar: its header line, then every line indented more
// than the node that holds it, up to the first less indented line that is not blank.
func (s *scanner) blockScalar() *shapeLimitError {
	if err := s.node(); err != nil {
		return err
	}
	parent := -1
	if len(s.block) > 0 {
		parent = s.block[len(s.block)-1].indent
	}
	startI, startLine, startCol := s.i, s.line, s.col
	s.skipLine()
	content := -1 // the scalar's indentation, fixed by its first non-blank line
	for s.i < len(s.data) {
		// s.i is at a newline; look at the next line.
		j, indent := s.i+1, 0
		for j < len(s.data) && s.data[j] == ' ' {
			j++
			indent++
		}
		if j >= len(s.data) {
			break
		}
		if b := s.data[j]; b != '\n' && b != '\r' {
			if content < 0 {
				content = indent
			}
			if indent <= parent || indent < content {
				break
			}
		}
		s.advance()
		s.skipLine()
	}
	return s.scalarDone(startI, startLine, startCol)
}

// unclosedFlow finds the outermost `{` or `[` that is never closed, for a syntax error that the parser
// reports only where it gave up; ok is false when every flow collection is closed (or the scan stopped at
// a limit).
func unclosedFlow(data []byte) (open byte, line, col int, ok bool) {
	s := scanner{data: data, line: 1}
	if s.run() != nil || len(s.flow) == 0 {
		return 0, 0, 0, false
	}
	l := s.flow[0]
	open = '{'
	if l.seq {
		open = '['
	}
	return open, l.line, l.col, true
}

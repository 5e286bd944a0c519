// Package pathnorm owns the one normalization of a request path that every target performs before route
// matching (DESIGN.md, "Semantics every target must reproduce", item 3). The reference gateway calls Normalize
// on every request, manifest validation calls IsNormalized on every match path, and the renderers reproduce the
// algorithm below in JS and VCL. The algorithm is therefore the spec: a target that decides one path differently
// is a bug in that target, and a change here is a change to every target.
//
// The package must stay pure: no I/O, no configuration, no knowledge of routes, hosts or query strings. Its
// input is the request-target path without the query string (everything before the first "?"), exactly as it
// arrived, not yet decoded by anything.
//
// # Outcome
//
// A path is either accepted, and the result is the path routes match on and the path forwarded upstream, or
// rejected with a *RejectError, which the gateway answers with 400. Rejection fails closed: when a byte could be
// read two ways by the edge and by the origin, the path is rejected rather than guessed.
//
// # Algorithm
//
// Terms: "hex digit" is 0-9, A-F or a-f; "unreserved" is A-Z a-z 0-9 "-" "." "_" "~" (RFC 3986 section 2.3);
// bytes are compared as bytes, never as characters. The output is built left to right in one pass over the
// input. The quoted reasons are the RejectError reasons.
//
//	Step 1. The path must start with "/", else reject "not an absolute path".
//	        The leading "/" starts the output.
//
//	Step 2. Read the rest of the input byte by byte. A raw "/" ends the current
//	        segment (step 4). Every other byte adds to the current segment:
//
//	  2a. "%" must be followed by two hex digits, else reject
//	      "malformed percent escape" ("%" at the end, "%4", "%G1"). The three
//	      bytes are consumed together and stand for the byte v they encode:
//	        v = "/"                  reject "encoded slash"
//	        v = "\"                  reject "encoded backslash"
//	        v = ";"                  reject "encoded path parameter"
//	        v = 0x00                 reject "encoded nul byte"
//	        v = 0x01-0x1F or 0x7F    reject "encoded control byte"
//	        v = 0xC0 or 0xC1         reject "overlong utf-8"
//	        v unreserved             output v itself ("%41" -> "A", "%2e" -> ".")
//	        any other v, "%" too     output "%" + v as two UPPERCASE hex digits
//	                                 ("%c3%a9" -> "%C3%A9", "%25" -> "%25")
//
//	  2b. Any other raw byte b:
//	        b = "\"                  reject "raw backslash"
//	        b = ";"                  reject "path parameter"
//	        b = 0x00-0x1F or 0x7F    reject "control byte"
//	        b = 0xC0 or 0xC1         reject "overlong utf-8"
//	        b unreserved, or one of  output b as is
//	          ! $ & ' ( ) * + , = : @
//	        anything else            output "%" + b as two UPPERCASE hex digits:
//	                                 space " # < > ? [ ] ^ ` { | } and
//	                                 0x80-0xFF except 0xC0 and 0xC1
//
//	Step 3. Each time a hex digit is output as itself (raw, or decoded as the
//	        "4" and "1" of "%25%34%31"): if the output now ends with "%25"
//	        followed by two hex digits, reject "double encoding".
//
//	Step 4. At each raw "/" and at the end of the input, look at the segment
//	        just finished in its OUTPUT form (so "%2e%2E" has become ".."):
//	          empty    drop it (this collapses "//" to "/")
//	          "."      drop it
//	          ".."     drop it and the last kept segment; if no segment is
//	                   kept yet, reject "above the root"
//	          other    keep it
//
//	Step 5. Result = "/" + kept segments joined with "/", + a trailing "/" when
//	        the input's last segment was empty, "." or ".." and at least one
//	        segment is kept:
//	          "/a/" -> "/a/"   "/a/b/.." -> "/a/"   "/a/.." -> "/"   "/." -> "/"
//
// Why these rules: "%2F", "%5C" and a raw "\" are read as a separator by some origins and not others; "%00" and
// control bytes truncate or split strings in C-based origins and logs; 0xC0 and 0xC1 only ever start an
// overlong UTF-8 sequence, the classic way to smuggle "." or "/" past a filter; "%25XX" turns into XX at an
// origin that decodes twice; ";" starts a path parameter that Java servlet containers strip before routing, and
// "%3B" is rejected too because some of them decode before they strip. Decoding only unreserved bytes and
// writing hex in uppercase is RFC 3986 section 6.2.2 normalization: the two spellings of an unreserved byte are
// equivalent, while "%40" and "@" (reserved) are not and stay distinct. Case is kept everywhere else, because
// paths are case-sensitive at the origin.
//
// A rejection anywhere in the input stands even when a later ".." would drop the segment holding it. Rules are
// checked left to right; when a path breaks more than one, the reason names the first one met. Targets must
// agree on accept/reject and on the result, not on the reason text.
//
// # Raw bytes
//
// A raw space or raw non-ASCII byte is not legal in a request-target, but it is percent-encoded here rather than
// rejected. Several targets see the path only after a URL parser has encoded such bytes (the WHATWG URL parser
// behind Workers turns "/é" into "/%C3%A9"); encoding them here gives every target the same bytes for the same
// request. The two bytes that are rejected when encoded (0xC0, 0xC1) are rejected raw too: otherwise the
// encoded form this function produced would itself be rejected, and the result would not be idempotent.
//
// Normalize is idempotent: an accepted result normalizes to itself.
package pathnorm

import "strconv"

// RejectError reports a request path that fails normalization. The gateway answers it with 400.
type RejectError struct {
	Path   string // the raw path as received
	Reason string // what rule it broke, e.g. "encoded slash"
}

func (e *RejectError) Error() string {
	return "pathnorm: reject " + strconv.Quote(e.Path) + ": " + e.Reason
}

// IsNormalized reports whether p is accepted and already in normal form. Manifest validation uses it on match
// paths: a route written in any other form could never match a normalized request path.
func IsNormalized(p string) bool {
	n, err := Normalize(p)
	return err == nil && n == p
}

// Normalize returns the normalized form of a raw request path (without the query string), or a *RejectError.
// The algorithm is the package documentation.
func Normalize(raw string) (string, error) {
	if len(raw) == 0 || raw[0] != '/' {
		return "", &RejectError{Path: raw, Reason: "not an absolute path"}
	}
	// Most request paths are already normal. Skip the longest prefix that step 2 copies unchanged and step 4
	// keeps, so the byte-by-byte work below starts where the first change or check is; a normal path never
	// reaches it.
	i := 1
	seg := 1 // where the current segment starts in the output; 1 means no segment is kept yet
	for ; i < len(raw); i++ {
		c := raw[i]
		if rawAction[c] == keepLiteral {
			continue
		}
		if c != '/' || isDropped(raw[seg:i]) {
			break
		}
		seg = i + 1
	}
	if i == len(raw) && (seg == i || !isDropped(raw[seg:])) {
		return raw, nil
	}
	o := output{src: raw, w: i}
	for ; i < len(raw); i++ {
		c := raw[i]
		a := rawAction[c]
		if a == decodeEscape {
			if i+2 >= len(raw) || unhex[raw[i+1]] > 0xf || unhex[raw[i+2]] > 0xf {
				return "", &RejectError{Path: raw, Reason: "malformed percent escape"}
			}
			c = unhex[raw[i+1]]<<4 | unhex[raw[i+2]]
			a = decodedAction[c]
			i += 2
		}
		switch a {
		case keepLiteral:
			if unhex[c] <= 0xf && o.endsWithPercent25Hex() {
				return "", &RejectError{Path: raw, Reason: "double encoding"}
			}
			o.append(c)
		case keepEscaped:
			o.append('%')
			o.append(upperHex[c>>4])
			o.append(upperHex[c&0xf])
		case endSegment:
			if !o.endSegment(&seg, false) {
				return "", &RejectError{Path: raw, Reason: "above the root"}
			}
		default:
			return "", &RejectError{Path: raw, Reason: rejectReason[a]}
		}
	}
	if !o.endSegment(&seg, true) {
		return "", &RejectError{Path: raw, Reason: "above the root"}
	}
	return o.string(), nil
}

// isDropped reports whether step 4 drops a segment: empty, "." or "..".
func isDropped(seg string) bool {
	return seg == "" || seg == "." || seg == ".."
}

// action is what step 2 does with one byte, raw or decoded from an escape.
type action uint8

const (
	keepEscaped  action = iota // output as %XX, uppercase hex
	keepLiteral                // output as is
	endSegment                 // raw "/"
	decodeEscape               // raw "%"
	rejectRawBackslash
	rejectRawParam
	rejectRawControl
	rejectOverlong
	rejectEncodedSlash
	rejectEncodedBackslash
	rejectEncodedParam
	rejectEncodedNUL
	rejectEncodedControl
)

var rejectReason = [...]string{
	rejectRawBackslash:     "raw backslash",
	rejectRawParam:         "path parameter",
	rejectRawControl:       "control byte",
	rejectOverlong:         "overlong utf-8",
	rejectEncodedSlash:     "encoded slash",
	rejectEncodedBackslash: "encoded backslash",
	rejectEncodedParam:     "encoded path parameter",
	rejectEncodedNUL:       "encoded nul byte",
	rejectEncodedControl:   "encoded control byte",
}

// Lookup tables keep the per-byte work to one load and one switch; they are built once from the rules in the
// package documentation so the rules are written in one place.
var (
	rawAction     [256]action // step 2b, plus "/" and "%"
	decodedAction [256]action // step 2a, for the byte an escape stands for
	unhex         [256]byte   // hex digit value, 0xff for a non-hex byte
)

const upperHex = "0123456789ABCDEF"

func init() {
	const unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
	const rawSubDelims = "!$&'()*+,=:@" // RFC 3986 pchar minus unreserved, escapes and ";"
	for i := range unhex {
		unhex[i] = 0xff
	}
	for i, c := range "0123456789ABCDEF" {
		unhex[c] = byte(i)
	}
	for i, c := range "abcdef" {
		unhex[c] = byte(10 + i)
	}
	// Zero values are keepEscaped: anything not named below is percent-encoded.
	for i := range 256 {
		if i < 0x20 || i == 0x7f {
			rawAction[i] = rejectRawControl
			decodedAction[i] = rejectEncodedControl
		}
	}
	for _, c := range []byte(unreserved) {
		rawAction[c] = keepLiteral
		decodedAction[c] = keepLiteral
	}
	for _, c := range []byte(rawSubDelims) {
		rawAction[c] = keepLiteral
	}
	rawAction['/'] = endSegment
	rawAction['%'] = decodeEscape
	rawAction['\\'] = rejectRawBackslash
	rawAction[';'] = rejectRawParam
	rawAction[0xc0] = rejectOverlong
	rawAction[0xc1] = rejectOverlong
	decodedAction['/'] = rejectEncodedSlash
	decodedAction['\\'] = rejectEncodedBackslash
	decodedAction[';'] = rejectEncodedParam
	decodedAction[0x00] = rejectEncodedNUL
	decodedAction[0xc0] = rejectOverlong
	decodedAction[0xc1] = rejectOverlong
}

// output is the result being built. Most request paths are already normal, so it stays a prefix of the input
// (src[:w]) and allocates nothing until the first byte that differs, as path.Clean does. Truncating keeps it a
// prefix, so ".." resolution does not force a copy either.
type output struct {
	src string
	buf []byte // nil while the output is src[:w]
	w   int
}

func (o *output) append(c byte) {
	if o.buf == nil {
		if o.w < len(o.src) && o.src[o.w] == c {
			o.w++
			return
		}
		// Escapes can triple a byte; a little headroom avoids a second grow for the common single escape.
		o.buf = make([]byte, o.w, len(o.src)+8)
		copy(o.buf, o.src[:o.w])
	}
	o.buf = append(o.buf, c)
	o.w++
}

func (o *output) at(i int) byte {
	if o.buf == nil {
		return o.src[i]
	}
	return o.buf[i]
}

func (o *output) truncate(n int) {
	o.w = n
	if o.buf != nil {
		o.buf = o.buf[:n]
	}
}

// endsWithPercent25Hex reports whether the output ends with "%25" and one hex digit, so that one more hex digit
// would complete a double encoding. A "%" in the output always starts a whole escape, so the four bytes are
// "%25" followed by a literal.
func (o *output) endsWithPercent25Hex() bool {
	n := o.w
	return n >= 5 && o.at(n-4) == '%' && o.at(n-3) == '2' && o.at(n-2) == '5' && unhex[o.at(n-1)] <= 0xf
}

// endSegment applies step 4 to the segment output[*seg:] and, when it is kept and more input follows, starts the
// next one. It reports false when ".." would go above the root. The output always ends with "/" when the
// segment is dropped, which is what leaves the trailing slash of step 5.
func (o *output) endSegment(seg *int, last bool) bool {
	s := *seg
	switch o.w - s {
	case 0:
		return true
	case 1:
		if o.at(s) == '.' {
			o.truncate(s)
			return true
		}
	case 2:
		if o.at(s) == '.' && o.at(s+1) == '.' {
			if s == 1 {
				return false
			}
			j := s - 2 // the last byte of the previous kept segment; its start follows the "/" before it
			for o.at(j) != '/' {
				j--
			}
			o.truncate(j + 1)
			*seg = j + 1
			return true
		}
	}
	if !last {
		o.append('/')
		*seg = o.w
	}
	return true
}

func (o *output) string() string {
	if o.buf == nil {
		return o.src[:o.w]
	}
	return string(o.buf)
}

package pathnorm

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/internal/testenv"
)

// vector is one row of testdata/paths.tsv: want is the normalized path, or "400".
type vector struct {
	line           int
	raw, want, why string
}

func readVectors(t testing.TB, path string) []vector {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open test vectors: %v", err)
	}
	defer f.Close()
	var vs []vector
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) != 3 {
			t.Fatalf("%s:%d: want 3 tab-separated fields (raw, normalized or 400, why), got %d", path, n, len(fields))
		}
		vs = append(vs, vector{line: n, raw: fields[0], want: fields[1], why: fields[2]})
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return vs
}

// TestSharedVectors runs every row of the shared attack-path list: every target must decide each one this way.
func TestSharedVectors(t *testing.T) {
	vs := readVectors(t, "testdata/paths.tsv")
	if len(vs) == 0 {
		t.Fatal("testdata/paths.tsv holds no vectors")
	}
	for _, v := range vs {
		got, err := Normalize(v.raw)
		switch {
		case v.want == "400" && err == nil:
			t.Errorf("paths.tsv:%d: Normalize(%q) = %q, want 400 (%s)", v.line, v.raw, got, v.why)
		case v.want == "400":
			var re *RejectError
			if !errors.As(err, &re) {
				t.Errorf("paths.tsv:%d: Normalize(%q) error %v is not a *RejectError", v.line, v.raw, err)
			}
		case err != nil:
			t.Errorf("paths.tsv:%d: Normalize(%q) = %v, want %q (%s)", v.line, v.raw, err, v.want, v.why)
		case got != v.want:
			t.Errorf("paths.tsv:%d: Normalize(%q) = %q, want %q (%s)", v.line, v.raw, got, v.want, v.why)
		}
	}
}

// TestSharedVectorsInStep catches the package copy drifting from the list every target is tested against.
func TestSharedVectorsInStep(t *testing.T) {
	shared := testenv.SharedFile(t, "testvectors/paths.tsv")
	want, err := os.ReadFile(shared)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("testdata/paths.tsv")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("testdata/paths.tsv differs from %s: copy the shared file over it and fix what TestSharedVectors reports",
			shared)
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		raw    string
		want   string // normalized path, when reason is empty
		reason string // RejectError.Reason, empty when accepted
	}{
		// Dot segments and the trailing slash.
		{raw: "/", want: "/"},
		{raw: "/.", want: "/"},
		{raw: "/./", want: "/"},
		{raw: "/./.", want: "/"},
		{raw: "/a/.", want: "/a/"},
		{raw: "/a/./", want: "/a/"},
		{raw: "/a/..", want: "/"},
		{raw: "/a/../", want: "/"},
		{raw: "/a/b/..", want: "/a/"},
		{raw: "/a/b/../", want: "/a/"},
		{raw: "/a/./b", want: "/a/b"},
		{raw: "/a/b/../../c", want: "/c"},
		{raw: "/a/b/c/./../../d/", want: "/a/d/"},
		{raw: "/..", reason: "above the root"},
		{raw: "/../", reason: "above the root"},
		{raw: "/./..", reason: "above the root"},
		{raw: "/a/../..", reason: "above the root"},
		{raw: "/a/b/../../../c", reason: "above the root"},
		{raw: "/../%2f", reason: "above the root"}, // the first rule met names the reason
		// Not dot segments.
		{raw: "/...", want: "/..."},
		{raw: "/a/.../", want: "/a/.../"},
		{raw: "/a/.b/..b/b.", want: "/a/.b/..b/b."},
		{raw: "/.well-known/jwks.json", want: "/.well-known/jwks.json"},
		// Encoded dots are dots.
		{raw: "/%2e", want: "/"},
		{raw: "/a/%2E/", want: "/a/"},
		{raw: "/a/%2e%2E", want: "/"},
		{raw: "/a/.%2e/b", want: "/b"},
		{raw: "/a/%2e./b", want: "/b"},
		{raw: "/a%2Eb", want: "/a.b"},
		{raw: "/%2e%2e", reason: "above the root"},
		{raw: "/%2E.", reason: "above the root"},
		{raw: "/.%2e/", reason: "above the root"},
		// Empty segments collapse and never count for "..".
		{raw: "//", want: "/"},
		{raw: "/a//", want: "/a/"},
		{raw: "/a///b", want: "/a/b"},
		{raw: "/a/b//..", want: "/a/"},
		{raw: "//..", reason: "above the root"},
		// Unreserved bytes are decoded, case kept; other escapes stay, hex in uppercase.
		{raw: "/%7e%7E%5f%2D", want: "/~~_-"},
		{raw: "/%61%41%30%39", want: "/aA09"},
		{raw: "/a%c3%a9", want: "/a%C3%A9"},
		{raw: "/a%C3%A9", want: "/a%C3%A9"},
		{raw: "/a%2b%2Cb", want: "/a%2B%2Cb"},
		{raw: "/a%40b", want: "/a%40b"}, // reserved: "%40" and "@" are different paths
		{raw: "/a%3fb%23c", want: "/a%3Fb%23c"},
		{raw: "/%80%ff%Fe", want: "/%80%FF%FE"},
		{raw: "/%20", want: "/%20"},
		// Raw bytes RFC 3986 allows in a segment stay; the others are encoded.
		{raw: "/a@b:c!$&'()*+,=", want: "/a@b:c!$&'()*+,="},
		{raw: "/a b", want: "/a%20b"},
		{raw: "/a\"<>[]^`{|}#?", want: "/a%22%3C%3E%5B%5D%5E%60%7B%7C%7D%23%3F"},
		{raw: "/caf\xc3\xa9", want: "/caf%C3%A9"},
		{raw: "/\xff\x80", want: "/%FF%80"},
		// A literal percent sign is "%25"; "%25" followed by two hex digits is a double encoding.
		{raw: "/100%25", want: "/100%25"},
		{raw: "/100%25/41", want: "/100%25/41"},
		{raw: "/%25zz", want: "/%25zz"},
		{raw: "/%25a", want: "/%25a"},
		{raw: "/%25a/b", want: "/%25a/b"},
		{raw: "/%25G1", want: "/%25G1"},
		{raw: "/%25a%20", want: "/%25a%20"},
		{raw: "/%252e", reason: "double encoding"},
		{raw: "/%2541", reason: "double encoding"},
		{raw: "/%25fF", reason: "double encoding"},
		{raw: "/%25%34%31", reason: "double encoding"}, // becomes "%2541" once unreserved bytes are decoded
		{raw: "/%25A%41", reason: "double encoding"},
		{raw: "/%2541/..", reason: "double encoding"}, // a later ".." does not excuse it
		// Malformed escapes.
		{raw: "/%", reason: "malformed percent escape"},
		{raw: "/a%", reason: "malformed percent escape"},
		{raw: "/%4", reason: "malformed percent escape"},
		{raw: "/%G1", reason: "malformed percent escape"},
		{raw: "/%1G", reason: "malformed percent escape"},
		{raw: "/%4/1", reason: "malformed percent escape"},
		{raw: "/%%41", reason: "malformed percent escape"},
		{raw: "/%+1", reason: "malformed percent escape"},
		{raw: "/% 1", reason: "malformed percent escape"},
		// Separators, parameters, control bytes, overlong UTF-8.
		{raw: "/a%2fb", reason: "encoded slash"},
		{raw: "/a%2Fb", reason: "encoded slash"},
		{raw: "/a%5cb", reason: "encoded backslash"},
		{raw: "/a%5Cb", reason: "encoded backslash"},
		{raw: "/a\\b", reason: "raw backslash"},
		{raw: "/a;b", reason: "path parameter"},
		{raw: "/;", reason: "path parameter"},
		{raw: "/a%3bb", reason: "encoded path parameter"},
		{raw: "/a%3B", reason: "encoded path parameter"},
		{raw: "/%00", reason: "encoded nul byte"},
		{raw: "/%0a", reason: "encoded control byte"},
		{raw: "/%0D%0A", reason: "encoded control byte"},
		{raw: "/%1F", reason: "encoded control byte"},
		{raw: "/%7f", reason: "encoded control byte"},
		{raw: "/a\x00", reason: "control byte"},
		{raw: "/a\nb", reason: "control byte"},
		{raw: "/a\tb", reason: "control byte"},
		{raw: "/a\x7f", reason: "control byte"},
		{raw: "/%c0%af", reason: "overlong utf-8"},
		{raw: "/%C1%9C", reason: "overlong utf-8"},
		{raw: "/\xc0\xae", reason: "overlong utf-8"},
		{raw: "/\xc1", reason: "overlong utf-8"},
		// Not an absolute path.
		{raw: "", reason: "not an absolute path"},
		{raw: "*", reason: "not an absolute path"},
		{raw: "a/b", reason: "not an absolute path"},
		{raw: "%2F", reason: "not an absolute path"},
		{raw: "\\a", reason: "not an absolute path"},
		{raw: "https://api.example.com/", reason: "not an absolute path"},
	}
	for _, tt := range tests {
		got, err := Normalize(tt.raw)
		if tt.reason == "" {
			if err != nil || got != tt.want {
				t.Errorf("Normalize(%q) = %q, %v; want %q", tt.raw, got, err, tt.want)
			}
			continue
		}
		var re *RejectError
		if !errors.As(err, &re) {
			t.Errorf("Normalize(%q) = %q, %v; want reject %q", tt.raw, got, err, tt.reason)
			continue
		}
		if re.Reason != tt.reason || re.Path != tt.raw || got != "" {
			t.Errorf("Normalize(%q) = %q, reject %q of %q; want reject %q", tt.raw, got, re.Reason, re.Path, tt.reason)
		}
	}
}

func TestRejectErrorMessage(t *testing.T) {
	_, err := Normalize("/a%2fb")
	const want = `pathnorm: reject "/a%2fb": encoded slash`
	if err == nil || err.Error() != want {
		t.Fatalf("Normalize(%q) error = %v, want %s", "/a%2fb", err, want)
	}
	// Control bytes in a logged path must not reach the log raw.
	_, err = Normalize("/a\r\nX-Injected: 1")
	if err == nil || strings.ContainsAny(err.Error(), "\r\n") {
		t.Fatalf("error message %q must quote control bytes", err)
	}
}

func TestIsNormalized(t *testing.T) {
	for _, p := range []string{"/", "/health", "/v2/users/", "/v1/users/%C3%A9", "/a@b", "/100%25"} {
		if !IsNormalized(p) {
			t.Errorf("IsNormalized(%q) = false, want true", p)
		}
	}
	for _, p := range []string{"", "health", "//health", "/v2/./users", "/v2/users/..", "/%61", "/%c3%a9", "/a b",
		"/a;b", "/a%2fb", "/..", "/%2541"} {
		if IsNormalized(p) {
			t.Errorf("IsNormalized(%q) = true, want false", p)
		}
	}
}

// The gateway normalizes every request; a path already in normal form, the common case, must cost no allocation.
func TestNormalizeDoesNotAllocateNormalPaths(t *testing.T) {
	for _, p := range []string{"/", "/v2/users/12345", "/v1/users/%C3%A9/", "/.well-known/jwks.json"} {
		if n := testing.AllocsPerRun(100, func() { _, _ = Normalize(p) }); n != 0 {
			t.Errorf("Normalize(%q) allocates %v times, want 0", p, n)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, v := range readVectors(f, "testdata/paths.tsv") {
		f.Add(v.raw)
	}
	for _, s := range []string{"/", "/a/./b/../c//d/", "/%2e%2E/", "/%25%34%31", "/%c3%a9 x", "/\xc0\xae", "/a%3bb",
		"/a\\b", "/%", "/%4", "/%G1", "/%25a%66"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := Normalize(raw)
		want, ok := normalizeBySpec(raw)
		if err != nil {
			var re *RejectError
			if !errors.As(err, &re) || re.Path != raw || re.Reason == "" {
				t.Fatalf("Normalize(%q) error %#v: want a *RejectError holding the path and a reason", raw, err)
			}
			if ok {
				t.Fatalf("Normalize(%q) rejects (%s), the documented steps give %q", raw, re.Reason, want)
			}
			return
		}
		if !ok {
			t.Fatalf("Normalize(%q) = %q, the documented steps reject it", raw, got)
		}
		if got != want {
			t.Fatalf("Normalize(%q) = %q, the documented steps give %q", raw, got, want)
		}
		checkNormalForm(t, raw, got)
		again, err := Normalize(got)
		if err != nil || again != got {
			t.Fatalf("not idempotent: Normalize(%q) = %q, Normalize(%q) = %q, %v", raw, got, got, again, err)
		}
		if !IsNormalized(got) {
			t.Fatalf("IsNormalized(%q) = false for the output of Normalize(%q)", got, raw)
		}
	})
}

// checkNormalForm asserts what every consumer of an accepted path relies on.
func checkNormalForm(t *testing.T, raw, p string) {
	t.Helper()
	if !strings.HasPrefix(p, "/") {
		t.Fatalf("Normalize(%q) = %q: does not start with /", raw, p)
	}
	if strings.Contains(p, "//") {
		t.Fatalf("Normalize(%q) = %q: holds //", raw, p)
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "." || seg == ".." {
			t.Fatalf("Normalize(%q) = %q: holds a dot segment", raw, p)
		}
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c < 0x20 || c >= 0x7f || c == '\\' || c == ';' {
			t.Fatalf("Normalize(%q) = %q: holds byte %#x raw", raw, p, c)
		}
		if c != '%' {
			continue
		}
		if i+2 >= len(p) || !isUpperHex(p[i+1]) || !isUpperHex(p[i+2]) {
			t.Fatalf("Normalize(%q) = %q: escape at %d is not %%XX in uppercase hex", raw, p, i)
		}
		if v, _ := strconv.ParseUint(p[i+1:i+3], 16, 8); isUnreserved(byte(v)) {
			t.Fatalf("Normalize(%q) = %q: unreserved byte left encoded at %d", raw, p, i)
		}
	}
}

func isUpperHex(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' }

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0
}

// normalizeBySpec follows the package documentation step by step, the way a JS or VCL renderer would: split
// into segments, rewrite each, then resolve dot segments. It is slow and obvious on purpose, so the fuzz test
// holds the single-pass Normalize to the written spec.
func normalizeBySpec(raw string) (string, bool) {
	if !strings.HasPrefix(raw, "/") { // step 1
		return "", false
	}
	segs := strings.Split(raw[1:], "/")
	out := make([]string, len(segs))
	for n, seg := range segs { // steps 2 and 3, whole input first: a rejection stands even in a dropped segment
		var b strings.Builder
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if c == '%' { // 2a
				if i+2 >= len(seg) {
					return "", false
				}
				v, err := strconv.ParseUint(seg[i+1:i+3], 16, 8)
				if err != nil {
					return "", false
				}
				i += 2
				c = byte(v)
				switch {
				case c == '/' || c == '\\' || c == ';' || c < 0x20 || c == 0x7f || c == 0xc0 || c == 0xc1:
					return "", false
				case isUnreserved(c):
					b.WriteByte(c)
				default:
					b.WriteString("%" + strings.ToUpper(strconv.FormatUint(uint64(c)>>4, 16)+strconv.FormatUint(uint64(c)&15, 16)))
				}
				continue
			}
			switch { // 2b
			case c == '\\' || c == ';' || c < 0x20 || c == 0x7f || c == 0xc0 || c == 0xc1:
				return "", false
			case isUnreserved(c) || strings.IndexByte("!$&'()*+,=:@", c) >= 0:
				b.WriteByte(c)
			default:
				b.WriteString("%" + strings.ToUpper(strconv.FormatUint(uint64(c)>>4, 16)+strconv.FormatUint(uint64(c)&15, 16)))
			}
		}
		s := b.String()
		for i := 0; i+5 <= len(s); i++ { // step 3
			if s[i:i+3] == "%25" && isHex(s[i+3]) && isHex(s[i+4]) {
				return "", false
			}
		}
		out[n] = s
	}
	var kept []string
	for _, s := range out { // step 4
		switch s {
		case "", ".":
		case "..":
			if len(kept) == 0 {
				return "", false
			}
			kept = kept[:len(kept)-1]
		default:
			kept = append(kept, s)
		}
	}
	p := "/" + strings.Join(kept, "/") // step 5
	if last := out[len(out)-1]; len(kept) > 0 && (last == "" || last == "." || last == "..") {
		p += "/"
	}
	return p, true
}

func isHex(c byte) bool { return isUpperHex(c) || 'a' <= c && c <= 'f' }

func BenchmarkNormalize(b *testing.B) {
	for _, bc := range []struct{ name, raw string }{
		{"normal", "/v2/users/12345/orders"},
		{"normal-long", "/api/v1/tenants/acme-corp/projects/website-redesign/assets/images/hero-banner.webp"},
		{"escapes", "/v1/users/%c3%a9l%C3%A8ve/%7Ebob"},
		{"dot-segments", "/static/../v2/./users//12345/"},
		{"reject", "/public/..%2fadmin"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.raw)))
			for b.Loop() {
				_, _ = Normalize(bc.raw)
			}
		})
	}
}

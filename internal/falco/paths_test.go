package falco

import (
	"context"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/internal/testenv"
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/manifest/pathnorm"
)

const pathsManifest = `version: 1
name: paths
domains: [{host: api.example.com, zone: example.com}]
origins: {app: {url: "http://127.0.0.1:1"}}
pools: {app: {origins: [app]}}
routes:
  - {name: all, match: {fallback: true}, pool: app}
`

func pathsGateway(t *testing.T) *ir.Gateway {
	t.Helper()
	g, diags := manifest.LoadBytes("paths.yaml", []byte(pathsManifest), manifest.LoadOptions{})
	if g == nil {
		t.Fatal(diags)
	}
	return g
}

// TestPathVectors sends every row of shared/testvectors/paths.tsv through the generated VCL: a 400 row must be
// refused by the VCL with the BAD_PATH answer, any other row must reach the origin with exactly the
// normalized path of the row.
func TestPathVectors(t *testing.T) {
	requireFalco(t)
	data, err := os.ReadFile(testenv.SharedFile(t, "testvectors/paths.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	g := pathsGateway(t)
	o := newOrigins(t, g)
	in, err := NewEngine().Open(context.Background(), g, o.urls(), testrun.Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	bad := g.Error(ir.CodeBadPath)
	rows, passed := 0, 0
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		raw, want := f[0], f[1]
		rows++
		got, err := falcoDo(t, in, o, requestTo("api.example.com", raw, nil))
		if err != nil {
			t.Errorf("%s: %v", raw, err)
			continue
		}
		switch {
		case want == "400":
			if got.status != 400 || got.body != bad.Body || len(got.received) != 0 {
				t.Errorf("%s: want the VCL's 400 BAD_PATH, got %d %q, upstream %s", raw, got.status, got.body, describe(got.received))
				continue
			}
		default:
			if got.status != 200 || len(got.received) != 1 || got.received[0].uri != want {
				t.Errorf("%s: want upstream %s, got %d, upstream %s", raw, want, got.status, describe(got.received))
				continue
			}
		}
		passed++
	}
	t.Logf("paths.tsv: %d/%d rows decided as listed by the generated VCL", passed, rows)
	if rows < 30 {
		t.Fatalf("read %d rows; the file has more", rows)
	}
}

// TestPathCorpusDifferential sends generated paths, built from the pieces attacks are made of, through the
// VCL and compares each decision with manifest/pathnorm, the reference's normalization. Paths the
// simulator's own HTTP parser refuses before any VCL runs are counted apart and never counted as a pass.
func TestPathCorpusDifferential(t *testing.T) {
	requireFalco(t)
	g := pathsGateway(t)
	o := newOrigins(t, g)
	in, err := NewEngine().Open(context.Background(), g, o.urls(), testrun.Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	pieces := []string{"a", "B", "..", ".", "", "%2e", "%2E%2e", ".%2e", "%41", "%7e", "%7E", "%c3%a9", "%C3%A9", "%25",
		"%2541", "%25%34%31", "%2f", "%5C", "%3b", "%00", "%1f", "%7F", "%c0", "%C1%81", "~", "-_.", "!$&'()*+,=:@",
		"%40", "%20", "x%2", "%G1", "%", "a.b", "...", "..a", "%2e%2e%2e", "[x]", "%5B", "%7B%7D"}
	rnd := rand.New(rand.NewPCG(1, 2))
	agree, total, parserRefused := 0, 0, 0
	for i := 0; i < 400; i++ {
		n := 1 + rnd.IntN(5)
		var b strings.Builder
		for j := 0; j < n; j++ {
			b.WriteString("/")
			b.WriteString(pieces[rnd.IntN(len(pieces))])
			if rnd.IntN(4) == 0 {
				b.WriteString(pieces[rnd.IntN(len(pieces))])
			}
		}
		raw := b.String()
		total++
		want, werr := pathnorm.Normalize(raw)
		got, err := falcoDo(t, in, o, requestTo("api.example.com", raw, nil))
		if err != nil {
			if strings.Contains(err.Error(), "did not produce a response (400)") {
				parserRefused++ // Go's HTTP server in the simulator refused the request line itself
				if werr == nil {
					t.Errorf("%s: the simulator's HTTP parser refused a path the reference accepts (%s)", raw, want)
				}
				continue
			}
			t.Errorf("%s: %v", raw, err)
			continue
		}
		switch {
		case werr != nil:
			if got.status != 400 || len(got.received) != 0 {
				t.Errorf("%s: reference refuses (%v), fastly %d upstream %s", raw, werr, got.status, describe(got.received))
				continue
			}
		default:
			if got.status != 200 || len(got.received) != 1 || got.received[0].uri != want {
				t.Errorf("%s: reference forwards %s, fastly %d upstream %s", raw, want, got.status, describe(got.received))
				continue
			}
		}
		agree++
	}
	t.Logf("generated paths: %d/%d decided as the reference decides by the VCL; %d refused by the simulator's HTTP parser before the VCL ran (not counted as agreeing)", agree, total, parserRefused)
}

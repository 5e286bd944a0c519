package njs_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/render/cloudfront"
	"github.com/edgegw/edgegw/render/cloudfront/njs"
)

// bearerOnly is the baseline: a hand-written CloudFront Function that only checks that a Bearer
// Authorization header is there.
const bearerOnly = `function handler(event) {
  var a = event.request.headers.authorization;
  if (!a || a.value.indexOf("Bearer ") !== 0) return { statusCode: 401, statusDescription: "Unauthorized" };
  return event.request;
}
`

// loop runs handler n times on the event inside one njs process and prints the nanoseconds per call.
const loop = `
var __ev = %s;
var __n = %d;
async function __run() {
  var __t0 = Date.now();
  for (var __i = 0; __i < __n; __i++) await handler(JSON.parse(JSON.stringify(__ev)));
  console.log(String((Date.now() - __t0) * 1e6 / __n));
}
__run();
`

func nsPerCall(t testing.TB, dir, code string, ev []byte, n int) float64 {
	t.Helper()
	file := filepath.Join(dir, "bench.js")
	if err := os.WriteFile(file, []byte(code+fmt.Sprintf(loop, ev, n)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("njs", "-q", "-t", "module", "-p", dir, file).CombinedOutput()
	if err != nil {
		t.Fatalf("njs: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	v, err := strconv.ParseFloat(lines[len(lines)-1], 64)
	if err != nil {
		t.Fatalf("njs output %q", out)
	}
	return v
}

// BenchmarkTimePerRequest measures, in the same run, the quickstart example's generated viewer-request
// function on a proxied request beside the bearer-only baseline, 20,000 calls in one njs process per
// round, three rounds each (each call includes a copy of the event, the same for both), and reports the
// medians and their ratio: go test ./render/cloudfront/njs -run XXX -bench TimePerRequest -benchtime 1x
func BenchmarkTimePerRequest(b *testing.B) {
	t := b
	requireNJS(t)
	g, diags := manifest.Load(filepath.Join("..", "..", "..", "testdata", "examples", "quickstart.yaml"))
	if g == nil {
		t.Fatalf("quickstart does not load: %v", diags)
	}
	arts, err := cloudfront.RenderWith(g, cloudfront.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cloudfront"), []byte("export default { kvs: function () { return {}; }, selectRequestOriginById: function () {}, createRequestOriginGroup: function () {} };\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ev := njs.BuildEvent(&testrun.ClientRequest{Method: "GET", Target: "/api/orders?page=2", Host: "api.example.com",
		Header: http.Header{"Authorization": {"Bearer x"}, "Accept": {"application/json"}}, Now: time.Now()}, "req-1")
	delete(ev.Request.Headers, "x-edgegw-test-now")
	delete(ev.Request.Headers, "x-edgegw-test-scheme")
	evJSON, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	code := string(arts[0].Data)
	if !bytes.Contains(arts[0].Data, []byte("function handler")) {
		t.Fatal("no handler in the rendered function")
	}
	const n = 20000
	var gen, base []float64
	for round := 0; round < 3; round++ {
		gen = append(gen, nsPerCall(t, dir, code, evJSON, n))
		base = append(base, nsPerCall(t, dir, bearerOnly, evJSON, n))
	}
	t.Logf("generated viewer-request: %.0f %.0f %.0f ns/request; bearer-only baseline: %.0f %.0f %.0f ns/request; ratio of medians %.1f",
		gen[0], gen[1], gen[2], base[0], base[1], base[2], median(gen)/median(base))
	b.ReportMetric(median(gen), "generated-ns/req")
	b.ReportMetric(median(base), "baseline-ns/req")
	b.ReportMetric(median(gen)/median(base), "ratio")
}

func median(v []float64) float64 {
	a, b, c := v[0], v[1], v[2]
	if (a <= b && b <= c) || (c <= b && b <= a) {
		return b
	}
	if (b <= a && a <= c) || (c <= a && a <= b) {
		return a
	}
	return c
}

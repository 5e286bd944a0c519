package falco

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgegw/edgegw/gateway"
	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/internal/testenv"
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"

	_ "github.com/edgegw/edgegw/providers/all" // the manifest reads each target's block as its target registered it
)

// requireFalco stops the test when falco cannot be built: a failure under CI, a skip elsewhere.
func requireFalco(t *testing.T) {
	t.Helper()
	_, err := simulator()
	if err == nil {
		_, err = Binary()
	}
	testenv.Require(t, "falco (tools/falco, built by scripts/install-test-deps.sh)", err)
}

// origins are loopback recording servers, one per origin of a gateway, answering 200 unless scripted.
type origins struct {
	mu     sync.Mutex
	srv    map[string]*httptest.Server
	status map[string]int // scripted status per origin
	got    []received
}

type received struct {
	origin string
	uri    string
	header http.Header
}

func newOrigins(t *testing.T, g *ir.Gateway) *origins {
	o := &origins{srv: map[string]*httptest.Server{}, status: map[string]int{}}
	for _, org := range g.Origins {
		name := org.Name
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			o.mu.Lock()
			o.got = append(o.got, received{origin: name, uri: r.RequestURI, header: r.Header.Clone()})
			st := o.status[name]
			o.mu.Unlock()
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("X-Origin", name)
			if loc := r.Header.Get("X-Want-Location"); loc != "" {
				// The test names the Location to answer with; {self} is this origin's own host:port.
				w.Header().Set("Location", strings.ReplaceAll(loc, "{self}", r.Host))
			}
			if st != 0 {
				w.WriteHeader(st)
			}
			_, _ = io.WriteString(w, "origin "+name+"\n")
		}))
		t.Cleanup(s.Close)
		o.srv[name] = s
	}
	return o
}

func (o *origins) urls() map[string]string {
	m := map[string]string{}
	for n, s := range o.srv {
		m[n] = s.URL
	}
	return m
}

func (o *origins) take() []received {
	o.mu.Lock()
	defer o.mu.Unlock()
	g := o.got
	o.got = nil
	return g
}

// outcome is what a client and the origins saw for one request.
type outcome struct {
	status   int
	header   http.Header
	body     string
	route    string
	pool     string
	received []received
}

// refDo sends req through the reference gateway.
func refDo(t *testing.T, g *ir.Gateway, o *origins, now time.Time, req *testrun.ClientRequest) outcome {
	t.Helper()
	return refDoEnv(t, g, o, req, testrun.Env{Now: func() time.Time { return now }})
}

// refDoEnv is refDo with the run's environment (HS secrets); the clock is the request's.
func refDoEnv(t *testing.T, g *ir.Gateway, o *origins, req *testrun.ClientRequest, env testrun.Env) outcome {
	t.Helper()
	getenv := env.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	now := req.Now
	gw, err := gateway.New(g, gateway.Options{Now: func() time.Time { return now }, OriginURLs: o.urls(), Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", req.Method, req.Target, req.Host)
	for k, vs := range req.Header {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")
	hr, err := http.ReadRequest(bufioReader(b.String()))
	if err != nil {
		t.Fatalf("request %s: %v", req.Target, err)
	}
	hr.RemoteAddr = req.ClientIP + ":50000"
	if req.Scheme != "http" {
		hr.TLS = &tls.ConnectionState{} // as testrun sends it: https unless the request says http
	}
	var d gateway.Decision
	rec := httptest.NewRecorder()
	o.take()
	gw.ServeHTTP(rec, hr.WithContext(gateway.WithDecision(context.Background(), &d)))
	return outcome{status: rec.Code, header: rec.Header(), body: rec.Body.String(), route: d.Route, pool: d.Pool, received: o.take()}
}

// falcoDo sends req through an instance of the engine.
func falcoDo(t *testing.T, in testrun.Instance, o *origins, req *testrun.ClientRequest) (outcome, error) {
	t.Helper()
	o.take()
	resp, err := in.Do(context.Background(), req)
	if err != nil {
		return outcome{}, err
	}
	return outcome{status: resp.Status, header: resp.Header, body: string(resp.Body), route: resp.Decision["route"],
		pool: resp.Decision["pool"], received: o.take()}, nil
}

// Headers one runtime adds and the other does not, none of them decided by the manifest.
var (
	runtimeResponseHeaders = []string{"Date", "Content-Length", "Connection", "Via", "X-Served-By", "X-Cache", "X-Cache-Hits"}
	runtimeUpstreamHeaders = []string{"Accept-Encoding", "User-Agent", "Content-Length", "Fastly-Ff", "Connection"}
	uuidV4                 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
)

// diff lists every difference between the reference's and falco's outcome that a client or an origin could
// notice; request ids must both be fresh UUIDv4s rather than equal.
func diff(ref, got outcome, requestID string) []string {
	var d []string
	if ref.status != got.status {
		d = append(d, fmt.Sprintf("status: reference %d, fastly %d", ref.status, got.status))
	}
	if ref.body != got.body {
		d = append(d, fmt.Sprintf("body: reference %q, fastly %q", ref.body, got.body))
	}
	if ref.route != got.route || ref.pool != got.pool {
		d = append(d, fmt.Sprintf("decision: reference route %q pool %q, fastly route %q pool %q", ref.route, ref.pool, got.route, got.pool))
	}
	d = append(d, headerDiff("response header", ref.header, got.header, runtimeResponseHeaders, "", func(name, v string) bool {
		return name == "Server" && v == "Falco" // the simulator's own, where the manifest does not remove it
	})...)
	if len(ref.received) != len(got.received) {
		d = append(d, fmt.Sprintf("upstream: reference sent %d requests %s, fastly %d %s", len(ref.received), describe(ref.received), len(got.received), describe(got.received)))
		return d
	}
	for i := range ref.received {
		r, g := ref.received[i], got.received[i]
		if r.origin != g.origin || r.uri != g.uri {
			d = append(d, fmt.Sprintf("upstream %d: reference %s %s, fastly %s %s", i+1, r.origin, r.uri, g.origin, g.uri))
		}
		d = append(d, headerDiff("upstream header", r.header, g.header, runtimeUpstreamHeaders, requestID, nil)...)
	}
	return d
}

func describe(rs []received) string {
	var s []string
	for _, r := range rs {
		s = append(s, r.origin+" "+r.uri)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

func headerDiff(what string, ref, got http.Header, ignore []string, requestID string, allowExtra func(name, v string) bool) []string {
	var d []string
	skip := map[string]bool{}
	for _, h := range ignore {
		skip[http.CanonicalHeaderKey(h)] = true
	}
	names := map[string]bool{}
	for k := range ref {
		names[http.CanonicalHeaderKey(k)] = true
	}
	for k := range got {
		names[http.CanonicalHeaderKey(k)] = true
	}
	var sorted []string
	for k := range names {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		if skip[k] {
			continue
		}
		rv, gv := strings.Join(ref.Values(k), ", "), strings.Join(got.Values(k), ", ")
		if requestID != "" && k == http.CanonicalHeaderKey(requestID) {
			if rv == gv && rv != "" && !uuidV4.MatchString(rv) {
				continue // a client's own id, kept
			}
			if !uuidV4.MatchString(rv) || !uuidV4.MatchString(gv) {
				d = append(d, fmt.Sprintf("%s %s: want fresh UUIDv4s, reference %q, fastly %q", what, k, rv, gv))
			}
			continue
		}
		if rv == gv {
			continue
		}
		if rv == "" && allowExtra != nil && allowExtra(k, gv) {
			continue
		}
		d = append(d, fmt.Sprintf("%s %s: reference %q, fastly %q", what, k, rv, gv))
	}
	return d
}

// exampleManifests returns the example manifests: testdata/examples and every manifest in README.md.
func exampleManifests(t *testing.T) map[string]*ir.Gateway {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*ir.Gateway{}
	files, _ := filepath.Glob(filepath.Join(root, "testdata", "examples", "*.yaml"))
	for _, f := range files {
		g, diags := manifest.Load(f)
		if g == nil {
			t.Fatalf("%s: %v", f, diags)
		}
		out["testdata/examples/"+filepath.Base(f)] = g
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for i, block := range yamlBlocks(string(readme)) {
		if !strings.Contains(block, "version: 1") || !strings.Contains(block, "routes:") {
			continue
		}
		name := fmt.Sprintf("README.md#yaml%d", i+1)
		g, diags := manifest.LoadBytes(name, []byte(block), manifest.LoadOptions{ReadFile: manifest.DirReader(root)})
		if g == nil {
			t.Fatalf("%s: %v", name, diags)
		}
		out[name] = g
	}
	return out
}

func yamlBlocks(md string) []string {
	var out []string
	for {
		i := strings.Index(md, "```yaml\n")
		if i < 0 {
			return out
		}
		md = md[i+len("```yaml\n"):]
		j := strings.Index(md, "```")
		if j < 0 {
			return out
		}
		out = append(out, md[:j])
		md = md[j+3:]
	}
}

// publicPEM is a key's SPKI PEM, the form a manifest key file holds.
func publicPEM(t *testing.T, k any) string {
	t.Helper()
	switch k.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey:
	default:
		t.Fatalf("no PEM for %T", k)
	}
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func manifestLoad(t *testing.T, example string) (*ir.Gateway, manifest.Diagnostics) {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return manifest.Load(filepath.Join(root, "testdata", "examples", example))
}

package falco

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/edgegw/edgegw/gateway/jwtverify"
	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/render/fastly"
)

// Engine runs the fastly target's test-mode VCL in falco's interpreter. It implements testrun.Engine.
//
// What falco v1.21.1 executes here, and what it does not (each is tested by lint and a golden file instead,
// and the suite's cases that need it are declared by Unexecutable):
//   - rate limits: the interpreter builds a fresh context, ratecounters included, for every request, so a
//     counter never passes 1 and no request is ever limited;
//   - backend health: every backend is healthy (probes never run), so the unhealthy branch of a pool's
//     candidate list is not taken;
//   - an origin that cannot be reached or times out ends the request with an interpreter error rather than
//     Fastly's vcl_error with 503, so failover on connect failure is not executed (failover on a listed
//     status is: vcl_fetch restarts and the next origin receives the request);
//   - std.collect is a no-op, so of a header sent on several lines only the first is seen (header conditions,
//     a repeated Authorization);
//   - Go's HTTP server in front of the interpreter refuses a request-target with a malformed escape ("%G1",
//     a lone "%") with its own 400 before any VCL runs, so the VCL's rule for those is not executed;
//   - falco rebuilds the upstream request line from the decoded path; tools/falco/simulate sends the URL
//     the test-mode VCL decided instead (fastly.TestURLHeader), byte for byte.
type Engine struct {
	// Production loads the VCL as it is deployed instead of the test-mode VCL: falco's own clock, the
	// connection's client address and scheme (plain http: the simulator serves no TLS), no decision
	// reported, the test headers dropped like any client's.
	Production bool
	// Dictionaries are edge dictionary items to load besides the HS secrets, by dictionary name: what the
	// provider keeps at Fastly, such as a policy's JWKS keys (fastly.JWKSItems).
	Dictionaries map[string]map[string]string
}

var _ testrun.Engine = Engine{}

// NewEngine returns the falco engine.
func NewEngine() Engine { return Engine{} }

var (
	simOnce sync.Once
	simPath string
	simErr  error
)

// simulator builds tools/falco/simulate (see that command for why falco's own simulate subcommand is not
// used), once per cache key (cachedBuild).
func simulator() (string, error) {
	simOnce.Do(func() { simPath, simErr = cachedBuild("simulate", "./simulate") })
	return simPath, simErr
}

// TestVCL renders g for the engine: origins moved to the loopback URLs, the dictionary declarations Fastly
// would generate in front, test mode on.
func TestVCL(g *ir.Gateway, origins map[string]string) ([]byte, error) {
	return renderFor(g, origins, true)
}

func renderFor(g *ir.Gateway, origins map[string]string, test bool) ([]byte, error) {
	cp := *g
	cp.Origins = make([]ir.Origin, len(g.Origins))
	var hosts []string // the manifest's origin hosts, which the reference maps a Location back from too
	for i, o := range g.Origins {
		if u, ok := origins[o.Name]; ok {
			if mu, err := url.Parse(o.URL); err == nil && mu.Host != "" {
				hosts = append(hosts, mu.Host)
			}
			o.URL = u
		}
		cp.Origins[i] = o
	}
	opt := fastly.Options{Test: test}
	if test {
		opt.OriginHosts = hosts
	}
	vcl, err := fastly.RenderVCL(&cp, opt)
	if err != nil {
		return nil, err
	}
	return append([]byte(fastly.DictionaryDeclarations(&cp)), vcl...), nil
}

// Open implements testrun.Engine.
func (e Engine) Open(ctx context.Context, g *ir.Gateway, origins map[string]string, env testrun.Env) (testrun.Instance, error) {
	bin, err := simulator()
	if err != nil {
		return nil, err
	}
	vcl, err := renderFor(g, origins, !e.Production)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "edgegw-fastly-")
	if err != nil {
		return nil, fmt.Errorf("falco: %w", err)
	}
	inst := &instance{dir: dir}
	fail := func(err error) (testrun.Instance, error) {
		_ = inst.Close()
		return nil, err
	}
	main := filepath.Join(dir, "main.vcl")
	if err := os.WriteFile(main, vcl, 0o600); err != nil {
		return fail(fmt.Errorf("falco: %w", err))
	}
	// HS secrets reach the VCL as they do on Fastly: items of the secrets edge dictionary.
	secrets := map[string]string{}
	for _, p := range g.AuthPolicies {
		if p.JWT != nil && p.JWT.Secret != nil && p.JWT.Secret.Env != "" && env.Getenv != nil {
			if v := env.Getenv(p.JWT.Secret.Env); v != "" {
				secrets[p.JWT.Secret.Env] = base64.StdEncoding.EncodeToString([]byte(v))
			}
		}
	}
	dicts := map[string]map[string]string{}
	if len(secrets) > 0 {
		dicts[fastly.SecretsDictionary] = secrets
	}
	// A policy's JWKS keys reach the VCL as the provider puts them there: the key set fetched from the
	// policy's URL (the test runner serves its keys on loopback), one item per key and algorithm.
	for _, p := range g.AuthPolicies {
		name := fastly.JWKSDictionary(g, p.Name)
		if name == "" || e.Dictionaries[name] != nil {
			continue
		}
		items, err := fetchJWKS(ctx, p.JWT.JWKS.URL, p.JWT.Algorithms)
		if err != nil {
			continue // an unreachable key set leaves the dictionary empty: the VCL refuses with JWT_KEY
		}
		dicts[name] = map[string]string{}
		for k, v := range items {
			dicts[name][k] = base64.StdEncoding.EncodeToString([]byte(v))
		}
	}
	for name, items := range e.Dictionaries {
		if dicts[name] == nil {
			dicts[name] = map[string]string{}
		}
		for k, v := range items {
			dicts[name][k] = base64.StdEncoding.EncodeToString([]byte(v))
		}
	}
	cfg := map[string]any{"max_backends": len(g.Origins) + 5}
	if len(dicts) > 0 {
		cfg["edge_dictionaries"] = dicts
	}
	cb, _ := json.Marshal(cfg)
	cfgPath := filepath.Join(dir, "run.json")
	if err := os.WriteFile(cfgPath, cb, 0o600); err != nil {
		return fail(fmt.Errorf("falco: %w", err))
	}
	cmd := exec.Command(bin, "-config", cfgPath, main)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fail(fmt.Errorf("falco: %w", err))
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fail(fmt.Errorf("falco: %w", err))
	}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return fail(fmt.Errorf("falco: start simulator: %w", err))
	}
	inst.cmd, inst.stdin, inst.stderr = cmd, stdin, stderr
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		ready <- strings.TrimSpace(line)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case line := <-ready:
		addr, ok := strings.CutPrefix(line, "listening on ")
		if !ok {
			_ = cmd.Wait()
			return fail(fmt.Errorf("falco: simulator did not start: %s %s", line, stderr.tail()))
		}
		inst.addr = addr
	case <-time.After(30 * time.Second):
		return fail(errors.New("falco: simulator did not start within 30s"))
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	return inst, nil
}

// fetchJWKS reads the key set at url and returns the items of its JWKS dictionary (fastly.JWKSItems).
func fetchJWKS(ctx context.Context, url string, algs []string) (map[string]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("falco: jwks %s: status %d", url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	keys, err := jwtverify.ParseKeys(body, "")
	if err != nil {
		return nil, err
	}
	return fastly.JWKSItems(keys, algs), nil
}

type instance struct {
	dir    string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *lockedBuffer
	addr   string
}

// lockedBuffer collects the simulator's stderr, read when a request fails.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 64<<10 {
		l.b.Reset()
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	if len(s) > 2000 {
		s = s[len(s)-2000:]
	}
	return strings.TrimSpace(s)
}

// Do implements testrun.Instance: one raw HTTP/1.1 request, the request-target written as given.
func (in *instance) Do(ctx context.Context, req *testrun.ClientRequest) (*testrun.ClientResponse, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", in.addr)
	if err != nil {
		return nil, fmt.Errorf("falco: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	} else {
		_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, req.Target, req.Host)
	for name, vals := range req.Header {
		if strings.EqualFold(name, "Host") || strings.EqualFold(name, "Content-Length") {
			continue
		}
		for _, v := range vals {
			fmt.Fprintf(&b, "%s: %s\r\n", name, v)
		}
	}
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	fmt.Fprintf(&b, "%s: %d\r\n", fastly.TestNowHeader, now.Unix())
	ip := req.ClientIP
	if ip == "" {
		ip = "192.0.2.1"
	}
	fmt.Fprintf(&b, "%s: %s\r\n", fastly.TestClientIPHeader, ip)
	scheme := req.Scheme
	if scheme == "" {
		scheme = "https"
	}
	fmt.Fprintf(&b, "%s: %s\r\n", fastly.TestSchemeHeader, scheme)
	fmt.Fprintf(&b, "Content-Length: %d\r\nConnection: close\r\n\r\n", len(req.Body))
	b.Write(req.Body)
	if _, err := conn.Write(b.Bytes()); err != nil {
		return nil, fmt.Errorf("falco: send: %w", err)
	}
	outer, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, fmt.Errorf("falco: read: %w (simulator: %s)", err, in.stderr.tail())
	}
	defer outer.Body.Close()
	body, err := io.ReadAll(outer.Body)
	if err != nil {
		return nil, fmt.Errorf("falco: read: %w", err)
	}
	// The interpreter writes the VCL's response, status line included, as the body of its own answer; a
	// runtime error in the VCL is a plain 500 from the server instead.
	if !bytes.HasPrefix(body, []byte("HTTP/")) {
		return nil, fmt.Errorf("falco: the VCL did not produce a response (%d): %s", outer.StatusCode, strings.TrimSpace(string(body)))
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(body)), &http.Request{Method: method}) // no body for HEAD
	if err != nil {
		return nil, fmt.Errorf("falco: read the VCL's response: %w", err)
	}
	rb, _ := io.ReadAll(resp.Body)
	out := &testrun.ClientResponse{Status: resp.StatusCode, Header: resp.Header, Body: rb, Decision: map[string]string{}}
	for key, name := range map[string]string{"route": fastly.TestRouteHeader, "pool": fastly.TestPoolHeader, "jwt": fastly.TestJWTHeader} {
		if v := resp.Header.Get(name); v != "" {
			out.Decision[key] = v
		}
		resp.Header.Del(name)
	}
	return out, nil
}

// Close stops the simulator (closing its stdin ends it) and removes the files.
func (in *instance) Close() error {
	if in.cmd != nil && in.cmd.Process != nil {
		_ = in.stdin.Close()
		done := make(chan struct{})
		go func() { _ = in.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = in.cmd.Process.Kill()
			<-done
		}
	}
	return os.RemoveAll(in.dir)
}

// Package workerd runs rendered Cloudflare Workers in workerd, the real Workers runtime, through the npm
// package miniflare (pinned in package.json and package-lock.json here; scripts/install-test-deps.sh runs
// `npm ci` in this folder). It implements testrun.Engine: the conformance loop and the tests open an
// instance per case and send it raw client requests.
//
// One node process (driver.mjs) serves a whole test binary; each Open starts a fresh Miniflare (fresh
// Durable Object state) and talks to the Worker's own socket, so attack paths reach the Worker exactly as
// workerd hands them over. The package must stay out of production code paths: it is a test runtime.
package workerd

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/render/cloudflare"
)

// The test-mode headers the Worker reads (render/cloudflare Options.Test).
const (
	headerNow      = "X-Edgegw-Test-Now"
	headerScheme   = "X-Edgegw-Test-Scheme"
	headerDecision = "X-Edgegw-Test-Decision"
)

// Engine loads Workers into workerd. The zero value finds the driver beside this package's source (the
// repository's render/cloudflare/workerd, with node_modules installed) and node on PATH; it is safe for
// concurrent use. Close stops the driver.
type Engine struct {
	// Dir holds driver.mjs and node_modules. Default: $EDGEGW_WORKERD_DIR, else render/cloudflare/workerd of
	// the repository that holds the working directory.
	Dir string
	// Node is the node executable. Default: node on PATH.
	Node string
	// Scheme is the scheme of a request that names none ("https" when empty).
	Scheme string

	once     sync.Once
	startErr error
	mu       sync.Mutex
	stdin    io.WriteCloser
	cmd      *exec.Cmd
	nextID   int
	pending  map[int]chan driverReply
	stderr   *tailBuffer
	dead     error
}

var _ testrun.Engine = (*Engine)(nil)

// Default is the engine a test binary or the registry shares: one node process for all its instances.
var Default = &Engine{}

type driverReply struct {
	ID     int    `json:"id"`
	Handle int    `json:"handle"`
	URL    string `json:"url"`
	Error  string `json:"error"`
}

// FindDir returns the driver folder of the repository holding the working directory.
func FindDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	start := dir
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "render", "cloudflare", "workerd"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("render/cloudflare/workerd: no edgegw checkout holds the working directory %s, so the workerd install (miniflare) is not found: "+
				"run from inside a checkout (after scripts/install-test-deps.sh, or `npm ci` in its render/cloudflare/workerd), or set EDGEGW_WORKERD_DIR to that folder", start)
		}
		dir = parent
	}
}

// Available reports why the engine cannot run (node or the installed miniflare missing), or nil.
func (e *Engine) Available() error {
	node, dir, err := e.paths()
	if err != nil {
		return err
	}
	if _, err := exec.LookPath(node); err != nil {
		return fmt.Errorf("render/cloudflare/workerd: node not found: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "miniflare", "package.json")); err != nil {
		return fmt.Errorf("render/cloudflare/workerd: miniflare is not installed in %s (run `npm ci` there, or scripts/install-test-deps.sh)", dir)
	}
	return nil
}

func (e *Engine) paths() (node, dir string, err error) {
	node, dir = e.Node, e.Dir
	if node == "" {
		node = "node"
	}
	if dir == "" {
		dir = os.Getenv("EDGEGW_WORKERD_DIR")
	}
	if dir == "" {
		dir, err = FindDir()
	}
	return node, dir, err
}

func (e *Engine) start() error {
	e.once.Do(func() {
		if err := e.Available(); err != nil {
			e.startErr = fmt.Errorf("%w: %w", testrun.ErrRuntimeMissing, err)
			return
		}
		node, dir, _ := e.paths()
		cmd := exec.Command(node, "driver.mjs")
		cmd.Dir = dir
		stdin, err := cmd.StdinPipe()
		if err != nil {
			e.startErr = err
			return
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			e.startErr = err
			return
		}
		e.stderr = &tailBuffer{max: 16 << 10}
		cmd.Stderr = e.stderr
		if err := cmd.Start(); err != nil {
			e.startErr = fmt.Errorf("render/cloudflare/workerd: start node driver.mjs: %w", err)
			return
		}
		e.cmd, e.stdin, e.pending = cmd, stdin, map[int]chan driverReply{}
		go e.read(stdout)
	})
	return e.startErr
}

func (e *Engine) read(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var r driverReply
		if json.Unmarshal(sc.Bytes(), &r) != nil {
			continue // miniflare or workerd wrote a line of its own
		}
		e.mu.Lock()
		ch := e.pending[r.ID]
		delete(e.pending, r.ID)
		e.mu.Unlock()
		if ch != nil {
			ch <- r
		}
	}
	err := e.cmd.Wait()
	e.mu.Lock()
	e.dead = fmt.Errorf("render/cloudflare/workerd: the node driver ended (%v): %s", err, e.stderr.String())
	for id, ch := range e.pending {
		close(ch)
		delete(e.pending, id)
	}
	e.mu.Unlock()
}

func (e *Engine) call(ctx context.Context, req map[string]any) (driverReply, error) {
	if err := e.start(); err != nil {
		return driverReply{}, err
	}
	e.mu.Lock()
	if e.dead != nil {
		e.mu.Unlock()
		return driverReply{}, e.dead
	}
	e.nextID++
	id := e.nextID
	req["id"] = id
	ch := make(chan driverReply, 1)
	e.pending[id] = ch
	line, err := json.Marshal(req)
	if err == nil {
		_, err = e.stdin.Write(append(line, '\n'))
	}
	e.mu.Unlock()
	if err != nil {
		return driverReply{}, fmt.Errorf("render/cloudflare/workerd: write to the driver: %w", err)
	}
	select {
	case r, ok := <-ch:
		if !ok {
			e.mu.Lock()
			defer e.mu.Unlock()
			return driverReply{}, e.dead
		}
		if r.Error != "" {
			return r, fmt.Errorf("render/cloudflare/workerd: %s", r.Error)
		}
		return r, nil
	case <-ctx.Done():
		e.mu.Lock()
		delete(e.pending, id)
		e.mu.Unlock()
		return driverReply{}, ctx.Err()
	}
}

// Close stops the driver and every instance it still holds.
func (e *Engine) Close() error {
	e.mu.Lock()
	stdin := e.stdin
	e.mu.Unlock()
	if stdin == nil {
		return nil
	}
	return stdin.Close()
}

// Open implements testrun.Engine: it renders g in test mode with its origins at the given URLs and loads it
// into a fresh workerd. Secrets of g are read through env.Getenv and become the Worker's bindings, as
// Workers secrets are.
func (e *Engine) Open(ctx context.Context, g *ir.Gateway, origins map[string]string, env testrun.Env) (testrun.Instance, error) {
	arts, err := cloudflare.RenderWith(g, cloudflare.Options{Test: true, OriginURLs: origins})
	if err != nil {
		return nil, err
	}
	var script, date string
	for _, a := range arts {
		switch a.Path {
		case cloudflare.WorkerFile:
			script = string(a.Data)
		case cloudflare.MetadataFile:
			var md cloudflare.Metadata
			if err := json.Unmarshal(a.Data, &md); err != nil {
				return nil, fmt.Errorf("render/cloudflare/workerd: metadata: %w", err)
			}
			date = md.CompatibilityDate
		}
	}
	bindings := map[string]string{}
	for _, p := range g.AuthPolicies {
		name := cloudflare.SecretBinding(p)
		if name == "" {
			continue
		}
		v := p.JWT.Secret.Literal
		if p.JWT.Secret.Env != "" && env.Getenv != nil {
			v = env.Getenv(p.JWT.Secret.Env)
		}
		if v != "" {
			bindings[name] = v
		}
	}
	return e.openScript(ctx, script, date, bindings)
}

// openScript loads one Worker module into a fresh workerd.
func (e *Engine) openScript(ctx context.Context, script, date string, bindings map[string]string) (*instance, error) {
	r, err := e.call(ctx, map[string]any{"op": "open", "script": script, "compatibilityDate": date, "bindings": bindings})
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(r.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("render/cloudflare/workerd: the driver gave the URL %q", r.URL)
	}
	scheme := e.Scheme
	if scheme == "" {
		scheme = "https"
	}
	return &instance{e: e, handle: r.Handle, addr: u.Host, scheme: scheme}, nil
}

type instance struct {
	e      *Engine
	handle int
	addr   string
	scheme string
}

// Do implements testrun.Instance: the request goes to the Worker's socket byte for byte as written.
func (in *instance) Do(ctx context.Context, req *testrun.ClientRequest) (*testrun.ClientResponse, error) {
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	target := req.Target
	if target == "" {
		target = "/"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, target, req.Host)
	for name, vals := range req.Header {
		if strings.EqualFold(name, "Host") || strings.EqualFold(name, "Content-Length") || strings.EqualFold(name, "Connection") {
			continue
		}
		for _, v := range vals {
			fmt.Fprintf(&b, "%s: %s\r\n", name, v)
		}
	}
	ip := req.ClientIP
	if ip == "" {
		ip = testrun.DefaultClientIP
	}
	fmt.Fprintf(&b, "CF-Connecting-IP: %s\r\n%s: %s\r\n", ip, headerScheme, schemeOf(req, in.scheme))
	if !req.Now.IsZero() {
		fmt.Fprintf(&b, "%s: %d\r\n", headerNow, req.Now.UnixMilli())
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\nConnection: close\r\n\r\n", len(req.Body))
	b.Write(req.Body)

	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", in.addr)
	if err != nil {
		return nil, fmt.Errorf("render/cloudflare/workerd: dial the Worker: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	} else {
		_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	}
	if _, err := conn.Write(b.Bytes()); err != nil {
		return nil, fmt.Errorf("render/cloudflare/workerd: send: %w", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		return nil, fmt.Errorf("render/cloudflare/workerd: read the response: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("render/cloudflare/workerd: read the body: %w", err)
	}
	out := &testrun.ClientResponse{Status: resp.StatusCode, Header: resp.Header, Body: body}
	if raw := resp.Header.Get(headerDecision); raw != "" {
		var dec map[string]string
		if json.Unmarshal([]byte(raw), &dec) == nil {
			out.Decision = map[string]string{}
			for k, v := range dec {
				if v != "" {
					out.Decision[k] = v
				}
			}
		}
		resp.Header.Del(headerDecision)
	}
	return out, nil
}

// schemeOf is the scheme the client used: the request's, else the engine's (https by default).
func schemeOf(req *testrun.ClientRequest, engineScheme string) string {
	if req.Scheme != "" {
		return req.Scheme
	}
	return engineScheme
}

// Close implements testrun.Instance.
func (in *instance) Close() error {
	_, err := in.e.call(context.Background(), map[string]any{"op": "close", "handle": in.handle})
	return err
}

// tailBuffer keeps the last max bytes written (the driver's stderr, for error messages).
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strconv.Quote(string(t.buf))
}

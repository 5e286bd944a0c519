// Package dev implements `edgegw dev`: the reference gateway serving a manifest on localhost, reloaded when
// the file changes, with one log line per request.
package dev

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/cmd/root"
	"github.com/edgegw/edgegw/gateway"
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers/local"
)

// DevOptions are the inputs of `edgegw dev`.
type DevOptions struct {
	IO           *cmdutil.IOStreams
	ManifestPath string
	Color        bool
	Listen       string
	Origins      []string // name=url
	LogFormat    string   // pretty or json
	Host         string   // the domain a request for an unknown Host is served as
	Getenv       func(string) string
	Now          func() time.Time
	Context      context.Context
	// PollInterval is how often the manifest is checked for changes.
	PollInterval time.Duration
	// Load reads the gateway to serve; default manifest.Load(ManifestPath). A deploy source can replace it.
	Load func() (*ir.Gateway, manifest.Diagnostics)
	// Watch returns a fingerprint of what Load reads; a change triggers a reload. Default: the manifest
	// file's content hash.
	Watch func() (string, error)
	// Ready is called with the listening address once the server accepts connections.
	Ready func(addr string)

	// Deployed serves the active version of the local target instead of the manifest, and follows
	// apply and rollback. It is chosen when no -f is given and LocalDir holds a live version.
	Deployed bool
	LocalDir string
	// source names what is served, for messages: the manifest path or the local deploy.
	source string
}

func init() {
	root.AddCommand(func(f *cmdutil.Factory) *cobra.Command { return NewCmdDev(f, nil) })
}

// NewCmdDev builds the command; runF replaces the behaviour in tests.
func NewCmdDev(f *cmdutil.Factory, runF func(*DevOptions) error) *cobra.Command {
	opts := &DevOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:         "dev",
		Short:       "Serve the manifest with the reference gateway on localhost",
		Annotations: map[string]string{cmdutil.AnnotationNoJSONStream: "request logs: --log-format json"},
		Long: `Serve the manifest on localhost with the reference gateway: the semantics every target reproduces.
The manifest is reloaded when it changes; an invalid edit prints its diagnostics and the last good
configuration keeps serving. Origins can be pointed at local servers with --origin name=url.

Requests are routed by their Host header, as at the edge: a host that is none of the manifest's domains is
answered 404. A request to 127.0.0.1, localhost or [::1] is served as the domain --host names (default:
the first non-wildcard domain); send -H 'Host: api.example.com' to reach another one.

With no -f, in a project that has applied to the local target, dev serves the live local version instead
(as --deployed does) and follows every apply and rollback: each request reads the local target's current
link, so a request sent after apply or rollback returned sees the version they made live. Pass
-f edgegw.yaml to serve the manifest itself. Stop dev with Ctrl-C.

Each request is logged on stdout:
  GET /v2/users -> 200 OK (12ms) route=v2 pool=api origin=primary
  POST /v2/auth -> 401 Unauthorized (4ms) route=v2 [JWT_MISSING]`,
		Example: `  edgegw dev -f edgegw.yaml --origin primary=http://127.0.0.1:9000
  curl -H 'Host: api.example.com' http://127.0.0.1:8787/health`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ManifestPath, opts.Color = f.ManifestPath, f.Color()
			opts.Getenv, opts.Now, opts.Context = f.Getenv, f.Now, cmd.Context()
			// With no -f, a project that has deployed to the local target is served as deployed: what
			// apply and rollback made live is what answers.
			// A deploy that is there but broken is an error, never a silent fall back to edgegw.yaml.
			if mf := cmd.Flag("manifest"); !opts.Deployed && (mf == nil || !mf.Changed) {
				_, _, err := local.Active(opts.LocalDir)
				switch {
				case err == nil:
					opts.Deployed = true
				case !errors.Is(err, local.ErrNothingDeployed):
					return fmt.Errorf("dev: the live local deploy cannot be served: %w; repair it with `edgegw rollback` (the previous version) or `edgegw apply` (a new one), or serve the manifest itself with -f %s", err, f.ManifestPath)
				}
			}
			if runF != nil {
				return runF(opts)
			}
			return Run(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Listen, "listen", "127.0.0.1:8787", "address to serve on")
	cmd.Flags().StringArrayVar(&opts.Origins, "origin", nil, "replace an origin's URL: name=url (repeatable)")
	cmd.Flags().StringVar(&opts.LogFormat, "log-format", "pretty", "request log format: pretty or json")
	cmd.Flags().BoolVar(&opts.Deployed, "deployed", false, "serve the active version of the local target (the default when no -f is given and one is live)")
	cmd.Flags().StringVar(&opts.LocalDir, "local-dir", local.DefaultDir, "the local target's directory, for --deployed")
	cmd.Flags().StringVar(&opts.Host, "host", "", "serve requests to 127.0.0.1, localhost and [::1] as this domain (default: the first non-wildcard domain); other unknown hosts are 404")
	return cmd
}

// server holds the gateway being served; a reload swaps it atomically.
type server struct {
	o       *DevOptions
	origins map[string]string
	current atomic.Pointer[gateway.Gateway]
	logMu   sync.Mutex
	// host is the domain a request for a loopback name (127.0.0.1, localhost) is served as.
	host atomic.Pointer[string]
	// perRequest checks the fingerprint before every request (the deployed source: one readlink), so a
	// request sent after apply or rollback returned is answered by the version they made live.
	perRequest bool
	reloadMu   sync.Mutex
	fp         string
	stopProbes func()
	ctx        context.Context
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.perRequest {
		s.reloadIfChanged()
	}
	if h := s.host.Load(); h != nil && *h != "" && isLoopbackName(r.Host) {
		r.Host = *h
	}
	s.current.Load().ServeHTTP(w, r)
}

// isLoopbackName reports whether a Host header names this machine (localhost, 127.0.0.1, [::1]), with or
// without a port. Only such requests are served as --host; any other unknown host is 404.
func isLoopbackName(hostport string) bool {
	h := hostport
	if hh, _, err := net.SplitHostPort(hostport); err == nil {
		h = hh
	}
	h = strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// reloadIfChanged rebuilds the gateway when what Watch fingerprints changed since the last build.
func (s *server) reloadIfChanged() {
	now, err := s.o.Watch()
	if err != nil {
		return
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if now == s.fp {
		return
	}
	s.fp = now
	gw, err := s.build()
	if err != nil {
		fmt.Fprintf(s.o.IO.ErrOut, "edgegw dev: %s; still serving the last good configuration\n", strings.TrimPrefix(err.Error(), "dev: "))
		return
	}
	s.current.Store(gw)
	s.stopProbes()
	s.stopProbes = s.startProbes(s.ctx, gw)
	fmt.Fprintf(s.o.IO.ErrOut, "edgegw dev: reloaded %s (%d routes)\n", s.o.source, len(gw.IR().Routes))
}

// Run serves until the context is cancelled.
func Run(o *DevOptions) error {
	if o.LogFormat != "pretty" && o.LogFormat != "json" {
		return fmt.Errorf("dev: --log-format %q: use pretty or json", o.LogFormat)
	}
	origins := map[string]string{}
	for _, kv := range o.Origins {
		name, url, ok := strings.Cut(kv, "=")
		if !ok || name == "" || url == "" {
			return fmt.Errorf("dev: --origin %q: use name=url, e.g. primary=http://127.0.0.1:9000", kv)
		}
		origins[name] = url
	}
	o.source = o.ManifestPath
	if o.Deployed && o.Load == nil {
		o.source = "the local deploy in " + o.LocalDir
		o.Load = func() (*ir.Gateway, manifest.Diagnostics) {
			g, v, err := local.Active(o.LocalDir)
			if err != nil {
				return nil, manifest.Diagnostics{{Severity: manifest.SeverityError, Code: manifest.CodeReadFile, Summary: err.Error(),
					Detail: "apply the manifest first (edgegw apply), or serve it directly with -f edgegw.yaml", Range: manifest.Range{File: o.LocalDir}}}
			}
			o.source = fmt.Sprintf("version %d of the local deploy in %s", v, o.LocalDir)
			return g, nil
		}
		// The live version changes only by the atomic swap of the current link.
		o.Watch = func() (string, error) { return os.Readlink(filepath.Join(o.LocalDir, "current")) }
	}
	if o.Load == nil {
		o.Load = func() (*ir.Gateway, manifest.Diagnostics) { return manifest.Load(o.ManifestPath) }
	}
	if o.Watch == nil {
		o.Watch = func() (string, error) { return fileHash(o.ManifestPath) }
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 500 * time.Millisecond
	}
	ctx := o.Context
	if ctx == nil {
		ctx = context.Background()
	}
	s := &server{o: o, origins: origins, perRequest: o.Deployed, ctx: ctx}
	s.fp, _ = o.Watch()
	gw, err := s.build()
	if err != nil {
		return err
	}
	s.current.Store(gw)
	s.stopProbes = s.startProbes(ctx, gw)
	defer func() {
		s.reloadMu.Lock()
		defer s.reloadMu.Unlock()
		s.stopProbes()
	}()

	ln, err := net.Listen("tcp", o.Listen)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("dev: %s is already in use (another edgegw dev?): stop that process, or serve on another port with --listen %s", o.Listen, nextPort(o.Listen))
	}
	if err != nil {
		return fmt.Errorf("dev: listen %s: %w; pass --listen host:port", o.Listen, err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(o.IO.ErrOut, "edgegw dev: serving %s (%d routes) on http://%s\n", o.source, len(gw.IR().Routes), ln.Addr())
	if o.Deployed {
		fmt.Fprintf(o.IO.ErrOut, "edgegw dev: edits to the manifest take effect on edgegw apply; serve the manifest itself with -f %s\n", o.ManifestPath)
	}
	if o.Ready != nil {
		o.Ready(ln.Addr().String())
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	ticker := time.NewTicker(o.PollInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(shutdown)
			return nil
		case err := <-done:
			if errors.Is(err, http.ErrServerClosed) {
				return nil
			}
			return fmt.Errorf("dev: serve: %w", err)
		case <-ticker.C:
			s.reloadIfChanged()
		}
	}
}

// startProbes runs the active health checks of gw until the returned stop is called (on reload) or ctx ends.
func (s *server) startProbes(ctx context.Context, gw *gateway.Gateway) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	gw.StartHealthChecks(ctx, func(e gateway.HealthEvent) {
		s.logMu.Lock()
		defer s.logMu.Unlock()
		if e.Healthy {
			fmt.Fprintf(s.o.IO.ErrOut, "edgegw dev: origin %s is healthy again\n", e.Origin)
		} else {
			fmt.Fprintf(s.o.IO.ErrOut, "edgegw dev: origin %s is unhealthy (%s): requests skip it while another origin of its pool is healthy\n", e.Origin, e.Detail)
		}
	})
	return cancel
}

// build loads the IR and compiles a gateway, printing diagnostics and warnings.
func (s *server) build() (*gateway.Gateway, error) {
	o := s.o
	g, diags := o.Load()
	cmdutil.PrintDiagnostics(o.IO, cmdutil.FormatHuman, o.Color, diags)
	if g == nil || diags.HasErrors() {
		return nil, &cmdutil.SilentError{Code: cmdutil.ExitError, Err: fmt.Errorf("dev: %s is invalid", o.source)}
	}
	host := o.Host
	if host == "" {
		for _, d := range g.Domains {
			if !d.Wildcard && !strings.HasPrefix(d.Host, "*.") {
				host = d.Host
				break
			}
		}
	}
	// No DefaultHost: the gateway answers an unknown host 404, as every target does; ServeHTTP maps only
	// loopback names to host.
	gw, err := gateway.New(g, gateway.Options{
		Now: o.Now, Getenv: o.Getenv, OriginURLs: s.origins, Log: s.log,
	})
	if err != nil {
		return nil, fmt.Errorf("dev: %w", err)
	}
	s.host.Store(&host)
	for _, w := range gw.Warnings() {
		fmt.Fprintf(o.IO.ErrOut, "edgegw dev: warning: %s\n", w)
	}
	return gw, nil
}

func (s *server) log(d gateway.Decision) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if s.o.LogFormat == "json" {
		_ = json.NewEncoder(s.o.IO.Out).Encode(logLine(d))
		return
	}
	fmt.Fprintln(s.o.IO.Out, PrettyLine(d))
}

// jsonLine is the --log-format json view: one object per request.
type jsonLine struct {
	Time         string            `json:"time"`
	Method       string            `json:"method"`
	Host         string            `json:"host"`
	Path         string            `json:"path"`
	Status       int               `json:"status"`
	DurationMS   float64           `json:"duration_ms"`
	Route        string            `json:"route,omitempty"`
	Pool         string            `json:"pool,omitempty"`
	Origin       string            `json:"origin,omitempty"`
	UpstreamPath string            `json:"upstream_path,omitempty"`
	Reason       string            `json:"reason,omitempty"`
	Detail       string            `json:"detail,omitempty"`
	Tenant       string            `json:"tenant,omitempty"`
	RequestID    string            `json:"request_id,omitempty"`
	Attempts     []gateway.Attempt `json:"attempts,omitempty"`
}

func logLine(d gateway.Decision) jsonLine {
	return jsonLine{Time: d.Time.UTC().Format(time.RFC3339Nano), Method: d.Method, Host: d.Host, Path: d.Path, Status: d.Status,
		DurationMS: float64(d.Duration.Microseconds()) / 1000, Route: d.Route, Pool: d.Pool, Origin: d.Origin,
		UpstreamPath: d.UpstreamPath, Reason: d.Reason, Detail: d.Detail, Tenant: d.Tenant, RequestID: d.RequestID, Attempts: d.Attempts}
}

// PrettyLine formats a decision as `wrangler tail --format pretty` does a request:
// "GET /v2/users -> 200 OK (12ms) route=v2 pool=api origin=primary", with "[REASON]" when the gateway
// answered itself.
func PrettyLine(d gateway.Decision) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s -> %d %s (%dms)", d.Method, d.Path, d.Status, http.StatusText(d.Status), d.Duration.Milliseconds())
	for _, kv := range [][2]string{{"route", d.Route}, {"pool", d.Pool}, {"origin", d.Origin}, {"tenant", d.Tenant}} {
		if kv[1] != "" {
			fmt.Fprintf(&b, " %s=%s", kv[0], kv[1])
		}
	}
	if len(d.Attempts) > 1 {
		var tried []string
		for _, a := range d.Attempts {
			if a.Error != "" {
				tried = append(tried, a.Origin+":"+shortErr(a.Error))
			} else {
				tried = append(tried, fmt.Sprintf("%s:%d", a.Origin, a.Status))
			}
		}
		fmt.Fprintf(&b, " tried=%s", strings.Join(tried, ","))
	}
	if d.Reason != "" {
		fmt.Fprintf(&b, " [%s]", d.Reason)
	}
	return b.String()
}

func shortErr(e string) string {
	switch {
	case e == "timeout", e == "breaker open":
		return strings.ReplaceAll(e, " ", "-")
	case strings.Contains(e, "connection refused"):
		return "refused"
	}
	return "error"
}

func fileHash(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return fmt.Sprintf("%x", h.Sum(nil)), nil
}

// nextPort is addr with the port after its own, as a --listen to suggest.
func nextPort(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	n, perr := strconv.Atoi(port)
	if err != nil || perr != nil || n <= 0 || n >= 65535 {
		return "127.0.0.1:0"
	}
	return net.JoinHostPort(host, strconv.Itoa(n+1))
}

// Command simulate serves one VCL file with falco's interpreter, as `falco simulate --proxy` does (the same
// interpreter and options: actual proxy responses, edge dictionaries from configuration), except for one
// thing: the request path reaches the VCL exactly as the client sent it. `falco simulate` mounts the
// interpreter on an http.ServeMux, which answers a path holding "." or ".." segments or "//" with a redirect
// before any VCL runs, so a VCL's own path normalization could never be exercised there.
//
//	simulate -config run.json main.vcl
//
// Test-mode VCL (render/fastly) puts the upstream URL it decided in the Edgegw-Test-Url request header:
// falco rebuilds the upstream request line from the decoded path (so "/%40" would go out as "/@", and a
// path holding "%25" could not be sent at all), so this command's transport sends that URL byte for byte and
// drops the header. Nothing else about the request changes.
//
// run.json: {"edge_dictionaries": {"name": {"key": "base64 of the value"}}, "max_backends": 10}; values are
// base64 so that a secret holding any byte arrives unchanged. It listens on a free
// loopback port and prints "listening on 127.0.0.1:PORT" once ready; it stops when stdin closes.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"

	"github.com/ysugimoto/falco/config"
	"github.com/ysugimoto/falco/interpreter"
	icontext "github.com/ysugimoto/falco/interpreter/context"
	"github.com/ysugimoto/falco/resolver"
)

type runConfig struct {
	EdgeDictionaries map[string]config.EdgeDictionary `json:"edge_dictionaries"`
	MaxBackends      int                              `json:"max_backends"`
}

func main() {
	cfgPath := flag.String("config", "", "run configuration (JSON)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: simulate [-config run.json] main.vcl")
		os.Exit(2)
	}
	var cfg runConfig
	if *cfgPath != "" {
		b, err := os.ReadFile(*cfgPath)
		if err == nil {
			err = json.Unmarshal(b, &cfg)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "simulate: config:", err)
			os.Exit(2)
		}
	}
	rs, err := resolver.NewFileResolvers(flag.Arg(0), nil)
	if err != nil || len(rs) != 1 {
		fmt.Fprintln(os.Stderr, "simulate: vcl:", err)
		os.Exit(2)
	}
	opts := []icontext.Option{icontext.WithResolver(rs[0]), icontext.WithActualResponse(true)}
	if cfg.MaxBackends > 0 {
		opts = append(opts, icontext.WithMaxBackends(cfg.MaxBackends))
	}
	if cfg.EdgeDictionaries != nil {
		dicts := map[string]config.EdgeDictionary{}
		for name, items := range cfg.EdgeDictionaries {
			dicts[name] = config.EdgeDictionary{}
			for k, v := range items {
				b, err := base64.StdEncoding.DecodeString(v)
				if err != nil {
					fmt.Fprintf(os.Stderr, "simulate: config: dictionary %s item %s: %v\n", name, k, err)
					os.Exit(2)
				}
				dicts[name][k] = string(b)
			}
		}
		opts = append(opts, icontext.WithInjectEdgeDictionaries(dicts))
	}
	http.DefaultTransport = exactURL{next: http.DefaultTransport}
	// Fastly passes an origin's redirect on to the client; Go's default client would follow it.
	http.DefaultClient.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "simulate: listen:", err)
		os.Exit(1)
	}
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	fmt.Printf("listening on %s\n", ln.Addr())
	srv := &http.Server{Handler: noResponse{interpreter.New(opts...)}}
	if err := srv.Serve(ln); err != nil {
		fmt.Fprintln(os.Stderr, "simulate:", err)
		os.Exit(1)
	}
}

// noResponse answers 500 with a message when the interpreter ends a request without a response (it then
// panics writing a nil response, after a runtime error it has printed), instead of dropping the connection.
// The interpreter writes the VCL's whole response, status line included, as the body of its own answer; the
// body of an answer to HEAD is never sent by Go's server, so for HEAD that answer is written to the
// connection directly, the VCL's response as its body.
type noResponse struct{ next http.Handler }

func (h noResponse) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	out := w
	var capture *captured
	if r.Method == http.MethodHead {
		capture = &captured{header: http.Header{}}
		out = capture
	}
	func() {
		defer func() {
			if v := recover(); v != nil {
				http.Error(out, fmt.Sprintf("simulate: the interpreter produced no response (%v); its error is on stderr", v), http.StatusInternalServerError)
			}
		}()
		h.next.ServeHTTP(out, r)
	}()
	if capture == nil {
		return
	}
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		fmt.Fprintln(os.Stderr, "simulate: hijack:", err)
		return
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", capture.status(), http.StatusText(capture.status()), capture.body.Len())
	_, _ = buf.Write(capture.body.Bytes())
	_ = buf.Flush()
}

// captured is a ResponseWriter that keeps what is written.
type captured struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (c *captured) Header() http.Header { return c.header }

func (c *captured) WriteHeader(code int) {
	if c.code == 0 {
		c.code = code
	}
}

func (c *captured) Write(p []byte) (int, error) { c.WriteHeader(http.StatusOK); return c.body.Write(p) }

func (c *captured) status() int {
	if c.code == 0 {
		return http.StatusOK
	}
	return c.code
}

// exactURL sends the request line the VCL decided (see the package documentation).
type exactURL struct{ next http.RoundTripper }

func (t exactURL) RoundTrip(r *http.Request) (*http.Response, error) {
	if u := r.Header.Get("Edgegw-Test-Url"); u != "" {
		r = r.Clone(r.Context())
		r.Header.Del("Edgegw-Test-Url")
		r.URL.Opaque, r.URL.RawQuery, r.URL.RawPath = u, "", ""
	}
	return t.next.RoundTrip(r)
}

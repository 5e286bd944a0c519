package gcp

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	compute "google.golang.org/api/compute/v1"

	"github.com/edgegw/edgegw/gateway"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/manifest/pathnorm"
)

// tests emits the manifest's tests as the map's own tests[], the first MaxTests that a URL-map test can
// state: a GET with a host, a path and headers, whose decision the map makes alone (a backend, a redirect,
// an error bucket). The expected decision is the reference gateway's for the same request, so GCP's
// validate checks the map against the IR's semantics and not against itself.
func (r *renderer) tests() ([]*compute.UrlMapTest, error) {
	var out []*compute.UrlMapTest
	for _, tc := range r.g.Tests {
		if len(out) == MaxTests {
			break
		}
		t, err := r.test(tc)
		if err != nil {
			return nil, err
		}
		if t != nil {
			out = append(out, t)
		}
	}
	return out, nil
}

func (r *renderer) test(tc ir.TestCase) (*compute.UrlMapTest, error) {
	steps := tc.Sequence()
	req := steps[0].Request
	if req.JWT != nil || (req.Method != "" && req.Method != http.MethodGet) {
		return nil, nil
	}
	u, err := url.Parse(req.URL)
	if err != nil {
		return nil, nil
	}
	host := u.Host
	if req.Host != "" {
		host = req.Host
	}
	path := u.EscapedPath()
	if req.Target != "" {
		path, _, _ = strings.Cut(req.Target, "?")
	}
	if path == "" {
		path = "/"
	}
	if n, err := pathnorm.Normalize(path); err != nil || n != path {
		return nil, nil // the load balancer does not normalize: no test states the IR's decision here
	}
	var hdr []*compute.UrlMapTestHeader
	h := http.Header{}
	for _, s := range req.Headers {
		if strings.Contains(s.Value, ir.TokenPlaceholder) || http.CanonicalHeaderKey(s.Name) == "Origin" {
			return nil, nil
		}
		hdr = append(hdr, &compute.UrlMapTestHeader{Name: s.Name, Value: s.Value})
		h.Add(s.Name, s.Value)
	}
	d, err := decide(r.g, host, path, h)
	if err != nil {
		return nil, fmt.Errorf("render/gcp: tests[%q]: %w", tc.Name, err)
	}
	t := &compute.UrlMapTest{Description: tc.Name, Host: host, Path: path, Headers: hdr}
	switch {
	case d.Reason == ir.CodeHostUnknown:
		t.Service = r.global("backendBuckets", resourceName(r.s.URLMap, "host-unknown"))
	case d.Reason == ir.CodeNoRoute:
		t.Service = r.global("backendBuckets", resourceName(r.s.URLMap, "no-route"))
	case d.Reason != "" || d.Route == "":
		return nil, nil
	default:
		rt := r.g.Route(d.Route)
		if rt == nil || r.unrenderable(rt) != "" || rt.Match.Kind == ir.PathRegex {
			return nil, nil
		}
		switch {
		case rt.Redirect != nil:
			t.ExpectedRedirectResponseCode = int64(rt.Redirect.Status)
			t.ExpectedOutputUrl = rt.Redirect.Location
		case rt.Pool != "":
			svc, err := r.backendService(rt.Pool, rt)
			if err != nil {
				return nil, err
			}
			t.Service = svc
			if d.UpstreamPath != path {
				t.ExpectedOutputUrl = "https://" + strings.ToLower(host) + d.UpstreamPath
			}
		default:
			return nil, nil
		}
	}
	return t, nil
}

// decide runs the reference gateway on one request without any network: the origin is a stub that answers
// 200, and no state outlives the call.
func decide(g *ir.Gateway, host, path string, h http.Header) (gateway.Decision, error) {
	stub := roundTripper(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
	})
	gw, err := gateway.New(g, gateway.Options{Transport: stub})
	if err != nil {
		return gateway.Decision{}, err
	}
	req := httptest.NewRequest(http.MethodGet, "https://"+host+path, nil)
	req.Host = host
	req.Header = h
	var d gateway.Decision
	gw.ServeHTTP(httptest.NewRecorder(), req.WithContext(gateway.WithDecision(context.Background(), &d)))
	return d, nil
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

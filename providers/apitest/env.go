package apitest

import (
	"net/url"

	"github.com/edgegw/edgegw/providers/endpoint"
)

// EnvFor returns the endpoint variables that point the given vendors' SDK clients at this server (all
// vendors when none is given). Each value keeps the path of the vendor's real base URL, so stubs are
// registered at the paths the vendor documents: EnvFor(endpoint.Cloudflare) sets CLOUDFLARE_BASE_URL to
// URL+"/client/v4/", and a stub for zones is Route("GET", "/client/v4/zones").
func (s *Server) EnvFor(vendors ...endpoint.Vendor) map[string]string {
	env := map[string]string{}
	for _, v := range endpoint.Variables(vendors...) {
		u, err := url.Parse(v.Default)
		if err != nil {
			panic("apitest: " + err.Error())
		}
		env[v.Name] = s.URL + u.Path
	}
	return env
}

// Env is EnvFor every vendor.
func (s *Server) Env() map[string]string { return s.EnvFor() }

// Getenv returns a getenv that answers the endpoint variables of the given vendors (all when none is
// given) with this server and every other name with fallback (nil: empty), for a provider's Options.
func (s *Server) Getenv(fallback func(string) string, vendors ...endpoint.Vendor) func(string) string {
	env := s.EnvFor(vendors...)
	return func(name string) string {
		if v, ok := env[name]; ok {
			return v
		}
		if fallback == nil {
			return ""
		}
		return fallback(name)
	}
}

// Setenv sets the endpoint variables of the given vendors in the process environment for the rest of the
// test, for SDKs that read them themselves (aws-sdk-go-v2). Like testing.T.Setenv, it cannot be used in a
// parallel test.
func (s *Server) Setenv(vendors ...endpoint.Vendor) {
	for k, v := range s.EnvFor(vendors...) {
		s.t.Setenv(k, v)
	}
}

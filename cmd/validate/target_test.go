package validate_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/providers"
	_ "github.com/edgegw/edgegw/providers/all" // every target, as the binary links them
)

// limited is a target that enforces routes but not CORS, HSTS or gateway transforms, registered only here:
// validate --target must work with nothing but the provider registry linked in.
func init() {
	caps := providers.Capabilities{}
	for _, f := range providers.AllFeatures {
		caps[f] = providers.Can("test target")
	}
	caps[providers.CORS] = providers.Cannot("no CORS in this test target")
	caps[providers.HSTS] = providers.Cannot("no HSTS in this test target")
	caps[providers.MatchRegex] = providers.Cannot("no regex in this test target")
	caps[providers.MatchHeader] = providers.Limited("header rules", providers.MaxConditions(1))
	caps[providers.RateLimitIP] = providers.Limited("a rate rule", providers.RateLimitWindows(time.Minute, 5*time.Minute))
	providers.Register(providers.Registration{Name: "limited-test", Renderer: "ir", Capabilities: caps,
		New: func(providers.Config) (providers.Provider, error) { return nil, nil }})
	// bare-test declares nothing: not even what every manifest needs.
	providers.Register(providers.Registration{Name: "bare-test", Renderer: "ir", Capabilities: providers.Capabilities{},
		New: func(providers.Config) (providers.Provider, error) { return nil, nil }})
}

func TestTargetFindingsHavePositions(t *testing.T) {
	m := `version: 1
name: positions
domains: [{host: api.example.com, zone: example.com}]
tls:
  hsts: {max_age: 600}
origins: {app: {url: "http://127.0.0.1:9000"}}
pools: {app: {origins: [app]}}
cors:
  allow_origins: [https://app.example.com]
rate_limits:
  per_ip: {key: ip, limit: 10, window: 90s}
routes:
  - {name: legacy, match: {path: {regex: "/v0/[a-z]+"}}, pool: app}
  - name: canary
    match: {path: {prefix: /v2}, headers: {X-Canary: "1"}, methods: [GET]}
    pool: app
    rate_limit: per_ip
  - {name: default, match: {fallback: true}, pool: app}
targets:
  local: {}
`
	p := filepath.Join(t.TempDir(), "edgegw.yaml")
	if err := os.WriteFile(p, []byte(m), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := run(t, nil, "validate", "-f", p, "--target", "limited-test")
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, stderr)
	}
	for _, want := range []string{
		p + ":5:3: error[E601]: the gateway (tls.hsts) needs hsts",
		p + ":8:1: error[E601]: the gateway (cors) needs cors",
		p + ":13:5: error[E601]: route legacy needs match.regex",
		"deploy to a target that enforces it, or remove the cors section",
		p + ":14:5: error[E601]: route canary needs match.header, which limited-test cannot enforce",
		"header rules, limited to at most 1 conditions per route: the route has 2 conditions",
		"rate limit per_ip has a window of 1m30s; use one of 1m0s, 5m0s",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("missing %q in:\n%s", want, stderr)
		}
	}
	for _, line := range strings.Split(stderr, "\n") {
		rest := strings.TrimPrefix(line, p+":")
		if strings.Contains(line, "error[E601]") && (rest == line || rest[0] < '1' || rest[0] > '9') {
			t.Errorf("a finding without a line: %s", line)
		}
	}
	_, stderr, code = run(t, nil, "validate", "-f", p, "--target", "bare-test")
	for _, f := range []string{"path.normalize", "errors.synthetic", "hsts.errors"} {
		if !strings.Contains(stderr, "error[E601]: every manifest needs "+f+", which bare-test cannot enforce") {
			t.Errorf("bare-test: no finding for %s:\n%s", f, stderr)
		}
	}
	_, stderr, code = run(t, nil, "validate", "-f", p, "--target", "ref")
	if code != 1 || !strings.Contains(stderr, `is now called "local"`) {
		t.Errorf("--target ref: exit %d\n%s", code, stderr)
	}
}

package apply_test

import (
	"strings"
	"testing"
)

// What `validate --target` refuses, plan and apply refuse too, at the manifest's line, before reading any
// live state: a deploy never drops a feature the target cannot enforce. The companions that lift the
// refusals make the same manifest plannable.
func TestPlanAndApplyRefuseWhatTheTargetCannotEnforce(t *testing.T) {
	const m = `version: 1
name: caps
domains: [{host: api.example.com, zone: example.com}]
origins: {app: {url: "https://app.example.net"}}
pools: {app: {origins: [app]}}
auth:
  bearer: {jwt: {algorithms: [RS256], jwks: {url: "https://auth.example.com/jwks.json"}}}
routes:
  - {name: account, match: {path: {prefix: /account}}, pool: app, auth: bearer}
  - {name: default, match: {fallback: true}, pool: app}
targets:
  azure: {subscription_id: sub, resource_group: rg, profile: edge, endpoint: api%s}
`
	workdir(t, []byte(strings.Replace(m, "%s", "", 1)))
	for _, cmd := range [][]string{{"plan"}, {"apply", "--auto-approve"}} {
		r := edgegw(t, nil, cmd...)
		if r.code != 1 || !strings.Contains(r.stderr, "edgegw.yaml:9:5: error[E601]: route account needs auth.jwt.rs256, which azure cannot enforce") ||
			!strings.Contains(r.stderr, "every manifest needs path.normalize") {
			t.Fatalf("%s: exit %d\nstdout:\n%s\nstderr:\n%s", cmd[0], r.code, r.stdout, r.stderr)
		}
	}
	write(t, "edgegw.yaml", []byte(strings.Replace(m, "%s", ", companions: [origin-auth, origin-normalize, platform-errors]", 1)))
	r := edgegw(t, nil, "plan")
	if strings.Contains(r.stderr, "E601") || !strings.Contains(r.stderr, "AZURE_") {
		t.Fatalf("plan with the companions: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}

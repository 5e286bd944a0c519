package azure_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/cmd/plan/view"
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/providers/apitest"
	"github.com/edgegw/edgegw/providers/azure"
	"github.com/edgegw/edgegw/providers/endpoint"
	"github.com/edgegw/edgegw/render"
	azrender "github.com/edgegw/edgegw/render/azure"
)

const commit = "0123456789abcdef0123456789abcdef01234567"

// staticToken is a credential for the tests that are not about credentials.
type staticToken struct{}

func (staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "test-token", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// fastRetry keeps azcore's retries (three, on 408/429/5xx) but waits milliseconds between them.
var fastRetry = policy.RetryOptions{MaxRetries: 3, RetryDelay: time.Millisecond, MaxRetryDelay: 5 * time.Millisecond}

func newProvider(t testing.TB, f *fakeARM, g *ir.Gateway) providers.Provider {
	t.Helper()
	getenv := f.Getenv(func(k string) string {
		if k == azure.SubscriptionVar {
			return f.sub
		}
		return ""
	}, endpoint.Azure)
	p, err := azure.NewWithOptions(providers.Config{Gateway: g, Getenv: getenv},
		azure.Options{Credential: staticToken{}, Retry: fastRetry, InsecureHTTP: true, PollEvery: time.Millisecond, Progress: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func loadFile(t testing.TB, path string) *ir.Gateway {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return loadText(t, string(data))
}

func loadText(t testing.TB, yaml string) *ir.Gateway {
	t.Helper()
	p := filepath.Join(t.TempDir(), "edgegw.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	g, diags := manifest.Load(p)
	if g == nil || diags.HasErrors() {
		t.Fatalf("%v", diags)
	}
	return g
}

func renderFor(t testing.TB, g *ir.Gateway) []render.Artifact {
	t.Helper()
	arts, err := azrender.Render(g, azrender.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return arts
}

type calls struct {
	reads, writes int
	list          []string
}

func (c calls) total() int { return c.reads + c.writes }

func callsSince(f *fakeARM, from int) calls {
	var c calls
	for _, r := range f.Requests()[from:] {
		if r.Method == http.MethodGet {
			c.reads++
			continue
		}
		c.writes++
		c.list = append(c.list, r.Method+" "+r.Path[strings.Index(r.Path, "/profiles/"):])
	}
	return c
}

func planOf(t testing.TB, p providers.Provider, g *ir.Gateway, arts []render.Artifact) *providers.Plan {
	t.Helper()
	tp, err := p.Plan(context.Background(), providers.PlanInput{Gateway: g, Artifacts: arts})
	if err != nil {
		t.Fatal(err)
	}
	return &providers.Plan{FormatVersion: providers.PlanFormatVersion, Commit: commit, ManifestPath: "edgegw.yaml", Targets: []*providers.TargetPlan{tp}}
}

func applyPlan(p providers.Provider, g *ir.Gateway, plan *providers.Plan) (*providers.Report, error) {
	return providers.Apply(context.Background(), plan, map[string]providers.Provider{azure.Name: p},
		providers.ApplyOptions{Gateway: g, Force: true, Getenv: func(string) string { return "" }, Who: "ci@runner"})
}

func apply(t testing.TB, p providers.Provider, g *ir.Gateway, arts []render.Artifact) *providers.Report {
	t.Helper()
	rep, err := applyPlan(p, g, planOf(t, p, g, arts))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func nativeYAML(t testing.TB) string {
	b, err := os.ReadFile("../../render/azure/testdata/native.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// changedRoute is native.yaml with the v2 route's rewrite changed: a new release.
func changedRoute(t testing.TB) string {
	s := strings.Replace(nativeYAML(t), "rewrite: {prefix: /internal/v2}", "rewrite: {prefix: /internal/v3}", 1)
	if s == nativeYAML(t) {
		t.Fatal("native.yaml changed: the v2 route's rewrite is not where the test expects it")
	}
	return s
}

func liveSet(t testing.TB, f *fakeARM) string {
	t.Helper()
	sets := f.routeSets()
	if len(sets) == 0 {
		t.Fatal("no routes live")
	}
	var out string
	for r, s := range sets {
		if len(s) != 1 || (out != "" && s[0] != out) {
			t.Fatalf("route %s runs rule sets %v; every route should run one and the same release", r, s)
		}
		out = s[0]
	}
	return out
}

// TestApplyReleaseAndReapply: a first apply builds the origin groups, the release's rule set and rules and
// the route; the route runs the set; a deploy record is in the profile's tags beside the user's tag;
// plan then reads it all back (ids in ARM's lower case) as no change, and applying it makes no call that
// mutates.
func TestApplyReleaseAndReapply(t *testing.T) {
	f := newFakeARM(t)
	g := loadText(t, nativeYAML(t))
	p := newProvider(t, f, g)
	arts := renderFor(t, g)
	b, err := azrender.Parse(arts)
	if err != nil {
		t.Fatal(err)
	}
	set := *b.RuleSets[0].Name

	rep := apply(t, p, g, arts)
	c := callsSince(f, 0)
	t.Logf("first apply: %d calls, %d mutating: %v", c.total(), c.writes, c.list)
	if rep.Targets[0].Status != providers.StatusApplied || rep.Targets[0].Version != set {
		t.Fatalf("report %+v, want applied %s", rep.Targets[0], set)
	}
	if got := liveSet(t, f); got != set {
		t.Fatalf("the route runs %s, want %s", got, set)
	}
	if n, want := f.count("rulesets/"+set+"/rules/"), len(b.Rules[set]); n != want || n == 0 {
		t.Errorf("rule set %s has %d rules, want %d", set, n, want)
	}
	if f.count("origingroups/pool-api/origins/") != 2 {
		t.Errorf("origin group pool-api has %d origins, want 2", f.count("origingroups/pool-api/origins/"))
	}
	if f.tags["owner"] != "platform" || !strings.Contains(f.tags["edgegw-record-00001"], set) {
		t.Errorf("profile tags %v: want the user's tag kept and record 1 naming %s", f.tags, set)
	}
	// domains 2 + groups 2 + origins 3 + set 1 + rules + route 1 + record 1
	if want := 2 + 2 + 3 + 1 + len(b.Rules[set]) + 1 + 1; c.writes != want {
		t.Errorf("first apply made %d mutating calls, want %d: %v", c.writes, want, c.list)
	}

	from := len(f.Requests())
	plan := planOf(t, p, g, renderFor(t, g))
	if plan.Targets[0].HasChanges() {
		t.Fatalf("re-plan of the same manifest: %+v", plan.Targets[0].Changes)
	}
	if _, err := applyPlan(p, g, plan); err != nil {
		t.Fatal(err)
	}
	c = callsSince(f, from)
	t.Logf("re-apply: %d calls, %d mutating", c.total(), c.writes)
	if c.writes != 0 {
		t.Errorf("re-apply made mutating calls: %v", c.list)
	}
	h, err := p.History(context.Background())
	if err != nil || len(h) != 1 || h[0].Commit != commit || h[0].Version != set || h[0].Who != "ci@runner" {
		t.Fatalf("history %+v, %v", h, err)
	}
}

// TestChangedRouteAndRollback: a changed route is a new rule set; the route is switched with one update,
// the previous set stays; plan shows the rule that changed; rollback switches back with one update.
func TestChangedRouteAndRollback(t *testing.T) {
	f := newFakeARM(t)
	g1 := loadText(t, nativeYAML(t))
	p := newProvider(t, f, g1)
	apply(t, p, g1, renderFor(t, g1))
	first := liveSet(t, f)

	g2 := loadText(t, changedRoute(t))
	p2 := newProvider(t, f, g2)
	from := len(f.Requests())
	plan := planOf(t, p2, g2, renderFor(t, g2))
	tp := plan.Targets[0]
	if !tp.HasChanges() || tp.BaseToken == "none" || tp.LiveVersion != first {
		t.Fatalf("plan of a changed route: changes %+v, token %q, live %q", tp.Changes, tp.BaseToken, tp.LiveVersion)
	}
	var routes []string
	for _, c := range tp.Changes {
		if c.Kind == "route" {
			routes = append(routes, string(c.Action)+" "+c.Name+" "+c.Pos.String())
		}
	}
	if len(routes) != 1 || !strings.HasPrefix(routes[0], "update v2 ") || !strings.HasSuffix(routes[0], ":33:5") || tp.LiveRoutes != 8 {
		t.Errorf("route changes %v (live routes %d), want only v2 updated, at its line, of 8", routes, tp.LiveRoutes)
	}
	live := string(tp.Live[0].Data)
	if !strings.Contains(live, "/internal/v2") || strings.Contains(live, "/internal/v3") || !strings.Contains(live, first) {
		t.Errorf("the plan's live template should be rule set %s with the old rewrite:\n%s", first, live)
	}
	if _, err := applyPlan(p2, g2, plan); err != nil {
		t.Fatal(err)
	}
	c := callsSince(f, from)
	second := liveSet(t, f)
	t.Logf("changed route: %d calls, %d mutating: %v", c.total(), c.writes, c.list)
	if second == first {
		t.Fatal("a changed route must be a new rule set")
	}
	routeUpdates := 0
	for _, l := range c.list {
		if strings.HasPrefix(l, "PATCH") && strings.Contains(l, "/routes/") {
			routeUpdates++
		}
		if strings.Contains(l, "/originGroups/") || strings.Contains(l, "/customDomains/") {
			t.Errorf("unchanged origin groups and domains were written: %s", l)
		}
	}
	if routeUpdates != 1 {
		t.Errorf("%d route updates, want one per route (1): %v", routeUpdates, c.list)
	}
	if sets := f.ruleSets(); len(sets) != 2 {
		t.Errorf("rule sets %v: want the new one and the previous, kept for rollback", sets)
	}

	from = len(f.Requests())
	rep, err := providers.Rollback(context.Background(), []providers.Provider{p2}, providers.RollbackOptions{Who: "oncall"})
	if err != nil {
		t.Fatal(err)
	}
	c = callsSince(f, from)
	t.Logf("rollback: %d calls, %d mutating: %v", c.total(), c.writes, c.list)
	if rep.Targets[0].Status != providers.StatusRolledBack || liveSet(t, f) != first {
		t.Fatalf("rollback: %+v, live %s, want %s", rep.Targets[0], liveSet(t, f), first)
	}
	if c.writes != 1 || !strings.HasPrefix(c.list[0], "PATCH") || !strings.Contains(c.list[0], "/routes/") {
		t.Errorf("rollback should be one route update, made %v", c.list)
	}
	h, err := p2.History(context.Background())
	if err != nil || len(h) != 3 || h[2].Kind != providers.KindRollback || h[2].Version != first {
		t.Fatalf("history after rollback: %+v, %v", h, err)
	}
}

// TestOlderReleasesAreCollected: after five releases, the last three of edgegw's rule sets remain, and a
// rule set that is not edgegw's is left alone.
func TestOlderReleasesAreCollected(t *testing.T) {
	f := newFakeARM(t)
	f.res["rulesets/handmade"] = map[string]any{"id": f.armID("rulesets/handmade"), "name": "handmade", "properties": map[string]any{}}
	var sets []string
	for i := 0; i < 5; i++ {
		y := strings.Replace(nativeYAML(t), "/internal/v2", "/internal/v"+string(rune('a'+i)), 1)
		g := loadText(t, y)
		apply(t, newProvider(t, f, g), g, renderFor(t, g))
		sets = append(sets, liveSet(t, f))
	}
	got := f.ruleSets()
	want := append([]string{"handmade"}, sets[2:]...)
	if strings.Join(sortCopy(got), ",") != strings.Join(sortCopy(want), ",") {
		t.Errorf("rule sets after 5 releases: %v, want %v", got, want)
	}
}

func sortCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// TestFailedSwitchRestores: the route update's operation fails; the route runs the previous set again,
// the half-built set is deleted, nothing else changed, and the command exits 3.
func TestFailedSwitchRestores(t *testing.T) {
	f := newFakeARM(t)
	g1 := loadText(t, nativeYAML(t))
	apply(t, newProvider(t, f, g1), g1, renderFor(t, g1))
	first := liveSet(t, f)
	tags := len(f.tags)

	g2 := loadText(t, changedRoute(t))
	p := newProvider(t, f, g2)
	f.failNext(apitest.Route("PATCH", "/subscriptions/*/resourceGroups/*/providers/Microsoft.Cdn/profiles/edge/afdEndpoints/api/routes/{route}"))
	_, err := applyPlan(p, g2, planOf(t, p, g2, renderFor(t, g2)))
	var partial *providers.PartialError
	if !errors.As(err, &partial) || partial.Report.Targets[0].Status != providers.StatusRestored {
		t.Fatalf("apply: %v, want a PartialError with the target restored", err)
	}
	if code := cmdutil.ExitCode(view.ExitError(err)); code != cmdutil.ExitPartial {
		t.Errorf("exit code %d, want %d", code, cmdutil.ExitPartial)
	}
	if !strings.Contains(err.Error(), "long-running operation failed") || !strings.Contains(err.Error(), "restored") {
		t.Errorf("the error should name the failed operation and the restore: %v", err)
	}
	if liveSet(t, f) != first {
		t.Errorf("the route runs %s, want %s again", liveSet(t, f), first)
	}
	if sets := f.ruleSets(); len(sets) != 1 || sets[0] != first {
		t.Errorf("rule sets %v: the half-built set must be deleted", sets)
	}
	if len(f.tags) != tags {
		t.Errorf("a deploy record was written for a failed apply: %v", f.tags)
	}
}

// TestFailedRuleRestores: a rule's operation fails while the set is built: the set is deleted, the
// routes never moved, exit 3.
func TestFailedRuleRestores(t *testing.T) {
	f := newFakeARM(t)
	g1 := loadText(t, nativeYAML(t))
	apply(t, newProvider(t, f, g1), g1, renderFor(t, g1))
	first := liveSet(t, f)
	g2 := loadText(t, changedRoute(t))
	p := newProvider(t, f, g2)
	f.failNext(apitest.Route("PUT", "/subscriptions/*/resourceGroups/*/providers/Microsoft.Cdn/profiles/edge/ruleSets/*/rules/*"))
	from := len(f.Requests())
	_, err := applyPlan(p, g2, planOf(t, p, g2, renderFor(t, g2)))
	if code := cmdutil.ExitCode(view.ExitError(err)); code != cmdutil.ExitPartial {
		t.Fatalf("exit code %d, want %d: %v", code, cmdutil.ExitPartial, err)
	}
	for _, l := range callsSince(f, from).list {
		if strings.Contains(l, "/routes/") {
			t.Errorf("a route was touched although the set never finished: %s", l)
		}
	}
	if sets := f.ruleSets(); len(sets) != 1 || sets[0] != first || liveSet(t, f) != first {
		t.Errorf("rule sets %v, live %s: want only %s", sets, liveSet(t, f), first)
	}
}

// TestStalePlan: the route was pointed at another rule set after the plan (ids in ARM's lower case): the
// apply refuses with exit 5 before any change, and the plan's set is not built.
func TestStalePlan(t *testing.T) {
	f := newFakeARM(t)
	g1 := loadText(t, nativeYAML(t))
	apply(t, newProvider(t, f, g1), g1, renderFor(t, g1))
	g2 := loadText(t, changedRoute(t))
	p := newProvider(t, f, g2)
	plan := planOf(t, p, g2, renderFor(t, g2))
	f.res["rulesets/hotfix"] = map[string]any{"id": f.armID("rulesets/hotfix"), "name": "hotfix", "properties": map[string]any{}}
	f.setRouteSet("route-api", "hotfix")
	from := len(f.Requests())
	_, err := applyPlan(p, g2, plan)
	var stale *providers.StalePlanError
	if !errors.As(err, &stale) {
		t.Fatalf("apply: %v, want a StalePlanError", err)
	}
	if code := cmdutil.ExitCode(view.ExitError(err)); code != cmdutil.ExitBlocked {
		t.Errorf("exit code %d, want %d", code, cmdutil.ExitBlocked)
	}
	if c := callsSince(f, from); c.writes != 0 {
		t.Errorf("a stale plan made mutating calls: %v", c.list)
	}
}

// TestRetriesThrottlingAndServerErrors: a 429 on a read and a 503 on a write are retried by the SDK; the
// apply goes through. Four 503 in a row (the SDK retries three times) fail it with the status.
func TestRetriesThrottlingAndServerErrors(t *testing.T) {
	f := newFakeARM(t)
	g := loadText(t, nativeYAML(t))
	p := newProvider(t, f, g)
	f.inject(apitest.Route("GET", "/subscriptions/*/resourceGroups/*/providers/Microsoft.Cdn/profiles/edge/afdEndpoints/api/routes"), apitest.WithHeader(armError(429, "TooManyRequests", "slow down"), "Retry-After", "0"))
	f.inject(apitest.Route("PUT", "/subscriptions/*/resourceGroups/*/providers/Microsoft.Cdn/profiles/edge/ruleSets/*"), armError(503, "ServiceUnavailable", "try again"))
	start := time.Now()
	apply(t, p, g, renderFor(t, g))
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("retries took %v", d)
	}
	if liveSet(t, f) == "" {
		t.Fatal("nothing live")
	}

	f2 := newFakeARM(t)
	p2 := newProvider(t, f2, g)
	for i := 0; i < 4; i++ {
		f2.inject(apitest.Route("GET", "/subscriptions/*/resourceGroups/*/providers/Microsoft.Cdn/profiles/edge"), armError(503, "ServiceUnavailable", "down"))
	}
	_, err := p2.Plan(context.Background(), providers.PlanInput{Gateway: g, Artifacts: renderFor(t, g)})
	if err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "read profile edge") {
		t.Fatalf("plan after four 503: %v", err)
	}
}

// TestMissingSubscription names the variable and exits 4.
func TestMissingSubscription(t *testing.T) {
	g := loadText(t, nativeYAML(t))
	_, err := azure.New(providers.Config{Gateway: g, Getenv: func(string) string { return "" }})
	var ce *providers.CredentialsError
	if !errors.As(err, &ce) || ce.Var != "AZURE_SUBSCRIPTION_ID" || !strings.Contains(err.Error(), "AZURE_SUBSCRIPTION_ID") {
		t.Fatalf("New without a subscription: %v", err)
	}
	if code := cmdutil.ExitCode(view.ExitError(err)); code != cmdutil.ExitCredentials {
		t.Errorf("exit code %d, want %d", code, cmdutil.ExitCredentials)
	}
}

// tokenAuthority serves the authority's tenant discovery on f and makes DefaultAzureCredential find a
// client secret in the environment.
func tokenAuthority(t *testing.T, f *apitest.Server) (tenant string) {
	tenant = "11111111-2222-3333-4444-555555555555"
	t.Setenv("AZURE_TENANT_ID", tenant)
	t.Setenv("AZURE_CLIENT_ID", "edgegw-ci")
	t.Setenv("AZURE_CLIENT_SECRET", "not-a-real-secret")
	f.Register(apitest.Route("GET", "/"+tenant+"/v2.0/.well-known/openid-configuration"), apitest.JSON(200, map[string]any{
		"token_endpoint":         f.URL + "/" + tenant + "/oauth2/v2.0/token",
		"authorization_endpoint": f.URL + "/" + tenant + "/oauth2/v2.0/authorize",
		"issuer":                 f.URL + "/" + tenant + "/v2.0",
	})).Always()
	return tenant
}

func credentialProvider(t *testing.T, f *apitest.Server, g *ir.Gateway) providers.Provider {
	getenv := f.Getenv(func(k string) string {
		if k == azure.SubscriptionVar {
			return "00000000-0000-0000-0000-000000000001"
		}
		return ""
	}, endpoint.Azure)
	p, err := azure.NewWithOptions(providers.Config{Gateway: g, Getenv: getenv}, azure.Options{Transport: f.Client(), Retry: fastRetry, PollEvery: time.Millisecond, Progress: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRefusedClientSecret: the authority refuses the secret: exit 4, naming the variables, never the
// secret, and no ARM call is made (the server has no ARM stub: one would fail the test).
func TestRefusedClientSecret(t *testing.T) {
	f := apitest.New(t, apitest.TLS())
	tenant := tokenAuthority(t, f)
	f.Register(apitest.Route("POST", "/"+tenant+"/oauth2/v2.0/token"), apitest.JSON(401, map[string]any{
		"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.", "error_codes": []int{7000215},
	})).Always()
	g := loadText(t, nativeYAML(t))
	_, err := credentialProvider(t, f, g).Plan(context.Background(), providers.PlanInput{Gateway: g, Artifacts: renderFor(t, g)})
	var ce *providers.CredentialsError
	if !errors.As(err, &ce) || cmdutil.ExitCode(view.ExitError(err)) != cmdutil.ExitCredentials {
		t.Fatalf("plan with a refused secret: %v, want a credentials error (exit 4)", err)
	}
	if !strings.Contains(err.Error(), "AZURE_CLIENT_SECRET") || strings.Contains(err.Error(), "not-a-real-secret") {
		t.Errorf("the error should name the variables and never the secret: %v", err)
	}
}

// TestCredentialFromEnvironment: DefaultAzureCredential with a client secret in the environment gets a
// token from the (https) authority and ARM calls carry it.
func TestCredentialFromEnvironment(t *testing.T) {
	f := newFakeARM(t, apitest.TLS())
	tenant := tokenAuthority(t, f.Server)
	f.Register(apitest.Route("POST", "/"+tenant+"/oauth2/v2.0/token").And(apitest.MatchFunc("client secret grant", func(r *apitest.Request) bool {
		return strings.Contains(string(r.Body), "client_secret=not-a-real-secret") && strings.Contains(string(r.Body), "grant_type=client_credentials")
	})), apitest.JSON(200, map[string]any{"token_type": "Bearer", "expires_in": 3600, "access_token": "token-from-the-authority"}))
	g := loadText(t, nativeYAML(t))
	p := credentialProvider(t, f.Server, g)
	if _, err := p.Plan(context.Background(), providers.PlanInput{Gateway: g, Artifacts: renderFor(t, g)}); err != nil {
		t.Fatal(err)
	}
	n := f.Count(apitest.Route("GET", "/subscriptions/**").And(apitest.HeaderValue("Authorization", "Bearer token-from-the-authority")))
	if all := f.Count(apitest.Route("GET", "/subscriptions/**")); n == 0 || n != all {
		t.Errorf("%d of %d ARM calls carried the authority's token", n, all)
	}
}

// TestStaleAtActivation: the route moves between staging and the switch: activation refuses (exit 5),
// deletes the set it staged and leaves the route as the colleague set it.
func TestStaleAtActivation(t *testing.T) {
	f := newFakeARM(t)
	g1 := loadText(t, nativeYAML(t))
	apply(t, newProvider(t, f, g1), g1, renderFor(t, g1))
	first := liveSet(t, f)
	g2 := loadText(t, changedRoute(t))
	p := newProvider(t, f, g2)
	plan := planOf(t, p, g2, renderFor(t, g2))
	st := p.(providers.Stager)
	s, err := st.Stage(context.Background(), plan.Targets[0])
	if err != nil {
		t.Fatal(err)
	}
	if sets := f.ruleSets(); len(sets) != 2 {
		t.Fatalf("staging should build the new set beside %s: %v", first, sets)
	}
	f.res["rulesets/hotfix"] = map[string]any{"id": f.armID("rulesets/hotfix"), "name": "hotfix", "properties": map[string]any{}}
	f.setRouteSet("route-api", "hotfix")
	_, err = st.Activate(context.Background(), s, providers.DeployRecord{Kind: providers.KindApply, Who: "ci"})
	var stale *providers.StalePlanError
	if !errors.As(err, &stale) || cmdutil.ExitCode(view.ExitError(err)) != cmdutil.ExitBlocked {
		t.Fatalf("activate after the route moved: %v, want a stale plan (exit 5)", err)
	}
	if sets := f.ruleSets(); strings.Join(sets, ",") != strings.Join(sortCopy([]string{first, "hotfix"}), ",") {
		t.Errorf("rule sets %v: the staged set must be deleted, the others kept", sets)
	}
	if got := f.routeSets()["route-api"]; len(got) != 1 || got[0] != "hotfix" {
		t.Errorf("the route runs %v, want the colleague's hotfix set untouched", got)
	}
}

// TestOriginChangeKeepsTheRelease: an origin's host changes and no rule does: the origin is updated in
// place, the rule set (named after its rules) stays, and the route, whose ids ARM gives back in lower case,
// is not written.
func TestOriginChangeKeepsTheRelease(t *testing.T) {
	f := newFakeARM(t)
	g1 := loadText(t, nativeYAML(t))
	apply(t, newProvider(t, f, g1), g1, renderFor(t, g1))
	first := liveSet(t, f)
	y := strings.Replace(nativeYAML(t), "https://api-origin-dr.example.net", "https://api-origin-dr2.example.net", 1)
	g2 := loadText(t, y)
	p := newProvider(t, f, g2)
	from := len(f.Requests())
	rep, err := applyPlan(p, g2, planOf(t, p, g2, renderFor(t, g2)))
	if err != nil {
		t.Fatal(err)
	}
	c := callsSince(f, from)
	if rep.Targets[0].Version != first || liveSet(t, f) != first {
		t.Errorf("an origin change made release %s live, want %s kept", rep.Targets[0].Version, first)
	}
	want := []string{"PUT /profiles/edge/originGroups/pool-api/origins/origin-secondary", "PATCH /profiles/edge"}
	if strings.Join(c.list, ";") != strings.Join(want, ";") {
		t.Errorf("mutating calls %v, want %v", c.list, want)
	}
}

// TestReapplyEarlierManifest: A, B, then A again: A's kept rule set goes live again with one route update
// and no rule written, and a rollback then returns to B.
func TestReapplyEarlierManifest(t *testing.T) {
	f := newFakeARM(t)
	gA, gB := loadText(t, nativeYAML(t)), loadText(t, changedRoute(t))
	apply(t, newProvider(t, f, gA), gA, renderFor(t, gA))
	a := liveSet(t, f)
	apply(t, newProvider(t, f, gB), gB, renderFor(t, gB))
	b := liveSet(t, f)
	p := newProvider(t, f, gA)
	from := len(f.Requests())
	apply(t, p, gA, renderFor(t, gA))
	want := []string{"PATCH /profiles/edge/afdEndpoints/api/routes/route-api", "PATCH /profiles/edge"}
	if c := callsSince(f, from); liveSet(t, f) != a || strings.Join(c.list, ";") != strings.Join(want, ";") {
		t.Errorf("re-applying A: live %s (want %s), mutating calls %v, want %v", liveSet(t, f), a, c.list, want)
	}
	if _, err := providers.Rollback(context.Background(), []providers.Provider{p}, providers.RollbackOptions{Who: "oncall"}); err != nil {
		t.Fatal(err)
	}
	if liveSet(t, f) != b {
		t.Errorf("rollback after A, B, A went to %s, want B (%s)", liveSet(t, f), b)
	}
}

// TestTestModeArtifactsAreNotDeployed: the quickstart renders for azure only in test mode, with its
// synthetic responses kept as marked rules; plan refuses those artifacts before any call.
func TestTestModeArtifactsAreNotDeployed(t *testing.T) {
	f := apitest.New(t) // no stub: any call fails the test
	g := loadText(t, nativeYAML(t))
	arts, err := azrender.Render(loadFile(t, "../../testdata/examples/quickstart.yaml"), azrender.Options{Test: true})
	if err != nil {
		t.Fatal(err)
	}
	getenv := f.Getenv(func(string) string { return "sub" }, endpoint.Azure)
	p, err := azure.NewWithOptions(providers.Config{Gateway: g, Getenv: getenv}, azure.Options{Credential: staticToken{}, InsecureHTTP: true, Progress: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Plan(context.Background(), providers.PlanInput{Gateway: g, Artifacts: arts}); err == nil || !strings.Contains(err.Error(), "test mode") {
		t.Fatalf("plan of test-mode artifacts: %v", err)
	}
}

// twoRoutes is native.yaml with /status served by the canary pool: its pattern becomes a second route.
func twoRoutes(t testing.TB, y string) string {
	s := strings.Replace(y, "{name: status, match: {path: {exact: /status}}, pool: api}", "{name: status, match: {path: {exact: /status}}, pool: canary}", 1)
	if s == y {
		t.Fatal("native.yaml changed: the status route is not where the test expects it")
	}
	return s
}

// TestTwoRoutesSwitchTogether: with two routes, a release is one update per route; when the second
// switch fails, the first route is switched back; a rollback whose second switch fails switches the
// first back too, so the routes never run different releases.
func TestTwoRoutesSwitchTogether(t *testing.T) {
	f := newFakeARM(t)
	gA := loadText(t, twoRoutes(t, nativeYAML(t)))
	apply(t, newProvider(t, f, gA), gA, renderFor(t, gA))
	if n := len(f.routeSets()); n != 2 {
		t.Fatalf("%d routes, want 2", n)
	}
	a := liveSet(t, f)
	gB := loadText(t, twoRoutes(t, changedRoute(t)))
	pB := newProvider(t, f, gB)
	routeAPI := apitest.Route("PATCH", "/subscriptions/*/resourceGroups/*/providers/Microsoft.Cdn/profiles/edge/afdEndpoints/api/routes/route-api")
	routeCanary := apitest.Route("PATCH", "/subscriptions/*/resourceGroups/*/providers/Microsoft.Cdn/profiles/edge/afdEndpoints/api/routes/route-canary")
	f.failNext(routeAPI)
	_, err := applyPlan(pB, gB, planOf(t, pB, gB, renderFor(t, gB)))
	if n := f.Count(routeCanary); n != 2 {
		t.Errorf("route-canary was updated %d times, want 2: switched first, then back", n)
	}
	if cmdutil.ExitCode(view.ExitError(err)) != cmdutil.ExitPartial || liveSet(t, f) != a {
		t.Fatalf("a failed second switch: %v; live %s, want %s on both routes", err, liveSet(t, f), a)
	}
	from := len(f.Requests())
	apply(t, pB, gB, renderFor(t, gB))
	b := liveSet(t, f)
	updates := 0
	for _, l := range callsSince(f, from).list {
		if strings.HasPrefix(l, "PATCH") && strings.Contains(l, "/routes/") {
			updates++
		}
	}
	if b == a || updates != 2 {
		t.Fatalf("release B: live %s, %d route updates, want a new set and 2", b, updates)
	}
	// The rollback switches routes in the order ARM lists them: route-api first here.
	f.failNext(routeCanary)
	before := f.Count(routeAPI)
	if _, err := providers.Rollback(context.Background(), []providers.Provider{pB}, providers.RollbackOptions{Who: "oncall"}); err == nil || !strings.Contains(err.Error(), "switched back") {
		t.Fatalf("rollback with a failed second switch: %v", err)
	}
	if n := f.Count(routeAPI) - before; n != 2 {
		t.Errorf("rollback updated route-api %d times, want 2: switched first, then back", n)
	}
	if liveSet(t, f) != b {
		t.Errorf("after a failed rollback the routes run %s, want %s on both", liveSet(t, f), b)
	}
}

// TestFailedRecordRestores: the deploy record cannot be written into the profile's tags after the switch:
// the route is switched back and the new set deleted (exit 3), so no release runs without its record.
func TestFailedRecordRestores(t *testing.T) {
	f := newFakeARM(t)
	g1 := loadText(t, nativeYAML(t))
	apply(t, newProvider(t, f, g1), g1, renderFor(t, g1))
	first := liveSet(t, f)
	g2 := loadText(t, changedRoute(t))
	p := newProvider(t, f, g2)
	f.failNext(apitest.Route("PATCH", "/subscriptions/*/resourceGroups/*/providers/Microsoft.Cdn/profiles/edge"))
	_, err := applyPlan(p, g2, planOf(t, p, g2, renderFor(t, g2)))
	if cmdutil.ExitCode(view.ExitError(err)) != cmdutil.ExitPartial || !strings.Contains(err.Error(), "deploy record") {
		t.Fatalf("a failed record write: %v, want exit 3 naming the record", err)
	}
	if sets := f.ruleSets(); liveSet(t, f) != first || len(sets) != 1 {
		t.Errorf("live %s, rule sets %v: want %s alone", liveSet(t, f), sets, first)
	}
}

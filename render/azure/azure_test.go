package azure_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/cdn/armcdn/v2"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/edgegw/edgegw/gateway/testrun/conformance"
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
	_ "github.com/edgegw/edgegw/providers/all" // the targets.azure block, as the azure target registered it
	azrender "github.com/edgegw/edgegw/render/azure"
)

// schemaDir is Microsoft's published ARM schema for Microsoft.Cdn 2024-02-01, in the shared folder beside
// the repository (never copied into it).
const schemaDir = "../../../shared/schemas/azure"

const (
	cdnSchemaID    = "https://schema.management.azure.com/schemas/2024-02-01/Microsoft.Cdn.json"
	commonSchemaID = "https://schema.management.azure.com/schemas/common/definitions.json"
)

var definitionOf = map[string]string{
	azrender.TypeCustomDomain: "profiles_customDomains",
	azrender.TypeOriginGroup:  "profiles_originGroups",
	azrender.TypeOrigin:       "profiles_originGroups_origins",
	azrender.TypeRuleSet:      "profiles_ruleSets",
	azrender.TypeRule:         "profiles_ruleSets_rules",
	azrender.TypeRoute:        "profiles_afdEndpoints_routes",
}

var (
	schemaOnce sync.Once
	schemas    map[string]*jsonschema.Schema
	schemaErr  error
)

// resourceSchemas compiles the schema of every resource type the renderer writes. Without the shared
// folder the test fails under CI and is skipped with the reason otherwise.
func resourceSchemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	if _, err := os.Stat(filepath.Join(schemaDir, "Microsoft.Cdn.json")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Microsoft.Cdn's ARM schema is not at %s (CI is set): %v", schemaDir, err)
		}
		t.Skipf("Microsoft.Cdn's ARM schema is not at %s (the shared folder beside the repository); CI unset, skipping the schema check", schemaDir)
	}
	schemaOnce.Do(func() {
		c := jsonschema.NewCompiler()
		for id, file := range map[string]string{cdnSchemaID: "Microsoft.Cdn.json", commonSchemaID: "common-definitions.json"} {
			f, err := os.Open(filepath.Join(schemaDir, file))
			if err != nil {
				schemaErr = err
				return
			}
			doc, err := jsonschema.UnmarshalJSON(f)
			f.Close()
			if err != nil {
				schemaErr = fmt.Errorf("%s: %w", file, err)
				return
			}
			if err := c.AddResource(id, doc); err != nil {
				schemaErr = err
				return
			}
		}
		schemas = map[string]*jsonschema.Schema{}
		for typ, def := range definitionOf {
			s, err := c.Compile(cdnSchemaID + "#/resourceDefinitions/" + def)
			if err != nil {
				schemaErr = fmt.Errorf("compile %s: %w", def, err)
				return
			}
			schemas[typ] = s
		}
	})
	if schemaErr != nil {
		t.Fatal(schemaErr)
	}
	return schemas
}

// checkSchema validates every resource of the rendered template against its resource definition and
// returns how many it checked.
func checkSchema(t *testing.T, what string, data []byte) int {
	t.Helper()
	ss := resourceSchemas(t)
	var tmpl struct {
		Resources []json.RawMessage `json:"resources"`
	}
	if err := json.Unmarshal(data, &tmpl); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	for i, raw := range tmpl.Resources {
		var head struct {
			Type string `json:"type"`
			Name string `json:"name"`
		}
		_ = json.Unmarshal(raw, &head)
		s := ss[head.Type]
		if s == nil {
			t.Errorf("%s: resources[%d] has type %q, which the schema check does not know", what, i, head.Type)
			continue
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(inst); err != nil {
			t.Errorf("%s: resources[%d] %s %s: %v", what, i, head.Type, head.Name, err)
		}
	}
	return len(tmpl.Resources)
}

func load(t *testing.T, path string) *ir.Gateway {
	t.Helper()
	g, diags := manifest.Load(path)
	if g == nil || diags.HasErrors() {
		t.Fatalf("%s: %v", path, diags)
	}
	return g
}

func loadYAML(t *testing.T, yaml string) *ir.Gateway {
	t.Helper()
	p := filepath.Join(t.TempDir(), "edgegw.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return load(t, p)
}

func template(t *testing.T, g *ir.Gateway, o azrender.Options) []byte {
	t.Helper()
	arts, err := azrender.Render(g, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range arts {
		if a.Path == azrender.TemplatePath {
			return a.Data
		}
	}
	t.Fatal("no template")
	return nil
}

// TestTemplateValidatesAgainstMicrosoftSchema renders the native fixture for deployment, and every
// example and corpus manifest in test mode (none validates for azure: every manifest needs path
// normalization and the IR's own error bodies, which Front Door cannot give), and validates each resource
// against Microsoft.Cdn's published resource definitions. A resource the schema refuses fails it: a rule
// with a sixth action, a route pattern list that is not an array.
func TestTemplateValidatesAgainstMicrosoftSchema(t *testing.T) {
	n := checkSchema(t, "native.yaml", template(t, load(t, "testdata/native.yaml"), azrender.Options{}))
	files := 1
	for _, ex := range []string{"quickstart", "full"} {
		p := "../../testdata/examples/" + ex + ".yaml"
		n += checkSchema(t, p, template(t, load(t, p), azrender.Options{Test: true}))
		files++
	}
	ms, _, err := conformance.Load(conformance.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		n += checkSchema(t, m.File, template(t, m.Gateway, azrender.Options{Test: true}))
		files++
	}
	t.Logf("%d resources across %d templates valid against %s", n, files, cdnSchemaID)

	// The check can fail: the schema refuses an action name it does not define.
	bad := bytes.Replace(template(t, load(t, "testdata/native.yaml"), azrender.Options{}), []byte(`"name": "ModifyResponseHeader"`), []byte(`"name": "ModifyResponseHeaders"`), 1)
	var tmpl struct {
		Resources []json.RawMessage `json:"resources"`
	}
	_ = json.Unmarshal(bad, &tmpl)
	refused := false
	for _, raw := range tmpl.Resources {
		if !strings.Contains(string(raw), "ModifyResponseHeaders") {
			continue
		}
		inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		refused = resourceSchemas(t)[azrender.TypeRule].Validate(inst) != nil
	}
	if !refused {
		t.Error("the schema accepted a rule with an unknown action name")
	}
}

// TestRulesCarryTheIRInOrder checks the shape Front Door evaluates: rules in IR order with increasing
// order, UrlPath values without the leading slash, a RequestHeader condition for the canary, a
// RouteConfigurationOverride to the pool's origin group, every route's last rule Stop and the ones before
// it Continue, at most 5 actions per rule; origin priorities and the health probe; exact and /* patterns.
func TestRulesCarryTheIRInOrder(t *testing.T) {
	arts, err := azrender.Render(load(t, "testdata/native.yaml"), azrender.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := azrender.Parse(arts)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.RuleSets) != 1 {
		t.Fatalf("%d rule sets, want 1", len(b.RuleSets))
	}
	rules := b.Rules[*b.RuleSets[0].Name]
	var names []string
	for i, r := range rules {
		names = append(names, *r.Name)
		if int(*r.Properties.Order) != i+1 {
			t.Errorf("rule %s has order %d at position %d", *r.Name, *r.Properties.Order, i)
		}
		if len(r.Properties.Actions) > azrender.MaxActions {
			t.Errorf("rule %s has %d actions", *r.Name, len(r.Properties.Actions))
		}
	}
	want := "rstatus01 raccount01 rdocs01 rv2canary01 rv201 rv202 rv1user01 rlegacy01 rdefault01"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("rules %s, want %s", got, want)
	}
	byName := map[string]*armcdn.Rule{}
	for _, r := range rules {
		byName[*r.Name] = r
	}
	path := func(r *armcdn.Rule) (string, string) {
		for _, c := range r.Properties.Conditions {
			if p, ok := c.(*armcdn.DeliveryRuleURLPathCondition); ok {
				return string(*p.Parameters.Operator), *p.Parameters.MatchValues[0]
			}
		}
		return "", ""
	}
	for name, w := range map[string][2]string{
		"rstatus01": {"Equal", "status"}, "rv201": {"RegEx", "^v2(?:/.*)?$"},
		"rv1user01": {"RegEx", "^v1/users/[^/]+$"}, "rlegacy01": {"RegEx", "^(?:v0/[a-z]+)$"}, "rdefault01": {"", ""},
	} {
		if op, v := path(byName[name]); op != w[0] || v != w[1] {
			t.Errorf("%s: UrlPath %s %q, want %s %q", name, op, v, w[0], w[1])
		}
	}
	canary := byName["rv2canary01"]
	var hdr *armcdn.DeliveryRuleRequestHeaderCondition
	for _, c := range canary.Properties.Conditions {
		if h, ok := c.(*armcdn.DeliveryRuleRequestHeaderCondition); ok {
			hdr = h
		}
	}
	if hdr == nil || *hdr.Parameters.Selector != "X-Canary-Release" || *hdr.Parameters.MatchValues[0] != "true" {
		t.Errorf("canary header condition %+v", hdr)
	}
	ov, ok := canary.Properties.Actions[0].(*armcdn.DeliveryRuleRouteConfigurationOverrideAction)
	if !ok || azrender.LastName(*ov.Parameters.OriginGroupOverride.OriginGroup.ID) != "pool-canary" {
		t.Errorf("canary's first action %#v, want an override to pool-canary", canary.Properties.Actions[0])
	}
	for name, want := range map[string]armcdn.MatchProcessingBehavior{"rv2canary01": "Stop", "rv201": "Continue", "rv202": "Stop", "rstatus01": "Stop"} {
		if got := *byName[name].Properties.MatchProcessingBehavior; got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
	last := byName["rv202"].Properties.Actions
	rw, ok := last[len(last)-1].(*armcdn.URLRewriteAction)
	if !ok || *rw.Parameters.SourcePattern != "/v2" || *rw.Parameters.Destination != "/internal/v2" || !*rw.Parameters.PreserveUnmatchedPath {
		t.Errorf("v2's last action %#v, want UrlRewrite /v2 → /internal/v2", last[len(last)-1])
	}
	og := b.Origins["pool-api"]
	if len(og) != 2 || *og[0].Properties.Priority != 1 || *og[1].Properties.Priority != 2 {
		t.Errorf("pool-api origins %v", og)
	}
	for _, g := range b.OriginGroups {
		if *g.Name == "pool-api" && (g.Properties.HealthProbeSettings == nil || *g.Properties.HealthProbeSettings.ProbePath != "/health") {
			t.Errorf("pool-api probe %+v", g.Properties.HealthProbeSettings)
		}
	}
	var patterns []string
	for _, rt := range b.Routes {
		for _, p := range rt.Properties.PatternsToMatch {
			patterns = append(patterns, *p)
		}
	}
	if got := strings.Join(patterns, " "); got != "/status /account /account/* /docs /docs/* /v2 /v2/* /*" || len(b.Routes) != 1 {
		t.Errorf("patterns %s", got)
	}
	again, _ := azrender.Render(load(t, "testdata/native.yaml"), azrender.Options{})
	if !bytes.Equal(again[0].Data, arts[0].Data) {
		t.Error("two renders of the same IR differ")
	}
}

const limitsBase = `version: 1
name: lim
domains: [%s]
origins: {app: {url: https://app.example.net}}
pools: {app: {origins: [app]}}
routes:
%s  - {name: default, match: {fallback: true}, pool: app}
`

func renderErr(t *testing.T, domains, routes string) error {
	t.Helper()
	_, err := azrender.Render(loadYAML(t, fmt.Sprintf(limitsBase, domains, routes)), azrender.Options{})
	return err
}

// TestLimitsAreCheckedAtRender: more than 100 rules, more than 10 conditions, PATCH, a regex capture and a
// composite route metric over 5,000 are errors that say where and what to change.
func TestLimitsAreCheckedAtRender(t *testing.T) {
	dom := "{host: api.example.com, zone: example.com}"
	var many strings.Builder
	for i := range 100 {
		fmt.Fprintf(&many, "  - {name: r%03d, match: {path: {exact: /r%03d}}, pool: app}\n", i, i)
	}
	err := renderErr(t, dom, many.String())
	if err == nil || !strings.Contains(err.Error(), "101 rules") || !strings.Contains(err.Error(), `route "default"`) {
		t.Errorf("101 rules: %v", err)
	}
	var hdrs []string
	for i := range 10 {
		hdrs = append(hdrs, fmt.Sprintf("X-H%d: v", i))
	}
	err = renderErr(t, dom, "  - {name: wide, match: {path: {exact: /w}, headers: {"+strings.Join(hdrs, ", ")+"}}, pool: app}\n")
	if err == nil || !strings.Contains(err.Error(), "11 match conditions") || !strings.Contains(err.Error(), `route "wide"`) {
		t.Errorf("11 conditions: %v", err)
	}
	err = renderErr(t, dom, "  - {name: patch, match: {path: {exact: /p}, methods: [PATCH]}, pool: app}\n")
	if err == nil || !strings.Contains(err.Error(), "PATCH") || !strings.Contains(err.Error(), `route "patch"`) {
		t.Errorf("PATCH: %v", err)
	}
	err = renderErr(t, dom, "  - {name: cap, match: {path: {regex: \"^/c/([0-9]+)$\"}}, pool: app}\n")
	if err == nil || !strings.Contains(err.Error(), "capturing group") {
		t.Errorf("capture: %v", err)
	}
	// 40 domains × 2 protocols × (paths + overrides): 30 prefixes and the fallback give 61 patterns and 31
	// overrides on one route.
	var ds []string
	for i := range 40 {
		ds = append(ds, fmt.Sprintf("{host: h%d.example.com, zone: example.com}", i))
	}
	var rs strings.Builder
	for i := range 30 {
		fmt.Fprintf(&rs, "  - {name: p%02d, match: {path: {prefix: /p%02d}}, pool: app}\n", i, i)
	}
	err = renderErr(t, strings.Join(ds, ", "), rs.String())
	if err == nil || !strings.Contains(err.Error(), "composite route metric is 7360") || !strings.Contains(err.Error(), "route-app: (40+40)×(61+31)=7360") {
		t.Errorf("composite metric: %v", err)
	}
	if err := renderErr(t, dom, rs.String()); err != nil {
		t.Errorf("one domain, 30 prefixes: %v", err)
	}
}

// TestExampleFigures logs the rule count and composite route metric of each example rendered in test mode
// (the examples are refused for deployment; see the capability table).
func TestExampleFigures(t *testing.T) {
	for _, p := range []string{"testdata/native.yaml", "../../testdata/examples/quickstart.yaml", "../../testdata/examples/full.yaml"} {
		arts, err := azrender.Render(load(t, p), azrender.Options{Test: p != "testdata/native.yaml"})
		if err != nil {
			t.Fatal(err)
		}
		b, err := azrender.Parse(arts)
		if err != nil {
			t.Fatal(err)
		}
		s := azrender.StatsOf(b)
		if s.Rules == 0 || s.CompositeMetric == 0 || s.Rules > azrender.MaxRulesPerSet || s.CompositeMetric > azrender.MaxCompositeMetric {
			t.Errorf("%s: %+v", p, s)
		}
		t.Logf("%s: %d rules, %d routes, %d overrides, composite route metric %d, at most %d conditions and %d actions per rule",
			p, s.Rules, s.Routes, s.Overrides, s.CompositeMetric, s.MaxConditions, s.MaxActions)
	}
}

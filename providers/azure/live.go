package azure

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/cdn/armcdn/v2"

	"github.com/edgegw/edgegw/render"
	azrender "github.com/edgegw/edgegw/render/azure"
)

// live is what plan reads of the profile: the endpoint's routes, the rule sets (with the rules of the sets
// that matter), the origin groups and origins, the custom domains and the profile's tags (the records).
type live struct {
	routes   map[string]*armcdn.Route // by name
	order    []string                 // route names as listed
	ruleSets map[string]bool          // lower-case names
	rules    map[string][]*armcdn.Rule
	groups   map[string]*armcdn.AFDOriginGroup
	origins  map[string]map[string]*armcdn.AFDOrigin // group → origin
	domains  map[string]*armcdn.AFDDomain
	tags     map[string]*string
	// desiredSet is the rule set the read was made for (lower case).
	desiredSet string
}

// ruleSetsRead reports whether l holds the rules of set (when it exists) and of the live set.
func (l *live) ruleSetsRead(set string) bool {
	for _, s := range uniq(l.liveSet(), set) {
		if _, ok := l.rules[strings.ToLower(s)]; l.ruleSets[strings.ToLower(s)] && !ok {
			return false
		}
	}
	return l.desiredSet == strings.ToLower(set)
}

// token is the base token: each route's rule-set ids, lower-cased (ARM gives segments back in lower case).
func (l *live) token() string {
	if len(l.order) == 0 {
		return "none"
	}
	var parts []string
	for _, n := range l.order {
		var ids []string
		if pr := l.routes[n].Properties; pr != nil {
			for _, rs := range pr.RuleSets {
				if rs != nil && rs.ID != nil {
					ids = append(ids, strings.ToLower(*rs.ID))
				}
			}
		}
		parts = append(parts, strings.ToLower(n)+"="+strings.Join(ids, "+"))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// liveSet is the rule set the routes run: the one of the first route, when it is edgegw's.
func (l *live) liveSet() string {
	for _, n := range l.order {
		if pr := l.routes[n].Properties; pr != nil {
			for _, rs := range pr.RuleSets {
				if rs != nil && rs.ID != nil && isRelease(azrender.LastName(*rs.ID)) {
					return azrender.LastName(*rs.ID)
				}
			}
		}
	}
	return ""
}

var releaseName = regexp.MustCompile(`^release[0-9a-f]{12}$`)

// isRelease reports whether a rule set is one edgegw made (render/azure names them release<digest>).
func isRelease(name string) bool { return releaseName.MatchString(strings.ToLower(name)) }

func pages[T any](more func() bool, next func(context.Context) (T, error), ctx context.Context, each func(T)) error {
	for more() {
		pg, err := next(ctx)
		if err != nil {
			return err
		}
		each(pg)
	}
	return nil
}

// read reads the live state; desiredSet is the rule set the artifacts bring, whose rules are read too.
func (p *Provider) read(ctx context.Context, desiredSet string, groups []string) (*live, error) {
	l := &live{routes: map[string]*armcdn.Route{}, ruleSets: map[string]bool{}, rules: map[string][]*armcdn.Rule{},
		groups: map[string]*armcdn.AFDOriginGroup{}, origins: map[string]map[string]*armcdn.AFDOrigin{}, domains: map[string]*armcdn.AFDDomain{},
		desiredSet: strings.ToLower(desiredSet)}
	prof, err := p.profiles.Get(ctx, p.group, p.profile, nil)
	if err != nil {
		return nil, p.apiError("read profile "+p.profile, err)
	}
	l.tags = prof.Tags
	rp := p.routes.NewListByEndpointPager(p.group, p.profile, p.endpoint, nil)
	if err := pages(rp.More, rp.NextPage, ctx, func(pg armcdn.RoutesClientListByEndpointResponse) {
		for _, r := range pg.Value {
			if r != nil && r.Name != nil {
				l.routes[*r.Name] = r
				l.order = append(l.order, *r.Name)
			}
		}
	}); err != nil {
		return nil, p.apiError("list the routes of endpoint "+p.endpoint, err)
	}
	sp := p.ruleSets.NewListByProfilePager(p.group, p.profile, nil)
	if err := pages(sp.More, sp.NextPage, ctx, func(pg armcdn.RuleSetsClientListByProfileResponse) {
		for _, s := range pg.Value {
			if s != nil && s.Name != nil {
				l.ruleSets[strings.ToLower(*s.Name)] = true
			}
		}
	}); err != nil {
		return nil, p.apiError("list the rule sets of profile "+p.profile, err)
	}
	for _, set := range uniq(l.liveSet(), desiredSet) {
		if !l.ruleSets[strings.ToLower(set)] {
			continue
		}
		if err := p.readRules(ctx, l, set); err != nil {
			return nil, err
		}
	}
	gp := p.groups.NewListByProfilePager(p.group, p.profile, nil)
	if err := pages(gp.More, gp.NextPage, ctx, func(pg armcdn.AFDOriginGroupsClientListByProfileResponse) {
		for _, g := range pg.Value {
			if g != nil && g.Name != nil {
				l.groups[strings.ToLower(*g.Name)] = g
			}
		}
	}); err != nil {
		return nil, p.apiError("list the origin groups of profile "+p.profile, err)
	}
	for _, g := range groups {
		if l.groups[strings.ToLower(g)] == nil {
			continue
		}
		m := map[string]*armcdn.AFDOrigin{}
		op := p.origins.NewListByOriginGroupPager(p.group, p.profile, g, nil)
		if err := pages(op.More, op.NextPage, ctx, func(pg armcdn.AFDOriginsClientListByOriginGroupResponse) {
			for _, o := range pg.Value {
				if o != nil && o.Name != nil {
					m[strings.ToLower(*o.Name)] = o
				}
			}
		}); err != nil {
			return nil, p.apiError("list the origins of origin group "+g, err)
		}
		l.origins[strings.ToLower(g)] = m
	}
	dp := p.domains.NewListByProfilePager(p.group, p.profile, nil)
	if err := pages(dp.More, dp.NextPage, ctx, func(pg armcdn.AFDCustomDomainsClientListByProfileResponse) {
		for _, d := range pg.Value {
			if d != nil && d.Name != nil {
				l.domains[strings.ToLower(*d.Name)] = d
			}
		}
	}); err != nil {
		return nil, p.apiError("list the custom domains of profile "+p.profile, err)
	}
	return l, nil
}

func (p *Provider) readRules(ctx context.Context, l *live, set string) error {
	var rules []*armcdn.Rule
	pg := p.rules.NewListByRuleSetPager(p.group, p.profile, set, nil)
	if err := pages(pg.More, pg.NextPage, ctx, func(r armcdn.RulesClientListByRuleSetResponse) {
		rules = append(rules, r.Value...)
	}); err != nil {
		return p.apiError("list the rules of rule set "+set, err)
	}
	sort.SliceStable(rules, func(i, j int) bool { return order(rules[i]) < order(rules[j]) })
	l.rules[strings.ToLower(set)] = rules
	return nil
}

func order(r *armcdn.Rule) int32 {
	if r == nil || r.Properties == nil || r.Properties.Order == nil {
		return 0
	}
	return *r.Properties.Order
}

func uniq(s ...string) []string {
	var out []string
	for _, x := range s {
		if x != "" && !containsFold(out, x) {
			out = append(out, x)
		}
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// resourceExpr is a template's resourceId() expression, which the deploy writes as an ARM id.
var resourceExpr = regexp.MustCompile(`\[resourceId\('Microsoft\.Cdn/profiles((?:/[A-Za-z]+)*)', ((?:'[^']*'(?:, )?)+)\)\]`)

// armIDs rewrites the template's resourceId() expressions as the ARM ids of this subscription and group.
func (p *Provider) armIDs(tmpl []byte) []byte {
	return resourceExpr.ReplaceAllFunc(tmpl, func(m []byte) []byte {
		sm := resourceExpr.FindSubmatch(m)
		types := strings.Split(strings.TrimPrefix(string(sm[1]), "/"), "/")
		var names []string
		for _, n := range strings.Split(string(sm[2]), ", ") {
			names = append(names, strings.Trim(n, "'"))
		}
		id := "/subscriptions/" + p.sub + "/resourceGroups/" + p.group + "/providers/Microsoft.Cdn/profiles/" + names[0]
		for i, t := range types {
			if t != "" && i+1 < len(names) {
				id += "/" + t + "/" + names[i+1]
			}
		}
		return []byte(id)
	})
}

func (p *Provider) ruleSetID(set string) string {
	return "/subscriptions/" + p.sub + "/resourceGroups/" + p.group + "/providers/Microsoft.Cdn/profiles/" + p.profile + "/ruleSets/" + set
}

// desired is the artifacts as the deploy needs them: the template with ARM ids, parsed into SDK types,
// and each resource's JSON for comparing with the live one.
type desired struct {
	bundle *azrender.Bundle
	set    string
	art    render.Artifact
	raw    []map[string]any // the resources of the template with ARM ids
}

func (p *Provider) desired(arts []render.Artifact) (*desired, error) {
	var tmpl *render.Artifact
	for i := range arts {
		switch arts[i].Path {
		case azrender.TemplatePath:
			tmpl = &arts[i]
		case azrender.TestMarksPath:
			return nil, fmt.Errorf("providers/azure: the artifacts were rendered in test mode (%s lists routes Front Door cannot carry out, kept as marked rules): they are never deployed; fix the routes `validate --target azure` refuses", azrender.TestMarksPath)
		}
	}
	if tmpl == nil {
		return nil, fmt.Errorf("providers/azure: no %s among the artifacts: render the azure target", azrender.TemplatePath)
	}
	data := p.armIDs(tmpl.Data)
	b, err := azrender.Parse([]render.Artifact{{Target: Name, Path: azrender.TemplatePath, Data: data}})
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(b.Profile, p.profile) || (len(b.Routes) > 0 && !strings.EqualFold(b.Endpoint, p.endpoint)) {
		return nil, fmt.Errorf("providers/azure: the template is rendered for profile %s endpoint %s, targets.azure says %s and %s: render again", b.Profile, b.Endpoint, p.profile, p.endpoint)
	}
	if len(b.RuleSets) != 1 {
		return nil, fmt.Errorf("providers/azure: the template holds %d rule sets, the deploy ships exactly one per release", len(b.RuleSets))
	}
	var t struct {
		Resources []map[string]any `json:"resources"`
	}
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("providers/azure: %s: %w", azrender.TemplatePath, err)
	}
	return &desired{bundle: b, set: *b.RuleSets[0].Name, art: *tmpl, raw: t.Resources}, nil
}

func (d *desired) groupNames() []string {
	var out []string
	for _, g := range d.bundle.OriginGroups {
		out = append(out, *g.Name)
	}
	return out
}

// liveResource returns the live counterpart of a template resource (its JSON), or nil. Rules are looked up
// in the live rule set when the template's is not there.
func (l *live) liveResource(typ, name, liveSet string) any {
	parts := strings.Split(strings.ToLower(name), "/")
	var v any
	switch typ {
	case azrender.TypeCustomDomain:
		if d := l.domains[parts[1]]; d != nil {
			v = d
		}
	case azrender.TypeOriginGroup:
		if g := l.groups[parts[1]]; g != nil {
			v = g
		}
	case azrender.TypeOrigin:
		if o := l.origins[parts[1]][parts[2]]; o != nil {
			v = o
		}
	case azrender.TypeRuleSet:
		if l.ruleSets[parts[1]] {
			return map[string]any{"properties": map[string]any{}}
		}
	case azrender.TypeRule:
		for _, r := range l.rules[parts[1]] {
			if strings.EqualFold(*r.Name, parts[2]) {
				v = r
			}
		}
	case azrender.TypeRoute:
		for n, r := range l.routes {
			if strings.EqualFold(n, parts[2]) {
				v = r
			}
		}
	}
	if v == nil {
		return nil
	}
	b, _ := json.Marshal(v)
	var m any
	_ = json.Unmarshal(b, &m)
	return m
}

// matches reports whether live holds every field the desired JSON sets, with the same value; ids are
// compared case-insensitively, as ARM gives their segments back in lower case.
func matches(want, got any, key string) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range w {
			gv, ok := g[k]
			if !ok || !matches(v, gv, k) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !matches(w[i], g[i], key) {
				return false
			}
		}
		return true
	case string:
		g, ok := got.(string)
		if key == "id" {
			return ok && strings.EqualFold(w, g)
		}
		return ok && w == g
	default:
		return fmt.Sprint(want) == fmt.Sprint(got)
	}
}

// project gives back the live value in the shape of the desired one: the desired's keys only, so a plan's
// diff shows what edgegw sets and nothing ARM adds (provisioningState, deploymentStatus).
func project(want, got any, key string) any {
	if matches(want, got, key) {
		return want
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return got
		}
		out := map[string]any{}
		for k, v := range w {
			if gv, ok := g[k]; ok {
				out[k] = project(v, gv, k)
			}
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok {
			return got
		}
		out := make([]any, len(g))
		for i := range g {
			if i < len(w) {
				out[i] = project(w[i], g[i], key)
			} else {
				out[i] = g[i]
			}
		}
		return out
	}
	return got
}

// props returns a resource JSON's properties.
func props(v any) any {
	if m, ok := v.(map[string]any); ok {
		return m["properties"]
	}
	return nil
}

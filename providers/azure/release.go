package azure

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/cdn/armcdn/v2"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/render"
	azrender "github.com/edgegw/edgegw/render/azure"
)

// KeepReleases is how many of edgegw's newest rule sets an apply keeps; older ones are deleted.
const KeepReleases = 3

// stagedRelease is a rule set built beside the live one, and how to take back everything staging did.
type stagedRelease struct {
	d    *desired
	live *live
	undo []undoStep
}

// undoStep takes back one mutation; steps run newest first.
type undoStep struct {
	what string
	run  func(ctx context.Context) error
}

// Plan implements providers.Provider: it reads the routes, the rule sets, the origin groups and the
// domains, and gives them back as a template in the shape of the artifacts, so the diff shows what changes.
func (p *Provider) Plan(ctx context.Context, in providers.PlanInput) (*providers.TargetPlan, error) {
	d, err := p.desired(in.Artifacts)
	if err != nil {
		return nil, err
	}
	l, err := p.read(ctx, d.set, d.groupNames())
	if err != nil {
		return nil, err
	}
	p.lastRead = l
	ls := providers.LiveState{Token: l.token(), Version: l.liveSet()}
	if len(l.order) > 0 {
		ls.Artifacts = []render.Artifact{p.liveTemplate(d, l)}
	}
	tp := providers.Diff(Name, azrender.Name, ls, in)
	if tp.HasChanges() && ls.Version != "" && in.Gateway != nil {
		changes, liveRoutes := p.routeChanges(d, l, in.Gateway)
		tp.Changes, tp.LiveRoutes = append(tp.Changes, changes...), liveRoutes
	}
	if ls.Version == "" && len(l.order) > 0 {
		tp.Warnings = append(tp.Warnings, fmt.Sprintf("the routes of endpoint %s run no rule set of edgegw's: apply switches them to rule set %s, and there is no edgegw release to roll back to", p.endpoint, d.set))
	}
	return tp, nil
}

// ruleKey is the route part of a rule's name (render/azure.RuleName: r<route><nn>).
func ruleKey(rule string) string {
	if len(rule) < 3 {
		return strings.ToLower(rule)
	}
	return strings.ToLower(rule[1 : len(rule)-2])
}

// routeChanges lists the manifest's routes whose rules differ from the live rule set's, by the route
// part of the rules' names, and counts the routes live. The deploy records in the profile's tags are too
// small for a per-route summary, so the rules themselves are compared.
func (p *Provider) routeChanges(d *desired, l *live, g *ir.Gateway) ([]providers.Change, int) {
	liveRules := map[string][]*armcdn.Rule{}
	var liveKeys []string
	for _, r := range l.rules[strings.ToLower(l.liveSet())] {
		k := ruleKey(*r.Name)
		if liveRules[k] == nil {
			liveKeys = append(liveKeys, k)
		}
		liveRules[k] = append(liveRules[k], r)
	}
	raw := d.rawOf()
	var out []providers.Change
	claimed := map[string]bool{}
	for _, rt := range g.Routes {
		k := ruleKey(azrender.RuleName(rt.Name, 1))
		claimed[k] = true
		var want []string
		for _, r := range d.bundle.Rules[d.set] {
			if ruleKey(*r.Name) == k {
				want = append(want, *r.Name)
			}
		}
		have := liveRules[k]
		switch {
		case len(have) == 0:
			out = append(out, providers.Change{Action: providers.Create, Kind: "route", Name: rt.Name, Pos: rt.Pos})
			continue
		case len(have) != len(want):
			out = append(out, providers.Change{Action: providers.Update, Kind: "route", Name: rt.Name, Pos: rt.Pos})
			continue
		}
		for i, name := range want {
			if !strings.EqualFold(*have[i].Name, name) || !matches(props(raw[key(azrender.TypeRule, p.profile+"/"+d.set+"/"+name)]), jsonOf(have[i].Properties), "") {
				out = append(out, providers.Change{Action: providers.Update, Kind: "route", Name: rt.Name, Pos: rt.Pos})
				break
			}
		}
	}
	for _, k := range liveKeys {
		if !claimed[k] {
			out = append(out, providers.Change{Action: providers.Delete, Kind: "route", Name: k})
		}
	}
	return out, len(liveKeys)
}

type resKey struct{ typ, name string }

func key(typ, name string) resKey { return resKey{typ, strings.ToLower(name)} }

// liveTemplate is the live state as a template: each resource the artifacts hold, as it is live, in the
// artifacts' order and shape; the rules are those of the rule set the routes run when the artifacts' rule
// set is not there yet. Live resources edgegw owns and the artifacts drop (routes, rules) are listed after.
func (p *Provider) liveTemplate(d *desired, l *live) render.Artifact {
	ls := l.liveSet()
	set := d.set
	if !l.ruleSets[strings.ToLower(set)] && ls != "" {
		set = ls
	}
	var res []map[string]any
	same := true
	seenRules, seenRoutes := map[string]bool{}, map[string]bool{}
	for _, r := range d.raw {
		typ, _ := r["type"].(string)
		name, _ := r["name"].(string)
		parts := strings.Split(name, "/")
		switch typ {
		case azrender.TypeRuleSet:
			parts[1] = set
		case azrender.TypeRule:
			parts[1] = set
			seenRules[strings.ToLower(parts[2])] = true
		case azrender.TypeRoute:
			seenRoutes[strings.ToLower(parts[2])] = true
		}
		lr := l.liveResource(typ, strings.Join(parts, "/"), ls)
		if lr == nil {
			same = false
			continue
		}
		if !strings.EqualFold(set, d.set) || !matches(props(r), props(lr), "") {
			same = false
		}
		out := map[string]any{}
		for k, v := range r {
			out[k] = v
		}
		out["name"] = strings.Join(parts, "/")
		out["properties"] = project(props(r), props(lr), "")
		res = append(res, out)
	}
	for _, rule := range l.rules[strings.ToLower(set)] {
		if !seenRules[strings.ToLower(*rule.Name)] {
			same = false
			res = append(res, map[string]any{"type": azrender.TypeRule, "name": p.profile + "/" + set + "/" + *rule.Name, "properties": jsonOf(rule.Properties)})
		}
	}
	for _, n := range l.order {
		if !seenRoutes[strings.ToLower(n)] {
			same = false
			res = append(res, map[string]any{"type": azrender.TypeRoute, "name": p.profile + "/" + p.endpoint + "/" + n, "properties": jsonOf(l.routes[n].Properties)})
		}
	}
	if same {
		return d.art
	}
	data := indentJSON(map[string]any{"$schema": azrender.DeploymentTemplateSchema, "contentVersion": "1.0.0.0", "resources": res})
	return render.Artifact{Target: Name, Path: azrender.TemplatePath, MediaType: "application/json", Data: p.exprIDs(data)}
}

// exprIDs writes this profile's ARM ids back as resourceId() expressions, so a plan's diff shows only
// what differs.
func (p *Provider) exprIDs(data []byte) []byte {
	prefix := "/subscriptions/" + p.sub + "/resourceGroups/" + p.group + "/providers/Microsoft.Cdn/profiles/" + p.profile
	re := regexp.MustCompile(`(?i)"` + regexp.QuoteMeta(prefix) + `((?:/[A-Za-z]+/[^/"]+)+)"`)
	types := map[string]string{"customdomains": "customDomains", "origingroups": "originGroups", "rulesets": "ruleSets", "afdendpoints": "afdEndpoints"}
	return re.ReplaceAllFunc(data, func(m []byte) []byte {
		segs := strings.Split(strings.TrimPrefix(string(re.FindSubmatch(m)[1]), "/"), "/")
		typ, names := "Microsoft.Cdn/profiles", []string{"'" + p.profile + "'"}
		for i := 0; i+1 < len(segs); i += 2 {
			t := segs[i]
			if c, ok := types[strings.ToLower(t)]; ok {
				t = c
			}
			typ += "/" + t
			names = append(names, "'"+segs[i+1]+"'")
		}
		return []byte(`"[resourceId('` + typ + `', ` + strings.Join(names, ", ") + `)]"`)
	})
}

func jsonOf(v any) any {
	b, _ := json.Marshal(v)
	var m any
	_ = json.Unmarshal(b, &m)
	return m
}

func indentJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
	return buf.Bytes()
}

// rawOf indexes the desired resources' JSON.
func (d *desired) rawOf() map[resKey]map[string]any {
	m := map[resKey]map[string]any{}
	for _, r := range d.raw {
		typ, _ := r["type"].(string)
		name, _ := r["name"].(string)
		m[key(typ, name)] = r
	}
	return m
}

// Stage implements providers.Stager: it creates or updates the custom domains, origin groups and origins
// that differ, then the release's rule set and its rules, one long-running operation each. Routes are not
// touched: traffic still runs the live rule set. A failure takes back what was done, newest first.
func (p *Provider) Stage(ctx context.Context, tp *providers.TargetPlan) (*providers.Staged, error) {
	d, err := p.desired(tp.RenderedArtifacts())
	if err != nil {
		return nil, err
	}
	// The engine plans again right before it stages (its stale-plan check): that read is this one.
	l := p.lastRead
	p.lastRead = nil
	if l == nil || l.token() != tp.BaseToken || !l.ruleSetsRead(d.set) {
		if l, err = p.read(ctx, d.set, d.groupNames()); err != nil {
			return nil, err
		}
	}
	if tok := l.token(); tok != tp.BaseToken {
		return nil, &providers.StalePlanError{Target: Name, Reason: fmt.Sprintf("the routes' rule sets moved from %s to %s since the plan was made", tp.BaseToken, tok)}
	}
	st := &stagedRelease{d: d, live: l}
	if err := p.stage(ctx, st); err != nil {
		return nil, p.restore(ctx, st, err)
	}
	p.staged[d.set] = st
	return &providers.Staged{Target: Name, Version: d.set, Plan: tp}, nil
}

func (p *Provider) stage(ctx context.Context, st *stagedRelease) error {
	d, l, raw := st.d, st.live, st.d.rawOf()
	b := d.bundle
	for _, dom := range b.Domains {
		name := *dom.Name
		old := l.domains[strings.ToLower(name)]
		if old != nil && matches(props(raw[key(azrender.TypeCustomDomain, p.profile+"/"+name)]), jsonOf(old.Properties), "") {
			continue
		}
		if _, err := poll(ctx, p, "custom domain "+name, begin(p.domains.BeginCreate(ctx, p.group, p.profile, name, *dom, nil))); err != nil {
			return err
		}
		st.push("custom domain "+name, func(ctx context.Context) error {
			if old == nil {
				_, err := poll(ctx, p, "delete custom domain "+name, begin(p.domains.BeginDelete(ctx, p.group, p.profile, name, nil)))
				return err
			}
			_, err := poll(ctx, p, "put back custom domain "+name, begin(p.domains.BeginCreate(ctx, p.group, p.profile, name, *old, nil)))
			return err
		})
	}
	for _, g := range b.OriginGroups {
		name := *g.Name
		old := l.groups[strings.ToLower(name)]
		if old == nil || !matches(props(raw[key(azrender.TypeOriginGroup, p.profile+"/"+name)]), jsonOf(old.Properties), "") {
			if _, err := poll(ctx, p, "origin group "+name, begin(p.groups.BeginCreate(ctx, p.group, p.profile, name, *g, nil))); err != nil {
				return err
			}
			st.push("origin group "+name, func(ctx context.Context) error {
				if old == nil {
					_, err := poll(ctx, p, "delete origin group "+name, begin(p.groups.BeginDelete(ctx, p.group, p.profile, name, nil)))
					return err
				}
				_, err := poll(ctx, p, "put back origin group "+name, begin(p.groups.BeginCreate(ctx, p.group, p.profile, name, *old, nil)))
				return err
			})
		}
		for _, o := range b.Origins[name] {
			on := *o.Name
			oldO := l.origins[strings.ToLower(name)][strings.ToLower(on)]
			if oldO != nil && matches(props(raw[key(azrender.TypeOrigin, p.profile+"/"+name+"/"+on)]), jsonOf(oldO.Properties), "") {
				continue
			}
			if _, err := poll(ctx, p, "origin "+name+"/"+on, begin(p.origins.BeginCreate(ctx, p.group, p.profile, name, on, *o, nil))); err != nil {
				return err
			}
			if old != nil { // a new group's origins go with it
				st.push("origin "+on, func(ctx context.Context) error {
					if oldO == nil {
						_, err := poll(ctx, p, "delete origin "+name+"/"+on, begin(p.origins.BeginDelete(ctx, p.group, p.profile, name, on, nil)))
						return err
					}
					_, err := poll(ctx, p, "put back origin "+name+"/"+on, begin(p.origins.BeginCreate(ctx, p.group, p.profile, name, on, *oldO, nil)))
					return err
				})
			}
		}
	}
	set := d.set
	newSet := !l.ruleSets[strings.ToLower(set)]
	if newSet {
		if _, err := p.ruleSets.Create(ctx, p.group, p.profile, set, nil); err != nil {
			return p.apiError("create rule set "+set, err)
		}
		fmt.Fprintf(p.progress, "azure: rule set %s: created\n", set)
		st.push("rule set "+set, func(ctx context.Context) error {
			_, err := poll(ctx, p, "delete the half-built rule set "+set, begin(p.ruleSets.BeginDelete(ctx, p.group, p.profile, set, nil)))
			return err
		})
	}
	liveRules := map[string]*armcdn.Rule{}
	for _, r := range l.rules[strings.ToLower(set)] {
		liveRules[strings.ToLower(*r.Name)] = r
	}
	rules := b.Rules[set]
	for i, r := range rules {
		rn := *r.Name
		old := liveRules[strings.ToLower(rn)]
		delete(liveRules, strings.ToLower(rn))
		if !newSet && old != nil && matches(props(raw[key(azrender.TypeRule, p.profile+"/"+set+"/"+rn)]), jsonOf(old.Properties), "") {
			continue
		}
		what := fmt.Sprintf("rule %d/%d %s of rule set %s", i+1, len(rules), rn, set)
		if _, err := poll(ctx, p, what, begin(p.rules.BeginCreate(ctx, p.group, p.profile, set, rn, *r, nil))); err != nil {
			return err
		}
		if !newSet {
			st.push("rule "+rn, func(ctx context.Context) error {
				if old == nil {
					_, err := poll(ctx, p, "delete rule "+rn, begin(p.rules.BeginDelete(ctx, p.group, p.profile, set, rn, nil)))
					return err
				}
				_, err := poll(ctx, p, "put back rule "+rn, begin(p.rules.BeginCreate(ctx, p.group, p.profile, set, rn, *old, nil)))
				return err
			})
		}
	}
	// Rules someone added by hand to an existing release's set are not part of it.
	for _, old := range liveRules {
		rn := *old.Name
		if _, err := poll(ctx, p, "delete rule "+rn+" of rule set "+set, begin(p.rules.BeginDelete(ctx, p.group, p.profile, set, rn, nil))); err != nil {
			return err
		}
		st.push("rule "+rn, func(ctx context.Context) error {
			_, err := poll(ctx, p, "put back rule "+rn, begin(p.rules.BeginCreate(ctx, p.group, p.profile, set, rn, *old, nil)))
			return err
		})
	}
	return nil
}

func (st *stagedRelease) push(what string, run func(context.Context) error) {
	st.undo = append(st.undo, undoStep{what: what, run: run})
}

// restore takes back every mutation of st, newest first, and says what happened. When something was
// changed, the error is a *providers.PartialError (exit 3) whose report says whether taking back worked.
func (p *Provider) restore(ctx context.Context, st *stagedRelease, cause error) error {
	var stale *providers.StalePlanError
	if len(st.undo) == 0 {
		return cause
	}
	ctx = context.WithoutCancel(ctx)
	var failed []string
	for i := len(st.undo) - 1; i >= 0; i-- {
		if err := st.undo[i].run(ctx); err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", st.undo[i].what, err))
		}
	}
	st.undo = nil
	live := st.live.liveSet()
	if live == "" {
		live = "none"
	}
	rep := &providers.Report{Targets: []providers.TargetReport{{Target: Name, Status: providers.StatusRestored, Version: live, Previous: live, Error: cause.Error()}}}
	if len(failed) > 0 {
		rep.Targets[0].Status = providers.StatusRestoreFailed
		return &providers.PartialError{Report: rep, Err: fmt.Errorf("%w; taking back the changes failed for %s: check them in the Azure portal (profile %s)", cause, strings.Join(failed, "; "), p.profile)}
	}
	if errors.As(cause, &stale) {
		return fmt.Errorf("%w (rule set %s, built for the plan, was deleted again)", cause, st.d.set)
	}
	was := "the routes run rule set " + live + " as before"
	if live == "none" {
		was = "no route runs an edgegw rule set, as before"
	}
	return &providers.PartialError{Report: rep, Err: fmt.Errorf("%w; restored: %s, and what this apply had built (rule set %s included, when new) was taken back", cause, was, st.d.set)}
}

// listRoutes reads the endpoint's routes only.
func (p *Provider) listRoutes(ctx context.Context) (*live, error) {
	l := &live{routes: map[string]*armcdn.Route{}}
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
	return l, nil
}

func routeUpdate(v any) armcdn.RouteUpdateParameters {
	var u armcdn.RouteUpdatePropertiesParameters
	b, _ := json.Marshal(v)
	_ = json.Unmarshal(b, &u)
	u.EndpointName = nil // read-only
	return armcdn.RouteUpdateParameters{Properties: &u}
}

// Activate implements providers.Stager: it refuses a moved base token, then switches each route to the
// release's rule set (one route update per route; routes the release adds are created, edgegw's routes it
// drops deleted), writes the deploy record into the profile's tags and deletes the rule sets older than the
// last KeepReleases of edgegw's. Any failure before the record is written switches the routes back and
// takes back what staging built.
func (p *Provider) Activate(ctx context.Context, s *providers.Staged, rec providers.DeployRecord) (*providers.Result, error) {
	st := p.staged[s.Version]
	if st == nil {
		return nil, fmt.Errorf("providers/azure: rule set %s was not staged by this run", s.Version)
	}
	delete(p.staged, s.Version)
	cur, err := p.listRoutes(ctx)
	if err != nil {
		return nil, p.restore(ctx, st, err)
	}
	if tok := cur.token(); tok != s.Plan.BaseToken {
		return nil, p.restore(ctx, st, &providers.StalePlanError{Target: Name, Reason: fmt.Sprintf("the routes' rule sets moved from %s to %s since the plan was made", s.Plan.BaseToken, tok)})
	}
	raw := st.d.rawOf()
	var wanted []string
	for _, rt := range st.d.bundle.Routes {
		name := *rt.Name
		wanted = append(wanted, strings.ToLower(name))
		old := cur.routes[name]
		if old == nil {
			for n, r := range cur.routes {
				if strings.EqualFold(n, name) {
					old = r
				}
			}
		}
		want := raw[key(azrender.TypeRoute, p.profile+"/"+p.endpoint+"/"+name)]
		if old != nil && matches(props(want), jsonOf(old.Properties), "") {
			continue
		}
		if old == nil {
			if _, err := poll(ctx, p, "create route "+name, begin(p.routes.BeginCreate(ctx, p.group, p.profile, p.endpoint, name, *rt, nil))); err != nil {
				return nil, p.restore(ctx, st, err)
			}
			st.push("route "+name, func(ctx context.Context) error {
				_, err := poll(ctx, p, "delete route "+name, begin(p.routes.BeginDelete(ctx, p.group, p.profile, p.endpoint, name, nil)))
				return err
			})
			continue
		}
		if _, err := poll(ctx, p, "switch route "+name+" to rule set "+st.d.set, begin(p.routes.BeginUpdate(ctx, p.group, p.profile, p.endpoint, name, routeUpdate(rt.Properties), nil))); err != nil {
			return nil, p.restore(ctx, st, err)
		}
		st.push("route "+name, func(ctx context.Context) error {
			_, err := poll(ctx, p, "switch route "+name+" back", begin(p.routes.BeginUpdate(ctx, p.group, p.profile, p.endpoint, name, routeUpdate(old.Properties), nil)))
			return err
		})
	}
	for _, n := range cur.order {
		old := cur.routes[n]
		if slices.Contains(wanted, strings.ToLower(n)) || !strings.HasPrefix(strings.ToLower(n), "route-") {
			continue // not edgegw's (render/azure names its routes route-<pool>)
		}
		if _, err := poll(ctx, p, "delete route "+n, begin(p.routes.BeginDelete(ctx, p.group, p.profile, p.endpoint, n, nil))); err != nil {
			return nil, p.restore(ctx, st, err)
		}
		st.push("route "+n, func(ctx context.Context) error {
			_, err := poll(ctx, p, "create route "+n+" again", begin(p.routes.BeginCreate(ctx, p.group, p.profile, p.endpoint, n, *old, nil)))
			return err
		})
	}
	recs := records(st.live.tags)
	seq := 1
	if len(recs) > 0 {
		seq = recs[len(recs)-1].Seq + 1
	}
	rec.Target, rec.Version, rec.Seq = Name, st.d.set, seq
	if rec.Previous.Version == "" {
		rec.Previous = providers.RestorePoint{Target: Name, Version: st.live.liveSet()}
	}
	if err := p.writeRecord(ctx, st.live.tags, rec); err != nil {
		return nil, p.restore(ctx, st, err)
	}
	st.undo = nil
	p.collect(ctx, st, append(recs, rec))
	return &providers.Result{Target: Name, Version: st.d.set, Record: seq}, nil
}

// collect deletes edgegw's rule sets older than the last KeepReleases releases; the live set and the one
// before it always stay. A failure is reported and left for the next apply.
func (p *Provider) collect(ctx context.Context, st *stagedRelease, recs []providers.DeployRecord) {
	keep := []string{strings.ToLower(st.d.set), strings.ToLower(st.live.liveSet())}
	for i := len(recs) - 1; i >= 0 && len(uniq(keep...)) < KeepReleases; i-- {
		keep = append(keep, strings.ToLower(recs[i].Version))
	}
	keep = uniq(keep...)
	var names []string
	for n := range st.live.ruleSets {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if !isRelease(n) || slices.Contains(keep, n) {
			continue
		}
		if _, err := poll(ctx, p, "delete old rule set "+n, begin(p.ruleSets.BeginDelete(ctx, p.group, p.profile, n, nil))); err != nil {
			fmt.Fprintf(p.progress, "azure: warning: %v; the next apply tries again\n", err)
		}
	}
}

// Apply implements providers.Provider for callers that do not stage.
func (p *Provider) Apply(ctx context.Context, tp *providers.TargetPlan, rec providers.DeployRecord) (*providers.Result, error) {
	s, err := p.Stage(ctx, tp)
	if err != nil {
		return nil, err
	}
	return p.Activate(ctx, s, rec)
}

// Rollback implements providers.Provider: each route that runs one of edgegw's rule sets is switched to
// the restore point's rule set, one route update per route. Nothing is uploaded and nothing written; a
// failure switches the routes already switched back.
func (p *Provider) Rollback(ctx context.Context, rp providers.RestorePoint, rec providers.DeployRecord) (*providers.Result, error) {
	if rp.Version == "" {
		return nil, errors.New("providers/azure: no edgegw rule set was live before this deploy, so there is none to switch back to: point the routes at another rule set in the Azure portal if they must change")
	}
	if _, err := p.ruleSets.Get(ctx, p.group, p.profile, rp.Version, nil); err != nil {
		return nil, p.apiError(fmt.Sprintf("read rule set %s (edgegw keeps the last %d releases; an older one is gone: use `edgegw rollback --to REF`)", rp.Version, KeepReleases), err)
	}
	cur, err := p.listRoutes(ctx)
	if err != nil {
		return nil, err
	}
	id := p.ruleSetID(rp.Version)
	type switched struct {
		name string
		old  []*armcdn.ResourceReference
	}
	var done []switched
	for _, n := range cur.order {
		pr := cur.routes[n].Properties
		if pr == nil || !runsRelease(pr.RuleSets) || (len(pr.RuleSets) == 1 && strings.EqualFold(*pr.RuleSets[0].ID, id)) {
			continue
		}
		upd := armcdn.RouteUpdateParameters{Properties: &armcdn.RouteUpdatePropertiesParameters{RuleSets: []*armcdn.ResourceReference{{ID: to.Ptr(id)}}}}
		if _, err := poll(ctx, p, "switch route "+n+" to rule set "+rp.Version, begin(p.routes.BeginUpdate(ctx, p.group, p.profile, p.endpoint, n, upd, nil))); err != nil {
			var failed []string
			for i := len(done) - 1; i >= 0; i-- {
				back := armcdn.RouteUpdateParameters{Properties: &armcdn.RouteUpdatePropertiesParameters{RuleSets: done[i].old}}
				if _, berr := poll(context.WithoutCancel(ctx), p, "switch route "+done[i].name+" back", begin(p.routes.BeginUpdate(context.WithoutCancel(ctx), p.group, p.profile, p.endpoint, done[i].name, back, nil))); berr != nil {
					failed = append(failed, done[i].name)
				}
			}
			if len(failed) > 0 {
				return nil, fmt.Errorf("%w; and switching routes %s back failed: they run rule set %s, check them in the Azure portal", err, strings.Join(failed, ", "), rp.Version)
			}
			return nil, fmt.Errorf("%w; the routes switched before it were switched back", err)
		}
		done = append(done, switched{n, pr.RuleSets})
	}
	return &providers.Result{Target: Name, Version: rp.Version}, nil
}

func runsRelease(refs []*armcdn.ResourceReference) bool {
	for _, r := range refs {
		if r != nil && r.ID != nil && isRelease(azrender.LastName(*r.ID)) {
			return true
		}
	}
	return false
}

// Verify implements providers.Verifier: every route that runs an edgegw rule set runs the activated one.
func (p *Provider) Verify(ctx context.Context, r *providers.Result) error {
	cur, err := p.listRoutes(ctx)
	if err != nil {
		return err
	}
	for _, n := range cur.order {
		pr := cur.routes[n].Properties
		if pr == nil || !runsRelease(pr.RuleSets) {
			continue
		}
		if len(pr.RuleSets) != 1 || !strings.EqualFold(azrender.LastName(*pr.RuleSets[0].ID), r.Version) {
			return fmt.Errorf("providers/azure: route %s does not run rule set %s after the switch: another deploy happened meanwhile", n, r.Version)
		}
	}
	return nil
}

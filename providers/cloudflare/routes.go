package cloudflare

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
)

// wantRoute is a zone Workers route a manifest domain needs: "<host>/*" on the host's zone, a wildcard host
// included ("*.example.com/*"). Custom Domains, which cannot be wildcards, are not used.
type wantRoute struct {
	zone, host, pattern string
	apex                bool
}

func desiredRoutes(g *ir.Gateway, defaultZone string) []wantRoute {
	if g == nil {
		return nil
	}
	var out []wantRoute
	for _, d := range g.Domains {
		zone := d.Zone
		if zone == "" {
			zone = defaultZone
		}
		out = append(out, wantRoute{zone: zone, host: d.Host, pattern: d.Host + "/*", apex: d.Apex})
	}
	return out
}

// routePlan is what the zones' live routes need to match want.
type routePlan struct {
	create []wantRoute
	remove []staleRoute
}

type staleRoute struct {
	zone, zoneID string
	route
}

func (rp routePlan) empty() bool { return len(rp.create) == 0 && len(rp.remove) == 0 }

func (p *Provider) zoneID(ctx context.Context, name string) (string, error) {
	if id, ok := p.zoneIDs[name]; ok {
		return id, nil
	}
	id, err := p.api.ZoneID(ctx, name)
	if err != nil {
		return "", p.wrap("find zone "+name, err)
	}
	p.zoneIDs[name] = id
	return id, nil
}

// planRoutes reads the live routes of the zones want names (and of targets.cloudflare.zone) and compares
// them with want. A pattern that routes to another script is an error: edgegw does not take it over.
func (p *Provider) planRoutes(ctx context.Context, want []wantRoute) (routePlan, error) {
	var rp routePlan
	zones := []string{}
	if p.zone != "" {
		zones = append(zones, p.zone)
	}
	for _, w := range want {
		if !slices.Contains(zones, w.zone) {
			zones = append(zones, w.zone)
		}
	}
	live := map[string]route{} // by pattern
	for _, z := range zones {
		id, err := p.zoneID(ctx, z)
		if err != nil {
			return rp, err
		}
		rs, err := p.api.Routes(ctx, id)
		if err != nil {
			return rp, p.wrap("read the routes of zone "+z, err)
		}
		for _, r := range rs {
			if r.Script != p.script {
				live[r.Pattern] = r
				continue
			}
			if !slices.ContainsFunc(want, func(w wantRoute) bool { return w.pattern == r.Pattern }) {
				rp.remove = append(rp.remove, staleRoute{zone: z, zoneID: id, route: r})
			}
			live[r.Pattern] = r
		}
	}
	for _, w := range want {
		r, ok := live[w.pattern]
		switch {
		case !ok:
			rp.create = append(rp.create, w)
		case r.Script != p.script:
			other := r.Script
			if other == "" {
				other = "no Worker (a route that disables Workers)"
			}
			return rp, fmt.Errorf("providers/%s: route %s on zone %s already serves %s: delete that route, or take %s out of the manifest's domains",
				Name, w.pattern, w.zone, other, w.host)
		}
	}
	return rp, nil
}

// routeChanges are the domain changes the live routes add to a plan, for the hosts Diff did not list.
func routeChanges(rp routePlan, tp *providers.TargetPlan) []providers.Change {
	listed := map[string]bool{}
	for _, c := range tp.Changes {
		if c.Kind == "domain" {
			listed[c.Name] = true
		}
	}
	var out []providers.Change
	for _, w := range rp.create {
		if !listed[w.host] {
			out = append(out, providers.Change{Action: providers.Create, Kind: "domain", Name: w.host, Apex: w.apex})
			listed[w.host] = true
		}
	}
	for _, r := range rp.remove {
		host := strings.TrimSuffix(r.Pattern, "/*")
		if !listed[host] {
			out = append(out, providers.Change{Action: providers.Delete, Kind: "domain", Name: host, Apex: host == r.zone})
			listed[host] = true
		}
	}
	return out
}

// syncRoutes makes the zones' routes match want: the missing ones are created, this script's routes no
// domain asks for are deleted.
func (p *Provider) syncRoutes(ctx context.Context, want []wantRoute) error {
	rp, err := p.planRoutes(ctx, want)
	if err != nil {
		return err
	}
	for _, w := range rp.create {
		id, err := p.zoneID(ctx, w.zone)
		if err != nil {
			return err
		}
		if err := p.api.NewRoute(ctx, id, w.pattern, p.script); err != nil {
			return p.wrap("create route "+w.pattern, err)
		}
	}
	for _, r := range rp.remove {
		if err := p.api.DeleteRoute(ctx, r.zoneID, r.ID); err != nil {
			return p.wrap("delete route "+r.Pattern, err)
		}
	}
	return nil
}

package cloudflare

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
)

// How a manifest domain reaches the Worker, as wrangler does it:
//
//   - an exact host with no DNS record of its own becomes a Workers Custom Domain (wrangler's
//     `custom_domain = true`): Cloudflare creates its DNS record and certificate, and it outranks routes;
//   - a wildcard host, which a Custom Domain cannot be, and an exact host that already has DNS records (a
//     user's CNAME to the origin, the apex CNAME Cloudflare flattens), get a zone route "<host>/*". A route
//     only sees traffic that a proxied record sends to Cloudflare: a host with no record at all gets a
//     proxied AAAA 100:: placeholder (Cloudflare's advice for Worker-only hosts), commented
//     placeholderComment, and a host whose records are all DNS-only is a warning. edgegw deletes only
//     the placeholders it created, found by that comment, never another record.
type wantHost struct {
	zone, host     string
	apex, wildcard bool
}

func (w wantHost) pattern() string { return w.host + "/*" }

// placeholderAddr is the discard prefix address Cloudflare documents for a proxied record that only a
// Worker answers.
const placeholderAddr = "100::"

// placeholderComment marks the placeholder records edgegw created for script.
func placeholderComment(script string) string {
	return "edgegw: placeholder for Worker " + script + " (proxied, answered by the Worker)"
}

func desiredHosts(g *ir.Gateway, defaultZone string) []wantHost {
	if g == nil {
		return nil
	}
	var out []wantHost
	for _, d := range g.Domains {
		zone := d.Zone
		if zone == "" {
			zone = defaultZone
		}
		out = append(out, wantHost{zone: zone, host: d.Host, apex: d.Apex, wildcard: d.Wildcard || strings.HasPrefix(d.Host, "*.")})
	}
	return out
}

// edgePlan is what the live routes, custom domains and placeholder records need to match the manifest.
type edgePlan struct {
	routes        []wantHost // zone routes to create
	removeRoutes  []staleRoute
	domains       []wantHost // custom domains to attach
	removeDomains []customDomain
	records       []wantHost // placeholder records to create
	removeRecords []staleRecord
	warnings      []string
}

type staleRoute struct {
	zone, zoneID string
	route
}

type staleRecord struct {
	zone, zoneID string
	dnsRecord
}

func (ep edgePlan) empty() bool {
	return len(ep.routes)+len(ep.removeRoutes)+len(ep.domains)+len(ep.removeDomains)+len(ep.records)+len(ep.removeRecords) == 0
}

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

// planEdge reads the live routes of the zones want names (and of targets.cloudflare.zone), the account's
// custom domains and the placeholders edgegw made, and the DNS records of the hosts that are not custom
// domains yet, and compares them with want. A route or custom domain that serves another script is an
// error: edgegw does not take it over.
func (p *Provider) planEdge(ctx context.Context, want []wantHost) (edgePlan, error) {
	var ep edgePlan
	zones := []string{}
	if p.zone != "" {
		zones = append(zones, p.zone)
	}
	for _, w := range want {
		if !slices.Contains(zones, w.zone) {
			zones = append(zones, w.zone)
		}
	}
	comment := placeholderComment(p.script)
	routes := map[string]route{} // by pattern
	var own []staleRoute
	placeholders := map[string]bool{} // by name
	var ownRecords []staleRecord
	for _, z := range zones {
		id, err := p.zoneID(ctx, z)
		if err != nil {
			return ep, err
		}
		rs, err := p.api.Routes(ctx, id)
		if err != nil {
			return ep, p.wrap("read the routes of zone "+z, err)
		}
		for _, r := range rs {
			routes[r.Pattern] = r
			if r.Script == p.script {
				own = append(own, staleRoute{zone: z, zoneID: id, route: r})
			}
		}
		recs, err := p.api.RecordsWithComment(ctx, id, comment)
		if err != nil {
			return ep, p.wrap("read the DNS records of zone "+z, err)
		}
		for _, r := range recs {
			placeholders[r.Name] = true
			ownRecords = append(ownRecords, staleRecord{zone: z, zoneID: id, dnsRecord: r})
		}
	}
	cds, err := p.api.CustomDomains(ctx)
	if err != nil {
		return ep, p.wrap("read the account's Workers Custom Domains", err)
	}
	domains := map[string]customDomain{}
	for _, d := range cds {
		domains[d.Host] = d
	}

	var wantRoutes, wantDomains, wantRecords []string
	for _, w := range want {
		if r, ok := routes[w.pattern()]; ok && r.Script != p.script {
			other := r.Script
			if other == "" {
				other = "no Worker (a route that disables Workers)"
			}
			return ep, fmt.Errorf("providers/%s: route %s on zone %s already serves %s: delete that route, or take %s out of the manifest's domains",
				Name, w.pattern(), w.zone, other, w.host)
		}
		if d, ok := domains[w.host]; ok {
			if d.Script != p.script {
				return ep, fmt.Errorf("providers/%s: %s is a Workers Custom Domain of Worker %s: detach it there (Workers & Pages → %s → Domains), or take it out of the manifest's domains",
					Name, w.host, d.Script, d.Script)
			}
			wantDomains = append(wantDomains, w.host) // already ours
			continue
		}
		var recs []dnsRecord
		if !placeholders[w.host] {
			id, err := p.zoneID(ctx, w.zone)
			if err != nil {
				return ep, err
			}
			if recs, err = p.api.Records(ctx, id, w.host); err != nil {
				return ep, p.wrap("read the DNS records of "+w.host, err)
			}
		}
		if !w.wildcard && len(recs) == 0 && !placeholders[w.host] {
			wantDomains = append(wantDomains, w.host)
			ep.domains = append(ep.domains, w)
			continue
		}
		wantRoutes = append(wantRoutes, w.pattern())
		if _, ok := routes[w.pattern()]; !ok {
			ep.routes = append(ep.routes, w)
		}
		switch {
		case placeholders[w.host]:
			wantRecords = append(wantRecords, w.host)
		case len(recs) == 0:
			wantRecords = append(wantRecords, w.host)
			ep.records = append(ep.records, w)
		case !slices.ContainsFunc(recs, func(r dnsRecord) bool { return r.Proxied }):
			ep.warnings = append(ep.warnings, fmt.Sprintf("%s: its DNS records are DNS-only, so the route %s sees no traffic: turn on the proxy (orange cloud) for one of them",
				w.host, w.pattern()))
		}
	}
	for _, r := range own {
		if !slices.Contains(wantRoutes, r.Pattern) {
			ep.removeRoutes = append(ep.removeRoutes, r)
		}
	}
	for _, d := range cds {
		if d.Script == p.script && !slices.Contains(wantDomains, d.Host) {
			ep.removeDomains = append(ep.removeDomains, d)
		}
	}
	for _, r := range ownRecords {
		if !slices.Contains(wantRecords, r.Name) {
			ep.removeRecords = append(ep.removeRecords, r)
		}
	}
	return ep, nil
}

// edgeChanges are the changes the live edge adds to a plan: each route, custom domain and placeholder
// record to create or delete, and the domain change of a host Diff did not list (for the apex threshold
// and the DNS preflight).
func edgeChanges(ep edgePlan, tp *providers.TargetPlan) []providers.Change {
	listed := map[string]bool{}
	for _, c := range tp.Changes {
		if c.Kind == "domain" {
			listed[c.Name] = true
		}
	}
	var out []providers.Change
	host := func(a providers.Action, h string, apex bool) {
		if !listed[h] {
			out = append(out, providers.Change{Action: a, Kind: "domain", Name: h, Apex: apex})
			listed[h] = true
		}
	}
	for _, w := range ep.domains {
		host(providers.Create, w.host, w.apex)
	}
	for _, w := range ep.routes {
		host(providers.Create, w.host, w.apex)
	}
	removed := func(h string) bool {
		return !slices.ContainsFunc(ep.domains, func(w wantHost) bool { return w.host == h }) &&
			!slices.ContainsFunc(ep.routes, func(w wantHost) bool { return w.host == h })
	}
	for _, r := range ep.removeRoutes {
		if h := strings.TrimSuffix(r.Pattern, "/*"); removed(h) {
			host(providers.Delete, h, h == r.zone)
		}
	}
	for _, d := range ep.removeDomains {
		if removed(d.Host) {
			host(providers.Delete, d.Host, d.Host == d.ZoneName)
		}
	}
	for _, w := range ep.domains {
		out = append(out, providers.Change{Action: providers.Create, Kind: kindCustomDomain, Name: w.host, Apex: w.apex})
	}
	for _, d := range ep.removeDomains {
		out = append(out, providers.Change{Action: providers.Delete, Kind: kindCustomDomain, Name: d.Host, Apex: d.Host == d.ZoneName})
	}
	for _, w := range ep.routes {
		out = append(out, providers.Change{Action: providers.Create, Kind: kindZoneRoute, Name: w.pattern(), Apex: w.apex})
	}
	for _, r := range ep.removeRoutes {
		out = append(out, providers.Change{Action: providers.Delete, Kind: kindZoneRoute, Name: r.Pattern})
	}
	for _, w := range ep.records {
		out = append(out, providers.Change{Action: providers.Create, Kind: kindDNSRecord, Name: w.host + " AAAA " + placeholderAddr + " proxied"})
	}
	for _, r := range ep.removeRecords {
		out = append(out, providers.Change{Action: providers.Delete, Kind: kindDNSRecord, Name: r.Name + " " + r.Type + " " + r.Content + " proxied"})
	}
	return out
}

// The change kinds of the Cloudflare resources a domain is served by, beside the host's "domain" change.
const (
	kindCustomDomain = "custom_domain"
	kindZoneRoute    = "zone_route"
	kindDNSRecord    = "dns_record"
)

// edgeUndo is what syncEdge changed, newest last, each with the call that puts it back.
type edgeUndo []edgeStep

type edgeStep struct {
	what string
	undo func(context.Context) error
}

// run puts everything back, newest first, and says what could not be.
func (u edgeUndo) run(ctx context.Context) error {
	var errs []error
	for i := len(u) - 1; i >= 0; i-- {
		if err := u[i].undo(ctx); err != nil {
			errs = append(errs, fmt.Errorf("put back %s: %w", u[i].what, err))
		}
	}
	return errors.Join(errs...)
}

// syncEdge makes the routes, custom domains and placeholder records match want: the placeholders a new
// route needs first, then the new routes and domains, then the removals. It returns what it changed (to
// put back after a later failure) and the placeholder records it created; on a failure it has already put
// back what it changed.
func (p *Provider) syncEdge(ctx context.Context, want []wantHost) (edgeUndo, []string, error) {
	ep, err := p.planEdge(ctx, want)
	if err != nil {
		return nil, nil, err
	}
	var undo edgeUndo
	var created []string
	comment := placeholderComment(p.script)
	fail := func(step string, err error) (edgeUndo, []string, error) {
		err = p.wrap(step, err)
		if uerr := undo.run(ctx); uerr != nil {
			return nil, nil, &EdgeRestoreError{Err: err, Restore: uerr}
		}
		if len(undo) > 0 {
			return nil, nil, &EdgeRestoreError{Err: err}
		}
		return nil, nil, err
	}
	for _, w := range ep.records {
		id, err := p.zoneID(ctx, w.zone)
		if err != nil {
			return fail("find zone "+w.zone, err)
		}
		if err := p.api.NewPlaceholder(ctx, id, w.host, comment); err != nil {
			return fail("create DNS record "+w.host+" AAAA "+placeholderAddr, err)
		}
		created = append(created, w.host)
		undo = append(undo, edgeStep{"DNS record " + w.host, func(ctx context.Context) error {
			recs, err := p.api.RecordsWithComment(ctx, id, comment)
			if err != nil {
				return err
			}
			for _, r := range recs {
				if r.Name == w.host {
					if err := p.api.DeleteRecord(ctx, id, r.ID); err != nil {
						return err
					}
				}
			}
			return nil
		}})
	}
	for _, w := range ep.routes {
		id, err := p.zoneID(ctx, w.zone)
		if err != nil {
			return fail("find zone "+w.zone, err)
		}
		if err := p.api.NewRoute(ctx, id, w.pattern(), p.script); err != nil {
			return fail("create route "+w.pattern(), err)
		}
		undo = append(undo, edgeStep{"route " + w.pattern(), func(ctx context.Context) error {
			rs, err := p.api.Routes(ctx, id)
			if err != nil {
				return err
			}
			for _, r := range rs {
				if r.Pattern == w.pattern() && r.Script == p.script {
					return p.api.DeleteRoute(ctx, id, r.ID)
				}
			}
			return nil
		}})
	}
	for _, w := range ep.domains {
		id, err := p.zoneID(ctx, w.zone)
		if err != nil {
			return fail("find zone "+w.zone, err)
		}
		if err := p.api.AttachDomain(ctx, id, w.host, p.script); err != nil {
			return fail("attach custom domain "+w.host, err)
		}
		undo = append(undo, edgeStep{"custom domain " + w.host, func(ctx context.Context) error {
			cds, err := p.api.CustomDomains(ctx)
			if err != nil {
				return err
			}
			for _, d := range cds {
				if d.Host == w.host && d.Script == p.script {
					return p.api.DetachDomain(ctx, d.ID)
				}
			}
			return nil
		}})
	}
	for _, r := range ep.removeRoutes {
		if err := p.api.DeleteRoute(ctx, r.zoneID, r.ID); err != nil {
			return fail("delete route "+r.Pattern, err)
		}
		undo = append(undo, edgeStep{"route " + r.Pattern, func(ctx context.Context) error {
			return p.api.NewRoute(ctx, r.zoneID, r.Pattern, r.Script)
		}})
	}
	for _, d := range ep.removeDomains {
		if err := p.api.DetachDomain(ctx, d.ID); err != nil {
			return fail("detach custom domain "+d.Host, err)
		}
		undo = append(undo, edgeStep{"custom domain " + d.Host, func(ctx context.Context) error {
			return p.api.AttachDomain(ctx, d.ZoneID, d.Host, d.Script)
		}})
	}
	for _, r := range ep.removeRecords {
		if err := p.api.DeleteRecord(ctx, r.zoneID, r.ID); err != nil {
			return fail("delete DNS record "+r.Name, err)
		}
		undo = append(undo, edgeStep{"DNS record " + r.Name, func(ctx context.Context) error {
			return p.api.NewPlaceholder(ctx, r.zoneID, r.Name, comment)
		}})
	}
	return undo, created, nil
}

// EdgeRestoreError is an apply that failed after it changed routes, custom domains or DNS records. They
// were put back, unless Restore says what could not be.
type EdgeRestoreError struct {
	Err     error
	Restore error
}

func (e *EdgeRestoreError) Error() string {
	if e.Restore != nil {
		return fmt.Sprintf("%v; putting the routes, custom domains and DNS records back failed too: %v; check them in the dashboard", e.Err, e.Restore)
	}
	return fmt.Sprintf("%v; the routes, custom domains and DNS records it changed were put back", e.Err)
}

func (e *EdgeRestoreError) Unwrap() error { return e.Err }

package fastly

import (
	"context"
	"fmt"
	"sort"

	gofastly "github.com/fastly/go-fastly/v12/fastly"
)

// objects are the objects of one service version that edgegw may change.
type objects struct {
	backends map[string]*gofastly.Backend
	checks   map[string]*gofastly.HealthCheck
	domains  map[string]*gofastly.Domain
	vcls     map[string]*gofastly.VCL
}

// readObjects lists a version's backends, health checks, domains and VCL files: four read calls, whatever
// the number of routes (the VCL list carries each file's content).
func (p *Provider) readObjects(ctx context.Context, version int) (*objects, error) {
	o := &objects{backends: map[string]*gofastly.Backend{}, checks: map[string]*gofastly.HealthCheck{},
		domains: map[string]*gofastly.Domain{}, vcls: map[string]*gofastly.VCL{}}
	bs, err := p.client.ListBackends(ctx, &gofastly.ListBackendsInput{ServiceID: p.serviceID, ServiceVersion: version})
	if err != nil {
		return nil, p.apiError(fmt.Sprintf("list the backends of version %d", version), err)
	}
	for _, b := range bs {
		o.backends[str(b.Name)] = b
	}
	hs, err := p.client.ListHealthChecks(ctx, &gofastly.ListHealthChecksInput{ServiceID: p.serviceID, ServiceVersion: version})
	if err != nil {
		return nil, p.apiError(fmt.Sprintf("list the health checks of version %d", version), err)
	}
	for _, h := range hs {
		o.checks[str(h.Name)] = h
	}
	ds, err := p.client.ListDomains(ctx, &gofastly.ListDomainsInput{ServiceID: p.serviceID, ServiceVersion: version})
	if err != nil {
		return nil, p.apiError(fmt.Sprintf("list the domains of version %d", version), err)
	}
	for _, d := range ds {
		o.domains[str(d.Name)] = d
	}
	vs, err := p.client.ListVCLs(ctx, &gofastly.ListVCLsInput{ServiceID: p.serviceID, ServiceVersion: version})
	if err != nil {
		return nil, p.apiError(fmt.Sprintf("list the VCL files of version %d", version), err)
	}
	for _, v := range vs {
		o.vcls[str(v.Name)] = v
	}
	return o, nil
}

// service returns the live objects as the service.json contract describes them.
func (o *objects) service() *Service {
	s := &Service{}
	for name, b := range o.backends {
		lb := Backend{Name: name, Address: str(b.Address), Port: num(b.Port), UseSSL: flag(b.UseSSL),
			OverrideHost: str(b.OverrideHost), SSLCertHostname: str(b.SSLCertHostname), SSLSNIHostname: str(b.SSLSNIHostname),
			ConnectTimeout: num(b.ConnectTimeout), FirstByteTimeout: num(b.FirstByteTimeout), BetweenBytesTimeout: num(b.BetweenBytesTimeout)}
		if h := o.checks[str(b.HealthCheck)]; h != nil {
			lb.Probe = &Probe{Path: str(h.Path), Method: str(h.Method), Host: str(h.Host), Interval: num(h.CheckInterval),
				Timeout: num(h.Timeout), Threshold: num(h.Threshold), Window: num(h.Window), Initial: num(h.Initial),
				ExpectedResponse: num(h.ExpectedResponse)}
		}
		s.Backends = append(s.Backends, lb)
	}
	for name := range o.domains {
		s.Domains = append(s.Domains, Domain{Name: name})
	}
	return s
}

// change is one mutating API call of a stage.
type change struct {
	what string
	run  func(ctx context.Context, c *gofastly.Client, service string, version int) error
}

// changes returns the calls that turn the version holding o into one holding exactly want and the VCL
// files vcls, deleting the VCL files in owned that are no longer wanted. Objects that already match cost
// nothing, so an apply that changes one route changes one VCL file. Health checks are created before the
// backends that name them and deleted after.
func (o *objects) changes(want *Service, vcls map[string]string, owned []string) []change {
	var out []change
	wantChecks := map[string]*Probe{}
	wantBackends := map[string]Backend{}
	for _, b := range want.Backends {
		wantBackends[b.Name] = b
		if b.Probe != nil {
			wantChecks[b.Name] = b.Probe
		}
	}
	for _, name := range sortedKeys(wantChecks) {
		pr := wantChecks[name]
		live, ok := o.checks[name]
		switch {
		case !ok:
			out = append(out, change{"create health check " + name, func(ctx context.Context, c *gofastly.Client, s string, v int) error {
				in := &gofastly.CreateHealthCheckInput{ServiceID: s, ServiceVersion: v, Name: gofastly.ToPointer(name)}
				in.Path, in.Method, in.Host = gofastly.ToPointer(pr.Path), optStr(pr.Method), optStr(pr.Host)
				in.CheckInterval, in.Timeout, in.Threshold = optNum(pr.Interval), optNum(pr.Timeout), optNum(pr.Threshold)
				in.Window, in.Initial, in.ExpectedResponse = optNum(pr.Window), optNum(pr.Initial), optNum(pr.ExpectedResponse)
				_, err := c.CreateHealthCheck(ctx, in)
				return err
			}})
		case !probeMatches(live, pr):
			out = append(out, change{"update health check " + name, func(ctx context.Context, c *gofastly.Client, s string, v int) error {
				in := &gofastly.UpdateHealthCheckInput{ServiceID: s, ServiceVersion: v, Name: name}
				in.Path, in.Method, in.Host = gofastly.ToPointer(pr.Path), optStr(pr.Method), gofastly.ToPointer(pr.Host)
				in.CheckInterval, in.Timeout, in.Threshold = optNum(pr.Interval), optNum(pr.Timeout), optNum(pr.Threshold)
				in.Window, in.Initial, in.ExpectedResponse = optNum(pr.Window), optNum(pr.Initial), optNum(pr.ExpectedResponse)
				_, err := c.UpdateHealthCheck(ctx, in)
				return err
			}})
		}
	}
	for _, name := range sortedKeys(wantBackends) {
		b := wantBackends[name]
		check := ""
		if b.Probe != nil {
			check = name
		}
		live, ok := o.backends[name]
		switch {
		case !ok:
			out = append(out, change{"create backend " + name, func(ctx context.Context, c *gofastly.Client, s string, v int) error {
				in := &gofastly.CreateBackendInput{ServiceID: s, ServiceVersion: v, Name: gofastly.ToPointer(name),
					Address: gofastly.ToPointer(b.Address), Port: gofastly.ToPointer(b.Port), UseSSL: gofastly.ToPointer(gofastly.Compatibool(b.UseSSL)),
					OverrideHost: optStr(b.OverrideHost), SSLCertHostname: optStr(b.SSLCertHostname), SSLSNIHostname: optStr(b.SSLSNIHostname),
					ConnectTimeout: optNum(b.ConnectTimeout), FirstByteTimeout: optNum(b.FirstByteTimeout), BetweenBytesTimeout: optNum(b.BetweenBytesTimeout),
					HealthCheck: optStr(check)}
				_, err := c.CreateBackend(ctx, in)
				return err
			}})
		case !backendMatches(live, b, check):
			out = append(out, change{"update backend " + name, func(ctx context.Context, c *gofastly.Client, s string, v int) error {
				in := &gofastly.UpdateBackendInput{ServiceID: s, ServiceVersion: v, Name: name,
					Address: gofastly.ToPointer(b.Address), Port: gofastly.ToPointer(b.Port), UseSSL: gofastly.ToPointer(gofastly.Compatibool(b.UseSSL)),
					OverrideHost: gofastly.ToPointer(b.OverrideHost), SSLCertHostname: gofastly.ToPointer(b.SSLCertHostname), SSLSNIHostname: gofastly.ToPointer(b.SSLSNIHostname),
					ConnectTimeout: optNum(b.ConnectTimeout), FirstByteTimeout: optNum(b.FirstByteTimeout), BetweenBytesTimeout: optNum(b.BetweenBytesTimeout),
					HealthCheck: gofastly.ToPointer(check)}
				_, err := c.UpdateBackend(ctx, in)
				return err
			}})
		}
	}
	for _, name := range sortedKeys(o.backends) {
		if _, ok := wantBackends[name]; !ok {
			out = append(out, change{"delete backend " + name, func(ctx context.Context, c *gofastly.Client, s string, v int) error {
				return c.DeleteBackend(ctx, &gofastly.DeleteBackendInput{ServiceID: s, ServiceVersion: v, Name: name})
			}})
		}
	}
	for _, name := range sortedKeys(o.checks) {
		if _, ok := wantChecks[name]; !ok {
			out = append(out, change{"delete health check " + name, func(ctx context.Context, c *gofastly.Client, s string, v int) error {
				return c.DeleteHealthCheck(ctx, &gofastly.DeleteHealthCheckInput{ServiceID: s, ServiceVersion: v, Name: name})
			}})
		}
	}
	wantDomains := map[string]bool{}
	for _, d := range want.Domains {
		wantDomains[d.Name] = true
		if _, ok := o.domains[d.Name]; !ok {
			name := d.Name
			out = append(out, change{"create domain " + name, func(ctx context.Context, c *gofastly.Client, s string, v int) error {
				_, err := c.CreateDomain(ctx, &gofastly.CreateDomainInput{ServiceID: s, ServiceVersion: v, Name: gofastly.ToPointer(name)})
				return err
			}})
		}
	}
	for _, name := range sortedKeys(o.domains) {
		if !wantDomains[name] {
			out = append(out, change{"delete domain " + name, func(ctx context.Context, c *gofastly.Client, s string, v int) error {
				return c.DeleteDomain(ctx, &gofastly.DeleteDomainInput{ServiceID: s, ServiceVersion: v, Name: name})
			}})
		}
	}
	for _, name := range sortedKeys(vcls) {
		content := vcls[name]
		main := name == vclName(MainVCL)
		live, ok := o.vcls[name]
		switch {
		case !ok:
			out = append(out, change{"create VCL " + name, func(ctx context.Context, c *gofastly.Client, s string, v int) error {
				_, err := c.CreateVCL(ctx, &gofastly.CreateVCLInput{ServiceID: s, ServiceVersion: v, Name: gofastly.ToPointer(name),
					Content: gofastly.ToPointer(content), Main: optBool(main)})
				return err
			}})
		case str(live.Content) != content:
			out = append(out, change{"update VCL " + name, func(ctx context.Context, c *gofastly.Client, s string, v int) error {
				_, err := c.UpdateVCL(ctx, &gofastly.UpdateVCLInput{ServiceID: s, ServiceVersion: v, Name: name, Content: gofastly.ToPointer(content)})
				return err
			}})
		}
		if ok && main && !flag(live.Main) {
			out = append(out, change{"make VCL " + name + " the main VCL", func(ctx context.Context, c *gofastly.Client, s string, v int) error {
				_, err := c.ActivateVCL(ctx, &gofastly.ActivateVCLInput{ServiceID: s, ServiceVersion: v, Name: name})
				return err
			}})
		}
	}
	for _, name := range owned {
		if _, want := vcls[name]; want {
			continue
		}
		if _, live := o.vcls[name]; live {
			out = append(out, change{"delete VCL " + name, func(ctx context.Context, c *gofastly.Client, s string, v int) error {
				return c.DeleteVCL(ctx, &gofastly.DeleteVCLInput{ServiceID: s, ServiceVersion: v, Name: name})
			}})
		}
	}
	return out
}

// serviceMatches reports whether o already holds exactly want's backends, health checks and domains.
func (o *objects) serviceMatches(want *Service) bool {
	return len(o.changes(want, nil, nil)) == 0
}

func probeMatches(h *gofastly.HealthCheck, p *Probe) bool {
	return str(h.Path) == p.Path && str(h.Host) == p.Host &&
		(p.Method == "" || str(h.Method) == p.Method) &&
		numMatches(h.CheckInterval, p.Interval) && numMatches(h.Timeout, p.Timeout) && numMatches(h.Threshold, p.Threshold) &&
		numMatches(h.Window, p.Window) && numMatches(h.Initial, p.Initial) && numMatches(h.ExpectedResponse, p.ExpectedResponse)
}

func backendMatches(l *gofastly.Backend, b Backend, check string) bool {
	return str(l.Address) == b.Address && num(l.Port) == b.Port && flag(l.UseSSL) == b.UseSSL &&
		str(l.OverrideHost) == b.OverrideHost && str(l.SSLCertHostname) == b.SSLCertHostname && str(l.SSLSNIHostname) == b.SSLSNIHostname &&
		str(l.HealthCheck) == check &&
		numMatches(l.ConnectTimeout, b.ConnectTimeout) && numMatches(l.FirstByteTimeout, b.FirstByteTimeout) && numMatches(l.BetweenBytesTimeout, b.BetweenBytesTimeout)
}

// numMatches compares a number the contract sets; 0 keeps Fastly's default and matches anything.
func numMatches(live *int, want int) bool { return want == 0 || num(live) == want }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func num(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

func flag(p *bool) bool { return p != nil && *p }

func optStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optNum(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}

func optBool(b bool) *bool {
	if !b {
		return nil
	}
	return &b
}

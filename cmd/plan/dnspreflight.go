package plan

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/cmd/plan/view"
	"github.com/edgegw/edgegw/cmd/verifydns"
	"github.com/edgegw/edgegw/dnscheck"
	"github.com/edgegw/edgegw/providers"
)

// DNSOptions control the DNS preflight that plan and apply run when a public target's domains change.
type DNSOptions struct {
	Skip        bool
	Resolver    string
	Nameservers []string
	Timeout     time.Duration
}

// AddDNSFlags adds the preflight flags to plan or apply.
func AddDNSFlags(cmd *cobra.Command, o *DNSOptions) {
	cmd.Flags().BoolVar(&o.Skip, "skip-dns-preflight", false, "do not run the DNS preflight for changed domains (the skip is logged)")
	cmd.Flags().StringVar(&o.Resolver, "dns-resolver", "", "resolver host:port used to find nameservers for the DNS preflight")
	cmd.Flags().StringArrayVar(&o.Nameservers, "dns-nameserver", nil, "zone=host:port: nameserver for the DNS preflight (repeatable)")
	cmd.Flags().DurationVar(&o.Timeout, "dns-timeout", 2*time.Second, "per-query timeout of the DNS preflight")
}

// changedPublicHosts lists the hosts added or changed on targets that answer public DNS.
func changedPublicHosts(pp *Prepared) []string {
	seen := map[string]bool{}
	for _, tp := range pp.Plan.Targets {
		if !pp.PublicDNS[tp.Target] {
			continue
		}
		for _, c := range tp.Changes {
			if c.Kind == "domain" && c.Action != providers.Delete {
				seen[c.Name] = true
			}
		}
	}
	hosts := make([]string, 0, len(seen))
	for h := range seen {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	return hosts
}

// DNSPreflight runs `verify-dns` for the domains a plan adds or changes on public targets. A blocking
// finding stops plan and apply with exit 5, before anything is staged. Skipping is allowed and logged.
func DNSPreflight(ctx context.Context, v *view.View, pp *Prepared, o DNSOptions, f *cmdutil.Factory) error {
	hosts := changedPublicHosts(pp)
	if len(hosts) == 0 {
		return nil
	}
	if o.Skip {
		v.Warn("dns", fmt.Sprintf("DNS preflight skipped by --skip-dns-preflight for %v: run edgegw verify-dns before the cutover", hosts))
		return nil
	}
	cfg, err := verifydns.Config(pp.Gateway, hosts, nil)
	if err != nil {
		return err
	}
	ns, err := verifydns.ParseNameservers(o.Nameservers)
	if err != nil {
		return err
	}
	v.Info("DNS preflight for the changed domains: %v", hosts)
	rep, err := dnscheck.Run(ctx, cfg, dnscheck.Options{Resolver: o.Resolver, Nameservers: ns, Timeout: o.Timeout, Now: f.Now})
	if rep != nil {
		v.DNSReport(rep)
	}
	if err != nil {
		return err
	}
	if rep.Blocking() {
		return &cmdutil.BlockedError{Err: fmt.Errorf("dns preflight: blocking findings for the changed domains; fix them, suppress them in dns.suppress with a reason, or pass --skip-dns-preflight")}
	}
	return nil
}

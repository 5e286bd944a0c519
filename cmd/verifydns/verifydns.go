// Package verifydns implements `edgegw verify-dns`: the DNS/TTL preflight before a cutover, built from the
// manifest's domains and dns expectations and run by package dnscheck against the authoritative servers.
package verifydns

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/cmd/root"
	"github.com/edgegw/edgegw/dnscheck"
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
)

// Options are the inputs of `edgegw verify-dns`.
type Options struct {
	IO           *cmdutil.IOStreams
	ManifestPath string
	Format       string
	Color        bool
	Now          func() time.Time

	Resolver    string
	Nameservers []string // zone=host:port
	Hosts       []string
	EdgeHeaders []string
	Timeout     time.Duration
	Retries     int
	Concurrency int
	Deadline    time.Duration
	HTTP        bool
	WarnOnly    bool

	JSON *cmdutil.JSONStream // --format json: the stream the findings and the summary go to
}

func init() {
	root.AddCommand(func(f *cmdutil.Factory) *cobra.Command { return NewCmdVerifyDNS(f, nil) })
}

// NewCmdVerifyDNS builds the command; runF replaces the behaviour in tests.
func NewCmdVerifyDNS(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "verify-dns",
		Short: "DNS/TTL preflight before a cutover: asks the authoritative servers directly",
		Long: `Check, for every host of the manifest, what its zone's authoritative servers answer (never a
resolver's cache): TTLs above dns.max_ttl and when the old TTL will have drained, a CNAME at a zone apex, an
apex not resolving to the edge, a CNAME not pointing at the edge hostname, wildcard tenant coverage, dangling
CNAMEs, servers that disagree, lame delegation, CAA that forbids the edge's CA, and with --http the HTTPS
response and its Strict-Transport-Security header.

Exit 0 when clean, 5 when a blocking (error) finding exists; --warn-only reports and exits 0. Accept a
finding for good with dns.suppress in the manifest: {id: DNS005, host: api.example.com, reason: "…"}.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ManifestPath, opts.Format, opts.Color, opts.Now = f.ManifestPath, f.Format, f.Color(), f.Now
			opts.JSON = f.JSONStream(cmd.Name())
			if runF != nil {
				return runF(opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Resolver, "resolver", "", "recursive resolver host:port used only to find each zone's nameservers (default: /etc/resolv.conf)")
	fl.StringArrayVar(&opts.Nameservers, "nameserver", nil, "zone=host:port: ask this server for the zone instead of its NS set (repeatable; tests, split horizon)")
	fl.StringSliceVar(&opts.Hosts, "host", nil, "check only these hosts (repeatable)")
	fl.StringSliceVar(&opts.EdgeHeaders, "edge-header", nil, "with --http: a response header that shows the edge answered (default: from the manifest's targets)")
	fl.DurationVar(&opts.Timeout, "timeout", 2*time.Second, "per query")
	fl.IntVar(&opts.Retries, "retries", 2, "UDP retransmissions within one timeout")
	fl.IntVar(&opts.Concurrency, "concurrency", 32, "queries in flight")
	fl.DurationVar(&opts.Deadline, "deadline", 30*time.Second, "for the whole check")
	fl.BoolVar(&opts.HTTP, "http", false, "also send an HTTPS HEAD to every host and check status, HSTS and edge headers")
	fl.BoolVar(&opts.WarnOnly, "warn-only", false, "report blocking findings but exit 0")
	return cmd
}

// Config builds the dnscheck configuration from the IR: one host per domain, with the expectations of
// dns.expect, the CAs of dns.caa and the HSTS policy of tls.hsts. hosts, when given, narrows the check.
func Config(g *ir.Gateway, hosts []string, extraHeaders []string) (dnscheck.Config, error) {
	var cfg dnscheck.Config
	expect := map[string]ir.DNSExpect{}
	if g.DNS != nil {
		cfg.MaxTTL = g.DNS.MaxTTL.D()
		for _, e := range g.DNS.Expect {
			expect[e.Host] = e
		}
		for _, s := range g.DNS.Suppress {
			cfg.Suppress = append(cfg.Suppress, dnscheck.Suppression{ID: s.ID, Host: s.Host, Reason: s.Reason})
		}
	}
	headers := append([]string(nil), extraHeaders...)
	if len(headers) == 0 {
		for _, t := range g.Targets.Names() {
			if r, ok := providers.Lookup(t); ok {
				headers = append(headers, r.EdgeHeaders...)
			}
		}
	}
	want := map[string]bool{}
	for _, h := range hosts {
		want[strings.ToLower(h)] = true
	}
	for _, d := range g.Domains {
		if len(want) > 0 && !want[d.Host] {
			continue
		}
		delete(want, d.Host)
		h := dnscheck.Host{Name: d.Host, Zone: d.Zone, EdgeHeaders: headers}
		if e, ok := expect[d.Host]; ok {
			h.ExpectCNAME, h.FlattenedTo = e.CNAME, e.FlattenedTo
			for _, a := range append(append([]string(nil), e.A...), e.AAAA...) {
				addr, err := netip.ParseAddr(a)
				if err != nil {
					return cfg, fmt.Errorf("verify-dns: dns.expect %s: %w", d.Host, err)
				}
				h.ExpectAddrs = append(h.ExpectAddrs, addr)
			}
		}
		if g.DNS != nil {
			h.AllowedCAs = g.DNS.CAA
		}
		if g.HSTS != nil {
			h.HSTS = &dnscheck.HSTSExpect{MaxAge: time.Duration(g.HSTS.MaxAge) * time.Second, IncludeSubdomains: g.HSTS.IncludeSubdomains, Preload: g.HSTS.Preload}
		}
		cfg.Hosts = append(cfg.Hosts, h)
	}
	if len(want) > 0 {
		var missing []string
		for h := range want {
			missing = append(missing, h)
		}
		sort.Strings(missing)
		return cfg, fmt.Errorf("verify-dns: --host %s: not a domain of the manifest", strings.Join(missing, ", "))
	}
	return cfg, nil
}

// ParseNameservers turns zone=host:port flags into dnscheck's override map.
func ParseNameservers(flags []string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, f := range flags {
		zone, addr, ok := strings.Cut(f, "=")
		if !ok || zone == "" || addr == "" {
			return nil, fmt.Errorf("verify-dns: --nameserver %q: write zone=host:port, e.g. example.com=127.0.0.1:5353", f)
		}
		zone = strings.ToLower(strings.TrimSuffix(zone, "."))
		out[zone] = append(out[zone], addr)
	}
	return out, nil
}

// Run loads the manifest, runs the checks and prints the report.
func Run(ctx context.Context, o *Options) error {
	g, diags := manifest.Load(o.ManifestPath)
	if diags.HasErrors() {
		cmdutil.PrintDiagnostics(o.IO, o.Format, o.Color, diags)
		return &cmdutil.SilentError{Code: cmdutil.ExitError, Err: diags.Err()}
	}
	cfg, err := Config(g, o.Hosts, o.EdgeHeaders)
	if err != nil {
		return err
	}
	ns, err := ParseNameservers(o.Nameservers)
	if err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	rep, err := dnscheck.Run(ctx, cfg, dnscheck.Options{
		Resolver: o.Resolver, Nameservers: ns, Timeout: o.Timeout, Retries: o.Retries,
		Concurrency: o.Concurrency, Deadline: o.Deadline, HTTP: o.HTTP, Now: o.Now,
	})
	if rep == nil {
		return err
	}
	switch o.Format {
	case cmdutil.FormatJSON:
		if o.JSON == nil {
			if werr := dnscheck.WriteJSON(o.IO.Out, rep); werr != nil {
				return werr
			}
			break
		}
		for _, m := range rep.FindingMessages() {
			o.JSON.Emit(m)
		}
		for k, v := range rep.SummaryFields() {
			o.JSON.Set(k, v)
		}
	case cmdutil.FormatGitHub:
		if werr := dnscheck.WriteGitHub(o.IO.Out, rep); werr != nil {
			return werr
		}
		_ = dnscheck.WriteHuman(o.IO.ErrOut, rep)
	default:
		if werr := dnscheck.WriteHuman(o.IO.Out, rep); werr != nil {
			return werr
		}
	}
	if err != nil {
		return err // the deadline passed: the partial report was printed
	}
	if rep.Blocking() {
		if o.WarnOnly {
			fmt.Fprintln(o.IO.ErrOut, "verify-dns: blocking findings reported; exiting 0 because of --warn-only")
			return nil
		}
		return &cmdutil.BlockedError{Err: fmt.Errorf("verify-dns: blocking DNS findings: fix them, suppress them in dns.suppress with a reason, or pass --warn-only")}
	}
	return nil
}

// ChecksMarkdown is the README's table of check ids, generated from dnscheck.Checks.
func ChecksMarkdown() string {
	var b strings.Builder
	b.WriteString("| id | severity | what | fix |\n|---|---|---|---|\n")
	for _, c := range dnscheck.Checks {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", c.ID, c.Severity, strings.ReplaceAll(c.Title, "|", "\\|"), strings.ReplaceAll(c.Fix, "|", "\\|"))
	}
	return b.String()
}

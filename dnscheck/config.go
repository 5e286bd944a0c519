package dnscheck

import (
	"net/http"
	"net/netip"
	"time"
)

// Config is what to check. The cmd layer builds it from the manifest; this
// package never reads the manifest itself.
type Config struct {
	Hosts    []Host
	MaxTTL   time.Duration // dns.max_ttl; 0 = no TTL check
	Suppress []Suppression // findings the user accepted
}

// Host is one hostname the gateway serves and what the edge needs from it.
type Host struct {
	Name        string       // "api.example.com", "example.com" (apex), "*.api.example.com" (wildcard tenant host)
	Zone        string       // "example.com"
	ExpectCNAME string       // edge hostname this host must CNAME to ("" = no expectation)
	ExpectAddrs []netip.Addr // the A/AAAA the edge answers with (apex flattening, anycast); empty = no expectation
	FlattenedTo string       // edge hostname the host is flattened to: its A/AAAA set, asked of its own zone's servers, is the expectation ("" = none)
	AllowedCAs  []string     // CAA issuer domains the edge's CA uses, e.g. "letsencrypt.org"
	HSTS        *HSTSExpect  // with Options.HTTP; nil = no check
	EdgeHeaders []string     // with Options.HTTP: response headers that identify the edge; any one present passes
}

// HSTSExpect is the Strict-Transport-Security policy the manifest asks for.
type HSTSExpect struct {
	MaxAge            time.Duration
	IncludeSubdomains bool
	Preload           bool
}

// Suppression accepts a finding: it is still reported, marked suppressed,
// and no longer blocks.
type Suppression struct {
	ID     string // check id, e.g. "DNS005"
	Host   string // "" = every host
	Reason string
}

// Options are how to check. Zero values take the defaults noted.
type Options struct {
	Resolver    string              // host:port of a recursive resolver, used only to find NS names/addresses ("" = /etc/resolv.conf)
	Nameservers map[string][]string // zone -> authoritative host:port; skips NS discovery for that zone
	Timeout     time.Duration       // per query and server (default 2s)
	Retries     int                 // UDP retransmissions within Timeout (default 2; negative = none)
	Concurrency int                 // queries in flight (default 32)
	Deadline    time.Duration       // for the whole run (default 30s)
	HTTP        bool                // also send an HTTPS HEAD to every non-wildcard host
	HTTPClient  *http.Client        // default: a client with Timeout*2
	Now         func() time.Time    // clock for "safe to cut over after …" (default time.Now)
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	switch {
	case o.Retries == 0:
		o.Retries = 2
	case o.Retries < 0:
		o.Retries = 0
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 32
	}
	if o.Deadline <= 0 {
		o.Deadline = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{
			Timeout: 2 * o.Timeout,
			// A redirect is an answer from the edge; following it would test another host.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return o
}

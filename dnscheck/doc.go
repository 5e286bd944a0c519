// Package dnscheck is the DNS preflight behind `edgegw verify-dns`: before a
// cutover it asks each zone's authoritative servers directly (never a
// resolver's cache) whether every hostname the gateway serves will land on
// the edge, and reports findings with the records that show them and a fix.
//
// It owns: finding a zone's nameservers (NS and their addresses, through a
// recursive resolver used for nothing else), querying them with RD=0 over
// UDP with TCP fallback on truncation, per-query timeouts, retransmissions
// inside that timeout, bounded concurrency and a global deadline; the checks
// below; suppression of accepted findings; and the human, NDJSON and GitHub
// annotation output.
//
// It must not: read the manifest (the cmd layer builds a Config from it),
// know anything about a CDN vendor beyond the expectations passed in a Host
// (edge hostname, addresses, CAs, headers), change any DNS record, or decide
// the exit code. The command exits 5 when Report.Blocking() is true (an
// unsuppressed error finding) and 0 otherwise, or 0 either way with
// --warn-only.
//
// A dead nameserver costs one query timeout: the SOA probe that finds it
// lame retransmits inside its timeout and the server is then asked nothing
// else, so a run against it ends within 2 x Options.Timeout + 1s.
//
// Checks (ids are stable; suppress a finding by id in the manifest):
//
//	id      severity  what                                                   fix
//	DNS001  error     no authoritative server answers for the zone           fix the NS delegation, or pass --nameserver zone=host:port
//	DNS002  error     lame delegation: a nameserver does not answer          load the zone on it or remove it from the NS set
//	                  authoritatively (REFUSED, no AA flag, timeout)
//	DNS003  warning   authoritative servers serve different SOA serials      let transfers finish / fix NOTIFY+AXFR
//	DNS004  error     authoritative servers give different answers           make every server serve the same records
//	DNS005  warning   record TTL above dns.max_ttl                           lower it now; safe to cut over after now + old TTL
//	DNS006  error     CNAME at the zone apex (RFC 1034)                      use A/AAAA or the provider's ALIAS/flattening
//	DNS007  error     host does not resolve to the edge addresses            point A/AAAA (or ALIAS) at the edge's addresses
//	DNS008  error     host is not a CNAME to the edge hostname               CNAME the host to the edge hostname
//	DNS009  error     wildcard tenant host not covered by a wildcard record  add *.parent CNAME edge
//	DNS010  warning   explicit record shadows the wildcard (needs AXFR)      delete it or point it at the edge
//	DNS011  error     dangling CNAME: target is NXDOMAIN (takeover risk)     delete the CNAME or claim the target
//	DNS012  error     CAA forbids every CA the edge uses                     add a CAA issue/issuewild record for the edge's CA
//	DNS013  error     HTTPS HEAD failed, 5xx or 421 (with --http)            fix the edge's hostname/certificate/origin
//	DNS014  warning   Strict-Transport-Security missing or weaker            send the HSTS policy the manifest asks for
//	DNS015  warning   none of the edge's identity headers in the response    make sure the edge, not the old origin, answers
//
// Wildcard hosts ("*.api.example.com") are checked by asking for a probe
// name under the wildcard's parent; the shadowing check needs the zone's
// contents and runs only where the servers allow a zone transfer (otherwise
// it is noted on the host, not guessed). A CNAME's target is looked up one
// hop, at the target zone's own authoritative servers. A host flattened to an
// edge hostname (Host.FlattenedTo) must answer exactly that hostname's A/AAAA
// set, read from the hostname's own zone's authoritative servers, CNAMEs
// followed zone by zone.
package dnscheck

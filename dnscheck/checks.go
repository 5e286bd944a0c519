package dnscheck

// Severity says whether a finding blocks a cutover.
type Severity string

const (
	SeverityError   Severity = "error"   // blocks the cutover (exit 5) unless suppressed
	SeverityWarning Severity = "warning" // reported, never blocks
	SeverityInfo    Severity = "info"    // context only
)

// CheckInfo describes one check. Ids are stable: users suppress findings by id
// in the manifest, so an id is never renumbered or reused.
type CheckInfo struct {
	ID       string
	Severity Severity
	Title    string
	Fix      string
}

// Check ids.
const (
	IDNoAuthoritative = "DNS001"
	IDLame            = "DNS002"
	IDSerialMismatch  = "DNS003"
	IDAnswerMismatch  = "DNS004"
	IDTTLAboveMax     = "DNS005"
	IDApexCNAME       = "DNS006"
	IDAddrNotEdge     = "DNS007"
	IDCNAMENotEdge    = "DNS008"
	IDWildcardMissing = "DNS009"
	IDWildcardShadow  = "DNS010"
	IDDanglingCNAME   = "DNS011"
	IDCAAForbids      = "DNS012"
	IDHTTPFailed      = "DNS013"
	IDHSTSWeak        = "DNS014"
	IDEdgeHeaders     = "DNS015"
)

// Checks lists every check in id order; the README table is generated from it
// and the package doc table is tested against it.
var Checks = []CheckInfo{
	{IDNoAuthoritative, SeverityError, "no authoritative server answers for the zone",
		"fix the zone's NS delegation at the registrar/parent, or pass --nameserver zone=host:port"},
	{IDLame, SeverityError, "lame delegation: a listed nameserver does not answer authoritatively",
		"remove the server from the NS set or load the zone on it"},
	{IDSerialMismatch, SeverityWarning, "authoritative servers serve different SOA serials",
		"wait for zone transfers to finish, or fix replication (NOTIFY/AXFR) before cutting over"},
	{IDAnswerMismatch, SeverityError, "authoritative servers give different answers for a host",
		"make every authoritative server serve the same records, then re-run"},
	{IDTTLAboveMax, SeverityWarning, "record TTL above dns.max_ttl",
		"lower the TTL now and cut over once the old TTL has expired"},
	{IDApexCNAME, SeverityError, "CNAME at the zone apex (RFC 1034 forbids it beside SOA/NS)",
		"replace it with the provider's flattened A/AAAA (ALIAS/ANAME/CNAME flattening)"},
	{IDAddrNotEdge, SeverityError, "host does not resolve to the edge addresses",
		"point the A/AAAA records (or the ALIAS) at the edge's addresses"},
	{IDCNAMENotEdge, SeverityError, "host is not a CNAME to the edge hostname",
		"set a CNAME from the host to the edge hostname"},
	{IDWildcardMissing, SeverityError, "wildcard tenant host not covered by a wildcard record",
		"add a wildcard record (*.parent CNAME edge) for the tenant hosts"},
	{IDWildcardShadow, SeverityWarning, "explicit record shadows the wildcard for a tenant-looking name",
		"delete the explicit record or point it at the edge too"},
	{IDDanglingCNAME, SeverityError, "dangling CNAME: the target does not exist (takeover risk)",
		"delete the CNAME or create the target before anyone else can claim it"},
	{IDCAAForbids, SeverityError, "CAA forbids every certificate authority the edge uses",
		"add a CAA issue (or issuewild) record for the edge's CA"},
	{IDHTTPFailed, SeverityError, "HTTPS request to the host failed or returned a server error",
		"check the edge's hostname/certificate configuration and origin health"},
	{IDHSTSWeak, SeverityWarning, "Strict-Transport-Security header missing or weaker than expected",
		"send the Strict-Transport-Security header the manifest asks for"},
	{IDEdgeHeaders, SeverityWarning, "response carries none of the edge's identity headers",
		"make sure traffic reaches the edge, not the old origin or another CDN"},
}

func checkInfo(id string) CheckInfo {
	for _, c := range Checks {
		if c.ID == id {
			return c
		}
	}
	panic("dnscheck: unknown check id " + id)
}

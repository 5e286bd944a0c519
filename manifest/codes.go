package manifest

// Diagnostic codes. They are stable: users grep for them and suppress by them. E0xx are about the file's
// form, E1xx about references and names, E2xx about routes, E3xx about security, E4xx about limits.
const (
	CodeReadFile      = "E001" // the file cannot be read
	CodeYAML          = "E002" // YAML syntax
	CodeType          = "E003" // a value of the wrong type
	CodeUnknownKey    = "E004" // a key the format does not have
	CodeDuplicateKey  = "E005" // a key written twice
	CodeRequired      = "E006" // a required field is missing
	CodeVersion       = "E007" // unsupported manifest version
	CodeInvalidValue  = "E008" // a value out of its allowed set or range
	CodeUnknownRef    = "E101" // a reference to a name that does not exist
	CodeDuplicateName = "E102" // two things with one name
	CodeBadName       = "E103" // a name with characters targets cannot carry
	CodeUnused        = "E104" // (warning) defined but never used
	CodeDomain        = "E105" // a host or zone that is not valid
	CodePathForm      = "E201" // a match path not in normalized form
	CodeRegex         = "E202" // a regex outside the portable, backtracking-safe subset
	CodeShadowed      = "E203" // a route that can never match
	CodeRouteAction   = "E204" // a route without exactly one action, or with options its action cannot use
	CodeTemplate      = "E205" // a malformed path template
	CodeRewrite       = "E206" // a rewrite that cannot apply to its route
	CodeSecretLiteral = "E301" // a secret written as a value
	CodeJWT           = "E302" // JWT settings that cannot be verified safely
	CodeLimit         = "E401" // a manifest limit exceeded
	CodeTest          = "E501" // a malformed test case
	CodeCapability    = "E601" // a feature the target cannot enforce (edgegw validate --target)
)

// Limits of the manifest itself. They keep every target's artifact within its vendor's limits and keep
// loading fast; each error names the limit.
const (
	MaxFileBytes     = 16 << 20
	MaxKeyFileBytes  = 64 << 10
	MaxRoutes        = 10000
	MaxDomains       = 10000
	MaxOrigins       = 1000
	MaxHeaderValue   = 8 << 10
	MaxBodyBytes     = 64 << 10
	MaxPathBytes     = 2048
	MaxConditions    = 32
	MaxTests         = 10000
	MaxNameBytes     = 63
	MaxRegexBytes    = 256
	MaxPoolOrigins   = 16
	MaxRequiredClaim = 32
)

// sizeFix is what to do about a manifest over a size limit: no real gateway comes near them, so the file
// is most likely not the manifest, or generated wrong.
const sizeFix = "check that -f names the manifest: a gateway at every limit (10,000 routes, domains and tests) is far smaller"

// limitFixes say, per section, how to stay under its limit. One manifest is one gateway; there is no
// splitting one gateway across files.
var limitFixes = map[string]string{
	"routes":  "merge routes that send to the same pool with a prefix, template or regex match; past 10,000 routes, serve the hosts from separate gateways, each with its own manifest, name and domains",
	"domains": "one wildcard host (\"*.example.com\" with tenant:) answers every tenant in one entry",
	"tests":   "keep one case per decision worth checking (a route, a rejection, a failover)",
}

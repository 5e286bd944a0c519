// Package gateway is the reference gateway: an net/http handler that executes an IR (manifest/ir) exactly as
// DESIGN.md's "Semantics every target must reproduce" says. It is the oracle every rendered target is tested
// against, the server behind `edgegw dev`, and the engine behind `edgegw test`.
//
// It owns request handling only: it never reads a manifest, never renders, never deploys. Everything it needs
// arrives as an *ir.Gateway and Options (clock, HTTP transport, origin URL overrides, environment lookup for
// HMAC secrets, a decision log), so a caller may build the IR from a manifest, a deploy record or Go code.
//
// # Order of a request
//
//  1. Strict-Transport-Security is set on every response the gateway writes, its own errors included.
//  2. The raw request path is normalized once by manifest/pathnorm; a rejected path is 400 [BAD_PATH].
//  3. The Host is matched against the domains (exact hosts first, then "*.zone" wildcards whose first label
//     is the tenant, written into the domain's tenant header; a client-sent tenant header is always dropped).
//     An unknown host is 404 [HOST_UNKNOWN], as on every target (`edgegw dev --host` maps loopback names).
//  4. A CORS preflight (OPTIONS with Origin and Access-Control-Request-Method) is answered here: 204 with
//     Cache-Control: no-cache, with the allow headers only when the Origin is allowed.
//  5. Routes are tried in IR order (never re-sorted); the first whose path, hosts, headers and methods all
//     hold wins. No route is 404 [NO_ROUTE]. Lookup is indexed (exact map, prefix map per segment boundary,
//     templates by segment count), but the candidates are still evaluated in IR order, so the result is the
//     one a linear scan would give.
//  6. Auth: no or non-Bearer Authorization is 401 [JWT_MISSING], an unreadable token 401 [JWT_MALFORMED],
//     any token that fails verification 403 (see jwtverify). Claim-forwarding headers sent by the client are
//     always removed, so only verified claims reach the origin.
//  7. Rate limit: a sliding log per key (jwt.sub, ip or a header; a request without the key falls back to the
//     client IP); over the limit is 429 [RATE_LIMIT] with Retry-After in whole seconds.
//  8. The action: a synthetic response, a redirect, or the pool. Request transforms apply (gateway-wide then
//     route: remove, then set), a fresh request id replaces a client-sent one unless the IR says keep, the
//     rewrite yields the upstream path, and exactly that path is sent upstream.
//
// # Upstream
//
// A pool's origins are tried in order. With a failover policy, a connect error, a timeout (Origin.Timeout per
// attempt, default 30s) or a status listed in on_status moves to the next origin; the last origin's answer is
// returned as is. A request body is buffered up to 1 MiB so it can be replayed; a larger body goes to the first
// origin only. When every origin fails to answer, the response is 502 [UPSTREAM_UNREACHABLE], or 504
// [UPSTREAM_TIMEOUT] when the last attempt timed out. The breaker counts, per pool and origin, consecutive
// answers whose status is listed (a timeout counts as 504, a connect error as 502); at the threshold the
// origin is skipped for the cooldown, after which one failure re-opens it and one success closes it. When every
// origin of a pool is open the answer is 503 [ORIGINS_OPEN].
//
// Active health checks (an origin's health: path, interval, timeout, threshold) run when the caller starts
// them (StartHealthChecks; `edgegw dev` does, `edgegw test` does not, so tests stay deterministic): a GET of
// the path answering 2xx or 3xx within the timeout is a success, threshold failures in a row mark the origin
// unhealthy, one success marks it healthy. An unhealthy origin is skipped while another origin of the pool
// is healthy; when none is, the origins are tried in order anyway (fail open, as load balancers do).
//
// Internal paths never reach the client: a Location or Content-Location header that points at the rewritten
// upstream path (relative, or absolute on the origin's host) is mapped back to the public path and host.
// Response bodies are not rewritten.
//
// # JWT library
//
// Tokens are verified with github.com/go-jose/go-jose/v4: a maintained library with a documented threat model,
// whose ParseSignedCompact takes the list of allowed algorithms, so the algorithm is pinned by configuration
// before any signature check and "alg" from the token only selects among what the key allows. It verifies
// HS/RS/PS/ES/EdDSA with the standard library's crypto and never fetches keys named by the token. jwtverify
// adds the gateway's rules around it (size limit, strict base64url, crit and duplicate members refused, PSS
// salt length as RFC 7518 requires, JWKS cache by kid); it passes 393 of the 401 Wycheproof JWS vectors, the 8
// others being the label defects documented beside the vectors.
package gateway

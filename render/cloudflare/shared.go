package cloudflare

import (
	"strings"

	"github.com/edgegw/edgegw/manifest/ir"
)

// The Worker's generated part and its bearer-token verification are plain JavaScript over WebCrypto and
// fetch, which Node.js has too: render/cloudfront/lambdaedge bundles them for Lambda@Edge with its own glue,
// so that both targets verify tokens with one piece of code.

// VerifyModule is the source of the WebCrypto bearer-token verification (verify.js): keys imported once per
// isolate, JWKS fetched and cached per policy.
func VerifyModule() string { return verifyModule }

// GeneratedSource is the Worker's generated part without its glue: the tables (GATEWAY), the routes in IR
// order (ROUTES), the generated matcher (matchRoute) and TEST_MODE, each route commented with its manifest
// name. originURLs replace origin URLs by origin name, as Options.OriginURLs does.
func GeneratedSource(g *ir.Gateway, originURLs map[string]string, test bool) (string, error) {
	t, routes, err := buildTables(g, originURLs)
	if err != nil {
		return "", err
	}
	src, err := entrySource(t, routes, g, test)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(src, glue), nil
}

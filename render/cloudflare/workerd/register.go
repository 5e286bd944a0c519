package workerd

// The registration of this engine with the conformance suite, in one file so it is easy to move. Nothing
// links the package into the binary yet: once providers/cloudflare declares its capability table, a blank
// import in cmd (not in providers/all, which this package's tests import) makes `edgegw test --target
// cloudflare` run in workerd, and cmd/test's TestConformanceOnEveryEngine run the corpus on it.

import (
	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/render/cloudflare"
)

func init() { testrun.RegisterEngine(cloudflare.Name, Default) }

package workerd

// The registration of this engine with the conformance suite, in one file so it is easy to move. cmd links
// the package into the binary with a blank import (not providers/all, which this package's tests import),
// so `edgegw test --target cloudflare` runs in workerd and cmd/test's TestConformanceOnEveryEngine runs the
// corpus on it.

import (
	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/render/cloudflare"
)

func init() { testrun.RegisterEngine(cloudflare.Name, Default) }

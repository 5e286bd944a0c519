//go:build edgegw_engine_registry

package workerd

// The registration of this engine with the conformance suite, in one file so it is easy to adapt: the
// suite's registry (testrun.RegisterEngine, testrun.ErrRuntimeMissing, ClientRequest.Scheme) is not on this
// branch yet, so the file builds only with -tags edgegw_engine_registry. When the registry lands: drop the
// build constraint, wrap testrun.ErrRuntimeMissing in Engine.Open when Available fails, and read
// req.Scheme in instance.Do (schemeOf).

import (
	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/render/cloudflare"
)

func init() { testrun.RegisterEngine(cloudflare.Name, Default) }

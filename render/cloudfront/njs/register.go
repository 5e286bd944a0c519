package njs

// The registration of this engine as the cloudfront test engine, in one file so it is easy to move; cmd
// links it into the binary with a blank import.

import (
	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/render/cloudfront"
)

func init() { testrun.RegisterEngine(cloudfront.Name, Default) }

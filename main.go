// Command edgegw compiles one API-gateway manifest into edge configuration, deploys it and rolls it back.
package main

import (
	"os"
	"runtime/debug"

	"github.com/edgegw/edgegw/cmd"
)

// softMemoryLimit makes the garbage collector work harder as the heap nears it instead of letting garbage
// double the heap: validate of any manifest under its size limit stays under 256 MiB of memory. It is a
// target, not a cap; GOMEMLIMIT, when set, replaces it.
const softMemoryLimit = 192 << 20

func main() { os.Exit(run()) }

func run() int {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(softMemoryLimit)
	}
	return cmd.Main()
}

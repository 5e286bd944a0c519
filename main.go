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
		// A command that runs once and exits collects only as the heap nears the limit: garbage is cheaper
		// to keep than to trace for a few seconds. `edgegw dev` serves for hours and keeps the usual pacing.
		if os.Getenv("GOGC") == "" && !longRunning(os.Args[1:]) {
			debug.SetGCPercent(-1)
		}
	}
	return cmd.Main()
}

// longRunning reports whether the command line runs a server (`edgegw dev`).
func longRunning(args []string) bool {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "dev" {
			return true
		}
	}
	return false
}

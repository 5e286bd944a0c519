// Command edgegw compiles one API-gateway manifest into edge configuration, deploys it and rolls it back.
package main

import (
	"os"

	"github.com/edgegw/edgegw/cmd"
)

func main() { os.Exit(cmd.Main()) }

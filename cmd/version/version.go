// Package version implements `edgegw version`.
package version

import (
	"encoding/json"
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/edgegw/edgegw/cmd/cmdutil"
)

// Options are the inputs of `edgegw version`.
type Options struct {
	IO      *cmdutil.IOStreams
	Format  string
	Version string
}

// NewCmdVersion builds the command; runF replaces the behaviour in tests.
func NewCmdVersion(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IO}
	return &cobra.Command{
		Use:   "version",
		Short: "Print the edgegw version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Format, opts.Version = f.Format, f.Version
			if runF != nil {
				return runF(opts)
			}
			return run(opts)
		},
	}
}

func run(o *Options) error {
	if o.Format == cmdutil.FormatJSON {
		// between the stream's version line and its summary, which root writes
		return json.NewEncoder(o.IO.Out).Encode(map[string]string{"type": "build", "edgegw": o.Version, "go": runtime.Version()})
	}
	_, err := fmt.Fprintf(o.IO.Out, "edgegw %s (%s)\n", o.Version, runtime.Version())
	return err
}

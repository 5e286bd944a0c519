// Package schema implements `edgegw schema`: print the manifest's JSON Schema, for editors.
package schema

import (
	"github.com/spf13/cobra"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/cmd/root"
	"github.com/edgegw/edgegw/manifest"
)

// Options are the inputs of `edgegw schema`.
type Options struct {
	IO *cmdutil.IOStreams
}

func init() { root.AddCommand(func(f *cmdutil.Factory) *cobra.Command { return NewCmdSchema(f, nil) }) }

// NewCmdSchema builds the command; runF replaces the behaviour in tests.
func NewCmdSchema(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IO}
	return &cobra.Command{
		Use:         "schema",
		Short:       "Print the JSON Schema of the manifest (for editors)",
		Annotations: map[string]string{cmdutil.AnnotationNoJSONStream: "its output is the JSON Schema document"},
		Long: `Print the JSON Schema of manifest version 1 to stdout. It is generated from edgegw's own types and
checked in as edgegw.schema.json. Point your editor at it with a first line such as:

  # yaml-language-server: $schema=./edgegw.schema.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return Run(opts)
		},
	}
}

// Run prints the schema.
func Run(o *Options) error {
	b, err := manifest.JSONSchema()
	if err != nil {
		return err
	}
	_, err = o.IO.Out.Write(b)
	return err
}

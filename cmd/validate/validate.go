// Package validate implements `edgegw validate`: load and check a manifest, offline, with no credentials.
package validate

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/cmd/root"
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
)

// TargetCheck checks the IR against a target's capabilities and returns diagnostics for what it cannot
// enforce. The providers package installs it; nil means no target checks are available.
var TargetCheck func(g *ir.Gateway, target string) (manifest.Diagnostics, error)

// TargetKnown reports whether this build has a provider for a target; installed with TargetCheck.
var TargetKnown func(target string) bool

// Options are the inputs of `edgegw validate`.
type Options struct {
	IO           *cmdutil.IOStreams
	ManifestPath string
	Format       string
	Color        bool
	Targets      []string
}

func init() {
	root.AddCommand(func(f *cmdutil.Factory) *cobra.Command { return NewCmdValidate(f, nil) })
}

// NewCmdValidate builds the command; runF replaces the behaviour in tests.
func NewCmdValidate(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check a manifest: syntax, references, route order, security rules (offline)",
		Long: `Check a manifest without network access or credentials. Every problem is printed as
file:line:col: error[CODE]: summary, followed by what to do. With --target, also check that the target can
enforce everything the manifest asks of it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ManifestPath, opts.Format, opts.Color = f.ManifestPath, f.Format, f.Color()
			if runF != nil {
				return runF(opts)
			}
			return Run(opts)
		},
	}
	cmd.Flags().StringSliceVar(&opts.Targets, "target", nil, "also check the capabilities of these targets (repeatable, or \"all\" for the manifest's targets)")
	return cmd
}

// Run validates the manifest and prints the diagnostics.
func Run(o *Options) error {
	g, diags := manifest.Load(o.ManifestPath)
	if g != nil && len(o.Targets) > 0 {
		if TargetCheck == nil || TargetKnown == nil {
			return fmt.Errorf("validate: no target capabilities are linked into this build")
		}
		targets := o.Targets
		if len(targets) == 1 && targets[0] == "all" {
			// "all" is the manifest's targets; one this build cannot deploy is said, not silently passed.
			targets = nil
			for _, t := range g.Targets.Names() {
				if TargetKnown(t) {
					targets = append(targets, t)
					continue
				}
				diags = append(diags, manifest.Diagnostic{Severity: manifest.SeverityWarning, Code: manifest.CodeCapability,
					Summary: fmt.Sprintf("target %s is configured, but this build of edgegw has no provider for it: its capabilities were not checked", t),
					Detail:  "see edgegw providers for the targets this build deploys to",
					Range:   manifest.Range{File: o.ManifestPath}})
			}
		}
		for _, t := range targets {
			more, err := TargetCheck(g, t)
			if err != nil {
				return err
			}
			diags = append(diags, more...)
		}
		diags.Sort()
	}
	cmdutil.PrintDiagnostics(o.IO, o.Format, o.Color, diags)
	if err := diags.Err(); err != nil {
		if o.Format == cmdutil.FormatHuman {
			fmt.Fprintf(o.IO.ErrOut, "%s: invalid (%s)\n", o.ManifestPath, err)
		}
		return &cmdutil.SilentError{Code: cmdutil.ExitError, Err: err}
	}
	if o.Format == cmdutil.FormatHuman {
		fmt.Fprintf(o.IO.ErrOut, "%s: valid (%d routes, %d warnings)\n", o.ManifestPath, len(g.Routes), len(diags))
	}
	return nil
}

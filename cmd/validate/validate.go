// Package validate implements `edgegw validate`: load and check a manifest, offline, with no credentials.
package validate

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/cmd/root"
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
)

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
		targets := o.Targets
		if len(targets) == 1 && targets[0] == "all" {
			// "all" is the manifest's targets; one this build cannot deploy is said, not silently passed.
			targets = nil
			for _, t := range g.Targets.Names() {
				reg, ok := providers.Lookup(t)
				if ok && reg.Capabilities != nil {
					targets = append(targets, t)
					continue
				}
				diags = append(diags, manifest.Diagnostic{Severity: manifest.SeverityWarning, Code: manifest.CodeCapability,
					Summary: fmt.Sprintf("target %s is configured, but this edgegw does not build it yet: its capabilities were not checked", t),
					Detail:  "see edgegw providers for the targets this build deploys to",
					Range:   posRange(o.ManifestPath, g.SectionPos("targets."+t))})
			}
		}
		for _, t := range targets {
			if err := providers.CheckTargetName(t, false); err != nil {
				return err
			}
			diags = append(diags, TargetDiagnostics(g, o.ManifestPath, t)...)
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

// TargetDiagnostics turns providers.CheckCapabilities into diagnostics at the manifest's line:col: a route's
// finding at the route, a gateway-wide one at the section that asks for it.
func TargetDiagnostics(g *ir.Gateway, file, target string) manifest.Diagnostics {
	var ds manifest.Diagnostics
	for _, f := range providers.CheckCapabilities(g, target) {
		what, fix := "the gateway", ""
		switch {
		case f.Route != "":
			what = "route " + f.Route
			fix = "remove the feature from the route, or do not deploy the manifest to " + target
		case strings.HasPrefix(f.Section, "targets."):
			what = "every manifest"
			fix = target + " cannot serve a manifest the way the reference gateway does; deploy to another target"
		case f.Section != "":
			what = "the gateway (" + f.Section + ")"
			fix = "every response of the gateway depends on " + f.Section + ": deploy to a target that enforces it, or remove the " + f.Section + " section"
		}
		detail := f.Reason
		if f.Companion != "" {
			detail += fmt.Sprintf("\nadd %q to targets.%s.companions to enforce it with the documented companion", f.Companion, target)
		} else if fix != "" {
			detail += "\n" + fix
		}
		pos := f.Pos
		if pos.Line == 0 {
			pos = g.SectionPos("targets." + target)
		}
		ds = append(ds, manifest.Diagnostic{Severity: manifest.SeverityError, Code: manifest.CodeCapability,
			Summary: fmt.Sprintf("%s needs %s, which %s cannot enforce", what, f.Feature, target), Detail: detail,
			Range: posRange(file, pos)})
	}
	return ds
}

// posRange is the diagnostic range of a position; the file alone when the position is unknown.
func posRange(file string, p ir.Pos) manifest.Range {
	if p.File != "" {
		file = p.File
	}
	return manifest.Range{File: file, Start: manifest.Point{Line: p.Line, Col: p.Col}}
}

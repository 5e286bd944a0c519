// Package render implements `edgegw render`: write each target's artifacts to disk, offline.
package render

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/cmd/root"
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/render"
)

// Options are the inputs of `edgegw render`.
type Options struct {
	IO           *cmdutil.IOStreams
	ManifestPath string
	Format       string
	Color        bool
	Targets      []string
	OutDir       string
}

func init() { root.AddCommand(func(f *cmdutil.Factory) *cobra.Command { return NewCmdRender(f, nil) }) }

// NewCmdRender builds the command; runF replaces the behaviour in tests.
func NewCmdRender(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "render",
		Short: "Write each target's artifacts to a folder (offline)",
		Long: `Validate the manifest and write the artifacts of each target to OUT/<target>/. Rendering is pure:
the same manifest gives the same bytes. Target "ir" writes the intermediate representation as JSON.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ManifestPath, opts.Format, opts.Color = f.ManifestPath, f.Format, f.Color()
			if runF != nil {
				return runF(opts)
			}
			return Run(opts)
		},
	}
	cmd.Flags().StringSliceVarP(&opts.Targets, "target", "t", []string{"ir"}, "targets to render (repeatable): any target, or ir for the IR itself")
	cmd.Flags().StringVarP(&opts.OutDir, "out", "o", "dist", "output folder")
	return cmd
}

// Run renders and writes the artifacts.
func Run(o *Options) error {
	g, diags := manifest.Load(o.ManifestPath)
	cmdutil.PrintDiagnostics(o.IO, o.Format, o.Color, diags)
	if err := diags.Err(); err != nil {
		return &cmdutil.SilentError{Code: cmdutil.ExitError, Err: err}
	}
	// Render everything first: nothing is written unless every target renders.
	var all []render.Artifact
	for _, t := range o.Targets {
		if err := providers.CheckTargetName(t, true); err != nil {
			return err
		}
		name := t
		if reg, ok := providers.Lookup(t); ok {
			if reg.Renderer == "" {
				return reg.NotBuiltError("be rendered")
			}
			name = reg.Renderer // a target renders with its registered renderer, into its own folder
		}
		r, err := render.Lookup(name)
		if err != nil {
			return err
		}
		arts, err := r.Render(g)
		if err != nil {
			return fmt.Errorf("render %s: %w", t, err)
		}
		for i := range arts {
			arts[i].Target = t
		}
		all = append(all, arts...)
	}
	for _, a := range all {
		p := filepath.Join(o.OutDir, a.Target, filepath.FromSlash(a.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("render: %w", err)
		}
		if err := os.WriteFile(p, a.Data, 0o644); err != nil {
			return fmt.Errorf("render: %w", err)
		}
		if o.Format == cmdutil.FormatJSON {
			_ = json.NewEncoder(o.IO.Out).Encode(map[string]any{"type": "artifact", "target": a.Target, "path": p, "bytes": len(a.Data), "sha256": a.Digest()})
		} else {
			fmt.Fprintf(o.IO.ErrOut, "wrote %s (%d bytes)\n", p, len(a.Data))
		}
	}
	return nil
}

// Package rollback implements `edgegw rollback`: return each target to its previous deploy by the
// provider's native path (seconds, nothing re-rendered), or with --to REF render the manifest as it was at
// a git ref and apply it. Both print what a rollback does not revert.
package rollback

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/cmd/plan"
	"github.com/edgegw/edgegw/cmd/plan/view"
	"github.com/edgegw/edgegw/cmd/root"
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/providers"
)

// Options are the inputs of `edgegw rollback`.
type Options struct {
	Factory      *cmdutil.Factory
	ManifestPath string
	Targets      []string
	Version      string
	To           string
	Force        bool
	ForceUnlock  string
	TargetsFunc  plan.TargetsFunc
}

func init() {
	root.AddCommand(func(f *cmdutil.Factory) *cobra.Command { return NewCmdRollback(f, nil) })
}

// NewCmdRollback builds the command; runF replaces the behaviour in tests.
func NewCmdRollback(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "rollback",
		Short: "Restore the previous deploy, or the manifest as it was at a git ref",
		Long: `Without --to, every target returns to what was live before its live version was applied, by the
provider's fastest native path; rolling back again goes one more deploy back. --version picks a version
seen in "edgegw history". With --to REF (a commit, branch or tag), the manifest is read from git at REF
with the files it names, rendered, and applied like "edgegw apply --auto-approve".
Secret values, data stores and DNS records are never reverted; the command lists them.`,
		Example: `  edgegw rollback
  edgegw rollback --target local --version 3
  edgegw rollback --to HEAD~1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ManifestPath = f.ManifestPath
			if opts.To != "" && opts.Version != "" {
				return errors.New("rollback: use --to REF or --version N, not both")
			}
			if runF != nil {
				return runF(opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringSliceVar(&opts.Targets, "target", nil, "roll back only these targets (repeatable)")
	cmd.Flags().StringVar(&opts.Version, "version", "", "roll back to this `VERSION` (as edgegw history lists it)")
	cmd.Flags().StringVar(&opts.To, "to", "", "render and apply the manifest as it was at this git `REF`")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "roll back where the vendor refuses it unless forced (Cloudflare: secrets changed since that version); with --to: apply even when it deletes many routes or changes a live apex domain")
	cmd.Flags().StringVar(&opts.ForceUnlock, "force-unlock", "", "break the target lock with this `ID` first")
	// Vendor calls in flight finish on the first SIGINT/SIGTERM (see cmd/root).
	cmd.Annotations = map[string]string{cmdutil.AnnotationFinishInFlight: ""}
	return cmd
}

// Run rolls back.
func Run(ctx context.Context, o *Options) (err error) {
	v := view.New(o.Factory, "rollback")
	changed := false
	defer func() {
		err = view.ExitError(err)
		v.Finish(err, changed)
	}()
	if o.To != "" {
		return toRef(ctx, v, o, &changed)
	}
	g, diags := manifest.Load(o.ManifestPath)
	v.Diagnostics(diags)
	if err := diags.Err(); err != nil {
		return &cmdutil.SilentError{Code: cmdutil.ExitError, Err: err}
	}
	tf := o.TargetsFunc
	if tf == nil {
		tf = providers.ConfiguredTargets
	}
	targets, skipped, err := tf(g, providers.Config{BaseDir: filepath.Dir(o.ManifestPath), Getenv: o.Factory.Getenv}, o.Targets)
	if err != nil {
		return err
	}
	for _, s := range skipped {
		v.Warn(s.Target, s.Reason+"; not rolled back")
	}
	var provs []providers.Provider
	for _, t := range targets {
		if t.Provider == nil {
			return t.Offline
		}
		provs = append(provs, t.Provider)
	}
	rep, err := providers.Rollback(ctx, provs, providers.RollbackOptions{
		Version: o.Version, ForceUnlock: o.ForceUnlock, Force: o.Force, Now: o.Factory.Now, Getenv: o.Factory.Getenv, Progress: v.Progress, Warn: v.Warn,
	})
	changed = rep != nil && len(rep.Targets) > 0
	if changed {
		v.Report(rep)
	}
	return err
}

// toRef renders the manifest as it was at a git ref and applies it.
func toRef(ctx context.Context, v *view.View, o *Options, changed *bool) error {
	data, readFile, commit, err := providers.ManifestAtRef(o.ManifestPath, o.To)
	if err != nil {
		return err
	}
	v.Info("Rolling back to %s as of %s (commit %s).", o.ManifestPath, o.To, commit[:12])
	pp, err := plan.Prepare(ctx, v, plan.Source{ManifestPath: o.ManifestPath, Data: data, ReadFile: readFile, Commit: commit},
		o.Targets, o.Factory, o.TargetsFunc)
	if err != nil {
		return err
	}
	*changed = pp.Plan.HasChanges()
	var names []string
	for _, tp := range pp.Plan.Targets {
		names = append(names, tp.Target)
	}
	rep, err := providers.Apply(ctx, pp.Plan, pp.Providers, providers.ApplyOptions{
		Gateway: pp.Gateway, Force: o.Force, ForceUnlock: o.ForceUnlock, Now: o.Factory.Now, Getenv: o.Factory.Getenv,
		Kind: providers.KindRollback, Note: fmt.Sprintf("rollback --to %s", o.To), Progress: v.Progress,
	})
	if rep != nil {
		rep.NotReverted = providers.NotReverted(names)
	}
	v.Report(rep)
	return err
}

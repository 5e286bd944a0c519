// Package unlock implements `edgegw unlock ID`: break the lock a dead apply or rollback left on its
// targets, as its own step (Terraform's `force-unlock`). Only the lock with that id is broken, so a lock a
// live run took since is never broken by mistake.
package unlock

import (
	"context"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/cmd/plan"
	"github.com/edgegw/edgegw/cmd/plan/view"
	"github.com/edgegw/edgegw/cmd/root"
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/providers"
)

// Options are the inputs of `edgegw unlock`.
type Options struct {
	Factory      *cmdutil.Factory
	ManifestPath string
	ID           string
	Targets      []string
	TargetsFunc  plan.TargetsFunc
}

func init() {
	root.AddCommand(func(f *cmdutil.Factory) *cobra.Command { return NewCmdUnlock(f, nil) })
}

// NewCmdUnlock builds the command; runF replaces the behaviour in tests.
func NewCmdUnlock(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:     "unlock LOCK_ID",
		Aliases: []string{"force-unlock"},
		Short:   "Break the lock a dead apply or rollback left on a target",
		Long: `Break the lock with LOCK_ID on every configured target that holds it. The id is the one the
lock error names ("locked by ci@runner-7 (apply, pid 4242, …, lock id 3f9a0c12)"); "unreadable" breaks a
lock file that cannot be read. A lock with another id is left alone, so a run that took the lock since is
never broken by mistake. Make sure the run that held it is dead: two applies at once can leave a target
half switched. The next apply or rollback repairs what the dead run left.`,
		Example: `  edgegw unlock 3f9a0c12
  edgegw unlock unreadable --target local`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ManifestPath, opts.ID = f.ManifestPath, args[0]
			if runF != nil {
				return runF(opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringSliceVar(&opts.Targets, "target", nil, "only these targets (repeatable)")
	return cmd
}

// Run breaks the lock.
func Run(ctx context.Context, o *Options) (err error) {
	v := view.New(o.Factory, "unlock")
	defer func() {
		err = view.ExitError(err)
		v.Finish(err, false)
	}()
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
		v.Warn(s.Target, s.Reason+"; its lock is not checked")
	}
	var provs []providers.Provider
	for _, t := range targets {
		if t.Provider == nil {
			v.Warn(t.Name, "lock not checked: "+t.Offline.Error())
			continue
		}
		provs = append(provs, t.Provider)
	}
	return providers.Unlock(ctx, provs, o.ID, func(p providers.Progress) {
		if p.Step == "unlock" && p.Status == "done" {
			v.Info("%s: the lock %s is broken; the next apply or rollback repairs what the run that held it left.", p.Target, o.ID)
		}
	})
}

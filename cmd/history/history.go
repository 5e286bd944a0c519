// Package history implements `edgegw history`: the deploy records of each target (which manifest commit
// is live where, when, by whom, as which vendor version), read from where the target keeps them.
package history

import (
	"context"
	"errors"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/cmd/plan"
	"github.com/edgegw/edgegw/cmd/plan/view"
	"github.com/edgegw/edgegw/cmd/root"
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/providers"
)

// Options are the inputs of `edgegw history`.
type Options struct {
	Factory      *cmdutil.Factory
	ManifestPath string
	Targets      []string
	Limit        int
	TargetsFunc  plan.TargetsFunc
}

func init() {
	root.AddCommand(func(f *cmdutil.Factory) *cobra.Command { return NewCmdHistory(f, nil) })
}

// NewCmdHistory builds the command; runF replaces the behaviour in tests.
func NewCmdHistory(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "history",
		Short: "List the deploys of each target: commit, time, who, version",
		Long: `List each target's deploy records, oldest first; the last one is live. Records live with the
target (the local target's directory, the vendor's annotation fields), so they survive a CI runner.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ManifestPath = f.ManifestPath
			if runF != nil {
				return runF(opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringSliceVar(&opts.Targets, "target", nil, "only these targets (repeatable)")
	cmd.Flags().IntVarP(&opts.Limit, "limit", "n", 20, "show at most the newest N records per target (0: all)")
	return cmd
}

// Run prints the history.
func Run(ctx context.Context, o *Options) (err error) {
	v := view.New(o.Factory, "history")
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
		v.Warn(s.Target, s.Reason)
	}
	for _, t := range targets {
		if t.Provider == nil {
			v.Warn(t.Name, "history not read: "+t.Offline.Error())
			continue
		}
		recs, err := t.Provider.History(ctx)
		var skipped *providers.SkippedRecordsError
		if errors.As(err, &skipped) {
			v.Warn(t.Name, err.Error()) // one damaged record does not hide the others
		} else if err != nil {
			return err
		}
		if o.Limit > 0 && len(recs) > o.Limit {
			recs = recs[len(recs)-o.Limit:]
		}
		where := ""
		if l, ok := t.Provider.(providers.Locator); ok {
			where = "(" + l.Location() + ")"
		}
		v.History(t.Name, where, recs)
	}
	return nil
}

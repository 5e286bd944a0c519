// Package plan implements `edgegw plan`: validate and render every configured target offline, read the
// live state of each target that has credentials, and show per-target changes and artifact diffs.
// `-out plan.json` saves the plan for `edgegw apply plan.json`. It also holds the steps apply and rollback
// share (load, plan), so the three commands agree on what a plan is.
package plan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/cmd/plan/view"
	"github.com/edgegw/edgegw/cmd/root"
	"github.com/edgegw/edgegw/cmd/validate"
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
)

// TargetsFunc builds the targets of a gateway; tests replace it to deploy to fake providers.
type TargetsFunc func(g *ir.Gateway, cfg providers.Config, only []string) ([]providers.Target, []providers.SkippedTarget, error)

// Options are the inputs of `edgegw plan`.
type Options struct {
	Factory          *cmdutil.Factory
	ManifestPath     string
	Targets          []string
	Out              string
	DetailedExitCode bool
	TargetsFunc      TargetsFunc
	DNS              DNSOptions
}

func init() {
	root.AddCommand(func(f *cmdutil.Factory) *cobra.Command { return NewCmdPlan(f, nil) })
}

// NewCmdPlan builds the command; runF replaces the behaviour in tests.
func NewCmdPlan(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what apply would change on each target",
		Long: `Validate the manifest, render every configured target (offline, with size checks), read each
target's live state where credentials allow, and print per-target changes with a unified diff of the
artifacts. A target without credentials is reported with the variable to set; its offline part is still
shown. Save the plan with -out and apply exactly it with "edgegw apply plan.json".`,
		Example: `  edgegw plan
  edgegw plan --target local -out plan.json
  edgegw plan --detailed-exitcode   # exit 2 when there are changes`,
		Args: func(cmd *cobra.Command, args []string) error {
			// Terraform users type `-out FILE`; pflag reads it as `-o ut FILE`. Accept that spelling.
			if opts.Out == "ut" && len(args) == 1 {
				opts.Out, args = args[0], nil
			} else if rest, ok := strings.CutPrefix(opts.Out, "ut="); ok {
				opts.Out = rest
			}
			return cobra.NoArgs(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ManifestPath = f.ManifestPath
			if runF != nil {
				return runF(opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringSliceVar(&opts.Targets, "target", nil, "plan only these targets (repeatable)")
	cmd.Flags().StringVarP(&opts.Out, "out", "o", "", "save the plan to this `FILE`, for edgegw apply FILE")
	cmd.Flags().BoolVar(&opts.DetailedExitCode, "detailed-exitcode", false, "exit 0 with no changes, 2 with changes")
	AddDNSFlags(cmd, &opts.DNS)
	return cmd
}

// Run plans and prints.
func Run(ctx context.Context, o *Options) (err error) {
	v := view.New(o.Factory, "plan")
	var pp *Prepared
	defer func() {
		err = view.ExitError(err)
		v.Finish(err, pp != nil && pp.Plan.HasChanges())
	}()
	pp, err = Prepare(ctx, v, Source{ManifestPath: o.ManifestPath}, o.Targets, o.Factory, o.TargetsFunc)
	if err != nil {
		return err
	}
	if err := DNSPreflight(ctx, v, pp, o.DNS, o.Factory); err != nil {
		return err
	}
	if o.Out != "" {
		b, err := pp.Plan.Marshal()
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.Out, b, 0o600); err != nil {
			return fmt.Errorf("plan: save %s: %w", o.Out, err)
		}
		v.Info("Saved the plan to %s; apply exactly it with: edgegw apply %s", o.Out, o.Out)
	}
	if o.DetailedExitCode {
		// "No changes" must mean every configured target was read and matches: one that could not be
		// planned is an error, not a green check.
		if err := pp.Plan.Unplanned(); err != nil {
			return err
		}
	}
	if o.DetailedExitCode && pp.Plan.HasChanges() {
		return cmdutil.ChangesPresentError{}
	}
	return nil
}

// Source is where the manifest comes from: a file, or bytes read from a git tree (rollback --to).
type Source struct {
	ManifestPath string
	// Data, when set, is the manifest's content and ReadFile reads the files it names.
	Data     []byte
	ReadFile func(rel string) ([]byte, error)
	// Commit, with Data, is the git commit the content comes from.
	Commit string
}

// Prepared is a plan with what is needed to apply it.
type Prepared struct {
	Gateway   *ir.Gateway
	Plan      *providers.Plan
	Providers map[string]providers.Provider
	// PublicDNS names the targets whose domain changes need the DNS preflight.
	PublicDNS map[string]bool
}

// Prepare loads the manifest, builds the targets and plans them, printing diagnostics and the plan. A
// target's failure is printed and returned as an error after the whole plan has been shown.
func Prepare(ctx context.Context, v *view.View, src Source, only []string, f *cmdutil.Factory, tf TargetsFunc) (*Prepared, error) {
	g, data, diags := load(src)
	v.Diagnostics(diags)
	if err := diags.Err(); err != nil {
		return nil, &cmdutil.SilentError{Code: cmdutil.ExitError, Err: err}
	}
	if tf == nil {
		tf = providers.ConfiguredTargets
	}
	cfg := providers.Config{BaseDir: filepath.Dir(src.ManifestPath), Getenv: f.Getenv}
	targets, skipped, err := tf(g, cfg, only)
	if err != nil {
		return nil, err
	}
	// What validate --target refuses, plan refuses too: a deploy never drops a feature a target cannot enforce.
	var refused manifest.Diagnostics
	for _, t := range targets {
		if t.Registration.Capabilities != nil {
			refused = append(refused, validate.TargetDiagnostics(g, src.ManifestPath, t.Name)...)
		}
	}
	if err := refused.Err(); err != nil {
		refused.Sort()
		v.Diagnostics(refused)
		return nil, &cmdutil.SilentError{Code: cmdutil.ExitError, Err: err}
	}
	meta := providers.PlanMeta{ManifestPath: src.ManifestPath, ManifestDigest: Digest(data), EdgegwVersion: f.Version, Now: now(f)}
	if src.Data != nil {
		meta.Commit = src.Commit
	} else if meta.Commit, meta.Dirty, err = providers.ManifestCommit(src.ManifestPath); err != nil {
		v.Warn("git", err.Error()+"; the deploy record will not name a commit")
	}
	p, planErr := providers.MakePlan(ctx, g, targets, meta)
	p.Skipped = skipped
	v.Plan(p)
	if planErr != nil {
		return nil, planErr
	}
	provs := map[string]providers.Provider{}
	public := map[string]bool{}
	for _, t := range targets {
		if t.Provider != nil {
			provs[t.Name] = t.Provider
		}
		public[t.Name] = t.Registration.PublicDNS
	}
	return &Prepared{Gateway: g, Plan: p, Providers: provs, PublicDNS: public}, nil
}

func load(src Source) (*ir.Gateway, []byte, manifest.Diagnostics) {
	if src.Data != nil {
		g, diags := manifest.LoadBytes(src.ManifestPath, src.Data, manifest.LoadOptions{ReadFile: src.ReadFile})
		return g, src.Data, diags
	}
	data, err := manifest.ReadManifest(src.ManifestPath)
	if err != nil {
		g, diags := manifest.Load(src.ManifestPath) // for its diagnostic wording
		return g, nil, diags
	}
	// One read: the digest in the plan is of exactly the bytes that were compiled.
	g, diags := manifest.LoadBytes(src.ManifestPath, data, manifest.LoadOptions{ReadFile: manifest.DirReader(filepath.Dir(src.ManifestPath))})
	return g, data, diags
}

// Digest is the manifest digest kept in plan files: a saved plan is stale once the manifest changes.
func Digest(data []byte) string {
	s := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(s[:])
}

func now(f *cmdutil.Factory) time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// Package apply implements `edgegw apply`: apply a saved plan (refusing it when stale), or plan and apply
// after approval. Every stageable target is staged and validated before any is activated; on failure the
// targets already activated are restored and the command exits 3 with a per-target report.
package apply

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/cmd/plan"
	"github.com/edgegw/edgegw/cmd/plan/view"
	"github.com/edgegw/edgegw/cmd/root"
	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/providers"
)

// Options are the inputs of `edgegw apply`.
type Options struct {
	Factory      *cmdutil.Factory
	ManifestPath string
	PlanFile     string
	Targets      []string
	AutoApprove  bool
	Force        bool
	ForceUnlock  string
	TargetsFunc  plan.TargetsFunc
	DNS          plan.DNSOptions
	// VerifyURLs are fetched after each activation; a 5xx or no answer within VerifyTimeout restores.
	VerifyURLs    []string
	VerifyTimeout time.Duration
	HTTPClient    *http.Client
}

func init() {
	root.AddCommand(func(f *cmdutil.Factory) *cobra.Command { return NewCmdApply(f, nil) })
}

// NewCmdApply builds the command; runF replaces the behaviour in tests.
func NewCmdApply(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "apply [PLAN_FILE]",
		Short: "Deploy the manifest (or a saved plan) to its targets",
		Long: `Apply a plan saved by "edgegw plan -out FILE", or plan now and apply after approval (typed on a
terminal, or --auto-approve). A saved plan is refused (exit 5) when the manifest or a target's live state
changed since it was made. Deleting more than 30% of a target's live routes, or changing a live apex
domain, needs --force. On failure the targets already switched are restored and the exit code is 3.`,
		Example: `  edgegw apply --auto-approve
  edgegw plan -out plan.json && edgegw apply plan.json
  edgegw apply --force-unlock 3f9a0c12 plan.json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ManifestPath = f.ManifestPath
			if len(args) == 1 {
				opts.PlanFile = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringSliceVar(&opts.Targets, "target", nil, "apply only these targets (repeatable; not with a plan file)")
	cmd.Flags().BoolVar(&opts.AutoApprove, "auto-approve", false, "apply without asking for approval")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "apply even when the plan deletes many routes or changes a live apex domain")
	cmd.Flags().StringVar(&opts.ForceUnlock, "force-unlock", "", "break the target lock with this `ID` (named by the lock error) first")
	cmd.Flags().StringArrayVar(&opts.VerifyURLs, "verify-url", nil, "after each target is activated, GET this `URL` until it answers below 500; otherwise restore (repeatable)")
	cmd.Flags().DurationVar(&opts.VerifyTimeout, "verify-timeout", 30*time.Second, "how long --verify-url may take to answer below 500")
	plan.AddDNSFlags(cmd, &opts.DNS)
	// Vendor calls in flight finish on the first SIGINT/SIGTERM (see cmd/root).
	cmd.Annotations = map[string]string{cmdutil.AnnotationFinishInFlight: ""}
	return cmd
}

// Run applies.
func Run(ctx context.Context, o *Options) (err error) {
	v := view.New(o.Factory, "apply")
	changes := false
	defer func() {
		err = view.ExitError(err)
		v.Finish(err, changes)
	}()
	var pp *plan.Prepared
	if o.PlanFile != "" {
		if len(o.Targets) > 0 {
			return errors.New("apply: --target cannot narrow a saved plan: pass --target to `edgegw plan -out` instead")
		}
		pp, err = fromPlanFile(ctx, v, o)
	} else {
		pp, err = plan.Prepare(ctx, v, plan.Source{ManifestPath: o.ManifestPath}, o.Targets, o.Factory, o.TargetsFunc)
		if err == nil && pp.Plan.HasChanges() && !o.AutoApprove {
			err = approve(o.Factory, pp.Plan)
		}
	}
	if err != nil {
		return err
	}
	// The preflight runs before anything is staged: a blocking finding stops the apply with nothing changed.
	if err := plan.DNSPreflight(ctx, v, pp, o.DNS, o.Factory); err != nil {
		return err
	}
	changes = pp.Plan.HasChanges()
	if !changes {
		v.Info("Nothing to apply.")
		if o.ForceUnlock != "" {
			// Asked for, so done and said: a kept lock would block the next run with no word why.
			v.Info("Breaking the lock %s all the same, as --force-unlock asks (`edgegw unlock %s` does only that).", o.ForceUnlock, o.ForceUnlock)
		}
	}
	rep, err := providers.Apply(ctx, pp.Plan, pp.Providers, providers.ApplyOptions{
		Gateway: pp.Gateway, Force: o.Force, ForceUnlock: o.ForceUnlock, Now: o.Factory.Now, Getenv: o.Factory.Getenv,
		Progress: v.Progress, VerifyHTTP: httpVerifier(o),
	})
	if changes {
		v.Report(rep)
	}
	return err
}

// httpVerifier checks, after each activation, that every --verify-url answers below 500 within the timeout,
// retrying once a second while the edge propagates the new version.
func httpVerifier(o *Options) func(ctx context.Context, target string) error {
	if len(o.VerifyURLs) == 0 {
		return nil
	}
	client := o.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return func(ctx context.Context, target string) error {
		for _, u := range o.VerifyURLs {
			ctx, cancel := context.WithTimeout(ctx, o.VerifyTimeout)
			last := ""
			for {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
				if err != nil {
					cancel()
					return fmt.Errorf("apply: --verify-url %q: %w", u, err)
				}
				resp, err := client.Do(req)
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode < 500 {
						break
					}
					last = resp.Status
				} else {
					last = err.Error()
				}
				select {
				case <-ctx.Done():
					cancel()
					return fmt.Errorf("apply: %s: %s did not answer below 500 within %s (last: %s)", target, u, o.VerifyTimeout, last)
				case <-time.After(time.Second):
				}
			}
			cancel()
		}
		return nil
	}
}

// fromPlanFile reads a saved plan and refuses it when the manifest changed since.
func fromPlanFile(ctx context.Context, v *view.View, o *Options) (*plan.Prepared, error) {
	data, err := providers.ReadPlanFile(o.PlanFile)
	if err != nil {
		return nil, fmt.Errorf("apply: %w", err)
	}
	p, err := providers.ReadPlan(o.PlanFile, data)
	if err != nil {
		return nil, err
	}
	for _, pr := range p.Problems {
		return nil, fmt.Errorf("apply: the plan in %s failed on %s (%s): fix it and plan again", o.PlanFile, pr.Target, pr.Error)
	}
	mdata, err := manifest.ReadManifest(p.ManifestPath)
	if err != nil {
		return nil, &providers.StalePlanError{Reason: fmt.Sprintf("the manifest %s the plan was made from cannot be read: %v", p.ManifestPath, err)}
	}
	if d := plan.Digest(mdata); d != p.ManifestDigest {
		return nil, &providers.StalePlanError{Reason: fmt.Sprintf("%s changed since the plan was made (%s, now %s)", p.ManifestPath, short(p.ManifestDigest), short(d))}
	}
	g, diags := manifest.LoadBytes(p.ManifestPath, mdata, manifest.LoadOptions{ReadFile: manifest.DirReader(filepath.Dir(p.ManifestPath))})
	v.Diagnostics(diags)
	if err := diags.Err(); err != nil {
		return nil, &cmdutil.SilentError{Code: cmdutil.ExitError, Err: err}
	}
	var only []string
	for _, tp := range p.Targets {
		only = append(only, tp.Target)
	}
	tf := o.TargetsFunc
	if tf == nil {
		tf = providers.ConfiguredTargets
	}
	targets, _, err := tf(g, providers.Config{BaseDir: filepath.Dir(p.ManifestPath), Getenv: o.Factory.Getenv}, only)
	if err != nil {
		return nil, err
	}
	provs := map[string]providers.Provider{}
	public := map[string]bool{}
	for _, t := range targets {
		public[t.Name] = t.Registration.PublicDNS
		if t.Provider == nil {
			if slices.ContainsFunc(p.Targets, func(tp *providers.TargetPlan) bool { return tp.Target == t.Name && tp.HasChanges() }) {
				return nil, t.Offline
			}
			continue
		}
		provs[t.Name] = t.Provider
	}
	v.Info("Applying the saved plan %s (made %s from %s).", o.PlanFile, p.CreatedAt.Local().Format("2006-01-02 15:04:05"), p.ManifestPath)
	v.Plan(p)
	return &plan.Prepared{Gateway: g, Plan: p, Providers: provs, PublicDNS: public}, nil
}

func short(d string) string {
	d = strings.TrimPrefix(d, "sha256:")
	if len(d) > 12 {
		return d[:12]
	}
	return d
}

// approve asks on a terminal; elsewhere it refuses, so CI never applies an unreviewed plan by accident.
func approve(f *cmdutil.Factory, p *providers.Plan) error {
	if !f.IO.InTTY || !f.IO.ErrTTY {
		return errors.New("apply: not applying without approval: pass --auto-approve, or review a saved plan (`edgegw plan -out plan.json`, then `edgegw apply plan.json`)")
	}
	var names []string
	for _, tp := range p.Targets {
		if tp.HasChanges() {
			names = append(names, tp.Target)
		}
	}
	fmt.Fprintf(f.IO.ErrOut, "\nApply these changes to %s? Only 'yes' is accepted: ", strings.Join(names, ", "))
	line, _ := bufio.NewReader(f.IO.In).ReadString('\n')
	if strings.TrimSpace(line) != "yes" {
		return errors.New("apply: cancelled, nothing was changed")
	}
	return nil
}

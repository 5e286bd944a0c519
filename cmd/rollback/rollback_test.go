package rollback_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/cmd/rollback"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	_ "github.com/edgegw/edgegw/providers/all" // the targets the example manifest configures
)

// refusingVendor is a target whose vendor refuses the rollback unless forced, as Cloudflare does after a
// secret change (error 10220): version 2 is live, version 1 was before it.
type refusingVendor struct {
	rolledBack, forced int
}

func (*refusingVendor) Name() string { return "refusing" }
func (*refusingVendor) Plan(context.Context, providers.PlanInput) (*providers.TargetPlan, error) {
	return nil, fmt.Errorf("not planned here")
}
func (*refusingVendor) Apply(context.Context, *providers.TargetPlan, providers.DeployRecord) (*providers.Result, error) {
	return nil, fmt.Errorf("not applied here")
}
func (*refusingVendor) History(context.Context) ([]providers.DeployRecord, error) {
	return []providers.DeployRecord{
		{Seq: 1, Target: "refusing", Kind: providers.KindApply, Version: "1", Commit: strings.Repeat("a", 40)},
		{Seq: 2, Target: "refusing", Kind: providers.KindApply, Version: "2", Commit: strings.Repeat("b", 40), Previous: providers.RestorePoint{Target: "refusing", Version: "1"}},
	}, nil
}
func (v *refusingVendor) Rollback(context.Context, providers.RestorePoint, providers.DeployRecord) (*providers.Result, error) {
	v.rolledBack++
	return nil, refusedError{}
}
func (v *refusingVendor) ForceRollback(_ context.Context, rp providers.RestorePoint, _ providers.DeployRecord) (*providers.Result, error) {
	v.forced++
	return &providers.Result{Target: "refusing", Version: rp.Version, Record: 3}, nil
}

type refusedError struct{}

func (refusedError) Error() string {
	return "the vendor refused the rollback: secrets changed since version 1; run `edgegw rollback --force` to deploy it anyway"
}
func (refusedError) NeedsForce() {}

// A rollback the vendor refuses unless forced exits 5 (blocked) with the provider's explanation and changes
// nothing; with --force it goes through ForceRollback and exits 0.
func TestRefusedRollbackExitsBlockedAndForceProceeds(t *testing.T) {
	for _, force := range []bool{false, true} {
		v := &refusingVendor{}
		var out, errOut bytes.Buffer
		f := &cmdutil.Factory{IO: cmdutil.TestIO(nil, &out, &errOut), Format: cmdutil.FormatHuman,
			Getenv: func(string) string { return "" }, Now: func() time.Time { return time.Unix(1_700_000_000, 0) }}
		err := rollback.Run(context.Background(), &rollback.Options{Factory: f, ManifestPath: "../../testdata/examples/quickstart.yaml", Force: force,
			TargetsFunc: func(*ir.Gateway, providers.Config, []string) ([]providers.Target, []providers.SkippedTarget, error) {
				return []providers.Target{{Name: "refusing", Provider: v}}, nil, nil
			}})
		code := cmdutil.ExitCode(err)
		switch {
		case !force && (code != cmdutil.ExitBlocked || v.rolledBack != 1 || v.forced != 0):
			t.Errorf("without --force: exit %d, %d rollbacks, %d forced (%v); want exit %d after one refused rollback", code, v.rolledBack, v.forced, err, cmdutil.ExitBlocked)
		case !force && !strings.Contains(cmdutil.UserMessage(err), "edgegw rollback --force"):
			t.Errorf("without --force the error does not say how to go on: %v", err)
		case force && (code != cmdutil.ExitOK || v.rolledBack != 0 || v.forced != 1):
			t.Errorf("with --force: exit %d, %d rollbacks, %d forced (%v); want exit 0 after one forced rollback\n%s", code, v.rolledBack, v.forced, err, errOut.String())
		}
	}
}

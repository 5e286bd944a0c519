package cloudfront

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cf "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/edgegw/edgegw/providers"
)

// commentPrefix starts the comment of every function edgegw uploads: `edgegw <kind> git:<sha>|git:none
// v:<version>` (CloudFront allows 128 characters).
const commentPrefix = "edgegw "

func comment(rec providers.DeployRecord, version string) string {
	c := fmt.Sprintf("%s%s %s v:%s", commentPrefix, rec.Kind, rec.GitField(), version)
	if len(c) > 128 {
		c = c[:128]
	}
	return c
}

// Apply implements providers.Provider. It refuses a moved base token, uploads each changed function to
// its DEVELOPMENT stage, runs the manifest's tests through TestFunction on every function, and only then
// publishes the changed functions and associates them with the distribution's cache behaviors (when
// that association changes). A failure after the first publish puts back the previous code and
// association and returns a *providers.PartialError.
func (p *Provider) Apply(ctx context.Context, tp *providers.TargetPlan, rec providers.DeployRecord) (*providers.Result, error) {
	if a, ok := lambdaArtifact(tp.RenderedArtifacts()); ok {
		return p.applyLambda(ctx, tp, rec, a)
	}
	want, err := desiredCode(tp.RenderedArtifacts())
	if err != nil {
		return nil, err
	}
	l, err := p.readLive(ctx)
	if err != nil {
		return nil, err
	}
	if err := p.loadHeaders(ctx, &l.headers, l.dist, headersCodes(tp.RenderedArtifacts())); err != nil {
		return nil, err
	}
	if tok := l.token(); tok != tp.BaseToken {
		return nil, &providers.StalePlanError{Target: Name, Reason: fmt.Sprintf("the distribution or its functions moved since the plan was made (ETags %q, now %q)", tp.BaseToken, tok)}
	}
	// Every secret is read before anything changes: a variable that is not set fails the apply here.
	kp, err := p.prepareSecrets()
	if err != nil {
		return nil, err
	}
	p.pending = kp
	codes := map[string][]byte{}
	for _, f := range functions {
		codes[f.artifact] = want[f.artifact].Data
	}
	p.wafCode(codes, want)
	headersCode(codes, want)
	recs, _ := p.readRecords()
	// The route table too, bounds and all (kvsroutes.go).
	if p.pendingRoutes, err = p.prepareRoutes(ctx, tp.RenderedArtifacts(), recs, l.version()); err != nil {
		p.pending = nil
		return nil, err
	}
	rec.Target, rec.Version, rec.Seq = Name, versionOf(codes), len(recs)+1
	if rec.Previous.Target == "" {
		rec.Previous = providers.RestorePoint{Target: Name, Version: l.version(), Detail: restoreDetail(l)}
	}
	return p.ship(ctx, l, codes, rec, true)
}

// ship makes codes live on the distribution and writes rec: Apply with tests, Rollback without.
func (p *Provider) ship(ctx context.Context, l *liveState, codes map[string][]byte, rec providers.DeployRecord, test bool) (*providers.Result, error) {
	note := comment(rec, rec.Version)
	kp, rd := p.pending, p.pendingRoutes
	p.pending, p.recordSecrets, p.pendingRoutes, p.recordRoutes = nil, nil, nil, nil
	// A cache behavior with another response headers policy is refused before anything changes.
	if err := p.loadHeaders(ctx, &l.headers, l.dist, codes); err != nil {
		return nil, err
	}
	if err := p.checkHeaders(l.headers, l.dist, codes); err != nil {
		return nil, err
	}
	// The store: created when missing (an apply with secrets or a route table), else found (a rollback
	// keeps the function's association with it).
	storeARN := ""
	if kp != nil || rd != nil {
		arn, err := p.ensureStore(ctx)
		if err != nil {
			return nil, err
		}
		storeARN = arn
		if kp != nil {
			kp.arn = arn
		}
		if rd != nil {
			rd.arn = arn
		}
	} else if p.kvs != nil {
		arn, err := p.findStore(ctx)
		if err != nil {
			return nil, err
		}
		storeARN = arn
	}
	storeOf := func(i int) string {
		if readsStore(i, rd != nil) {
			return storeARN
		}
		return ""
	}
	var changed []function
	var stores []string
	for i, f := range functions {
		lf := l.fns[f.artifact]
		if !lf.live || !bytes.Equal(lf.code, codes[f.artifact]) || (storeOf(i) != "" && !slices.Contains(lf.kvs, storeOf(i))) {
			changed = append(changed, f)
			stores = append(stores, storeOf(i))
		}
	}
	for k, f := range changed {
		arn := stores[k]
		if err := p.upload(ctx, f, l.fns[f.artifact], codes[f.artifact], note, arn); err != nil {
			return nil, err
		}
	}
	// The keys go in before TestFunction, which reads the associated store as the edge does. A failure
	// from here on leaves the written values: the old ones are not known to put back.
	if kp != nil {
		recs, _ := p.readRecords()
		if err := p.writeSecrets(ctx, kp, recs); err != nil {
			return nil, err
		}
		p.recordSecrets = kp.fps
	}
	// The route keys of the new version too (a failure from here leaves them: the live code reads its
	// own version only).
	if rd != nil {
		if err := p.writeRoutes(ctx, rd); err != nil {
			return nil, err
		}
		p.recordRoutes = rd
	}
	if test {
		if err := p.testFunctions(ctx, l, changed); err != nil {
			return nil, err
		}
	}
	prev := l.version()
	var published []function
	fail := func(step string, cause error) (*providers.Result, error) {
		return nil, p.restore(ctx, l, published, prev, fmt.Errorf("providers/%s: %s: %w", Name, step, cause))
	}
	// The web ACL's rules go first: a lock token that moved (a stale plan) then changes nothing live.
	if err := p.shipWAF(ctx, l, codes); err != nil {
		return nil, err
	}
	// The response headers policy is written before the distribution points at it.
	if err := p.shipHeaders(ctx, l.headers, codes, note); err != nil {
		if !wafShipped(l) {
			return nil, err
		}
		return fail("write the response headers policy", err)
	}
	for _, f := range changed {
		lf := l.fns[f.artifact]
		if _, err := p.client.PublishFunction(ctx, &cf.PublishFunctionInput{Name: aws.String(p.fnName(f)), IfMatch: aws.String(lf.devETag)}); err != nil {
			if len(published) == 0 && !wafShipped(l) && !l.headers.wrote() {
				return nil, p.apiError("publish function "+p.fnName(f), err)
			}
			return fail("publish function "+p.fnName(f), p.apiError("publish", err))
		}
		published = append(published, f)
	}
	dc := copyConfig(l.dist)
	n, _ := p.associate(l, dc, false)
	n += p.attachHeaders(l.headers, dc, codes)
	if n += p.associateWAF(l, dc); n > 0 {
		if err := p.updateDistribution(ctx, dc, l.distETag, fmt.Sprintf("associate %s and %s with %d cache behavior(s)", p.fnName(functions[0]), p.fnName(functions[1]), n)); err != nil {
			return fail("associate the functions", err)
		}
	}
	if err := p.writeRecord(rec, codes); err != nil {
		return fail("write the deploy record", err)
	}
	p.trimRoutes(ctx, rd, rec.Version)
	return &providers.Result{Target: Name, Version: rec.Version, Record: rec.Seq}, nil
}

// upload writes code to the function's DEVELOPMENT stage (creating the function when it does not exist)
// and reads the stage's fresh ETag and ARN into lf. The SDK does not read UpdateFunction's ETag header,
// so the ETag always comes from DescribeFunction.
func (p *Provider) upload(ctx context.Context, f function, lf *liveFunction, code []byte, note, storeARN string) error {
	name := p.fnName(f)
	fc := &types.FunctionConfig{Comment: aws.String(note), Runtime: types.FunctionRuntimeCloudfrontJs20, KeyValueStoreAssociations: kvsAssociations(storeARN)}
	if lf.exists {
		if _, err := p.client.UpdateFunction(ctx, &cf.UpdateFunctionInput{Name: aws.String(name), IfMatch: aws.String(lf.devETag), FunctionCode: code, FunctionConfig: fc}); err != nil {
			return p.apiError("update function "+name, err)
		}
	} else {
		if _, err := p.client.CreateFunction(ctx, &cf.CreateFunctionInput{Name: aws.String(name), FunctionCode: code, FunctionConfig: fc}); err != nil {
			return p.apiError("create function "+name, err)
		}
		lf.exists = true
	}
	dev, err := p.client.DescribeFunction(ctx, &cf.DescribeFunctionInput{Name: aws.String(name), Stage: types.FunctionStageDevelopment})
	if err != nil {
		return p.apiError("describe function "+name+" (DEVELOPMENT)", err)
	}
	lf.devETag = aws.ToString(dev.ETag)
	if a := summaryARN(dev.FunctionSummary); a != "" {
		lf.arn = a
	}
	return nil
}

func (p *Provider) updateDistribution(ctx context.Context, dc *types.DistributionConfig, etag, what string) error {
	if _, err := p.client.UpdateDistribution(ctx, &cf.UpdateDistributionInput{Id: aws.String(p.distID), IfMatch: aws.String(etag), DistributionConfig: dc}); err != nil {
		return p.apiError("update distribution "+p.distID+": "+what, err)
	}
	return nil
}

// restore puts back what ship changed before it failed: the previous LIVE code of each published function
// (a function that was not live before stays published but is associated nowhere) and the cache
// behaviors' associations as they were read. It returns a *providers.PartialError saying what it did.
func (p *Provider) restore(ctx context.Context, l *liveState, published []function, prev string, cause error) error {
	var problems []string
	for _, f := range published {
		lf := l.fns[f.artifact]
		if !lf.live {
			continue
		}
		// The DEVELOPMENT ETag is read again: the publish that went through may have moved it.
		if dev, err := p.client.DescribeFunction(ctx, &cf.DescribeFunctionInput{Name: aws.String(p.fnName(f)), Stage: types.FunctionStageDevelopment}); err == nil {
			lf.devETag = aws.ToString(dev.ETag)
		}
		if err := p.upload(ctx, f, lf, lf.code, lf.comment, firstStore(lf)); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if _, err := p.client.PublishFunction(ctx, &cf.PublishFunctionInput{Name: aws.String(p.fnName(f)), IfMatch: aws.String(lf.devETag)}); err != nil {
			problems = append(problems, p.apiError("republish the previous code of "+p.fnName(f), err).Error())
		}
	}
	if err := p.restoreWAF(ctx, l); err != nil {
		problems = append(problems, err.Error())
	}
	if err := p.restoreHeaders(ctx, l.headers); err != nil {
		problems = append(problems, err.Error())
	}
	if err := p.restoreAssociations(ctx, l.dist); err != nil {
		problems = append(problems, err.Error())
	}
	tr := providers.TargetReport{Target: Name, Status: providers.StatusRestored, Version: prev, Previous: prev, Error: cause.Error()}
	if len(problems) > 0 {
		tr.Status = providers.StatusRestoreFailed
		tr.Error += "; restoring failed: " + strings.Join(problems, "; ") + ": check the functions and the distribution's associations by hand"
		cause = fmt.Errorf("%w; restoring failed too: %s", cause, strings.Join(problems, "; "))
	} else {
		cause = fmt.Errorf("%w; the previous code and associations were put back", cause)
	}
	return &providers.PartialError{Report: &providers.Report{Targets: []providers.TargetReport{tr}}, Err: cause}
}

// restoreAssociations gives every cache behavior of the live distribution the function associations it
// had in old, when they differ; only the associations are touched.
func (p *Provider) restoreAssociations(ctx context.Context, old *types.DistributionConfig) error {
	out, err := p.client.GetDistributionConfig(ctx, &cf.GetDistributionConfigInput{Id: aws.String(p.distID)})
	if err != nil {
		return p.apiError("read the config of distribution "+p.distID, err)
	}
	dc := out.DistributionConfig
	_, oldAssocs, _ := behaviors(old)
	_, curAssocs, _ := behaviors(dc)
	if len(oldAssocs) != len(curAssocs) {
		return fmt.Errorf("providers/%s: distribution %s: its cache behaviors changed meanwhile, so the associations were not put back", Name, p.distID)
	}
	differs := aws.ToString(dc.WebACLId) != aws.ToString(old.WebACLId)
	dc.WebACLId = old.WebACLId
	differs = restoreHeaderIDs(dc, old) || differs
	for i := range curAssocs {
		if !sameAssociations(*oldAssocs[i], *curAssocs[i]) {
			*curAssocs[i] = *oldAssocs[i]
			differs = true
		}
	}
	if !differs {
		return nil
	}
	return p.updateDistribution(ctx, dc, aws.ToString(out.ETag), "put the previous function associations back")
}

func sameAssociations(a, b *types.FunctionAssociations) bool {
	var x, y []types.FunctionAssociation
	if a != nil {
		x = a.Items
	}
	if b != nil {
		y = b.Items
	}
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i].EventType != y[i].EventType || aws.ToString(x[i].FunctionARN) != aws.ToString(y[i].FunctionARN) {
			return false
		}
	}
	return true
}

// Rollback implements providers.Provider: CloudFront keeps no function history, so the code of the version
// to return to comes from the restore point (a failed apply's) or from the deploy records, and is
// uploaded and published again, with the associations it had. Going back to "nothing deployed" removes
// edgegw's associations and leaves the functions unassociated.
func (p *Provider) Rollback(ctx context.Context, rp providers.RestorePoint, rec providers.DeployRecord) (*providers.Result, error) {
	if _, ok := rp.Detail[detailLambda]; ok || strings.HasPrefix(rp.Version, "lambda-") {
		return p.rollbackLambda(ctx, rp, rec)
	}
	l, err := p.readLive(ctx)
	if err != nil {
		return nil, err
	}
	recs, _ := p.readRecords()
	rec.Target, rec.Version, rec.Seq = Name, rp.Version, len(recs)+1
	if rp.Version == "" {
		none := map[string][]byte{headersPolicyFile: nil} // edgegw's response headers policy comes off too
		if err := p.loadHeaders(ctx, &l.headers, l.dist, none); err != nil {
			return nil, err
		}
		dc := copyConfig(l.dist)
		if p.dissociate(dc)+p.attachHeaders(l.headers, dc, none) > 0 {
			if err := p.updateDistribution(ctx, dc, l.distETag, "remove edgegw's function associations (nothing was deployed before)"); err != nil {
				return nil, err
			}
		}
		if err := p.writeRecord(rec, nil); err != nil {
			return nil, err
		}
		return &providers.Result{Target: Name, Version: "", Record: rec.Seq}, nil
	}
	codes, err := codeOf(rp, recs)
	if err != nil {
		return nil, err
	}
	// The version's route keys go back before its code (kvsroutes.go).
	if p.pendingRoutes, err = p.prepareRollbackRoutes(ctx, recs, rp.Version); err != nil {
		return nil, err
	}
	if rp.Detail != nil && rp.Detail[detailAssociated] == "" && rp.Detail[functions[0].artifact] != "" {
		// The version was live but not associated (a hand-made function): publish it back, and leave
		// the distribution's associations as the rollback found them.
		return p.shipUnassociated(ctx, l, codes, rec)
	}
	return p.ship(ctx, l, codes, rec, false)
}

// shipUnassociated publishes codes without touching the distribution.
func (p *Provider) shipUnassociated(ctx context.Context, l *liveState, codes map[string][]byte, rec providers.DeployRecord) (*providers.Result, error) {
	note := comment(rec, rec.Version)
	for _, f := range functions {
		lf := l.fns[f.artifact]
		if lf.live && bytes.Equal(lf.code, codes[f.artifact]) {
			continue
		}
		if err := p.upload(ctx, f, lf, codes[f.artifact], note, firstStore(lf)); err != nil {
			return nil, err
		}
		if _, err := p.client.PublishFunction(ctx, &cf.PublishFunctionInput{Name: aws.String(p.fnName(f)), IfMatch: aws.String(lf.devETag)}); err != nil {
			return nil, p.apiError("publish function "+p.fnName(f), err)
		}
	}
	dc := copyConfig(l.dist)
	if p.dissociate(dc) > 0 {
		if err := p.updateDistribution(ctx, dc, l.distETag, "remove edgegw's function associations"); err != nil {
			return nil, err
		}
	}
	if err := p.writeRecord(rec, codes); err != nil {
		return nil, err
	}
	return &providers.Result{Target: Name, Version: rec.Version, Record: rec.Seq}, nil
}

// codeOf finds the code of version rp.Version: in the restore point, or in a deploy record that shipped
// it or replaced it.
func codeOf(rp providers.RestorePoint, recs []storedRecord) (map[string][]byte, error) {
	if c, ok := detailCode(rp.Detail); ok {
		return c, nil
	}
	for i := len(recs) - 1; i >= 0; i-- {
		r := recs[i]
		if r.Record.Version == rp.Version && len(r.Code) >= len(functions) {
			return r.Code, nil
		}
		if r.Record.Previous.Version == rp.Version {
			if c, ok := detailCode(r.Record.Previous.Detail); ok {
				return c, nil
			}
		}
	}
	return nil, fmt.Errorf("providers/%s: no deploy record keeps the code of version %s (CloudFront keeps no function history): roll back with `edgegw rollback --to <git-ref>`, which renders the manifest as it was", Name, rp.Version)
}

func detailCode(d map[string]string) (map[string][]byte, bool) {
	out := map[string][]byte{}
	for _, f := range functions {
		c, err := decodeCode(d[f.artifact])
		if d[f.artifact] == "" || err != nil {
			return nil, false
		}
		out[f.artifact] = c
	}
	if s, ok := d[wafFile]; ok {
		if c, err := decodeCode(s); err == nil {
			out[wafFile] = c
		}
	}
	headersFromDetail(d, out)
	return out, true
}

// History implements providers.Provider from the deploy records kept under RecordsDir.
func (p *Provider) History(ctx context.Context) ([]providers.DeployRecord, error) {
	recs, err := p.readRecords()
	out := make([]providers.DeployRecord, len(recs))
	for i, r := range recs {
		out[i] = r.Record
	}
	return out, err
}

// ReportProgress implements providers.ProgressReporter: Verify reports the distribution's propagation there.
func (p *Provider) ReportProgress(f func(providers.Progress)) {
	if f != nil {
		p.progress = f
	}
}

// Verify implements providers.Verifier: it waits until the distribution has deployed the change
// everywhere (Status Deployed), reading it every poll interval and reporting each read as progress.
func (p *Provider) Verify(ctx context.Context, r *providers.Result) error {
	deadline := time.Now().Add(p.pollTimeout)
	for i := 0; ; i++ {
		out, err := p.client.GetDistribution(ctx, &cf.GetDistributionInput{Id: aws.String(p.distID)})
		if err != nil {
			return p.apiError("read the status of distribution "+p.distID, err)
		}
		status := ""
		if out.Distribution != nil {
			status = aws.ToString(out.Distribution.Status)
		}
		if status == "Deployed" {
			p.progress(providers.Progress{Target: Name, Step: "distribution deployed", Status: "done", Version: r.Version})
			return nil
		}
		p.progress(providers.Progress{Target: Name, Step: fmt.Sprintf("distribution deploying (status %s, check %d, next in %s)", status, i+1, p.pollInterval),
			Status: "start", Version: r.Version})
		if time.Now().Add(p.pollInterval).After(deadline) {
			return fmt.Errorf("providers/%s: distribution %s is still %s after %s: the change is live at some edge locations only; wait and check with `aws cloudfront get-distribution --id %s`, or roll back", Name, p.distID, status, p.pollTimeout, p.distID)
		}
		if err := p.sleep(ctx, p.pollInterval); err != nil {
			return errors.Join(fmt.Errorf("providers/%s: waiting for distribution %s to deploy", Name, p.distID), err)
		}
	}
}

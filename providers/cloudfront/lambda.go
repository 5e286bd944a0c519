package cloudfront

// The lambda-edge-auth companion's deploy. When render produced the Lambda@Edge handler
// (render/cloudfront/lambdaedge) instead of the two CloudFront Functions, the gateway is one Lambda function,
// named by targets.cloudfront.lambda_function, in us-east-1 (where Lambda@Edge functions live), that the
// user created once with its execution role. Apply uploads the bundle as a zip (UpdateFunctionCode), waits
// until the update is done, publishes a numbered version (PublishVersion, pinned to the uploaded zip's
// SHA-256) and, in ONE UpdateDistribution (IfMatch the config's ETag), points every cache behavior's
// viewer-request, origin-request and viewer-response Lambda@Edge associations at that qualified ARN and
// removes edgegw's CloudFront Functions from the viewer events (CloudFront runs no CloudFront Function
// beside Lambda@Edge on viewer events). Lambda keeps the versions: a restore or rollback is one
// UpdateDistribution back to the previous qualified ARN.

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cf "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/providers/endpoint"
	"github.com/edgegw/edgegw/render"
	"github.com/edgegw/edgegw/render/cloudfront/lambdaedge"
)

// LambdaRuntime is the runtime the handler is built for; apply refuses a function with another.
const LambdaRuntime = ltypes.RuntimeNodejs20x

// detailLambda is the restore point's key for the qualified ARN that was associated ("" for none).
const detailLambda = "lambda_arn"

// lambdaEvents are the events the handler is associated with, in CloudFront's types.
var lambdaEvents = []types.EventType{types.EventTypeViewerRequest, types.EventTypeOriginRequest, types.EventTypeViewerResponse}

// lambdaOptions force the Lambda client to us-east-1 and point it at AWS_ENDPOINT_URL_LAMBDA when set.
func lambdaOptions(getenv func(string) string) (func(*lambda.Options), error) {
	base, ok, err := endpoint.Get(getenv, endpoint.AWSLambda)
	if err != nil {
		return nil, fmt.Errorf("providers/%s: %w", Name, err)
	}
	return func(o *lambda.Options) {
		o.Region = Region
		if ok {
			o.BaseEndpoint = aws.String(base)
		}
	}, nil
}

// lambdaArtifact returns the handler when the artifacts are the companion's.
func lambdaArtifact(arts []render.Artifact) (render.Artifact, bool) {
	for _, a := range arts {
		if a.Path == lambdaedge.File {
			return a, true
		}
	}
	return render.Artifact{}, false
}

// lambdaZip is the deployment package: the bundle as the module the function's handler names (index.js
// for index.handler), with a fixed time, so the same bundle always gives the same zip and CodeSha256.
func lambdaZip(module string, code []byte) ([]byte, error) {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	hdr := &zip.FileHeader{Name: module, Method: zip.Deflate, Modified: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)}
	hdr.SetMode(0o644)
	fw, err := w.CreateHeader(hdr)
	if err != nil {
		return nil, err
	}
	if _, err := fw.Write(code); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// codeSha is Lambda's CodeSha256 of a zip: base64 of its SHA-256.
func codeSha(zipped []byte) string {
	s := sha256.Sum256(zipped)
	return base64.StdEncoding.EncodeToString(s[:])
}

// lambdaVersion is edgegw's version id of a deployed zip: "lambda-" and the start of its SHA-256 in hex.
func lambdaVersion(sha string) string {
	raw, err := base64.StdEncoding.DecodeString(sha)
	if err != nil || len(raw) < 6 {
		return "lambda-" + sha
	}
	return "lambda-" + hex.EncodeToString(raw)[:12]
}

// lambdaLive is what the companion's plan and apply read.
type lambdaLive struct {
	dist      *types.DistributionConfig
	distETag  string
	arn       string // the function's unqualified ARN
	module    string // the file the function's handler loads
	revision  string // $LATEST's revision, for UpdateFunctionCode
	assoc     string // the qualified ARN the default behavior runs on viewer-request, "" for none of ours
	assocSha  string // that version's CodeSha256
	assocRoot string // the prefix of our qualified ARNs (arn + ":")

	headers *liveHeaders // edgegw's response headers policy, once something needs it (headers.go)
}

func (l *lambdaLive) token() string {
	return "dist:" + l.distETag + " lambda:" + l.assoc + l.headers.token()
}

func (l *lambdaLive) version() string {
	if l.assoc == "" {
		return ""
	}
	return lambdaVersion(l.assocSha)
}

func (p *Provider) lambdaName() (string, error) {
	if p.lambdaFn == "" {
		return "", fmt.Errorf("providers/%s: the gateway renders as the %s companion, and targets.cloudfront has no lambda_function: create the Lambda@Edge function once in us-east-1 (runtime %s, an execution role edgelambda.amazonaws.com can assume) and name it in targets.cloudfront.lambda_function", Name, lambdaedge.Companion, LambdaRuntime)
	}
	return p.lambdaFn, nil
}

func (p *Provider) lambdaError(what string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "ResourceNotFoundException":
			return fmt.Errorf("providers/%s: %s: no Lambda function %s in %s: create it once (runtime %s) or fix targets.cloudfront.lambda_function", Name, what, p.lambdaFn, Region, LambdaRuntime)
		case "AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException":
			return &providers.CredentialsError{Target: Name, Var: CredentialsHint,
				Err: fmt.Errorf("%s: AWS refused the credentials (%s): give them lambda:GetFunction*, lambda:UpdateFunctionCode, lambda:PublishVersion and lambda:EnableReplication*", what, ae.ErrorCode())}
		case "PreconditionFailedException":
			return &providers.StalePlanError{Target: Name, Reason: what + ": Lambda refused the revision id: someone changed the function meanwhile"}
		}
	}
	return fmt.Errorf("providers/%s: %s: %w", Name, what, err)
}

func (p *Provider) readLambda(ctx context.Context) (*lambdaLive, error) {
	name, err := p.lambdaName()
	if err != nil {
		return nil, err
	}
	l := &lambdaLive{}
	fn, err := p.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)})
	if err != nil {
		return nil, p.lambdaError("read function "+name, err)
	}
	if fn.Runtime != LambdaRuntime {
		return nil, fmt.Errorf("providers/%s: Lambda function %s runs %s, and the rendered handler is built for %s: update the function's runtime", Name, name, fn.Runtime, LambdaRuntime)
	}
	handler := aws.ToString(fn.Handler)
	mod, fnName, ok := strings.Cut(handler, ".")
	if !ok || fnName != "handler" || mod == "" {
		return nil, fmt.Errorf("providers/%s: Lambda function %s has handler %q: set it to index.handler (the bundle exports handler)", Name, name, handler)
	}
	l.module, l.arn, l.revision = mod+".js", aws.ToString(fn.FunctionArn), aws.ToString(fn.RevisionId)
	// GetFunctionConfiguration of $LATEST answers the unqualified ARN; a qualified one ends in :N.
	l.assocRoot = l.arn + ":"
	out, err := p.client.GetDistributionConfig(ctx, &cf.GetDistributionConfigInput{Id: aws.String(p.distID)})
	if err != nil {
		return nil, p.apiError("read the config of distribution "+p.distID, err)
	}
	if out.DistributionConfig == nil {
		return nil, fmt.Errorf("providers/%s: distribution %s: CloudFront answered no config", Name, p.distID)
	}
	l.dist, l.distETag = out.DistributionConfig, aws.ToString(out.ETag)
	if d := l.dist.DefaultCacheBehavior; d != nil && d.LambdaFunctionAssociations != nil {
		for _, a := range d.LambdaFunctionAssociations.Items {
			if a.EventType == types.EventTypeViewerRequest && strings.HasPrefix(aws.ToString(a.LambdaFunctionARN), l.assocRoot) {
				l.assoc = aws.ToString(a.LambdaFunctionARN)
			}
		}
	}
	if l.assoc != "" {
		v, err := p.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name), Qualifier: aws.String(strings.TrimPrefix(l.assoc, l.assocRoot))})
		if err != nil {
			return nil, p.lambdaError("read the associated version "+l.assoc, err)
		}
		l.assocSha = aws.ToString(v.CodeSha256)
	}
	return l, nil
}

// associateLambda points every cache behavior of dc at arn ("" removes edgegw's associations) on the
// handler's events and removes edgegw's CloudFront Functions from the viewer events. It refuses a behavior
// that runs another Lambda@Edge function on one of those events, or another CloudFront Function on a
// viewer event. It returns how many behaviors changed.
func (p *Provider) associateLambda(dc *types.DistributionConfig, root, arn string) (int, error) {
	names, assocs, _ := behaviors(dc)
	var lambdas []**types.LambdaFunctionAssociations
	if dc.DefaultCacheBehavior != nil {
		lambdas = append(lambdas, &dc.DefaultCacheBehavior.LambdaFunctionAssociations)
	}
	if dc.CacheBehaviors != nil {
		for i := range dc.CacheBehaviors.Items {
			lambdas = append(lambdas, &dc.CacheBehaviors.Items[i].LambdaFunctionAssociations)
		}
	}
	changed := 0
	for i := range lambdas {
		var items []types.LambdaFunctionAssociation
		if *lambdas[i] != nil {
			items = (*lambdas[i]).Items
		}
		var out []types.LambdaFunctionAssociation
		differs := false
		for _, it := range items {
			mine := strings.HasPrefix(aws.ToString(it.LambdaFunctionARN), root)
			ours := false
			for _, ev := range lambdaEvents {
				ours = ours || it.EventType == ev
			}
			switch {
			case ours && !mine:
				return 0, fmt.Errorf("providers/%s: distribution %s: %s runs the Lambda@Edge function %s on %s, where the gateway's handler must run (one function per event): remove that association", Name, p.distID, names[i], aws.ToString(it.LambdaFunctionARN), it.EventType)
			case mine && !ours:
				differs = true // an event edgegw no longer uses
			case mine:
				if aws.ToString(it.LambdaFunctionARN) != arn {
					differs = true
				}
			default:
				out = append(out, it)
			}
		}
		if arn != "" {
			for _, ev := range lambdaEvents {
				found := false
				for _, it := range items {
					found = found || (it.EventType == ev && aws.ToString(it.LambdaFunctionARN) == arn)
				}
				differs = differs || !found
				out = append(out, types.LambdaFunctionAssociation{EventType: ev, LambdaFunctionARN: aws.String(arn), IncludeBody: aws.Bool(false)})
			}
		}
		// CloudFront Functions: edgegw's leave the viewer events; another one there cannot stay beside Lambda@Edge.
		var fns []types.FunctionAssociation
		if *assocs[i] != nil {
			for _, it := range (*assocs[i]).Items {
				viewer := it.EventType == types.EventTypeViewerRequest || it.EventType == types.EventTypeViewerResponse
				got := aws.ToString(it.FunctionARN)
				mine := strings.HasSuffix(got, ":function/"+p.base+"-viewer-request") || strings.HasSuffix(got, ":function/"+p.base+"-viewer-response")
				switch {
				case viewer && mine && arn != "":
					differs = true
				case viewer && !mine && arn != "":
					return 0, fmt.Errorf("providers/%s: distribution %s: %s runs the CloudFront Function %s on %s, and CloudFront runs no CloudFront Function beside Lambda@Edge on viewer events: remove that association", Name, p.distID, names[i], got, it.EventType)
				default:
					fns = append(fns, it)
				}
			}
		}
		if differs {
			changed++
			*lambdas[i] = &types.LambdaFunctionAssociations{Quantity: aws.Int32(int32(len(out))), Items: out}
			*assocs[i] = &types.FunctionAssociations{Quantity: aws.Int32(int32(len(fns))), Items: fns}
		}
	}
	return changed, nil
}

// planLambda is Plan for the companion: the associated version's zip against the rendered bundle's.
func (p *Provider) planLambda(ctx context.Context, in providers.PlanInput, art render.Artifact) (*providers.TargetPlan, error) {
	l, err := p.readLambda(ctx)
	if err != nil {
		return nil, err
	}
	hcodes := headersCodes(in.Artifacts)
	if err := p.loadHeaders(ctx, &l.headers, l.dist, hcodes); err != nil {
		return nil, err
	}
	zipped, err := lambdaZip(l.module, art.Data)
	if err != nil {
		return nil, err
	}
	recs, rerr := p.readRecords()
	state := providers.LiveState{Token: l.token(), Version: l.version(), Detail: map[string]string{detailLambda: l.assoc, headersPolicyFile: headersDetail(l.headers, l.dist)}}
	switch {
	case l.assoc == "":
	case l.assocSha == codeSha(zipped):
		// The same deterministic zip: the live code is the rendered bundle.
		state.Artifacts = []render.Artifact{art}
		if a := headersArtifact(l.headers, l.dist, in.Artifacts); a != nil {
			state.Artifacts = append(state.Artifacts, *a)
		}
	default:
		if r := lastRecordOf(recs, state.Version); r != nil {
			rec := r.Record
			state.Record = &rec
		}
	}
	if err := p.checkOrigins(in.Gateway, l.dist); err != nil {
		return nil, err
	}
	tp := providers.Diff(Name, "cloudfront", state, in)
	if rerr != nil {
		tp.Warnings = append(tp.Warnings, rerr.Error())
	}
	target := l.assoc
	if l.assoc == "" || l.assocSha != codeSha(zipped) {
		target = l.assocRoot + "(new)" // the version apply publishes
	}
	n, err := p.associateLambda(copyConfig(l.dist), l.assocRoot, target)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		tp.Changes = append(tp.Changes, providers.Change{Action: providers.Update, Kind: "association",
			Name: fmt.Sprintf("distribution %s: %d cache behavior(s) to run a new version of Lambda@Edge function %s on %s", p.distID, n, p.lambdaFn, strings.Join(lambdaedge.Events, ", "))})
	}
	hch, hwarn, err := p.planHeaders(l.headers, l.dist, hcodes)
	if err != nil {
		return nil, err
	}
	tp.Changes, tp.Warnings = append(tp.Changes, hch...), append(tp.Warnings, hwarn...)
	return tp, nil
}

// applyLambda is Apply for the companion.
func (p *Provider) applyLambda(ctx context.Context, tp *providers.TargetPlan, rec providers.DeployRecord, art render.Artifact) (*providers.Result, error) {
	l, err := p.readLambda(ctx)
	if err != nil {
		return nil, err
	}
	codes := headersCodes(tp.RenderedArtifacts())
	if err := p.loadHeaders(ctx, &l.headers, l.dist, codes); err != nil {
		return nil, err
	}
	if tok := l.token(); tok != tp.BaseToken {
		return nil, &providers.StalePlanError{Target: Name, Reason: fmt.Sprintf("the distribution or its Lambda@Edge association moved since the plan was made (%q, now %q)", tp.BaseToken, tok)}
	}
	zipped, err := lambdaZip(l.module, art.Data)
	if err != nil {
		return nil, err
	}
	sha := codeSha(zipped)
	recs, _ := p.readRecords()
	rec.Target, rec.Version, rec.Seq = Name, lambdaVersion(sha), len(recs)+1
	if rec.Previous.Target == "" {
		rec.Previous = providers.RestorePoint{Target: Name, Version: l.version(), Detail: map[string]string{detailLambda: l.assoc, headersPolicyFile: headersDetail(l.headers, l.dist)}}
	}
	if err := p.checkHeaders(l.headers, l.dist, codes); err != nil {
		return nil, err
	}
	arn := l.assoc
	if l.assoc == "" || l.assocSha != sha {
		if arn, err = p.publishLambda(ctx, l, zipped, sha); err != nil {
			return nil, err
		}
	}
	dc := copyConfig(l.dist)
	n, err := p.associateLambda(dc, l.assocRoot, arn)
	if err != nil {
		return nil, err
	}
	// The response headers policy is written before the distribution points at it.
	if err := p.shipHeaders(ctx, l.headers, codes, comment(rec, rec.Version)); err != nil {
		return nil, err
	}
	if n += p.attachHeaders(l.headers, dc, codes); n > 0 {
		// Nothing was switched before this call but the policy's config: a refused update leaves the
		// previous version live, and the previous config is put back.
		if err := p.updateDistribution(ctx, dc, l.distETag, fmt.Sprintf("run %s on %d cache behavior(s)", arn, n)); err != nil {
			if l.headers.wrote() {
				return nil, p.restoreLambda(ctx, l, rec.Previous.Version, err)
			}
			return nil, err
		}
	}
	codes[lambdaedge.File] = art.Data
	if err := p.writeRecord(rec, codes); err != nil {
		cause := fmt.Errorf("providers/%s: write the deploy record: %w", Name, err)
		return nil, p.restoreLambda(ctx, l, rec.Previous.Version, cause)
	}
	return &providers.Result{Target: Name, Version: rec.Version, Record: rec.Seq}, nil
}

// publishLambda uploads the zip, waits until Lambda has applied it and publishes it as a numbered version
// pinned to its SHA-256; it returns the version's qualified ARN.
func (p *Provider) publishLambda(ctx context.Context, l *lambdaLive, zipped []byte, sha string) (string, error) {
	name := p.lambdaFn
	up, err := p.lambda.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(name), ZipFile: zipped, RevisionId: aws.String(l.revision)})
	if err != nil {
		return "", p.lambdaError("update the code of function "+name, err)
	}
	if got := aws.ToString(up.CodeSha256); got != "" && got != sha {
		return "", fmt.Errorf("providers/%s: function %s: Lambda stored code with SHA-256 %s, edgegw uploaded %s: retry the apply", Name, name, got, sha)
	}
	minDelay := p.pollInterval
	if minDelay > 5*time.Second {
		minDelay = 5 * time.Second
	}
	w := lambda.NewFunctionUpdatedV2Waiter(p.lambda, func(o *lambda.FunctionUpdatedV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = minDelay, max(minDelay, 30*time.Second)
	})
	if err := w.Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)}, 5*time.Minute); err != nil {
		return "", p.lambdaError("wait for the code update of function "+name, err)
	}
	pv, err := p.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(name), CodeSha256: aws.String(sha),
		Description: aws.String(strings.TrimSpace(commentPrefix + lambdaVersion(sha)))})
	if err != nil {
		return "", p.lambdaError("publish a version of function "+name, err)
	}
	arn := aws.ToString(pv.FunctionArn)
	if !strings.HasPrefix(arn, l.assocRoot) {
		arn = l.assocRoot + aws.ToString(pv.Version)
	}
	return arn, nil
}

// restoreLambda puts the associations read in l back, in one UpdateDistribution.
func (p *Provider) restoreLambda(ctx context.Context, l *lambdaLive, prev string, cause error) error {
	tr := providers.TargetReport{Target: Name, Status: providers.StatusRestored, Version: prev, Previous: prev, Error: cause.Error()}
	out, err := p.client.GetDistributionConfig(ctx, &cf.GetDistributionConfigInput{Id: aws.String(p.distID)})
	if err == nil {
		dc := out.DistributionConfig
		if _, err = p.associateLambda(dc, l.assocRoot, l.assoc); err == nil {
			restoreFunctions(dc, l.dist)
			restoreHeaderIDs(dc, l.dist)
			err = p.updateDistribution(ctx, dc, aws.ToString(out.ETag), "put the previous Lambda@Edge association back")
		}
	}
	err = errors.Join(err, p.restoreHeaders(ctx, l.headers))
	if err != nil {
		tr.Status = providers.StatusRestoreFailed
		tr.Error += "; restoring failed: " + err.Error() + ": check the distribution's associations by hand"
		cause = fmt.Errorf("%w; restoring failed too: %v", cause, err)
	} else {
		cause = fmt.Errorf("%w; the previous association was put back", cause)
	}
	return &providers.PartialError{Report: &providers.Report{Targets: []providers.TargetReport{tr}}, Err: cause}
}

// restoreFunctions copies the CloudFront Function associations of old onto dc, behavior by behavior.
func restoreFunctions(dc, old *types.DistributionConfig) {
	_, cur, _ := behaviors(dc)
	_, prev, _ := behaviors(old)
	if len(cur) != len(prev) {
		return
	}
	for i := range cur {
		*cur[i] = *prev[i]
	}
}

// rollbackLambda is Rollback for the companion: one UpdateDistribution back to the restore point's
// qualified ARN (Lambda keeps every published version).
func (p *Provider) rollbackLambda(ctx context.Context, rp providers.RestorePoint, rec providers.DeployRecord) (*providers.Result, error) {
	l, err := p.readLambda(ctx)
	if err != nil {
		return nil, err
	}
	recs, _ := p.readRecords()
	to := rp.Detail[detailLambda]
	if to == "" && rp.Version != "" {
		// rollback --version: the qualified ARN of a version is in the restore point of the deploy that
		// replaced it.
		for _, r := range recs {
			if r.Record.Previous.Version == rp.Version && r.Record.Previous.Detail[detailLambda] != "" {
				to = r.Record.Previous.Detail[detailLambda]
			}
		}
		if to == "" {
			return nil, fmt.Errorf("providers/%s: no deploy record names the Lambda@Edge version of %s: roll back with `edgegw rollback --to REF`", Name, rp.Version)
		}
	}
	if to != "" && !strings.HasPrefix(to, l.assocRoot) {
		return nil, fmt.Errorf("providers/%s: the restore point names %s, not a version of %s: roll back with `edgegw rollback --to REF`", Name, to, l.arn)
	}
	rec.Target, rec.Version, rec.Seq = Name, rp.Version, len(recs)+1
	// The response headers policy of that version: its config, none, or (a record older than the policy)
	// left as it is.
	codes := map[string][]byte{}
	if doc, ok := headersOf(rp, recs); ok || to == "" {
		codes[headersPolicyFile] = doc
	}
	if err := p.loadHeaders(ctx, &l.headers, l.dist, codes); err != nil {
		return nil, err
	}
	if err := p.checkHeaders(l.headers, l.dist, codes); err != nil {
		return nil, err
	}
	// What the rollback replaces, so that a later rollback --version can find this version's ARN.
	rec.Previous = providers.RestorePoint{Target: Name, Version: l.version(), Detail: map[string]string{detailLambda: l.assoc, headersPolicyFile: headersDetail(l.headers, l.dist)}}
	dc := copyConfig(l.dist)
	n, err := p.associateLambda(dc, l.assocRoot, to)
	if err != nil {
		return nil, err
	}
	if err := p.shipHeaders(ctx, l.headers, codes, comment(rec, rec.Version)); err != nil {
		return nil, err
	}
	if n += p.attachHeaders(l.headers, dc, codes); n > 0 {
		if err := p.updateDistribution(ctx, dc, l.distETag, "run "+orNone(to)+" again"); err != nil {
			if l.headers.wrote() {
				return nil, p.restoreLambda(ctx, l, l.version(), err)
			}
			return nil, err
		}
	}
	if err := p.writeRecord(rec, codes); err != nil {
		return nil, err
	}
	return &providers.Result{Target: Name, Version: rp.Version, Record: rec.Seq}, nil
}

func orNone(s string) string {
	if s == "" {
		return "no Lambda@Edge function"
	}
	return s
}

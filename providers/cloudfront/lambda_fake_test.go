package cloudfront_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/edgegw/edgegw/providers/apitest"
)

// fakeLambda is the Lambda API on an apitest server, speaking the REST-JSON shape aws-sdk-go-v2's lambda
// client sends and reads, for the calls the companion's deploy makes: GetFunctionConfiguration ($LATEST or
// a version), GetFunction (the waiter), UpdateFunctionCode and PublishVersion. It keeps Lambda's rules: a
// code update is InProgress for a few reads (publishing meanwhile is 409 ResourceConflictException), a
// revision id or CodeSha256 that does not match is 412 PreconditionFailedException, and versions are
// numbered from 1 and immutable. Faults (throttling, 5xx) are injected per call.
type fakeLambda struct {
	*apitest.Server
	t testing.TB

	mu       sync.Mutex
	name     string
	runtime  string
	zip      []byte // $LATEST
	revision int
	updating int // GetFunction reads still answering InProgress
	versions [][]byte
	faults   *apitest.Faults
}

func newFakeLambda(t testing.TB, name string) *fakeLambda {
	f := &fakeLambda{Server: apitest.New(t), t: t, name: name, runtime: "nodejs20.x", zip: []byte("seed"), revision: 1}
	f.Register(apitest.MatchFunc("the fake Lambda API", func(*apitest.Request) bool { return true }), f.serve).Always()
	f.faults = apitest.NewFaults(t, "fake lambda")
	return f
}

func (f *fakeLambda) inject(m apitest.Matcher, respond apitest.Responder) { f.faults.Add(m, respond) }

func (f *fakeLambda) arn() string {
	return "arn:aws:lambda:us-east-1:" + account + ":function:" + f.name
}

func lambdaError(status int, code, msg string) apitest.Responder {
	return func(w http.ResponseWriter, r *apitest.Request) {
		w.Header().Set("X-Amzn-ErrorType", code)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": msg})
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(s[:])
}

func (f *fakeLambda) config(version string, zipped []byte, status string) map[string]any {
	arn := f.arn()
	if version != "$LATEST" {
		arn += ":" + version
	}
	return map[string]any{"FunctionName": f.name, "FunctionArn": arn, "Runtime": f.runtime, "Handler": "index.handler",
		"CodeSha256": sha(zipped), "CodeSize": len(zipped), "Version": version, "RevisionId": fmt.Sprintf("rev-%d", f.revision),
		"State": "Active", "LastUpdateStatus": status}
}

func (f *fakeLambda) status() string {
	if f.updating > 0 {
		return "InProgress"
	}
	return "Successful"
}

func (f *fakeLambda) serve(w http.ResponseWriter, r *apitest.Request) {
	if respond, ok := f.faults.Take(r); ok {
		respond(w, r)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	rest, ok := strings.CutPrefix(r.Path, "/2015-03-31/functions/")
	segs := strings.Split(rest, "/")
	if !ok || (segs[0] != f.name && segs[0] != f.arn()) {
		lambdaError(http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+r.Path)(w, r)
		return
	}
	op := ""
	if len(segs) > 1 {
		op = segs[1]
	}
	switch {
	case r.Method == http.MethodGet && op == "configuration":
		q := r.Query.Get("Qualifier")
		if q == "" || q == "$LATEST" {
			apitest.JSON(http.StatusOK, f.config("$LATEST", f.zip, f.status()))(w, r)
			return
		}
		var n int
		if _, err := fmt.Sscanf(q, "%d", &n); err != nil || n < 1 || n > len(f.versions) {
			lambdaError(http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+f.arn()+":"+q)(w, r)
			return
		}
		apitest.JSON(http.StatusOK, f.config(q, f.versions[n-1], "Successful"))(w, r)
	case r.Method == http.MethodGet && op == "":
		st := f.status()
		if f.updating > 0 {
			f.updating--
		}
		apitest.JSON(http.StatusOK, map[string]any{"Configuration": f.config("$LATEST", f.zip, st), "Code": map[string]string{"RepositoryType": "S3", "Location": "https://example.invalid/code.zip"}})(w, r)
	case r.Method == http.MethodPut && op == "code":
		var in struct {
			ZipFile    []byte
			RevisionId string
		}
		if err := json.Unmarshal(r.Body, &in); err != nil || len(in.ZipFile) == 0 {
			lambdaError(http.StatusBadRequest, "InvalidParameterValueException", "no ZipFile")(w, r)
			return
		}
		if in.RevisionId != "" && in.RevisionId != fmt.Sprintf("rev-%d", f.revision) {
			lambdaError(http.StatusPreconditionFailed, "PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id.")(w, r)
			return
		}
		if _, err := zip.NewReader(bytes.NewReader(in.ZipFile), int64(len(in.ZipFile))); err != nil {
			lambdaError(http.StatusBadRequest, "InvalidParameterValueException", "Could not unzip uploaded file")(w, r)
			return
		}
		f.zip, f.revision, f.updating = in.ZipFile, f.revision+1, 2
		apitest.JSON(http.StatusOK, f.config("$LATEST", f.zip, "InProgress"))(w, r)
	case r.Method == http.MethodPost && op == "versions":
		var in struct{ CodeSha256, RevisionId string }
		_ = json.Unmarshal(r.Body, &in)
		if f.updating > 0 {
			lambdaError(http.StatusConflict, "ResourceConflictException", "The operation cannot be performed at this time. An update is in progress for resource: "+f.arn())(w, r)
			return
		}
		if in.CodeSha256 != "" && in.CodeSha256 != sha(f.zip) {
			lambdaError(http.StatusPreconditionFailed, "PreconditionFailedException", "CodeSha256 does not match")(w, r)
			return
		}
		if n := len(f.versions); n > 0 && bytes.Equal(f.versions[n-1], f.zip) {
			apitest.JSON(http.StatusCreated, f.config(fmt.Sprint(n), f.zip, "Successful"))(w, r) // Lambda publishes no duplicate
			return
		}
		f.versions = append(f.versions, f.zip)
		apitest.JSON(http.StatusCreated, f.config(fmt.Sprint(len(f.versions)), f.zip, "Successful"))(w, r)
	default:
		lambdaError(http.StatusNotFound, "NotImplemented", "fake lambda: no such call "+r.Method+" "+r.Path)(w, r)
	}
}

// versionCode returns the module index.js of published version n (1-based).
func (f *fakeLambda) versionCode(n int) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n < 1 || n > len(f.versions) {
		return nil
	}
	z, err := zip.NewReader(bytes.NewReader(f.versions[n-1]), int64(len(f.versions[n-1])))
	if err != nil {
		f.t.Fatal(err)
	}
	for _, file := range z.File {
		if file.Name == "index.js" {
			rc, _ := file.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			return b
		}
	}
	return nil
}

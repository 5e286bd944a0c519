package cloudfront_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/internal/testenv"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers/apitest"
	"github.com/edgegw/edgegw/render/cloudfront/njs"
)

// fakeCloudFront is the CloudFront API on an apitest server, speaking the REST-XML shape aws-sdk-go-v2's
// cloudfront client sends and reads, for the calls the provider makes: functions (describe per stage, get
// code, create, update, test, publish) and distributions (get, get and update the config). It keeps
// CloudFront's rules: UpdateFunction, TestFunction and PublishFunction need the stage's ETag in If-Match
// (missing: 400 InvalidIfMatchVersion; another: 412 PreconditionFailed), UpdateDistribution the config's,
// publishing copies DEVELOPMENT to LIVE, and an updated distribution is InProgress for a few reads.
// UpdateFunction's ETag goes in the header CloudFront sends (ETag), which the SDK does not read (it reads
// "ETtag"). TestFunction runs the function's code in njs on the event, as CloudFront runs it.
type fakeCloudFront struct {
	*apitest.Server
	t testing.TB

	mu        sync.Mutex
	fns       map[string]*fakeFunction
	distID    string
	dist      []byte // the DistributionConfig XML as last written
	distETag  string
	deploying int  // GetDistribution reads still answering InProgress
	stuck     bool // every GetDistribution answers InProgress
	seq       int
	faults    *apitest.Faults
	// utilization is the ComputeUtilization TestFunction reports.
	utilization string
	njs         *njs.Instance
	stores      map[string]*fakeStore // KeyValueStores by name (kvs_fake_test.go)
	policies    []*fakePolicy         // response headers policies, in creation order (headers_fake_test.go)
}

type fakeStage struct {
	code    []byte
	comment string
	etag    string
	kvs     string // the KeyValueStore ARN the stage associates
}

type fakeFunction struct {
	name      string
	dev, live *fakeStage
}

const (
	account = "123456789012"
	distID  = "E2EXAMPLE"
	apiPath = "/2020-05-31"
	xmlns   = "http://cloudfront.amazonaws.com/doc/2020-05-31/"
)

// seedDistribution has a default behavior, one more behavior with a Lambda@Edge function on
// origin-request (not edgegw's: it must survive every update), and a comment.
const seedDistribution = `<?xml version="1.0" encoding="UTF-8"?>
<DistributionConfig xmlns="` + xmlns + `"><CallerReference>hand-made</CallerReference><Origins><Quantity>1</Quantity><Items><Origin><Id>app</Id><DomainName>app.example.com</DomainName><CustomOriginConfig><HTTPPort>80</HTTPPort><HTTPSPort>443</HTTPSPort><OriginProtocolPolicy>https-only</OriginProtocolPolicy></CustomOriginConfig></Origin></Items></Origins><DefaultCacheBehavior><TargetOriginId>app</TargetOriginId><ViewerProtocolPolicy>redirect-to-https</ViewerProtocolPolicy><FunctionAssociations><Quantity>0</Quantity></FunctionAssociations></DefaultCacheBehavior><CacheBehaviors><Quantity>1</Quantity><Items><CacheBehavior><PathPattern>/static/*</PathPattern><TargetOriginId>app</TargetOriginId><ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy><LambdaFunctionAssociations><Quantity>1</Quantity><Items><LambdaFunctionAssociation><LambdaFunctionARN>arn:aws:lambda:us-east-1:123456789012:function:images:3</LambdaFunctionARN><EventType>origin-request</EventType></LambdaFunctionAssociation></Items></LambdaFunctionAssociations></CacheBehavior></Items></CacheBehaviors><Comment>the team's distribution</Comment><Enabled>true</Enabled></DistributionConfig>`

func requireNJS(t testing.TB) {
	t.Helper()
	_, err := exec.LookPath("njs")
	testenv.Require(t, "njs (Debian njs), which runs TestFunction in the fake CloudFront", err)
}

func newFake(t testing.TB, g *ir.Gateway) *fakeCloudFront {
	requireNJS(t)
	in, err := (&njs.Engine{}).OpenInstance(g, nil, testrun.Env{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	f := &fakeCloudFront{Server: apitest.New(t), t: t, fns: map[string]*fakeFunction{}, distID: distID,
		dist: []byte(seedDistribution), distETag: "EDIST1", utilization: "12", njs: in}
	f.Register(apitest.MatchFunc("the fake CloudFront API", func(*apitest.Request) bool { return true }), f.serve).Always()
	f.faults = apitest.NewFaults(t, "fake cloudfront")
	return f
}

// inject makes the next request m matches get respond's answer instead of the fake's.
func (f *fakeCloudFront) inject(m apitest.Matcher, respond apitest.Responder) {
	f.faults.Add(m, respond)
}

func (f *fakeCloudFront) etag(prefix string) string {
	f.seq++
	return fmt.Sprintf("%s%d", prefix, f.seq)
}

func (f *fakeCloudFront) arn(name string) string {
	return "arn:aws:cloudfront::" + account + ":function/" + name
}

// awsError answers CloudFront's REST-XML error shape.
func awsError(status int, code, msg string) apitest.Responder {
	body := fmt.Sprintf(`<?xml version="1.0"?><ErrorResponse xmlns="%s"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>fake</RequestId></ErrorResponse>`, xmlns, code, msg)
	return apitest.Bytes(status, "text/xml", []byte(body))
}

func throttled() apitest.Responder {
	return awsError(http.StatusBadRequest, "Throttling", "Rate exceeded")
}

func writeXML(w http.ResponseWriter, status int, etag, etagHeader string, body string) {
	w.Header().Set("Content-Type", "text/xml")
	if etag != "" {
		w.Header().Set(etagHeader, etag)
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + body))
}

func esc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func (f *fakeCloudFront) summary(fn *fakeFunction, st *fakeStage, stage string) string {
	status := "UNPUBLISHED"
	if fn.live != nil {
		status = "UNASSOCIATED"
		if strings.Contains(string(f.dist), f.arn(fn.name)) {
			status = "DEPLOYED"
		}
	}
	assoc := ""
	if st.kvs != "" {
		assoc = "<KeyValueStoreAssociations><Quantity>1</Quantity><Items><KeyValueStoreAssociation><KeyValueStoreARN>" + esc(st.kvs) + "</KeyValueStoreARN></KeyValueStoreAssociation></Items></KeyValueStoreAssociations>"
	}
	return fmt.Sprintf(`<FunctionSummary xmlns="%s"><Name>%s</Name><Status>%s</Status><FunctionConfig><Comment>%s</Comment><Runtime>cloudfront-js-2.0</Runtime>`+assoc+`</FunctionConfig><FunctionMetadata><FunctionARN>%s</FunctionARN><Stage>%s</Stage><CreatedTime>2026-01-02T03:04:05Z</CreatedTime><LastModifiedTime>2026-01-02T03:04:05Z</LastModifiedTime></FunctionMetadata></FunctionSummary>`,
		xmlns, esc(fn.name), status, esc(st.comment), f.arn(fn.name), stage)
}

type functionRequest struct {
	Name           string `xml:"Name"`
	FunctionConfig struct {
		Comment string `xml:"Comment"`
		Runtime string `xml:"Runtime"`
		KVS     string `xml:"KeyValueStoreAssociations>Items>KeyValueStoreAssociation>KeyValueStoreARN"`
	} `xml:"FunctionConfig"`
	FunctionCode string `xml:"FunctionCode"`
	Stage        string `xml:"Stage"`
	EventObject  string `xml:"EventObject"`
}

// ifMatch checks optimistic concurrency as CloudFront does; it answers and returns false on a refusal.
func ifMatch(w http.ResponseWriter, r *apitest.Request, etag string) bool {
	got := r.Header.Get("If-Match")
	switch {
	case got == "":
		awsError(http.StatusBadRequest, "InvalidIfMatchVersion", "The If-Match version is missing or not valid.")(w, r)
		return false
	case got != etag:
		awsError(http.StatusPreconditionFailed, "PreconditionFailed", "The precondition given in one or more of the request-header fields evaluated to false.")(w, r)
		return false
	}
	return true
}

func (f *fakeCloudFront) serve(w http.ResponseWriter, r *apitest.Request) {
	if respond, ok := f.faults.Take(r); ok {
		respond(w, r)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	path := strings.TrimPrefix(r.Path, apiPath)
	segs := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case segs[0] == "function" && len(segs) == 1 && r.Method == http.MethodPost:
		f.createFunction(w, r)
	case segs[0] == "function" && len(segs) >= 2:
		fn := f.fns[segs[1]]
		if fn == nil && !(len(segs) == 2 && r.Method == http.MethodPost) {
			awsError(http.StatusNotFound, "NoSuchFunctionExists", "The function does not exist.")(w, r)
			return
		}
		op := ""
		if len(segs) == 3 {
			op = segs[2]
		}
		f.function(w, r, fn, op)
	case segs[0] == "key-value-store":
		f.kvsControl(w, r, segs)
	case segs[0] == "key-value-stores":
		f.kvsData(w, r)
	case segs[0] == "response-headers-policy":
		f.headersPolicy(w, r, segs)
	case segs[0] == "distribution" && len(segs) >= 2:
		if segs[1] != f.distID {
			awsError(http.StatusNotFound, "NoSuchDistribution", "The specified distribution does not exist.")(w, r)
			return
		}
		f.distribution(w, r, len(segs) == 3 && segs[2] == "config")
	default:
		awsError(http.StatusNotFound, "NotImplemented", "fake cloudfront: no such call "+r.Method+" "+r.Path)(w, r)
	}
}

func (f *fakeCloudFront) createFunction(w http.ResponseWriter, r *apitest.Request) {
	var req functionRequest
	if err := xml.Unmarshal(r.Body, &req); err != nil {
		awsError(http.StatusBadRequest, "MalformedXML", err.Error())(w, r)
		return
	}
	if f.fns[req.Name] != nil {
		awsError(http.StatusConflict, "FunctionAlreadyExists", "A function with the same name already exists.")(w, r)
		return
	}
	code, err := base64.StdEncoding.DecodeString(req.FunctionCode)
	if err != nil || req.FunctionConfig.Runtime != "cloudfront-js-2.0" || len(req.FunctionConfig.Comment) > 128 {
		awsError(http.StatusBadRequest, "InvalidArgument", "bad code, runtime or comment")(w, r)
		return
	}
	fn := &fakeFunction{name: req.Name, dev: &fakeStage{code: code, comment: req.FunctionConfig.Comment, etag: f.etag("EDEV"), kvs: req.FunctionConfig.KVS}}
	f.fns[req.Name] = fn
	w.Header().Set("Location", "https://cloudfront.amazonaws.com"+apiPath+"/function/"+f.arn(req.Name))
	writeXML(w, http.StatusCreated, fn.dev.etag, "ETag", f.summary(fn, fn.dev, "DEVELOPMENT"))
}

func (f *fakeCloudFront) function(w http.ResponseWriter, r *apitest.Request, fn *fakeFunction, op string) {
	stageOf := func(s string) (*fakeStage, string) {
		if s == "LIVE" {
			return fn.live, "LIVE"
		}
		return fn.dev, "DEVELOPMENT"
	}
	switch {
	case op == "describe" && r.Method == http.MethodGet:
		st, name := stageOf(r.Query.Get("Stage"))
		if st == nil {
			awsError(http.StatusNotFound, "NoSuchFunctionExists", "The function does not exist in that stage.")(w, r)
			return
		}
		writeXML(w, http.StatusOK, st.etag, "ETag", f.summary(fn, st, name))
	case op == "" && r.Method == http.MethodGet:
		st, _ := stageOf(r.Query.Get("Stage"))
		if st == nil {
			awsError(http.StatusNotFound, "NoSuchFunctionExists", "The function does not exist in that stage.")(w, r)
			return
		}
		w.Header().Set("ETag", st.etag)
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(st.code)
	case op == "" && r.Method == http.MethodPut:
		if !ifMatch(w, r, fn.dev.etag) {
			return
		}
		var req functionRequest
		if err := xml.Unmarshal(r.Body, &req); err != nil {
			awsError(http.StatusBadRequest, "MalformedXML", err.Error())(w, r)
			return
		}
		code, err := base64.StdEncoding.DecodeString(req.FunctionCode)
		if err != nil || len(req.FunctionConfig.Comment) > 128 {
			awsError(http.StatusBadRequest, "InvalidArgument", "bad code or comment")(w, r)
			return
		}
		fn.dev = &fakeStage{code: code, comment: req.FunctionConfig.Comment, etag: f.etag("EDEV"), kvs: req.FunctionConfig.KVS}
		writeXML(w, http.StatusOK, fn.dev.etag, "ETag", f.summary(fn, fn.dev, "DEVELOPMENT"))
	case op == "publish" && r.Method == http.MethodPost:
		if !ifMatch(w, r, fn.dev.etag) {
			return
		}
		fn.live = &fakeStage{code: fn.dev.code, comment: fn.dev.comment, etag: f.etag("ELIVE"), kvs: fn.dev.kvs}
		writeXML(w, http.StatusOK, "", "", f.summary(fn, fn.live, "LIVE"))
	case op == "test" && r.Method == http.MethodPost:
		var req functionRequest
		if err := xml.Unmarshal(r.Body, &req); err != nil {
			awsError(http.StatusBadRequest, "MalformedXML", err.Error())(w, r)
			return
		}
		st, name := stageOf(req.Stage)
		if st == nil {
			awsError(http.StatusNotFound, "NoSuchFunctionExists", "The function does not exist in that stage.")(w, r)
			return
		}
		if !ifMatch(w, r, st.etag) {
			return
		}
		evJSON, err := base64.StdEncoding.DecodeString(req.EventObject)
		if err != nil {
			awsError(http.StatusBadRequest, "TestFunctionFailed", "the event object is not base64")(w, r)
			return
		}
		out, errMsg := f.run(st.code, evJSON)
		writeXML(w, http.StatusOK, "", "", fmt.Sprintf(`<TestResult xmlns="%s">%s<ComputeUtilization>%s</ComputeUtilization><FunctionErrorMessage>%s</FunctionErrorMessage><FunctionOutput>%s</FunctionOutput></TestResult>`,
			xmlns, f.summary(fn, st, name), f.utilization, esc(errMsg), esc(out)))
	default:
		awsError(http.StatusNotFound, "NotImplemented", "fake cloudfront: no such call "+r.Method+" "+r.Path)(w, r)
	}
}

// run executes a function's code on an event in njs and wraps its result as TestFunction reports it.
func (f *fakeCloudFront) run(code, evJSON []byte) (output, errMsg string) {
	var ev njs.Event
	if err := json.Unmarshal(evJSON, &ev); err != nil || ev.Request == nil {
		return "", fmt.Sprintf("The event object is not valid: %v", err)
	}
	res, err := f.njs.Run(context.Background(), string(code), &ev)
	if err != nil {
		return "", err.Error()
	}
	var probe map[string]json.RawMessage
	_ = json.Unmarshal(res.Result, &probe)
	key := "request"
	if _, ok := probe["statusCode"]; ok {
		key = "response"
	}
	b, _ := json.Marshal(map[string]json.RawMessage{key: res.Result})
	return string(b), ""
}

func (f *fakeCloudFront) distributionXML(status string) string {
	cfg := string(f.dist)
	if i := strings.Index(cfg, "?>"); strings.HasPrefix(cfg, "<?xml") && i >= 0 {
		cfg = cfg[i+2:]
	}
	return fmt.Sprintf(`<Distribution xmlns="%s"><Id>%s</Id><ARN>arn:aws:cloudfront::%s:distribution/%s</ARN><Status>%s</Status><LastModifiedTime>2026-01-02T03:04:05Z</LastModifiedTime><InProgressInvalidationBatches>0</InProgressInvalidationBatches><DomainName>d111111abcdef8.cloudfront.net</DomainName>%s</Distribution>`,
		xmlns, f.distID, account, f.distID, status, cfg)
}

func (f *fakeCloudFront) distribution(w http.ResponseWriter, r *apitest.Request, config bool) {
	switch {
	case config && r.Method == http.MethodGet:
		w.Header().Set("ETag", f.distETag)
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write(f.dist)
	case config && r.Method == http.MethodPut:
		if !ifMatch(w, r, f.distETag) {
			return
		}
		var probe xDist
		if err := xml.Unmarshal(r.Body, &probe); err != nil || probe.CallerReference == "" {
			awsError(http.StatusBadRequest, "MalformedXML", fmt.Sprintf("not a DistributionConfig: %v", err))(w, r)
			return
		}
		f.dist = append([]byte(nil), r.Body...)
		f.distETag = f.etag("EDIST")
		f.deploying = 2
		writeXML(w, http.StatusOK, f.distETag, "ETag", f.distributionXML("InProgress"))
	case !config && r.Method == http.MethodGet:
		status := "Deployed"
		if f.deploying > 0 || f.stuck {
			f.deploying--
			status = "InProgress"
		}
		writeXML(w, http.StatusOK, f.distETag, "ETag", f.distributionXML(status))
	default:
		awsError(http.StatusNotFound, "NotImplemented", "fake cloudfront: no such call "+r.Method+" "+r.Path)(w, r)
	}
}

// The parts of a DistributionConfig the tests look at.
type xAssoc struct {
	FunctionARN string `xml:"FunctionARN"`
	EventType   string `xml:"EventType"`
}

type xLambda struct {
	LambdaFunctionARN string `xml:"LambdaFunctionARN"`
	EventType         string `xml:"EventType"`
}

type xBehavior struct {
	PathPattern string    `xml:"PathPattern"`
	Functions   []xAssoc  `xml:"FunctionAssociations>Items>FunctionAssociation"`
	Lambdas     []xLambda `xml:"LambdaFunctionAssociations>Items>LambdaFunctionAssociation"`
	HeadersID   string    `xml:"ResponseHeadersPolicyId"`
}

type xDist struct {
	CallerReference string      `xml:"CallerReference"`
	Comment         string      `xml:"Comment"`
	Default         xBehavior   `xml:"DefaultCacheBehavior"`
	Behaviors       []xBehavior `xml:"CacheBehaviors>Items>CacheBehavior"`
}

func (f *fakeCloudFront) config() xDist {
	f.mu.Lock()
	defer f.mu.Unlock()
	var d xDist
	if err := xml.Unmarshal(f.dist, &d); err != nil {
		f.t.Fatalf("fake cloudfront: the stored config does not parse: %v", err)
	}
	return d
}

// liveCode returns a function's LIVE code, nil when it is not published.
func (f *fakeCloudFront) liveCode(name string) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fn := f.fns[name]; fn != nil && fn.live != nil {
		return fn.live.code
	}
	return nil
}

func (f *fakeCloudFront) liveComment(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fn := f.fns[name]; fn != nil && fn.live != nil {
		return fn.live.comment
	}
	return ""
}

package cloudfront_test

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/edgegw/edgegw/providers/apitest"
)

// The fake CloudFront's response headers policies, in the REST-XML shape aws-sdk-go-v2's serializers send
// and its deserializers read (service/cloudfront v1.73.0): CreateResponseHeadersPolicy (POST
// /response-headers-policy, 201 with ETag and Location), GetResponseHeadersPolicy (GET .../{Id}),
// GetResponseHeadersPolicyConfig (GET .../{Id}/config), UpdateResponseHeadersPolicy (PUT .../{Id},
// If-Match its ETag: missing, 400 InvalidIfMatchVersion; another, 412 PreconditionFailed) and
// ListResponseHeadersPolicies (GET /response-headers-policy?Type=&Marker=&MaxItems=, policyPage to a page
// by default, NextMarker the index of the next one). A name is unique among the custom policies (409
// ResponseHeadersPolicyAlreadyExists), an unknown id is 404 NoSuchResponseHeadersPolicy, and CloudFront's
// managed SecurityHeadersPolicy is listed unless Type is custom.

// policyPage is how many policies a list page holds when the request names no MaxItems: small, so the
// provider's Marker loop runs.
const policyPage = 2

// managedSecurityHeaders is CloudFront's managed SecurityHeadersPolicy, as listed.
var managedSecurityHeaders = &fakePolicy{id: "67f7725c-6f97-4210-82d7-5512b31e9d03", etag: "EMANAGED", managed: true,
	config: []byte(`<ResponseHeadersPolicyConfig><Name>Managed-SecurityHeadersPolicy</Name><SecurityHeadersConfig><StrictTransportSecurity><Override>false</Override><IncludeSubdomains>false</IncludeSubdomains><Preload>false</Preload><AccessControlMaxAgeSec>31536000</AccessControlMaxAgeSec></StrictTransportSecurity></SecurityHeadersConfig></ResponseHeadersPolicyConfig>`)}

type fakePolicy struct {
	id, etag string
	managed  bool
	// config is the ResponseHeadersPolicyConfig element as the SDK last sent it.
	config []byte
}

// xPolicyConfig is the part of a ResponseHeadersPolicyConfig the fake and the tests read.
type xPolicyConfig struct {
	Name    string `xml:"Name"`
	Comment string `xml:"Comment"`
	HSTS    *struct {
		MaxAge            *int  `xml:"AccessControlMaxAgeSec"`
		IncludeSubdomains bool  `xml:"IncludeSubdomains"`
		Preload           bool  `xml:"Preload"`
		Override          *bool `xml:"Override"`
	} `xml:"SecurityHeadersConfig>StrictTransportSecurity"`
}

func (p *fakePolicy) parsed() xPolicyConfig {
	var c xPolicyConfig
	_ = xml.Unmarshal(p.config, &c)
	return c
}

func (p *fakePolicy) xml() string {
	return fmt.Sprintf(`<ResponseHeadersPolicy xmlns="%s"><Id>%s</Id><LastModifiedTime>2026-01-02T03:04:05Z</LastModifiedTime>%s</ResponseHeadersPolicy>`, xmlns, p.id, p.config)
}

// policyBody reads and checks a ResponseHeadersPolicyConfig as CloudFront does: a name, a comment of at
// most 128 characters, and Strict-Transport-Security with its max age and Override.
func policyBody(w http.ResponseWriter, r *apitest.Request) (xPolicyConfig, bool) {
	var c xPolicyConfig
	if err := xml.Unmarshal(r.Body, &c); err != nil {
		awsError(http.StatusBadRequest, "MalformedXML", err.Error())(w, r)
		return c, false
	}
	if c.Name == "" || len(c.Comment) > 128 || (c.HSTS != nil && (c.HSTS.MaxAge == nil || c.HSTS.Override == nil)) {
		awsError(http.StatusBadRequest, "InvalidArgument", "the policy needs a name, a comment of at most 128 characters, and AccessControlMaxAgeSec and Override in StrictTransportSecurity")(w, r)
		return c, false
	}
	return c, true
}

func (f *fakeCloudFront) policyNamed(name string) *fakePolicy {
	for _, p := range f.policies {
		if p.parsed().Name == name {
			return p
		}
	}
	return nil
}

func (f *fakeCloudFront) headersPolicy(w http.ResponseWriter, r *apitest.Request, segs []string) {
	switch {
	case len(segs) == 1 && r.Method == http.MethodPost:
		c, ok := policyBody(w, r)
		if !ok {
			return
		}
		if f.policyNamed(c.Name) != nil {
			awsError(http.StatusConflict, "ResponseHeadersPolicyAlreadyExists", "A response headers policy with this name already exists.")(w, r)
			return
		}
		p := &fakePolicy{id: fmt.Sprintf("rhp-%d", len(f.policies)+1), etag: f.etag("ERHP"), config: append([]byte(nil), r.Body...)}
		f.policies = append(f.policies, p)
		w.Header().Set("Location", "https://cloudfront.amazonaws.com"+apiPath+"/response-headers-policy/"+p.id)
		writeXML(w, http.StatusCreated, p.etag, "ETag", p.xml())
	case len(segs) == 1 && r.Method == http.MethodGet:
		all := []*fakePolicy{}
		if t := r.Query.Get("Type"); t != "custom" {
			all = append(all, managedSecurityHeaders)
		}
		if t := r.Query.Get("Type"); t != "managed" {
			all = append(all, f.policies...)
		}
		start, _ := strconv.Atoi(r.Query.Get("Marker"))
		size := policyPage
		if n, err := strconv.Atoi(r.Query.Get("MaxItems")); err == nil && n > 0 {
			size = n
		}
		end := min(start+size, len(all))
		start = min(start, end)
		var items strings.Builder
		for _, p := range all[start:end] {
			typ := "custom"
			if p.managed {
				typ = "managed"
			}
			items.WriteString("<ResponseHeadersPolicySummary><Type>" + typ + "</Type>" + p.xml() + "</ResponseHeadersPolicySummary>")
		}
		next := ""
		if end < len(all) {
			next = "<NextMarker>" + strconv.Itoa(end) + "</NextMarker>"
		}
		writeXML(w, http.StatusOK, "", "", fmt.Sprintf(`<ResponseHeadersPolicyList xmlns="%s">%s<MaxItems>%d</MaxItems><Quantity>%d</Quantity><Items>%s</Items></ResponseHeadersPolicyList>`,
			xmlns, next, size, end-start, items.String()))
	case len(segs) >= 2:
		var p *fakePolicy
		for _, x := range append([]*fakePolicy{managedSecurityHeaders}, f.policies...) {
			if x.id == segs[1] {
				p = x
			}
		}
		if p == nil {
			awsError(http.StatusNotFound, "NoSuchResponseHeadersPolicy", "The response headers policy does not exist.")(w, r)
			return
		}
		switch {
		case len(segs) == 2 && r.Method == http.MethodGet:
			writeXML(w, http.StatusOK, p.etag, "ETag", p.xml())
		case len(segs) == 3 && segs[2] == "config" && r.Method == http.MethodGet:
			writeXML(w, http.StatusOK, p.etag, "ETag", string(p.config))
		case len(segs) == 2 && r.Method == http.MethodPut:
			if p.managed {
				awsError(http.StatusBadRequest, "IllegalUpdate", "A managed policy cannot be updated.")(w, r)
				return
			}
			if !ifMatch(w, r, p.etag) {
				return
			}
			c, ok := policyBody(w, r)
			if !ok {
				return
			}
			if o := f.policyNamed(c.Name); o != nil && o != p {
				awsError(http.StatusConflict, "ResponseHeadersPolicyAlreadyExists", "A response headers policy with this name already exists.")(w, r)
				return
			}
			p.config, p.etag = append([]byte(nil), r.Body...), f.etag("ERHP")
			writeXML(w, http.StatusOK, p.etag, "ETag", p.xml())
		default:
			awsError(http.StatusNotFound, "NotImplemented", "fake cloudfront: no such call "+r.Method+" "+r.Path)(w, r)
		}
	default:
		awsError(http.StatusNotFound, "NotImplemented", "fake cloudfront: no such call "+r.Method+" "+r.Path)(w, r)
	}
}

// addPolicy creates a custom policy by hand, as another team or the console would.
func (f *fakeCloudFront) addPolicy(name string, maxAge int) *fakePolicy {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := &fakePolicy{id: fmt.Sprintf("rhp-%d", len(f.policies)+1), etag: f.etag("ERHP"),
		config: fmt.Appendf(nil, `<ResponseHeadersPolicyConfig xmlns="%s"><Name>%s</Name><SecurityHeadersConfig><StrictTransportSecurity><AccessControlMaxAgeSec>%d</AccessControlMaxAgeSec><Override>true</Override></StrictTransportSecurity></SecurityHeadersConfig></ResponseHeadersPolicyConfig>`, xmlns, name, maxAge)}
	f.policies = append(f.policies, p)
	return p
}

// policy returns a copy of the custom policy named name, nil when there is none.
func (f *fakeCloudFront) policy(name string) *fakePolicy {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p := f.policyNamed(name); p != nil {
		c := *p
		return &c
	}
	return nil
}

// touchPolicy edits a policy by hand (its ETag moves), as the console would.
func (f *fakeCloudFront) touchPolicy(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.policyNamed(name)
	p.etag = f.etag("ERHP-BY-HAND")
}

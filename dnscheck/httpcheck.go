package dnscheck

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// checkHTTP sends one HEAD to the host the way a browser would reach it and
// checks what only the response can show: that it is answered (not a 5xx or
// a 421 for an unknown hostname), the HSTS policy the manifest asks for, and
// that the edge is what answered.
func (r *runner) checkHTTP(ctx context.Context, res *HostResult, h Host) {
	url := "https://" + res.Name + "/"
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, url, nil)
	if err != nil {
		res.Notes = append(res.Notes, "HTTPS not checked: "+err.Error())
		return
	}
	// HTTPS requests share the query slots so --http on 1,000 hosts does
	// not open 1,000 connections at once.
	select {
	case r.q.sem <- struct{}{}:
	case <-ctx.Done():
		res.Notes = append(res.Notes, "HTTPS not checked: "+ctx.Err().Error())
		return
	}
	resp, err := r.opts.HTTPClient.Do(req)
	<-r.q.sem
	if err != nil {
		r.add(Finding{ID: IDHTTPFailed, Host: res.Name,
			Summary:  fmt.Sprintf("HEAD %s failed: %v", url, err),
			Evidence: []string{fmt.Sprintf("; HEAD %s: %v", url, err)}})
		return
	}
	resp.Body.Close()
	res.HTTPStatus = resp.StatusCode
	status := fmt.Sprintf("; HEAD %s: %s %s", url, resp.Proto, resp.Status)
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusMisdirectedRequest {
		r.add(Finding{ID: IDHTTPFailed, Host: res.Name,
			Summary:  fmt.Sprintf("HEAD %s answered %s", url, resp.Status),
			Evidence: []string{status}})
	}
	if h.HSTS != nil {
		r.checkHSTS(res, h.HSTS, resp.Header.Get("Strict-Transport-Security"), status)
	}
	if len(h.EdgeHeaders) > 0 {
		found := false
		for _, name := range h.EdgeHeaders {
			found = found || resp.Header.Get(name) != ""
		}
		if !found {
			ev := []string{status}
			for _, k := range sortedHeaderNames(resp.Header) {
				ev = append(ev, "; "+strings.ToLower(k)+": "+resp.Header.Get(k))
			}
			r.add(Finding{ID: IDEdgeHeaders, Host: res.Name,
				Summary:  fmt.Sprintf("the response from %s has none of the edge's headers (%s): something other than the edge answered", res.Name, strings.Join(h.EdgeHeaders, ", ")),
				Evidence: ev})
		}
	}
}

func sortedHeaderNames(h http.Header) []string {
	var names []string
	for k := range h {
		names = append(names, k)
	}
	for i := 1; i < len(names); i++ {
		for j := i; j > 0 && names[j] < names[j-1]; j-- {
			names[j], names[j-1] = names[j-1], names[j]
		}
	}
	return names
}

// hsts is a parsed Strict-Transport-Security header (RFC 6797 section 6.1).
type hsts struct {
	maxAge            time.Duration
	hasMaxAge         bool
	includeSubdomains bool
	preload           bool
}

func parseHSTS(v string) hsts {
	var out hsts
	for _, d := range strings.Split(v, ";") {
		name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "max-age":
			if n, err := strconv.ParseInt(strings.Trim(strings.TrimSpace(val), `"`), 10, 64); err == nil && n >= 0 {
				out.maxAge, out.hasMaxAge = time.Duration(n)*time.Second, true
			}
		case "includesubdomains":
			out.includeSubdomains = true
		case "preload":
			out.preload = true
		}
	}
	return out
}

func (r *runner) checkHSTS(res *HostResult, want *HSTSExpect, header, status string) {
	got := parseHSTS(header)
	var problems []string
	switch {
	case header == "":
		problems = append(problems, "the header is missing")
	case !got.hasMaxAge:
		problems = append(problems, "it has no valid max-age")
	case got.maxAge < want.MaxAge:
		problems = append(problems, fmt.Sprintf("max-age=%d is below the expected %d", int64(got.maxAge.Seconds()), int64(want.MaxAge.Seconds())))
	}
	if header != "" && want.IncludeSubdomains && !got.includeSubdomains {
		problems = append(problems, "includeSubDomains is missing")
	}
	if header != "" && want.Preload && !got.preload {
		problems = append(problems, "preload is missing")
	}
	if len(problems) == 0 {
		return
	}
	expected := fmt.Sprintf("max-age=%d", int64(want.MaxAge.Seconds()))
	if want.IncludeSubdomains {
		expected += "; includeSubDomains"
	}
	if want.Preload {
		expected += "; preload"
	}
	r.add(Finding{ID: IDHSTSWeak, Host: res.Name,
		Summary:  fmt.Sprintf("Strict-Transport-Security on %s: %s", res.Name, strings.Join(problems, "; ")),
		Evidence: []string{status, "; strict-transport-security: " + header},
		Fix:      fmt.Sprintf("send \"Strict-Transport-Security: %s\" from the edge for %s", expected, res.Name)})
}

package apitest

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// A fault answers the first request it matches, once, in the order added; one never used fails the test.
func TestFaultsAnswerOnceInOrder(t *testing.T) {
	fs := &Faults{}
	fs.Add(Route(http.MethodPost, "/a"), Bytes(503, "", nil))
	fs.Add(Route(http.MethodPost, "/a"), Bytes(429, "", nil))
	fs.Add(Route(http.MethodGet, "/never"), Bytes(500, "", nil))
	status := func(method, path string) int {
		r := &Request{Method: method, Path: path, EscapedPath: path}
		respond, ok := fs.Take(r)
		if !ok {
			return 0
		}
		w := httptest.NewRecorder()
		respond(w, r)
		return w.Code
	}
	if got := [4]int{status("GET", "/a"), status("POST", "/a"), status("POST", "/a"), status("POST", "/a")}; got != [4]int{0, 503, 429, 0} {
		t.Fatalf("answers %v, want [0 503 429 0]", got)
	}
	if u := fs.Unused(); len(u) != 1 || u[0] != Route(http.MethodGet, "/never").String() {
		t.Fatalf("unused %q, want the GET /never fault", u)
	}
}

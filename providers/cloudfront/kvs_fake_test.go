package cloudfront_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/edgegw/edgegw/providers/apitest"
)

// fakeStore is one CloudFront KeyValueStore as the fake holds it: the control plane (REST-XML, under
// /2020-05-31/key-value-store) creates and describes it, the data plane (REST-JSON, under
// /key-value-stores/{KvsARN}) describes it with its ETag, lists its keys (ListKeys, in pages) and writes
// keys (PutKey, UpdateKeys), refusing a write whose If-Match is not the store's current ETag (409
// ConflictException), as CloudFront does.
type fakeStore struct {
	name, id, arn string
	etag          string
	items         map[string]string
}

func (f *fakeCloudFront) storeARN(id string) string {
	return "arn:aws:cloudfront::" + account + ":key-value-store/" + id
}

func (f *fakeCloudFront) storeXML(s *fakeStore) string {
	return fmt.Sprintf(`<KeyValueStore xmlns="%s"><Name>%s</Name><Id>%s</Id><Comment>fake</Comment><ARN>%s</ARN><Status>READY</Status><LastModifiedTime>2026-01-02T03:04:05Z</LastModifiedTime></KeyValueStore>`,
		xmlns, esc(s.name), s.id, esc(s.arn))
}

// kvsControl serves CreateKeyValueStore and DescribeKeyValueStore of the control plane.
func (f *fakeCloudFront) kvsControl(w http.ResponseWriter, r *apitest.Request, segs []string) {
	if f.stores == nil {
		f.stores = map[string]*fakeStore{}
	}
	switch {
	case len(segs) == 1 && r.Method == http.MethodPost:
		var req struct {
			Name string `xml:"Name"`
		}
		if err := xml.Unmarshal(r.Body, &req); err != nil || req.Name == "" {
			awsError(http.StatusBadRequest, "InvalidArgument", "bad CreateKeyValueStore request")(w, r)
			return
		}
		if f.stores[req.Name] != nil {
			awsError(http.StatusConflict, "EntityAlreadyExists", "The key value store already exists.")(w, r)
			return
		}
		id := fmt.Sprintf("kvs-%04d", len(f.stores)+1)
		s := &fakeStore{name: req.Name, id: id, arn: f.storeARN(id), etag: f.etag("EKVS"), items: map[string]string{}}
		f.stores[req.Name] = s
		writeXML(w, http.StatusCreated, "ECP1", "ETag", f.storeXML(s))
	case len(segs) == 2 && r.Method == http.MethodGet:
		s := f.stores[segs[1]]
		if s == nil {
			awsError(http.StatusNotFound, "EntityNotFound", "The key value store does not exist.")(w, r)
			return
		}
		writeXML(w, http.StatusOK, "ECP1", "ETag", f.storeXML(s))
	default:
		awsError(http.StatusNotFound, "NotImplemented", "fake cloudfront: no such call "+r.Method+" "+r.Path)(w, r)
	}
}

func kvsError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Message": msg})
}

// kvsData serves the data plane's DescribeKeyValueStore and PutKey, SigV4A-signed as the SDK signs them.
func (f *fakeCloudFront) kvsData(w http.ResponseWriter, r *apitest.Request) {
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-ECDSA-P256-SHA256 ") {
		kvsError(w, http.StatusForbidden, "AccessDeniedException", "the data plane takes SigV4A only")
		return
	}
	var segs []string
	for _, s := range strings.Split(strings.Trim(r.EscapedPath, "/"), "/") {
		u, _ := url.PathUnescape(s)
		segs = append(segs, u)
	}
	var s *fakeStore
	for _, st := range f.stores {
		if len(segs) > 1 && st.arn == segs[1] {
			s = st
		}
	}
	if s == nil {
		kvsError(w, http.StatusNotFound, "ResourceNotFoundException", "no such store")
		return
	}
	size := 0
	for k, v := range s.items {
		size += len(k) + len(v)
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case len(segs) == 2 && r.Method == http.MethodGet:
		w.Header().Set("ETag", s.etag)
		_ = json.NewEncoder(w).Encode(map[string]any{"KvsARN": s.arn, "ItemCount": len(s.items), "TotalSizeInBytes": size, "Created": 1.7e9, "Status": "READY"})
	case len(segs) == 4 && segs[2] == "keys" && r.Method == http.MethodPut:
		if r.Header.Get("If-Match") != s.etag {
			kvsError(w, http.StatusConflict, "ConflictException", "the ETag does not match")
			return
		}
		var body struct{ Value string }
		if err := json.Unmarshal(r.Body, &body); err != nil {
			kvsError(w, http.StatusBadRequest, "ValidationException", "bad body")
			return
		}
		s.items[segs[3]] = body.Value
		s.etag = f.etag("EKVS")
		w.Header().Set("ETag", s.etag)
		_ = json.NewEncoder(w).Encode(map[string]any{"ItemCount": len(s.items), "TotalSizeInBytes": size + len(segs[3]) + len(body.Value)})
	case len(segs) == 3 && segs[2] == "keys" && r.Method == http.MethodPost:
		f.updateKeys(w, r, s)
	case len(segs) == 3 && segs[2] == "keys" && r.Method == http.MethodGet:
		f.listKeys(w, r, s)
	default:
		kvsError(w, http.StatusNotFound, "ResourceNotFoundException", "fake: no such call "+r.Method+" "+r.Path)
	}
}

// fakeListPage is how many keys a ListKeys page holds when the request asks for no fewer: small, so a
// table of a few dozen keys takes several pages.
const fakeListPage = 10

// updateKeys serves UpdateKeys as CloudFront documents it: all or nothing, the store's ETag in If-Match,
// at most 50 keys (puts and deletes together) per call, keys of 1 to 512 bytes, values of at most 1,024,
// a store of at most 5 MB.
func (f *fakeCloudFront) updateKeys(w http.ResponseWriter, r *apitest.Request, s *fakeStore) {
	if r.Header.Get("If-Match") != s.etag {
		kvsError(w, http.StatusConflict, "ConflictException", "the ETag does not match")
		return
	}
	var body struct {
		Puts    []struct{ Key, Value string }
		Deletes []struct{ Key string }
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		kvsError(w, http.StatusBadRequest, "ValidationException", "bad body")
		return
	}
	if n := len(body.Puts) + len(body.Deletes); n == 0 || n > 50 {
		kvsError(w, http.StatusBadRequest, "ValidationException", fmt.Sprintf("%d keys in one UpdateKeys call, the limit is 50", n))
		return
	}
	next := map[string]string{}
	for k, v := range s.items {
		next[k] = v
	}
	for _, d := range body.Deletes {
		delete(next, d.Key)
	}
	for _, p := range body.Puts {
		if len(p.Key) == 0 || len(p.Key) > 512 || len(p.Value) > 1024 {
			kvsError(w, http.StatusBadRequest, "ValidationException", "key or value over its limit: "+p.Key)
			return
		}
		next[p.Key] = p.Value
	}
	size := 0
	for k, v := range next {
		size += len(k) + len(v)
	}
	if size > 5<<20 {
		kvsError(w, http.StatusPaymentRequired, "ServiceQuotaExceededException", "the store would exceed 5 MB")
		return
	}
	s.items = next
	s.etag = f.etag("EKVS")
	w.Header().Set("ETag", s.etag)
	_ = json.NewEncoder(w).Encode(map[string]any{"ItemCount": len(s.items), "TotalSizeInBytes": size})
}

// listKeys serves ListKeys: the keys in order, MaxResults (at most fakeListPage) a page, NextToken the
// key to go on from.
func (f *fakeCloudFront) listKeys(w http.ResponseWriter, r *apitest.Request, s *fakeStore) {
	limit := fakeListPage
	if n, err := strconv.Atoi(r.Query.Get("MaxResults")); err == nil && n > 0 && n < limit {
		limit = n
	}
	keys := make([]string, 0, len(s.items))
	for k := range s.items {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	from := r.Query.Get("NextToken")
	type item struct{ Key, Value string }
	out := struct {
		Items     []item
		NextToken string `json:",omitempty"`
	}{Items: []item{}}
	for _, k := range keys {
		if k < from {
			continue
		}
		if len(out.Items) == limit {
			out.NextToken = k
			break
		}
		out.Items = append(out.Items, item{k, s.items[k]})
	}
	_ = json.NewEncoder(w).Encode(out)
}

// items returns a copy of a store's keys and values, for assertions.
func (f *fakeCloudFront) items(store string) map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]string{}
	if s := f.stores[store]; s != nil {
		for k, v := range s.items {
			out[k] = v
		}
	}
	return out
}

// item is a store's value of key, for assertions.
func (f *fakeCloudFront) item(store, key string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.stores[store]
	if s == nil {
		return "", false
	}
	v, ok := s.items[key]
	return v, ok
}

// accountDial dials the data plane's endpoint: the SDK puts the account id in front of the endpoint's
// host (123456789012.127.0.0.1:port), which this dials as the endpoint itself.
func accountDial(ctx context.Context, network, addr string) (net.Conn, error) {
	return (&net.Dialer{}).DialContext(ctx, network, strings.TrimPrefix(addr, account+"."))
}

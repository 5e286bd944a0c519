package fastly

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	gofastly "github.com/fastly/go-fastly/v12/fastly"

	"github.com/edgegw/edgegw/providers"
)

// Deploy records live with the service, so they survive an ephemeral CI runner, in two places:
//
//   - the version comment, one line read by history and rollback from a single call (GET /service/ID):
//     `edgegw apply git:<sha>[+dirty]|git:none ir:<IR digest> prev:<version>|prev:none by:<who>`;
//   - the VCL file edgegw_record of the same version: comment lines only (it is included nowhere, so it
//     compiles to nothing) holding the whole record, gzip and base64, with the artifact digests, the
//     per-route summary plan compares the manifest with, and the service.json shipped.
//
// A rollback re-activates a version: it makes no version, so it writes no comment. History therefore ends
// with the live version when it is not the newest deploy, as a record of kind rollback.

const commentPrefix = "edgegw "

// comment is the version comment of a deploy.
func comment(rec providers.DeployRecord) string {
	return commentPrefix + strings.Join([]string{rec.Kind, rec.GitField(), rec.IRField(), rec.PrevField(), rec.WhoField()}, " ")
}

// parseComment reads a version comment edgegw wrote; ok is false for any other comment.
func parseComment(c string) (rec providers.DeployRecord, ok bool) {
	kind, fields, who, ok := providers.SplitRecordLine(c, commentPrefix)
	if !ok {
		return rec, false
	}
	rec.Kind, rec.Who = kind, who
	for _, f := range fields {
		rec.ReadRecordField(f)
	}
	return rec, rec.Kind == providers.KindApply
}

// storedRecord is what the edgegw_record VCL file holds. The digests of routes and domains are kept to
// their first shortDigest hex digits (64 bits: the record of 10,000 routes stays near 200 KB); plan
// restores the full digest of every route whose prefix the manifest's still matches (expand).
type storedRecord struct {
	Record  providers.DeployRecord `json:"record"`
	Service []byte                 `json:"service"` // the service.json shipped
	// DictionariesJSON is the dictionaries.json shipped, Dictionaries what the deploy left in them and
	// found there (public items; fingerprints of secret ones, never a value: see dictionary.go).
	DictionariesJSON []byte               `json:"dictionaries_json,omitempty"`
	Dictionaries     []recordedDictionary `json:"dictionaries,omitempty"`
}

const shortDigest = 16

// shorten returns sr with the route and domain digests cut to shortDigest.
func shorten(sr storedRecord) storedRecord {
	if g := sr.Record.Gateway; g != nil {
		c := *g
		c.Routes = make([]providers.EntityDigest, len(g.Routes))
		for i, r := range g.Routes {
			c.Routes[i] = providers.EntityDigest{Name: r.Name, Digest: cut(r.Digest)}
		}
		c.Domains = make([]providers.DomainSummary, len(g.Domains))
		for i, d := range g.Domains {
			c.Domains[i] = providers.DomainSummary{Host: d.Host, Apex: d.Apex, Digest: cut(d.Digest)}
		}
		sr.Record.Gateway = &c
	}
	return sr
}

func cut(d string) string { return d[:min(len(d), shortDigest)] }

// expand gives back the full digests of a shortened summary where want (the manifest's) has a digest
// with the same prefix: those routes and domains did not change. The others keep their prefix, which
// equals no full digest, so Diff plans them as changed.
func expand(live, want *providers.GatewaySummary) {
	if live == nil || want == nil {
		return
	}
	routes := map[string]string{}
	for _, r := range want.Routes {
		routes[r.Name] = r.Digest
	}
	for i, r := range live.Routes {
		if full := routes[r.Name]; len(r.Digest) == shortDigest && strings.HasPrefix(full, r.Digest) {
			live.Routes[i].Digest = full
		}
	}
	domains := map[string]string{}
	for _, d := range want.Domains {
		domains[d.Host] = d.Digest
	}
	for i, d := range live.Domains {
		if full := domains[d.Host]; len(d.Digest) == shortDigest && strings.HasPrefix(full, d.Digest) {
			live.Domains[i].Digest = full
		}
	}
}

const recordHeader = "# edgegw deploy record: written by `edgegw apply`, read by `edgegw plan`; included nowhere, do not edit\n"

// encodeRecord writes a record as VCL comment lines.
func encodeRecord(sr storedRecord) string {
	js, _ := json.Marshal(shorten(sr))
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	_, _ = w.Write(js)
	_ = w.Close()
	b64 := base64.StdEncoding.EncodeToString(z.Bytes())
	var out strings.Builder
	out.WriteString(recordHeader)
	for len(b64) > 0 {
		n := min(len(b64), 96)
		out.WriteString("# " + b64[:n] + "\n")
		b64 = b64[n:]
	}
	return out.String()
}

// decodeRecord reads what encodeRecord wrote.
func decodeRecord(content string) (*storedRecord, error) {
	if !strings.HasPrefix(content, recordHeader) {
		return nil, fmt.Errorf("it does not start with edgegw's header")
	}
	var b64 strings.Builder
	for _, line := range strings.Split(strings.TrimPrefix(content, recordHeader), "\n") {
		b64.WriteString(strings.TrimPrefix(line, "# "))
	}
	z, err := base64.StdEncoding.DecodeString(b64.String())
	if err != nil {
		return nil, err
	}
	r, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, err
	}
	js, err := io.ReadAll(io.LimitReader(r, 64<<20))
	if err != nil {
		return nil, err
	}
	var sr storedRecord
	if err := json.Unmarshal(js, &sr); err != nil {
		return nil, err
	}
	return &sr, nil
}

// history returns the deploy records of a service from its version comments, oldest first: one record per
// activated (locked) version edgegw made, then the live version again when a rollback (or a hand) made an
// older version live.
func history(svc *gofastly.Service) []providers.DeployRecord {
	versions := append([]*gofastly.Version(nil), svc.Versions...)
	sort.Slice(versions, func(i, j int) bool { return num(versions[i].Number) < num(versions[j].Number) })
	var out []providers.DeployRecord
	for _, v := range versions {
		rec, ok := parseComment(str(v.Comment))
		if !ok || !flag(v.Locked) {
			continue // not a deploy of edgegw's, or staged and never activated
		}
		rec.Seq, rec.Target, rec.Version = len(out)+1, Name, strconv.Itoa(num(v.Number))
		rec.Previous.Target = Name
		rec.Time = versionTime(v)
		out = append(out, rec)
	}
	active := activeVersion(svc)
	if active == 0 || (len(out) > 0 && out[len(out)-1].Version == strconv.Itoa(active)) {
		return out
	}
	rec := providers.DeployRecord{Seq: len(out) + 1, Target: Name, Kind: providers.KindRollback, Version: strconv.Itoa(active),
		Note: fmt.Sprintf("version %d is live again: re-activated by a rollback or by hand (an activation writes no version comment)", active)}
	var madeBy *providers.DeployRecord
	for i := range out {
		if out[i].Version == rec.Version {
			madeBy = &out[i]
			break
		}
	}
	if madeBy != nil {
		rec.Commit, rec.Dirty, rec.Gateway = madeBy.Commit, madeBy.Dirty, madeBy.Gateway
	} else {
		rec.Note = fmt.Sprintf("version %d is live and was not deployed by edgegw", active)
	}
	for _, v := range versions {
		if num(v.Number) == active {
			rec.Time = versionTime(v)
		}
	}
	return append(out, rec)
}

func versionTime(v *gofastly.Version) time.Time {
	if v.UpdatedAt != nil {
		return v.UpdatedAt.UTC()
	}
	if v.CreatedAt != nil {
		return v.CreatedAt.UTC()
	}
	return time.Time{}
}

// activeVersion is the live version number, 0 when none is active.
func activeVersion(svc *gofastly.Service) int {
	for _, v := range svc.Versions {
		if flag(v.Active) {
			return num(v.Number)
		}
	}
	return 0
}

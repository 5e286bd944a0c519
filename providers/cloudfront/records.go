package cloudfront

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/edgegw/edgegw/internal/boundedio"
	"github.com/edgegw/edgegw/providers"
)

// Deploy records. CloudFront keeps no function history and a function's comment holds 128 characters, so
// the records are files beside the manifest, under RecordsDir(distribution id), one per apply, rollback or
// restore: NNNNNN.json holding the record and the code it made live. The record's restore point (Previous)
// holds the code it replaced. The functions' comments carry `git:<sha>` and the version, so the live
// commit can be told from CloudFront alone.

// storedRecord is one record file.
type storedRecord struct {
	Record providers.DeployRecord `json:"record"`
	// Code is the code made live, by artifact path; none for a rollback to nothing.
	Code map[string][]byte `json:"code,omitempty"`
	// Secrets are the KeyValueStore keys as fingerprints (kvsFingerprint), never their values.
	Secrets map[string]string `json:"keyvaluestore_fingerprints,omitempty"`
	// RouteTable is the route table (cfrender.KVSFile) the version reads from the KeyValueStore, "" when
	// its code holds its routes; RouteVersions the table versions the store holds after this record
	// (kvsroutes.go). Route tables are not secret.
	RouteTable    string   `json:"keyvaluestore_routes,omitempty"`
	RouteVersions []string `json:"keyvaluestore_route_versions,omitempty"`
}

const maxRecordBytes = 16 << 20

func (p *Provider) readRecords() ([]storedRecord, error) {
	entries, err := os.ReadDir(p.recordsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("providers/%s: read deploy records in %s: %w", Name, p.recordsDir, err)
	}
	var out []storedRecord
	var skipped []providers.SkippedRecord
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".json") {
			continue
		}
		seq, _ := strconv.Atoi(strings.TrimSuffix(n, ".json"))
		file := filepath.Join(p.recordsDir, n)
		b, err := boundedio.ReadFile(file, maxRecordBytes)
		var sr storedRecord
		if err == nil {
			err = json.Unmarshal(b, &sr)
		}
		if err != nil {
			skipped = append(skipped, providers.SkippedRecord{Seq: seq, File: file, Err: err.Error()})
			continue
		}
		out = append(out, sr)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Record.Seq < out[j].Record.Seq })
	if len(skipped) > 0 {
		return out, &providers.SkippedRecordsError{Target: Name, Skipped: skipped}
	}
	return out, nil
}

// writeRecord writes rec (with the code it made live) as the next record file, atomically.
func (p *Provider) writeRecord(rec providers.DeployRecord, codes map[string][]byte) error {
	secrets := p.recordSecrets
	if secrets == nil {
		// A rollback or restore leaves the keys as they are: the newest fingerprints stay true.
		recs, _ := p.readRecords()
		secrets = newestFingerprints(recs)
	}
	sr := storedRecord{Record: rec, Code: codes, Secrets: secrets}
	if rd := p.recordRoutes; rd != nil {
		sr.RouteTable, sr.RouteVersions = routeRecord(rd)
	} else {
		// A deploy that left the route keys alone: the store holds what the newest record says.
		recs, _ := p.readRecords()
		sr.RouteVersions, _ = heldVersions(recs)
	}
	b, err := json.MarshalIndent(sr, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(p.recordsDir, 0o755); err != nil {
		return fmt.Errorf("providers/%s: deploy records: %w", Name, err)
	}
	file := filepath.Join(p.recordsDir, fmt.Sprintf("%06d.json", rec.Seq))
	tmp, err := os.CreateTemp(p.recordsDir, ".record-*")
	if err != nil {
		return fmt.Errorf("providers/%s: deploy records: %w", Name, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("providers/%s: write deploy record %s: %w", Name, file, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("providers/%s: write deploy record %s: %w", Name, file, err)
	}
	if err := os.Link(tmp.Name(), file); err != nil {
		return fmt.Errorf("providers/%s: write deploy record %s: %w (another apply wrote it first? run `edgegw history --target cloudfront`)", Name, file, err)
	}
	return nil
}

// lastRecordOf returns the newest record that made version live.
func lastRecordOf(recs []storedRecord, version string) *storedRecord {
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].Record.Version == version {
			return &recs[i]
		}
	}
	return nil
}

// encodeCode keeps function code in a restore point's Detail: gzip, then base64.
func encodeCode(code []byte) string {
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	_, _ = w.Write(code)
	_ = w.Close()
	return base64.StdEncoding.EncodeToString(z.Bytes())
}

func decodeCode(s string) ([]byte, error) {
	z, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	r, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(r, 1<<20))
}

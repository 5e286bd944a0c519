package cloudflare

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/edgegw/edgegw/providers"
)

// Where the deploy records live on Cloudflare, so that history survives an ephemeral CI runner:
//
//   - what a version does (its artifact digests and the gateway summary) goes with the version, as
//     plain_text bindings EDGEGW_DEPLOY_0, _1, … holding base64 gzip JSON (one binding holds at most
//     summaryChunk bytes); its workers/tag annotation is "ir:" and the IR digest, its workers/message
//     "edgegw git:<sha> ir:<digest>";
//   - who deployed which commit, as what kind of deploy, replacing what, goes with the deployment, as its
//     workers/message annotation: "edgegw " and a compact JSON record (at most 1000 bytes, Cloudflare's
//     limit; a long note is cut).
//
// Neither holds a secret value: secrets go through the secrets API only.
const (
	summaryBinding = "EDGEGW_DEPLOY_"
	summaryChunk   = 4096
	messagePrefix  = "edgegw "
	maxMessage     = 1000
	maxTag         = 100
)

// versionSummary is what a version does.
type versionSummary struct {
	Artifacts []providers.ArtifactDigest `json:"artifacts"`
	Gateway   *providers.GatewaySummary  `json:"gateway,omitempty"`
	// Migration is the Durable Object migration tag the script is at with this version.
	Migration string `json:"migration,omitempty"`
}

func encodeSummary(s versionSummary) ([]binding, error) {
	js, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(js)
	if err := zw.Close(); err != nil {
		return nil, err
	}
	text := base64.StdEncoding.EncodeToString(buf.Bytes())
	var out []binding
	for i := 0; len(text) > 0; i++ {
		n := min(summaryChunk, len(text))
		out = append(out, binding{Type: "plain_text", Name: summaryBinding + strconv.Itoa(i), Text: text[:n]})
		text = text[n:]
	}
	return out, nil
}

// decodeSummary reads the summary from a version's plain-text bindings; nil when the version has none (it
// was not uploaded by edgegw).
func decodeSummary(text map[string]string) (*versionSummary, error) {
	var parts []string
	for i := 0; ; i++ {
		t, ok := text[summaryBinding+strconv.Itoa(i)]
		if !ok {
			break
		}
		parts = append(parts, t)
	}
	if len(parts) == 0 {
		return nil, nil
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Join(parts, ""))
	if err != nil {
		return nil, fmt.Errorf("binding %s*: %w", summaryBinding, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("binding %s*: %w", summaryBinding, err)
	}
	js, err := io.ReadAll(io.LimitReader(zr, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("binding %s*: %w", summaryBinding, err)
	}
	var s versionSummary
	if err := json.Unmarshal(js, &s); err != nil {
		return nil, fmt.Errorf("binding %s*: %w", summaryBinding, err)
	}
	return &s, nil
}

// deployMessage is the deploy record as a deployment's annotation keeps it. Version and time are the
// deployment's own; artifacts and gateway are the version's.
type deployMessage struct {
	Kind           string `json:"kind"`
	Commit         string `json:"commit,omitempty"`
	Dirty          bool   `json:"dirty,omitempty"`
	Previous       string `json:"prev,omitempty"`
	ManifestPath   string `json:"mp,omitempty"`
	ManifestDigest string `json:"md,omitempty"`
	Who            string `json:"who,omitempty"`
	Note           string `json:"note,omitempty"`
	// DNS names the placeholder records this deploy created (see routes.go).
	DNS []string `json:"dns,omitempty"`
}

// encodeMessage renders rec as a deployment message of at most maxMessage bytes, cutting the note (then
// the manifest path) when it does not fit.
func encodeMessage(rec providers.DeployRecord, createdDNS ...string) string {
	m := deployMessage{Kind: rec.Kind, Commit: rec.Commit, Dirty: rec.Dirty, Previous: rec.Previous.Version,
		ManifestPath: rec.ManifestPath, ManifestDigest: rec.ManifestDigest, Who: rec.Who, Note: rec.Note, DNS: createdDNS}
	for {
		b, _ := json.Marshal(m)
		s := messagePrefix + string(b)
		if len(s) <= maxMessage {
			return s
		}
		switch {
		case m.Note != "":
			cut := len(m.Note) - (len(s) - maxMessage) - 3
			if cut < 0 {
				cut = 0
			}
			if cut == 0 {
				m.Note = ""
			} else {
				m.Note = validPrefix(m.Note, cut) + "…"
			}
		case m.ManifestPath != "":
			m.ManifestPath = ""
		case len(m.DNS) > 0:
			m.DNS = m.DNS[:len(m.DNS)-1]
		default:
			m.Who = validPrefix(m.Who, 64)
			b, _ = json.Marshal(m)
			return messagePrefix + string(b)
		}
	}
}

func validPrefix(s string, n int) string {
	if n >= len(s) {
		return s
	}
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n]
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// decodeMessage reads a deployment message written by encodeMessage; ok is false for a deployment made
// otherwise (wrangler, the dashboard, a secret change).
func decodeMessage(s string) (deployMessage, bool) {
	var m deployMessage
	if !strings.HasPrefix(s, messagePrefix) {
		return m, false
	}
	if json.Unmarshal([]byte(s[len(messagePrefix):]), &m) != nil || m.Kind == "" {
		return m, false
	}
	return m, true
}

// records turns deployments (newest first, as the API lists them) into deploy records, oldest first,
// keeping only those edgegw made.
func records(deps []deployment) []providers.DeployRecord {
	var out []providers.DeployRecord
	for i := len(deps) - 1; i >= 0; i-- {
		d := deps[i]
		m, ok := decodeMessage(d.Message)
		if !ok {
			continue
		}
		out = append(out, providers.DeployRecord{
			Seq: len(out) + 1, Target: Name, Kind: m.Kind, Version: d.primary(),
			Previous: providers.RestorePoint{Target: Name, Version: m.Previous},
			Commit:   m.Commit, Dirty: m.Dirty, ManifestPath: m.ManifestPath, ManifestDigest: m.ManifestDigest,
			Who: m.Who, Time: d.Created.UTC(), Note: m.Note,
		})
	}
	return out
}

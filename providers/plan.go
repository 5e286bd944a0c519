package providers

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/render"
)

// Action is what a change does.
type Action string

// Actions.
const (
	Create Action = "create"
	Update Action = "update"
	Delete Action = "delete"
)

// Symbol is the one-character mark used in human output (+ ~ -).
func (a Action) Symbol() string {
	switch a {
	case Create:
		return "+"
	case Delete:
		return "-"
	default:
		return "~"
	}
}

// Change is one planned change, data only. Route and domain changes point back to the manifest.
type Change struct {
	Action Action `json:"action"`
	// Kind is "artifact", "route" or "domain", or a kind of the target's own ("custom_domain", "dictionary item", …).
	Kind string `json:"kind"`
	Name string `json:"name"` // artifact path, route name or host
	// Pos is the manifest position (the new one; the old one for a deletion, when known).
	Pos    ir.Pos `json:"pos,omitzero"`
	Before string `json:"before,omitempty"` // artifact digest before
	After  string `json:"after,omitempty"`  // artifact digest after
	Apex   bool   `json:"apex,omitempty"`   // a domain change on a zone apex
}

// PlannedArtifact is a rendered artifact as the plan file keeps it: apply ships exactly these bytes.
type PlannedArtifact struct {
	Path      string `json:"path"`
	MediaType string `json:"media_type"`
	Digest    string `json:"digest"`
	Canonical string `json:"canonical,omitempty"` // see render.Artifact.Canonical
	Size      int    `json:"size"`
	MaxBytes  int    `json:"max_bytes,omitempty"` // the target's size limit on it (render.Artifact.MaxBytes)
	Data      []byte `json:"data"`
}

// Artifact converts back to a render.Artifact.
func (a PlannedArtifact) Artifact(target string) render.Artifact {
	return render.Artifact{Target: target, Path: a.Path, MediaType: a.MediaType, Data: a.Data, Canonical: a.Canonical, MaxBytes: a.MaxBytes}
}

// ArtifactDigest is an artifact's identity in a deploy record.
type ArtifactDigest struct {
	Path   string `json:"path"`
	Digest string `json:"digest"`
	Size   int    `json:"size"`
	// Canonical is the digest of the artifact rendered without positions, when it differs (render.Artifact).
	Canonical string `json:"canonical,omitempty"`
}

// decision is the digest a change is decided on.
func (a ArtifactDigest) decision() string {
	if a.Canonical != "" {
		return a.Canonical
	}
	return a.Digest
}

// RestorePoint is what the target returns to when an apply fails or a rollback is asked for. It is captured
// at plan time, before anything is activated.
type RestorePoint struct {
	Target string `json:"target"`
	// Version is the vendor's version id live at plan time; empty when nothing was deployed.
	Version string `json:"version"`
	// Detail holds what else the vendor needs to restore (e.g. a kept function's ETag).
	Detail map[string]string `json:"detail,omitempty"`
}

// TargetPlan is the plan of one target.
type TargetPlan struct {
	Target   string `json:"target"`
	Renderer string `json:"renderer"`
	// BaseToken is the vendor's concurrency token (version id, ETag, fingerprint) the plan was made against.
	BaseToken    string            `json:"base_token"`
	LiveVersion  string            `json:"live_version,omitempty"`
	RestorePoint RestorePoint      `json:"restore_point"`
	Changes      []Change          `json:"changes"`
	Artifacts    []PlannedArtifact `json:"artifacts"`
	// PositionsOnly is set when the live artifacts differ from the desired ones only in what positions
	// produce (comments citing manifest lines): that is no change, and plan says so once.
	PositionsOnly bool `json:"positions_only,omitempty"`
	// LiveRoutes counts the routes live at plan time, for the deletion threshold.
	LiveRoutes int `json:"live_routes"`
	// Offline is set when the live state could not be read (no credentials): the plan shows what would be
	// shipped but cannot be applied.
	Offline       bool   `json:"offline,omitempty"`
	OfflineReason string `json:"offline_reason,omitempty"`
	// Live holds the live artifacts, for the diff shown at plan time; the plan file does not keep them.
	Live []render.Artifact `json:"-"`
	// Warnings are what the provider found wrong with the live state while reading it (a damaged live
	// artifact, a record an interrupted apply did not write), each with its repair.
	Warnings []string `json:"warnings,omitempty"`
}

// PositionsOnly reports whether some target differs from the manifest only in comments or positions.
func (p *Plan) PositionsOnly() bool {
	for _, t := range p.Targets {
		if t.PositionsOnly && !t.HasChanges() {
			return true
		}
	}
	return false
}

// HasChanges reports whether applying p would change the target.
func (p *TargetPlan) HasChanges() bool { return len(p.Changes) > 0 }

// Count returns how many changes of each action p holds, counting only kind.
func (p *TargetPlan) Count(kind string) (create, update, del int) {
	for _, c := range p.Changes {
		if c.Kind != kind {
			continue
		}
		switch c.Action {
		case Create:
			create++
		case Update:
			update++
		case Delete:
			del++
		}
	}
	return
}

// RenderedArtifacts returns the plan's artifacts as render artifacts.
func (p *TargetPlan) RenderedArtifacts() []render.Artifact {
	out := make([]render.Artifact, len(p.Artifacts))
	for i, a := range p.Artifacts {
		out[i] = a.Artifact(p.Renderer)
	}
	return out
}

// Digests returns the artifact digests for a deploy record.
func (p *TargetPlan) Digests() []ArtifactDigest {
	out := make([]ArtifactDigest, len(p.Artifacts))
	for i, a := range p.Artifacts {
		out[i] = ArtifactDigest{Path: a.Path, Digest: a.Digest, Size: a.Size, Canonical: a.Canonical}
	}
	return out
}

// LiveState is what a provider read from the vendor, the input of Diff.
type LiveState struct {
	Token   string
	Version string // "" when nothing is deployed
	// Artifacts are the live artifacts, when the vendor gives them back as the renderer produced them;
	// a provider that cannot may leave them nil and report Record instead.
	Artifacts []render.Artifact
	// Record is the deploy record the provider wrote for the live version. Its artifact digests and gateway
	// summary are compared with the manifest, never re-serialised vendor state.
	Record *DeployRecord
	// Gateway is the live IR when the target keeps it (local). Nil otherwise.
	Gateway *ir.Gateway
	Detail  map[string]string
}

// GatewaySummary identifies what a gateway does, for deploy records: the digest of its canonical IR, and
// each route's and domain's digest, routes in IR order. It carries no positions.
type GatewaySummary struct {
	Digest  string          `json:"digest"`
	Routes  []EntityDigest  `json:"routes"`
	Domains []DomainSummary `json:"domains"`
}

// EntityDigest is a named IR entity and the digest of its meaning.
type EntityDigest struct {
	Name   string `json:"name"`
	Digest string `json:"digest"`
}

// DomainSummary is a domain in a GatewaySummary.
type DomainSummary struct {
	Host   string `json:"host"`
	Apex   bool   `json:"apex,omitempty"`
	Digest string `json:"digest"`
}

// Summarize returns the summary of g; nil for a nil gateway.
func Summarize(g *ir.Gateway) *GatewaySummary {
	if g == nil {
		return nil
	}
	s := &GatewaySummary{Digest: digestJSON(g), Routes: []EntityDigest{}, Domains: []DomainSummary{}}
	for _, r := range g.Routes {
		s.Routes = append(s.Routes, EntityDigest{Name: r.Name, Digest: digestJSON(r)})
	}
	for _, d := range g.Domains {
		s.Domains = append(s.Domains, DomainSummary{Host: d.Host, Apex: d.Apex, Digest: digestJSON(d)})
	}
	return s
}

// digestJSON digests the canonical JSON of v, which holds no positions (ir's json tags leave them out).
func digestJSON(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// plannedDigests returns the digests of artifacts.
func plannedDigests(arts []render.Artifact) []ArtifactDigest {
	out := make([]ArtifactDigest, len(arts))
	for i, a := range arts {
		out[i] = ArtifactDigest{Path: a.Path, Digest: a.Digest(), Size: len(a.Data), Canonical: a.Canonical}
	}
	return out
}

// Plan artifacts from desired artifacts.
func plannedArtifacts(arts []render.Artifact) []PlannedArtifact {
	out := make([]PlannedArtifact, len(arts))
	for i, a := range arts {
		out[i] = PlannedArtifact{Path: a.Path, MediaType: a.MediaType, Digest: a.Digest(), Canonical: a.Canonical, Size: len(a.Data), MaxBytes: a.MaxBytes, Data: a.Data}
	}
	return out
}

// Diff builds a target plan from the live state and the desired artifacts. Providers call it from Plan so
// every target reports changes the same way. Route and domain changes are listed when the live IR is known
// (or nothing is live) and at least one artifact changes.
func Diff(target, renderer string, live LiveState, in PlanInput) *TargetPlan {
	p := &TargetPlan{
		Target: target, Renderer: renderer, BaseToken: live.Token, LiveVersion: live.Version,
		RestorePoint: RestorePoint{Target: target, Version: live.Version, Detail: live.Detail},
		Artifacts:    plannedArtifacts(in.Artifacts), Live: live.Artifacts,
	}
	liveSummary := Summarize(live.Gateway)
	if liveSummary == nil && live.Record != nil {
		liveSummary = live.Record.Gateway
	}
	if liveSummary != nil {
		p.LiveRoutes = len(liveSummary.Routes)
	}
	// Artifacts are compared by digest: the live ones as the vendor gave them back, or, when it does not,
	// as the live record says they were shipped.
	var liveArts []ArtifactDigest
	if live.Artifacts == nil && live.Record != nil {
		liveArts = live.Record.Artifacts
	} else {
		liveArts = plannedDigests(live.Artifacts)
	}
	diffKeyed(liveArts, p.Digests(), func(a ArtifactDigest) string { return a.Path },
		func(o, n ArtifactDigest, _, _ int) bool {
			if o.decision() == n.decision() {
				if o.Digest != n.Digest {
					p.PositionsOnly = true // only comments or positions differ: nothing to deploy
				}
				return false
			}
			return true
		},
		func(act Action, o, n *ArtifactDigest) {
			c := Change{Action: act, Kind: "artifact"}
			if o != nil {
				c.Name, c.Before = o.Path, o.Digest
			}
			if n != nil {
				c.Name, c.After = n.Path, n.Digest
			}
			p.Changes = append(p.Changes, c)
		})
	if !p.HasChanges() || in.Gateway == nil {
		return p
	}
	if liveSummary != nil || live.Version == "" {
		p.Changes = append(p.Changes, summaryChanges(liveSummary, in.Gateway, live.Gateway)...)
	}
	return p
}

// GatewayChanges lists the route and domain changes from old (nil: nothing live) to new.
func GatewayChanges(old, new *ir.Gateway) []Change {
	return summaryChanges(Summarize(old), new, old)
}

// summaryChanges lists the route and domain changes from old (nil: nothing live) to new. Positions come
// from new, and for deletions from oldIR when it is known.
func summaryChanges(old *GatewaySummary, new, oldIR *ir.Gateway) []Change {
	if old == nil {
		old = &GatewaySummary{}
	}
	cur := Summarize(new)
	var out []Change
	// A route that moved in the precedence order changed meaning even if its own fields did not.
	diffKeyed(old.Routes, cur.Routes, func(r EntityDigest) string { return r.Name },
		func(o, n EntityDigest, oi, ni int) bool { return oi != ni || o.Digest != n.Digest },
		func(act Action, o, n *EntityDigest) {
			c := Change{Action: act, Kind: "route"}
			if n != nil {
				c.Name, c.Pos = n.Name, new.Route(n.Name).Pos
			} else {
				c.Name = o.Name
				if oldIR != nil && oldIR.Route(o.Name) != nil {
					c.Pos = oldIR.Route(o.Name).Pos
				}
			}
			out = append(out, c)
		})
	domainPos := func(g *ir.Gateway, host string) ir.Pos {
		if g != nil {
			for _, d := range g.Domains {
				if d.Host == host {
					return d.Pos
				}
			}
		}
		return ir.Pos{}
	}
	diffKeyed(old.Domains, cur.Domains, func(d DomainSummary) string { return d.Host },
		func(o, n DomainSummary, _, _ int) bool { return o.Digest != n.Digest },
		func(act Action, o, n *DomainSummary) {
			c := Change{Action: act, Kind: "domain", Apex: (n != nil && n.Apex) || (o != nil && o.Apex)}
			if n != nil {
				c.Name, c.Pos = n.Host, domainPos(new, n.Host)
			} else {
				c.Name, c.Pos = o.Host, domainPos(oldIR, o.Host)
			}
			out = append(out, c)
		})
	return out
}

// diffKeyed compares two lists of items identified by key: emit is called with Create (o nil) or Update for
// the new items, in new order, then with Delete (n nil) for the old items that are gone, in old order.
func diffKeyed[T any](old, new []T, key func(T) string, changed func(o, n T, oi, ni int) bool, emit func(act Action, o, n *T)) {
	oldAt := make(map[string]int, len(old))
	for i, x := range old {
		oldAt[key(x)] = i
	}
	for ni := range new {
		k := key(new[ni])
		oi, ok := oldAt[k]
		switch {
		case !ok:
			emit(Create, nil, &new[ni])
		case changed(old[oi], new[ni], oi, ni):
			emit(Update, &old[oi], &new[ni])
		}
		delete(oldAt, k)
	}
	for oi := range old {
		if _, gone := oldAt[key(old[oi])]; gone {
			emit(Delete, &old[oi], nil)
		}
	}
}

// PlanFormatVersion is the version of the saved plan file. Apply refuses another version.
const PlanFormatVersion = 1

// Plan is a whole plan, and the saved plan file (`plan -out plan.json`). It never holds secret values: the
// IR carries only references, and secrets are resolved at apply time.
type Plan struct {
	FormatVersion  int           `json:"format_version"`
	EdgegwVersion  string        `json:"edgegw_version,omitempty"`
	CreatedAt      time.Time     `json:"created_at"`
	ManifestPath   string        `json:"manifest_path"`
	ManifestDigest string        `json:"manifest_digest"`
	Commit         string        `json:"commit"` // "" when the manifest is not in a git repository
	Dirty          bool          `json:"dirty,omitempty"`
	Targets        []*TargetPlan `json:"targets"`
	// Skipped lists configured targets that have no provider in this build, with the reason.
	Skipped []SkippedTarget `json:"skipped,omitempty"`
	// Problems are offline failures (render errors, size limits) per target; a plan with problems cannot
	// be applied.
	Problems []TargetProblem `json:"problems,omitempty"`
}

// SkippedTarget is a configured target that was not planned.
type SkippedTarget struct {
	Target string `json:"target"`
	Reason string `json:"reason"`
}

// TargetProblem is an offline failure of one target.
type TargetProblem struct {
	Target string `json:"target"`
	Error  string `json:"error"`
	// Pos is where the manifest asks for what failed: the route a render error names, or the target's block
	// for a size limit.
	Pos ir.Pos `json:"pos,omitempty"`
}

// Unplanned returns an error naming every configured target whose live state this plan could not read: no
// provider in this build (Skipped), or no credentials (Offline). A plan with such a target cannot prove that
// the live targets match the manifest, so apply refuses it and `plan --detailed-exitcode` does not exit 0.
// It is nil when every configured target (or every one --target asked for) was planned.
func (p *Plan) Unplanned() error {
	var parts []string
	var creds *CredentialsError
	for _, s := range p.Skipped {
		parts = append(parts, s.Target+": "+s.Reason)
	}
	for _, t := range p.Targets {
		if t.Offline {
			parts = append(parts, t.Target+": "+t.OfflineReason)
			if creds == nil {
				creds = &CredentialsError{Target: t.Target, Err: errors.New(t.OfflineReason)}
			}
		}
	}
	if len(parts) == 0 {
		return nil
	}
	err := &UnplannedError{Targets: parts}
	if len(p.Skipped) == 0 && creds != nil {
		err.Credentials = creds
	}
	return err
}

// UnplannedError says which configured targets a plan could not read. Credentials is set when missing
// credentials are the only reason, so the command exits with the credentials code.
type UnplannedError struct {
	Targets     []string
	Credentials *CredentialsError
}

func (e *UnplannedError) Error() string {
	return "providers: configured targets could not be planned, so nothing proves they match the manifest: " +
		strings.Join(e.Targets, "; ") + " (give them credentials, use an edgegw build that includes them, or leave them out on purpose with --target)"
}

// Unwrap exposes the credentials error for the exit code.
func (e *UnplannedError) Unwrap() error {
	if e.Credentials == nil {
		return nil
	}
	return e.Credentials
}

// HasChanges reports whether any target has changes.
func (p *Plan) HasChanges() bool {
	return slices.ContainsFunc(p.Targets, func(t *TargetPlan) bool { return t.HasChanges() })
}

// Target returns the plan of one target, or nil.
func (p *Plan) Target(name string) *TargetPlan {
	for _, t := range p.Targets {
		if t.Target == name {
			return t
		}
	}
	return nil
}

// Marshal returns the plan file's bytes.
func (p *Plan) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("providers: marshal plan: %w", err)
	}
	return append(b, '\n'), nil
}

// ReadPlan parses a saved plan file; name is used in messages.
func ReadPlan(name string, data []byte) (*Plan, error) {
	var head struct {
		FormatVersion int `json:"format_version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("providers: read plan %s: %w (is it a file written by `edgegw plan -out`?)", name, err)
	}
	if head.FormatVersion != PlanFormatVersion {
		return nil, fmt.Errorf("providers: read plan %s: format version %d, this edgegw reads version %d: re-run `edgegw plan -out %s`",
			name, head.FormatVersion, PlanFormatVersion, name)
	}
	var p Plan
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("providers: read plan %s: %w", name, err)
	}
	return &p, nil
}

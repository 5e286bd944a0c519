// Package local is the embedded target: it deploys the rendered IR (gateway.ir.json) into versioned
// directories on this machine so a new user can plan, apply, serve (`edgegw dev`), roll back and read the
// history with no cloud account.
//
// Layout of the target directory (`.edgegw/local/` next to the manifest, or `targets.local.dir`):
//
//	versions/<n>/gateway.ir.json   every version ever staged, kept
//	versions/<n>/.pending-record.json  the record an activation of <n> is about to write
//	current -> versions/<n>        the live version; activation is one atomic rename of a new symlink
//	records/<seq>.json             the deploy records, one file each, written by rename
//	lock                           held during apply and rollback, names its holder
//
// What is live is what `current` points at, whatever the records say: plan and history, which run without
// the lock, read it so, and the next command that takes the lock writes the record a killed activation
// left pending and removes its leftovers (see readState and repair).
//
// The package does not interpret the gateway; `edgegw dev` serves what Active returns.
package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/render"
	"github.com/edgegw/edgegw/render/irjson"
)

// Name is the target name.
const Name = "local"

// DefaultDir is the target directory, relative to the manifest's directory, when targets.local.dir is unset.
const DefaultDir = ".edgegw/local"

const (
	currentLink = "current"
	versionsDir = "versions"
	recordsDir  = "records"
	lockFile    = "lock"
)

func init() {
	const gw = "the reference gateway (`edgegw dev`) executes the IR itself"
	providers.Register(providers.Registration{
		Name:          Name,
		OldNames:      []string{"ref"},
		Renderer:      irjson.Name,
		Settings:      func() any { return &Settings{} },
		CheckSettings: checkSettings,
		Capabilities: providers.Capabilities{
			providers.MatchExact:             providers.Can(gw),
			providers.MatchPrefix:            providers.Can(gw + ", on segment boundaries"),
			providers.MatchTemplate:          providers.Can(gw),
			providers.MatchRegex:             providers.Can("Go RE2 in the reference gateway"),
			providers.MatchHeader:            providers.Can(gw),
			providers.MatchMethod:            providers.Can(gw),
			providers.MatchHost:              providers.Can(gw),
			providers.Respond:                providers.Can(gw),
			providers.Redirect:               providers.Can(gw),
			providers.Rewrite:                providers.Can(gw),
			providers.JWTHS256:               providers.Can("Go crypto; the key is read from the environment at serve time"),
			providers.JWTRS256:               providers.Can("Go crypto in the reference gateway"),
			providers.JWTES256:               providers.Can("Go crypto in the reference gateway"),
			providers.JWTOther:               providers.Can("every algorithm the reference gateway verifies"),
			providers.RateLimitSub:           providers.Can("in-process sliding window (one process, not shared)"),
			providers.RateLimitIP:            providers.Can("in-process sliding window (one process, not shared)"),
			providers.RateLimitHdr:           providers.Can("in-process sliding window (one process, not shared)"),
			providers.Failover:               providers.Can("the reference reverse proxy retries the next origin"),
			providers.Breaker:                providers.Can("in-process breaker state"),
			providers.CORS:                   providers.Can(gw),
			providers.HSTS:                   providers.Can(gw),
			providers.Transform:              providers.Can(gw),
			providers.NativeRollback:         providers.Can("every version is kept; rollback swaps the `current` symlink"),
			providers.PathNormalize:          providers.Can("the reference gateway normalizes once, before matching, and fails closed"),
			providers.SyntheticErrors:        providers.Can("the reference gateway answers from the IR's error table"),
			providers.HSTSOnErrors:           providers.Can("HSTS is set on every response the reference gateway writes"),
			providers.HSTSOnUpstreamErrors:   providers.Can("the reference gateway's 502 and 504 for an unreachable or timed-out origin carry HSTS like every answer"),
			providers.ResponseOnOriginErrors: providers.Can("the reference gateway writes the response transform, the CORS headers and the Location mapping on every answer"),
		},
		NotReverted: []string{"an `edgegw dev -f edgegw.yaml` serves the manifest, not the deploy; `edgegw dev` with no -f follows the rollback"},
		Credentials: "none",
		New:         New,
	})
}

// Provider deploys to a directory.
type Provider struct {
	dir string
	fs  FS
}

var (
	_ providers.Provider = (*Provider)(nil)
	_ providers.Stager   = (*Provider)(nil)
	_ providers.Verifier = (*Provider)(nil)
	_ providers.Locker   = (*Provider)(nil)
)

// New builds the provider from the manifest's `targets.local`.
func New(cfg providers.Config) (providers.Provider, error) {
	return Open(Dir(cfg.BaseDir, DirOf(cfg.Gateway)), OSFS{}), nil
}

// Dir resolves a target directory as written in the manifest against the manifest's directory.
func Dir(baseDir, dir string) string {
	if dir == "" {
		dir = DefaultDir
	}
	if filepath.IsAbs(dir) {
		return dir
	}
	return filepath.Join(baseDir, dir)
}

// Open returns a provider for dir that uses fsys.
func Open(dir string, fsys FS) *Provider { return &Provider{dir: dir, fs: fsys} }

// Name implements providers.Provider.
func (p *Provider) Name() string { return Name }

func (p *Provider) path(elem ...string) string {
	return filepath.Join(append([]string{p.dir}, elem...)...)
}

// liveVersion returns the live version number, 0 when nothing is live.
func (p *Provider) liveVersion() (int, error) {
	target, err := p.fs.Readlink(p.path(currentLink))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("providers/local: read %s: %w", p.path(currentLink), err)
	}
	n, err := strconv.Atoi(strings.TrimPrefix(filepath.ToSlash(target), versionsDir+"/"))
	if err != nil {
		return 0, fmt.Errorf("providers/local: %s points at %q, not versions/<n>: remove it and apply again", p.path(currentLink), target)
	}
	return n, nil
}

// lastSeq returns the sequence number of the newest record, 0 when none.
func (p *Provider) lastSeq() (int, error) {
	ents, err := p.fs.ReadDir(p.path(recordsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("providers/local: read records: %w", err)
	}
	last := 0
	for _, e := range ents {
		if n, err := strconv.Atoi(strings.TrimSuffix(e.Name(), ".json")); err == nil && n > last {
			last = n
		}
	}
	return last, nil
}

// token is the concurrency token: the newest record and the live version, so any apply, rollback or hand
// edit of `current` in between makes a saved plan stale. A record an interrupted activation did not write
// counts as written, so writing it (repair, under the next lock) does not make a plan stale.
func (p *Provider) token() (string, *state, error) {
	st, err := p.readState()
	if err != nil {
		return "", nil, err
	}
	seq := st.newest
	if st.unrecorded != nil {
		seq = st.unrecorded.Seq
	}
	return fmt.Sprintf("record-%d/version-%d", seq, st.live), st, nil
}

// state is the local target as it is on disk, read without the lock: the live version is what `current`
// points at, whatever the records say.
type state struct {
	live    int
	recs    []providers.DeployRecord // the records that could be read, oldest first
	skipped []providers.SkippedRecord
	newest  int // sequence number of the newest record file, readable or not
	// unrecorded is the record of the live version when an interrupted activation did not write it: the
	// pending record the activation left, or a note saying none is known. The next command that takes
	// the lock writes it (repair).
	unrecorded *providers.DeployRecord
	// damagedLive stands for the newest record when it cannot be read: it names the live version (what
	// `current` points at) and nothing else, and is never written.
	damagedLive *providers.DeployRecord
}

func (p *Provider) readState() (*state, error) {
	v, err := p.liveVersion()
	if err != nil {
		return nil, err
	}
	recs, skipped, newest, err := readRecords(p.fs, p.dir)
	if err != nil {
		return nil, err
	}
	st := &state{live: v, recs: recs, skipped: skipped, newest: newest}
	lastVersion := ""
	if len(recs) > 0 {
		last := recs[len(recs)-1]
		lastVersion = last.Version
	}
	if len(recs) == 0 && newest > 0 || len(recs) > 0 && recs[len(recs)-1].Seq != newest {
		// The newest record is damaged: what it said is unknown, so nothing is written over it.
		st.damagedLive = &providers.DeployRecord{Seq: newest, Target: Name, Kind: "unknown", Version: versionID(v),
			Note: fmt.Sprintf("record %d cannot be read; version %s is what current points at", newest, orNone(versionID(v)))}
		return st, nil
	}
	if lastVersion == versionID(v) {
		return st, nil
	}
	rec := providers.DeployRecord{Target: Name, Kind: "repair", Version: versionID(v), Who: "edgegw",
		Note: "version " + versionID(v) + " is live with no record of it (an activation was interrupted, or current was changed by hand)"}
	if v == 0 {
		rec.Note = "nothing is live, but the newest record says version " + lastVersion + " (a deactivation was interrupted, or current was removed by hand)"
	} else if b, err := p.fs.ReadFile(p.path(versionsDir, strconv.Itoa(v), pendingRecord)); err == nil {
		var pending providers.DeployRecord
		if json.Unmarshal(b, &pending) == nil && pending.Version == versionID(v) {
			rec = pending
			rec.Note = strings.TrimSpace(rec.Note + " (its activation was interrupted before the record was written)")
		}
	}
	rec.Seq = newest + 1
	rec.Previous = providers.RestorePoint{Target: Name, Version: lastVersion}
	st.unrecorded = &rec
	return st, nil
}

// warnings says what is wrong with the state, for plan.
func (st *state) warnings(dir string) []string {
	var w []string
	if st.unrecorded != nil {
		w = append(w, fmt.Sprintf("version %s is live in %s but its deploy record was not written (an apply or rollback was interrupted); the next apply or rollback writes it",
			orNone(st.unrecorded.Version), dir))
	}
	if len(st.skipped) > 0 {
		w = append(w, (&providers.SkippedRecordsError{Target: Name, Skipped: st.skipped}).Error())
	}
	return w
}

func orNone(v string) string {
	if v == "" {
		return "none"
	}
	return v
}

func versionID(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// Plan implements providers.Provider.
func (p *Provider) Plan(ctx context.Context, in providers.PlanInput) (*providers.TargetPlan, error) {
	tok, st, err := p.token()
	if err != nil {
		return nil, err
	}
	v := st.live
	warnings := st.warnings(p.dir)
	live := providers.LiveState{Token: tok, Version: versionID(v)}
	if v > 0 {
		file := p.path(versionsDir, strconv.Itoa(v), irjson.FileName)
		data, err := p.fs.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("providers/local: read live version %d: %w (restore the folder, or point %s at another version with `edgegw rollback --version N`)", v, err, p.path(currentLink))
		}
		live.Artifacts = []render.Artifact{{Target: irjson.Name, Path: irjson.FileName, MediaType: "application/json", Data: data}}
		var g ir.Gateway
		if err := json.Unmarshal(data, &g); err != nil {
			// Planned as a change of every byte: applying deploys a sound version over it.
			warnings = append(warnings, fmt.Sprintf("the live version %d is damaged: %s is not valid IR (%v); `edgegw dev` cannot serve it: apply to deploy a new version, or roll back", v, file, err))
		} else {
			live.Gateway = &g
		}
	}
	tp := providers.Diff(Name, irjson.Name, live, in)
	tp.Warnings = append(tp.Warnings, warnings...)
	return tp, nil
}

// Stage implements providers.Stager: it writes a new version directory, not live yet.
func (p *Provider) Stage(ctx context.Context, tp *providers.TargetPlan) (*providers.Staged, error) {
	n, err := p.nextVersion()
	if err != nil {
		return nil, err
	}
	final := p.path(versionsDir, strconv.Itoa(n))
	tmp := p.path(versionsDir, ".staging-"+strconv.Itoa(n))
	if err := p.fs.MkdirAll(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("providers/local: stage version %d: %w", n, err)
	}
	killPoint("stage-dir")
	for _, a := range tp.Artifacts {
		clean := path.Clean(a.Path)
		if strings.HasPrefix(clean, "../") || path.IsAbs(clean) || clean == ".." {
			return nil, fmt.Errorf("providers/local: stage version %d: artifact path %q leaves the version directory", n, a.Path)
		}
		if d := path.Dir(clean); d != "." {
			if err := p.fs.MkdirAll(filepath.Join(tmp, filepath.FromSlash(d)), 0o755); err != nil {
				return nil, fmt.Errorf("providers/local: stage version %d: %w", n, err)
			}
		}
		if err := p.fs.WriteFile(filepath.Join(tmp, filepath.FromSlash(clean)), a.Data, 0o644); err != nil {
			return nil, fmt.Errorf("providers/local: stage version %d: %w", n, err)
		}
	}
	killPoint("stage-files")
	// A version directory appears complete or not at all.
	if err := p.fs.Rename(tmp, final); err != nil {
		return nil, fmt.Errorf("providers/local: stage version %d: %w", n, err)
	}
	killPoint("stage")
	return &providers.Staged{Target: Name, Version: strconv.Itoa(n), Plan: tp}, nil
}

func (p *Provider) nextVersion() (int, error) {
	ents, err := p.fs.ReadDir(p.path(versionsDir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("providers/local: read versions: %w", err)
	}
	last := 0
	for _, e := range ents {
		name := strings.TrimPrefix(e.Name(), ".staging-")
		if n, err := strconv.Atoi(name); err == nil && n > last {
			last = n
		}
	}
	return last + 1, nil
}

// Activate implements providers.Stager.
func (p *Provider) Activate(ctx context.Context, s *providers.Staged, rec providers.DeployRecord) (*providers.Result, error) {
	tok, _, err := p.token()
	if err != nil {
		return nil, err
	}
	if s.Plan != nil && tok != s.Plan.BaseToken {
		return nil, &providers.StalePlanError{Target: Name, Reason: fmt.Sprintf("the live state moved from %q to %q", s.Plan.BaseToken, tok)}
	}
	n, _ := strconv.Atoi(s.Version)
	return p.activate(n, rec)
}

// Apply implements providers.Provider: stage then activate.
func (p *Provider) Apply(ctx context.Context, tp *providers.TargetPlan, rec providers.DeployRecord) (*providers.Result, error) {
	s, err := p.Stage(ctx, tp)
	if err != nil {
		return nil, err
	}
	return p.Activate(ctx, s, rec)
}

// activate points `current` at version n (0: nothing live) and writes the record. The record is written
// first as pending inside the version's directory, so a process killed between the link swap and the
// record leaves what the next command needs to write the record (see repair).
func (p *Provider) activate(n int, rec providers.DeployRecord) (*providers.Result, error) {
	rec.Target, rec.Version = Name, versionID(n)
	if n > 0 {
		b, err := json.MarshalIndent(rec, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("providers/local: marshal record: %w", err)
		}
		pending := p.path(versionsDir, strconv.Itoa(n), pendingRecord)
		if err := p.fs.WriteFile(pending+".tmp", b, 0o644); err != nil {
			return nil, fmt.Errorf("providers/local: activate version %d: %w", n, err)
		}
		killPoint("pending-tmp")
		if err := p.fs.Rename(pending+".tmp", pending); err != nil {
			return nil, fmt.Errorf("providers/local: activate version %d: %w", n, err)
		}
		killPoint("pending")
	}
	link := p.path(currentLink)
	if n == 0 {
		if err := p.fs.Remove(link); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("providers/local: deactivate: %w", err)
		}
	} else {
		tmp := p.path(".current-" + strconv.Itoa(n))
		_ = p.fs.Remove(tmp) // left by a crash between symlink and rename
		if err := p.fs.Symlink(versionsDir+"/"+strconv.Itoa(n), tmp); err != nil {
			return nil, fmt.Errorf("providers/local: activate version %d: %w", n, err)
		}
		killPoint("link-tmp")
		// rename(2) replaces the old link atomically: readers see the old version or the new one.
		if err := p.fs.Rename(tmp, link); err != nil {
			return nil, fmt.Errorf("providers/local: activate version %d: %w (is %s writable?)", n, err, p.dir)
		}
	}
	killPoint("link")
	seq, err := p.writeRecord(rec)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		_ = p.fs.Remove(p.path(versionsDir, strconv.Itoa(n), pendingRecord))
		killPoint("pending-removed")
	}
	return &providers.Result{Target: Name, Version: versionID(n), Record: seq}, nil
}

// pendingRecord is the record an activation of its version is about to write.
const pendingRecord = ".pending-record.json"

// repair makes the records agree with `current` after a process was killed mid-activation: it writes the
// record of the live version the activation left pending (or, without one, a repair record saying so). It
// also removes what killed commands left behind. It runs with the lock held, so no other apply is writing.
// It returns what it did, for the user.
func (p *Provider) repair() ([]string, error) {
	var did []string
	st, err := p.readState()
	if err != nil {
		return nil, err
	}
	if u := st.unrecorded; u != nil {
		rec := *u
		if rec.Kind != "repair" {
			rec.Note = strings.Replace(rec.Note, "(its activation was interrupted before the record was written)", "(recorded after an interrupted activation)", 1)
		}
		if _, err := p.writeRecord(rec); err != nil {
			return nil, err
		}
		did = append(did, fmt.Sprintf("wrote the missing record of live version %s", orNone(rec.Version)))
	}
	// Leftovers of killed commands: staging directories, temporary links and records, pending records.
	clean := func(dir, prefix string) {
		ents, _ := p.fs.ReadDir(dir)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), prefix) {
				if err := p.fs.RemoveAll(filepath.Join(dir, e.Name())); err == nil {
					did = append(did, "removed "+filepath.Join(dir, e.Name()))
				}
			}
		}
	}
	clean(p.path(versionsDir), ".staging-")
	clean(p.dir, ".current-")
	clean(p.path(recordsDir), ".")
	vers, _ := p.fs.ReadDir(p.path(versionsDir))
	for _, e := range vers {
		if _, err := strconv.Atoi(e.Name()); err == nil && e.IsDir() {
			clean(p.path(versionsDir, e.Name()), pendingRecord)
		}
	}
	return did, nil
}

func (p *Provider) writeRecord(rec providers.DeployRecord) (int, error) {
	seq, err := p.lastSeq()
	if err != nil {
		return 0, err
	}
	rec.Seq = seq + 1
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return 0, fmt.Errorf("providers/local: marshal record: %w", err)
	}
	if seq == 0 {
		if err := p.fs.MkdirAll(p.path(recordsDir), 0o755); err != nil {
			return 0, fmt.Errorf("providers/local: write record: %w", err)
		}
	}
	name := fmt.Sprintf("%06d.json", rec.Seq)
	tmp := p.path(recordsDir, "."+name)
	if err := p.fs.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return 0, fmt.Errorf("providers/local: write record %d: %w", rec.Seq, err)
	}
	killPoint("record-tmp")
	if err := p.fs.Rename(tmp, p.path(recordsDir, name)); err != nil {
		return 0, fmt.Errorf("providers/local: write record %d: %w", rec.Seq, err)
	}
	killPoint("record")
	return rec.Seq, nil
}

// Rollback implements providers.Provider: re-activate a kept version (no copy, one symlink swap).
func (p *Provider) Rollback(ctx context.Context, rp providers.RestorePoint, rec providers.DeployRecord) (*providers.Result, error) {
	n := 0
	if rp.Version != "" {
		var err error
		if n, err = strconv.Atoi(rp.Version); err != nil {
			return nil, fmt.Errorf("providers/local: roll back to version %q: not a local version number", rp.Version)
		}
		if _, err := p.fs.Stat(p.path(versionsDir, rp.Version, irjson.FileName)); err != nil {
			return nil, fmt.Errorf("providers/local: roll back to version %d: %w (the version directory was removed from %s)", n, err, p.dir)
		}
	}
	return p.activate(n, rec)
}

// History implements providers.Provider: the records, and last, when an interrupted activation did not
// write it, the record of what is live. Records that cannot be read are skipped and returned in a
// *providers.SkippedRecordsError with the others.
func (p *Provider) History(ctx context.Context) ([]providers.DeployRecord, error) {
	st, err := p.readState()
	if err != nil {
		return nil, err
	}
	recs := st.recs
	if st.unrecorded != nil {
		recs = append(recs, *st.unrecorded)
	}
	if st.damagedLive != nil {
		recs = append(recs, *st.damagedLive)
	}
	if len(st.skipped) > 0 {
		return recs, &providers.SkippedRecordsError{Target: Name, Skipped: st.skipped}
	}
	return recs, nil
}

// readRecords reads every record, skipping (and returning) the ones that cannot be read. newest is the
// sequence number of the newest record file, readable or not.
func readRecords(fsys FS, dir string) (recs []providers.DeployRecord, skipped []providers.SkippedRecord, newest int, err error) {
	rdir := filepath.Join(dir, recordsDir)
	ents, err := fsys.ReadDir(rdir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, 0, nil
	}
	if err != nil {
		return nil, nil, 0, fmt.Errorf("providers/local: read records in %s: %w", dir, err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		seq, _ := strconv.Atoi(strings.TrimSuffix(e.Name(), ".json"))
		newest = max(newest, seq)
		file := filepath.Join(rdir, e.Name())
		b, err := fsys.ReadFile(file)
		var r providers.DeployRecord
		if err == nil {
			err = json.Unmarshal(b, &r)
		}
		if err == nil && r.Seq != seq {
			err = fmt.Errorf("it says it is record %d", r.Seq)
		}
		if err != nil {
			skipped = append(skipped, providers.SkippedRecord{Seq: seq, File: file, Err: err.Error()})
			continue
		}
		recs = append(recs, r)
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Seq < recs[j].Seq })
	return recs, skipped, newest, nil
}

// Verify implements providers.Verifier: the live link must point at the version just activated and its
// artifact must parse as the IR `edgegw dev` will serve.
func (p *Provider) Verify(ctx context.Context, r *providers.Result) error {
	_, v, err := Active(p.dir)
	if err != nil {
		return err
	}
	if versionID(v) != r.Version {
		return fmt.Errorf("providers/local: verify: version %s is live, expected %s (did another apply run?)", versionID(v), r.Version)
	}
	return nil
}

// Lock implements providers.Locker with a file created exclusively.
func (p *Provider) Lock(ctx context.Context, info providers.LockInfo) (func() error, error) {
	if err := p.fs.MkdirAll(p.dir, 0o755); err != nil {
		return nil, fmt.Errorf("providers/local: lock %s: %w", p.dir, err)
	}
	b, _ := json.Marshal(info)
	err := p.fs.CreateExclusive(p.path(lockFile), b)
	for attempt := 0; errors.Is(err, fs.ErrExist); attempt++ {
		held, rerr := p.readLock()
		if errors.Is(rerr, providers.ErrNoLock) && attempt < 20 {
			// Released between our create and our read: try again.
			err = p.fs.CreateExclusive(p.path(lockFile), b)
			continue
		}
		if rerr != nil {
			return nil, rerr
		}
		return nil, &providers.LockedError{Target: Name, Holder: held}
	}
	if err != nil {
		return nil, fmt.Errorf("providers/local: lock %s: %w", p.dir, err)
	}
	killPoint("lock")
	if _, err := p.repair(); err != nil {
		_ = p.fs.Remove(p.path(lockFile))
		return nil, err
	}
	return func() error {
		held, err := p.readLock()
		if err != nil || held.ID != info.ID {
			return nil // broken by --force-unlock: the lock is someone else's now
		}
		return p.fs.Remove(p.path(lockFile))
	}, nil
}

func (p *Provider) readLock() (providers.LockInfo, error) {
	var held providers.LockInfo
	b, err := p.fs.ReadFile(p.path(lockFile))
	if errors.Is(err, fs.ErrNotExist) {
		return held, providers.ErrNoLock
	}
	if err != nil {
		return held, fmt.Errorf("providers/local: read lock: %w", err)
	}
	if err := json.Unmarshal(b, &held); err != nil || held.ID == "" {
		return providers.LockInfo{ID: UnreadableLockID}, fmt.Errorf("providers/local: lock file %s is unreadable: if no apply or rollback is running, break it with --force-unlock %s", p.path(lockFile), UnreadableLockID)
	}
	return held, nil
}

// UnreadableLockID is the id --force-unlock takes to break a lock file that does not parse (left by a
// process killed while writing it by an older edgegw, or damaged by hand).
const UnreadableLockID = "unreadable"

// ForceUnlock implements providers.Locker.
func (p *Provider) ForceUnlock(ctx context.Context, id string) error {
	held, err := p.readLock()
	if err != nil && !(held.ID == UnreadableLockID && id == UnreadableLockID) {
		return err
	}
	if held.ID != id {
		return fmt.Errorf("providers/local: unlock %s: the lock on %s has id %s (held by %s): nothing was broken", id, p.dir, held.ID, held.Who)
	}
	return p.fs.Remove(p.path(lockFile))
}

// Active returns the live gateway of a local target directory and its version number, for `edgegw dev`
// when no manifest is given. It fails with a message saying to apply when nothing is live.
func Active(dir string) (*ir.Gateway, int, error) {
	p := Open(dir, OSFS{})
	v, err := p.liveVersion()
	if err != nil {
		return nil, 0, err
	}
	if v == 0 {
		return nil, 0, fmt.Errorf("%w in %s: run `edgegw apply` first", ErrNothingDeployed, dir)
	}
	data, err := p.fs.ReadFile(p.path(versionsDir, strconv.Itoa(v), irjson.FileName))
	if err != nil {
		return nil, 0, fmt.Errorf("providers/local: read version %d: %w", v, err)
	}
	var g ir.Gateway
	if err := json.Unmarshal(data, &g); err != nil {
		return nil, 0, fmt.Errorf("providers/local: version %d in %s is not valid IR: %w", v, dir, err)
	}
	return &g, v, nil
}

// ErrNothingDeployed is returned by Active when no version is live: a state, not damage.
var ErrNothingDeployed = errors.New("providers/local: nothing is deployed")

// History returns the deploy records of a local target directory, oldest first, as Provider.History does.
func History(dir string) ([]providers.DeployRecord, error) {
	return Open(dir, OSFS{}).History(context.Background())
}

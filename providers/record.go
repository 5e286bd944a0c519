package providers

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// Record kinds.
const (
	KindApply    = "apply"
	KindRollback = "rollback"
	// KindRestore is written when a failed apply put the restore point back.
	KindRestore = "restore"
)

// DeployRecord says which manifest commit went live on a target, when, by whom, as which vendor version,
// and what it replaced. Providers keep records with the target (the local provider in its directory,
// vendors in their annotation fields as `git:<sha>`), so they survive an ephemeral CI runner.
type DeployRecord struct {
	Seq    int    `json:"seq"` // 1-based, in the order records were written
	Target string `json:"target"`
	Kind   string `json:"kind"`
	// Version is the vendor version id made live.
	Version string `json:"version"`
	// Previous is the restore point: what was live before.
	Previous RestorePoint `json:"previous"`
	// Commit is the manifest's git commit; "" when the manifest is not in a git repository.
	Commit         string           `json:"commit"`
	Dirty          bool             `json:"dirty,omitempty"` // the manifest differed from Commit
	ManifestPath   string           `json:"manifest_path,omitempty"`
	ManifestDigest string           `json:"manifest_digest,omitempty"`
	Artifacts      []ArtifactDigest `json:"artifacts,omitempty"`
	// Gateway is what the version does, without positions: plan compares it with the manifest, so route
	// changes and the deletion and apex guards work on every target, also on those that keep no IR.
	Gateway *GatewaySummary `json:"gateway,omitempty"`
	Who     string          `json:"who"`
	Time    time.Time       `json:"time"`
	Note    string          `json:"note,omitempty"`
}

// CommitLabel is the commit for display: short sha, "+dirty", or "(not in git)".
func (r DeployRecord) CommitLabel() string {
	if r.Commit == "" {
		return "(not in git)"
	}
	c := r.Commit
	if len(c) > 12 {
		c = c[:12]
	}
	if r.Dirty {
		c += "+dirty"
	}
	return c
}

// Who names the person or CI job deploying: $GITHUB_ACTOR in GitHub Actions, else user@host, else (no
// $USER, as in many containers) git's user.name and user.email, as a commit would name them.
func Who(getenv func(string) string) string {
	if a := getenv("GITHUB_ACTOR"); a != "" {
		return "github:" + a
	}
	u := getenv("USER")
	if u == "" {
		u = getenv("USERNAME")
	}
	if u == "" {
		if id := gitIdentity("."); id != "" {
			return id
		}
		u = "unknown"
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		u += "@" + h
	}
	return u
}

// LockInfo names the holder of a target's lock.
type LockInfo struct {
	ID        string    `json:"id"`
	Who       string    `json:"who"`
	Operation string    `json:"operation"` // apply, rollback
	PID       int       `json:"pid"`
	Created   time.Time `json:"created"`
}

// StalePlanError refuses a plan made against live state that has since moved.
type StalePlanError struct {
	Target string // "" for the manifest
	Reason string
}

func (e *StalePlanError) Error() string {
	where := "the manifest"
	if e.Target != "" {
		where = e.Target
	}
	return fmt.Sprintf("providers: stale plan: %s: %s; run `edgegw plan` again and review the new plan", where, e.Reason)
}

// LockedError refuses an apply while another holds the target's lock.
type LockedError struct {
	Target string
	Holder LockInfo
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("providers: %s is locked by %s (%s, pid %d, since %s, lock id %s); if that run is dead, break the lock with `edgegw unlock %s` (or re-run with --force-unlock %s)",
		e.Target, e.Holder.Who, e.Holder.Operation, e.Holder.PID, e.Holder.Created.Format(time.RFC3339), e.Holder.ID, e.Holder.ID, e.Holder.ID)
}

// ThresholdError refuses a risky plan without --force.
type ThresholdError struct{ Reasons []string }

func (e *ThresholdError) Error() string {
	return "providers: refusing a risky apply: " + strings.Join(e.Reasons, "; ") + "; review the plan and re-run with --force"
}

// CredentialsError reports missing or rejected vendor credentials; Var names what to set.
type CredentialsError struct {
	Target string
	Var    string
	Err    error
}

func (e *CredentialsError) Error() string {
	msg := "providers/" + e.Target + ": no credentials"
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Var != "" {
		msg += " (set " + e.Var + ")"
	}
	return msg
}

func (e *CredentialsError) Unwrap() error { return e.Err }

// SkippedRecord is a deploy record that could not be read.
type SkippedRecord struct {
	Seq  int    // from the file name; 0 when the name says none
	File string // where it is
	Err  string // why it could not be read
}

// SkippedRecordsError is returned by History together with the records that could be read, when some
// could not: one damaged record must not hide the others. Callers warn and go on where that is safe.
type SkippedRecordsError struct {
	Target  string
	Skipped []SkippedRecord
}

func (e *SkippedRecordsError) Error() string {
	var parts []string
	for _, s := range e.Skipped {
		parts = append(parts, fmt.Sprintf("%s (%s)", s.File, s.Err))
	}
	return fmt.Sprintf("providers/%s: deploy record %s cannot be read and is skipped: restore it from a backup, or move it out of the records folder to drop it from the history",
		e.Target, strings.Join(parts, ", "))
}

// ErrNothingToRollBack is returned when a target has no earlier deploy to return to.
var ErrNothingToRollBack = errors.New("nothing to roll back to")

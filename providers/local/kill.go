package local

import "os"

// KillAtEnv names a write step at which the local provider kills its own process, as `kill -9` would. It
// is a test hook: TestKilledAtEveryWriteStep runs apply and rollback with it set to each of WriteSteps and
// checks that the next commands report the state truthfully and repair it. Unset, it does nothing.
const KillAtEnv = "EDGEGW_LOCAL_KILL_AT"

// WriteSteps are the points just after each write an apply makes to the target directory, in order; a
// rollback makes the writes from "pending-tmp" on.
var WriteSteps = []string{
	"lock",            // the lock file is linked into place
	"stage-dir",       // versions/.staging-N is created
	"stage-files",     // the artifacts are written into it
	"stage",           // it is renamed to versions/N
	"pending-tmp",     // the pending record is written to a temporary file
	"pending",         // and renamed into versions/N
	"link-tmp",        // the new link .current-N is created
	"link",            // and renamed over current: N is live
	"record-tmp",      // the record is written to records/.NNNNNN.json
	"record",          // and renamed into records/
	"pending-removed", // the pending record is removed
}

func killPoint(step string) {
	if os.Getenv(KillAtEnv) != step {
		return
	}
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		_ = p.Kill()
	}
	select {} // the signal is on its way
}

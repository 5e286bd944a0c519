// Package cmdutil holds what every command shares: the Factory of injected dependencies, the output
// formats, and the one place where errors become exit codes.
package cmdutil

import (
	"context"
	"errors"
	"os"
	"syscall"

	"github.com/edgegw/edgegw/manifest"
)

// Exit codes. They are decided in ExitCode and nowhere else.
const (
	ExitOK          = 0   // success (and, with --detailed-exitcode, no changes)
	ExitError       = 1   // any error, an invalid manifest included
	ExitChanges     = 2   // changes or drift present, with --detailed-exitcode
	ExitPartial     = 3   // apply partly failed (the targets already switched were restored)
	ExitCredentials = 4   // missing or rejected credentials
	ExitBlocked     = 5   // blocked by a safety check (stale plan, lock held, DNS preflight, thresholds, a rollback that needs --force)
	ExitInterrupted = 130 // interrupted (SIGINT), as shells report 128+2
	ExitTerminated  = 143 // terminated (SIGTERM), as shells report 128+15
)

// SignalExitCode is the exit code of a command stopped by sig.
func SignalExitCode(sig os.Signal) int {
	if sig == syscall.SIGTERM {
		return ExitTerminated
	}
	return ExitInterrupted
}

// AnnotationFinishInFlight marks a command (in cobra.Command.Annotations) whose first SIGINT or SIGTERM
// only cancels its context, so vendor calls in flight finish and state stays consistent; every other
// command exits at once.
const AnnotationFinishInFlight = "edgegw/finish-in-flight"

// ChangesPresentError reports that a plan has changes; returned only with --detailed-exitcode.
type ChangesPresentError struct{}

func (ChangesPresentError) Error() string { return "changes present" }

// PartialApplyError reports an apply that failed part-way.
type PartialApplyError struct{ Err error }

func (e *PartialApplyError) Error() string { return e.Err.Error() }
func (e *PartialApplyError) Unwrap() error { return e.Err }

// CredentialsError reports missing or rejected credentials; Err (e.g. a providers.CredentialsError) says
// which variable to set.
type CredentialsError struct{ Err error }

func (e *CredentialsError) Error() string { return e.Err.Error() }
func (e *CredentialsError) Unwrap() error { return e.Err }

// BlockedError reports a safety check that refused to go on.
type BlockedError struct{ Err error }

func (e *BlockedError) Error() string { return e.Err.Error() }
func (e *BlockedError) Unwrap() error { return e.Err }

// SilentError is an error whose message was already printed (e.g. diagnostics); only the code remains.
type SilentError struct {
	Code int
	Err  error
}

func (e *SilentError) Error() string { return e.Err.Error() }
func (e *SilentError) Unwrap() error { return e.Err }

// ExitCode maps an error to the process exit code. This is the only place that decides it.
func ExitCode(err error) int {
	var (
		silent  *SilentError
		partial *PartialApplyError
		creds   *CredentialsError
		blocked *BlockedError
		diags   *manifest.DiagnosticsError
	)
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &silent):
		return silent.Code
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	case errors.As(err, &ChangesPresentError{}):
		return ExitChanges
	case errors.As(err, &partial):
		return ExitPartial
	case errors.As(err, &creds):
		return ExitCredentials
	case errors.As(err, &blocked):
		return ExitBlocked
	case errors.As(err, &diags):
		return ExitError
	default:
		return ExitError
	}
}

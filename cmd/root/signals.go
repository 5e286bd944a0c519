package root

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/edgegw/edgegw/cmd/cmdutil"
)

// watchSignals handles SIGINT and SIGTERM for one run of the command tree, and returns the function that
// stops handling them.
//
// A command marked cmdutil.AnnotationFinishInFlight (apply, rollback) has vendor calls in flight: stopping
// between a stage and an activate would leave a target half switched, so the first signal only cancels the
// context and the command finishes what it started; a second one exits at once. Every other command holds
// nothing that must finish (validate, render and plan write nothing remote), so the first signal exits at
// once, with the code a shell expects for that signal.
func watchSignals(f *cmdutil.Factory, root *cobra.Command, args []string, cancel context.CancelFunc) (stop func()) {
	finish := false
	if target, _, err := root.Find(args); err == nil {
		_, finish = target.Annotations[cmdutil.AnnotationFinishInFlight]
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		n := 0
		for {
			var sig os.Signal
			select {
			case sig = <-sigs:
			case <-done:
				return
			}
			n++
			if finish && n == 1 {
				fmt.Fprintln(f.IO.ErrOut, "edgegw: interrupted: finishing calls in flight (press Ctrl-C again to abort)")
				cancel()
				continue
			}
			fmt.Fprintln(f.IO.ErrOut, "edgegw: aborted")
			code := cmdutil.SignalExitCode(sig)
			f.FinishJSON(&cmdutil.SilentError{Code: code, Err: fmt.Errorf("aborted by %v", sig)}) // the stream still ends with its summary
			os.Exit(code)
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
	}
}

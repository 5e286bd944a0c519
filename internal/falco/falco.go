// Package falco runs rendered Fastly VCL in falco (github.com/ysugimoto/falco, pinned in tools/falco/go.mod):
// `falco lint` for every rendered file, and an Engine that loads the test-mode VCL into falco's simulator
// (`falco simulate --proxy`), a local HTTP server that executes the VCL and proxies to the backends it picks,
// so a test's requests reach real loopback origins.
//
// It owns processes and temporary files, never gateway semantics: what the VCL does is render/fastly's.
package falco

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// BinaryEnv names a falco binary to use instead of building the pinned one.
const BinaryEnv = "EDGEGW_FALCO"

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// Binary returns a falco binary: $EDGEGW_FALCO when set, else the version pinned in tools/falco/go.mod, built
// once per process into a temporary directory from the Go build cache (scripts/install-test-deps.sh fills it).
func Binary() (string, error) {
	if p := os.Getenv(BinaryEnv); p != "" {
		return p, nil
	}
	buildOnce.Do(func() {
		root, err := repoRoot()
		if err != nil {
			buildErr = err
			return
		}
		dir, err := os.MkdirTemp("", "edgegw-falco-")
		if err != nil {
			buildErr = fmt.Errorf("falco: %w", err)
			return
		}
		out := filepath.Join(dir, "falco")
		cmd := exec.Command("go", "build", "-modfile="+filepath.Join(root, "tools", "falco", "go.mod"), "-o", out,
			"github.com/ysugimoto/falco/cmd/falco")
		cmd.Dir = root
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			buildErr = fmt.Errorf("falco: build the pinned falco (go build -modfile=tools/falco/go.mod): %v: %s; run scripts/install-test-deps.sh", err, stderr.String())
			return
		}
		buildPath = out
	})
	return buildPath, buildErr
}

// repoRoot finds the directory holding tools/falco/go.mod, from the working directory up.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("falco: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "tools", "falco", "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("falco: tools/falco/go.mod not found above the working directory; run from the edgegw repository or set " + BinaryEnv)
		}
		dir = parent
	}
}

// Lint runs `falco lint` on a VCL file and returns its output; err is set when falco reports errors.
func Lint(ctx context.Context, vclPath string) (string, error) {
	bin, err := Binary()
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, bin, "lint", vclPath)
	cmd.Dir = filepath.Dir(vclPath)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("falco: lint %s: %v", vclPath, err)
	}
	return string(out), nil
}

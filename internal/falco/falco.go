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
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/edgegw/edgegw/gateway/testrun"
)

// BinaryEnv names a falco binary to use instead of building the pinned one.
const BinaryEnv = "EDGEGW_FALCO"

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// Binary returns a falco binary: $EDGEGW_FALCO when set, else the version pinned in tools/falco/go.mod (see
// cachedBuild).
func Binary() (string, error) {
	if p := os.Getenv(BinaryEnv); p != "" {
		return p, nil
	}
	buildOnce.Do(func() {
		buildPath, buildErr = cachedBuild("falco", "-modfile=tools/falco/go.mod", "github.com/ysugimoto/falco/cmd/falco")
	})
	return buildPath, buildErr
}

// cachedBuild builds a command of the tools/falco module into the user cache directory, named by a digest
// of the module's files, so every test process after the first reuses it and a change of version rebuilds
// it. The build writes a temporary file and renames it, so parallel test processes never see half a binary.
func cachedBuild(name string, args ...string) (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, f := range []string{"go.mod", "go.sum", filepath.Join("simulate", "main.go")} {
		b, err := os.ReadFile(filepath.Join(root, "tools", "falco", f))
		if err != nil {
			return "", fmt.Errorf("falco: %w", err)
		}
		h.Write(b)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "edgegw", "falco-"+hex.EncodeToString(h.Sum(nil))[:16])
	out := filepath.Join(dir, name)
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("falco: %w", err)
	}
	tmp, err := os.CreateTemp(dir, name+".tmp-")
	if err != nil {
		return "", fmt.Errorf("falco: %w", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	cmd := exec.Command("go", append([]string{"build", "-o", tmp.Name()}, args...)...)
	cmd.Dir = root
	if name == "simulate" {
		cmd.Dir = filepath.Join(root, "tools", "falco")
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("falco: go build %s: %v: %s; run scripts/install-test-deps.sh: %w", strings.Join(args, " "), err, stderr.String(), testrun.ErrRuntimeMissing)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return "", fmt.Errorf("falco: %w", err)
	}
	return out, nil
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
			return "", fmt.Errorf("falco: tools/falco/go.mod not found above the working directory; run from the edgegw repository or set %s: %w", BinaryEnv, testrun.ErrRuntimeMissing)
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

//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/manifest"
)

// nearLimitShapes are inputs at or just past the pre-scan's limits, each at most manifest.MaxFileBytes:
// the worst a file under the size limit can do to the parser.
func nearLimitShapes() map[string][]byte {
	const fill = manifest.MaxFileBytes - 1024
	repeatTo := func(prefix, item, suffix string) []byte {
		var b bytes.Buffer
		b.WriteString(prefix)
		for b.Len()+len(item)+len(suffix) < fill {
			b.WriteString(item)
		}
		b.WriteString(suffix)
		return b.Bytes()
	}
	lines := func(prefix string, n int, line func(i int) string) []byte {
		var b bytes.Buffer
		b.WriteString(prefix)
		for i := 0; i < n; i++ {
			b.WriteString(line(i))
		}
		return b.Bytes()
	}
	const head = "version: 1\nname: t\ndomains:\n  - {host: api.example.com, zone: example.com}\norigins:\n  o: {url: https://o.internal}\npools:\n  p: {origins: [o]}\n"
	shapes := map[string][]byte{
		// 10,000 routes, the documented limit, valid.
		"routes=10000": lines(head+"routes:\n", 10000, func(i int) string {
			switch {
			case i == 9999:
				return "  - {name: default, match: {fallback: true}, pool: p}\n"
			case i%3 == 0:
				return fmt.Sprintf("  - {name: r%d, match: {path: {exact: /svc%d/health}}, respond: {status: 200, body: ok}}\n", i, i)
			case i%3 == 1:
				return fmt.Sprintf("  - {name: r%d, match: {path: {prefix: /svc%d}, headers: {X-Canary-Release: \"true\"}}, pool: p}\n", i, i)
			}
			return fmt.Sprintf("  - {name: r%d, match: {path: {template: \"/svc%d/users/{id}\"}, methods: [GET]}, pool: p}\n", i, i)
		}),
		// One mapping at the key limit, each key holding a mapping; and a 10,000-key mapping, refused.
		"keys=5000": lines("version: 1\norigins:\n", 5000, func(i int) string {
			return fmt.Sprintf("  o%d: {url: https://o%d.internal, health: {path: /h, interval: 10s}}\n", i, i)
		}),
		"keys=10000": lines("version: 1\norigins:\n", 10000, func(i int) string { return fmt.Sprintf("  o%d: {url: https://o%d.internal}\n", i, i) }),
		// Many large mappings: the sum of their squared keys is what the parser pays.
		"mappings of 4000 keys": lines("version: 1\nx:\n", 120_000, func(i int) string {
			if i%4000 == 0 {
				return fmt.Sprintf("  m%d:\n", i)
			}
			return fmt.Sprintf("    k%d: v\n", i)
		}),
		// About the value limit as block and flow lists, and as long strings that fill the file.
		"values: block list":   []byte("version: 1\nroutes:\n" + strings.Repeat("- 1\n", 124_990)),
		"values: flow list":    []byte("version: 1\nroutes: [" + strings.Repeat("1,", 124_990) + "1]\n"),
		"values: long strings": lines("version: 1\nroutes:\n", 124_990, func(int) string { return "- \"" + strings.Repeat("x y ", 32) + "\"\n" }),
		"long flow list":       repeatTo("version: 1\nroutes: [", "1,", "1]\n"),
		// Deep nesting, one level under the limit, many times over.
		"deep flow":  []byte("version: 1\nname: [" + strings.Repeat(strings.Repeat("[", 30)+strings.Repeat("]", 30)+",", 7800) + "1]\n"),
		"deep block": []byte("version: 1\nroutes:\n" + strings.Repeat(strings.Repeat("- ", 30)+"x\n", 3900)),
		// Long scalars: at the scalar limit until the file is full, and one that fills it.
		"scalars at their limit": repeatTo("version: 1\nx:\n", "  - \""+strings.Repeat("ab cd ", (256<<10)/6-2)+"\"\n", ""),
		"one 16 MiB scalar":      []byte("version: 1\nname: \"" + strings.Repeat("a", fill) + "\"\n"),
		// What costs the parser without being a value: comments, blank lines, spaces.
		"comments":    repeatTo("version: 1\n", "# "+strings.Repeat("c", 77)+"\n", ""),
		"blank lines": []byte("version: 1\n" + strings.Repeat("\n", fill)),
		"spaces":      []byte("version: 1\nname: a" + strings.Repeat(" ", fill) + "\n"),
	}
	return shapes
}

// TestValidateNearLimitsStaysBounded runs `edgegw validate` in a child process on each near-limit shape:
// every one must end under 256 MiB of peak RSS and within 2 s of CPU time (user and system, the garbage
// collector's included). CPU time rather than wall time, and the best of up to five runs, so that other work on
// a shared machine does not fail it; the memory must hold on every run.
func TestValidateNearLimitsStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("runs validate on 16 MiB inputs")
	}
	const maxRSS, maxTime = 256 << 20, 2 * time.Second
	dir := t.TempDir()
	for name, data := range nearLimitShapes() {
		if len(data) > manifest.MaxFileBytes {
			t.Fatalf("%s: %d bytes, over the file limit: the size check would refuse it before the parser", name, len(data))
		}
		file := filepath.Join(dir, strings.NewReplacer(" ", "-", ":", "", "=", "-").Replace(name)+".yaml")
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		best := time.Duration(1<<63 - 1)
		for run := 0; run < 5 && best >= maxTime; run++ {
			hwm := filepath.Join(dir, "hwm")
			_ = os.Remove(hwm)
			cmd := exec.Command(os.Args[0], "validate", "-f", file)
			cmd.Env = append(os.Environ(), "EDGEGW_RUN_MAIN=1", "EDGEGW_HWM_FILE="+hwm)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			start := time.Now()
			err := cmd.Run()
			elapsed := time.Since(start)
			if _, ok := err.(*exec.ExitError); err != nil && !ok {
				t.Fatalf("%s: %v", name, err)
			}
			if code := cmd.ProcessState.ExitCode(); code != 0 && code != 1 {
				t.Fatalf("%s: exit %d, want 0 or 1 (a verdict):\n%.2000s", name, code, stderr.String())
			}
			kib, err := os.ReadFile(hwm)
			if err != nil {
				t.Fatalf("%s: the child did not report its peak RSS: %v", name, err)
			}
			rss, err := strconv.ParseInt(string(kib), 10, 64)
			if err != nil {
				t.Fatalf("%s: VmHWM %q: %v", name, kib, err)
			}
			rss <<= 10
			cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
			first, _, _ := strings.Cut(stderr.String(), "\n")
			t.Logf("%-24s %8d bytes: %v CPU (%v wall), %.0f MiB peak RSS, exit %d: %.100s", name, len(data), cpu.Round(time.Millisecond),
				elapsed.Round(time.Millisecond), float64(rss)/(1<<20), cmd.ProcessState.ExitCode(), strings.TrimPrefix(first, dir+"/"))
			if rss >= maxRSS {
				t.Errorf("%s: validate peaked at %.0f MiB; the bound is %d MiB", name, float64(rss)/(1<<20), maxRSS>>20)
			}
			best = min(best, cpu)
		}
		if best >= maxTime {
			t.Errorf("%s: validate took %v of CPU at best of five runs; the bound is %v", name, best.Round(time.Millisecond), maxTime)
		}
	}
}

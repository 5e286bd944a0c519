package cmd_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/cmd"
	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/cmd/root"
	"github.com/edgegw/edgegw/internal/clitest"
)

// jsonArgs are the arguments a command needs to do its main job in the test's folder; a command not
// listed runs with none (and, succeeding or failing, must still follow the contract).
var jsonArgs = map[string][]string{
	"apply":      {"--auto-approve"},
	"render":     {"--out", "dist"},
	"verify-dns": {"--nameserver", "example.com=127.0.0.1:9", "--timeout", "100ms", "--retries", "-1", "--deadline", "2s"},
}

// TestEveryCommandFollowsTheJSONContract runs every command of the tree with --format json and checks the
// contract the README states: the first line is the version line, the last the summary with the exit
// code, every line in between one JSON object with a type, and every position {"file","line","col"}.
// Commands that print a document of their own (schema, dev, completion) are exempt by annotation.
func TestEveryCommandFollowsTheJSONContract(t *testing.T) {
	_ = cmd.Main // link every command, as the binary does
	src, err := os.ReadFile(filepath.Join("..", "testdata", "examples", "quickstart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	if err := os.WriteFile("edgegw.yaml", src, 0o644); err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(src), "pool: app", "pool: ap", 1)
	if bad == string(src) {
		t.Fatal("the quick-start manifest has no `pool: app` to break")
	}
	if err := os.WriteFile("bad.yaml", []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}

	f := &cmdutil.Factory{IO: cmdutil.TestIO(nil, nil, nil), Getenv: func(string) string { return "" }, Now: time.Now}
	var runs [][]string
	for _, c := range root.NewCmdRoot(f).Commands() {
		name := c.Name()
		if c.Annotations[cmdutil.AnnotationNoJSONStream] != "" || name == "help" || name == "completion" || c.Hidden {
			continue
		}
		runs = append(runs, append([]string{name}, jsonArgs[name]...))
	}
	if len(runs) < 10 {
		t.Fatalf("only %d commands found: %v", len(runs), runs)
	}
	// An invalid manifest: diagnostics are messages of the stream too, with their position.
	// (init finds a manifest in the folder and fails: a failing command must still end its stream.)
	runs = append(runs, []string{"validate", "-f", "bad.yaml"}, []string{"test", "-f", "bad.yaml"}, []string{"plan", "-f", "bad.yaml"})
	// A command line that does not parse still gets its stream.
	runs = append(runs, []string{"validate", "--no-such-flag"})

	for _, args := range runs {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := clitest.Run(map[string]string{"USER": "ci"}, append(args, "--format", "json")...)
			lines := strings.Split(strings.TrimRight(r.Stdout, "\n"), "\n")
			if len(lines) < 2 {
				t.Fatalf("exit %d: want at least the version and the summary lines, stdout %q stderr %q", r.Code, r.Stdout, r.Stderr)
			}
			var first struct{ Type, Schema, Command string }
			if err := json.Unmarshal([]byte(lines[0]), &first); err != nil || first.Type != "version" || first.Schema != cmdutil.JSONSchema || first.Command != args[0] {
				t.Errorf("first line %q (%v): want {\"type\":\"version\",\"schema\":%q,\"command\":%q,…}", lines[0], err, cmdutil.JSONSchema, args[0])
			}
			var last struct {
				Type, Command string
				OK            *bool
				ExitCode      *int `json:"exit_code"`
			}
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Type != "summary" || last.Command != args[0] ||
				last.ExitCode == nil || *last.ExitCode != r.Code || last.OK == nil {
				t.Errorf("last line %q (%v): want {\"type\":\"summary\",\"command\":%q,\"ok\":…,\"exit_code\":%d}", lines[len(lines)-1], err, args[0], r.Code)
			}
			for _, l := range lines {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Errorf("not one JSON object: %q", l)
					continue
				}
				if _, ok := m["type"].(string); !ok {
					t.Errorf("a message without a type: %q", l)
				}
				checkPositions(t, l, m)
			}
		})
	}
}

// checkPositions fails on any "pos" that is not {"file","line","col"} with a line of at least 1, and on
// any line 0 in a diagnostic's range.
func checkPositions(t *testing.T, line string, v any) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if k == "pos" {
				p, ok := e.(map[string]any)
				l, lok := p["line"].(float64)
				_, cok := p["col"].(float64)
				_, fok := p["file"].(string)
				if !ok || !lok || !cok || !fok || l < 1 {
					t.Errorf("pos is not {\"file\",\"line\",\"col\"}: %v in %q", e, line)
				}
			}
			if k == "line" {
				if l, ok := e.(float64); ok && l < 1 {
					t.Errorf("line %v in %q", l, line)
				}
			}
			checkPositions(t, line, e)
		}
	case []any:
		for _, e := range x {
			checkPositions(t, line, e)
		}
	}
}

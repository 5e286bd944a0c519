package apply_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/internal/clitest"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	_ "github.com/edgegw/edgegw/cmd" // every command and provider, as in the binary
	"github.com/edgegw/edgegw/cmd/apply"
	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/providers/fake"
	"github.com/edgegw/edgegw/providers/local"
)

type result struct {
	code           int
	stdout, stderr string
}

// edgegw runs the command tree in-process, in the current directory, like the binary would.
func edgegw(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	r := clitest.Run(env, args...)
	return result{r.Code, r.Stdout, r.Stderr}
}

func quickstart(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../testdata/examples/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// workdir makes a fresh directory holding edgegw.yaml and moves into it.
func workdir(t *testing.T, manifest []byte) string {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	write(t, "edgegw.yaml", manifest)
	return dir
}

func write(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustCode(t *testing.T, r result, want int, what string) {
	t.Helper()
	if r.code != want {
		t.Fatalf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", what, r.code, want, r.stdout, r.stderr)
	}
}

func activeBody(t *testing.T, route string) (string, int) {
	t.Helper()
	g, v, err := local.Active(local.DefaultDir)
	if err != nil {
		t.Fatal(err)
	}
	r := g.Route(route)
	if r == nil || r.Respond == nil {
		t.Fatalf("version %d has no respond route %s", v, route)
	}
	return r.Respond.Body, v
}

func commit(t *testing.T, repo *git.Repository, msg string) string {
	t.Helper()
	wt, _ := repo.Worktree()
	if _, err := wt.Add("edgegw.yaml"); err != nil {
		t.Fatal(err)
	}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: &object.Signature{Name: "dev", Email: "dev@example.com", When: time.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

// TestQuickStart runs the README quick start: plan, apply (version 1), serve the active version, edit and
// apply (version 2), roll back (version 1 again), history shows both, and rollback --to a git ref.
func TestQuickStart(t *testing.T) {
	v1 := quickstart(t)
	dir := workdir(t, v1)
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	write(t, ".gitignore", []byte(".edgegw/\n"))
	sha1 := commit(t, repo, "quick start")
	env := map[string]string{"USER": "alice"}

	r := edgegw(t, env, "plan")
	mustCode(t, r, 0, "plan")
	if !strings.Contains(r.stdout, "routes: 3 to add") || !strings.Contains(r.stdout, "+ route health  edgegw.yaml:12:5") {
		t.Errorf("plan does not list the routes with their lines:\n%s", r.stdout)
	}
	r = edgegw(t, env, "apply", "--auto-approve")
	mustCode(t, r, 0, "apply")
	if !strings.Contains(r.stderr, "version 1 is live") {
		t.Errorf("apply output:\n%s", r.stderr)
	}
	if body, v := activeBody(t, "health"); v != 1 || body != "ok" {
		t.Fatalf("active = version %d body %q, want version 1 body ok", v, body)
	}

	write(t, "edgegw.yaml", bytes.Replace(v1, []byte("body: ok}"), []byte("body: ok-v2}"), 1))
	sha2 := commit(t, repo, "v2")
	r = edgegw(t, env, "plan", "--detailed-exitcode")
	mustCode(t, r, 2, "plan --detailed-exitcode with changes")
	if !strings.Contains(r.stdout, `-        "body": "ok"`) || !strings.Contains(r.stdout, `+        "body": "ok-v2"`) {
		t.Errorf("plan shows no unified diff of the artifact:\n%s", r.stdout)
	}
	mustCode(t, edgegw(t, env, "apply", "--auto-approve"), 0, "apply v2")
	if body, v := activeBody(t, "health"); v != 2 || body != "ok-v2" {
		t.Fatalf("after the edit: version %d body %q", v, body)
	}

	r = edgegw(t, env, "rollback")
	mustCode(t, r, 0, "rollback")
	if body, v := activeBody(t, "health"); v != 1 || body != "ok" {
		t.Fatalf("after rollback: version %d body %q, want version 1 back", v, body)
	}
	if !strings.Contains(r.stderr, "Not reverted:") || !strings.Contains(r.stderr, "DNS records") {
		t.Errorf("rollback does not say what it did not revert:\n%s", r.stderr)
	}

	r = edgegw(t, env, "history")
	mustCode(t, r, 0, "history")
	for _, want := range []string{sha1[:12], sha2[:12], "rollback from version 2 to 1", "alice@"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("history lacks %q:\n%s", want, r.stdout)
		}
	}
	r = edgegw(t, env, "history", "--format", "json")
	msgs := ndjson(t, r.stdout)
	var versions []string
	for _, m := range msgs {
		if m["type"] == "record" {
			versions = append(versions, m["version"].(string))
		}
	}
	if strings.Join(versions, ",") != "1,2,1" {
		t.Errorf("history records versions %v, want 1,2,1", versions)
	}

	// The manifest on disk is v2; --to the first commit renders v1 from git and applies it as version 3.
	r = edgegw(t, env, "rollback", "--to", sha1)
	mustCode(t, r, 0, "rollback --to")
	r = edgegw(t, env, "rollback", "--to", sha2)
	mustCode(t, r, 0, "rollback --to v2")
	if body, v := activeBody(t, "health"); v != 3 || body != "ok-v2" {
		t.Fatalf("after rollback --to %s: version %d body %q, want version 3 with ok-v2", sha2[:7], v, body)
	}
	recs, _ := local.History(local.DefaultDir)
	if last := recs[len(recs)-1]; last.Commit != sha2 || last.Kind != providers.KindRollback {
		t.Errorf("last record = %+v, want a rollback record of commit %s", last, sha2)
	}
}

func ndjson(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("stdout is not NDJSON: %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	if len(out) == 0 || out[0]["type"] != "version" || out[0]["schema"] != cmdutil.JSONSchema {
		t.Fatalf("the stream does not start with the schema version: %v", out)
	}
	if out[len(out)-1]["type"] != "summary" {
		t.Fatalf("the stream does not end with a summary: %v", out[len(out)-1])
	}
	return out
}

func TestNotInGitAndApplyTwice(t *testing.T) {
	workdir(t, quickstart(t))
	mustCode(t, edgegw(t, nil, "apply", "--auto-approve"), 0, "apply")
	r := edgegw(t, nil, "apply", "--auto-approve")
	mustCode(t, r, 0, "second apply")
	if !strings.Contains(r.stdout, "No changes") {
		t.Errorf("second apply:\n%s", r.stdout)
	}
	recs, _ := local.History(local.DefaultDir)
	if len(recs) != 1 || recs[0].Commit != "" {
		t.Fatalf("records = %+v, want one record with commit \"\" (not in git)", recs)
	}
	if r := edgegw(t, nil, "history"); !strings.Contains(r.stdout, "(not in git)") {
		t.Errorf("history:\n%s", r.stdout)
	}
	mustCode(t, edgegw(t, nil, "plan", "--detailed-exitcode"), 0, "plan without changes")
}

func TestApplyNeedsApprovalOffTTY(t *testing.T) {
	workdir(t, quickstart(t))
	r := edgegw(t, nil, "apply")
	mustCode(t, r, 1, "apply without --auto-approve")
	if !strings.Contains(r.stderr, "--auto-approve") {
		t.Errorf("refusal does not say how to approve:\n%s", r.stderr)
	}
	if _, _, err := local.Active(local.DefaultDir); err == nil {
		t.Error("something was deployed without approval")
	}
}

func TestStalePlan(t *testing.T) {
	v1 := quickstart(t)
	workdir(t, v1)
	mustCode(t, edgegw(t, nil, "plan", "-out", "plan.json"), 0, "plan -out")
	// Someone else deploys between plan and apply: the live token moves.
	write(t, "other.yaml", v1)
	mustCode(t, edgegw(t, nil, "-f", "other.yaml", "apply", "--auto-approve"), 0, "other apply")
	r := edgegw(t, nil, "apply", "plan.json", "--format", "json")
	mustCode(t, r, cmdutil.ExitBlocked, "apply of a stale plan")
	msgs := ndjson(t, r.stdout)
	if s := msgs[len(msgs)-1]; s["exit_code"] != float64(5) || !strings.Contains(s["error"].(string), "stale plan") {
		t.Errorf("summary = %v", s)
	}
	// A plan whose manifest changed is stale too.
	mustCode(t, edgegw(t, nil, "plan", "-out", "plan.json"), 0, "plan -out")
	write(t, "edgegw.yaml", bytes.Replace(v1, []byte("body: ok}"), []byte("body: changed}"), 1))
	r = edgegw(t, nil, "apply", "plan.json")
	mustCode(t, r, cmdutil.ExitBlocked, "apply after the manifest changed")
	if !strings.Contains(r.stderr, "edgegw.yaml changed since the plan was made") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

func TestLockHeldAndForceUnlock(t *testing.T) {
	workdir(t, quickstart(t))
	if err := os.MkdirAll(local.DefaultDir, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(local.DefaultDir, "lock"), []byte(`{"id":"c0ffee01","who":"ci@runner-7","operation":"apply","pid":4242,"created":"2026-01-02T03:04:05Z"}`))
	r := edgegw(t, nil, "apply", "--auto-approve")
	mustCode(t, r, cmdutil.ExitBlocked, "apply while locked")
	if !strings.Contains(r.stderr, "locked by ci@runner-7") || !strings.Contains(r.stderr, "--force-unlock c0ffee01") {
		t.Errorf("lock error does not name the holder and the way out:\n%s", r.stderr)
	}
	mustCode(t, edgegw(t, nil, "apply", "--auto-approve", "--force-unlock", "bad"), 1, "force-unlock with a wrong id")
	mustCode(t, edgegw(t, nil, "apply", "--auto-approve", "--force-unlock", "c0ffee01"), 0, "force-unlock")
	if _, err := os.Stat(filepath.Join(local.DefaultDir, "lock")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the lock is still there after the apply: %v", err)
	}
	// With nothing to apply, --force-unlock still breaks the lock (it is not silently kept).
	write(t, filepath.Join(local.DefaultDir, "lock"), []byte(`{"id":"c0ffee02","who":"ci@runner-8","operation":"apply","pid":4243,"created":"2026-01-02T03:04:05Z"}`))
	r = edgegw(t, nil, "apply", "--auto-approve", "--force-unlock", "c0ffee02")
	mustCode(t, r, 0, "force-unlock with nothing to apply")
	if !strings.Contains(r.stderr, "Nothing to apply.") || !strings.Contains(r.stderr, "Breaking the lock c0ffee02") {
		t.Errorf("apply --force-unlock with nothing to apply does not say it breaks the lock:\n%s", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(local.DefaultDir, "lock")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("--force-unlock with nothing to apply kept the lock: %v", err)
	}
	mustCode(t, edgegw(t, nil, "apply", "--auto-approve", "--force-unlock", "c0ffee02"), 1, "force-unlock of a lock that is gone")
}

func TestDeletionThreshold(t *testing.T) {
	v1 := quickstart(t)
	workdir(t, v1)
	mustCode(t, edgegw(t, nil, "apply", "--auto-approve"), 0, "apply")
	// Drop the health and api routes (2 of 3) and the test that names api.
	m := string(v1)
	m = m[:strings.Index(m, "  - name: health")] + m[strings.Index(m, "  - name: default"):]
	m = m[:strings.Index(m, "tests:")]
	write(t, "edgegw.yaml", []byte(m))
	r := edgegw(t, nil, "apply", "--auto-approve")
	mustCode(t, r, cmdutil.ExitBlocked, "apply deleting 2 of 3 routes")
	if !strings.Contains(r.stderr, "deletes 2 of 3 live routes") || !strings.Contains(r.stderr, "--force") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	mustCode(t, edgegw(t, nil, "apply", "--auto-approve", "--force"), 0, "apply --force")
}

func TestGitHubFormat(t *testing.T) {
	workdir(t, quickstart(t))
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": filepath.Join(t.TempDir(), "summary.md"),
		"GITHUB_OUTPUT": filepath.Join(t.TempDir(), "output")}
	mustCode(t, edgegw(t, env, "plan"), 0, "plan in GitHub Actions")
	out, _ := os.ReadFile(env["GITHUB_OUTPUT"])
	sum, _ := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	if !strings.Contains(string(out), "has_changes=true") {
		t.Errorf("GITHUB_OUTPUT = %q", out)
	}
	if !strings.Contains(string(sum), "| local | none | routes: 3 to add") {
		t.Errorf("step summary:\n%s", sum)
	}
}

// fakeTargets deploys to fake providers instead of the manifest's targets.
func fakeTargets(fakes ...*fake.Provider) func(*ir.Gateway, providers.Config, []string) ([]providers.Target, []providers.SkippedTarget, error) {
	return func(*ir.Gateway, providers.Config, []string) ([]providers.Target, []providers.SkippedTarget, error) {
		var ts []providers.Target
		for _, f := range fakes {
			ts = append(ts, providers.Target{Name: f.Name(), Registration: providers.Registration{Name: f.Name(), Renderer: "ir"}, Provider: f})
		}
		return ts, nil, nil
	}
}

func runApply(t *testing.T, format string, fakes ...*fake.Provider) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	f := &cmdutil.Factory{IO: cmdutil.TestIO(strings.NewReader(""), &out, &errOut), ManifestPath: "edgegw.yaml", Format: format,
		Now: time.Now, Getenv: func(k string) string {
			if k == "JWT_SECRET_KEY" {
				return canary
			}
			return ""
		}}
	cmd := apply.NewCmdApply(f, func(o *apply.Options) error {
		o.TargetsFunc = fakeTargets(fakes...)
		return apply.Run(context.Background(), o)
	})
	cmd.SetArgs([]string{"--auto-approve"})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err := cmd.Execute()
	return cmdutil.ExitCode(err), out.String(), errOut.String() + errString(err)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestPartialFailureRestoresAndExits3(t *testing.T) {
	v1 := quickstart(t)
	workdir(t, v1)
	a, b := fake.New("edge-a"), fake.New("edge-b")
	if code, _, stderr := runApply(t, cmdutil.FormatHuman, a, b); code != 0 {
		t.Fatalf("first apply: %d\n%s", code, stderr)
	}
	write(t, "edgegw.yaml", bytes.Replace(v1, []byte("body: ok}"), []byte("body: v2}"), 1))
	b.Faults.Activate = errors.New("vendor API answered 500")
	code, stdout, stderr := runApply(t, cmdutil.FormatJSON, a, b)
	if code != cmdutil.ExitPartial {
		t.Fatalf("exit %d, want 3\n%s", code, stderr)
	}
	if a.Live() != 1 || b.Live() != 1 || !strings.Contains(a.LiveData()["gateway.ir.json"], `"body": "ok"`) {
		t.Errorf("live after the failure: a=%d b=%d, want both on version 1", a.Live(), b.Live())
	}
	statuses := map[string]string{}
	for _, m := range ndjson(t, stdout) {
		if m["type"] == "result" {
			statuses[m["target"].(string)] = m["status"].(string)
		}
	}
	if statuses["edge-a"] != "restored" || statuses["edge-b"] != "failed" {
		t.Errorf("per-target report = %v", statuses)
	}
}

const canary = "canary-5b1f0e-do-not-print-0123456789"

// TestCanarySecretNeverPrinted plants a secret value and greps every output format, the plan file, the
// artifacts, the deploy records and a provider's log for it.
func TestCanarySecretNeverPrinted(t *testing.T) {
	m := strings.Replace(string(quickstart(t)), "routes:\n", `auth:
  shared:
    jwt: {algorithms: [HS256], secret: {env: JWT_SECRET_KEY}}
routes:
`, 1)
	m = strings.Replace(m, "    pool: app\n", "    pool: app\n    auth: shared\n", 1)
	workdir(t, []byte(m))
	t.Setenv("JWT_SECRET_KEY", canary)
	summary := filepath.Join(t.TempDir(), "summary.md")
	env := map[string]string{"JWT_SECRET_KEY": canary, "GITHUB_STEP_SUMMARY": summary, "GITHUB_OUTPUT": summary + ".out"}
	var seen strings.Builder
	for _, args := range [][]string{
		{"plan"}, {"plan", "--format", "json"}, {"plan", "--format", "github", "-out", "plan.json"},
		{"apply", "plan.json", "--format", "json"}, {"history", "--format", "json"}, {"history"},
	} {
		r := edgegw(t, env, args...)
		mustCode(t, r, 0, strings.Join(args, " "))
		seen.WriteString(r.stdout + r.stderr)
	}
	var log bytes.Buffer
	fk := fake.New("vendor")
	fk.Log = &log
	code, stdout, stderr := runApply(t, cmdutil.FormatJSON, fk)
	if code != 0 || len(fk.Secrets) != 1 {
		t.Fatalf("apply to a secret-writing target: exit %d, secrets %d\n%s", code, len(fk.Secrets), stderr)
	}
	seen.WriteString(stdout + stderr + log.String())
	if strings.Contains(seen.String(), canary) {
		t.Error("the secret value appears in the command output")
	}
	_ = filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(canary)) {
			t.Errorf("the secret value is in %s", p)
		}
		return nil
	})
	for _, p := range []string{summary, summary + ".out"} {
		if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(canary)) {
			t.Errorf("the secret value is in %s", p)
		}
	}
	if !strings.Contains(seen.String(), "JWT_SECRET_KEY") {
		t.Error("the test never rendered the secret reference; it would pass vacuously")
	}
}

// A deploy decision never depends on where things were written: comments, moved lines and the spelling of
// the manifest path are no change; a change of behaviour is.
func TestPositionsAreNoChange(t *testing.T) {
	m := quickstart(t)
	workdir(t, m)
	mustCode(t, edgegw(t, nil, "apply", "--auto-approve", "-f", "edgegw.yaml"), 0, "apply")
	mustCode(t, edgegw(t, nil, "plan", "--detailed-exitcode", "-f", "./edgegw.yaml"), 0, "plan -f ./edgegw.yaml after apply -f edgegw.yaml")

	// Comments above everything shift every line; the routes are listed in another order of lines.
	moved := strings.Replace(string(m), "routes:\n", "# a comment\n# another\nroutes:\n", 1)
	moved = "# header comment\n\n" + moved
	write(t, "edgegw.yaml", []byte(moved))
	mustCode(t, edgegw(t, nil, "plan", "--detailed-exitcode"), 0, "plan after a comment-only edit")
	mustCode(t, edgegw(t, nil, "plan", "--detailed-exitcode", "-f", filepath.Join("..", filepath.Base(mustGetwd(t)), "edgegw.yaml")), 0, "plan -f ../dir/edgegw.yaml")

	changed := strings.Replace(moved, "body: ok}", "body: ok-v2}", 1)
	write(t, "edgegw.yaml", []byte(changed))
	mustCode(t, edgegw(t, nil, "plan", "--detailed-exitcode"), 2, "plan after a route change")

	b, err := os.ReadFile(filepath.Join(local.DefaultDir, "current", "gateway.ir.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{`"pos"`, `"index"`, `"line"`, "edgegw.yaml", `"tests"`, `"targets"`, `"dns"`} {
		if bytes.Contains(b, []byte(leak)) {
			t.Errorf("deployed gateway.ir.json holds %s:\n%s", leak, b)
		}
	}
}

func mustGetwd(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

// A configured target that cannot be planned never passes as "no changes": apply refuses with nothing
// changed, plan --detailed-exitcode is not 0, and --target leaves it out on purpose.
func TestUnplannableTargetFailsApply(t *testing.T) {
	m := strings.Replace(string(quickstart(t)), "  local: {}\n",
		"  local: {}\n  cloudfront: {distribution_id: E2EXAMPLE, function: edge}\n", 1)
	// cloudfront without AWS credentials: the default chain reads the process environment and files.
	dir := t.TempDir()
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
		"AWS_CONFIG_FILE": dir + "/config", "AWS_SHARED_CREDENTIALS_FILE": dir + "/credentials", "AWS_EC2_METADATA_DISABLED": "true"} {
		t.Setenv(k, v)
	}
	workdir(t, []byte(m))
	r := edgegw(t, nil, "apply", "--auto-approve")
	mustCode(t, r, cmdutil.ExitCredentials, "apply with a target that cannot be planned (no credentials)")
	if !strings.Contains(r.stderr, "cloudfront") || strings.Contains(r.stderr, "No changes") {
		t.Errorf("apply stderr does not name the unplanned target or claims no changes:\n%s", r.stderr)
	}
	if _, err := os.Lstat(filepath.Join(local.DefaultDir, "current")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("apply refused but local was activated (current: %v)", err)
	}
	mustCode(t, edgegw(t, nil, "plan", "--detailed-exitcode"), cmdutil.ExitCredentials, "plan --detailed-exitcode")
	mustCode(t, edgegw(t, nil, "apply", "--auto-approve", "--target", "local"), 0, "apply --target local")
	mustCode(t, edgegw(t, nil, "plan", "--detailed-exitcode", "--target", "local"), 0, "plan --target local")
}

func TestOfflineTargetFailsApplyWithCredentialsCode(t *testing.T) {
	workdir(t, quickstart(t))
	var out, errOut bytes.Buffer
	f := &cmdutil.Factory{IO: cmdutil.TestIO(strings.NewReader(""), &out, &errOut), ManifestPath: "edgegw.yaml",
		Now: time.Now, Getenv: func(string) string { return "" }}
	offline := func(*ir.Gateway, providers.Config, []string) ([]providers.Target, []providers.SkippedTarget, error) {
		reg, _ := providers.Lookup(local.Name)
		return []providers.Target{{Name: "local", Registration: reg,
			Offline: &providers.CredentialsError{Target: "local", Var: "EXAMPLE_TOKEN"}}}, nil, nil
	}
	cmd := apply.NewCmdApply(f, func(o *apply.Options) error {
		o.TargetsFunc = offline
		return apply.Run(context.Background(), o)
	})
	cmd.SetArgs([]string{"--auto-approve"})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	if code := cmdutil.ExitCode(err); code != cmdutil.ExitCredentials {
		t.Fatalf("apply with an offline target: exit %d (%v), want %d\n%s", code, err, cmdutil.ExitCredentials, errOut.String())
	}
	if _, err := os.Lstat(filepath.Join(local.DefaultDir, "current")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("apply refused but something was activated (current: %v)", err)
	}
}

// The local target lives next to the manifest, not in the directory edgegw runs from.
func TestLocalTargetFollowsTheManifestDirectory(t *testing.T) {
	m := quickstart(t)
	t.Chdir(t.TempDir())
	if err := os.Mkdir("sub", 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join("sub", "edgegw.yaml"), m)
	mustCode(t, edgegw(t, nil, "apply", "--auto-approve", "-f", filepath.Join("sub", "edgegw.yaml")), 0, "apply -f sub/edgegw.yaml")
	if _, err := os.Lstat(filepath.Join("sub", local.DefaultDir, "current")); err != nil {
		t.Errorf("no live version under sub/%s: %v", local.DefaultDir, err)
	}
	if _, err := os.Stat(local.DefaultDir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("apply -f sub/edgegw.yaml deployed into the working directory's %s (%v)", local.DefaultDir, err)
	}
	mustCode(t, edgegw(t, nil, "plan", "--detailed-exitcode", "-f", filepath.Join("sub", "edgegw.yaml")), 0, "plan from the parent directory")
}

package manifest_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/manifest"
)

// Hostile shapes: each must end in one diagnostic, found without handing the input to the YAML parser,
// whose cost on them is quadratic (depth, keys) or hundreds of bytes per item (huge lists).
var (
	deepFlow  = []byte("version: 1\nname: " + strings.Repeat("[", 50000) + strings.Repeat("]", 50000) + "\n")
	deepDash  = []byte("version: 1\nroutes:\n" + strings.Repeat("- ", 20000) + "x\n")
	deepBlock = func() []byte {
		var b bytes.Buffer
		b.WriteString("version: 1\n")
		for i := 0; i < 1500; i++ {
			b.WriteString(strings.Repeat(" ", i) + "a:\n")
		}
		return b.Bytes()
	}()
	manyKeys = func() []byte {
		var b bytes.Buffer
		b.WriteString("version: 1\norigins:\n")
		for i := 0; i < 100000; i++ {
			fmt.Fprintf(&b, "  o%d: x\n", i)
		}
		return b.Bytes()
	}()
	hugeFlowList = func() []byte {
		var b bytes.Buffer
		b.WriteString("version: 1\nroutes: [")
		for b.Len() < manifest.MaxFileBytes-16 {
			b.WriteString("1,")
		}
		b.WriteString("1]\n")
		return b.Bytes()
	}()
	manyWrongTyped = []byte("version: 1\nroutes:\n" + strings.Repeat("- 1\n", 1000000))
)

// loadWithin loads data once and fails the test when it allocates 256 MiB or more or takes 5 s or more
// (generous: the goal is well under 2 s on a shared machine).
func loadWithin(t *testing.T, data []byte) manifest.Diagnostics {
	t.Helper()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, diags := manifest.LoadBytes("m.yaml", data, manifest.LoadOptions{})
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d bytes: %v, %.1f MiB allocated, %d diagnostics", len(data), elapsed, float64(alloc)/(1<<20), len(diags))
	if alloc >= 256<<20 {
		t.Errorf("loading allocated %.0f MiB; the bound is 256 MiB", float64(alloc)/(1<<20))
	}
	if elapsed >= 5*time.Second {
		t.Errorf("loading took %v; the bound is 5s", elapsed)
	}
	return diags
}

// wantOneLimit checks for exactly one limit diagnostic, at line:col, saying want.
func wantOneLimit(t *testing.T, diags manifest.Diagnostics, line, col int, want string) {
	t.Helper()
	if len(diags) != 1 {
		n := min(len(diags), 3)
		t.Fatalf("want one diagnostic, got %d: %v", len(diags), diags[:n])
	}
	d := diags[0]
	if d.Code != manifest.CodeLimit || !strings.Contains(d.Summary, want) || d.Detail == "" {
		t.Errorf("want %s %q with a fix, got %v", manifest.CodeLimit, want, d)
	}
	if d.Range.Start.Line != line || d.Range.Start.Col != col {
		t.Errorf("want it at %d:%d, got %d:%d", line, col, d.Range.Start.Line, d.Range.Start.Col)
	}
}

func TestDeepFlowNesting(t *testing.T) {
	wantOneLimit(t, loadWithin(t, deepFlow), 2, 7+31, "nesting deeper than 32 levels")
}

func TestDeepBlockNesting(t *testing.T) {
	// The top mapping (1) holds 31 more sequences; the 33rd level is the 32nd dash.
	wantOneLimit(t, loadWithin(t, deepDash), 3, 1+31*2, "nesting deeper than 32 levels")
	wantOneLimit(t, loadWithin(t, deepBlock), 2+32, 33, "nesting deeper than 32 levels")
}

func TestManyMappingKeys(t *testing.T) {
	wantOneLimit(t, loadWithin(t, manyKeys), 3+5000, 3, "a mapping with more than 5000 keys")
}

func TestHugeFlowList(t *testing.T) {
	if len(hugeFlowList) > manifest.MaxFileBytes {
		t.Fatal("the list must stay under the file limit, so the file limit does not catch it")
	}
	// The top mapping, version, 1, routes and the list are five values; then each item counts with its
	// comma, so the 250,001st value is the comma after item 124,998, at column 10+2*124,997+1.
	wantOneLimit(t, loadWithin(t, hugeFlowList), 2, 250_005, "more than 250000 YAML values")
}

func TestManyWrongTypedItems(t *testing.T) {
	diags := loadWithin(t, manyWrongTyped)
	if len(diags) != 1 || diags[0].Code != manifest.CodeLimit {
		t.Fatalf("want one limit diagnostic, got %d: %v", len(diags), diags[:min(len(diags), 3)])
	}
	// Under the value limit, a list longer than its section allows is reported once, not item by item.
	data := []byte("version: 1\nroutes:\n" + strings.Repeat("- 1\n", 2*manifest.MaxRoutes))
	diags = loadWithin(t, data)
	var limit []manifest.Diagnostic
	for _, d := range diags {
		if d.Code == manifest.CodeType {
			t.Fatalf("routes were decoded item by item: %v", d)
		}
		if d.Code == manifest.CodeLimit {
			limit = append(limit, d)
		}
	}
	if len(limit) != 1 || !strings.Contains(limit[0].Summary, "20000 routes; the limit is 10000") || limit[0].Range.Start.Line != 3 {
		t.Errorf("want one routes limit at line 3, got %v", limit)
	}
}

// TestPrescanAllowsRealManifests loads the examples, the golden cases and the largest manifests the
// limits allow: none may hit a pre-scan limit.
func TestPrescanAllowsRealManifests(t *testing.T) {
	files, _ := filepath.Glob("../testdata/*/*.yaml")
	inputs := map[string][]byte{
		"routes=max":               genRoutes(manifest.MaxRoutes),
		"tenants=max":              genTenants(manifest.MaxDomains),
		"block scalars and quotes": []byte(head + "routes:\n  - name: \"[[[[{{{{\"\n    match: {path: {exact: '/a'' [['}}\n    respond:\n      status: 200\n      body: |\n        [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n\n        - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -\n    # [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n    pool: p\n"),
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs[f] = data
	}
	for name, data := range inputs {
		_, diags := manifest.LoadBytes("m.yaml", data, manifest.LoadOptions{})
		for _, d := range diags {
			if strings.Contains(d.Summary, "nesting deeper") || strings.Contains(d.Summary, "YAML values") || strings.Contains(d.Summary, "keys") && d.Code == manifest.CodeLimit {
				t.Errorf("%s: %v", name, d)
			}
		}
	}
}

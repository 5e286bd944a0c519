package manifest_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/edgegw/edgegw/manifest"
)

var update = flag.Bool("update", false, "rewrite edgegw.schema.json")

const schemaFile = "../edgegw.schema.json"

func TestSchemaCheckedInIsCurrent(t *testing.T) {
	got, err := manifest.JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(schemaFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatalf("read %s: %v (run: go run . schema > edgegw.schema.json)", schemaFile, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("edgegw.schema.json is stale: run `go run . schema > edgegw.schema.json` and commit it")
	}
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(manifest.SchemaID, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(manifest.SchemaID)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func yamlToInstance(t *testing.T, file string) any {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

func TestExamplesMatchSchema(t *testing.T) {
	s := compileSchema(t)
	files, _ := filepath.Glob("../testdata/examples/*.yaml")
	if len(files) == 0 {
		t.Fatal("no examples found")
	}
	for _, f := range files {
		if err := s.Validate(yamlToInstance(t, f)); err != nil {
			t.Errorf("%s does not match the schema: %v", f, err)
		}
	}
}

// The schema must be as strict as the loader about keys and types, or editors would accept what validate
// rejects.
func TestSchemaRejectsWhatLoaderRejects(t *testing.T) {
	s := compileSchema(t)
	base := "version: 1\nname: x\ndomains: [{host: a.example.com, zone: example.com}]\nroutes: [{name: r, match: {fallback: true}, pool: p}]\n"
	for _, c := range []struct{ doc, want string }{
		{base + "origins: {o: {url: https://o.internal, timout: 5s}}\n", "timout"},
		{base + "origins: {o: {url: https://o.internal}}\nauth: {b: {jwt: {algorithms: [HS256], secret: plain-value}}}\n", "secret"},
		{base + "origins: {o: {url: https://o.internal, timeout: soon}}\n", "timeout"},
	} {
		j, err := yaml.YAMLToJSON([]byte(c.doc))
		if err != nil {
			t.Fatal(err)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
		if err != nil {
			t.Fatal(err)
		}
		err = s.Validate(inst)
		if err == nil {
			t.Errorf("schema accepted:\n%s", c.doc)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("schema error does not mention %q: %v", c.want, err)
		}
		if _, diags := manifest.Parse("x.yaml", []byte(c.doc)); !diags.HasErrors() {
			t.Errorf("loader accepted what the schema rejects:\n%s", c.doc)
		}
	}
}

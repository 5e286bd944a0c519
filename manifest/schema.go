package manifest

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/invopop/jsonschema"

	"github.com/edgegw/edgegw/manifest/ir"
)

// SchemaID is the $id of the published JSON Schema.
const SchemaID = "https://edgegw.dev/schema/manifest-v1.json"

// JSONSchema returns the JSON Schema of manifest version 1, generated from the Go types so the two cannot
// drift apart. Editors use it for completion (`# yaml-language-server: $schema=…`).
func JSONSchema() ([]byte, error) {
	r := &jsonschema.Reflector{
		FieldNameTag:               "yaml",
		RequiredFromJSONSchemaTags: true,
		DoNotReference:             false,
		ExpandedStruct:             true,
		Mapper:                     schemaFor,
	}
	s := r.Reflect(&Manifest{})
	s.ID = SchemaID
	s.Title = "edgegw manifest"
	s.Description = "One provider-neutral API-gateway manifest (version 1)"
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("manifest: schema: %w", err)
	}
	return append(b, '\n'), nil
}

// envRefSchema returns a new schema each time: the reflector writes a field's description into the schema
// its mapper returns, so one shared value would carry the last field's description everywhere.
func envRefSchema() *jsonschema.Schema {
	props := jsonschema.NewProperties()
	props.Set("env", &jsonschema.Schema{Type: "string", Pattern: `^[A-Za-z_][A-Za-z0-9_]*$`})
	return &jsonschema.Schema{
		Type:                 "object",
		Description:          "a reference to an environment variable: {env: NAME}",
		Properties:           props,
		Required:             []string{"env"},
		AdditionalProperties: jsonschema.FalseSchema,
	}
}

func schemaFor(t reflect.Type) *jsonschema.Schema {
	switch t {
	case reflect.TypeOf(Duration{}):
		return &jsonschema.Schema{
			Description: "a duration such as 500ms, 30s, 5m, 1h, or whole seconds",
			OneOf: []*jsonschema.Schema{
				{Type: "string", Pattern: `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`},
				{Type: "integer", Minimum: json.Number("0")},
			},
		}
	case reflect.TypeOf(ir.Value{}):
		return &jsonschema.Schema{
			Description: "a value, written literally or as {env: NAME}",
			OneOf:       []*jsonschema.Schema{{Type: "string"}, envRefSchema()},
		}
	case reflect.TypeOf(SecretRef{}):
		return envRefSchema()
	case targetBlocksType:
		return targetsSchema()
	}
	return nil
}

// targetsSchema is the `targets:` section: one property per registered target, each its block's own type.
func targetsSchema() *jsonschema.Schema {
	r := &jsonschema.Reflector{
		FieldNameTag:               "yaml",
		RequiredFromJSONSchemaTags: true,
		DoNotReference:             true,
		ExpandedStruct:             true,
		Mapper:                     schemaFor,
	}
	props := jsonschema.NewProperties()
	for _, name := range TargetNames() {
		b, _ := LookupTargetBlock(name)
		s := r.ReflectFromType(reflect.TypeOf(b.New()).Elem())
		s.Version, s.ID = "", ""
		props.Set(name, s)
	}
	return &jsonschema.Schema{
		Type:                 "object",
		Description:          "where the gateway deploys; each block is that target's addressing only",
		Properties:           props,
		AdditionalProperties: jsonschema.FalseSchema,
	}
}

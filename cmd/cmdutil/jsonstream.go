package cmdutil

import (
	"encoding/json"
	"io"
	"maps"
	"slices"
	"sync"
)

// JSONSchema names the NDJSON contract every command's `--format json` follows. Bump it when a message
// changes meaning or a field disappears.
const JSONSchema = "edgegw/v1"

// AnnotationNoJSONStream marks a command (in cobra.Command.Annotations) whose output is a document of its
// own and not a message stream: `schema` prints the JSON Schema, `completion` a shell script, `dev` request
// logs (`--log-format json`).
const AnnotationNoJSONStream = "edgegw/no-json-stream"

// JSONStream is the one writer of `--format json` output: the first line is
// {"type":"version","schema":JSONSchema,"command":…,"edgegw":…}, then the command's messages, one JSON
// object a line, and the last line is always {"type":"summary","command":…,"ok":…,"exit_code":…} (with
// "error" on failure, and whatever the command added with Set), even when the command fails.
//
// A position in any message is {"file","line","col"} under "pos"; a diagnostic adds its "range".
type JSONStream struct {
	mu       sync.Mutex
	enc      *json.Encoder
	command  string
	summary  map[string]any
	finished bool
}

// NewJSONStream starts a stream on w and writes its version line.
func NewJSONStream(w io.Writer, command, version string) *JSONStream {
	s := &JSONStream{enc: json.NewEncoder(w), command: command, summary: map[string]any{}}
	s.Emit(struct {
		Type    string `json:"type"`
		Schema  string `json:"schema"`
		Command string `json:"command"`
		Edgegw  string `json:"edgegw"`
	}{"version", JSONSchema, command, version})
	return s
}

// Emit writes one message. A nil stream writes nothing, so a command can call it unconditionally.
func (s *JSONStream) Emit(msg any) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.finished {
		_ = s.enc.Encode(msg)
	}
}

// Set adds a field to the summary line (counts, has_changes, blocking, …).
func (s *JSONStream) Set(key string, value any) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.summary[key] = value
}

// Finish writes the summary line for the command's final error; only the first call writes.
func (s *JSONStream) Finish(err error) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.finished {
		return
	}
	s.finished = true
	code := ExitCode(err)
	fields := []any{"type", "summary", "command", s.command, "ok", code == ExitOK || code == ExitChanges, "exit_code", code}
	if err != nil {
		fields = append(fields, "error", UserMessage(err))
	}
	for _, k := range slices.Sorted(maps.Keys(s.summary)) {
		fields = append(fields, k, s.summary[k])
	}
	_ = s.enc.Encode(orderedObject(fields))
}

// orderedObject is a JSON object whose keys keep the order given (key, value, key, value, …): the fixed
// fields of a line come first, where a reader looks.
type orderedObject []any

func (o orderedObject) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i := 0; i+1 < len(o); i += 2 {
		if i > 0 {
			b = append(b, ',')
		}
		k, err := json.Marshal(o[i])
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(o[i+1])
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, k...), ':'), v...)
	}
	return append(b, '}'), nil
}

// JSONStream returns the command's stream, starting it (version line) on first use; nil unless the
// format is json.
func (f *Factory) JSONStream(command string) *JSONStream {
	if f.Format != FormatJSON {
		return nil
	}
	if f.json == nil {
		f.json = NewJSONStream(f.IO.Out, command, f.Version)
	}
	return f.json
}

// FinishJSON writes the summary line of a stream that was started (root.Run calls it with the command's
// error, so a command that fails still ends its stream).
func (f *Factory) FinishJSON(err error) { f.json.Finish(err) }

package providers

import "strings"

// A vendor's one-line comment or description (a Fastly version comment, a URL map's description, a
// CloudFront function's comment) carries the parts of a deploy record that history needs, as fields
// `edgegw <kind> … git:<sha>[+dirty] ir:<IR digest> prev:<version> … by:<who>`, "none" for an empty one.
// These are the shared fields; a target adds its own (ver:, seq:, at:, v:) around them.

// GitField is `git:<sha>`, with `+dirty` for uncommitted changes, or `git:none`.
func (r DeployRecord) GitField() string {
	if r.Commit == "" {
		return "git:none"
	}
	if r.Dirty {
		return "git:" + r.Commit + "+dirty"
	}
	return "git:" + r.Commit
}

// IRField is `ir:<IR digest>` or `ir:none`.
func (r DeployRecord) IRField() string {
	if r.Gateway == nil || r.Gateway.Digest == "" {
		return "ir:none"
	}
	return "ir:" + r.Gateway.Digest
}

// PrevField is `prev:<version>` or `prev:none`.
func (r DeployRecord) PrevField() string {
	if r.Previous.Version == "" {
		return "prev:none"
	}
	return "prev:" + r.Previous.Version
}

// WhoField is `by:<who>` on one line: the last field, since a name may hold spaces.
func (r DeployRecord) WhoField() string {
	return "by:" + strings.Map(func(c rune) rune {
		if c == '\n' || c == '\r' {
			return ' '
		}
		return c
	}, r.Who)
}

// SplitRecordLine cuts a record line after prefix into its kind, its fields and who; ok is false for a
// line edgegw did not write.
func SplitRecordLine(line, prefix string) (kind string, fields []string, who string, ok bool) {
	rest, found := strings.CutPrefix(line, prefix)
	if !found {
		return "", nil, "", false
	}
	if i := strings.Index(rest, " by:"); i >= 0 {
		who, rest = rest[i+len(" by:"):], rest[:i]
	}
	fields = strings.Fields(rest)
	if len(fields) == 0 {
		return "", nil, "", false
	}
	return fields[0], fields[1:], who, true
}

// ReadRecordField reads one shared field (git:, ir:, prev:) into r; it reports whether the field was one.
func (r *DeployRecord) ReadRecordField(field string) bool {
	k, v, _ := strings.Cut(field, ":")
	switch k {
	case "git":
		if v != "none" {
			r.Commit, r.Dirty = strings.TrimSuffix(v, "+dirty"), strings.HasSuffix(v, "+dirty")
		}
	case "ir":
		if v != "none" {
			r.Gateway = &GatewaySummary{Digest: v}
		}
	case "prev":
		if v != "none" {
			r.Previous.Version = v
		}
	default:
		return false
	}
	return true
}

package gcp

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/edgegw/edgegw/providers"
)

// Deploy records live with the target, so they survive an ephemeral CI runner: the live URL map's
// description holds the record of the deploy that made it live, one line,
//
//	edgegw <kind> ver:<version> seq:<n> git:<sha>[+dirty]|git:none ir:<IR digest>|ir:none prev:<version>|prev:none at:<time> by:<who>
//
// and the standby map <url_map>-edgegw-previous holds the map live before it, its description the record
// of that deploy. History is therefore two records deep: rollback returns to the standby's map, and a
// deeper one is `rollback --to REF`, which renders the manifest as it was and applies it.
//
// The version is the first 12 hex digits of the digest of the artifacts shipped, so the same manifest
// deployed twice is the same version.

const recordPrefix = "edgegw "

// kindPrevious marks the standby copy of a map edgegw did not write: a version to return to, not a record.
const kindPrevious = "previous"

// description is the record line a map carries.
func description(rec providers.DeployRecord) string {
	at := ""
	if !rec.Time.IsZero() {
		at = " at:" + rec.Time.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("%s%s ver:%s seq:%d %s %s %s%s %s", recordPrefix, rec.Kind, rec.Version, rec.Seq,
		rec.GitField(), rec.IRField(), rec.PrevField(), at, rec.WhoField())
}

// parseDescription reads a record line edgegw wrote; ok is false for any other description.
func parseDescription(d string) (rec providers.DeployRecord, ok bool) {
	kind, fields, who, ok := providers.SplitRecordLine(d, recordPrefix)
	if !ok {
		return rec, false
	}
	rec.Kind, rec.Target, rec.Who = kind, Name, who
	for _, f := range fields {
		if rec.ReadRecordField(f) {
			continue
		}
		k, v, _ := strings.Cut(f, ":")
		switch k {
		case "ver":
			rec.Version = v
		case "seq":
			rec.Seq, _ = strconv.Atoi(v)
		case "at":
			rec.Time, _ = time.Parse(time.RFC3339, v)
		}
	}
	if rec.Previous.Version != "" {
		rec.Previous.Target = Name
	}
	switch rec.Kind {
	case providers.KindApply, providers.KindRollback, providers.KindRestore, kindPrevious:
		return rec, rec.Version != ""
	}
	return rec, false
}

package azure

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/cdn/armcdn/v2"

	"github.com/edgegw/edgegw/providers"
)

// Deploy records live with the profile, as its tags, so they survive an ephemeral CI runner: one tag per
// apply, `edgegw-record-<seq>` (five digits), whose value (at most 256 characters, Azure's limit) is a
// compact JSON of the record: kind, rule set made live, the one before it, commit, who and when. The
// newest keepRecords stay. A rollback switches routes and writes nothing, so history ends with the live
// rule set when it is not the newest deploy, as a record of kind rollback.

const recordTag = "edgegw-record-"

type tagRecord struct {
	Kind     string `json:"k"`
	Version  string `json:"v"`
	Previous string `json:"p,omitempty"`
	Commit   string `json:"c,omitempty"`
	Dirty    bool   `json:"d,omitempty"`
	Who      string `json:"w,omitempty"`
	Time     int64  `json:"t"`
}

func encodeTag(rec providers.DeployRecord) string {
	t := tagRecord{Kind: rec.Kind, Version: rec.Version, Previous: rec.Previous.Version, Commit: rec.Commit, Dirty: rec.Dirty, Who: rec.Who, Time: rec.Time.Unix()}
	for {
		b, _ := json.Marshal(t)
		if len(b) <= 256 || t.Who == "" {
			return string(b)
		}
		t.Who = t.Who[:len(t.Who)/2]
	}
}

// records reads the deploy records from the profile's tags, oldest first.
func records(tags map[string]*string) []providers.DeployRecord {
	var out []providers.DeployRecord
	for k, v := range tags {
		if !strings.HasPrefix(k, recordTag) || v == nil {
			continue
		}
		seq, err := strconv.Atoi(strings.TrimPrefix(k, recordTag))
		if err != nil {
			continue
		}
		var t tagRecord
		if json.Unmarshal([]byte(*v), &t) != nil {
			continue
		}
		out = append(out, providers.DeployRecord{Seq: seq, Target: Name, Kind: t.Kind, Version: t.Version,
			Previous: providers.RestorePoint{Target: Name, Version: t.Previous}, Commit: t.Commit, Dirty: t.Dirty, Who: t.Who, Time: time.Unix(t.Time, 0).UTC()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

// undoStack drops a record whose rule set a later apply made live again, naming it in the later record's
// note. Rule sets are named after their rules, so re-applying an earlier manifest makes its kept set live
// again; a rollback must then return to what that later apply replaced, and the engine finds the record
// that made a version live by its version.
func undoStack(recs []providers.DeployRecord) []providers.DeployRecord {
	var out []providers.DeployRecord
	for i, r := range recs {
		again := -1
		for j := i + 1; j < len(recs); j++ {
			if strings.EqualFold(recs[j].Version, r.Version) {
				again = j
				break
			}
		}
		if again < 0 {
			out = append(out, r)
			continue
		}
		note := fmt.Sprintf("rule set %s was made live before by record %d (commit %s, %s)", r.Version, r.Seq, r.CommitLabel(), r.Time.Format(time.RFC3339))
		if recs[again].Note != "" {
			note = recs[again].Note + "; " + note
		}
		recs[again].Note = note
	}
	return out
}

// writeRecord adds rec to the profile's tags (keeping every other tag, and the newest keepRecords
// records) in one profile update.
func (p *Provider) writeRecord(ctx context.Context, tags map[string]*string, rec providers.DeployRecord) error {
	next := map[string]*string{}
	for k, v := range tags {
		next[k] = v
	}
	next[fmt.Sprintf("%s%05d", recordTag, rec.Seq)] = to.Ptr(encodeTag(rec))
	recs := records(next)
	for i := 0; i < len(recs)-p.keepRecords; i++ {
		delete(next, fmt.Sprintf("%s%05d", recordTag, recs[i].Seq))
	}
	_, err := poll(ctx, p, "write deploy record "+strconv.Itoa(rec.Seq)+" into the tags of profile "+p.profile,
		begin(p.profiles.BeginUpdate(ctx, p.group, p.profile, armcdn.ProfileUpdateParameters{Tags: next}, nil)))
	return err
}

// History implements providers.Provider from the profile's tags and the routes: two calls.
func (p *Provider) History(ctx context.Context) ([]providers.DeployRecord, error) {
	prof, err := p.profiles.Get(ctx, p.group, p.profile, nil)
	if err != nil {
		return nil, p.apiError("read profile "+p.profile, err)
	}
	out := undoStack(records(prof.Tags))
	cur, err := p.listRoutes(ctx)
	if err != nil {
		return nil, err
	}
	ls := cur.liveSet()
	if ls == "" || (len(out) > 0 && strings.EqualFold(out[len(out)-1].Version, ls)) {
		return out, nil
	}
	rec := providers.DeployRecord{Seq: len(out) + 1, Target: Name, Kind: providers.KindRollback, Version: ls,
		Note: fmt.Sprintf("rule set %s is live again: the routes were switched back by a rollback or by hand (a switch writes no record)", ls)}
	if len(out) > 0 {
		rec.Seq = out[len(out)-1].Seq + 1
		rec.Previous = providers.RestorePoint{Target: Name, Version: out[len(out)-1].Version}
	}
	found := false
	for _, r := range out {
		if strings.EqualFold(r.Version, ls) {
			rec.Commit, rec.Dirty, found = r.Commit, r.Dirty, true
			break
		}
	}
	if !found {
		rec.Note = fmt.Sprintf("rule set %s is live and was not deployed by edgegw", ls)
	}
	return append(out, rec), nil
}

package cloudfront

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	kvs "github.com/aws/aws-sdk-go-v2/service/cloudfrontkeyvaluestore"
	kvstypes "github.com/aws/aws-sdk-go-v2/service/cloudfrontkeyvaluestore/types"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/render"
	cfrender "github.com/edgegw/edgegw/render/cloudfront"
)

// The route table in the KeyValueStore. A route table too large for the viewer-request function's code
// is rendered as cfrender.KVSFile: keys "r" + the table's version (eight hex digits) + a stem, one version
// per build, and that build's code reads only the keys of its version. The deploy writes those keys into
// the same store as the HS256 secrets, so several versions can sit side by side:
//
//   - apply writes the new version's keys (UpdateKeys, in batches, with the store's ETag) before
//     TestFunction, which reads the associated store, and before anything is published; only keys that
//     are new or whose value differs from what the deploy records say the store holds are written;
//   - after the new code is live and its deploy record written, it deletes the route keys of every
//     version but the new one and the one the live function read before the apply, so an edge still
//     running the previous code, and a rollback to it, find their table;
//   - rollback writes the keys of the version it returns to (kept in that version's deploy record) when
//     the store lacks them or holds other values, before it publishes that version's code.
//
// A failed apply after the keys were written leaves the new version's keys in the store: harmless, since
// the live code reads its own version only. Secret keys are never taken for route keys, never deleted.

// UpdateKeys' per-call limits, as AWS documents the quota: 50 keys (puts and deletes together) and a
// 3 MB payload, whichever is reached first.
const (
	maxUpdateKeys  = 50
	maxUpdateBytes = 3 << 20
)

// routeItem is one key of a route table.
type routeItem struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// routeTable is a build's KVSFile, parsed and checked.
type routeTable struct {
	version string
	items   []routeItem // sorted by key
	raw     []byte      // the file as rendered, kept in the deploy record
	bytes   int         // keys and values, as the store counts them
}

// routeTableOf returns the artifacts' route table, nil when the build's code holds its routes. secrets
// are the gateway's secret keys, which a route table must not name.
func routeTableOf(arts []render.Artifact, secrets []string) (*routeTable, error) {
	for _, a := range arts {
		if a.Path == cfrender.KVSFile {
			return parseRouteTable(a.Data, secrets, "the rendered "+cfrender.KVSFile)
		}
	}
	return nil, nil
}

// parseRouteTable checks a KVSFile as the store would take it: every key a route key of one version,
// no secret key, no key twice, each key and value and the whole within CloudFront's limits. where names
// the file in errors.
func parseRouteTable(data []byte, secrets []string, where string) (*routeTable, error) {
	var f struct {
		Data []routeItem `json:"data"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("providers/%s: %s is not KeyValueStore import JSON ({\"data\": [{\"key\": ..., \"value\": ...}]}): %v: render it again with the cloudfront renderer; nothing was changed", Name, where, err)
	}
	t := &routeTable{raw: data}
	seen := map[string]bool{}
	for _, it := range f.Data {
		v, ok := cfrender.RouteKeyVersion(it.Key)
		switch {
		case slices.Contains(secrets, it.Key):
			return nil, fmt.Errorf("providers/%s: %s lists key %q, which holds an HS256 secret: render it again with the cloudfront renderer; nothing was changed", Name, where, it.Key)
		case !ok:
			return nil, fmt.Errorf("providers/%s: %s lists key %q, which is not a route key (\"r\", eight hex digits of table version, a stem): render it again with the cloudfront renderer; nothing was changed", Name, where, it.Key)
		case t.version != "" && v != t.version:
			return nil, fmt.Errorf("providers/%s: %s mixes table versions %s and %s (key %q): render it again with the cloudfront renderer; nothing was changed", Name, where, t.version, v, it.Key)
		case seen[it.Key]:
			return nil, fmt.Errorf("providers/%s: %s lists key %q twice: render it again with the cloudfront renderer; nothing was changed", Name, where, it.Key)
		case len(it.Key) > cfrender.MaxKVSKeyBytes:
			return nil, fmt.Errorf("providers/%s: %s: key %q is %d bytes, over a KeyValueStore key's %d: shorten that route's path; nothing was changed", Name, where, it.Key, len(it.Key), cfrender.MaxKVSKeyBytes)
		case len(it.Value) > cfrender.MaxKVSValueBytes:
			return nil, fmt.Errorf("providers/%s: %s: the value of key %q is %d bytes, over a KeyValueStore value's %d: give that path fewer routes or shorter answers; nothing was changed", Name, where, it.Key, len(it.Value), cfrender.MaxKVSValueBytes)
		case !json.Valid([]byte(it.Value)):
			return nil, fmt.Errorf("providers/%s: %s: the value of key %q is not JSON text, which the function reads it as: render it again with the cloudfront renderer; nothing was changed", Name, where, it.Key)
		}
		t.version = v
		seen[it.Key] = true
		t.bytes += len(it.Key) + len(it.Value)
		t.items = append(t.items, it)
	}
	if t.bytes > cfrender.MaxKVSBytes {
		return nil, fmt.Errorf("providers/%s: %s takes %d bytes in the KeyValueStore, over a store's %d: use fewer routes; nothing was changed", Name, where, t.bytes, cfrender.MaxKVSBytes)
	}
	if len(t.items) == 0 {
		return nil, fmt.Errorf("providers/%s: %s lists no key: render it again with the cloudfront renderer; nothing was changed", Name, where)
	}
	sort.Slice(t.items, func(i, j int) bool { return t.items[i].Key < t.items[j].Key })
	return t, nil
}

// recordedTable is the route table a record's version reads, nil when none or unreadable.
func recordedTable(r *storedRecord) *routeTable {
	if r == nil || r.RouteTable == "" {
		return nil
	}
	t, err := parseRouteTable([]byte(r.RouteTable), nil, "deploy record")
	if err != nil {
		return nil
	}
	return t
}

// tableOfVersion finds the route table of a table version in the deploy records, newest first.
func tableOfVersion(recs []storedRecord, version string) *routeTable {
	for i := len(recs) - 1; i >= 0; i-- {
		if t := recordedTable(&recs[i]); t != nil && t.version == version {
			return t
		}
	}
	return nil
}

// heldVersions returns the route-table versions the newest record says the store holds, and whether a
// record says anything about them.
func heldVersions(recs []storedRecord) ([]string, bool) {
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].RouteVersions != nil {
			return recs[i].RouteVersions, true
		}
	}
	return nil, false
}

// heldFromRecords is the route keys the store holds by the newest record's account: the keys of every
// version it lists, from the records of those versions; false when no record gives a full account.
func heldFromRecords(recs []storedRecord) (map[string]string, bool) {
	vs, ok := heldVersions(recs)
	if !ok {
		return nil, false
	}
	held := map[string]string{}
	for _, v := range vs {
		vt := tableOfVersion(recs, v)
		if vt == nil {
			return nil, false
		}
		for _, it := range vt.items {
			held[it.Key] = it.Value
		}
	}
	return held, true
}

// secretNames are the keys that hold HS256 secrets: the gateway's, and those any deploy record wrote.
// A route key is never one of them (an env var may be named like a route key: rdeadbeef).
func (p *Provider) secretNames() []string {
	out := cfrender.SecretKeys(p.gatewayOrEmpty())
	recs, _ := p.readRecords()
	for _, r := range recs {
		for k := range r.Secrets {
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out
}

// gatewayOrEmpty is the gateway the provider deploys, an empty one when it was opened without.
func (p *Provider) gatewayOrEmpty() *ir.Gateway {
	if p.gateway == nil {
		return &ir.Gateway{}
	}
	return p.gateway
}

// routeDeploy is what a deploy does with the route keys, resolved before anything changes.
type routeDeploy struct {
	table   *routeTable       // the build's; nil when its code holds its routes
	held    map[string]string // the route keys the store holds, with their values
	prev    string            // the version the live function reads ("" none)
	keepAll bool              // the live function's table is not known: nothing is deleted
	puts    []routeItem       // written before TestFunction
	deletes []string          // deleted once the new code is live
	kept    []string          // the versions the store holds after the deploy
	arn     string
}

// version is the new build's table version, "" without a table.
func (rd *routeDeploy) version() string {
	if rd.table == nil {
		return ""
	}
	return rd.table.version
}

// usesRoutes makes the store available when the build has a route table or the records say the store
// holds route keys (a build whose routes fit its code again still removes the old tables).
func (p *Provider) usesRoutes(t *routeTable, recs []storedRecord) bool {
	if p.store == nil {
		return false
	}
	vs, _ := heldVersions(recs)
	if t == nil && len(vs) == 0 {
		return false
	}
	if p.kvs == nil {
		p.kvs = p.store
	}
	return true
}

// resolveRoutes compares the build's table with what the store holds (the records' account of it, or
// the store's own keys when no record gives one) and lists the keys to write and to delete. arn is the
// store's, "" when it does not exist yet; liveVersion the live functions' version.
func (p *Provider) resolveRoutes(ctx context.Context, t *routeTable, recs []storedRecord, arn, liveVersion string) (*routeDeploy, []string, error) {
	rd := &routeDeploy{table: t, held: map[string]string{}, arn: arn}
	var warnings []string
	if arn != "" {
		held, ok := heldFromRecords(recs)
		if !ok {
			var err error
			if held, err = p.listRouteKeys(ctx, arn); err != nil {
				return nil, nil, err
			}
		}
		rd.held = held
	}
	if liveVersion != "" {
		if r := lastRecordOf(recs, liveVersion); r != nil {
			if lt := recordedTable(r); lt != nil {
				rd.prev = lt.version
			}
		} else {
			rd.keepAll = true
		}
	}
	if t != nil {
		for _, it := range t.items {
			if v, ok := rd.held[it.Key]; !ok || v != it.Value {
				rd.puts = append(rd.puts, it)
			}
		}
	}
	versions := map[string]bool{}
	for k := range rd.held {
		v, _ := cfrender.RouteKeyVersion(k)
		versions[v] = true
	}
	if t != nil {
		versions[t.version] = true
	}
	// The old tables go only when the table changes: a re-apply of the live table keeps the one before
	// it, which an edge may still run and a rollback returns to.
	trim := !rd.keepAll && rd.version() != rd.prev
	if rd.keepAll && len(rd.held) > 0 {
		warnings = append(warnings, fmt.Sprintf("no deploy record names the route table the live function %s reads, so no route key of KeyValueStore %s is removed (the next apply after a recorded one removes the old versions)", p.fnName(functions[0]), p.kvs.setting))
	}
	for v := range versions {
		if !trim || v == rd.version() || v == rd.prev {
			rd.kept = append(rd.kept, v)
		}
	}
	sort.Strings(rd.kept)
	if trim {
		for k := range rd.held {
			if v, _ := cfrender.RouteKeyVersion(k); v != rd.version() && v != rd.prev {
				rd.deletes = append(rd.deletes, k)
			}
		}
		sort.Strings(rd.deletes)
	}
	// The old tables stay until the new code is live: refuse a table that does not fit beside them.
	total, heldBytes := 0, 0
	for k, v := range rd.held {
		heldBytes += len(k) + len(v)
	}
	if t != nil {
		total = heldBytes
		for _, it := range t.items {
			if v, ok := rd.held[it.Key]; ok {
				total -= len(it.Key) + len(v)
			}
			total += len(it.Key) + len(it.Value)
		}
	}
	if total > cfrender.MaxKVSBytes {
		return nil, nil, fmt.Errorf("providers/%s: KeyValueStore %s would hold %d bytes of route keys, over a store's %d: route table %s (%d bytes) goes in beside the %d bytes of route keys the store holds until the new code is live (older tables go only then): use fewer routes; nothing was changed", Name, p.kvs.setting, total, cfrender.MaxKVSBytes, t.version, t.bytes, heldBytes)
	}
	return rd, warnings, nil
}

// routeChanges are a plan's changes of the route keys: one per key to add, change or remove.
func (p *Provider) routeChanges(rd *routeDeploy) []providers.Change {
	var out []providers.Change
	for _, it := range rd.puts {
		act := providers.Create
		if _, ok := rd.held[it.Key]; ok {
			act = providers.Update
		}
		out = append(out, providers.Change{Action: act, Kind: "keyvaluestore key", Name: fmt.Sprintf("KeyValueStore %s: key %s", p.kvs.setting, it.Key)})
	}
	for _, k := range rd.deletes {
		out = append(out, providers.Change{Action: providers.Delete, Kind: "keyvaluestore key", Name: fmt.Sprintf("KeyValueStore %s: key %s", p.kvs.setting, k)})
	}
	return out
}

// listRouteKeys reads the route keys the store holds, page by page; secret keys are left out.
func (p *Provider) listRouteKeys(ctx context.Context, arn string) (map[string]string, error) {
	secrets := p.secretNames()
	out := map[string]string{}
	pg := kvs.NewListKeysPaginator(p.kvs.data, &kvs.ListKeysInput{KvsARN: aws.String(arn)})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, p.kvsError("list the keys of KeyValueStore "+arn, err)
		}
		for _, it := range page.Items {
			k := aws.ToString(it.Key)
			if _, ok := cfrender.RouteKeyVersion(k); ok && !slices.Contains(secrets, k) {
				out[k] = aws.ToString(it.Value)
			}
		}
	}
	return out, nil
}

// updateKeys writes puts and deletes in UpdateKeys calls within the API's limits, each carrying the
// store's ETag; a conflict (the store moved meanwhile) reads the ETag again, up to 3 times per call.
// Deletes never name a secret key.
func (p *Provider) updateKeys(ctx context.Context, arn string, puts []routeItem, deletes []string) error {
	secrets := p.secretNames()
	type op struct {
		key, value string
		del        bool
	}
	var ops []op
	for _, it := range puts {
		ops = append(ops, op{key: it.Key, value: it.Value})
	}
	for _, k := range deletes {
		if _, ok := cfrender.RouteKeyVersion(k); !ok || slices.Contains(secrets, k) {
			return fmt.Errorf("providers/%s: KeyValueStore %s: %q is not a route key, and only route keys are removed", Name, arn, k)
		}
		ops = append(ops, op{key: k, del: true})
	}
	etag := ""
	for len(ops) > 0 {
		in := &kvs.UpdateKeysInput{KvsARN: aws.String(arn)}
		n, size := 0, 0
		for n < len(ops) && n < maxUpdateKeys {
			// A generous bound on an item's JSON: its text twice (every byte escaped) and the framing.
			sz := 2*(len(ops[n].key)+len(ops[n].value)) + 32
			if n > 0 && size+sz > maxUpdateBytes-1024 {
				break
			}
			size += sz
			if ops[n].del {
				in.Deletes = append(in.Deletes, kvstypes.DeleteKeyRequestListItem{Key: aws.String(ops[n].key)})
			} else {
				in.Puts = append(in.Puts, kvstypes.PutKeyRequestListItem{Key: aws.String(ops[n].key), Value: aws.String(ops[n].value)})
			}
			n++
		}
		if err := p.ifMatch(ctx, arn, &etag, fmt.Sprintf("write %d route key(s) of KeyValueStore %s (from %s)", n, arn, ops[0].key), func(etag string) (*string, error) {
			in.IfMatch = aws.String(etag)
			out, err := p.kvs.data.UpdateKeys(ctx, in)
			if err != nil {
				return nil, err
			}
			return out.ETag, nil
		}); err != nil {
			return err
		}
		ops = ops[n:]
	}
	return nil
}

// writeRoutes writes the keys the new build (or the version a rollback returns to) reads, before its
// code is tested or published.
func (p *Provider) writeRoutes(ctx context.Context, rd *routeDeploy) error {
	if len(rd.puts) == 0 {
		return nil
	}
	return p.updateKeys(ctx, rd.arn, rd.puts, nil)
}

// trimRoutes removes the route keys of the versions no function reads any longer, once the new code is
// live and recorded. A failure leaves them (the records no longer count them) and is reported as progress:
// the deploy itself went through.
func (p *Provider) trimRoutes(ctx context.Context, rd *routeDeploy, version string) {
	if rd == nil || len(rd.deletes) == 0 {
		return
	}
	if err := p.updateKeys(ctx, rd.arn, nil, rd.deletes); err != nil {
		p.progress(providers.Progress{Target: Name, Step: fmt.Sprintf("remove %d route key(s) of old tables from KeyValueStore %s", len(rd.deletes), p.kvs.setting),
			Status: "failed", Version: version, Error: err.Error() + " (they stay in the store, unread; remove them by hand with `aws cloudfront-keyvaluestore update-keys` if the store runs short)"})
	}
}

// routeRecord is what the deploy record keeps of the store's route keys after rd.
func routeRecord(rd *routeDeploy) (table string, versions []string) {
	if rd.table != nil {
		table = string(rd.table.raw)
	}
	return table, append([]string{}, rd.kept...)
}

// liveRouteArtifact is the route table the live version reads, as its deploy record keeps it, for plan
// to compare with the build's; nil when that version reads none.
func liveRouteArtifact(recs []storedRecord, version string, want map[string]render.Artifact) *render.Artifact {
	r := lastRecordOf(recs, version)
	if r == nil || r.RouteTable == "" {
		return nil
	}
	a := render.Artifact{Target: cfrender.Name, Path: cfrender.KVSFile, MediaType: "application/json", Data: []byte(r.RouteTable)}
	if w, ok := want[cfrender.KVSFile]; ok && a.Digest() == w.Digest() {
		a.Canonical = w.Canonical
	}
	return &a
}

// prepareRoutes resolves apply's route keys before anything changes; nil when the build and the store
// have none.
func (p *Provider) prepareRoutes(ctx context.Context, arts []render.Artifact, recs []storedRecord, liveVersion string) (*routeDeploy, error) {
	t, err := routeTableOf(arts, cfrender.SecretKeys(p.gatewayOrEmpty()))
	if err != nil || !p.usesRoutes(t, recs) {
		return nil, err
	}
	arn, err := p.findStore(ctx)
	if err != nil {
		return nil, err
	}
	rd, _, err := p.resolveRoutes(ctx, t, recs, arn, liveVersion)
	return rd, err
}

// prepareRollbackRoutes resolves the keys a rollback to version writes: its table, from its deploy
// record, against the keys the store holds now (read from the store: a rollback must not trust an
// account of keys an earlier apply may have removed). nil when that version reads no table.
func (p *Provider) prepareRollbackRoutes(ctx context.Context, recs []storedRecord, version string) (*routeDeploy, error) {
	t := recordedTable(lastRecordOf(recs, version))
	if t == nil || p.store == nil {
		return nil, nil
	}
	if p.kvs == nil {
		p.kvs = p.store
	}
	arn, err := p.findStore(ctx)
	if err != nil {
		return nil, err
	}
	rd := &routeDeploy{table: t, held: map[string]string{}, arn: arn, prev: t.version}
	if arn != "" {
		if rd.held, err = p.listRouteKeys(ctx, arn); err != nil {
			return nil, err
		}
	}
	versions := map[string]bool{t.version: true}
	for k := range rd.held {
		v, _ := cfrender.RouteKeyVersion(k)
		versions[v] = true
	}
	for v := range versions {
		rd.kept = append(rd.kept, v)
	}
	sort.Strings(rd.kept)
	for _, it := range t.items {
		if v, ok := rd.held[it.Key]; !ok || v != it.Value {
			rd.puts = append(rd.puts, it)
		}
	}
	return rd, nil
}

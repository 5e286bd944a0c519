package fastly

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	gofastly "github.com/fastly/go-fastly/v12/fastly"

	"github.com/edgegw/edgegw/gateway/jwtverify"
	"github.com/edgegw/edgegw/providers"
	fastlyvcl "github.com/edgegw/edgegw/render/fastly"
)

// Edge dictionaries are versioned containers with unversioned items: a version holds a dictionary (created
// in the clone, like any object), while its items belong to the dictionary's id and change at once for
// every version that holds it. So the provider creates a missing dictionary in the staged clone, and writes
// the items only at activation, just before ActivateVersion, and only the keys that differ (one
// BatchModifyDictionaryItems call per dictionary of up to 1,000 changed keys).
//
// The items of a public dictionary (a JWKS's keys) are read back from Fastly to be compared, and the deploy
// record keeps them (as left and as found), so a rollback puts back the keys the restored version was
// live with. A secret dictionary is write-only: Fastly never gives its items back, so the record keeps
// a keyed one-way fingerprint per item (HMAC-SHA-256 keyed by the value), never the value, and a value
// is written when its fingerprint differs. A rollback cannot restore a secret.

// recordedDictionary is what a deploy record keeps of one dictionary.
type recordedDictionary struct {
	Name      string `json:"name"`
	ID        string `json:"id"`
	WriteOnly bool   `json:"write_only,omitempty"`
	// Items are a public dictionary's items as this deploy left them; Previous as it found them (nil when
	// the deploy created the dictionary: there is nothing to restore).
	Items    map[string]string `json:"items,omitempty"`
	Previous map[string]string `json:"previous,omitempty"`
	Created  bool              `json:"created,omitempty"`
	// Fingerprints are a write-only dictionary's items as fingerprints (see fingerprint).
	Fingerprints map[string]string `json:"fingerprints,omitempty"`
}

// wantedDictionary is a dictionary of dictionaries.json with its items resolved.
type wantedDictionary struct {
	spec  fastlyvcl.DictionarySpec
	items map[string]string
	// secret marks the keys whose value is secret; unset lists the secret keys whose variable is not set
	// (plan only: apply refuses).
	secret map[string]bool
	unset  []string
}

// parseDictionaries reads and checks a dictionaries.json artifact.
func parseDictionaries(data []byte) (*fastlyvcl.DictionarySet, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	var s fastlyvcl.DictionarySet
	if err := d.Decode(&s); err != nil {
		return nil, fmt.Errorf("providers/fastly: %s: %w (the fastly renderer writes it; see render/fastly.DictionarySet)", DictionariesFile, err)
	}
	seen := map[string]bool{}
	for _, ds := range s.Dictionaries {
		switch {
		case ds.Name == "" || seen[ds.Name]:
			return nil, fmt.Errorf("providers/fastly: %s: dictionary %q is unnamed or listed twice", DictionariesFile, ds.Name)
		case len(ds.Secrets) > 0 && !ds.WriteOnly:
			return nil, fmt.Errorf("providers/fastly: %s: dictionary %s holds secrets but is not write_only: Fastly would show them in the API and UI", DictionariesFile, ds.Name)
		case ds.JWKS != nil && ds.JWKS.URL == "":
			return nil, fmt.Errorf("providers/fastly: %s: dictionary %s: the jwks has no url", DictionariesFile, ds.Name)
		}
		seen[ds.Name] = true
	}
	return &s, nil
}

// resolveDictionaries fills in the items of every dictionary: literal items, the JWKS keys (fetched once
// per URL and run) and the secrets from the environment. With needSecrets (apply), an unset secret is an
// error naming its variable; at plan time it is listed in unset.
func (p *Provider) resolveDictionaries(ctx context.Context, set *fastlyvcl.DictionarySet, needSecrets bool) ([]wantedDictionary, error) {
	if set == nil {
		return nil, nil
	}
	var out []wantedDictionary
	for _, ds := range set.Dictionaries {
		w := wantedDictionary{spec: ds, items: map[string]string{}, secret: map[string]bool{}}
		for k, v := range ds.Items {
			w.items[k] = v
		}
		if ds.JWKS != nil {
			items, err := p.jwksItems(ctx, ds.JWKS)
			if err != nil {
				return nil, fmt.Errorf("providers/fastly: dictionary %s: %w; the VCL would find no key and refuse every token, so nothing is planned: make the key set reachable from here and plan again", ds.Name, err)
			}
			for k, v := range items {
				w.items[k] = v
			}
		}
		for _, key := range sortedKeys(ds.Secrets) {
			env := ds.Secrets[key]
			v := p.getenv(env)
			if v == "" {
				if needSecrets {
					return nil, fmt.Errorf("providers/fastly: dictionary %s: item %s reads %s, which is not set: export %s before apply (the manifest references it with {env: %s})", ds.Name, key, env, env, env)
				}
				w.unset = append(w.unset, key)
				continue
			}
			w.items[key], w.secret[key] = v, true
		}
		out = append(out, w)
	}
	return out, nil
}

// jwksItems fetches a key set and returns its dictionary items (render/fastly.JWKSItems).
func (p *Provider) jwksItems(ctx context.Context, src *fastlyvcl.JWKSSource) (map[string]string, error) {
	key := src.URL + " " + strings.Join(src.Algorithms, ",")
	if items, ok := p.jwks[key]; ok {
		return items, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("key set %s: %w", src.URL, err)
	}
	resp, err := p.fetch.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch the key set %s: %w", src.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch the key set %s: status %d", src.URL, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("fetch the key set %s: %w", src.URL, err)
	}
	keys, err := jwtverify.ParseKeys(body, "")
	if err != nil {
		return nil, fmt.Errorf("key set %s: %w", src.URL, err)
	}
	items := fastlyvcl.JWKSItems(keys, src.Algorithms)
	if len(items) == 0 {
		return nil, fmt.Errorf("key set %s has no key with a kid for %s", src.URL, strings.Join(src.Algorithms, ", "))
	}
	p.jwks[key] = items
	return items, nil
}

// fingerprint is a write-only item's identity in the deploy record: HMAC-SHA-256 keyed by the value over the
// service, dictionary and key, so equal values on two items or services do not look alike. Secrets are
// at least 32 bytes (ir.CheckHMACSecret), so the fingerprint cannot be reversed by guessing.
func (p *Provider) fingerprint(dict, key, value string) string {
	m := hmac.New(sha256.New, []byte(value))
	m.Write([]byte("edgegw fastly dictionary item\x00" + p.serviceID + "\x00" + dict + "\x00" + key))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// itemWrite is the items one dictionary gets at activation, and what puts its old items back.
type itemWrite struct {
	name, id string
	ops      []*gofastly.BatchDictionaryItem
	undo     []*gofastly.BatchDictionaryItem // nil for a write-only dictionary: its old values are unknown
}

// itemOps returns the batch operations that turn live into want (upserts and deletes, keys sorted).
func itemOps(live, want map[string]string) []*gofastly.BatchDictionaryItem {
	var ops []*gofastly.BatchDictionaryItem
	for _, k := range sortedKeys(want) {
		if lv, ok := live[k]; !ok || lv != want[k] {
			ops = append(ops, &gofastly.BatchDictionaryItem{Operation: gofastly.ToPointer(gofastly.UpsertBatchOperation),
				ItemKey: gofastly.ToPointer(k), ItemValue: gofastly.ToPointer(want[k])})
		}
	}
	for _, k := range sortedKeys(live) {
		if _, ok := want[k]; !ok {
			ops = append(ops, &gofastly.BatchDictionaryItem{Operation: gofastly.ToPointer(gofastly.DeleteBatchOperation), ItemKey: gofastly.ToPointer(k)})
		}
	}
	return ops
}

// writeItems sends the operations of each write, BatchModifyMaximumOperations at a time.
func (p *Provider) writeItems(ctx context.Context, name, id string, ops []*gofastly.BatchDictionaryItem) error {
	for len(ops) > 0 {
		n := min(len(ops), gofastly.BatchModifyMaximumOperations)
		if err := p.client.BatchModifyDictionaryItems(ctx, &gofastly.BatchModifyDictionaryItemsInput{ServiceID: p.serviceID, DictionaryID: id, Items: ops[:n]}); err != nil {
			return p.apiError(fmt.Sprintf("write the items of dictionary %s (%d changes)", name, n), err)
		}
		ops = ops[n:]
	}
	return nil
}

// liveItems lists a public dictionary's items.
func (p *Provider) liveItems(ctx context.Context, name, id string) (map[string]string, error) {
	items, err := p.client.ListDictionaryItems(ctx, &gofastly.ListDictionaryItemsInput{ServiceID: p.serviceID, DictionaryID: id})
	if err != nil {
		return nil, p.apiError("list the items of dictionary "+name, err)
	}
	out := map[string]string{}
	for _, it := range items {
		out[str(it.ItemKey)] = str(it.ItemValue)
	}
	return out, nil
}

// listDictionaries returns a version's dictionaries by name.
func (p *Provider) listDictionaries(ctx context.Context, version int) (map[string]*gofastly.Dictionary, error) {
	ds, err := p.client.ListDictionaries(ctx, &gofastly.ListDictionariesInput{ServiceID: p.serviceID, ServiceVersion: version})
	if err != nil {
		return nil, p.apiError(fmt.Sprintf("list the dictionaries of version %d", version), err)
	}
	out := map[string]*gofastly.Dictionary{}
	for _, d := range ds {
		out[str(d.Name)] = d
	}
	return out, nil
}

func recordedByName(sr *storedRecord) map[string]recordedDictionary {
	out := map[string]recordedDictionary{}
	if sr != nil {
		for _, d := range sr.Dictionaries {
			out[d.Name] = d
		}
	}
	return out
}

// dictionaryChanges lists what applying wants changes in the live dictionaries, item by item: public
// values by a digest, secret ones as (sensitive). recorded is the live deploy record's dictionaries.
func (p *Provider) dictionaryChanges(ctx context.Context, active int, wants []wantedDictionary, recorded map[string]recordedDictionary) ([]providers.Change, []string, error) {
	if len(wants) == 0 {
		return nil, nil, nil
	}
	live := map[string]*gofastly.Dictionary{}
	if active > 0 {
		var err error
		if live, err = p.listDictionaries(ctx, active); err != nil {
			return nil, nil, err
		}
	}
	var changes []providers.Change
	var warnings []string
	for _, w := range wants {
		d := live[w.spec.Name]
		if d == nil {
			changes = append(changes, providers.Change{Action: providers.Create, Kind: "dictionary", Name: w.spec.Name})
		} else if flag(d.WriteOnly) != w.spec.WriteOnly {
			return nil, nil, fmt.Errorf("providers/fastly: dictionary %s of live version %d is %s, and the VCL needs it %s; Fastly cannot change that on a dictionary: delete it in a draft of the service and apply again", w.spec.Name, active, writeOnlyWord(flag(d.WriteOnly)), writeOnlyWord(w.spec.WriteOnly))
		}
		item := func(act providers.Action, key string, before, after string) {
			// The name carries the values for the human view: a digest of a public one, (sensitive) for a
			// secret.
			name := w.spec.Name + "[" + key + "]"
			switch act {
			case providers.Create:
				name += " = " + after
			case providers.Update:
				name += " = " + before + " -> " + after
			case providers.Delete:
				name += " (was " + before + ")"
			}
			changes = append(changes, providers.Change{Action: act, Kind: "dictionary item", Name: name, Before: before, After: after})
		}
		if w.spec.WriteOnly {
			var fps map[string]string
			if d != nil {
				fps = recorded[w.spec.Name].Fingerprints
			}
			for _, k := range sortedKeys(w.items) {
				fp, ok := fps[k]
				switch {
				case !ok:
					item(providers.Create, k, "", providers.Redacted)
				case fp != p.fingerprint(w.spec.Name, k, w.items[k]):
					item(providers.Update, k, providers.Redacted, providers.Redacted)
				}
			}
			for _, k := range w.unset {
				if _, ok := fps[k]; !ok {
					item(providers.Create, k, "", providers.Redacted)
					continue
				}
				warnings = append(warnings, fmt.Sprintf("dictionary %s: item %s is not compared: %s is not set here (apply reads it)", w.spec.Name, k, w.spec.Secrets[k]))
			}
			for _, k := range sortedKeys(fps) {
				if _, ok := w.spec.Secrets[k]; !ok {
					item(providers.Delete, k, providers.Redacted, "")
				}
			}
			continue
		}
		have := map[string]string{}
		if d != nil {
			var err error
			if have, err = p.liveItems(ctx, w.spec.Name, str(d.DictionaryID)); err != nil {
				return nil, nil, err
			}
		}
		for _, op := range itemOps(have, w.items) {
			k := str(op.ItemKey)
			switch lv, ok := have[k]; {
			case *op.Operation == gofastly.DeleteBatchOperation:
				item(providers.Delete, k, valueDigest(lv), "")
			case ok:
				item(providers.Update, k, valueDigest(lv), valueDigest(w.items[k]))
			default:
				item(providers.Create, k, "", valueDigest(w.items[k]))
			}
		}
	}
	return changes, warnings, nil
}

func writeOnlyWord(b bool) string {
	if b {
		return "write-only"
	}
	return "readable (not write-only)"
}

// valueDigest names a public item value in a plan: its length and a short digest (a PEM is many lines).
func valueDigest(v string) string {
	sum := sha256.Sum256([]byte(v))
	return fmt.Sprintf("sha256:%s (%d bytes)", hex.EncodeToString(sum[:])[:12], len(v))
}

// stageDictionaries makes the staged version n hold every wanted dictionary (creating the missing ones: a
// versioned, mutating call each) and returns the item writes activation will make and the record of them.
// recorded is the record of the version cloned.
func (p *Provider) stageDictionaries(ctx context.Context, n int, wants []wantedDictionary, recorded map[string]recordedDictionary) ([]itemWrite, []recordedDictionary, error) {
	if len(wants) == 0 {
		return nil, nil, nil
	}
	have, err := p.listDictionaries(ctx, n)
	if err != nil {
		return nil, nil, err
	}
	var writes []itemWrite
	var recs []recordedDictionary
	for _, w := range wants {
		name := w.spec.Name
		d := have[name]
		created := d == nil
		if created {
			d, err = p.client.CreateDictionary(ctx, &gofastly.CreateDictionaryInput{ServiceID: p.serviceID, ServiceVersion: n, Name: gofastly.ToPointer(name),
				WriteOnly: optCompatibool(w.spec.WriteOnly)})
			if err != nil {
				return nil, nil, p.apiError(fmt.Sprintf("version %d (staged, not active): create dictionary %s", n, name), err)
			}
		} else if flag(d.WriteOnly) != w.spec.WriteOnly {
			return nil, nil, fmt.Errorf("providers/fastly: dictionary %s of version %d is %s, and the VCL needs it %s; Fastly cannot change that on a dictionary: delete it in a draft of the service and apply again", name, n, writeOnlyWord(flag(d.WriteOnly)), writeOnlyWord(w.spec.WriteOnly))
		}
		id := str(d.DictionaryID)
		rec := recordedDictionary{Name: name, ID: id, WriteOnly: w.spec.WriteOnly, Created: created}
		if w.spec.WriteOnly {
			// The old values cannot be read: compare fingerprints, and write every item whose differs.
			var old map[string]string
			if !created {
				old = recorded[name].Fingerprints
			}
			rec.Fingerprints = map[string]string{}
			var ops []*gofastly.BatchDictionaryItem
			for _, k := range sortedKeys(w.items) {
				fp := p.fingerprint(name, k, w.items[k])
				rec.Fingerprints[k] = fp
				if old[k] != fp {
					ops = append(ops, &gofastly.BatchDictionaryItem{Operation: gofastly.ToPointer(gofastly.UpsertBatchOperation),
						ItemKey: gofastly.ToPointer(k), ItemValue: gofastly.ToPointer(w.items[k])})
				}
			}
			for _, k := range sortedKeys(old) {
				if _, ok := w.items[k]; !ok {
					ops = append(ops, &gofastly.BatchDictionaryItem{Operation: gofastly.ToPointer(gofastly.DeleteBatchOperation), ItemKey: gofastly.ToPointer(k)})
				}
			}
			if len(ops) > 0 {
				writes = append(writes, itemWrite{name: name, id: id, ops: ops})
			}
			recs = append(recs, rec)
			continue
		}
		live := map[string]string{}
		if !created {
			if live, err = p.liveItems(ctx, name, id); err != nil {
				return nil, nil, err
			}
			rec.Previous = live
		}
		rec.Items = w.items
		if ops := itemOps(live, w.items); len(ops) > 0 {
			writes = append(writes, itemWrite{name: name, id: id, ops: ops, undo: itemOps(w.items, live)})
		}
		recs = append(recs, rec)
	}
	return writes, recs, nil
}

// undoWrites puts back the public items the writes changed, newest first; secret values cannot be put
// back. It returns what it could not restore.
func (p *Provider) undoWrites(ctx context.Context, writes []itemWrite) []string {
	var failed []string
	for i := len(writes) - 1; i >= 0; i-- {
		w := writes[i]
		if w.undo == nil {
			continue
		}
		if err := p.writeItems(ctx, w.name, w.id, w.undo); err != nil {
			failed = append(failed, fmt.Sprintf("dictionary %s: %v", w.name, err))
		}
	}
	return failed
}

// restoreItems puts back, for a rollback to a version, the public items it was live with: the items the
// live deploy found (when it was deployed over that version), else the items the version's own deploy
// left. It returns the number of dictionaries written.
func (p *Provider) restoreItems(ctx context.Context, target int) (int, error) {
	svc, err := p.service(ctx)
	if err != nil {
		return 0, err
	}
	want := map[string]recordedDictionary{} // by name: ID and the items to restore in Items
	if live := activeVersion(svc); live > 0 && live != target {
		sr, err := p.readRecord(ctx, live)
		if err != nil {
			return 0, err
		}
		if sr != nil && sr.Record.Previous.Version == fmt.Sprint(target) {
			for _, d := range sr.Dictionaries {
				if !d.WriteOnly && !d.Created {
					want[d.Name] = recordedDictionary{Name: d.Name, ID: d.ID, Items: d.Previous}
				}
			}
			return p.putItems(ctx, want)
		}
	}
	sr, err := p.readRecord(ctx, target)
	if err != nil {
		return 0, err
	}
	if sr != nil {
		for _, d := range sr.Dictionaries {
			if !d.WriteOnly {
				want[d.Name] = d
			}
		}
	}
	return p.putItems(ctx, want)
}

func (p *Provider) putItems(ctx context.Context, want map[string]recordedDictionary) (int, error) {
	written := 0
	for _, name := range sortedKeys(want) {
		d := want[name]
		live, err := p.liveItems(ctx, name, d.ID)
		if err != nil {
			return written, err
		}
		items := d.Items
		if items == nil {
			items = map[string]string{}
		}
		if ops := itemOps(live, items); len(ops) > 0 {
			if err := p.writeItems(ctx, name, d.ID, ops); err != nil {
				return written, err
			}
			written++
		}
	}
	return written, nil
}

// readRecord reads the deploy record of a version; nil when it has none (not deployed by edgegw) or it
// cannot be read.
func (p *Provider) readRecord(ctx context.Context, version int) (*storedRecord, error) {
	v, err := p.client.GetVCL(ctx, &gofastly.GetVCLInput{ServiceID: p.serviceID, ServiceVersion: version, Name: recordVCL})
	if err != nil {
		var he *gofastly.HTTPError
		if errors.As(err, &he) && he.StatusCode == http.StatusNotFound {
			return nil, nil
		}
		return nil, p.apiError(fmt.Sprintf("read the deploy record of version %d", version), err)
	}
	sr, err := decodeRecord(str(v.Content))
	if err != nil {
		return nil, nil
	}
	return sr, nil
}

func optCompatibool(b bool) *gofastly.Compatibool {
	if !b {
		return nil
	}
	return gofastly.ToPointer(gofastly.Compatibool(true))
}

// dictionaryNames lists the names of a set, sorted.
func dictionaryNames(set *fastlyvcl.DictionarySet) []string {
	var out []string
	if set != nil {
		for _, d := range set.Dictionaries {
			out = append(out, d.Name)
		}
	}
	sort.Strings(out)
	return out
}

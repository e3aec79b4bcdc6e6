package artifacts

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// DefaultOrg is the org used when none is given, as on the command line.
const DefaultOrg = "root"

// storagePrefix starts the key of every stored run-time definition; the
// full key is artifacts/<org>/<name>.
const storagePrefix = "artifacts/"

// Repository holds the artifacts each org can see: the built-ins, the ones
// loaded from the definitions folder (shared by every org), and the ones
// set at run time, which belong to one org and are kept in Storage. It is
// safe for concurrent use. Artifacts it returns are shared: treat them as
// read-only.
type Repository struct {
	storage Storage

	// write serialises the changes (Set, Delete, LoadDir) so that storage
	// and memory see them in the same order; mu guards the maps and is
	// held only briefly, so lookups never wait for a disk write.
	write sync.Mutex
	mu    sync.RWMutex

	folder map[string]*folderArtifact
	orgs   map[string]*orgArtifacts
	// notLoaded are the folder artifacts LoadDir left out, by name.
	notLoaded map[string]*NotLoaded

	// check judges the VQL of definitions as they are set or loaded
	// (see SetChecker); guarded by write.
	check Checker

	// metadata holds artifacts' Metadata when there is no storage, by
	// metadataKey; guarded by mu.
	metadata map[string]Metadata
}

// folderArtifact remembers which file a folder definition came from, for
// the message when a second file defines the same name.
type folderArtifact struct {
	artifact *Artifact
	file     string
}

// orgArtifacts are one org's run-time definitions, read from storage at
// the org's first use.
type orgArtifacts struct {
	byName map[string]*Artifact
	// loadErr reports stored definitions that could not be read; they
	// are left out, and LoadOrg returns this.
	loadErr error
}

// NewRepository returns a repository that keeps run-time definitions in
// storage. storage may be nil: definitions set at run time then last only
// as long as the Repository.
func NewRepository(storage Storage) *Repository {
	return &Repository{
		storage:   storage,
		folder:    map[string]*folderArtifact{},
		orgs:      map[string]*orgArtifacts{},
		notLoaded: map[string]*NotLoaded{},
	}
}

// normOrg gives the empty org its default name, so that callers without an
// org and callers passing "root" share one set of definitions.
func normOrg(org string) string {
	if org == "" {
		return DefaultOrg
	}
	return org
}

// storageKey is where org's run-time definition name is stored.
func storageKey(org, name string) string {
	return storagePrefix + org + "/" + name
}

// Get returns the artifact called name as org sees it: the org's run-time
// definition if there is one, else the folder's, else the built-in. An
// artifact that imports others comes back as a copy whose Imported holds
// their exports as org sees them now.
func (r *Repository) Get(org, name string) (*Artifact, bool) {
	a, ok := r.get(org, name)
	if !ok || len(a.Imports) == 0 {
		return a, ok
	}
	c := *a
	c.Imported = make([]Import, 0, len(a.Imports))
	for _, imp := range a.Imports {
		b, found := r.get(org, imp)
		in := Import{Name: imp, Found: found}
		if found {
			in.Export = b.Export
		}
		c.Imported = append(c.Imported, in)
	}
	return &c, true
}

// exportOf finds the export of an artifact org can see, for the check.
func (r *Repository) exportOf(org string) func(name string) (string, bool) {
	return func(name string) (string, bool) {
		a, ok := r.get(org, name)
		if !ok {
			return "", false
		}
		return a.Export, true
	}
}

func (r *Repository) get(org, name string) (*Artifact, bool) {
	o, _ := r.org(normOrg(org)) // unreadable storage: folder and built-ins still answer
	r.mu.RLock()
	defer r.mu.RUnlock()
	if o != nil {
		if a, ok := o.byName[name]; ok {
			return a, true
		}
	}
	if f, ok := r.folder[name]; ok {
		return f.artifact, true
	}
	return builtin(name)
}

// List returns every artifact org can see, sorted by name; a run-time
// definition hides the folder definition of the same name.
func (r *Repository) List(org string) []*Artifact {
	o, _ := r.org(normOrg(org))
	byName := map[string]*Artifact{}
	for name, a := range builtins() {
		byName[name] = a
	}
	r.mu.RLock()
	for name, f := range r.folder {
		byName[name] = f.artifact
	}
	if o != nil {
		for name, a := range o.byName {
			byName[name] = a
		}
	}
	r.mu.RUnlock()
	out := make([]*Artifact, 0, len(byName))
	for _, a := range byName {
		out = append(out, a)
	}
	sortByName(out)
	return out
}

// Set parses text and makes it org's definition of its artifact, replacing
// an earlier run-time definition of that name; it is stored before Set
// returns, so it survives a restart. Built-in artifacts cannot be
// replaced. Parse errors give the line within text; problems the checker
// finds in its VQL (see SetChecker) give the line and column, and nothing
// is stored.
func (r *Repository) Set(org, text string) (*Artifact, error) {
	org = normOrg(org)
	a, err := Parse([]byte(text), "")
	if err != nil {
		return nil, err
	}
	if _, ok := builtin(a.Name); ok {
		return nil, fmt.Errorf("a user definition cannot replace built-in artifact %s", a.Name)
	}
	r.write.Lock()
	defer r.write.Unlock()
	if err := checkArtifact(r.check, a, "", r.exportOf(org)); err != nil {
		return nil, err
	}
	o, err := r.org(org)
	if err != nil {
		return nil, err
	}
	if r.storage != nil {
		if err := r.storage.Put(storageKey(org, a.Name), []byte(text)); err != nil {
			return nil, fmt.Errorf("storing artifact %s: %w", a.Name, err)
		}
	}
	r.mu.Lock()
	o.byName[a.Name] = a
	r.mu.Unlock()
	return a, nil
}

// Delete removes org's run-time definition of name, from memory and from
// storage. Built-in and folder definitions cannot be deleted this way:
// the errors say why, and for folder ones what to do instead.
func (r *Repository) Delete(org, name string) error {
	org = normOrg(org)
	r.write.Lock()
	defer r.write.Unlock()
	o, err := r.org(org)
	if err != nil {
		return err
	}
	r.mu.RLock()
	_, runtime := o.byName[name]
	_, inFolder := r.folder[name]
	r.mu.RUnlock()
	if !runtime {
		if _, ok := builtin(name); ok {
			return fmt.Errorf("cannot delete built-in artifact %s", name)
		}
		if inFolder {
			return fmt.Errorf("artifact %s comes from the definitions folder; remove its file instead", name)
		}
		return fmt.Errorf("artifact %s not known", name)
	}
	if r.storage != nil {
		if err := r.storage.Delete(storageKey(org, name)); err != nil {
			return fmt.Errorf("deleting stored artifact %s: %w", name, err)
		}
	}
	r.mu.Lock()
	delete(o.byName, name)
	r.mu.Unlock()
	// A definition set again later under this name starts untagged.
	if _, still := r.get(org, name); !still {
		_ = r.putMetadata(org, name, Metadata{})
	}
	return nil
}

// LoadOrg reads org's run-time definitions from storage now instead of at
// first use, and reports the stored definitions that could not be read
// (they are left out). Start-up calls it for each of Orgs() so that such
// problems are seen; it is cheap once the org is loaded.
func (r *Repository) LoadOrg(org string) error {
	o, err := r.org(normOrg(org))
	if err != nil {
		return err
	}
	return o.loadErr
}

// Orgs lists, sorted, the orgs that have run-time definitions, so that
// start-up can establish their queues. A storage error leaves out the orgs
// it hides; LoadOrg reports such errors.
func (r *Repository) Orgs() []string {
	set := map[string]bool{}
	if r.storage != nil {
		_ = r.storage.Scan(storagePrefix, func(key string, _ []byte) error {
			rest := strings.TrimPrefix(key, storagePrefix)
			if i := strings.LastIndex(rest, "/"); i >= 0 {
				set[rest[:i]] = true
			}
			return nil
		})
	}
	r.mu.RLock()
	for org, o := range r.orgs {
		if len(o.byName) > 0 {
			set[org] = true
		}
	}
	r.mu.RUnlock()
	out := make([]string, 0, len(set))
	for org := range set {
		out = append(out, org)
	}
	slices.Sort(out)
	return out
}

// org returns org's run-time definitions, reading them from storage at the
// first use. A storage error is returned and the org stays unloaded, so
// that the next use tries again.
func (r *Repository) org(org string) (*orgArtifacts, error) {
	r.mu.RLock()
	o := r.orgs[org]
	r.mu.RUnlock()
	if o != nil {
		return o, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if o := r.orgs[org]; o != nil {
		return o, nil
	}
	o, err := r.load(org)
	if err != nil {
		return nil, err
	}
	r.orgs[org] = o
	return o, nil
}

// load reads org's stored definitions. One that does not parse, whose name
// does not match its key, or that now names a built-in is left out and
// reported in loadErr rather than stopping the others.
func (r *Repository) load(org string) (*orgArtifacts, error) {
	o := &orgArtifacts{byName: map[string]*Artifact{}}
	if r.storage == nil {
		return o, nil
	}
	prefix := storageKey(org, "")
	var problems []error
	err := r.storage.Scan(prefix, func(key string, value []byte) error {
		name := strings.TrimPrefix(key, prefix)
		if strings.Contains(name, "/") {
			return nil // an org whose id starts with this one's
		}
		a, err := Parse(value, key)
		switch {
		case err != nil:
			problems = append(problems, err)
		case a.Name != name:
			problems = append(problems, fmt.Errorf("%s: holds artifact %s, not %s", key, a.Name, name))
		default:
			if _, ok := builtin(name); ok {
				problems = append(problems, fmt.Errorf("%s: a user definition cannot replace built-in artifact %s", key, name))
				return nil
			}
			o.byName[name] = a
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the artifacts of org %s: %w", org, err)
	}
	o.loadErr = errors.Join(problems...)
	return o, nil
}

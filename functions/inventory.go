package functions

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/accessors"
	"github.com/vqlq/vqlq/plugins"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/uploads"
	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// The tools inventory is Velociraptor's list of the external binaries
// artifacts use (their tools: sections), each with where to get it and
// its hash; an admin may override a tool with a file of their own
// (Server.Utils.UploadTools pre-loads an air-gapped server that way).
// Records are per org in the data folder's key-value store; the binaries
// the server keeps sit in the data folder's inventory/ folder.

// inventoryPrefix starts the key of a stored tool record.
const inventoryPrefix = "inventory/"

// toolMaxBytes bounds a tool downloaded from its url.
const toolMaxBytes = 2 << 30

// tool is one inventory record, with Velociraptor's field names.
type tool struct {
	Name          string `json:"name"`
	URL           string `json:"url,omitempty"`
	Filename      string `json:"filename,omitempty"`
	Hash          string `json:"hash,omitempty"`
	Version       string `json:"version,omitempty"`
	ServeLocally  bool   `json:"serve_locally,omitempty"`
	AdminOverride bool   `json:"admin_override,omitempty"`
	// Artifact is the artifact whose tools: section declares the tool.
	Artifact string `json:"artifact,omitempty"`
	// Stored is the binary kept in the data folder, relative to its
	// inventory/ folder; Size is its length.
	Stored string `json:"stored,omitempty"`
	Size   int64  `json:"size,omitempty"`
}

func (t tool) dict() *ordereddict.Dict {
	d := ordereddict.NewDict().Set("name", t.Name).Set("url", t.URL).Set("filename", t.Filename).
		Set("hash", t.Hash).Set("version", t.Version).Set("serve_locally", t.ServeLocally).
		Set("admin_override", t.AdminOverride)
	if t.Artifact != "" {
		d.Set("artifact", t.Artifact)
	}
	if t.Stored != "" {
		d.Set("size", t.Size)
	}
	return d
}

func inventoryKey(org, name string) string { return inventoryPrefix + orgName(org) + "/" + name }

func orgName(org string) string {
	if org == "" {
		return "root"
	}
	return org
}

// inventoryDir is the data folder's inventory/ folder: beside uploads/,
// which is the data folder a session is told about.
func inventoryDir(scope *vql.Scope) (string, error) {
	if scope.UploadDir() == "" {
		return "", fmt.Errorf("this session has no data folder to keep tools in")
	}
	return filepath.Join(filepath.Dir(scope.UploadDir()), "inventory"), nil
}

// storedTool reads org's record of name; ok is false when there is none.
func storedTool(m *queues.Manager, org, name string) (tool, bool, error) {
	b, found, err := m.Storage().Get(inventoryKey(org, name))
	if err != nil || !found {
		return tool{}, false, err
	}
	var t tool
	if err := json.Unmarshal(b, &t); err != nil {
		return tool{}, false, fmt.Errorf("tool %s: stored record unreadable: %v", name, err)
	}
	return t, true, nil
}

func putTool(m *queues.Manager, org string, t tool) error {
	b, _ := json.Marshal(t)
	return m.Storage().Put(inventoryKey(org, t.Name), b)
}

// declaredTools are the tools the org's artifacts declare, by name; the
// first artifact (by name) to declare one wins, as the repository loads
// them.
func declaredTools(m *queues.Manager, org string) map[string]tool {
	out := map[string]tool{}
	for _, a := range m.Repository().List(org) {
		for _, raw := range a.Tools {
			d, ok := raw.(map[string]any)
			if !ok {
				continue
			}
			name, _ := d["name"].(string)
			if name == "" {
				continue
			}
			if _, seen := out[name]; seen {
				continue
			}
			t := tool{Name: name, Artifact: a.Name}
			t.URL, t.Filename = toolText(d["url"]), toolText(d["filename"])
			t.Hash, t.Version = strings.ToLower(toolText(d["expected_hash"])), toolText(d["version"])
			t.ServeLocally, _ = d["serve_locally"].(bool)
			if t.Filename == "" && t.URL != "" {
				t.Filename = path.Base(t.URL)
			}
			out[name] = t
		}
	}
	return out
}

// toolText is a scalar of a tools: entry as text (a version may be
// written as a number).
func toolText(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	}
	return fmt.Sprint(v)
}

// inventoryTools is the org's inventory: the declared tools, each
// replaced by the stored record of its name, and the stored records of
// tools no artifact declares; sorted by name.
func inventoryTools(m *queues.Manager, org string) ([]tool, error) {
	byName := declaredTools(m, org)
	prefix := inventoryPrefix + orgName(org) + "/"
	err := m.Storage().Scan(prefix, func(key string, b []byte) error {
		if strings.Contains(strings.TrimPrefix(key, prefix), "/") {
			return nil
		}
		var t tool
		if json.Unmarshal(b, &t) == nil {
			byName[t.Name] = t
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]tool, 0, len(byName))
	for _, t := range byName {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func inventoryPlugin(provider queues.Provider) vql.Plugin {
	return vql.PluginFunc{
		Meta: vql.Info{Name: "inventory", Doc: "The org's tools inventory: the tools its artifacts declare, and those an admin added or overrode (admin_override)."},
		Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
			return func(yield func(vql.Row) bool) {
				m := manager(provider, scope, "inventory")
				if m == nil {
					return
				}
				tools, err := inventoryTools(m, plugins.OrgOf(scope))
				if err != nil {
					scope.Errorf("inventory: %v", err)
					return
				}
				for _, t := range tools {
					if !yield(t.dict()) {
						return
					}
				}
			}
		},
	}
}

func inventoryAdd(provider queues.Provider) vql.FunctionFunc {
	return needs(fn("inventory_add", "Add a tool to the org's inventory, or override one (admin_override): with file, the binary is kept in the data folder and served from it; returns the tool's record.",
		[]vql.ArgSpec{
			arg("tool", vql.TypeString, true, "The tool's name, as artifacts' tools: sections name it."),
			arg("url", vql.TypeString, false, "Where the tool can be downloaded."),
			arg("hash", vql.TypeString, false, "Its expected SHA-256 (taken from the file when one is given)."),
			arg("filename", vql.TypeString, false, "The name of the file on the endpoint (default: the file's, or the url's, base name)."),
			arg("version", vql.TypeString, false, "The tool's version."),
			arg("serve_locally", vql.TypeBool, false, "Serve the binary from this server rather than from url."),
			arg("file", vql.TypeAny, false, "A file holding the tool (a path or a pathspec), read through accessor and kept."),
			accessorArg,
		}, func(c call) any {
			t := tool{
				Name: c.args.String("tool", ""), URL: c.args.String("url", ""), Hash: strings.ToLower(c.args.String("hash", "")),
				Filename: c.args.String("filename", ""), Version: c.args.String("version", ""),
				ServeLocally: c.args.Bool("serve_locally", false), AdminOverride: true,
			}
			if c.args.Failed() {
				return nil
			}
			if err := validToolName(t.Name); err != nil {
				c.scope.Errorf("inventory_add: tool: %v", err)
				return nil
			}
			m := manager(provider, c.scope, "inventory_add")
			if m == nil {
				return nil
			}
			org := plugins.OrgOf(c.scope)
			if file := c.args.Value("file"); file != nil {
				r, ok := accessors.OpenArg(c.ctx, c.scope, c.args, "inventory_add", "file")
				if !ok {
					return nil
				}
				defer r.Close()
				if t.Filename == "" {
					t.Filename = baseName(file)
				}
				if err := keepTool(c.scope, org, &t, accessors.Reader(c.ctx, r), ""); err != nil {
					c.scope.Errorf("inventory_add: %v", err)
					return nil
				}
				t.ServeLocally = true
			} else {
				if t.Filename == "" && t.URL != "" {
					t.Filename = path.Base(t.URL)
				}
				// The record replaces the earlier one: a binary kept
				// for it no longer describes it.
				if old, ok, _ := storedTool(m, org, t.Name); ok && old.Stored != "" {
					if dir, err := inventoryDir(c.scope); err == nil {
						_ = os.Remove(filepath.Join(dir, filepath.FromSlash(old.Stored)))
					}
				}
			}
			if err := putTool(m, org, t); err != nil {
				c.scope.Errorf("inventory_add: %v", err)
				return nil
			}
			return t.dict()
		}), vql.PermServerAdmin)
}

func inventoryGet(provider queues.Provider) vql.FunctionFunc {
	return needs(fn("inventory_get", "A tool of the org's inventory, fetched from its url first when the server must serve it or does not know its hash yet: {Tool_<name>_HASH, Tool_<name>_FILENAME, Tool_<name>_URL, Tool_<name>_URLs, Definition}.",
		[]vql.ArgSpec{
			arg("tool", vql.TypeString, true, "The tool's name."),
			arg("version", vql.TypeString, false, "The version wanted (default: the inventory's)."),
			arg("probe", vql.TypeBool, false, "Only read the record: never download."),
		}, func(c call) any {
			name, version, probe := c.args.String("tool", ""), c.args.String("version", ""), c.args.Bool("probe", false)
			if c.args.Failed() {
				return nil
			}
			m := manager(provider, c.scope, "inventory_get")
			if m == nil {
				return nil
			}
			org := plugins.OrgOf(c.scope)
			t, ok, err := storedTool(m, org, name)
			if err != nil {
				c.scope.Errorf("inventory_get: %v", err)
				return nil
			}
			if !ok {
				t, ok = declaredTools(m, org)[name]
			}
			if !ok {
				c.scope.Errorf("inventory_get: tool %s is not in the inventory: no artifact declares it and none was added (inventory_add)", name)
				return nil
			}
			if version != "" && t.Version != "" && version != t.Version {
				c.scope.Errorf("inventory_get: tool %s: version %s wanted, the inventory has %s", name, version, t.Version)
				return nil
			}
			if !probe && t.Stored == "" && (t.ServeLocally || t.Hash == "") {
				if err := fetchTool(c, org, &t); err != nil {
					c.scope.Errorf("inventory_get: tool %s: %v", name, err)
					return nil
				}
				if err := putTool(m, org, t); err != nil {
					c.scope.Errorf("inventory_get: %v", err)
					return nil
				}
			}
			urls := []any{}
			if t.URL != "" {
				urls = append(urls, t.URL)
			}
			urlsJSON, _ := value.EncodeJSON(urls)
			return ordereddict.NewDict().
				Set("Tool_"+name+"_HASH", t.Hash).
				Set("Tool_"+name+"_FILENAME", t.Filename).
				Set("Tool_"+name+"_URL", t.URL).
				Set("Tool_"+name+"_URLs", string(urlsJSON)).
				Set("Definition", t.dict())
		}), vql.PermServerAdmin)
}

// fetchTool downloads t from its url, checks it against the hash the
// inventory expects, and keeps it when the server serves it. Reaching
// out is the session's act: it needs NETWORK.
func fetchTool(c call, org string, t *tool) error {
	if t.URL == "" {
		return errors.New("the inventory has no file for it and no url to fetch it from")
	}
	if !c.scope.Require("inventory_get", vql.PermNetwork) {
		return errors.New("not fetched")
	}
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL, nil)
	if err != nil {
		return fmt.Errorf("url: %v", err)
	}
	req.Header.Set("User-Agent", httpDefaultUserAgent)
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetching %s: %s", t.URL, resp.Status)
	}
	body := io.LimitReader(resp.Body, toolMaxBytes+1)
	if t.ServeLocally {
		return keepTool(c.scope, org, t, body, t.Hash)
	}
	sum := sha256.New()
	n, err := io.Copy(sum, body)
	if err != nil {
		return fmt.Errorf("fetching %s: %v", t.URL, err)
	}
	if n > toolMaxBytes {
		return fmt.Errorf("fetching %s: larger than %d bytes", t.URL, int64(toolMaxBytes))
	}
	got := hex.EncodeToString(sum.Sum(nil))
	if t.Hash != "" && !strings.EqualFold(t.Hash, got) {
		return fmt.Errorf("%s has SHA-256 %s, the inventory expects %s", t.URL, got, t.Hash)
	}
	t.Hash = got
	return nil
}

// keepTool writes what r reads as t's binary in the data folder, and
// records its hash; want, when set, is the hash it must have (the file
// is not kept otherwise).
func keepTool(scope *vql.Scope, org string, t *tool, r io.Reader, want string) error {
	dir, err := inventoryDir(scope)
	if err != nil {
		return err
	}
	filename := t.Filename
	if filename == "" {
		filename = t.Name
	}
	parts := uploads.CleanName(filename)
	if len(parts) == 0 {
		return fmt.Errorf("filename %q names no file", filename)
	}
	rel := path.Join(orgName(org), t.Name, parts[len(parts)-1])
	dest := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(dest), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".tool-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	sum := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, sum), r)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if n > toolMaxBytes {
		return fmt.Errorf("tool %s is larger than %d bytes", t.Name, int64(toolMaxBytes))
	}
	got := hex.EncodeToString(sum.Sum(nil))
	if want != "" && !strings.EqualFold(want, got) {
		return fmt.Errorf("the file has SHA-256 %s, the inventory expects %s", got, want)
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return err
	}
	t.Hash, t.Stored, t.Size = got, rel, n
	return nil
}

// validToolName keeps a tool's name usable as one folder of the
// inventory and one key of the store.
func validToolName(name string) error {
	switch {
	case name == "":
		return errors.New("a name is required")
	case strings.ContainsAny(name, "/\\\x00"), name == ".", name == "..":
		return fmt.Errorf("%q: a tool's name cannot hold a path separator", name)
	}
	return nil
}

// baseName is the last component of a path or pathspec.
func baseName(file any) string {
	if p, ok := file.(*accessors.OSPath); ok && len(p.Components) > 0 {
		return p.Components[len(p.Components)-1]
	}
	parts := uploads.CleanName(accessors.PathString(file))
	if len(parts) == 0 {
		return ""
	}
	return parts[len(parts)-1]
}

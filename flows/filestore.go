package flows

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql"
	"github.com/vqlq/vqlq/vql/value"
)

// FileStoreDir is the file store's folder in the data folder, beside the
// uploads folder (runner.UploadsDir) that sessions are given.
const FileStoreDir = "filestore"

// ErrNoFileStore is a session that has no data folder (an engine
// embedded without one): flows have nowhere to keep results.
var ErrNoFileStore = errors.New("this session has no file store (no data folder)")

// FileStore is the data folder's file store. Its paths, as VQL names
// them, are relative to the org's folder and always use '/':
// /clients/<client>/collections/<flow>/<Artifact>.jsonl (a named source in
// <Artifact>/<Source>.jsonl), the flow's logs.jsonl beside them, and the
// zips of downloads under /downloads/.
type FileStore struct {
	Root string
}

// fileStoreOf is the file store of the session's data folder: sessions
// know the uploads folder, and the file store sits beside it.
func fileStoreOf(scope *vql.Scope) (FileStore, error) {
	up := scope.UploadDir()
	if up == "" {
		return FileStore{}, ErrNoFileStore
	}
	return FileStore{Root: filepath.Join(filepath.Dir(up), FileStoreDir)}, nil
}

// orgDir is the org's folder.
func (f FileStore) orgDir(org string) string { return filepath.Join(f.Root, org) }

// Real is the file on disk behind a file store path of the org. A path
// that would leave the org's folder (a ".." component) is refused.
func (f FileStore) Real(org, path string) (string, error) {
	parts, err := splitPath(path)
	if err != nil {
		return "", err
	}
	return filepath.Join(append([]string{f.orgDir(org)}, parts...)...), nil
}

// splitPath cuts a file store path into components: empty and "."
// components are dropped, ".." is refused.
func splitPath(path string) ([]string, error) {
	var out []string
	for _, c := range strings.FieldsFunc(path, func(r rune) bool { return r == '/' || r == '\\' }) {
		switch c {
		case "", ".":
			continue
		case "..":
			return nil, fmt.Errorf("file store path %q leaves the file store", path)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("file store path %q names nothing in the file store", path)
	}
	return out, nil
}

// flowPath is the file store path of a flow's folder.
func flowPath(client, flow string) string {
	return "/clients/" + client + "/collections/" + flow
}

// escapeName keeps a name as one path component: characters outside
// letters, digits, '.', '_', '-' and ' ' are written %XX, and a name of
// dots alone has them escaped.
func escapeName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == ' ' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	out := b.String()
	if strings.Trim(out, ".") == "" {
		out = strings.ReplaceAll(out, ".", "%2E")
	}
	return out
}

// resultPath is the file store path of one source's results in a flow:
// artifact is "Name" or "Name/Source".
func resultPath(client, flow, artifact string) string {
	name, src, _ := strings.Cut(artifact, "/")
	if src == "" {
		return flowPath(client, flow) + "/" + escapeName(name) + ".jsonl"
	}
	return flowPath(client, flow) + "/" + escapeName(name) + "/" + escapeName(src) + ".jsonl"
}

// logsPath is the file store path of a flow's log messages.
func logsPath(client, flow string) string { return flowPath(client, flow) + "/logs.jsonl" }

// resultWriter appends rows to one results file as JSON lines.
type resultWriter struct {
	f    *os.File
	w    *bufio.Writer
	rows int64
}

func (f FileStore) create(org, path string) (*resultWriter, error) {
	real, err := f.Real(org, path)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(real), 0o700); err != nil {
		return nil, err
	}
	file, err := os.OpenFile(real, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	return &resultWriter{f: file, w: bufio.NewWriter(file)}, nil
}

func (r *resultWriter) write(row any) error {
	line, err := value.EncodeJSON(row)
	if err != nil {
		return err
	}
	r.rows++
	if _, err := r.w.Write(line); err != nil {
		return err
	}
	return r.w.WriteByte('\n')
}

func (r *resultWriter) close() error {
	err := r.w.Flush()
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// readRows yields the rows of a JSON-lines file of the file store; a file
// that is not there has no rows. A line that does not decode to an
// object is skipped (a write cut short by a crash).
func (f FileStore) readRows(org, path string) (iter.Seq[*ordereddict.Dict], error) {
	real, err := f.Real(org, path)
	if err != nil {
		return nil, err
	}
	file, err := os.Open(real)
	if errors.Is(err, fs.ErrNotExist) {
		return func(func(*ordereddict.Dict) bool) {}, nil
	}
	if err != nil {
		return nil, err
	}
	return func(yield func(*ordereddict.Dict) bool) {
		defer file.Close()
		sc := bufio.NewScanner(file)
		sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
		for sc.Scan() {
			v, err := value.DecodeJSON(sc.Bytes())
			d, ok := v.(*ordereddict.Dict)
			if err != nil || !ok {
				continue
			}
			if !yield(d) {
				return
			}
		}
	}, nil
}

// files lists the files under a file store path (itself, if a file), as
// file store paths, sorted.
func (f FileStore) files(org, path string) ([]string, error) {
	root, err := f.Real(org, path)
	if err != nil {
		return nil, err
	}
	base := f.orgDir(org)
	var out []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(base, p)
		if err != nil {
			return err
		}
		out = append(out, "/"+filepath.ToSlash(rel))
		return nil
	})
	sort.Strings(out)
	return out, err
}

// removeAll removes a file store path and everything under it.
func (f FileStore) removeAll(org, path string) error {
	real, err := f.Real(org, path)
	if err != nil {
		return err
	}
	return os.RemoveAll(real)
}

// Package uploads keeps the files upload() stores: one folder per org
// under the data folder's uploads/, each file under the name it was
// uploaded as, and an index (index.jsonl) of what was stored, with its
// size and digests, that uploads() lists without reading the files again.
package uploads

import (
	"bufio"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// ErrNoStore is an upload in a session that has no uploads folder (an
// engine embedded without a data folder).
var ErrNoStore = errors.New("this session has no uploads folder")

// indexName is the index of an org's folder; uploaded names never take
// it, being stored under files/.
const indexName = "index.jsonl"

// Record is one stored upload.
type Record struct {
	// Name is the name the file was stored under, relative to the org's
	// folder of files, always with / between components.
	Name string `json:"Name"`
	// Source is what was uploaded: the path given to upload().
	Source string `json:"Source"`
	// Accessor is the accessor it was read through.
	Accessor string `json:"Accessor"`
	Size     int64  `json:"Size"`
	SHA256   string `json:"sha256"`
	MD5      string `json:"md5"`
	// StoredPath is the file on disk.
	StoredPath string    `json:"StoredPath"`
	Time       time.Time `json:"Time"`
	Principal  string    `json:"Principal"`
}

// Store is the uploads folder of a data folder.
type Store struct {
	Dir string
}

// indexes serialises appends to each org's index within the process.
var indexes sync.Mutex

// orgDir is the folder of an org ("" is the default org, root).
func (s Store) orgDir(org string) string {
	if org == "" {
		org = "root"
	}
	return filepath.Join(s.Dir, org)
}

// CleanName turns an upload name into components that stay inside the
// org's folder: empty, "." and ".." components are dropped, separators of
// either kind split, and a drive's colon is kept as part of its name.
func CleanName(name string) []string {
	var out []string
	for _, c := range strings.FieldsFunc(name, func(r rune) bool { return r == '/' || r == '\\' }) {
		if c == "." || c == ".." || c == "" {
			continue
		}
		out = append(out, c)
	}
	return out
}

// Put stores what r reads under name, in org's folder, replacing an
// earlier upload of that name. It streams: the file is written and
// digested as it is read.
func (s Store) Put(org, name string, r io.Reader, rec Record) (Record, error) {
	if s.Dir == "" {
		return Record{}, ErrNoStore
	}
	parts := CleanName(name)
	if len(parts) == 0 {
		return Record{}, fmt.Errorf("upload name %q names no file", name)
	}
	dir := s.orgDir(org)
	dest := filepath.Join(append([]string{dir, "files"}, parts...)...)
	if err := os.MkdirAll(filepath.Dir(dest), 0o700); err != nil {
		return Record{}, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".upload-*")
	if err != nil {
		return Record{}, err
	}
	defer os.Remove(tmp.Name())
	sha, md := sha256.New(), md5.New()
	n, err := io.Copy(io.MultiWriter(tmp, sha, md), r)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Record{}, err
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return Record{}, err
	}
	rec.Name, rec.Size, rec.StoredPath = strings.Join(parts, "/"), n, dest
	rec.SHA256, rec.MD5 = hex.EncodeToString(sha.Sum(nil)), hex.EncodeToString(md.Sum(nil))
	if rec.Time.IsZero() {
		rec.Time = time.Now().UTC()
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return Record{}, err
	}
	indexes.Lock()
	defer indexes.Unlock()
	f, err := os.OpenFile(filepath.Join(dir, indexName), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return Record{}, err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return Record{}, err
	}
	return rec, f.Close()
}

// List calls yield with the org's uploads, oldest first, each name once
// (its latest upload); it stops when yield returns false.
func (s Store) List(org string, yield func(Record) bool) error {
	if s.Dir == "" {
		return ErrNoStore
	}
	f, err := os.Open(filepath.Join(s.orgDir(org), indexName))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	// The index holds one line per upload; a name uploaded again keeps
	// its latest line.
	latest := map[string]int{}
	var recs []Record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var r Record
		if json.Unmarshal(sc.Bytes(), &r) != nil {
			continue
		}
		if i, ok := latest[r.Name]; ok {
			recs[i] = r
			continue
		}
		latest[r.Name] = len(recs)
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	for _, r := range recs {
		if !yield(r) {
			return nil
		}
	}
	return nil
}

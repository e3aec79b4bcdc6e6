package queues

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/dgraph-io/badger/v4/fb"
	"github.com/dgraph-io/badger/v4/pb"
	"github.com/dgraph-io/badger/v4/y"
	"google.golang.org/protobuf/proto"
)

// ErrDamagedStore is returned when a data folder holds files that badger
// would discard on open: vqlq refuses to open it rather than lose them.
var ErrDamagedStore = errors.New("the data folder is damaged")

// DamagedStoreError says which file of which data folder is wrong and how.
// Opening stopped before badger touched anything.
type DamagedStoreError struct {
	Dir     string
	File    string // the file at fault (the MANIFEST, usually)
	Problem string
}

func (e *DamagedStoreError) Error() string {
	return fmt.Sprintf("data folder %s is damaged: %s: %s. vqlq has not opened it and changed nothing in it "+
		"(badger would delete the event files it cannot account for). Restore the folder from a backup, "+
		"or move it aside (mv %s %s.damaged) to start with an empty one and keep the files for recovery; vqlq never deletes them",
		e.Dir, e.File, e.Problem, e.Dir, e.Dir)
}

func (e *DamagedStoreError) Unwrap() error { return ErrDamagedStore }

// The MANIFEST lists badger's table files. Its format (badger v4,
// manifest.go): "Bdgr", a 2-byte external magic (0 for vqlq), a 2-byte
// format version, then records of <length:4><crc32c:4><ManifestChangeSet>,
// each creating or deleting tables.
const (
	manifestFile    = "MANIFEST"
	manifestVersion = 8
)

var manifestMagic = []byte("Bdgr")

// manifestState is what a MANIFEST says.
type manifestState struct {
	tables    map[uint64]bool // live tables
	deleted   map[uint64]bool // tables a record deleted
	maxID     uint64          // highest table id any record names
	torn      bool            // it ends in a partial record
	tornAt    int64
	fileBytes int64
}

// folderFiles are badger's files in a data folder.
type folderFiles struct {
	tables   map[uint64]string // id -> file name (.sst)
	vlogs    []string
	memtable []string // write-ahead logs of memtables not yet flushed
}

func listFolder(dir string) (folderFiles, error) {
	f := folderFiles{tables: map[uint64]string{}}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return f, err
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasSuffix(name, ".sst"):
			if id, err := strconv.ParseUint(strings.TrimSuffix(name, ".sst"), 10, 64); err == nil {
				f.tables[id] = name
			}
		case strings.HasSuffix(name, ".vlog"):
			f.vlogs = append(f.vlogs, name)
		case strings.HasSuffix(name, ".mem"):
			f.memtable = append(f.memtable, name)
		}
	}
	return f, nil
}

// readManifest parses a MANIFEST as badger replays it; a problem that
// makes badger fail, or start from a list that leaves tables out, is a
// non-empty problem string.
func readManifest(path string) (manifestState, string, error) {
	st := manifestState{tables: map[uint64]bool{}, deleted: map[uint64]bool{}}
	b, err := os.ReadFile(path)
	if err != nil {
		return st, "", err
	}
	st.fileBytes = int64(len(b))
	switch {
	case len(b) == 0:
		return st, "it is empty (0 bytes): the list of table files is lost", nil
	case len(b) < 8:
		return st, fmt.Sprintf("it is truncated to %d bytes, inside its 8-byte header", len(b)), nil
	case !bytes.Equal(b[:4], manifestMagic):
		return st, fmt.Sprintf("it does not start with badger's magic %q (it starts with %q): it is not a MANIFEST, or it is overwritten", manifestMagic, b[:4]), nil
	}
	if ext := binary.BigEndian.Uint16(b[4:6]); ext != 0 {
		return st, fmt.Sprintf("its external magic is %d, not 0: it was written by another program than vqlq", ext), nil
	}
	if v := binary.BigEndian.Uint16(b[6:8]); v != manifestVersion {
		return st, fmt.Sprintf("it has format version %d; this vqlq reads version %d (badger v4)", v, manifestVersion), nil
	}
	crcTable := crc32.MakeTable(crc32.Castagnoli)
	off := int64(8)
	for off < int64(len(b)) {
		if int64(len(b))-off < 8 {
			st.torn, st.tornAt = true, off
			break
		}
		n := int64(binary.BigEndian.Uint32(b[off:]))
		sum := binary.BigEndian.Uint32(b[off+4:])
		if n > int64(len(b)) {
			return st, fmt.Sprintf("the record at byte %d claims %d bytes, more than the file holds: it is corrupt", off, n), nil
		}
		if off+8+n > int64(len(b)) {
			st.torn, st.tornAt = true, off
			break
		}
		rec := b[off+8 : off+8+n]
		if crc32.Checksum(rec, crcTable) != sum {
			return st, fmt.Sprintf("the record at byte %d fails its checksum: it is corrupt", off), nil
		}
		var cs pb.ManifestChangeSet
		if err := proto.Unmarshal(rec, &cs); err != nil {
			return st, fmt.Sprintf("the record at byte %d does not decode (%v): it is corrupt", off, err), nil
		}
		for _, c := range cs.Changes {
			st.maxID = max(st.maxID, c.Id)
			switch c.Op {
			case pb.ManifestChange_CREATE:
				st.tables[c.Id] = true
				delete(st.deleted, c.Id)
			case pb.ManifestChange_DELETE:
				delete(st.tables, c.Id)
				st.deleted[c.Id] = true
			default:
				return st, fmt.Sprintf("the record at byte %d has an unknown change (op %d): it is corrupt", off, c.Op), nil
			}
		}
		off += 8 + n
	}
	return st, "", nil
}

// checkFolder refuses a data folder that badger would open by discarding
// data, before badger.Open sees it. Badger, even read-only, deletes every
// table file its MANIFEST does not list (levels.go, revertToManifest) and
// starts from an empty list when the MANIFEST is missing, so a lost or
// cut MANIFEST empties the store silently.
//
// Table files the MANIFEST does not list are accepted in the cases a
// crash leaves them: a table whose deletion the MANIFEST records (a
// compaction's input, removed after the record); the output of a flush
// interrupted before its record, newer than every table the MANIFEST
// names, while its memtable's log is still there; the output of an
// interrupted compaction, which holds no version newer than the tables
// the MANIFEST lists (its inputs); and a file too cut to be read. Any
// other unlisted table holds writes found nowhere else, and is refused.
func checkFolder(dir string) error {
	files, err := listFolder(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	path := filepath.Join(dir, manifestFile)
	damaged := func(problem string) error {
		return &DamagedStoreError{Dir: dir, File: path, Problem: problem}
	}
	if _, err := os.Stat(path); os.IsNotExist(err) {
		// Badger writes the MANIFEST before any other file, so store
		// files without it mean it was lost.
		if n := len(files.tables) + len(files.vlogs) + len(files.memtable); n > 0 {
			return damaged(fmt.Sprintf("it is missing, yet the folder holds %s: badger would start an empty store and delete the tables",
				describeFiles(files)))
		}
		return nil
	}
	st, problem, err := readManifest(path)
	if err != nil {
		return damaged(err.Error())
	}
	if problem != "" {
		if len(files.tables) > 0 {
			problem += "; the folder holds " + describeFiles(files)
		}
		return damaged(problem)
	}
	var missing []string
	for id := range st.tables {
		if _, ok := files.tables[id]; !ok {
			missing = append(missing, tableName(id))
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return damaged(fmt.Sprintf("it lists table files that are missing: %s", listNames(missing)))
	}
	var orphans []string
	listedMax, listedRead := uint64(0), false
	for id, name := range files.tables {
		if st.tables[id] || st.deleted[id] {
			continue
		}
		if len(files.memtable) > 0 && id > st.maxID {
			continue // an interrupted flush: its memtable's log is still there
		}
		v, ok := tableMaxVersion(filepath.Join(dir, name))
		if !ok {
			continue // cut or garbage: badger could not read it either
		}
		if !listedRead {
			listedRead = true
			for lid := range st.tables {
				lv, _ := tableMaxVersion(filepath.Join(dir, files.tables[lid]))
				listedMax = max(listedMax, lv)
			}
		}
		if v <= listedMax && len(st.tables) > 0 {
			continue // an interrupted compaction's output: no write newer than the listed tables
		}
		orphans = append(orphans, name)
	}
	if len(orphans) > 0 {
		sort.Strings(orphans)
		what := "it does not list"
		if st.torn {
			what = fmt.Sprintf("it is cut inside a record at byte %d of %d, and what is left does not list", st.tornAt, st.fileBytes)
		}
		return damaged(fmt.Sprintf("%s the table files %s, which badger would delete", what, listNames(orphans)))
	}
	return nil
}

// tableMaxVersion reads the newest version (commit timestamp) a table
// file holds, from the index at its end, as badger's table package lays
// it out: <index><index length:4><checksum><checksum length:4>. A file
// that is not a whole table gives false.
func tableMaxVersion(path string) (v uint64, ok bool) {
	defer func() {
		if recover() != nil { // a flatbuffer read out of a garbage index
			v, ok = 0, false
		}
	}()
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, false
	}
	// Only the footer and the index are read, not the table's blocks.
	read := func(off, n int64) []byte {
		if off < 0 || n < 0 || n > 1<<30 {
			return nil
		}
		b := make([]byte, n)
		if _, err := f.ReadAt(b, off); err != nil {
			return nil
		}
		return b
	}
	pos := fi.Size() - 4
	b := read(pos, 4)
	if b == nil {
		return 0, false
	}
	pos -= int64(binary.BigEndian.Uint32(b))
	var sum pb.Checksum
	if b = read(pos, fi.Size()-4-pos); b == nil || proto.Unmarshal(b, &sum) != nil {
		return 0, false
	}
	pos -= 4
	if b = read(pos, 4); b == nil {
		return 0, false
	}
	n := int64(binary.BigEndian.Uint32(b))
	index := read(pos-n, n)
	if index == nil || y.VerifyChecksum(index, &sum) != nil {
		return 0, false
	}
	return fb.GetRootAsTableIndex(index, 0).MaxVersion(), true
}

func tableName(id uint64) string { return fmt.Sprintf("%06d.sst", id) }

func describeFiles(f folderFiles) string {
	var parts []string
	if n := len(f.tables); n > 0 {
		parts = append(parts, plural(n, "table file (.sst)", "table files (.sst)"))
	}
	if n := len(f.vlogs); n > 0 {
		parts = append(parts, plural(n, "value log (.vlog)", "value logs (.vlog)"))
	}
	if n := len(f.memtable); n > 0 {
		parts = append(parts, plural(n, "memtable log (.mem)", "memtable logs (.mem)"))
	}
	return strings.Join(parts, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// listNames shows up to five names.
func listNames(names []string) string {
	if len(names) > 5 {
		return strings.Join(names[:5], ", ") + fmt.Sprintf(" and %d more", len(names)-5)
	}
	return strings.Join(names, ", ")
}

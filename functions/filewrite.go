package functions

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vqlq/vqlq/accessors"
	"github.com/vqlq/vqlq/vql"
)

// Functions that write or remove the host's files. Each needs
// FILESYSTEM_WRITE (copy also FILESYSTEM_READ), as in Velociraptor;
// temporary files and folders are removed when the session ends, so an
// artifact that drops a script to run leaves nothing behind.

// parsePermissions reads a mode as Velociraptor's copy() and tempfile()
// take it: octal ("0755"), ls style ("rwxr-x---", with or without the
// leading type), or "x" for an executable (0700); "" is def.
func parsePermissions(s string, def fs.FileMode) (fs.FileMode, error) {
	switch {
	case s == "":
		return def, nil
	case s == "x":
		return 0o700, nil
	case strings.Trim(s, "01234567") == "":
		n, err := strconv.ParseUint(s, 8, 32)
		if err != nil || n > 0o7777 {
			return 0, fmt.Errorf("permissions %q: not an octal mode", s)
		}
		return fs.FileMode(n), nil
	}
	ls := strings.TrimPrefix(s, "-")
	if len(ls) != 9 {
		return 0, fmt.Errorf("permissions %q: want an octal mode (0755), rwxr-xr-x or x", s)
	}
	var m fs.FileMode
	for i, c := range ls {
		switch {
		case c == rune("rwx"[i%3]):
			m |= 1 << (8 - i)
		case c != '-':
			return 0, fmt.Errorf("permissions %q: want an octal mode (0755), rwxr-xr-x or x", s)
		}
	}
	return m, nil
}

// Tempfile writes data to a new temporary file.
var Tempfile = needs(fn("tempfile", "A new temporary file holding data, removed when the session ends; its path.",
	[]vql.ArgSpec{
		arg("data", vql.TypeList, false, "What to write (strings, one after another)."),
		arg("extension", vql.TypeString, false, "The file name's extension (\".ps1\")."),
		arg("permissions", vql.TypeString, false, "The file's mode: x (executable), 0755 or rwxr-xr-x (default 0600)."),
		arg("remove_last", vql.TypeBool, false, "Remove it after every other temporary file and folder."),
	}, func(c call) any {
		data, ext, perms, last := c.args.Strings("data"), c.args.String("extension", ""), c.args.String("permissions", ""), c.args.Bool("remove_last", false)
		if c.args.Failed() {
			return nil
		}
		mode, err := parsePermissions(perms, 0o600)
		if err != nil {
			c.scope.Errorf("tempfile: %v", err)
			return nil
		}
		if strings.ContainsAny(ext, `/\`) {
			c.scope.Errorf("tempfile: extension %q holds a separator", ext)
			return nil
		}
		f, err := os.CreateTemp("", "vqlq-*"+ext)
		if err != nil {
			c.scope.Errorf("tempfile: %v", err)
			return nil
		}
		name := f.Name()
		c.scope.AtEnd(func() { os.Remove(name) }, last)
		for _, d := range data {
			if _, err = io.WriteString(f, d); err != nil {
				break
			}
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Chmod(name, mode)
		}
		if err != nil {
			c.scope.Errorf("tempfile: %s: %v", name, err)
			return nil
		}
		return name
	}), vql.PermFilesystemWrite)

// Tempdir makes a new temporary folder.
var Tempdir = needs(fn("tempdir", "A new temporary folder, removed with what it holds when the session ends; its path.",
	[]vql.ArgSpec{
		arg("remove_last", vql.TypeBool, false, "Remove it after every other temporary file and folder."),
	}, func(c call) any {
		last := c.args.Bool("remove_last", false)
		if c.args.Failed() {
			return nil
		}
		dir, err := os.MkdirTemp("", "vqlq-")
		if err != nil {
			c.scope.Errorf("tempdir: %v", err)
			return nil
		}
		c.scope.AtEnd(func() { os.RemoveAll(dir) }, last)
		return dir
	}), vql.PermFilesystemWrite)

// Copy writes a file read through any accessor (a zip member, a pipe, the
// data itself) to a host file, as it streams.
var Copy = needs(fn("copy", "Copy the file filename names (through accessor) to dest; the path written.",
	[]vql.ArgSpec{
		arg("filename", vql.TypeAny, true, "The file to copy from (with accessor=\"data\", the data itself)."),
		accessorArg,
		arg("dest", vql.TypeString, true, "The host file to write."),
		arg("permissions", vql.TypeString, false, "dest's mode when it is made: x, 0755 or rwxr-xr-x (default 0644)."),
		arg("append", vql.TypeBool, false, "Add to the end of dest instead of replacing it."),
		arg("create_directories", vql.TypeBool, false, "Make dest's folders first."),
	}, func(c call) any {
		dest, perms := c.args.String("dest", ""), c.args.String("permissions", "")
		appendTo, mkdirs := c.args.Bool("append", false), c.args.Bool("create_directories", false)
		if c.args.Failed() {
			return nil
		}
		mode, err := parsePermissions(perms, 0o644)
		if err != nil {
			c.scope.Errorf("copy: %v", err)
			return nil
		}
		if dest == "" {
			c.scope.Errorf("copy: dest is empty")
			return nil
		}
		r, ok := accessors.OpenArg(c.ctx, c.scope, c.args, "copy", "filename")
		if !ok {
			return nil
		}
		defer r.Close()
		if err := writeHostFile(dest, mode, perms != "", appendTo, mkdirs, accessors.Reader(c.ctx, r)); err != nil {
			c.scope.Errorf("copy: %v", err)
			return nil
		}
		return dest
	}), vql.PermFilesystemWrite, vql.PermFilesystemRead)

// writeHostFile writes what r reads to path. A mode the query gave
// (exact) is set as given: the umask must not narrow it, and vqlq runs
// with 077 once a data folder is open.
func writeHostFile(path string, mode fs.FileMode, exact, appendTo, mkdirs bool, r io.Reader) error {
	if mkdirs {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
	}
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if appendTo {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	f, err := os.OpenFile(path, flags, mode)
	if err != nil {
		return err
	}
	if exact {
		if err := f.Chmod(mode); err != nil {
			f.Close()
			return err
		}
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Rm removes a host file.
var Rm = needs(fn("rm", "Remove a file (or an empty folder) of the host: TRUE when it was removed.",
	[]vql.ArgSpec{arg("filename", vql.TypeString, true, "The file to remove.")},
	func(c call) any {
		name := c.args.String("filename", "")
		if c.args.Failed() {
			return nil
		}
		if err := os.Remove(name); err != nil {
			c.scope.Errorf("rm: %v", err)
			return false
		}
		return true
	}), vql.PermFilesystemWrite)

package functions

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/accessors"
	"github.com/vqlq/vqlq/plugins"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/repack"
	"github.com/vqlq/vqlq/uploads"
	"github.com/vqlq/vqlq/vql"
)

// repackMaxBytes bounds the binary repack reads into memory: a vqlq
// binary is tens of megabytes.
const repackMaxBytes = 512 << 20

// repackFunction writes a configuration into a copy of a vqlq binary
// (package repack): the binary of an inventory tool (target=) or a file
// (exe=), stored in the uploads (upload_name=) or written to a host file
// (dest_filename=). Velociraptor asks COLLECT_SERVER and
// FILESYSTEM_WRITE of it.
func repackFunction(provider queues.Provider) vql.FunctionFunc {
	return needs(fn("repack", "Embed config in a copy of a vqlq binary — an inventory tool (target=) or a file (exe=) — and store it in the uploads as upload_name (or write it to dest_filename): the upload's {Path, Size, sha256, md5, StoredName, …}, or the file written.",
		[]vql.ArgSpec{
			arg("target", vql.TypeString, false, "The inventory tool whose binary to repack."),
			arg("version", vql.TypeString, false, "The tool's version wanted (default: the inventory's)."),
			arg("exe", vql.TypeAny, false, "A binary to repack instead of a tool's."),
			accessorArg,
			arg("binaries", vql.TypeList, false, "Tools to pack into the binary: not supported (clients fetch tools from the inventory)."),
			arg("config", vql.TypeString, true, "The configuration to embed, as a YAML or JSON text."),
			arg("upload_name", vql.TypeString, false, "The name to store the repacked binary under in the uploads."),
			arg("dest_filename", vql.TypeString, false, "A host file to write instead, when upload_name is not given."),
		}, func(c call) any {
			target, version := c.args.String("target", ""), c.args.String("version", "")
			config, binaries := c.args.String("config", ""), c.args.Strings("binaries")
			uploadName, dest := c.args.String("upload_name", ""), c.args.String("dest_filename", "")
			if c.args.Failed() {
				return nil
			}
			exe := c.args.Value("exe")
			switch {
			case len(binaries) > 0:
				c.scope.Errorf("repack: binaries=%v: packing tools into a binary is not supported; add them to the inventory (inventory_add) and the clients fetch them", binaries)
				return nil
			case (target == "") == (exe == nil):
				c.scope.Errorf("repack: name either target= (an inventory tool) or exe= (a file)")
				return nil
			case uploadName == "" && dest == "":
				c.scope.Errorf("repack: name upload_name= (store it in the uploads) or dest_filename= (write a host file)")
				return nil
			}
			var data []byte
			var source string
			var err error
			if exe != nil {
				source = accessors.PathString(exe)
				r, ok := accessors.OpenArg(c.ctx, c.scope, c.args, "repack", "exe")
				if !ok {
					return nil
				}
				data, err = readAtMost(accessors.Reader(c.ctx, r), repackMaxBytes)
				r.Close()
			} else {
				source = target
				data, err = toolBinary(c, provider, target, version)
			}
			if err != nil {
				c.scope.Errorf("repack: %s: %v", source, err)
				return nil
			}
			packed, err := repack.Pack(data, []byte(config))
			if err != nil {
				c.scope.Errorf("repack: %s: %v", source, err)
				return nil
			}
			if uploadName == "" {
				if err := writeHostFile(dest, 0o755, true, false, false, bytes.NewReader(packed)); err != nil {
					c.scope.Errorf("repack: %v", err)
					return nil
				}
				return dest
			}
			if c.scope.UploadDir() == "" {
				c.scope.Errorf("repack: %v", uploads.ErrNoStore)
				return nil
			}
			rec, err := uploads.Store{Dir: c.scope.UploadDir()}.Put(c.scope.Org(), uploadName, bytes.NewReader(packed),
				uploads.Record{Source: source, Accessor: "repack", Principal: c.scope.Identity().Principal})
			if err != nil {
				c.scope.Errorf("repack: %v", err)
				return nil
			}
			return ordereddict.NewDict().Set("Path", rec.Source).Set("Size", rec.Size).Set("StoredSize", rec.Size).
				Set("sha256", rec.SHA256).Set("md5", rec.MD5).Set("StoredName", rec.Name).
				Set("Components", toAnyList(strings.Split(rec.Name, "/"))).Set("Accessor", "repack")
		}), vql.PermCollectServer, vql.PermFilesystemWrite)
}

// toolBinary reads the binary of an inventory tool, fetching it first
// when the inventory has none kept, as inventory_get does.
func toolBinary(c call, provider queues.Provider, name, version string) ([]byte, error) {
	m := manager(provider, c.scope, "repack")
	if m == nil {
		return nil, fmt.Errorf("no store")
	}
	org := plugins.OrgOf(c.scope)
	t, ok, err := storedTool(m, org, name)
	if err != nil {
		return nil, err
	}
	if !ok {
		t, ok = declaredTools(m, org)[name]
	}
	if !ok {
		return nil, fmt.Errorf("not in the inventory: no artifact declares it and none was added (inventory_add)")
	}
	if version != "" && t.Version != "" && version != t.Version {
		return nil, fmt.Errorf("version %s wanted, the inventory has %s", version, t.Version)
	}
	if t.Stored == "" {
		// Fetched to be kept whether or not the server serves it: the
		// binary is read from the data folder.
		kept := t
		kept.ServeLocally = true
		if err := fetchTool(c, org, &kept); err != nil {
			return nil, err
		}
		t.Hash, t.Stored, t.Size = kept.Hash, kept.Stored, kept.Size
		if err := putTool(m, org, t); err != nil {
			return nil, err
		}
	}
	dir, err := inventoryDir(c.scope)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(t.Stored)))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAtMost(f, repackMaxBytes)
}

// readAtMost reads r whole, refusing more than limit bytes.
func readAtMost(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d MiB: not a vqlq binary", limit>>20)
	}
	return data, nil
}

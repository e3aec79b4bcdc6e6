package flows

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/output"
	"github.com/vqlq/vqlq/queues"
	"github.com/vqlq/vqlq/vql/value"
)

// exportFormat says which copies of the results a download holds, as
// Velociraptor's format= names them: both JSON and CSV by default.
type exportFormat struct{ json, csv bool }

func parseFormat(format string) (exportFormat, error) {
	switch strings.ToLower(format) {
	case "":
		return exportFormat{json: true, csv: true}, nil
	case "json":
		return exportFormat{json: true}, nil
	case "csv":
		return exportFormat{json: true, csv: true}, nil
	case "csv_only":
		return exportFormat{csv: true}, nil
	}
	return exportFormat{}, fmt.Errorf("format %q is not one of json, csv, csv_only", format)
}

// zipWriter builds a download in a temporary file beside its place, so
// that a reader never sees half a zip.
type zipWriter struct {
	tmp  *os.File
	zw   *zip.Writer
	dest string
}

func (f FileStore) newZip(org, path string) (*zipWriter, error) {
	dest, err := f.Real(org, path)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o700); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".download-*")
	if err != nil {
		return nil, err
	}
	return &zipWriter{tmp: tmp, zw: zip.NewWriter(tmp), dest: dest}, nil
}

func (z *zipWriter) create(name string) (io.Writer, error) {
	return z.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
}

// json writes one JSON document.
func (z *zipWriter) json(name string, v any) error {
	w, err := z.create(name)
	if err != nil {
		return err
	}
	b, err := value.EncodeJSON(v)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// rows writes rows as JSON lines (name.json) and CSV (name.csv), as the
// format asks.
func (z *zipWriter) rows(name string, rows []*ordereddict.Dict, fmt exportFormat) error {
	if fmt.json {
		w, err := z.create(name + ".json")
		if err != nil {
			return err
		}
		for _, r := range rows {
			b, err := value.EncodeJSON(r)
			if err != nil {
				return err
			}
			if _, err := w.Write(append(b, '\n')); err != nil {
				return err
			}
		}
	}
	if fmt.csv {
		w, err := z.create(name + ".csv")
		if err != nil {
			return err
		}
		cw, err := output.New("csv", w, output.Options{})
		if err != nil {
			return err
		}
		if err := cw.Begin(); err != nil {
			return err
		}
		for _, r := range rows {
			if err := cw.Row(r); err != nil {
				return err
			}
		}
		if err := cw.End(); err != nil {
			return err
		}
	}
	return nil
}

func (z *zipWriter) finish() error {
	err := z.zw.Close()
	if cerr := z.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(z.tmp.Name(), z.dest)
	}
	if err != nil {
		os.Remove(z.tmp.Name())
	}
	return err
}

func (z *zipWriter) abort() {
	z.zw.Close()
	z.tmp.Close()
	os.Remove(z.tmp.Name())
}

// collect reads all rows of a results file.
func (f FileStore) collect(org, path string) ([]*ordereddict.Dict, error) {
	seq, err := f.readRows(org, path)
	if err != nil {
		return nil, err
	}
	var out []*ordereddict.Dict
	for r := range seq {
		out = append(out, r)
	}
	return out, nil
}

// addFlow writes a flow into a zip under prefix: its record
// (collection_context.json), its log (log.json) and each source's results
// (results/<Artifact>[/<Source>].json and .csv).
func (f FileStore) addFlow(z *zipWriter, org, prefix string, fl *Flow, format exportFormat) error {
	if err := z.json(prefix+"collection_context.json", toDict(fl)); err != nil {
		return err
	}
	logs, err := f.collect(org, logsPath(fl.ClientID, fl.SessionID))
	if err != nil {
		return err
	}
	if err := z.rows(prefix+"log", logs, exportFormat{json: true}); err != nil {
		return err
	}
	for _, name := range fl.ArtifactsWithResults {
		rows, err := f.collect(org, resultPath(fl.ClientID, fl.SessionID, name))
		if err != nil {
			return err
		}
		if err := z.rows(prefix+"results/"+name, rows, format); err != nil {
			return err
		}
	}
	return nil
}

// zipName is a download's file name: name, or the default, as one
// component ending in .zip.
func zipName(name, def string) string {
	if name == "" {
		name = def
	}
	name = escapeName(name)
	if !strings.HasSuffix(name, ".zip") {
		name += ".zip"
	}
	return name
}

// flowDownload writes the zip of a flow and returns its file store path.
func (s *Service) flowDownload(m *queues.Manager, store FileStore, org, client, flow, name string, format exportFormat) (string, error) {
	fl, err := s.Flow(m, org, client, flow)
	if err != nil {
		return "", err
	}
	path := "/downloads/" + client + "/" + flow + "/" + zipName(name, client+"-"+flow)
	z, err := store.newZip(org, path)
	if err != nil {
		return "", err
	}
	if err := store.addFlow(z, org, "", fl, format); err != nil {
		z.abort()
		return "", err
	}
	return path, z.finish()
}

// huntDownload writes the zip of a hunt: its record (hunt_info.json),
// each flow under clients/<client>/<flow>/ unless onlyCombined, and the
// rows of all flows together under results/, each with its ClientId and
// FlowId.
func (s *Service) huntDownload(m *queues.Manager, store FileStore, org, id, base string, onlyCombined bool, format exportFormat) (string, error) {
	h, err := s.Hunt(m, org, id)
	if err != nil {
		return "", err
	}
	entries, err := s.huntEntries(m, org, id)
	if err != nil {
		return "", err
	}
	path := "/downloads/hunts/" + id + "/" + zipName(base+id, "")
	z, err := store.newZip(org, path)
	if err != nil {
		return "", err
	}
	fail := func(err error) (string, error) { z.abort(); return "", err }
	if err := z.json("hunt_info.json", toDict(h)); err != nil {
		return fail(err)
	}
	combined := map[string][]*ordereddict.Dict{}
	var names []string
	for _, e := range entries {
		fl, err := s.Flow(m, org, e.client, e.flow)
		if err != nil {
			continue // deleted since it was added
		}
		if !onlyCombined {
			if err := store.addFlow(z, org, "clients/"+e.client+"/"+e.flow+"/", fl, format); err != nil {
				return fail(err)
			}
		}
		for _, name := range fl.ArtifactsWithResults {
			rows, err := store.collect(org, resultPath(fl.ClientID, fl.SessionID, name))
			if err != nil {
				return fail(err)
			}
			if _, ok := combined[name]; !ok {
				names = append(names, name)
			}
			for _, r := range rows {
				combined[name] = append(combined[name], withFlow(r, e.client, e.flow))
			}
		}
	}
	for _, name := range names {
		if err := z.rows("results/"+name, combined[name], format); err != nil {
			return fail(err)
		}
	}
	return path, z.finish()
}

// withFlow is a row with the client and flow it came from in front.
func withFlow(r *ordereddict.Dict, client, flow string) *ordereddict.Dict {
	out := ordereddict.NewDict().Set("ClientId", client).Set("FlowId", flow)
	for _, item := range r.Items() {
		if item.Key != "ClientId" && item.Key != "FlowId" {
			out.Set(item.Key, item.Value)
		}
	}
	return out
}

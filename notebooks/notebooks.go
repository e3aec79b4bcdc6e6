// Package notebooks keeps what Velociraptor's notebooks hold that server
// artifacts reach from VQL: super-timelines, each a set of child
// timelines (the rows of one query, keyed by a time column), read back
// merged in time order. Everything is in the data folder's key-value
// store, per org and notebook:
//
//	notebooks/<org>/<notebook>/meta                         the notebook
//	notebooks/<org>/<notebook>/super/<super>                a super-timeline
//	notebooks/<org>/<notebook>/rows/<super>/<time>/<child>/<seq>  one event
//
// Events are keyed by time first, so one prefix scan reads a whole
// super-timeline in order, whichever children it has.
package notebooks

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/artifacts"
	"github.com/vqlq/vqlq/vql/value"
)

// Notebook is a notebook's record.
type Notebook struct {
	ID        string    `json:"notebook_id"`
	Creator   string    `json:"creator,omitempty"`
	Created   time.Time `json:"created"`
	Timelines []string  `json:"timelines"`
}

// Timeline is one child of a super-timeline: Velociraptor's fields.
type Timeline struct {
	ID                  string `json:"id"`
	StartTime           int64  `json:"start_time"`
	EndTime             int64  `json:"end_time"`
	TimestampColumn     string `json:"timestamp_column,omitempty"`
	MessageColumn       string `json:"message_column,omitempty"`
	TimestampDescColumn string `json:"timestamp_description_column,omitempty"`
	Rows                int64  `json:"rows"`
}

// SuperTimeline is a named set of timelines.
type SuperTimeline struct {
	Name      string     `json:"name"`
	Timelines []Timeline `json:"timelines"`
}

// Dict is the super-timeline as VQL sees it.
func (s SuperTimeline) Dict() *ordereddict.Dict {
	children := make([]any, 0, len(s.Timelines))
	for _, t := range s.Timelines {
		d := ordereddict.NewDict().Set("id", t.ID).Set("start_time", t.StartTime).Set("end_time", t.EndTime).
			Set("timestamp_column", t.TimestampColumn).Set("message_column", t.MessageColumn).
			Set("timestamp_description_column", t.TimestampDescColumn).Set("rows", t.Rows)
		children = append(children, d)
	}
	return ordereddict.NewDict().Set("name", s.Name).Set("timelines", children)
}

// Store is the notebooks of a data folder.
type Store struct{ kv artifacts.Storage }

// New returns the notebooks kept in kv.
func New(kv artifacts.Storage) *Store { return &Store{kv: kv} }

// ErrNotFound is a notebook or timeline that is not there.
var ErrNotFound = errors.New("not found")

func orgName(org string) string {
	if org == "" {
		return artifacts.DefaultOrg
	}
	return org
}

func part(s string) string { return url.PathEscape(s) }

func notebookPrefix(org, nb string) string {
	return "notebooks/" + part(orgName(org)) + "/" + part(nb) + "/"
}

func metaKey(org, nb string) string { return notebookPrefix(org, nb) + "meta" }

func superKey(org, nb, super string) string { return notebookPrefix(org, nb) + "super/" + part(super) }

func rowsPrefix(org, nb, super string) string {
	return notebookPrefix(org, nb) + "rows/" + part(super) + "/"
}

// timeKey orders times as text: nanoseconds shifted to be unsigned,
// zero-padded.
func timeKey(t time.Time) string {
	return fmt.Sprintf("%020d", uint64(t.UnixNano())+math.MaxInt64+1)
}

func parseTimeKey(s string) (time.Time, bool) {
	u, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, int64(u-math.MaxInt64-1)).UTC(), true
}

// CheckID refuses an empty id.
func CheckID(kind, id string) error {
	if strings.TrimSpace(id) == "" {
		return fmt.Errorf("a %s is required", kind)
	}
	return nil
}

func (s *Store) getJSON(key string, v any) error {
	b, found, err := s.kv.Get(key)
	if err != nil {
		return err
	}
	if !found {
		return ErrNotFound
	}
	return json.Unmarshal(b, v)
}

func (s *Store) putJSON(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.kv.Put(key, b)
}

// Notebook returns org's notebook nb.
func (s *Store) Notebook(org, nb string) (Notebook, error) {
	var n Notebook
	if err := s.getJSON(metaKey(org, nb), &n); err != nil {
		if errors.Is(err, ErrNotFound) {
			return n, fmt.Errorf("notebook %s: %w", nb, ErrNotFound)
		}
		return n, err
	}
	return n, nil
}

// ensureNotebook returns nb's record, making it when org has none: vqlq
// has no notebook editor, so a notebook comes into being with its first
// timeline.
func (s *Store) ensureNotebook(org, nb, principal string) (Notebook, error) {
	n, err := s.Notebook(org, nb)
	if err == nil {
		return n, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return n, err
	}
	n = Notebook{ID: nb, Creator: principal, Created: time.Now().UTC(), Timelines: []string{}}
	return n, s.putJSON(metaKey(org, nb), n)
}

// Timelines lists nb's super-timelines, sorted by name.
func (s *Store) Timelines(org, nb string) ([]SuperTimeline, error) {
	n, err := s.Notebook(org, nb)
	if err != nil {
		return nil, err
	}
	names := append([]string(nil), n.Timelines...)
	sort.Strings(names)
	out := make([]SuperTimeline, 0, len(names))
	for _, name := range names {
		st, err := s.SuperTimeline(org, nb, name)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// SuperTimeline returns one of nb's super-timelines.
func (s *Store) SuperTimeline(org, nb, name string) (SuperTimeline, error) {
	var st SuperTimeline
	if err := s.getJSON(superKey(org, nb, name), &st); err != nil {
		if errors.Is(err, ErrNotFound) {
			return st, fmt.Errorf("notebook %s has no timeline %s: %w", nb, name, ErrNotFound)
		}
		return st, err
	}
	return st, nil
}

// Event is one row added to a timeline, at its time.
type Event struct {
	Time time.Time
	Row  *ordereddict.Dict
}

// AddTimeline makes child (its ID) a timeline of super in notebook nb
// with the events next yields, replacing a child of that name; super and
// nb are made when missing. It returns the super-timeline as it now is.
func (s *Store) AddTimeline(org, nb, super, principal string, child Timeline, next func() (Event, bool, error)) (SuperTimeline, error) {
	n, err := s.ensureNotebook(org, nb, principal)
	if err != nil {
		return SuperTimeline{}, err
	}
	st, err := s.SuperTimeline(org, nb, super)
	if errors.Is(err, ErrNotFound) {
		st, err = SuperTimeline{Name: super, Timelines: []Timeline{}}, nil
	}
	if err != nil {
		return SuperTimeline{}, err
	}
	if err := s.deleteRows(org, nb, super, child.ID); err != nil {
		return SuperTimeline{}, err
	}
	child.Rows, child.StartTime, child.EndTime = 0, 0, 0
	var first, last time.Time
	for seq := 0; ; seq++ {
		ev, ok, err := next()
		if err != nil {
			return SuperTimeline{}, err
		}
		if !ok {
			break
		}
		b, err := value.EncodeJSON(ev.Row)
		if err != nil {
			return SuperTimeline{}, fmt.Errorf("timeline %s: %v", child.ID, err)
		}
		key := rowsPrefix(org, nb, super) + timeKey(ev.Time) + "/" + part(child.ID) + "/" + fmt.Sprintf("%010d", seq)
		if err := s.kv.Put(key, b); err != nil {
			return SuperTimeline{}, err
		}
		if child.Rows == 0 || ev.Time.Before(first) {
			first = ev.Time
		}
		if child.Rows == 0 || ev.Time.After(last) {
			last = ev.Time
		}
		child.Rows++
	}
	if child.Rows > 0 {
		child.StartTime, child.EndTime = first.Unix(), last.Unix()
	}
	replaced := false
	for i, t := range st.Timelines {
		if t.ID == child.ID {
			st.Timelines[i], replaced = child, true
		}
	}
	if !replaced {
		st.Timelines = append(st.Timelines, child)
	}
	if err := s.putJSON(superKey(org, nb, super), st); err != nil {
		return SuperTimeline{}, err
	}
	if !contains(n.Timelines, super) {
		n.Timelines = append(n.Timelines, super)
		if err := s.putJSON(metaKey(org, nb), n); err != nil {
			return SuperTimeline{}, err
		}
	}
	return st, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// errStop ends a scan early.
var errStop = errors.New("stop")

// deleteRows removes the events of child ("" for every child) of super.
func (s *Store) deleteRows(org, nb, super, child string) error {
	prefix := rowsPrefix(org, nb, super)
	var keys []string
	err := s.kv.Scan(prefix, func(key string, _ []byte) error {
		if child == "" || childOf(strings.TrimPrefix(key, prefix)) == child {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := s.kv.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// childOf is the child of an event key's rest ("<time>/<child>/<seq>").
func childOf(rest string) string {
	parts := strings.Split(rest, "/")
	if len(parts) != 3 {
		return ""
	}
	c, err := url.PathUnescape(parts[1])
	if err != nil {
		return ""
	}
	return c
}

// ReadOptions choose the events Read yields.
type ReadOptions struct {
	// Include, when not empty, are the only children read; Skip are left
	// out.
	Include, Skip []string
	// Start is the first time read.
	Start time.Time
}

// Read calls yield with super's events in time order (by child in the
// order they were added at equal times), each as Velociraptor's timeline
// row: Timestamp, Message, Description, the event's columns, _Source.
// It stops when yield returns false.
func (s *Store) Read(org, nb, super string, opts ReadOptions, yield func(*ordereddict.Dict) bool) error {
	st, err := s.SuperTimeline(org, nb, super)
	if err != nil {
		return err
	}
	children := map[string]Timeline{}
	for _, t := range st.Timelines {
		if len(opts.Include) > 0 && !contains(opts.Include, t.ID) {
			continue
		}
		if contains(opts.Skip, t.ID) {
			continue
		}
		children[t.ID] = t
	}
	if len(children) == 0 {
		return nil
	}
	prefix := rowsPrefix(org, nb, super)
	start := ""
	if !opts.Start.IsZero() {
		start = timeKey(opts.Start)
	}
	err = s.kv.Scan(prefix, func(key string, b []byte) error {
		rest := strings.TrimPrefix(key, prefix)
		if start != "" && rest < start {
			return nil
		}
		child, ok := children[childOf(rest)]
		if !ok {
			return nil
		}
		ts, ok := parseTimeKey(strings.SplitN(rest, "/", 2)[0])
		if !ok {
			return nil
		}
		v, err := value.DecodeJSON(b)
		if err != nil {
			return fmt.Errorf("%s: %v", key, err)
		}
		row, ok := v.(*ordereddict.Dict)
		if !ok {
			return nil
		}
		if !yield(timelineRow(child, ts, row)) {
			return errStop
		}
		return nil
	})
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

// timelineRow is Velociraptor's shape of one event: the standard columns
// first, from the child's message and description columns (a message
// made of the first columns when the event has none).
func timelineRow(t Timeline, ts time.Time, event *ordereddict.Dict) *ordereddict.Dict {
	msgCol := t.MessageColumn
	if msgCol == "" {
		msgCol = "Message"
	}
	var message string
	if m, ok := event.Get(msgCol); ok {
		message = text(m)
	} else {
		message = defaultMessage(event, t.TimestampColumn)
	}
	descCol := t.TimestampDescColumn
	if descCol == "" {
		descCol = "Description"
	}
	desc := ""
	if d, ok := event.Get(descCol); ok {
		desc = text(d)
	}
	row := ordereddict.NewDict().Set("Timestamp", ts).Set("Message", message).Set("Description", desc)
	for _, item := range event.Items() {
		switch item.Key {
		case "Timestamp", "TimestampDesc", "Message", "Description", t.MessageColumn, t.TimestampDescColumn:
			continue
		}
		row.Set(item.Key, item.Value)
	}
	return row.Set("_Source", t.ID)
}

func text(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if v == nil {
		return ""
	}
	b, err := value.EncodeJSON(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// defaultMessage is "key: value " for the event's columns but the time,
// cut at 80 characters.
func defaultMessage(event *ordereddict.Dict, timeCol string) string {
	var b strings.Builder
	for _, item := range event.Items() {
		if item.Key == timeCol {
			continue
		}
		b.WriteString(item.Key)
		b.WriteString(": ")
		b.WriteString(text(item.Value))
		b.WriteString(" ")
		if b.Len() > 80 {
			return b.String()[:80] + " ..."
		}
	}
	return b.String()
}

// DeleteTimeline removes child of super ("" removes super whole, and its
// place in the notebook).
func (s *Store) DeleteTimeline(org, nb, super, child string) error {
	n, err := s.Notebook(org, nb)
	if err != nil {
		return err
	}
	st, err := s.SuperTimeline(org, nb, super)
	if err != nil {
		return err
	}
	if child != "" {
		kept := st.Timelines[:0]
		found := false
		for _, t := range st.Timelines {
			if t.ID == child {
				found = true
				continue
			}
			kept = append(kept, t)
		}
		if !found {
			return fmt.Errorf("timeline %s of notebook %s has no child %s: %w", super, nb, child, ErrNotFound)
		}
		if err := s.deleteRows(org, nb, super, child); err != nil {
			return err
		}
		st.Timelines = kept
		return s.putJSON(superKey(org, nb, super), st)
	}
	if err := s.deleteRows(org, nb, super, ""); err != nil {
		return err
	}
	if err := s.kv.Delete(superKey(org, nb, super)); err != nil {
		return err
	}
	kept := n.Timelines[:0]
	for _, name := range n.Timelines {
		if name != super {
			kept = append(kept, name)
		}
	}
	n.Timelines = kept
	return s.putJSON(metaKey(org, nb), n)
}

// Item is one thing a notebook holds, as notebook_delete lists it.
type Item struct {
	// Type is Notebook for records, Filestore for a timeline's events.
	Type, Path string
	Rows       int64
}

// Items lists what nb holds: its record, its super-timelines, and each
// child's events. ErrNotFound when org has no such notebook.
func (s *Store) Items(org, nb string) ([]Item, error) {
	n, err := s.Notebook(org, nb)
	if err != nil {
		return nil, err
	}
	base := "notebooks/" + nb
	items := []Item{{Type: "Notebook", Path: base}}
	names := append([]string(nil), n.Timelines...)
	sort.Strings(names)
	for _, name := range names {
		st, err := s.SuperTimeline(org, nb, name)
		if err != nil {
			continue
		}
		items = append(items, Item{Type: "Notebook", Path: base + "/timelines/" + name})
		for _, t := range st.Timelines {
			items = append(items, Item{Type: "Filestore", Path: base + "/timelines/" + name + "/" + t.ID, Rows: t.Rows})
		}
	}
	return items, nil
}

// Delete removes nb and everything it holds.
func (s *Store) Delete(org, nb string) error {
	if _, err := s.Notebook(org, nb); err != nil {
		return err
	}
	var keys []string
	err := s.kv.Scan(notebookPrefix(org, nb), func(key string, _ []byte) error {
		keys = append(keys, key)
		return nil
	})
	if err != nil {
		return err
	}
	// The record last: a delete cut short leaves a notebook that can be
	// deleted again.
	sort.Slice(keys, func(i, j int) bool { return keys[i] != metaKey(org, nb) && keys[j] == metaKey(org, nb) })
	for _, k := range keys {
		if err := s.kv.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

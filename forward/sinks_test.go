package forward_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// No Elasticsearch, OpenSearch or Splunk can run here: the servers below
// are real HTTP servers on loopback that speak the parts of their
// protocols a forwarder uses — the bulk API (NDJSON action and source
// lines, per-item statuses and errors, "errors": true) and the HTTP Event
// Collector (/services/collector, token auth, {"text":"Success","code":0},
// invalid-event-number) — with failures injected the way the real ones
// fail: refused connections, 429s and 503s, per-document rejections, and
// a server that dies in the middle of reading a batch.

// sinkServer is a loopback HTTP server that can be started late (until
// then its port refuses connections) and stopped.
type sinkServer struct {
	t       *testing.T
	addr    string
	handler http.Handler
	mu      sync.Mutex
	srv     *http.Server
}

// newSinkServer reserves a loopback port; nothing listens on it until up.
func newSinkServer(t *testing.T, h http.Handler) *sinkServer {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s := &sinkServer{t: t, addr: addr, handler: h}
	t.Cleanup(s.down)
	return s
}

func (s *sinkServer) url() string { return "http://" + s.addr }

// up starts listening on the reserved port.
func (s *sinkServer) up() {
	var l net.Listener
	var err error
	for range 50 { // the port was just released; another test may hold it a moment
		if l, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("listen %s: %v", s.addr, err)
	}
	srv := &http.Server{Handler: s.handler}
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	go srv.Serve(l)
}

func (s *sinkServer) down() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// killMidway reads part of a request's body and drops the connection
// without answering: a server that died while reading a batch.
func killMidway(w http.ResponseWriter, r *http.Request) {
	io.CopyN(io.Discard, r.Body, 64)
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		conn.Close()
	}
}

// esIndex is a fake Elasticsearch: documents by index and id.
type esIndex struct {
	mu sync.Mutex
	// docs[index][id] is the stored source.
	docs     map[string]map[string]map[string]any
	writes   map[string]int // index operations that stored a document, by id
	noID     int            // documents sent without _id
	requests int
	// fail decides the fate of request n (1, 2, …): "" to serve it,
	// "refuse-429", "refuse-503" or "kill".
	fail func(n int) string
	// itemFail decides one document's fate: 0 to index it, else the
	// status of a per-item error; attempt counts the sends of its id.
	itemFail func(doc map[string]any, attempt int) int
	attempts map[string]int
	// maxDocs, when set, refuses a request of more documents with 413.
	maxDocs int
}

func newESIndex() *esIndex {
	return &esIndex{docs: map[string]map[string]map[string]any{}, writes: map[string]int{}, attempts: map[string]int{}}
}

func (es *esIndex) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/_bulk" {
		http.Error(w, `{"error":"no handler"}`, http.StatusNotFound)
		return
	}
	es.mu.Lock()
	es.requests++
	n := es.requests
	es.mu.Unlock()
	mode := ""
	if es.fail != nil {
		mode = es.fail(n)
	}
	switch mode {
	case "kill":
		killMidway(w, r)
		return
	case "refuse-429":
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"error":{"type":"es_rejected_execution_exception","reason":"rejected execution"},"status":429}`)
		return
	case "refuse-503":
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"error":{"type":"unavailable_shards_exception"},"status":503}`)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		http.Error(w, `{"error":"Content-Type must be application/x-ndjson, not `+ct+`"}`, http.StatusNotAcceptable)
		return
	}
	body, _ := io.ReadAll(r.Body)
	if es.maxDocs > 0 && bytes.Count(body, []byte("\n"))/2 > es.maxDocs {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		io.WriteString(w, `{"error":{"type":"content_too_long_exception","reason":"request too large"},"status":413}`)
		return
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var items []string
	failed := false
	for sc.Scan() {
		var action map[string]struct {
			Index string `json:"_index"`
			ID    string `json:"_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &action); err != nil || len(action) != 1 {
			http.Error(w, `{"error":{"type":"illegal_argument_exception","reason":"Malformed action/metadata line"},"status":400}`, http.StatusBadRequest)
			return
		}
		if !sc.Scan() {
			http.Error(w, `{"error":{"type":"illegal_argument_exception","reason":"The bulk request must be terminated by a newline"},"status":400}`, http.StatusBadRequest)
			return
		}
		var op string
		for k := range action {
			op = k
		}
		meta := action[op]
		var source map[string]any
		if err := json.Unmarshal(sc.Bytes(), &source); err != nil {
			items = append(items, fmt.Sprintf(`{%q:{"_index":%q,"status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse"}}}`, op, meta.Index))
			failed = true
			continue
		}
		es.mu.Lock()
		if meta.ID == "" {
			// As Elasticsearch does: a document sent without an id gets one.
			es.noID++
			meta.ID = fmt.Sprintf("auto-%d", es.noID)
		}
		es.attempts[meta.ID]++
		status := 0
		if es.itemFail != nil {
			status = es.itemFail(source, es.attempts[meta.ID])
		}
		switch {
		case status == 400:
			items = append(items, fmt.Sprintf(`{%q:{"_index":%q,"_id":%q,"status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse field [bad] of type [long]"}}}`, op, meta.Index, meta.ID))
			failed = true
		case status != 0:
			items = append(items, fmt.Sprintf(`{%q:{"_index":%q,"_id":%q,"status":%d,"error":{"type":"es_rejected_execution_exception","reason":"rejected execution of coordinating operation"}}}`, op, meta.Index, meta.ID, status))
			failed = true
		case op == "create" && es.docs[meta.Index][meta.ID] != nil:
			items = append(items, fmt.Sprintf(`{"create":{"_index":%q,"_id":%q,"status":409,"error":{"type":"version_conflict_engine_exception","reason":"document already exists"}}}`, meta.Index, meta.ID))
			failed = true
		default:
			if es.docs[meta.Index] == nil {
				es.docs[meta.Index] = map[string]map[string]any{}
			}
			code := 201
			if es.docs[meta.Index][meta.ID] != nil {
				code = 200
			}
			es.docs[meta.Index][meta.ID] = source
			es.writes[meta.ID]++
			items = append(items, fmt.Sprintf(`{%q:{"_index":%q,"_id":%q,"result":"created","status":%d}}`, op, meta.Index, meta.ID, code))
		}
		es.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"took":3,"errors":%v,"items":[%s]}`, failed, strings.Join(items, ","))
}

// ids lists the ids of an index, sorted.
func (es *esIndex) ids(index string) []string {
	es.mu.Lock()
	defer es.mu.Unlock()
	var out []string
	for id := range es.docs[index] {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func (es *esIndex) count(index string) int {
	es.mu.Lock()
	defer es.mu.Unlock()
	return len(es.docs[index])
}

func (es *esIndex) doc(index, id string) map[string]any {
	es.mu.Lock()
	defer es.mu.Unlock()
	return es.docs[index][id]
}

// hecCollector is a fake Splunk HTTP Event Collector.
type hecCollector struct {
	token    string
	mu       sync.Mutex
	events   []map[string]any // as received: time, host, source, sourcetype, index, event, fields
	requests int
	fail     func(n int) string // "", "busy" (503), "kill"
}

func (h *hecCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path != "/services/collector" && r.URL.Path != "/services/collector/event" {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"text":"The requested URL was not found on this server.","code":404}`)
		return
	}
	if r.Header.Get("Authorization") != "Splunk "+h.token {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"text":"Invalid authorization","code":3}`)
		return
	}
	h.mu.Lock()
	h.requests++
	n := h.requests
	h.mu.Unlock()
	mode := ""
	if h.fail != nil {
		mode = h.fail(n)
	}
	switch mode {
	case "kill":
		killMidway(w, r)
		return
	case "busy":
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"text":"Server is busy","code":9}`)
		return
	}
	body, _ := io.ReadAll(r.Body)
	dec := json.NewDecoder(bytes.NewReader(body))
	var batch []map[string]any
	for i := 0; ; i++ {
		var ev map[string]any
		err := dec.Decode(&ev)
		if err == io.EOF {
			break
		}
		event, _ := ev["event"].(map[string]any)
		if err != nil || event == nil || event["bad"] != nil {
			// The events before the bad one are indexed, the rest not.
			h.mu.Lock()
			h.events = append(h.events, batch...)
			h.mu.Unlock()
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"text":"Invalid data format","code":6,"invalid-event-number":%d}`, i)
			return
		}
		batch = append(batch, ev)
	}
	if len(batch) == 0 {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"text":"No data","code":5}`)
		return
	}
	h.mu.Lock()
	h.events = append(h.events, batch...)
	h.mu.Unlock()
	io.WriteString(w, `{"text":"Success","code":0}`)
}

// byID counts the collector's events by their vqlq_id field.
func (h *hecCollector) byID() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]int{}
	for _, ev := range h.events {
		fields, _ := ev["fields"].(map[string]any)
		id, _ := fields["vqlq_id"].(string)
		out[id]++
	}
	return out
}

func (h *hecCollector) all() []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]map[string]any(nil), h.events...)
}

// hookReceiver is a webhook: it takes JSON rows, refuses some for good,
// and fails others the first time.
type hookReceiver struct {
	mu       sync.Mutex
	accepted map[string][]map[string]any // rows answered 2xx, by Idempotency-Key
	seen     map[string]int
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Idempotency-Key")
	var row map[string]any
	if r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&row) != nil {
		http.Error(w, "want a JSON body", http.StatusUnsupportedMediaType)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seen[key]++
	switch {
	case row["bad"] != nil:
		http.Error(w, "field bad is not allowed", http.StatusUnprocessableEntity)
	case row["flaky"] != nil && h.seen[key] == 1:
		http.Error(w, "try later", http.StatusInternalServerError)
	default:
		h.accepted[key] = append(h.accepted[key], row)
		w.WriteHeader(http.StatusNoContent)
	}
}

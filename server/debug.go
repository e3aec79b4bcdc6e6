package server

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/vqlq/vqlq/queues"
)

// The event queue debug page of a Manager (the server mounts it, behind a
// login, in debugAuth.routes):
//
//	GET /debug/queues       an HTML page listing, for every org the caller may
//	                        see, every queue with its watchers and counters; it
//	                        refreshes itself every 2 s from the JSON below (the
//	                        first table is rendered by the server, so it reads
//	                        without JS)
//	GET /debug/queues.json  the same data as JSON
//
// The page loads nothing from elsewhere.

// debugPage is what /debug/queues.json returns and the page shows.
type debugPage struct {
	// Updated is when the server took this snapshot.
	Updated time.Time `json:"updated"`
	// Viewer is who asked.
	Viewer debugViewer `json:"viewer"`
	Orgs   []debugOrg  `json:"orgs"`
}

// debugOrg is one org's queues, with totals for its heading.
type debugOrg struct {
	Org string `json:"org"`
	// Active counts the queues that had events or have watchers.
	Active   int          `json:"active"`
	Watchers int          `json:"watchers"`
	Events   int64        `json:"events"`
	Queues   []debugQueue `json:"queues"`
}

// debugQueue is one queue: queues.QueueInfo with its largest watcher
// backlog and whether anything happened on it.
type debugQueue struct {
	Name      string `json:"name"`
	Type      string `json:"type"`
	Persisted bool   `json:"persisted"`
	// Active is set once the queue had an event since the server started,
	// or while it has a watcher; the page folds the others away.
	Active    bool  `json:"active"`
	Watchers  int   `json:"watchers"`
	Events    int64 `json:"events"`
	Delivered int64 `json:"delivered"`
	// Backlog is the largest backlog of its watchers.
	Backlog int64 `json:"backlog"`
	Dropped int64 `json:"dropped"`
	Stored  int64 `json:"stored"`
	// LastEvent is null when no event was sent since the server started.
	LastEvent   *time.Time     `json:"last_event"`
	WatcherList []debugWatcher `json:"watcher_list"`
	// Consumers are its named consumers, attached or not: a forwarder
	// that is down shows here with its lag growing.
	Consumers []debugConsumer `json:"consumers"`
}

// debugConsumer is one named consumer of a queue (queues.ConsumerInfo).
type debugConsumer struct {
	Name     string `json:"name"`
	Owner    string `json:"owner"`
	Position uint64 `json:"position"`
	Lag      uint64 `json:"lag"`
	Skipped  uint64 `json:"skipped"`
	// LastAck is null when it has not acknowledged since the server
	// started.
	LastAck *time.Time `json:"last_ack"`
	// Forwarder is the forwarder reading it now, null when none is.
	Forwarder *debugForwarder `json:"forwarder"`
}

// debugForwarder is what a forwarder (elastic_upload(), …) has done since
// it started (queues.ForwardInfo).
type debugForwarder struct {
	Sink        string `json:"sink"`
	Forwarded   int64  `json:"forwarded"`
	Retries     int64  `json:"retries"`
	DeadLetters int64  `json:"dead_letters"`
	LastError   string `json:"last_error"`
}

// debugWatcher is one running watcher of a queue.
type debugWatcher struct {
	// Query is the watcher's query text, with secrets hidden (or its
	// consumer name); debugHiddenQuery for callers who are not admins.
	Query   string    `json:"query"`
	Next    uint64    `json:"next"`
	Backlog int64     `json:"backlog"`
	Since   time.Time `json:"since"`
}

// debugSnapshot reads the state of every queue of the orgs a caller may
// see.
func debugSnapshot(m *queues.Manager, now time.Time, a debugAccess) debugPage {
	page := debugPage{Updated: now.UTC(), Viewer: a.viewer, Orgs: []debugOrg{}}
	orgs := []string{a.org}
	if a.org == "" {
		orgs = m.Orgs()
	}
	for _, org := range orgs {
		o := debugOrg{Org: org, Queues: []debugQueue{}}
		consumers := map[string][]debugConsumer{}
		for _, c := range m.Consumers(org) {
			dc := debugConsumer{Name: c.Name, Owner: c.Owner, Position: c.Position, Lag: c.Lag, Skipped: c.Skipped}
			if f := c.Forwarder; f != nil {
				dc.Forwarder = &debugForwarder{Sink: f.Sink, Forwarded: f.Forwarded, Retries: f.Retries, DeadLetters: f.DeadLetters, LastError: f.LastError}
			}
			if !c.LastAck.IsZero() {
				t := c.LastAck.UTC()
				dc.LastAck = &t
			}
			consumers[c.Queue] = append(consumers[c.Queue], dc)
		}
		for _, q := range m.Queues(org) {
			dq := debugQueue{
				Name: q.Name, Type: q.Type, Persisted: q.Persisted,
				Active:   q.Events > 0 || q.Delivered > 0 || q.Dropped > 0 || q.Watchers > 0,
				Watchers: q.Watchers, Events: q.Events, Delivered: q.Delivered,
				Backlog: debugMaxBacklog(q), Dropped: q.Dropped, Stored: q.Stored,
				WatcherList: []debugWatcher{}, Consumers: consumers[q.Name],
			}
			if dq.Consumers == nil {
				dq.Consumers = []debugConsumer{}
			}
			if !q.LastEvent.IsZero() {
				t := q.LastEvent.UTC()
				dq.LastEvent = &t
			}
			for _, w := range q.WatcherList {
				query := debugHiddenQuery
				if a.queries {
					query = w.Describe
				}
				dq.WatcherList = append(dq.WatcherList, debugWatcher{Query: query, Next: w.Next, Backlog: w.Backlog, Since: w.Since.UTC()})
			}
			if dq.Active {
				o.Active++
			}
			o.Watchers += q.Watchers
			o.Events += q.Events
			o.Queues = append(o.Queues, dq)
		}
		page.Orgs = append(page.Orgs, o)
	}
	return page
}

// debugMaxBacklog is the backlog of a queue's slowest watcher.
func debugMaxBacklog(q queues.QueueInfo) int64 {
	var b int64
	for _, w := range q.WatcherList {
		b = max(b, w.Backlog)
	}
	return b
}

func debugServeJSON(w http.ResponseWriter, page debugPage) {
	b, err := json.MarshalIndent(page, "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(append(b, '\n'))
}

// debugCSP lets the page run its own inline script and style, fetch from
// its own origin, and nothing else.
var debugCSP = func() string {
	sum := sha256.Sum256([]byte(debugScript))
	return "default-src 'none'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'; " +
		"script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}()

// debugLoginCSP lets the login form style itself and post to its own
// origin; it runs no script.
const debugLoginCSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// debugServeLogin serves the login form, with a message saying what was
// wrong (or none), under status. It holds no data of any queue.
func debugServeLogin(w http.ResponseWriter, status int, message string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", debugLoginCSP)
	w.WriteHeader(status)
	_ = debugLoginTemplate.Execute(w, struct {
		Message string
		Style   template.CSS
	}{message, template.CSS(debugStyle)})
}

var debugLoginTemplate = template.Must(template.New("login").Parse(debugLoginHTML))

// debugLoginHTML is the login form. Its action is relative: it is served at
// /debug/queues and /debug/login, and posts to /debug/login.
const debugLoginHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vqlq · log in</title>
<style>{{.Style}}</style>
</head>
<body>
<header><h1>Event queues</h1></header>
<main>
<form id="login" class="login" method="post" action="login">
  <p>Log in with an API token of role <b>reader</b> or <b>admin</b> (<code>vqlq token create</code>).</p>
  {{- with .Message}}
  <p class="error" role="alert">{{.}}</p>
  {{- end}}
  <label for="token">Token</label>
  <input type="password" id="token" name="token" autocomplete="off" spellcheck="false" required autofocus>
  <button type="submit">Log in</button>
</form>
</main>
<footer>The session lasts 12 hours, or until you log out or the server restarts.</footer>
</body>
</html>
`

func debugServePage(w http.ResponseWriter, page debugPage) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", debugCSP)
	data := struct {
		debugPage
		Style  template.CSS
		Script template.JS
	}{page, template.CSS(debugStyle), template.JS(debugScript)}
	// An error here is a write to a client that went away.
	_ = debugTemplate.Execute(w, data)
}

// debugNum writes n with thousands separators, as the script does.
func debugNum(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := ""
	if n < 0 {
		neg, s = "-", s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return neg + s
}

// debugClock shows a time in UTC: the time of day, with the date when it
// is not the day of now.
func debugClock(t, now time.Time) string {
	t, now = t.UTC(), now.UTC()
	if t.Format(time.DateOnly) == now.Format(time.DateOnly) {
		return t.Format(time.TimeOnly)
	}
	return t.Format(time.DateTime)
}

// debugAgo says how long before now t was, roughly.
func debugAgo(t, now time.Time) string {
	s := int64(now.Sub(t) / time.Second)
	switch {
	case s < 1:
		return "just now"
	case s < 60:
		return strconv.FormatInt(s, 10) + "s ago"
	case s < 3600:
		return strconv.FormatInt(s/60, 10) + "m ago"
	case s < 48*3600:
		return strconv.FormatInt(s/3600, 10) + "h ago"
	}
	return strconv.FormatInt(s/86400, 10) + "d ago"
}

// debugPlural writes "1 watcher", "2 watchers".
func debugPlural(n int64, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return debugNum(n) + " " + word + "s"
}

// debugRow is what the queue row template needs.
type debugRow struct {
	debugQueue
	Now time.Time
}

var debugTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"num":    func(n any) string { return debugNum(debugInt(n)) },
	"plural": func(n any, word string) string { return debugPlural(debugInt(n), word) },
	"clock":  debugClock,
	"ago":    debugAgo,
	"row":    func(q debugQueue, now time.Time) debugRow { return debugRow{q, now} },
	"iso":    func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) },
	"idle":   func(o debugOrg) int { return len(o.Queues) - o.Active },
}).Parse(debugHTML))

func debugInt(n any) int64 {
	switch n := n.(type) {
	case int:
		return int64(n)
	case int64:
		return n
	case uint64:
		return int64(n)
	}
	return 0
}

// debugHTML is the page. The script (debugScript) builds the same markup
// from queues.json; keep the two in step.
const debugHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vqlq · event queues</title>
<style>{{.Style}}</style>
</head>
<body>
<header>
  <h1>Event queues</h1>
  {{- with .Viewer}}
  <p class="viewer">{{if .Session}}<span>Logged in as <b>{{.Name}}</b> ({{.Role}}{{if .AllOrgs}}, every org{{else}}, org {{.Org}}{{end}})</span>
    <form class="logout" method="post" action="logout"><button type="submit">Log out</button></form>{{else}}<span>{{.Name}} ({{.Role}}{{if .AllOrgs}}, every org{{else}}, org {{.Org}}{{end}})</span>{{end}}</p>
  {{- end}}
  <p id="status" class="ok"><span class="dot"></span> <span id="status-text">Updated <time id="updated" datetime="{{iso .Updated}}">{{clock .Updated .Updated}}</time> UTC</span><span class="every"> · refreshes every 2 s</span></p>
</header>
<noscript><p class="note">JavaScript is off: this is the state when the page was loaded. Reload to update it.</p></noscript>
<main id="orgs">
{{- range .Orgs}}
<section class="org" data-org="{{.Org}}">
  <h2>Org <span class="org-name">{{.Org}}</span> <span class="summary">{{plural (len .Queues) "queue"}} · {{num .Active}} active · {{plural .Watchers "watcher"}} · {{plural .Events "event"}} in</span></h2>
  <table>
    {{template "head"}}
    <tbody>
    {{- range .Queues}}{{if .Active}}{{template "queue" (row . $.Updated)}}{{end}}{{end}}
    {{- if not .Active}}
      <tr class="empty"><td colspan="10">No queue has had an event or a watcher since the server started.</td></tr>
    {{- end}}
    </tbody>
  </table>
  {{- if lt .Active (len .Queues)}}
  <details class="idle">
    <summary>{{plural (idle .) "idle queue"}} <span class="hint">no events since the server started, no watchers</span></summary>
    <table>
      {{template "head"}}
      <tbody>
      {{- range .Queues}}{{if not .Active}}{{template "queue" (row . $.Updated)}}{{end}}{{end}}
      </tbody>
    </table>
  </details>
  {{- end}}
</section>
{{- end}}
</main>
<footer>Counters run from the server's start. Backlog: events a watcher has still to read (the slowest watcher for the queue). Times are UTC. Data: <a href="queues.json">queues.json</a>.</footer>
<script>{{.Script}}</script>
</body>
</html>
{{define "head"}}<colgroup><col class="c-name"><col class="c-type"><col class="c-storage"><col span="6" class="c-num"><col class="c-last"></colgroup>
    <thead><tr><th>Queue</th><th>Type</th><th>Storage</th><th class="n" title="Running watchers">Watchers</th><th class="n" title="Events sent since the server started">Events in</th><th class="n" title="Rows handed to watchers since the server started">Events out</th><th class="n" title="Events the slowest watcher has still to read">Backlog</th><th class="n" title="Events lost by watchers too slow for a memory queue">Dropped</th><th class="n" title="Events held by the store now">Stored</th><th title="Time of the last event sent (UTC)">Last event</th></tr></thead>{{end}}
{{define "queue"}}
      <tr class="queue{{if not .Active}} idle{{end}}" data-queue="{{.Name}}">
        <td class="name">{{.Name}}</td>
        <td><span class="badge t-{{.Type}}">{{.Type}}</span></td>
        <td class="storage">{{if .Persisted}}disk{{else}}memory{{end}}</td>
        <td class="n watchers">{{num .Watchers}}</td>
        <td class="n events">{{num .Events}}</td>
        <td class="n delivered">{{num .Delivered}}</td>
        <td class="n backlog{{if .Backlog}} warn{{end}}">{{num .Backlog}}</td>
        <td class="n dropped{{if .Dropped}} bad{{end}}">{{num .Dropped}}</td>
        <td class="n stored">{{num .Stored}}</td>
        <td class="last">{{with .LastEvent}}<time datetime="{{iso .}}">{{clock . $.Now}}</time> <span class="ago">{{ago . $.Now}}</span>{{else}}<span class="none">never</span>{{end}}</td>
      </tr>
      {{- if .WatcherList}}
      <tr class="watcher-row"><td colspan="10"><ul class="watchers">
        {{- range .WatcherList}}
        <li class="watcher"><code class="query">{{.Query}}</code> <span class="meta">backlog <b class="{{if .Backlog}}warn{{end}}">{{num .Backlog}}</b> · next #{{num .Next}} · since <time datetime="{{iso .Since}}">{{clock .Since $.Now}}</time> ({{ago .Since $.Now}})</span></li>
        {{- end}}
      </ul></td></tr>
      {{- end}}
      {{- if .Consumers}}
      <tr class="consumer-row"><td colspan="10"><ul class="consumers">
        {{- range .Consumers}}
        <li class="consumer">consumer <b class="consumer-name">{{.Name}}</b> <span class="meta">of {{.Owner}} · at #{{num .Position}} · lag <b class="{{if .Lag}}warn{{end}}">{{num .Lag}}</b>{{if .Skipped}} · <b class="bad">{{num .Skipped}} expired unread</b>{{end}} · last ack {{with .LastAck}}<time datetime="{{iso .}}">{{clock . $.Now}}</time> ({{ago . $.Now}}){{else}}none since start{{end}}{{with .Forwarder}} · forwarder <b class="forwarder">{{.Sink}}</b>: {{num .Forwarded}} forwarded · {{num .Retries}} retries · <b class="{{if .DeadLetters}}bad{{end}}">{{num .DeadLetters}} dead letters</b>{{if .LastError}} · last error <span class="last-error">{{.LastError}}</span>{{end}}{{end}}</span></li>
        {{- end}}
      </ul></td></tr>
      {{- end}}
{{- end}}
`

const debugStyle = `
:root {
  --bg: #f7f8fa; --fg: #1d2330; --muted: #6b7385; --line: #e2e5eb; --card: #fff;
  --head: #eef1f5; --warn: #a15c00; --warn-bg: #fff3dc; --bad: #b42318; --bad-bg: #fde8e6;
  --ok: #1f8a4c; --accent: #2557d6;
  --server: #2557d6; --client: #7a3fc4; --internal: #5d6678;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #14171c; --fg: #dde2ea; --muted: #8b93a3; --line: #2a3039; --card: #1b1f26;
    --head: #222832; --warn: #f0b45a; --warn-bg: #3a2c12; --bad: #f3877c; --bad-bg: #3d1b18;
    --ok: #4cc47f; --accent: #7fa2ff; --server: #7fa2ff; --client: #b98cf0; --internal: #9aa3b3;
  }
}
* { box-sizing: border-box; }
body { margin: 0; padding: 20px 28px 40px; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header { display: flex; align-items: baseline; gap: 18px; flex-wrap: wrap; margin-bottom: 8px; }
h1 { font-size: 22px; margin: 0; font-weight: 650; }
#status { margin: 0; color: var(--muted); }
#status .dot { display: inline-block; width: 9px; height: 9px; border-radius: 50%; background: var(--ok); vertical-align: 1px; }
#status.stale .dot { background: var(--bad); }
#status.stale #status-text { color: var(--bad); }
#status.off .dot { background: var(--muted); }
.note { background: var(--warn-bg); color: var(--warn); padding: 8px 12px; border-radius: 6px; }
section.org { background: var(--card); border: 1px solid var(--line); border-radius: 10px; margin: 18px 0; padding: 14px 16px 10px; overflow-x: auto; }
h2 { font-size: 16px; margin: 0 0 10px; font-weight: 600; }
h2 .org-name { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
h2 .summary { font-weight: 400; color: var(--muted); font-size: 13px; margin-left: 8px; }
table { width: 100%; min-width: 900px; border-collapse: collapse; table-layout: fixed; }
col.c-name { width: 24%; } col.c-type { width: 10%; } col.c-storage { width: 8%; }
col.c-num { width: 7.5%; } col.c-last { width: 13%; }
th { text-align: left; font-size: 12px; font-weight: 600; color: var(--muted); background: var(--head);
  padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: bottom; }
td { padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: middle; }
td.last { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.n { text-align: right; font-variant-numeric: tabular-nums; }
td.name { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; font-weight: 600; overflow-wrap: anywhere; }
.badge { display: inline-block; font-size: 11px; padding: 1px 7px; border-radius: 10px; border: 1px solid currentColor; white-space: nowrap; }
.t-server_event { color: var(--server); } .t-client_event { color: var(--client); } .t-internal { color: var(--internal); }
td.warn, b.warn { color: var(--warn); font-weight: 600; }
td.warn { background: var(--warn-bg); }
td.bad { color: var(--bad); background: var(--bad-bg); font-weight: 600; }
.ago, .none { color: var(--muted); font-size: 12px; }
tr.watcher-row td { padding: 0 8px 8px 28px; border-bottom: 1px solid var(--line); }
tr.queue:has(+ tr.watcher-row) td, tr.queue:has(+ tr.consumer-row) td, tr.watcher-row:has(+ tr.consumer-row) td { border-bottom: none; }
tr.consumer-row td { padding: 0 8px 8px 28px; border-bottom: 1px solid var(--line); }
ul.consumers { list-style: none; margin: 0; padding: 0; }
li.consumer { padding: 4px 10px; margin-top: 4px; border-left: 3px solid var(--client); background: var(--head); border-radius: 0 6px 6px 0; font-size: 13px; }
li.consumer .consumer-name { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
li.consumer .meta { color: var(--muted); font-size: 12px; margin-left: 6px; }
b.bad { color: var(--bad); }
ul.watchers { list-style: none; margin: 0; padding: 0; }
li.watcher { padding: 4px 10px; margin-top: 4px; border-left: 3px solid var(--accent); background: var(--head); border-radius: 0 6px 6px 0; }
li.watcher code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; white-space: pre-wrap; overflow-wrap: anywhere; }
li.watcher .meta { color: var(--muted); font-size: 12px; margin-left: 10px; white-space: nowrap; }
tr.empty td { color: var(--muted); font-style: italic; }
details.idle { margin-top: 10px; }
details.idle summary { cursor: pointer; color: var(--muted); padding: 4px 0; user-select: none; }
details.idle summary .hint { font-size: 12px; margin-left: 6px; opacity: .8; }
details.idle table { margin-top: 6px; }
tr.idle td { color: var(--muted); }
tr.idle td.name { font-weight: 400; }
tr.idle .badge { opacity: .75; }
footer { color: var(--muted); font-size: 12px; margin-top: 18px; }
p.viewer { margin: 0; color: var(--muted); display: flex; gap: 8px; align-items: baseline; }
p.viewer b { color: var(--fg); font-weight: 600; }
form.logout { display: inline; margin: 0; }
button { font: inherit; font-size: 13px; padding: 3px 12px; border-radius: 6px; border: 1px solid var(--line);
  background: var(--card); color: var(--fg); cursor: pointer; }
button:hover { border-color: var(--accent); }
form.login { background: var(--card); border: 1px solid var(--line); border-radius: 10px; margin: 18px 0; padding: 16px 18px;
  max-width: 460px; display: grid; gap: 8px; }
form.login p { margin: 0; }
form.login input { font: 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; padding: 6px 8px;
  border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); }
form.login button { justify-self: start; }
p.error { background: var(--bad-bg); color: var(--bad); padding: 8px 12px; border-radius: 6px; }
a { color: var(--accent); }
`

// debugScript refreshes the page from queues.json every 2 s. It builds the
// markup of debugHTML with DOM calls (text goes in as text, never as HTML).
const debugScript = `
(function () {
  'use strict';
  var PERIOD = 2000;
  var main = document.getElementById('orgs');
  var status = document.getElementById('status');
  var statusText = document.getElementById('status-text');
  var lastGood = null;

  function el(tag, attrs) {
    var e = document.createElement(tag);
    if (attrs) {
      for (var k in attrs) {
        if (attrs[k] !== null && attrs[k] !== undefined) { e.setAttribute(k, attrs[k]); }
      }
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined) { continue; }
      e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return e;
  }
  function num(n) {
    var s = String(Math.trunc(Math.abs(n))), out = '';
    while (s.length > 3) { out = ',' + s.slice(-3) + out; s = s.slice(0, -3); }
    return (n < 0 ? '-' : '') + s + out;
  }
  function plural(n, word) { return n === 1 ? '1 ' + word : num(n) + ' ' + word + 's'; }
  function two(n) { return (n < 10 ? '0' : '') + n; }
  function day(d) { return d.getUTCFullYear() + '-' + two(d.getUTCMonth() + 1) + '-' + two(d.getUTCDate()); }
  function clock(iso, nowIso) {
    var t = new Date(iso), now = new Date(nowIso);
    var hms = two(t.getUTCHours()) + ':' + two(t.getUTCMinutes()) + ':' + two(t.getUTCSeconds());
    return day(t) === day(now) ? hms : day(t) + ' ' + hms;
  }
  function ago(iso, nowIso) {
    var s = Math.trunc((new Date(nowIso) - new Date(iso)) / 1000);
    if (s < 1) { return 'just now'; }
    if (s < 60) { return s + 's ago'; }
    if (s < 3600) { return Math.trunc(s / 60) + 'm ago'; }
    if (s < 48 * 3600) { return Math.trunc(s / 3600) + 'h ago'; }
    return Math.trunc(s / 86400) + 'd ago';
  }
  function time(iso, nowIso) { return el('time', { datetime: iso }, clock(iso, nowIso)); }

  var HEAD = [
    ['Queue', null, null], ['Type', null, null], ['Storage', null, null],
    ['Watchers', 'n', 'Running watchers'],
    ['Events in', 'n', 'Events sent since the server started'],
    ['Events out', 'n', 'Rows handed to watchers since the server started'],
    ['Backlog', 'n', 'Events the slowest watcher has still to read'],
    ['Dropped', 'n', 'Events lost by watchers too slow for a memory queue'],
    ['Stored', 'n', 'Events held by the store now'],
    ['Last event', null, 'Time of the last event sent (UTC)']
  ];
  function table(body) {
    var cols = el('colgroup', null, el('col', { 'class': 'c-name' }), el('col', { 'class': 'c-type' }),
      el('col', { 'class': 'c-storage' }), el('col', { span: '6', 'class': 'c-num' }), el('col', { 'class': 'c-last' }));
    var tr = el('tr');
    HEAD.forEach(function (h) { tr.appendChild(el('th', { 'class': h[1], title: h[2] }, h[0])); });
    return el('table', null, cols, el('thead', null, tr), body);
  }
  function numCell(cls, n, flag) {
    return el('td', { 'class': 'n ' + cls + (n ? flag : '') }, num(n));
  }
  function queueRows(q, now, body) {
    body.appendChild(el('tr', { 'class': 'queue' + (q.active ? '' : ' idle'), 'data-queue': q.name },
      el('td', { 'class': 'name' }, q.name),
      el('td', null, el('span', { 'class': 'badge t-' + q.type }, q.type)),
      el('td', { 'class': 'storage' }, q.persisted ? 'disk' : 'memory'),
      numCell('watchers', q.watchers, ''),
      numCell('events', q.events, ''),
      numCell('delivered', q.delivered, ''),
      numCell('backlog', q.backlog, ' warn'),
      numCell('dropped', q.dropped, ' bad'),
      numCell('stored', q.stored, ''),
      q.last_event
        ? el('td', { 'class': 'last' }, time(q.last_event, now), ' ', el('span', { 'class': 'ago' }, ago(q.last_event, now)))
        : el('td', { 'class': 'last' }, el('span', { 'class': 'none' }, 'never'))));
    if (q.watcher_list && q.watcher_list.length) {
      var ul = el('ul', { 'class': 'watchers' });
      q.watcher_list.forEach(function (w) {
        ul.appendChild(el('li', { 'class': 'watcher' },
          el('code', { 'class': 'query' }, w.query), ' ',
          el('span', { 'class': 'meta' }, 'backlog ', el('b', { 'class': w.backlog ? 'warn' : '' }, num(w.backlog)),
            ' · next #' + num(w.next) + ' · since ', time(w.since, now), ' (' + ago(w.since, now) + ')')));
      });
      body.appendChild(el('tr', { 'class': 'watcher-row' }, el('td', { colspan: '10' }, ul)));
    }
    if (q.consumers && q.consumers.length) {
      var cl = el('ul', { 'class': 'consumers' });
      q.consumers.forEach(function (c) {
        cl.appendChild(el('li', { 'class': 'consumer' }, 'consumer ', el('b', { 'class': 'consumer-name' }, c.name), ' ',
          el('span', { 'class': 'meta' }, 'of ' + c.owner + ' · at #' + num(c.position) + ' · lag ',
            el('b', { 'class': c.lag ? 'warn' : '' }, num(c.lag)),
            c.skipped ? ' · ' : null, c.skipped ? el('b', { 'class': 'bad' }, num(c.skipped) + ' expired unread') : null,
            ' · last ack ', c.last_ack ? time(c.last_ack, now) : 'none since start',
            c.last_ack ? ' (' + ago(c.last_ack, now) + ')' : null,
            c.forwarder ? ' · forwarder ' : null, c.forwarder ? el('b', { 'class': 'forwarder' }, c.forwarder.sink) : null,
            c.forwarder ? ': ' + num(c.forwarder.forwarded) + ' forwarded · ' + num(c.forwarder.retries) + ' retries · ' : null,
            c.forwarder ? el('b', { 'class': c.forwarder.dead_letters ? 'bad' : '' }, num(c.forwarder.dead_letters) + ' dead letters') : null,
            c.forwarder && c.forwarder.last_error ? ' · last error ' : null,
            c.forwarder && c.forwarder.last_error ? el('span', { 'class': 'last-error' }, c.forwarder.last_error) : null)));
      });
      body.appendChild(el('tr', { 'class': 'consumer-row' }, el('td', { colspan: '10' }, cl)));
    }
  }
  function orgSection(o, now, wasOpen) {
    var active = el('tbody'), idle = el('tbody'), nIdle = 0;
    o.queues.forEach(function (q) {
      if (q.active) { queueRows(q, now, active); } else { nIdle++; queueRows(q, now, idle); }
    });
    if (!o.active) {
      active.appendChild(el('tr', { 'class': 'empty' },
        el('td', { colspan: '10' }, 'No queue has had an event or a watcher since the server started.')));
    }
    var section = el('section', { 'class': 'org', 'data-org': o.org },
      el('h2', null, 'Org ', el('span', { 'class': 'org-name' }, o.org), ' ',
        el('span', { 'class': 'summary' }, plural(o.queues.length, 'queue') + ' · ' + num(o.active) + ' active · ' +
          plural(o.watchers, 'watcher') + ' · ' + plural(o.events, 'event') + ' in')),
      table(active));
    if (nIdle) {
      var details = el('details', { 'class': 'idle' },
        el('summary', null, plural(nIdle, 'idle queue') + ' ',
          el('span', { 'class': 'hint' }, 'no events since the server started, no watchers')),
        table(idle));
      details.open = !!wasOpen;
      section.appendChild(details);
    }
    return section;
  }
  function render(page) {
    var open = {};
    main.querySelectorAll('section.org').forEach(function (s) {
      var d = s.querySelector('details.idle');
      open[s.getAttribute('data-org')] = !!(d && d.open);
    });
    var frag = document.createDocumentFragment();
    page.orgs.forEach(function (o) { frag.appendChild(orgSection(o, page.updated, open[o.org])); });
    main.replaceChildren(frag);
  }
  function setStatus(page, err) {
    if (page) { lastGood = page.updated; }
    status.className = err ? 'stale' : 'ok';
    var u = document.getElementById('updated');
    var stamp = lastGood || (u && u.getAttribute('datetime'));
    statusText.replaceChildren(
      err ? 'Update failed (' + err + '): showing data from ' : 'Updated ',
      el('time', { id: 'updated', datetime: stamp }, stamp ? clock(stamp, stamp) : '?'), ' UTC');
  }
  function refresh() {
    var again = true;
    fetch('queues.json', { cache: 'no-store', credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) {
        if (r.status === 401 || r.status === 403) {
          // The session ended: stop, and say how to go on.
          again = false;
          throw new Error('HTTP ' + r.status + ': the session has ended, reload the page to log in again');
        }
        if (!r.ok) { throw new Error('HTTP ' + r.status); }
        return r.json();
      })
      .then(function (page) { render(page); setStatus(page, null); },
        function (e) { setStatus(null, e && e.message ? e.message : String(e)); })
      .then(function () { if (again) { setTimeout(refresh, PERIOD); } });
  }
  setTimeout(refresh, PERIOD);
})();
`

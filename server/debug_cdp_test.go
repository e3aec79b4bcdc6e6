package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// debugTestBrowser is headless Chromium driven over the DevTools protocol
// on a pipe (--remote-debugging-pipe: the browser reads commands from its
// file descriptor 3 and writes answers to 4, each a JSON message ended by
// a NUL byte). No websocket and no client library: a command is
// {"id", "sessionId", "method", "params"} and its answer carries the same
// id. Events are not needed (the tests poll the page instead) and are
// dropped.
type debugTestBrowser struct {
	t        *testing.T
	cmd      *exec.Cmd
	cancel   context.CancelFunc
	toChrome *os.File
	stderr   bytes.Buffer
	session  string

	mu      sync.Mutex
	nextID  int
	pending map[int]chan debugTestCDPAnswer
	done    chan struct{} // closed when the browser's pipe closes
}

type debugTestCDPAnswer struct {
	ID     int             `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// debugTestStartBrowser starts Chromium with one page (a tab) attached. It
// ends with the test.
func debugTestStartBrowser(t *testing.T, bin string) *debugTestBrowser {
	t.Helper()
	cmdR, cmdW, err := os.Pipe() // commands: we write, the browser reads (its fd 3)
	if err != nil {
		t.Fatal(err)
	}
	ansR, ansW, err := os.Pipe() // answers: the browser writes (its fd 4), we read
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	b := &debugTestBrowser{t: t, cancel: cancel, toChrome: cmdW, pending: map[int]chan debugTestCDPAnswer{}, done: make(chan struct{})}
	b.cmd = exec.CommandContext(ctx, bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--hide-scrollbars", "--user-data-dir="+t.TempDir(),
		"--remote-debugging-pipe", "about:blank")
	b.cmd.ExtraFiles = []*os.File{cmdR, ansW}
	b.cmd.Stderr = &b.stderr
	if err := b.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("chromium: %v", err)
	}
	cmdR.Close()
	ansW.Close()
	go b.read(ansR)
	t.Cleanup(b.close)

	var target struct {
		TargetID string `json:"targetId"`
	}
	b.call("", "Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	b.call("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached)
	b.session = attached.SessionID
	b.call(b.session, "Page.enable", nil, nil)
	return b
}

// read hands each answer to the command waiting for it.
func (b *debugTestBrowser) read(r *os.File) {
	defer close(b.done)
	defer r.Close()
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		msg, err := br.ReadBytes(0)
		if err != nil {
			return
		}
		var a debugTestCDPAnswer
		if json.Unmarshal(msg[:len(msg)-1], &a) != nil || a.ID == 0 {
			continue // an event
		}
		b.mu.Lock()
		ch := b.pending[a.ID]
		delete(b.pending, a.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- a
		}
	}
}

// call sends a command (to the browser, or to the page's session) and
// decodes its result into out.
func (b *debugTestBrowser) call(session, method string, params any, out any) {
	b.t.Helper()
	if err := b.try(session, method, params, out); err != nil {
		b.t.Fatalf("%s: %v\n%s", method, err, b.stderr.String())
	}
}

func (b *debugTestBrowser) try(session, method string, params any, out any) error {
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan debugTestCDPAnswer, 1)
	b.pending[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if session != "" {
		msg["sessionId"] = session
	}
	if params != nil {
		msg["params"] = params
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if _, err := b.toChrome.Write(append(data, 0)); err != nil {
		return err
	}
	select {
	case a := <-ch:
		if a.Error != nil {
			return fmt.Errorf("%s (%d)", a.Error.Message, a.Error.Code)
		}
		if out != nil {
			return json.Unmarshal(a.Result, out)
		}
		return nil
	case <-b.done:
		return fmt.Errorf("the browser went away")
	case <-time.After(60 * time.Second):
		return fmt.Errorf("no answer in 60 s")
	}
}

func (b *debugTestBrowser) close() {
	_ = b.try("", "Browser.close", nil, nil)
	b.toChrome.Close()
	done := make(chan struct{})
	go func() { _ = b.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		b.cancel()
		<-done
	}
	b.cancel()
}

// eval runs JavaScript in the page (DevTools' evaluation, which the page's
// Content-Security-Policy does not restrict) and returns its value.
func (b *debugTestBrowser) eval(expr string, out any) {
	b.t.Helper()
	if err := b.tryEval(expr, out); err != nil {
		b.t.Fatalf("%s: %v", expr, err)
	}
}

func (b *debugTestBrowser) tryEval(expr string, out any) error {
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := b.try(b.session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &r); err != nil {
		return err
	}
	if r.ExceptionDetails != nil {
		return fmt.Errorf("%s %s", r.ExceptionDetails.Text, r.ExceptionDetails.Exception.Description)
	}
	if out != nil {
		if err := json.Unmarshal(r.Result.Value, out); err != nil {
			return fmt.Errorf("%v (%s)", err, r.Result.Value)
		}
	}
	return nil
}

// waitFor polls a JavaScript condition until it is true. Errors while a
// new page replaces the old one count as not yet.
func (b *debugTestBrowser) waitFor(what, cond string, timeout time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var ok bool
		err := b.tryEval("!!("+cond+")", &ok)
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("waiting for %s: %s never held (%v); the page is\n%.3000s", what, cond, err, b.dom())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// navigate opens a URL and waits until it has loaded.
func (b *debugTestBrowser) navigate(url string) {
	b.t.Helper()
	var r struct {
		ErrorText string `json:"errorText"`
	}
	b.call(b.session, "Page.navigate", map[string]any{"url": url}, &r)
	if r.ErrorText != "" {
		b.t.Fatalf("navigate %s: %s", url, r.ErrorText)
	}
	b.waitFor("the page to load", fmt.Sprintf("location.href === %q && document.readyState === 'complete'", url), 30*time.Second)
}

// dom is the document as the browser has it now (what --dump-dom prints).
func (b *debugTestBrowser) dom() string {
	b.t.Helper()
	var doc struct {
		Root struct {
			NodeID int `json:"nodeId"`
		} `json:"root"`
	}
	b.call(b.session, "DOM.getDocument", map[string]any{"depth": 0}, &doc)
	var html struct {
		OuterHTML string `json:"outerHTML"`
	}
	b.call(b.session, "DOM.getOuterHTML", map[string]any{"nodeId": doc.Root.NodeID}, &html)
	return html.OuterHTML
}

// screenshot takes a PNG of the page at a window size.
func (b *debugTestBrowser) screenshot(width, height int) []byte {
	b.t.Helper()
	b.call(b.session, "Emulation.setDeviceMetricsOverride", map[string]any{"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}, nil)
	var shot struct {
		Data string `json:"data"`
	}
	b.call(b.session, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot)
	data, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		b.t.Fatal(err)
	}
	return data
}

// jsString quotes s for JavaScript.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return strings.ReplaceAll(string(b), "</", "<\\/")
}

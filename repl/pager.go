package repl

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/vqlq/vqlq/output"
)

// defaultPager is what psql and git use when $PAGER is not set: -S keeps
// a wide table's lines whole (scroll sideways) instead of folding them.
const defaultPager = "less -S"

// pagedWriter shows one statement's output through a pager when it is
// longer than the screen, as psql does. The output is held back until it
// either outgrows the screen (then the pager starts and gets the rest as
// it comes) or the statement pauses or ends first (then it is printed as
// it is, and an event query goes on printing its events directly): a
// watch that shows a few events at a time never disappears into a pager.
type pagedWriter struct {
	output.Writer // writes into the pagedWriter's sink

	screen  io.Writer // the terminal
	command string    // run by sh -c
	height  int

	held  bytes.Buffer
	lines int
	state pagerState
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

type pagerState int

const (
	holding pagerState = iota
	direct
	paging
)

// newPagedWriter makes the writer for format that pages into command.
func newPagedWriter(format string, opts output.Options, screen io.Writer, command string, height int) (*pagedWriter, error) {
	p := &pagedWriter{screen: screen, command: command, height: height}
	w, err := output.New(format, (*pagerSink)(p), opts)
	if err != nil {
		return nil, err
	}
	p.Writer = w
	return p, nil
}

// pagerSink is the io.Writer face of a pagedWriter, kept apart so that
// pagedWriter's own methods are those of output.Writer.
type pagerSink pagedWriter

func (s *pagerSink) Write(b []byte) (int, error) {
	p := (*pagedWriter)(s)
	switch p.state {
	case direct:
		return p.screen.Write(b)
	case paging:
		return p.stdin.Write(b)
	}
	p.held.Write(b)
	p.lines += bytes.Count(b, []byte{'\n'})
	if p.lines < p.height {
		return len(b), nil
	}
	if err := p.startPager(); err != nil {
		p.state = direct // no pager to be had: print, as without one
		_, werr := p.screen.Write(p.held.Bytes())
		p.held.Reset()
		return len(b), werr
	}
	_, err := p.stdin.Write(p.held.Bytes())
	p.held.Reset()
	return len(b), err
}

func (p *pagedWriter) startPager() error {
	// A pager that is not installed would swallow the output: look for it
	// first, and print directly without it.
	fields := strings.Fields(p.command)
	if len(fields) == 0 {
		return errors.New("no pager")
	}
	if _, err := exec.LookPath(fields[0]); err != nil {
		return err
	}
	cmd := exec.Command("sh", "-c", p.command)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	p.cmd, p.stdin, p.state = cmd, stdin, paging
	return nil
}

// release prints what is held and sends the rest of the statement
// straight to the screen.
func (p *pagedWriter) release() error {
	if p.state != holding {
		return nil
	}
	p.state = direct
	_, err := p.screen.Write(p.held.Bytes())
	p.held.Reset()
	return err
}

// Flush is called when rows pause: output that did not fill the screen by
// then is printed as it comes. Before the first row there is nothing to
// decide yet.
func (p *pagedWriter) Flush() error {
	if err := p.Writer.Flush(); err != nil {
		return err
	}
	if p.held.Len() == 0 {
		return nil
	}
	return p.release()
}

// End finishes the statement and, if a pager runs, waits until the user
// leaves it.
func (p *pagedWriter) End() error {
	if err := p.Writer.End(); err != nil {
		return err
	}
	return p.release()
}

// close waits for the pager, once the statement is over (or was stopped).
func (p *pagedWriter) close() {
	if p.state == paging {
		p.stdin.Close()
		_ = p.cmd.Wait()
		p.state = direct
	}
}

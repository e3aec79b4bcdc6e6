package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/ergochat/readline"
	"golang.org/x/term"

	"github.com/vqlq/vqlq/internal/private"
)

// HistoryFile is the name of the history file in the data folder.
const HistoryFile = "history"

// completer adapts Shell.Complete to readline.
type completer struct{ s *Shell }

func (c completer) Do(line []rune, pos int) ([][]rune, int) {
	text := string(line)
	bytePos := len(string(line[:pos]))
	cands, n := c.s.Complete(text, bytePos)
	out := make([][]rune, len(cands))
	for i, cand := range cands {
		out[i] = []rune(cand)
	}
	return out, n
}

// RunTerminal runs the prompt on the process's terminal until .quit or
// Ctrl-D. Ctrl-C cancels a running query (and only it); at the prompt it
// clears the line. It returns the exit status.
func RunTerminal(cfg Config) int {
	if cfg.Width == nil {
		cfg.Width = func() int { w, _ := terminalSize(); return w }
	}
	if cfg.Height == nil {
		cfg.Height = func() int { _, h := terminalSize(); return h }
	}
	s := New(cfg)
	defer s.Close()
	history := ""
	// The history lives in the data folder, which is private (see
	// internal/private): readline creates the file 0666 minus the umask.
	if err := private.Prepare(cfg.Flags.DataDir, cfg.Err); err == nil {
		history = filepath.Join(cfg.Flags.DataDir, HistoryFile)
	}
	rl, err := readline.NewFromConfig(&readline.Config{
		Prompt:                 s.Prompt(),
		HistoryFile:            history,
		HistoryLimit:           5000,
		DisableAutoSaveHistory: true,
		HistorySearchFold:      true,
		AutoComplete:           completer{s},
		Stdout:                 cfg.Out,
		Stderr:                 cfg.Err,
	})
	if err != nil {
		fmt.Fprintf(cfg.Err, "vqlq: %v\n", err)
		return 1
	}
	defer rl.Close()
	// The shell's own output goes through readline so the prompt is
	// redrawn correctly around it.
	s.out, s.errOut = rl.Stdout(), rl.Stderr()
	s.logs.W = s.errOut
	fmt.Fprintln(s.out, `vqlq — type VQL, or .help. Tab completes, Ctrl-C cancels, Ctrl-D exits.`)
	for !s.Done() {
		line, err := rl.ReadLine()
		if errors.Is(err, readline.ErrInterrupt) {
			s.Reset()
			rl.SetPrompt(s.Prompt())
			continue
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Fprintf(s.errOut, "vqlq: %v\n", err)
			return 1
		}
		if entry := feedInterruptibly(s, line); entry != "" {
			_ = rl.SaveToHistory(entry)
		}
		rl.SetPrompt(s.Prompt())
	}
	return 0
}

// terminalSize is stdout's size now (it changes when the window does);
// 0, 0 when stdout is not a terminal.
func terminalSize() (width, height int) {
	w, h, err := term.GetSize(int(os.Stdout.Fd()))
	if err != nil {
		return 0, 0
	}
	return w, h
}

// feedInterruptibly runs one line with Ctrl-C (SIGINT) bound to cancelling
// whatever statement it starts.
func feedInterruptibly(s *Shell, line string) string {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	defer signal.Stop(sig)
	go func() {
		select {
		case <-sig:
			cancel()
		case <-ctx.Done():
		}
	}()
	return s.Feed(ctx, line)
}

package cmd

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/k8sexec/k8sexec/report"
	"github.com/k8sexec/k8sexec/scan"
)

// progress draws one status line on stderr while a scan runs: bytes and
// events done, speed, the current file, and percent and ETA when the total
// size is known. It redraws at most five times a second and erases itself
// when the scan ends, so it never mixes with the report.
type progress struct {
	w     io.Writer
	total int64 // raw bytes of all inputs, 0 when unknown (stdin)
	start time.Time
	// againStart is when the second pass began (only the drawing
	// goroutine reads and sets it).
	againStart time.Time
	last       atomic.Pointer[scan.Progress]
	stop       chan struct{}
	done       sync.WaitGroup
}

// progressWanted decides --progress auto: only when stderr is a terminal
// and we are not in CI.
func progressWanted(mode string, e *env, quiet bool) bool {
	switch {
	case quiet || mode == "never":
		return false
	case mode == "always":
		return true
	}
	if _, ci := os.LookupEnv("CI"); ci {
		return false
	}
	return e.stderrTTY
}

func startProgress(w io.Writer, inputs []scan.Input) *progress {
	p := &progress{w: w, start: time.Now(), stop: make(chan struct{})}
	for _, in := range inputs {
		if in.Name == scan.Stdin {
			p.total = 0
			break
		}
		if st, err := os.Stat(in.Name); err == nil {
			p.total += st.Size()
		}
	}
	p.done.Add(1)
	go p.loop()
	return p
}

// update is the engine's Progress callback.
func (p *progress) update(s scan.Progress) { p.last.Store(&s) }

func (p *progress) loop() {
	defer p.done.Done()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			fmt.Fprint(p.w, "\r\x1b[K")
			return
		case <-tick.C:
			if s := p.last.Load(); s != nil {
				fmt.Fprint(p.w, "\r\x1b[K"+p.line(*s))
			}
		}
	}
}

func (p *progress) line(s scan.Progress) string {
	if s.Again {
		// The second pass, for session context: its own bytes and speed,
		// no percentage (it reads only some inputs).
		if p.againStart.IsZero() {
			p.againStart = time.Now()
		}
		rate := 0.0
		if elapsed := time.Since(p.againStart).Seconds(); elapsed > 0 {
			rate = float64(s.RawBytes) / elapsed
		}
		return fmt.Sprintf("k8sexec: reading process events again for the sessions of exec requests: %s, %s/s  %s",
			report.HumanBytes(s.RawBytes), report.HumanBytes(int64(rate)), shortName(s.Input))
	}
	elapsed := time.Since(p.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(s.RawBytes) / elapsed
	}
	line := fmt.Sprintf("k8sexec: %s", report.HumanBytes(s.RawBytes))
	if p.total > 0 {
		pct := 100 * float64(s.RawBytes) / float64(p.total)
		line += fmt.Sprintf(" of %s (%.0f%%)", report.HumanBytes(p.total), pct)
	}
	line += fmt.Sprintf(", %s/s, %d events, %d matched", report.HumanBytes(int64(rate)), s.Events, s.Matches)
	if p.total > 0 && rate > 0 && s.RawBytes < p.total {
		eta := time.Duration(float64(p.total-s.RawBytes) / rate * float64(time.Second))
		line += ", ETA " + eta.Round(time.Second).String()
	}
	return line + "  " + shortName(s.Input)
}

// shortName is an input's name for the status line: cleaned of control
// characters, and its last 40 bytes at most.
func shortName(input string) string {
	name := report.Clean(input)
	if len(name) > 40 {
		name = "..." + name[len(name)-37:]
	}
	return name
}

func (p *progress) finish() {
	close(p.stop)
	p.done.Wait()
}

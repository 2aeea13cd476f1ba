// Command gen writes a deterministic benchmark corpus for k8sexec: raw
// Kubernetes audit logs, their Elastic (ECS) form, or Defend for Containers
// process events, with true findings and decoys at a chosen density.
//
//	go run ./internal/corpus/gen -size 1GiB -shape audit -seed 1 -o audit.log
//	go run ./internal/corpus/gen -size 256MiB -shape process -layout all -every 100 -gzip -o proc.ndjson.gz
//
// It prints one line to stderr:
//
//	wrote FILE: N events, B bytes, F true findings (M matching lines)
//
// B counts the uncompressed bytes. -o - writes to standard output.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/k8sexec/k8sexec/internal/corpus"
	"github.com/klauspost/compress/gzip"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "corpus:", err)
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("corpus", flag.ContinueOnError)
	fs.SetOutput(stderr)
	size := fs.String("size", "64MiB", "approximate uncompressed size (bytes, or with a KiB, MiB, GiB, KB, MB or GB suffix)")
	shape := fs.String("shape", "audit", "audit, ecs or process")
	layout := fs.String("layout", "nested", "key layout of ecs and process documents: nested, dotted, mixed or all")
	every := fs.Int("every", corpus.DefaultFindingEvery, "one true finding per this many events")
	seed := fs.Uint64("seed", 1, "random seed")
	escaped := fs.Bool("escaped", true, `audit: write & as \u0026 like kube-apiserver`)
	gz := fs.Bool("gzip", false, "gzip the output")
	out := fs.String("o", "", "output file, - for standard output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *out == "" {
		return errors.New("-o FILE is required (- for standard output)")
	}
	n, err := parseSize(*size)
	if err != nil {
		return err
	}
	cfg := corpus.Config{Shape: corpus.Shape(*shape), Layout: corpus.Layout(*layout), Size: n, Seed: *seed, FindingEvery: *every, Escaped: *escaped}
	// Check the flags before creating the file: an empty corpus validates
	// the Config and writes nothing.
	probe := cfg
	probe.Size = 0
	if _, err := corpus.Write(io.Discard, probe); err != nil {
		return err
	}

	var dst io.Writer = stdout
	var file *os.File
	if *out != "-" {
		if file, err = os.Create(*out); err != nil {
			return err
		}
		defer file.Close()
		dst = file
	}
	bw := bufio.NewWriterSize(dst, 1<<20)
	w := io.Writer(bw)
	var zw *gzip.Writer
	if *gz {
		zw = gzip.NewWriter(bw)
		w = zw
	}
	// Generate on this goroutine while another compresses and writes.
	aw := newAsyncWriter(w)
	st, err := corpus.Write(aw, cfg)
	if cerr := aw.Close(); cerr != nil {
		return cerr // *os.PathError, or gzip's; both say what failed
	}
	if err != nil {
		return err
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return fmt.Errorf("gzip %s: %w", *out, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	if file != nil {
		if err := file.Close(); err != nil {
			return fmt.Errorf("close %s: %w", *out, err)
		}
	}
	fmt.Fprintf(stderr, "wrote %s: %d events, %d bytes, %d true findings (%d matching lines)\n", *out, st.Events, st.Bytes, st.Findings, st.MatchingLines)
	return nil
}

// parseSize reads a byte count: 1000, 64KiB, 256MiB, 1GiB, 2TiB (binary),
// 10KB, 5MB, 1GB (decimal), or K, M, G (binary); case does not matter.
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   float64
	}{ // longest first, so that KIB is not read as ...B
		{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"TIB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40}, {"B", 1},
	}
	num, mult := strings.TrimSpace(s), 1.0
	upper := strings.ToUpper(num)
	for _, u := range units {
		if strings.HasSuffix(upper, u.suffix) {
			num, mult = strings.TrimSpace(num[:len(num)-len(u.suffix)]), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 || f*mult > math.MaxInt64 {
		return 0, fmt.Errorf("size %q: want a number of bytes, optionally with a KiB, MiB, GiB, KB, MB or GB suffix", s)
	}
	return int64(f * mult), nil
}

// asyncWriter hands copies of the chunks written to it to a goroutine that
// writes them to w in order, so that generating and writing (or
// compressing) overlap.
type asyncWriter struct {
	chunks chan []byte
	free   chan []byte
	done   chan error
	failed atomic.Bool // the writer goroutine hit an error: stop generating
}

func newAsyncWriter(w io.Writer) *asyncWriter {
	const depth = 4
	a := &asyncWriter{chunks: make(chan []byte, depth), free: make(chan []byte, depth+1), done: make(chan error, 1)}
	go func() {
		var err error
		for chunk := range a.chunks {
			if err == nil {
				if _, err = w.Write(chunk); err != nil {
					a.failed.Store(true)
				}
			}
			select {
			case a.free <- chunk[:0]:
			default: // enough spare buffers already
			}
		}
		a.done <- err
	}()
	return a
}

func (a *asyncWriter) Write(p []byte) (int, error) {
	if a.failed.Load() {
		return 0, errors.New("output failed") // Close reports the cause
	}
	var buf []byte
	select {
	case buf = <-a.free:
	default:
	}
	a.chunks <- append(buf, p...)
	return len(p), nil
}

// Close waits for the pending chunks and returns the first write error.
func (a *asyncWriter) Close() error {
	close(a.chunks)
	return <-a.done
}

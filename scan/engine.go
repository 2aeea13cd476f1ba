package scan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/k8sexec/k8sexec/rules"
)

// Defaults for Options.
const (
	DefaultChunkSize   = 4 << 20
	DefaultMaxLineSize = 16 << 20
	// DefaultMaxProblems bounds how many malformed-line locations a Result
	// keeps; the counts are always complete.
	DefaultMaxProblems = 20
)

// Selector is a query whose matching events the caller wants back as
// context, without making them findings (for example every stage of an
// exec request, to list stages and measure session length).
type Selector struct {
	Name string
	Expr rules.Expr
}

// Options configure a scan.
type Options struct {
	Rules     []*rules.Rule
	Selectors []Selector
	Stdin     io.Reader // read for the input "-"

	Workers     int // 0: one per CPU
	ChunkSize   int // 0: DefaultChunkSize
	MaxLineSize int // 0: DefaultMaxLineSize
	MaxProblems int // 0: DefaultMaxProblems

	// NoPrefilter parses every line, for tests that prove the prefilter
	// never changes a result.
	NoPrefilter bool

	// Progress, if set, is called from one goroutine after each chunk.
	Progress func(Progress)
}

// Progress is a snapshot of a running scan.
type Progress struct {
	Input      string
	InputIndex int
	RawBytes   int64 // bytes read from disk or stdin so far, all inputs
	Bytes      int64 // decompressed bytes scanned so far
	Events     int64
	Matches    int64
}

// Event is a line that matched a rule or a selector.
type Event struct {
	Input  int   // index into Result.Inputs
	Line   int64 // 1-based line number in the decompressed stream
	Offset int64 // byte offset of the line in the decompressed stream
	Shape  Shape
	Raw    []byte // the line as read, without the line ending
	Doc    rules.Document
	// Rules holds the indices (into Options.Rules) of the rules the event
	// matched; Selectors the indices of the selectors.
	Rules     []int
	Selectors []int
}

// Problem locates a line that could not be evaluated.
type Problem struct {
	Input  int
	Line   int64
	Offset int64
	Reason string
}

// InputStats describes what was read from one input.
type InputStats struct {
	Name        string
	Compression string // "", "gzip" or "zstd"
	RawBytes    int64  // bytes read from the file (compressed size)
	Bytes       int64  // decompressed bytes
	Lines       int64
	Blank       int64
	Events      int64 // lines holding a JSON object
	Parsed      int64 // events parsed (the rest were ruled out by the prefilter)
	Malformed   int64 // non-blank lines that are not a valid JSON object
	Overlong    int64 // lines longer than the limit, skipped
	Shapes      map[Shape]int64
	// Err is set when the input could not be read completely; everything
	// read before the error was scanned.
	Err error
}

// Incomplete reports whether the input was not read to its end.
func (s *InputStats) Incomplete() bool { return s.Err != nil }

// Result is everything a scan found, in input order.
type Result struct {
	Inputs      []InputStats
	Events      []Event
	Problems    []Problem // the first MaxProblems, in input order
	Interrupted bool
}

// ReadError locates a failure to read an input.
type ReadError struct {
	Input     string
	RawOffset int64 // compressed offset reached (equals Offset for plain input)
	Offset    int64 // decompressed bytes read before the failure
	Line      int64 // lines read before the failure
	Err       error
}

func (e *ReadError) Error() string {
	where := fmt.Sprintf("after %d bytes (line %d)", e.Offset, e.Line)
	if e.RawOffset != e.Offset {
		where = fmt.Sprintf("at compressed byte %d, after %d decompressed bytes (line %d)", e.RawOffset, e.Offset, e.Line)
	}
	return fmt.Sprintf("%s: read failed %s: %v", e.Input, where, e.Err)
}

func (e *ReadError) Unwrap() error { return e.Err }

// chunk is a line-aligned piece of one input.
type chunk struct {
	seq    int
	input  int
	offset int64 // decompressed offset of data[0]
	data   []byte
	buf    *[]byte // pooled buffer backing data, or nil
	rawPos int64   // raw (compressed) bytes consumed when the chunk was cut
	// overlong marks a single line longer than MaxLineSize that was
	// skipped; skipped is its length, newline included.
	overlong bool
	skipped  int64
	// end marks the end of an input: rawBytes, compression and err describe it.
	end         bool
	rawBytes    int64
	compression string
	err         error
}

type chunkResult struct {
	c         *chunk
	lines     int64
	blank     int64
	events    int64
	parsed    int64
	malformed int64
	shapes    map[Shape]int64
	hits      []Event // Line holds the 0-based line index within the chunk
	problems  []Problem
}

// Scan reads every input and evaluates the rules on every line. Inputs that
// cannot be opened or read to the end are reported in their InputStats;
// Scan itself fails only on invalid options or rules. When ctx is cancelled
// the scan stops and returns what it has, with Interrupted set.
func Scan(ctx context.Context, inputs []Input, opts Options) (*Result, error) {
	plan, err := newPlan(opts)
	if err != nil {
		return nil, err
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = DefaultChunkSize
	}
	if opts.MaxLineSize <= 0 {
		opts.MaxLineSize = DefaultMaxLineSize
	}
	// Only a line that does not fit a buffer is measured against the
	// limit, so no buffer may hold more than the longest line allowed
	// plus its newline.
	if opts.ChunkSize > opts.MaxLineSize+1 {
		opts.ChunkSize = opts.MaxLineSize + 1
	}
	if opts.MaxProblems <= 0 {
		opts.MaxProblems = DefaultMaxProblems
	}

	res := &Result{Inputs: make([]InputStats, len(inputs))}
	for i, in := range inputs {
		res.Inputs[i] = InputStats{Name: in.Name, Shapes: map[Shape]int64{}}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	pool := &sync.Pool{New: func() any {
		b := make([]byte, opts.ChunkSize)
		return &b
	}}
	work := make(chan *chunk, opts.Workers*2)
	results := make(chan chunkResult, opts.Workers*2)

	go produce(ctx, inputs, opts, pool, work)

	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := newWorker(plan)
			for c := range work {
				results <- w.process(c)
			}
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()

	col := collector{res: res, opts: &opts, pool: pool, pending: map[int]chunkResult{}, lines: make([]int64, len(inputs))}
	for r := range results {
		col.add(r)
	}
	res.Interrupted = ctx.Err() != nil
	return res, nil
}

// collector puts chunk results back in sequence order and folds them into
// the Result.
type collector struct {
	res     *Result
	opts    *Options
	pool    *sync.Pool
	pending map[int]chunkResult
	next    int
	lines   []int64 // lines seen so far per input
	matches int64
	raw     int64 // raw bytes of finished inputs
	rawDone int64 // raw bytes of the current input so far
	bytes   int64
	events  int64
	ended   int
}

func (c *collector) add(r chunkResult) {
	c.pending[r.c.seq] = r
	for {
		r, ok := c.pending[c.next]
		if !ok {
			return
		}
		delete(c.pending, c.next)
		c.next++
		c.fold(r)
	}
}

func (c *collector) fold(r chunkResult) {
	ch := r.c
	st := &c.res.Inputs[ch.input]
	base := c.lines[ch.input]
	if ch.end {
		st.RawBytes = ch.rawBytes
		st.Compression = ch.compression
		if ch.err != nil {
			var re *ReadError
			if errors.As(ch.err, &re) {
				re.Line = base
			}
			st.Err = ch.err
		}
		c.raw += ch.rawBytes
		c.rawDone = 0
		c.report(ch.input)
		return
	}
	if ch.overlong {
		st.Bytes += ch.skipped
		c.bytes += ch.skipped
		st.Lines++
		st.Overlong++
		c.lines[ch.input]++
		c.problem(Problem{Input: ch.input, Line: base + 1, Offset: ch.offset,
			Reason: fmt.Sprintf("line longer than %d bytes, skipped", c.opts.MaxLineSize)})
		return
	}
	st.Bytes += int64(len(ch.data))
	st.Lines += r.lines
	st.Blank += r.blank
	st.Events += r.events
	st.Parsed += r.parsed
	st.Malformed += r.malformed
	for k, v := range r.shapes {
		st.Shapes[k] += v
	}
	for _, p := range r.problems {
		p.Input = ch.input
		p.Line += base
		c.problem(p)
	}
	for _, h := range r.hits {
		h.Line += base
		c.res.Events = append(c.res.Events, h)
		c.matches++
	}
	c.lines[ch.input] += r.lines
	c.rawDone = ch.rawPos
	c.bytes += int64(len(ch.data))
	c.events += r.events
	if ch.buf != nil && cap(*ch.buf) == c.opts.ChunkSize {
		c.pool.Put(ch.buf)
	}
	c.report(ch.input)
}

func (c *collector) problem(p Problem) {
	if len(c.res.Problems) < c.opts.MaxProblems {
		c.res.Problems = append(c.res.Problems, p)
	}
}

func (c *collector) report(input int) {
	if c.opts.Progress == nil {
		return
	}
	c.opts.Progress(Progress{
		Input:      c.res.Inputs[input].Name,
		InputIndex: input,
		RawBytes:   c.raw + c.rawDone,
		Bytes:      c.bytes,
		Events:     c.events,
		Matches:    c.matches,
	})
}

// produce reads the inputs one after the other and cuts them into
// line-aligned chunks. It is the only goroutine doing I/O and decompression.
func produce(ctx context.Context, inputs []Input, opts Options, pool *sync.Pool, work chan<- *chunk) {
	defer close(work)
	seq := 0
	send := func(c *chunk) bool {
		c.seq = seq
		seq++
		select {
		case work <- c:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for i, in := range inputs {
		end := &chunk{input: i, end: true}
		s, err := open(in, opts.Stdin)
		if err != nil {
			end.err = fmt.Errorf("%s: %w", in.Name, err)
			if !send(end) {
				return
			}
			continue
		}
		end.compression = s.compression
		ok := readChunks(ctx, in.Name, i, s, opts, pool, send, end)
		end.rawBytes = s.raw.n
		s.close()
		if !ok || !send(end) {
			return
		}
	}
}

// readChunks cuts one stream into chunks that end at a newline. A line
// longer than a chunk grows the buffer up to MaxLineSize plus its newline;
// a line longer than that is skipped up to its newline and sent as an
// overlong marker.
// It reports false when the scan was cancelled.
func readChunks(ctx context.Context, name string, input int, s *stream, opts Options, pool *sync.Pool, send func(*chunk) bool, end *chunk) bool {
	var offset int64
	var carry []byte // start of a line continued in the next chunk
	for {
		if ctx.Err() != nil {
			return false
		}
		bufp := pool.Get().(*[]byte)
		if len(carry) > cap(*bufp) {
			// The carried line start came from a grown buffer and does
			// not fit a pooled one; copying it would drop its tail.
			pool.Put(bufp)
			bigger := make([]byte, len(carry))
			bufp = &bigger
		}
		buf := (*bufp)[:cap(*bufp)]
		n := copy(buf, carry)
		carry = nil
		var readErr error
		for {
			for n < len(buf) && readErr == nil {
				var m int
				m, readErr = s.Read(buf[n:])
				n += m
			}
			// A full buffer without a newline holds (the start of) a line
			// as long as the buffer, whether or not the reader reported
			// EOF with its last bytes (gzip does, plain files do not).
			if readErr != nil && n < len(buf) || bytes.LastIndexByte(buf[:n], '\n') >= 0 {
				break
			}
			// A line bigger than the buffer: grow, or give up on the line
			// once it is longer than MaxLineSize (the buffer's last byte
			// is room for the newline).
			if len(buf) > opts.MaxLineSize {
				offset = skipLine(s, buf[:n], offset, input, send)
				n = 0
				if offset < 0 {
					return false
				}
				continue
			}
			// Doubling plus one byte reaches MaxLineSize+1 without a last
			// one-byte step when the sizes are powers of two.
			bigger := make([]byte, min(2*len(buf)+1, opts.MaxLineSize+1))
			copy(bigger, buf[:n])
			pool.Put(bufp)
			bufp, buf = &bigger, bigger
		}
		data := buf[:n]
		if readErr == nil {
			cut := bytes.LastIndexByte(data, '\n') + 1
			carry = append([]byte(nil), data[cut:]...)
			data = data[:cut]
		}
		if len(data) > 0 {
			if !send(&chunk{input: input, offset: offset, data: data, buf: bufp, rawPos: s.raw.n}) {
				return false
			}
			offset += int64(len(data))
		} else {
			pool.Put(bufp)
		}
		if readErr != nil {
			if readErr != io.EOF {
				end.err = &ReadError{Input: name, RawOffset: s.raw.n, Offset: offset, Err: readErr}
			}
			return true
		}
	}
}

// skipLine discards the rest of an overlong line, sends its marker, and
// returns the offset after its newline (or -1 if the scan was cancelled).
// Memory stays at one buffer however long the line is.
func skipLine(s *stream, head []byte, offset int64, input int, send func(*chunk) bool) int64 {
	lineStart := offset
	offset += int64(len(head))
	scratch := head[:cap(head)]
	for {
		m, err := s.Read(scratch)
		if i := bytes.IndexByte(scratch[:m], '\n'); i >= 0 {
			offset += int64(i + 1)
			// Put the bytes after the newline back in front for the caller.
			s.Reader = io.MultiReader(bytes.NewReader(append([]byte(nil), scratch[i+1:m]...)), s.Reader)
			break
		}
		offset += int64(m)
		if err != nil {
			break
		}
	}
	if !send(&chunk{input: input, offset: lineStart, overlong: true, skipped: offset - lineStart}) {
		return -1
	}
	return offset
}

package scan

import (
	"bufio"
	"bytes"
	"io"
)

// LayoutCRI is a container log in the CRI format (container.go): an input
// whose first non-blank line is one. Its lines are read as the output they
// hold, and the pieces of a line the runtime split are joined again.
const LayoutCRI = "cri"

// LayoutDocker is a container log in Docker's json-file format
// (container.go): an input whose first non-blank line is one. Its lines
// are read as they are (shape docker-json-file), and the pieces of a line
// Docker split are joined again.
const LayoutDocker = "docker"

// criUnended and dockerUnended are why the pieces of a split line that the
// input never ends are not evaluated.
const (
	criUnended    = "a line the container runtime split (tag P) whose last piece (tag F) does not follow in the input: not evaluated"
	dockerUnended = "a line Docker split (longer than 16 KiB; its log value does not end in a newline) whose last piece does not follow in the input: not evaluated"
)

// containerSplitter cuts a container log into records. In the CRI format
// (LayoutCRI), a record is each line of output, its pieces joined (one
// after the other on their stream: the other stream's lines may come
// between them), placed at the first piece. Text
// output (the API server's own log lines) is a skipped record; a line in
// another form is a record of its own, read as a line; blank lines and
// empty output are no records. Records come out in the order of the lines
// they start on: those after a split line wait until its last piece has
// come. The runtime writes the pieces one after the other, at most a few
// lines of the other stream between them: a split line whose next piece
// does not start within the record limit (MaxLineSize) of its first is
// given up, so what waits stays within a few times the limit.
//
// In Docker's format (LayoutDocker, docker set) a line is a record as it
// stands, read as the lines layout reads one; the pieces of a split line
// are joined in the same way, their log values decoded, and the line
// they make is written again as Docker would have written it whole.
type containerSplitter struct {
	docker bool
	r      *bufio.Reader
	offset int64 // decompressed bytes read
	line   int64 // lines read, a last one without a newline too
	err    error // what ended the input (io.EOF at a clean end)
	buf    []byte
	// queue holds the records read and not handed out yet, in line
	// order; open are its split lines whose last piece has not come yet,
	// by stream (stdout, stderr).
	queue []*containerRecord
	open  [2]*containerRecord
}

type containerRecord struct {
	rec    record
	stderr bool // Docker's: the stream, to write the joined line with
	open   bool // a split line waiting for its next piece
	drop   bool // empty output: no record
	over   bool // longer than the limit: its bytes are not kept
}

func newCRISplitter(r io.Reader) *containerSplitter {
	return &containerSplitter{r: bufio.NewReaderSize(r, 64<<10)}
}

func newDockerSplitter(r io.Reader) *containerSplitter {
	s := newCRISplitter(r)
	s.docker = true
	return s
}

// lineOutput reads a line in the log's format: ok is false for a line in
// another form.
func (s *containerSplitter) lineOutput(line []byte) (criOutput, bool) {
	if s.docker {
		return dockerOutput(trimLine(line))
	}
	return criLine(s.unmarked(line))
}

func (s *containerSplitter) next(dst []byte, limit int) (record, bool) {
	for {
		for len(s.queue) > 0 && !s.queue[0].open {
			e := s.queue[0]
			s.queue[0] = nil
			s.queue = s.queue[1:]
			if e.drop {
				continue
			}
			rec := e.rec
			rec.data = append(dst[:0], e.rec.data...)
			return rec, true
		}
		line, start, over, ok := s.readLine(limit)
		if !ok {
			if len(s.queue) == 0 {
				return record{}, false
			}
			for i := range s.open {
				s.unended(i)
			}
			continue
		}
		if len(s.queue) == 0 {
			// Nothing waits (no split line is open): a line that is not a
			// piece is handed out as it is read, with no copy kept.
			if rec, done, ready := s.direct(dst, line, start, over); done {
				if ready {
					return rec, true
				}
				continue
			}
		}
		s.take(line, start, over, limit)
	}
}

// direct reads a line when nothing waits: done is false for a piece of a
// split line, which take files; ready is false when the line is no record.
func (s *containerSplitter) direct(dst, line []byte, start int64, over bool) (rec record, done, ready bool) {
	rec = record{line: s.line, offset: start}
	if over {
		rec.status = recordOverlong
		return rec, true, true
	}
	if s.docker {
		// The common line, whole, is read as it stands; a piece is
		// found without decoding the line.
		t := trimLine(line)
		if dockerPartial(t) {
			return rec, false, false
		}
		rec.data = append(dst[:0], line...)
		return rec, true, len(t) > 0
	}
	out, ok := criLine(s.unmarked(line))
	switch {
	case !ok:
		rec.data = append(dst[:0], line...)
		return rec, true, len(trimLine(line)) > 0
	case out.partial:
		return rec, false, false
	}
	rec.lead = offsetIn(line, out.content)
	switch output(out.content) {
	case outputNone:
		return rec, true, false
	case outputText:
		rec.skip = skipOutputText
	default:
		rec.data = append(dst[:0], out.content...)
	}
	return rec, true, true
}

// unmarked is a line without the byte order mark the first may start with.
func (s *containerSplitter) unmarked(line []byte) []byte {
	if s.line == 1 {
		return bytes.TrimPrefix(line, utf8BOM)
	}
	return line
}

// Kinds of output a line holds.
const (
	outputJSON = iota // or what starts like an object (textOutput)
	outputText
	outputNone // empty, or only what a line's ends are trimmed of
)

func output(content []byte) int {
	text := trimLine(content)
	switch {
	case len(text) == 0:
		return outputNone
	case textOutput(text):
		return outputText
	}
	return outputJSON
}

// readLine reads the next line, without its newline, keeping at most
// limit bytes of it; over reports a longer one. ok is false at the end.
func (s *containerSplitter) readLine(limit int) (line []byte, start int64, over, ok bool) {
	start = s.offset
	frag, err := s.r.ReadSlice('\n')
	s.offset += int64(len(frag))
	if err == nil {
		// The common line, whole in the reader's buffer: used there,
		// until the next read.
		s.line++
		line = frag[:len(frag)-1]
		return line, start, len(line) > limit, true
	}
	// A line longer than the buffer, or the last one.
	s.buf = append(s.buf[:0], frag...)
	for err == bufio.ErrBufferFull {
		frag, err = s.r.ReadSlice('\n')
		s.offset += int64(len(frag))
		if !over && len(s.buf)+len(frag) > limit+1 { // +1: the newline
			over, s.buf = true, s.buf[:0]
		}
		if !over {
			s.buf = append(s.buf, frag...)
		}
	}
	if err != nil {
		s.err = err
		if s.offset == start {
			return nil, start, false, false
		}
	}
	s.line++
	line = bytes.TrimSuffix(s.buf, []byte{'\n'})
	return line, start, over || len(line) > limit, true
}

// take files one line, read from start.
func (s *containerSplitter) take(line []byte, start int64, over bool, limit int) {
	for i, e := range s.open {
		if e != nil && start-e.rec.offset > int64(limit) {
			s.unended(i) // its next piece is overdue
		}
	}
	if over {
		// Too long to be read, whatever it holds.
		s.push(&containerRecord{rec: record{line: s.line, offset: start, status: recordOverlong}})
		return
	}
	// The runtime writes the line as it is: a piece ends where the
	// runtime cut it, spaces too, and the output's own ends are trimmed
	// as a line's are, once it is whole.
	out, ok := s.lineOutput(line)
	if ok && s.docker && !out.partial && s.open[b2i(out.stderr)] == nil {
		ok = false // a whole line, read as it stands
	}
	if !ok {
		// Read as a line; a blank one is no record.
		if len(trimLine(line)) > 0 {
			s.push(&containerRecord{rec: record{data: append([]byte(nil), line...), line: s.line, offset: start}})
		}
		return
	}
	stream := b2i(out.stderr)
	if e := s.open[stream]; e != nil {
		if !e.over && len(e.rec.data)+len(out.content) > limit {
			e.over, e.rec.data = true, nil
		}
		if !e.over {
			e.rec.data = append(e.rec.data, out.content...)
		}
		if !out.partial {
			s.open[stream] = nil
			s.end(e, limit)
		}
		return
	}
	// Placed as a line is, at its start; what a wrapper holds is placed
	// past the prefix, on the first piece (the others' prefixes are not
	// counted).
	e := &containerRecord{rec: record{data: append([]byte(nil), out.content...), line: s.line, offset: start}, stderr: out.stderr}
	if !s.docker {
		e.rec.lead = offsetIn(line, out.content)
	}
	if out.partial {
		e.open = true
		s.open[stream] = e
	} else {
		s.end(e, limit)
	}
	s.push(e)
}

func (s *containerSplitter) push(e *containerRecord) { s.queue = append(s.queue, e) }

// end makes a line of output, whole now, a record: text is skipped, empty
// output dropped. Docker's is the line Docker would have written, read as
// the others are.
func (s *containerSplitter) end(e *containerRecord, limit int) {
	e.open = false
	if !e.over && s.docker {
		e.rec.data = dockerJoined(e.rec.data, e.stderr)
		e.over = len(e.rec.data) > limit
	}
	if e.over {
		e.rec.status = recordOverlong
		e.rec.data = nil
		return
	}
	if s.docker {
		return
	}
	switch output(e.rec.data) {
	case outputNone:
		e.drop = true
	case outputText:
		e.rec.skip = skipOutputText
		e.rec.data = nil
	}
}

// unended gives up on joining the split line open on a stream: it is
// broken, naming the request it starts.
func (s *containerSplitter) unended(stream int) {
	e := s.open[stream]
	if e == nil {
		return
	}
	s.open[stream] = nil
	e.open = false
	if e.over {
		e.rec.status = recordOverlong
		return
	}
	cut, say := cutRequest(bytes.TrimSpace(e.rec.data))
	reason := criUnended
	if s.docker {
		reason = dockerUnended
	}
	e.rec.status, e.rec.reason, e.rec.cut = recordBroken, reason+say, cut
}

func (s *containerSplitter) lines() int64 { return s.line }

func (s *containerSplitter) consumed() int64 { return s.offset }

func (s *containerSplitter) readErr() error {
	if s.err == io.EOF {
		return nil
	}
	return s.err
}

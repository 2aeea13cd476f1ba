package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"runtime"
	"slices"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/k8sexec/k8sexec/triage"
)

// JSON writes one document: {"tool", "findings", "notes", "summary"},
// indented, byte for byte what encoding/json's indenting encoder writes
// for Result. The findings are encoded on every CPU, a batch at a time:
// with Elastic's rule set a scan can have tens of thousands, and one
// encoder indenting the whole document took longer than the scan.
type JSON struct{}

func (JSON) Write(w io.Writer, r *Result) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString("{\n  \"tool\": ")
	if err := encodeIndented(bw, r.Tool, "  "); err != nil {
		return err
	}
	bw.WriteString(",\n  \"findings\": ")
	if err := writeFindingArray(bw, r.Findings); err != nil {
		return err
	}
	if r.Suppressed != nil { // --show-suppressed, even when none were
		bw.WriteString(",\n  \"suppressed\": ")
		if err := writeFindingArray(bw, r.Suppressed); err != nil {
			return err
		}
	}
	if len(r.Notes) > 0 {
		bw.WriteString(",\n  \"notes\": ")
		if err := encodeIndented(bw, r.Notes, "  "); err != nil {
			return err
		}
	}
	bw.WriteString(",\n  \"summary\": ")
	if err := encodeIndented(bw, r.Summary, "  "); err != nil {
		return err
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}

// encodeIndented writes v indented by two spaces a level, its lines after
// the first starting with prefix, HTML characters as they are.
func encodeIndented(w io.Writer, v any, prefix string) error {
	var buf bytes.Buffer
	if err := appendIndented(&buf, v, prefix); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// appendIndented is encodeIndented into buf. It writes what an encoder
// with SetIndent(prefix, "  ") writes, but indents the compact encoding
// itself: encoding/json indents with its general scanner, a byte at a
// time, which took twice as long as encoding the findings.
func appendIndented(buf *bytes.Buffer, v any, prefix string) error {
	compact := compactBuffers.Get().(*bytes.Buffer)
	defer compactBuffers.Put(compact)
	compact.Reset()
	enc := json.NewEncoder(compact)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b := compact.Bytes()
	b = appendTerminalSafe(nil, b[:len(b)-1]) // without the encoder's newline
	buf.Write(indentCompact(buf.AvailableBuffer(), b, prefix, "  "))
	return nil
}

// appendTerminalSafe appends the encoded JSON src to dst with the
// characters a terminal acts on that encoding/json leaves as they are (it
// escapes only those below U+0020) written as \u escapes: DEL, the C1
// controls (U+009B starts an escape sequence as ESC [ does), and the
// bidirectional and invisible format characters, the characters Clean
// shows as <U+XXXX>. Outside strings JSON is ASCII, so
// they can only be inside strings, where an escape means the same
// character: the document decodes to the same values. src's invalid
// UTF-8, which encoding/json never writes, is copied as it is.
func appendTerminalSafe(dst, src []byte) []byte {
	for i := 0; i < len(src); {
		j := i
		for j < len(src) && src[j] < 0x7f {
			j++
		}
		dst = append(dst, src[i:j]...)
		if j == len(src) {
			break
		}
		r, size := utf8.DecodeRune(src[j:])
		if r != utf8.RuneError && isUnsafe(r) {
			if r > 0xffff { // a tag character: JSON escapes it as a surrogate pair
				hi, lo := utf16.EncodeRune(r)
				dst = appendEscape(appendEscape(dst, hi), lo)
			} else {
				dst = appendEscape(dst, r)
			}
		} else {
			dst = append(dst, src[j:j+size]...)
		}
		i = j + size
	}
	return dst
}

// appendEscape appends JSON's \uXXXX for r, at most 0xffff.
func appendEscape(dst []byte, r rune) []byte {
	dst = append(dst, `\u`...)
	return append(dst, hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

const hexDigits = "0123456789abcdef"

var compactBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// indentCompact appends to dst the compact JSON src, as json.Indent
// formats it: a newline, prefix and one indent per level before each
// member and element, a space after each colon, and empty objects and
// arrays left as {} and []. Strings are copied as they are.
func indentCompact(dst, src []byte, prefix, indent string) []byte {
	depth := 0
	needIndent := false // after { or [: the first member or element goes on a new line
	newline := func() {
		dst = append(dst, '\n')
		dst = append(dst, prefix...)
		for range depth {
			dst = append(dst, indent...)
		}
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		if needIndent && c != '}' && c != ']' {
			needIndent = false
			depth++
			newline()
		}
		switch c {
		case '"':
			end := stringEnd(src, i)
			dst = append(dst, src[i:end]...)
			i = end - 1
		case '{', '[':
			needIndent = true
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			newline()
		case ':':
			dst = append(dst, ':', ' ')
		case '}', ']':
			if needIndent {
				needIndent = false
			} else {
				depth--
				newline()
			}
			dst = append(dst, c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// stringEnd returns the offset after the string that starts at the quote
// src[i]: after the first quote that no backslash escapes.
func stringEnd(src []byte, i int) int {
	for j := i + 1; ; {
		k := bytes.IndexByte(src[j:], '"')
		if k < 0 {
			return len(src)
		}
		q := j + k
		n := 0
		for p := q - 1; p > i && src[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return q + 1
		}
		j = q + 1
	}
}

// appendLine appends v on one line, HTML characters as they are, and a
// newline.
func appendLine(buf *bytes.Buffer, v any) error {
	line := compactBuffers.Get().(*bytes.Buffer)
	defer compactBuffers.Put(line)
	line.Reset()
	enc := json.NewEncoder(line)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	buf.Write(appendTerminalSafe(buf.AvailableBuffer(), line.Bytes()))
	return nil
}

// writeFindingArray writes fs as the array of a member of the top-level
// object.
func writeFindingArray(w io.Writer, fs []*triage.Finding) error {
	if len(fs) == 0 {
		_, err := io.WriteString(w, "[]")
		return err
	}
	if _, err := io.WriteString(w, "[\n"); err != nil {
		return err
	}
	err := encodeEach(w, len(fs), func(buf *bytes.Buffer, i int) error {
		if i > 0 {
			buf.WriteString(",\n")
		}
		buf.WriteString("    ")
		return appendIndented(buf, fs[i], "    ")
	})
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, "\n  ]")
	return err
}

// encodeEach writes what encode(buf, i) appends for every i below n, in
// order. Batches of encodeBatch are encoded on one goroutine per CPU,
// GOMAXPROCS batches at a time, so memory stays a few batches whatever n
// is.
func encodeEach(w io.Writer, n int, encode func(buf *bytes.Buffer, i int) error) error {
	const encodeBatch = 64
	workers := min(runtime.GOMAXPROCS(0), (n+encodeBatch-1)/encodeBatch)
	bufs := make([]bytes.Buffer, workers)
	errs := make([]error, workers)
	for start := 0; start < n; start += workers * encodeBatch {
		var wg sync.WaitGroup
		for k := range workers {
			lo := start + k*encodeBatch
			if lo >= n {
				break
			}
			hi := min(lo+encodeBatch, n)
			wg.Go(func() {
				bufs[k].Reset()
				for i := lo; i < hi && errs[k] == nil; i++ {
					errs[k] = encode(&bufs[k], i)
				}
			})
		}
		wg.Wait()
		for k := range workers {
			if start+k*encodeBatch >= n {
				break
			}
			if errs[k] != nil {
				return errs[k]
			}
			if _, err := w.Write(bufs[k].Bytes()); err != nil {
				return err
			}
		}
	}
	return nil
}

// NDJSON writes one finding per line and nothing else, for streaming into
// other tools. The summary goes to stderr (the command prints it).
type NDJSON struct{}

func (NDJSON) Write(w io.Writer, r *Result) error {
	fs := append(slices.Clone(r.Findings), r.Suppressed...)
	bw := bufio.NewWriterSize(w, 64<<10)
	err := encodeEach(bw, len(fs), func(buf *bytes.Buffer, i int) error { return appendLine(buf, fs[i]) })
	if err != nil {
		return err
	}
	return bw.Flush()
}

package scan

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// LayoutCSV is a CSV export with a header row of field names: Kibana
// Discover's "Generate CSV" report, a CloudWatch Logs Insights export
// (@timestamp,@message), a Splunk export (_time,...,_raw), an Azure Log
// Analytics export (TimeGenerated,Category,...,log_s).
const LayoutCSV = "csv"

// csvSeparators are the separators a header row is tried with: Kibana's
// csv:separator is a comma unless changed, a semicolon where a comma is
// the decimal mark, and spreadsheets save tabs.
var csvSeparators = []byte{',', ';', '\t'}

// csvHeader reads line, the first non-blank line of an input, as the header
// row of a CSV export of log documents: every cell a field name, and at
// least one a field such logs have. It returns the separator and the names.
func csvHeader(line []byte) (sep byte, names []string, ok bool) {
	for _, sep := range csvSeparators {
		cells, complete := splitCSVLine(line, sep)
		if !complete || len(cells) < 1 {
			continue
		}
		known := false
		for i, c := range cells {
			c = unescapeFormula(c)
			cells[i] = c
			if !headerName(c) {
				known = false
				break
			}
			known = known || logField(c)
		}
		if known && (len(cells) > 1 || singleColumn(cells[0])) {
			names := make([]string, len(cells))
			for i, c := range cells {
				names[i] = string(c)
			}
			return sep, names, true
		}
	}
	return 0, nil, false
}

// singleColumn reports whether a CSV with a single column named name is an
// export of whole events.
func singleColumn(name []byte) bool { return string(name) == "_source" || textColumn(string(name)) }

// textColumn reports whether a column holds a log line as text, to be
// kept as it is: a Logs Insights @message, a Splunk _raw, the log_s of
// Azure Log Analytics' AzureDiagnostics table (where AKS sends kube-audit
// when no storage account is set).
func textColumn(name string) bool { return name == "@message" || name == "_raw" || name == "log_s" }

// headerName reports whether b can be a field name in a header row:
// letters, digits and the punctuation field names use, no blanks.
func headerName(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '_', c == '@', c == '.', c == '-', c == '/':
		default:
			return false
		}
	}
	return true
}

// logFieldPrefixes are the field names, and the prefixes of field names,
// that make a header row one of Kubernetes audit or process events.
var logFieldPrefixes = []string{
	"@timestamp", "@message", "_source", "kubernetes.", "event.", "process.", "user.", "orchestrator.",
	"container.", "source.", "data_stream.", "cloud_defend.", "_raw", "log_s",
}

func logField(name []byte) bool {
	for _, p := range logFieldPrefixes {
		if bytes.HasPrefix(name, []byte(p)) {
			return true
		}
	}
	return false
}

// splitCSVLine splits one line into its cells, unquoting them as the
// splitter does; complete is false when a quoted cell does not end on the
// line.
func splitCSVLine(line []byte, sep byte) (cells [][]byte, complete bool) {
	s := &csvSplitter{r: bufio.NewReader(bytes.NewReader(line)), sep: sep, line: 1}
	if rec, ok := s.row(len(line) + 1); !ok || rec.status != recordOK {
		return nil, false
	}
	for i := range s.ends {
		cells = append(cells, s.cell(i))
	}
	return cells, true
}

// csvSplitter reads a CSV export row by row, making each row a JSON object
// whose members are the row's non-empty cells under their column names
// (dotted keys, which read as the nested fields they name). Memory is one
// read buffer plus the row, which never grows past the limit.
type csvSplitter struct {
	r      *bufio.Reader
	sep    byte
	names  []string
	err    error // sticky read error (io.EOF at the end)
	line   int64 // 1-based line of the next byte
	offset int64 // decompressed offset of the next byte
	// lastNL is whether the last byte read was a newline.
	lastNL bool
	// cells holds the current row's cells, ends where each ends in it.
	cells []byte
	ends  []int
	obj   []byte // the JSON object being built
}

// newCSVSplitter reads the header row of r, which sniff found to be one
// (csvHeader) within its first sniffLimit bytes.
func newCSVSplitter(r io.Reader) *csvSplitter {
	s := &csvSplitter{r: bufio.NewReaderSize(r, sniffLimit), line: 1}
	head, _ := s.r.Peek(sniffLimit)
	if bytes.HasPrefix(head, utf8BOM) {
		s.skip(len(utf8BOM))
		head = head[len(utf8BOM):]
	}
	s.sep, s.names, _ = csvHeader(firstLine(head))
	for {
		if rec, ok := s.row(sniffLimit); !ok || rec.status != recordOK || !s.blank() {
			return s // the header, read past
		}
	}
}

func (s *csvSplitter) skip(n int) {
	d, _ := s.r.Discard(n)
	s.offset += int64(d)
}

// row reads one row's cells, quoted cells spanning lines. ok is false at
// the end of the input. The record says where the row starts; its status
// is recordOverlong when the row is longer than limit (its cells are then
// not kept), recordBroken when the input ends inside a quoted cell.
func (s *csvSplitter) row(limit int) (rec record, ok bool) {
	s.cells, s.ends = s.cells[:0], s.ends[:0]
	rec.line, rec.offset = s.line, s.offset
	inQuotes, quoted, size := false, false, 0
	cellStart := 0
	for {
		c, err := s.r.ReadByte()
		if err != nil {
			if err != io.EOF || s.err == nil {
				s.err = err
			}
			if size == 0 {
				return rec, false
			}
			if inQuotes {
				rec.status, rec.reason = recordBroken, "truncated CSV: the input ends inside a quoted cell"
			}
			s.endCell(cellStart)
			rec.size = int64(size)
			return rec, true
		}
		s.offset++
		size++
		s.lastNL = c == '\n'
		if c == '\n' {
			s.line++
		}
		if size > limit && rec.status != recordOverlong {
			rec.status = recordOverlong
			s.cells = s.cells[:0]
		}
		keep := rec.status != recordOverlong
		switch {
		case inQuotes && c == '"':
			if next, err := s.r.Peek(1); err == nil && next[0] == '"' {
				s.skip(1)
				size++
				if keep {
					s.cells = append(s.cells, '"')
				}
				continue
			}
			inQuotes = false
		case inQuotes:
			if keep {
				s.cells = append(s.cells, c)
			}
		case c == '"' && len(s.cells) == cellStart && !quoted:
			inQuotes, quoted = true, true
		case c == s.sep && s.sep != 0:
			if keep {
				s.endCell(cellStart)
				cellStart = len(s.cells)
			}
			quoted = false
		case c == '\n':
			if keep {
				s.endCell(cellStart)
			}
			rec.size = int64(size)
			return rec, true
		default:
			if keep {
				s.cells = append(s.cells, c)
			}
		}
	}
}

// endCell ends the cell that started at start, dropping the CR of a CRLF.
func (s *csvSplitter) endCell(start int) {
	if n := len(s.cells); n > start && s.cells[n-1] == '\r' {
		s.cells = s.cells[:n-1]
	}
	s.ends = append(s.ends, len(s.cells))
}

func (s *csvSplitter) cell(i int) []byte {
	start := 0
	if i > 0 {
		start = s.ends[i-1]
	}
	return s.cells[start:s.ends[i]]
}

// blank reports whether the row read is an empty line.
func (s *csvSplitter) blank() bool {
	return len(s.ends) == 1 && len(bytes.Trim(s.cell(0), " \t")) == 0
}

// next returns the next row as a JSON object, appending its bytes to
// dst[:0]. Blank lines are skipped. ok is false at the end of the input.
func (s *csvSplitter) next(dst []byte, limit int) (rec record, ok bool) {
	for {
		if rec, ok = s.row(limit); !ok {
			return rec, false
		}
		if rec.status != recordOK || !s.blank() {
			break
		}
	}
	switch {
	case rec.status == recordOverlong:
		return rec, true
	case rec.status == recordBroken:
		rec.data = append(dst[:0], s.cells...)
		return rec, true
	case len(s.ends) != len(s.names):
		rec.data = append(dst[:0], s.cells...)
		rec.status, rec.reason = recordBroken, fmt.Sprintf("a CSV row of %d cells under a header of %d", len(s.ends), len(s.names))
		return rec, true
	}
	s.obj = append(s.obj[:0], '{')
	for i, name := range s.names {
		v := csvValue(name, s.cell(i))
		if v == nil {
			continue
		}
		if len(s.obj) > 1 {
			s.obj = append(s.obj, ',')
		}
		s.obj = appendJSONString(s.obj, name)
		s.obj = append(append(s.obj, ':'), v...)
	}
	s.obj = append(s.obj, '}')
	if len(s.obj) > limit {
		rec.status = recordOverlong
		return rec, true
	}
	rec.data = append(dst[:0], s.obj...)
	return rec, true
}

// csvValue is the JSON of a cell of column name, nil for an empty cell (a
// field the document does not have). Kibana writes a list of values, and
// an object, as JSON (["a","b"]); escapes a value that starts with =, +, -
// or @ with a quote ('-c, unescapeFormula); and writes dates as
// "Nov 20, 2026 @ 09:41:07.160", without a zone. A list or an object is
// read as such, the escape undone, and such a date read as UTC. A Logs
// Insights @message and a Splunk _raw stay the text they were.
func csvValue(name string, cell []byte) []byte {
	if len(cell) == 0 {
		return nil
	}
	cell = unescapeFormula(cell)
	if !textColumn(name) && (cell[0] == '[' && cell[len(cell)-1] == ']' || cell[0] == '{' && cell[len(cell)-1] == '}') && json.Valid(cell) {
		return cell
	}
	if t, ok := kibanaDate(cell); ok {
		return appendJSONString(nil, t.Format(time.RFC3339Nano))
	}
	// Invalid UTF-8 becomes U+FFFD, as in the other shapes k8sexec
	// builds JSON for (gke.go).
	return appendJSONString(nil, string(cell))
}

// unescapeFormula undoes the quote Kibana puts before a cell that starts
// with =, +, - or @ (csv:escapeFormulaValues), in the header row too
// ('@timestamp).
func unescapeFormula(cell []byte) []byte {
	if len(cell) > 1 && cell[0] == '\'' && bytes.IndexByte([]byte("=+-@"), cell[1]) >= 0 {
		return cell[1:]
	}
	return cell
}

// kibanaDateLayouts are Kibana's default date formats (dateFormat, and
// dateFormat:date_nanos), as Go layouts.
var kibanaDateLayouts = []string{"Jan 2, 2006 @ 15:04:05.000", "Jan 2, 2006 @ 15:04:05.000000000"}

func kibanaDate(cell []byte) (time.Time, bool) {
	if len(cell) < len("Jan 2, 2006 @ 15:04:05.000") || bytes.IndexByte(cell, '@') < 0 {
		return time.Time{}, false
	}
	for _, layout := range kibanaDateLayouts {
		if t, err := time.Parse(layout, string(cell)); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// lines returns how many lines the input had so far: a last line without
// a newline counts.
func (s *csvSplitter) lines() int64 {
	if s.offset > 0 && !s.lastNL {
		return s.line
	}
	return s.line - 1
}

func (s *csvSplitter) consumed() int64 { return s.offset }

// readErr is the error that ended the input, or nil at a clean end.
func (s *csvSplitter) readErr() error {
	if s.err == io.EOF {
		return nil
	}
	return s.err
}

package scan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

func TestSniffLayout(t *testing.T) {
	tests := []struct{ head, want string }{
		{"", LayoutLines},
		{"\n\n  \n", LayoutLines},
		{execLine + "\n", LayoutLines},
		{"{\n  \"kind\": \"Event\"\n}\n", LayoutJSON},
		{"\ufeff{\r\n", LayoutJSON},
		{"  {  \n", LayoutJSON},
		{"[\n{}\n]", LayoutJSON},
		{`[{"a":1},{"a":2}]`, LayoutJSON},
		{"\n\n[", LayoutJSON},
		{`{"kind":"Event",`, LayoutLines}, // a broken first line stays a line
		{"not json\n{\n", LayoutLines},
		// CSV exports: a header row of field names, one a log field.
		{"\"'@timestamp\",\"kubernetes.audit.verb\",\"user.name\"\r\n", LayoutCSV},
		{"\ufeff@timestamp;process.name\n", LayoutCSV},
		{"@timestamp\t@message\n", LayoutCSV},
		{"_source\n", LayoutCSV},
		{"@timestamp,\"kubernetes.audit.verb\n", LayoutLines}, // a quoted cell left open
		{"name,age\n", LayoutLines},                           // no log field
		{"@timestamp only\n", LayoutLines},                    // a blank in a name
		{"2026-11-20 kube-apiserver started\n", LayoutLines},
		// Container logs.
		{"2026-11-20T09:41:07.160199123Z stdout F {}\n", LayoutCRI},
		{"\n" + `{"log":"x\n","stream":"stderr","time":"2026-11-20T09:41:07.1Z"}` + "\r\n", LayoutDocker},
		{`{"log":"{\"kind\":\"Ev`, LayoutLines},                                   // cut short
		{`{"log":"x\n","time":"t","stream":"stdout"}` + "\n", LayoutLines},        // not Docker's order
		{`{"log":"x\n","stream":"stdout","host":"n1"}` + "\n", LayoutLines},       // a shipper's record
		{`{"log":"x\n","stream":"stdout","stream":"stdout"}` + "\n", LayoutLines}, // a key twice
	}
	for _, tc := range tests {
		if got := sniffLayout([]byte(tc.head)); got != tc.want {
			t.Errorf("sniffLayout(%q) = %s, want %s", tc.head, got, tc.want)
		}
	}
}

type splitRecord struct {
	line   int64
	status int
	data   string
}

func splitAll(data string, limit int) ([]splitRecord, int64) {
	sp := newJSONSplitter(strings.NewReader(data))
	var out []splitRecord
	for {
		rec, ok := sp.next(nil, limit)
		if !ok {
			return out, sp.lines()
		}
		out = append(out, splitRecord{rec.line, rec.status, string(rec.data)})
	}
}

func TestJSONSplitter(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  []splitRecord
		lines int64
	}{
		{"pretty objects", "{\n  \"a\": 1\n}\n{\n  \"b\": \"x\\ny\"\n}\n",
			[]splitRecord{{1, recordOK, `{   "a": 1 }`}, {4, recordOK, `{   "b": "x\ny" }`}}, 6},
		{"array of objects", "[\n  {\"a\":1},\n  {\"b\":[1,2]}\n]\n",
			[]splitRecord{{2, recordOK, `{"a":1}`}, {3, recordOK, `{"b":[1,2]}`}}, 4},
		{"one-line array", `[{"a":1},{"a":2}]`,
			[]splitRecord{{1, recordOK, `{"a":1}`}, {1, recordOK, `{"a":2}`}}, 1},
		{"braces in strings", "{\"a\":\"}{][\\\"\"}\n",
			[]splitRecord{{1, recordOK, `{"a":"}{][\""}`}}, 1},
		{"truncated at the end", "{\n  \"a\": [1,\n",
			[]splitRecord{{1, recordBroken, `{   "a": [1, `}}, 2},
		{"raw newline in a string", "{\n \"a\": \"x\n\"}\n{\"b\":1}\n",
			[]splitRecord{{1, recordBroken, `{  "a": "x`}, {4, recordOK, `{"b":1}`}}, 4},
		{"junk between values", "{\"a\":1}\nhello\nworld\n  {\"b\":2}",
			[]splitRecord{{1, recordOK, `{"a":1}`}, {2, recordBroken, `hello`}, {4, recordOK, `{"b":2}`}}, 4},
		{"BOM and CRLF", "\ufeff{\r\n  \"a\": 1\r\n}\r\n",
			[]splitRecord{{1, recordOK, `{    "a": 1  }`}}, 3},
		{"values after an array", "[{\"a\":1}]\n{\"b\":2}\n",
			[]splitRecord{{1, recordOK, `{"a":1}`}, {2, recordOK, `{"b":2}`}}, 2},
		{"empty", "", nil, 0},
		{"only an empty array", "[\n]\n", nil, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, lines := splitAll(tc.in, 1<<20)
			if len(got) != len(tc.want) {
				t.Fatalf("records %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("record %d: %+v, want %+v", i, got[i], tc.want[i])
				}
			}
			if lines != tc.lines {
				t.Errorf("lines %d, want %d", lines, tc.lines)
			}
		})
	}
}

func TestJSONSplitterLimit(t *testing.T) {
	in := "[\n" + `{"a":"` + strings.Repeat("x", 5000) + `"},` + "\n" + `{"b":1}` + "\n]\n"
	got, lines := splitAll(in, 1000)
	if len(got) != 2 || got[0].status != recordOverlong || len(got[0].data) > 1000 || got[1].data != `{"b":1}` || got[1].line != 3 || lines != 4 {
		t.Errorf("records %.100v, lines %d", got, lines)
	}
}

// byteValue is value as it was first written, a byte at a time: the
// reference TestJSONSplitterMatchesByteValue and FuzzJSONSplitter hold
// value to.
func (s *jsonSplitter) byteValue(dst []byte, limit int, rec record) record {
	dst = dst[:0]
	depth := 0
	inString, escaped := false, false
	overlong := false
	var size int64
	put := func(b byte) {
		size++
		if overlong {
			return
		}
		if len(dst) >= limit {
			overlong = true
			return
		}
		dst = append(dst, b)
	}
	for {
		if !s.fill() {
			rec.data, rec.size = dst, size
			rec.status, rec.reason = recordBroken, "truncated JSON: the input ends inside this value"
			if !overlong {
				s.salvage(&rec) // tested on its own: TestSalvageCutWrapper
			}
			return rec
		}
		c := s.buf[s.pos]
		switch {
		case inString:
			switch {
			case c == '\n':
				// JSON strings cannot hold a raw newline: the value is
				// broken. Skip to the next line that starts a value.
				rec.data, rec.size = dst, size
				rec.status, rec.reason = recordBroken, "unterminated string"
				s.skipToValue()
				return rec
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			s.advance(1)
			put(c)
			continue
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		case c == '\n':
			s.line++
			c = ' '
			if !overlong {
				rec.newlines = append(rec.newlines, int32(len(dst)))
			}
		case c == '\r':
			c = ' '
		}
		s.advance(1)
		put(c)
		if depth == 0 {
			rec.data, rec.size = dst, size
			if overlong {
				rec.status = recordOverlong
			}
			return rec
		}
	}
}

// splitWith cuts data into records with value, read in reads of readSize
// bytes, and returns them and the line count.
func splitWith(data []byte, limit, readSize int, value func(*jsonSplitter, []byte, int, record) record) ([]record, int64) {
	defer func(v func(*jsonSplitter, []byte, int, record) record) { splitValue = v }(splitValue)
	splitValue = value
	sp := newJSONSplitter(iotest.OneByteReader(bytes.NewReader(data)))
	if readSize > 1 {
		sp = newJSONSplitter(&chunkedReader{r: bytes.NewReader(data), n: readSize})
	}
	var recs []record
	for {
		rec, ok := sp.next(nil, limit)
		if !ok {
			return recs, sp.lines()
		}
		rec.data = bytes.Clone(rec.data)
		recs = append(recs, rec)
	}
}

// chunkedReader returns at most n bytes per Read.
type chunkedReader struct {
	r io.Reader
	n int
}

func (c *chunkedReader) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.n)]) }

// checkAgainstByteValue fails unless value and byteValue cut data alike,
// for several limits and read sizes.
func checkAgainstByteValue(t *testing.T, data []byte) {
	t.Helper()
	for _, limit := range []int{1 << 20, 16, 3} {
		for _, size := range []int{1 << 20, 7, 1} {
			got, gotLines := splitWith(data, limit, size, (*jsonSplitter).value)
			want, wantLines := splitWith(data, limit, size, (*jsonSplitter).byteValue)
			if gotLines != wantLines || !reflect.DeepEqual(got, want) {
				t.Fatalf("limit %d, reads of %d, %q:\n got %d lines %+v\nwant %d lines %+v", limit, size, data, gotLines, got, wantLines, want)
			}
		}
	}
}

// TestJSONSplitterMatchesByteValue: the splitter cuts records as the
// byte-at-a-time version did: newlines and carriage returns between
// tokens, in strings, after backslashes, values cut by the limit or by
// the end of the input, junk between values.
func TestJSONSplitterMatchesByteValue(t *testing.T) {
	for _, s := range []string{
		"[\n{\"a\": \"x\\\"y\"},\r\n{\"b\":[1,\n2]}\n]\n",
		"{\"a\":\"line\nbreak\"}\n{\"ok\":1}",
		"{\"a\":\"back\\\nslash\"}\n{}",
		"{\"long\":\"" + strings.Repeat("x", 300) + "\",\n\"n\":[{},{}]}",
		"{\"cut\":\"off",
		"junk\n{\"after\":true}\r\n  [\"top\",\n\"array\"]",
		"{\"a\":\"\\\\\"}{\"b\":\"\\\"\"}",
		"\ufeff[{\"bom\":1}]",
		"{\"crlf\":1,\r\n\"between\":\"tokens\\r\"\r\n}",
	} {
		checkAgainstByteValue(t, []byte(s))
	}
}

// FuzzJSONSplitter: the splitter never fails, counts lines like the
// line reader, and cuts a stream of valid values (or one array of them)
// into exactly those values, and any input as byteValue does.
func FuzzJSONSplitter(f *testing.F) {
	for _, s := range []string{"{\n}\n[\n]", "[{\"a\":1},\n{\"b\":[{}]}]", "{\"a\":\"\\\"}\"}{}", "{\n\"a\n", "x\n{}\n", "[1,2]\n{}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkAgainstByteValue(t, data)
		sp := newJSONSplitter(bytes.NewReader(data))
		var recs [][]byte
		allOK := true
		for {
			rec, ok := sp.next(nil, 1<<20)
			if !ok {
				break
			}
			if bytes.IndexByte(rec.data, '\n') >= 0 {
				t.Fatalf("record %q holds a newline", rec.data)
			}
			if rec.status != recordOK {
				allOK = false
			} else if c := rec.data[0]; c != '{' && c != '[' {
				t.Fatalf("record %q does not start a value", rec.data)
			}
			recs = append(recs, bytes.Clone(rec.data))
		}
		wantLines := int64(bytes.Count(data, []byte("\n")))
		if len(data) > 0 && data[len(data)-1] != '\n' {
			wantLines++
		}
		if sp.lines() != wantLines {
			t.Fatalf("lines %d, want %d", sp.lines(), wantLines)
		}
		values, ok := decodeValues(data)
		if !ok || !allOK {
			return
		}
		if len(values) != len(recs) {
			t.Fatalf("%d records, %d values in %q", len(recs), len(values), data)
		}
		for i := range recs {
			var a, b bytes.Buffer
			if json.Compact(&a, recs[i]) != nil || json.Compact(&b, values[i]) != nil || a.String() != b.String() {
				t.Fatalf("record %d is %q, value %q", i, recs[i], values[i])
			}
		}
	})
}

// decodeValues reads a stream of objects and arrays; a stream that is one
// array (first thing) gives its elements, which must be objects or arrays.
func decodeValues(data []byte) ([][]byte, bool) {
	data = bytes.TrimPrefix(data, utf8BOM)
	dec := json.NewDecoder(bytes.NewReader(data))
	var out [][]byte
	first := true
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false
		}
		if len(raw) == 0 || raw[0] != '{' && raw[0] != '[' {
			return nil, false
		}
		if first && raw[0] == '[' {
			var elems []json.RawMessage
			if json.Unmarshal(raw, &elems) != nil {
				return nil, false
			}
			for _, e := range elems {
				if e[0] != '{' && e[0] != '[' {
					return nil, false
				}
				out = append(out, e)
			}
		} else {
			out = append(out, raw)
		}
		first = false
	}
	_, err := dec.Token()
	return out, err != nil
}

// A wrapper the input ends inside keeps the events that ended before the
// cut, and the rest is one broken record where it starts; a cut inside the
// first event, or in an object that is no wrapper, keeps nothing.
func TestSalvageCutWrapper(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string // records: data, or "!line:data" for a broken one
	}{
		{"eks events", "{\"events\": [\n  {\"message\": \"a}]\\\"\", \"logStreamName\": \"s\", \"timestamp\": 1},\n  {\"message\": \"b\", \"logStreamName\": \"s\", \"timestamp\": 2},\n  {\"message\": \"c",
			[]string{`{"events": [   {"message": "a}]\"", "logStreamName": "s", "timestamp": 1},   {"message": "b", "logStreamName": "s", "timestamp": 2}]}`, `!4:{"message": "c`}},
		{"search response", `{"took":1,"hits":{"total":{"value":2},"hits":[{"_source":{"a":[{"b":1}]}},{"_source":{"a":`,
			[]string{`{"took":1,"hits":{"total":{"value":2},"hits":[{"_source":{"a":[{"b":1}]}}]}}`, `!1:{"_source":{"a":`}},
		{"eventlist", `{"kind":"EventList","items":[{"kind":"Event","auditID":"x","stage":"s"},{"kind":`,
			[]string{`{"kind":"EventList","items":[{"kind":"Event","auditID":"x","stage":"s"}]}`, `!1:{"kind":`}},
		{"aks records", `{"records":[{"category":"kube-audit","properties":{"log":"{}"}},{"cat`,
			[]string{`{"records":[{"category":"kube-audit","properties":{"log":"{}"}}]}`, `!1:{"cat`}},
		{"cut in the first event", `{"events":[{"message":"a","logStreamName":"s","timestamp":1,"x":[{"y":1}],"z"`,
			[]string{`!1:{"events":[{"message":"a","logStreamName":"s","timestamp":1,"x":[{"y":1}],"z"`}},
		{"no wrapper", `{"labels":[{"a":1},{"b":`, []string{`!1:{"labels":[{"a":1},{"b":`}},
	} {
		got, _ := splitAll(tc.in, 1<<20)
		var recs []string
		for _, r := range got {
			if r.status == recordOK {
				recs = append(recs, r.data)
			} else {
				recs = append(recs, fmt.Sprintf("!%d:%s", r.line, r.data))
			}
		}
		if !slices.Equal(recs, tc.want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, recs, tc.want)
		}
	}
}

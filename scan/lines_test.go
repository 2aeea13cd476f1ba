package scan

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/k8sexec/k8sexec/rules"
)

// TestLines covers what surrounds and damages events on their lines. Each
// case runs with a tiny and a default chunk size, with one and several
// workers, with and without the prefilter; all must agree.
// criPrefix is what the CRI container log format puts before a line of
// output: the time the runtime read it and, after it, the stream and tag.
const criPrefix = "2026-11-20T09:41:07.160199123Z "

func TestLines(t *testing.T) {
	rs := builtinRules(t)
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	// deepExec holds every literal R1 needs, so the prefilter hands it to
	// the parser, which must refuse it without recursing 100000 levels.
	deepExec := strings.TrimSuffix(execLine, "}") + `,"x":` + deep + `}`
	nulInside := strings.Replace(execLine, `"level":"Metadata"`, `"level":"Meta`+"\x00"+`data"`, 1)
	nulBetweenTokens := strings.Replace(execLine, `,"level"`, ",\x00\"level\"", 1)
	rng := rand.New(rand.NewPCG(7, 7))
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(rng.UintN(256))
	}

	tests := []struct {
		name      string
		input     string
		opts      Options
		lines     int64
		blank     int64
		events    int64 // with the prefilter
		malformed int64 // with the prefilter
		overlong  int64
		skipped   int64
		hits      []string
		problems  []string // "line:reason substring"
	}{
		{name: "empty", input: "", hits: nil},
		{name: "one newline", input: "\n", lines: 1, blank: 1},
		{
			name: "LF", input: lines(noiseLine, execLine, wsExecLine, procLine),
			lines: 4, events: 4, hits: []string{"2:R1", "3:R3", "4:R2"},
		},
		{
			name: "CRLF", input: noiseLine + "\r\n" + execLine + "\r\n" + procLine + "\r\n",
			lines: 3, events: 3, hits: []string{"2:R1", "3:R2"},
		},
		{
			name: "UTF-8 BOM before the first line", input: "\ufeff" + execLine + "\r\n" + execLine + "\n",
			lines: 2, events: 2, hits: []string{"1:R1", "2:R1"},
		},
		{
			name: "spaces and tabs around events", input: "  \t" + execLine + " \t \n\t" + procLine + "\t\r\n",
			lines: 2, events: 2, hits: []string{"1:R1", "2:R2"},
		},
		{
			name: "blank lines", input: "\n" + execLine + "\n \t\n\r\n\n" + execLine + "\n\n",
			lines: 7, blank: 5, events: 2, hits: []string{"2:R1", "6:R1"},
		},
		{
			name: "last line without newline", input: noiseLine + "\n" + execLine,
			lines: 2, events: 2, hits: []string{"2:R1"},
		},
		{
			name: "last line CR without LF", input: noiseLine + "\n" + execLine + "\r",
			lines: 2, events: 2, hits: []string{"2:R1"},
		},
		{
			name: "truncated last line", input: execLine + "\n" + execLine[:len(execLine)/2],
			lines: 2, events: 1, malformed: 1, hits: []string{"1:R1"},
			problems: []string{"2:truncated JSON object"},
		},
		{
			// copytruncate leaves NUL padding where the old file was; the
			// first event written after it follows the NULs on one line.
			name: "NUL padding before an object", input: noiseLine + "\n" + strings.Repeat("\x00", 300) + execLine + "\n" + execLine + "\n",
			lines: 3, events: 3, hits: []string{"2:R1", "3:R1"},
		},
		{
			// The escape search finds NUL bytes too: after the padding it
			// must go on to the escape that spells the needle.
			name: "NUL padding before an escaped needle", input: strings.Repeat("\x00", 300) + strings.Replace(execLine, `"exec"`, `"\u0065xec"`, 1) + "\n" + strings.Replace(execLine, `"exec"`, `"\"\u0065xec"`, 1) + "\x00\n",
			lines: 2, events: 1, malformed: 1, hits: []string{"1:R1"}, problems: []string{"2:NUL"},
		},
		{
			// Too many escapes for the line pass to note (a string of
			// 80,000 backslashes): the chunk is searched without notes,
			// and the escaped needle on the next line is still found.
			name: "a line of backslashes", input: strings.Replace(execLine, `"level":"Metadata"`, `"level":"Metadata","pad":"`+strings.Repeat(`\\`, 40000)+`"`, 1) + "\n" + strings.Replace(execLine, `"exec"`, `"\u0065xec"`, 1) + "\n" + strings.Repeat("\x00", 100000) + execLine + "\n",
			lines: 3, events: 3, hits: []string{"1:R1", "2:R1", "3:R1"},
		},
		{
			name: "spaces then NUL padding", input: "  \x00\x00" + execLine + "\n",
			lines: 1, events: 1, hits: []string{"1:R1"},
		},
		{
			name: "NUL inside a string", input: lines(execLine, nulInside, execLine),
			lines: 3, events: 2, malformed: 1, hits: []string{"1:R1", "3:R1"},
			problems: []string{"2:NUL"},
		},
		{
			name: "NUL between tokens", input: lines(nulBetweenTokens, execLine),
			lines: 2, events: 1, malformed: 1, hits: []string{"2:R1"},
			problems: []string{"1:NUL"},
		},
		{
			name: "NUL padding after an object", input: execLine + "\x00\x00\n" + execLine + "\n",
			lines: 2, events: 1, malformed: 1, hits: []string{"2:R1"},
			problems: []string{"1:NUL"},
		},
		{
			name: "line of NULs", input: execLine + "\n" + strings.Repeat("\x00", 64) + "\n" + execLine + "\n",
			lines: 3, events: 2, malformed: 1, hits: []string{"1:R1", "3:R1"},
			problems: []string{"2:NUL"},
		},
		{
			// A copytruncate hole is as long as the file was when it was
			// cut: often more than the line limit. Its NULs are padding,
			// not the line the limit is about.
			name:  "NUL padding longer than the limit",
			input: execLine + "\n" + strings.Repeat("\x00", 5000) + execLine + "\n" + strings.Repeat("\x00", 1025) + execLine,
			opts:  Options{ChunkSize: 256, MaxLineSize: 1024},
			lines: 3, events: 3, hits: []string{"1:R1", "2:R1", "3:R1"},
		},
		{
			name:  "line of NULs longer than the limit",
			input: execLine + "\n" + strings.Repeat("\x00", 5000) + "\n" + execLine + "\n" + strings.Repeat("\x00", 3000),
			opts:  Options{ChunkSize: 256, MaxLineSize: 1024},
			lines: 4, events: 2, malformed: 2, hits: []string{"1:R1", "3:R1"},
			problems: []string{"2:NUL", "4:NUL"},
		},
		{
			name:  "NUL padding, then an event longer than the limit",
			input: strings.Repeat("\x00", 3000) + padTo(execLine, 1025) + "\n" + execLine + "\n",
			opts:  Options{ChunkSize: 256, MaxLineSize: 1024},
			lines: 2, events: 1, overlong: 1, hits: []string{"2:R1"},
			problems: []string{"1:longer than 1024 bytes"},
		},
		{
			// A write that lost its newline: both events are read, also
			// where the first would rule the line out on its own.
			name: "two raw audit events on one line", input: lines(execLine+execLine, execLine, noiseLine+" "+execLine, noiseLine+execLine),
			lines: 4, events: 7, hits: []string{"1:R1", "1:R1", "2:R1", "3:R1", "4:R1"},
		},
		{
			// A write cut short (a crash), and the next one went on from
			// there: the events that are whole are read.
			name:  "a raw audit event cut short and the next written after it",
			input: lines(noiseLine[:200]+execLine, execLine[:300]+noiseLine, noiseLine[:60]+noiseLine[:150]+" "+execLine),
			// Line 2 holds no needle of a rule: the prefilter rules it
			// out unread, as it does any line, and counts one event.
			lines: 3, events: 3, malformed: 3, hits: []string{"1:R1", "3:R1"},
			problems: []string{"1:cut short, the next event written straight after it", "3:cut short", "3:cut short"},
		},
		{
			name: "a raw audit event, then one cut short", input: lines(execLine + noiseLine[:200]),
			lines: 1, events: 1, malformed: 1, hits: []string{"1:R1"}, problems: []string{"1:truncated JSON object"},
		},
		{
			// What is left of a cut event says which request it was.
			name: "a raw audit line cut short", input: lines(execLine[:strings.Index(execLine, `"sourceIPs"`)+5]),
			lines: 1, malformed: 1,
			problems: []string{"1:truncated JSON object (no closing brace); auditID 7c0bd8a4-0f7e-4d57-9d8a-3c1f3b0f52a1 (ResponseStarted of create by alice@example.com)"},
		},
		{
			// The search for lines worth parsing reads a raw audit line as
			// raw audit events: a process event after one is not read, and
			// the problem says so.
			name: "a raw audit event and a process event on one line", input: lines(execLine+procLine, execLine),
			lines: 2, events: 1, malformed: 1, hits: []string{"2:R1"},
			problems: []string{"1:several values on one line after an audit event"},
		},
		{
			// Read as JSON text, a cut event can swallow the next one: the
			// pieces are split where each event starts.
			name:  "a raw audit event cut where a value starts",
			input: lines(noiseLine[:strings.Index(noiseLine, `"user":`)+7]+execLine, noiseLine[:strings.Index(noiseLine, `"sourceIPs":`)+14]+execLine),
			lines: 2, events: 2, malformed: 2, hits: []string{"1:R1", "2:R1"}, problems: []string{"1:cut short", "2:cut short"},
		},
		{
			name: "lines cut from a JSON array", input: lines(execLine+",", execLine, "  "+execLine+", "),
			lines: 3, events: 1, malformed: 2, hits: []string{"2:R1"},
			problems: []string{"1:a JSON object followed by a comma", "3:a JSON object followed by a comma"},
		},
		{
			name: "lines longer than the chunk", input: lines(execLine, noiseLine, procLine, execLine),
			opts:  Options{ChunkSize: 16},
			lines: 4, events: 4, hits: []string{"1:R1", "3:R2", "4:R1"},
		},
		{
			name: "long line after short ones overflows a grown buffer",
			input: lines("{}", `{"a":"`+strings.Repeat("a", 150)+`"}`, `{"b":"`+strings.Repeat("b", 300)+`"}`, execLine,
				`{"c":"`+strings.Repeat("c", 1000)+`"}`, "{}", execLine),
			opts:  Options{ChunkSize: 64},
			lines: 7, events: 7, hits: []string{"4:R1", "7:R1"},
		},
		{
			name: "overlong line is skipped and counted",
			input: lines(execLine, `{"pad":"`+strings.Repeat("x", 5000)+`","verb":"create"}`, execLine,
				`{"pad":"`+strings.Repeat("y", 3000)+`"}`, "", execLine),
			opts:  Options{ChunkSize: 256, MaxLineSize: 1024},
			lines: 6, blank: 1, events: 3, overlong: 2, hits: []string{"1:R1", "3:R1", "6:R1"},
			problems: []string{"2:longer than 1024 bytes", "4:longer than 1024 bytes"},
		},
		{
			name:  "overlong lines in a row and at the end without newline",
			input: strings.Repeat(strings.Repeat("z", 2000)+"\n", 3) + execLine + "\n" + strings.Repeat("q", 5000),
			opts:  Options{ChunkSize: 512, MaxLineSize: 1024},
			lines: 5, events: 1, overlong: 4, hits: []string{"4:R1"},
			problems: []string{"1:longer", "2:longer", "3:longer", "5:longer"},
		},
		{
			name:  "line as long as the limit is kept",
			input: lines(padTo(execLine, 1024), padTo(execLine, 1025), padTo(execLine, 1023)) + padTo(execLine, 1024),
			opts:  Options{ChunkSize: 64, MaxLineSize: 1024},
			lines: 4, events: 3, overlong: 1, hits: []string{"1:R1", "3:R1", "4:R1"},
			problems: []string{"2:longer than 1024 bytes"},
		},
		{
			name:  "last line one byte over the limit",
			input: lines(padTo(execLine, 1024)) + padTo(execLine, 1025),
			opts:  Options{ChunkSize: 64, MaxLineSize: 1024},
			lines: 2, events: 1, overlong: 1, hits: []string{"1:R1"},
			problems: []string{"2:longer than 1024 bytes"},
		},
		{
			name:  "CRLF counts toward the limit",
			input: padTo(execLine, 1024) + "\r\n" + padTo(execLine, 1023) + "\r\n",
			opts:  Options{ChunkSize: 64, MaxLineSize: 1024},
			lines: 2, events: 1, overlong: 1, hits: []string{"2:R1"},
		},
		{
			// The limit holds inside a chunk too, not only for lines that
			// outgrow one.
			name:  "limit smaller than the chunk",
			input: lines(execLine, padTo(execLine, 2000), execLine, padTo(execLine, 1000)),
			opts:  Options{ChunkSize: 1 << 20, MaxLineSize: 1000},
			lines: 4, events: 3, overlong: 1, hits: []string{"1:R1", "3:R1", "4:R1"},
			problems: []string{"2:longer than 1000 bytes"},
		},
		{
			name: "100000 nested brackets",
			// Line 4 nests as deep but holds no rule literal: the prefilter
			// skips it (an event); with NoPrefilter it is malformed too.
			input: lines(execLine, deep, deepExec, "{"+strings.Repeat(`"a":{`, 50000)+strings.Repeat("}", 50001), execLine),
			lines: 5, events: 3, malformed: 2, hits: []string{"1:R1", "5:R1"},
			problems: []string{"2:array", "3:nested deeper"},
		},
		{
			name:  "binary garbage",
			input: string(garbage) + "\n" + execLine + "\n",
			hits:  []string{fmt.Sprintf("%d:R1", strings.Count(string(garbage), "\n")+2)},
			lines: int64(strings.Count(string(garbage), "\n") + 2), events: 1,
			malformed: int64(strings.Count(string(garbage), "\n") + 1),
		},
		{
			name: "JSON escapes spell the values",
			input: lines(
				strings.Replace(execLine, `"exec"`, `"\u0065xec"`, 1),
				strings.Replace(execLine, `"create"`, `"cr\u0065\u0061te"`, 1),
				strings.Replace(execLine, `"authorization.k8s.io/decision":"allow"`, `"authorization.k8s.io\/decision":"\u0061llow"`, 1),
				strings.Replace(execLine, `"exec"`, `"\u0045xec"`, 1), // "Exec": case-sensitive, no match
				strings.Replace(execLine, `"pods"`, `"p\u006Fds"`, 1),
				strings.Replace(procLine, `"interactive":true`, `"interactive":"tru\u0065"`, 1),
			),
			lines: 6, events: 6, hits: []string{"1:R1", "2:R1", "3:R1", "5:R1", "6:R2"},
		},
		{
			name:  "invalid UTF-8 in an event",
			input: lines(strings.Replace(execLine, `kubectl/v1.29.4`, "kubectl\xff\xfe\xc3/\xed\xa0\x80", 1)),
			lines: 1, events: 1, hits: []string{"1:R1"},
		},
		{
			name:  "not objects",
			input: lines("{}", "[1,2]", "null", "42", `"text"`, "{", "}", "{} {}", "{}", "{ }"),
			lines: 10, events: 4, malformed: 6,
			problems: []string{"2:array", "3:not JSON", "4:not JSON", "5:not JSON", "6:a lone {: pretty-printed JSON", "7:not JSON"},
		},
		{
			// A first line starting with [ makes the input whole-file
			// JSON: the array's scalars are junk up to the next line that
			// starts a value, and the values after it are records.
			name:  "whole-file JSON with junk",
			input: lines("[1,2]", "null", "42", `"text"`, "{", "}", "{} {}", "{}", "{ }"),
			lines: 9, events: 5, malformed: 1,
			problems: []string{`1:an element of the array is not a JSON object (starts "1,2]")`},
		},
		{
			name:  "invalid JSON holding the rule's literals",
			input: lines(strings.Replace(execLine, `"level"`, `,"level"`, 1), execLine),
			lines: 2, events: 1, malformed: 1, hits: []string{"2:R1"},
			problems: []string{"1:invalid JSON"},
		},
		{
			// No rule literal in it: the prefilter never parses it, so it
			// stays an event (it is malformed with NoPrefilter).
			name:  "invalid JSON the prefilter skips",
			input: lines(`{"a":1,}`, execLine),
			lines: 2, events: 2, hits: []string{"2:R1"},
		},
		{
			// Line 1 holds R3's literals, and its code 403 is what rules it
			// out: the walk rules it out before it is validated, so it
			// stays an event (malformed with NoPrefilter). Line 2 is as
			// broken, and R3 matches it: validated, malformed.
			name: "invalid JSON a condition rules out",
			input: lines(
				strings.NewReplacer(`"level":"Metadata"`, `"level":Metadata`, `"verb":"get"`, `"verb":"get","responseStatus":{"code":403}`).Replace(wsExecLine),
				strings.Replace(wsExecLine, `"level":"Metadata"`, `"level":Metadata`, 1),
				execLine),
			lines: 3, events: 2, malformed: 1, hits: []string{"3:R1"},
			problems: []string{"2:invalid JSON"},
		},
		{
			// The last of repeated keys wins, on the fields the rules read:
			// a walk that saw both codes (or verbs) would rule line 1 out
			// and match line 3 as R1.
			name: "repeated keys the rules read",
			input: lines(
				strings.Replace(wsExecLine, `"verb":"get"`, `"verb":"get","responseStatus":{"code":403},"responseStatus":{"code":101}`, 1),
				strings.Replace(wsExecLine, `"verb":"get"`, `"verb":"get","responseStatus":{"code":101},"responseStatus":{"code":403}`, 1),
				strings.Replace(execLine, `"verb":"create"`, `"verb":"create","verb":"get"`, 1),
				strings.Replace(execLine, `"verb":"create"`, `"verb":"get","verb":"create"`, 1)),
			lines: 4, events: 4, hits: []string{"1:R3", "3:R3", "4:R1"},
		},
		{
			// A wrapper on one line cut short (an AKS blob, a download
			// that stopped): the events that ended before the cut are
			// read, the rest is one malformed record.
			name:  "one-line wrapper cut short",
			input: lines(noiseLine, eventList+execLine+","+wsExecLine+","+execLine[:100]),
			lines: 2, events: 3, malformed: 1, hits: []string{"2:R1", "2:R3"},
			problems: []string{"2:the line ends inside this value"},
		},
		{
			name:  "one-line wrapper cut right after an event",
			input: lines(eventList+execLine, noiseLine),
			lines: 2, events: 2, malformed: 1, hits: []string{"1:R1"},
			problems: []string{"1:before the wrapper closes"},
		},
		{
			// OTLP's records are deeper, and have arrays of objects of
			// their own (attributes): the cut is at a whole record.
			name: "one-line OTLP request cut short",
			input: lines(`{"resourceLogs":[{"resource":{"attributes":[{"key":"k8s.cluster.name","value":{"stringValue":"prod"}}]},"scopeLogs":[{"logRecords":[` +
				`{"attributes":[{"key":"a","value":{"stringValue":"b"}}],"body":{"stringValue":` + jsonString(execLine) + `}},` +
				`{"body":{"stringValue":` + jsonString(wsExecLine) + `},"attributes":[{"key":"a","value":{"stringValue":"b"}}]},` +
				`{"body":{"stringValue":` + jsonString(execLine)[:200]),
			lines: 1, events: 2, malformed: 1, hits: []string{"1:R1", "1:R3"},
			problems: []string{"1:the line ends inside this value"},
		},
		{
			name:  "one-line wrapper cut in its first event",
			input: lines(eventList + execLine[:300]),
			lines: 1, malformed: 1, problems: []string{"1:truncated JSON object"},
		},
		{
			name:  "an object that is no wrapper, cut",
			input: lines(`{"labels":[{"a":1},{"verb":"create","objectRef":{"subresource":"exec"}},{"b":`),
			lines: 1, malformed: 1, problems: []string{"1:truncated JSON object"},
		},
		{
			// Whole, with a comma after it: not cut, and not read.
			name:  "a whole wrapper followed by a comma",
			input: lines(eventList + execLine + "]},"),
			lines: 1, malformed: 1, problems: []string{"1:followed by a comma"},
		},
		{
			name:  "objects each followed by a comma",
			input: lines(execLine + "," + execLine + ","),
			lines: 1, malformed: 1, problems: []string{"1:followed by a comma"},
		},
		{
			// Nested too deep to be read, however it was cut.
			name:  "one-line wrapper cut deeper than 256 levels",
			input: lines(eventList + execLine + "," + strings.Repeat(`{"a":[`, 200)),
			lines: 1, malformed: 1, problems: []string{"1:truncated JSON object"},
		},
		{
			// A raw audit event is never a wrapper, whatever arrays of
			// objects it holds.
			name:  "a raw audit event cut after an array of objects",
			input: lines(strings.Replace(execLine, `"user":`, `"subjects":[{"kind":"User"},{"kind":"Group"}],"user":`, 1)[:700]),
			lines: 1, malformed: 1, problems: []string{"1:truncated JSON object"},
		},
		// kube-apiserver run with --audit-log-path=- writes its audit
		// events to stdout, and the container runtime stores them in the
		// CRI format, beside the server's own log lines on stderr.
		{
			name: "CRI container log",
			input: lines(criPrefix+"stdout F "+noiseLine, criPrefix+"stderr F I1120 09:41:07.161998       1 handler.go:286] Adding GroupVersion apps v1",
				criPrefix+"stdout F "+execLine, "2026-11-20T10:41:07.1+01:00 stdout F "+wsExecLine, "2026-11-20T09:41:07Z stdout F:x "+procLine),
			lines: 5, events: 4, skipped: 1, hits: []string{"3:R1", "4:R3", "5:R2"},
		},
		{
			// Many programs start a log line with a tag in brackets: text,
			// not a JSON array, in either layout; a JSON array is a stray.
			name: "CRI output in brackets",
			input: lines(criPrefix+"stdout F [INFO] plugin/reload: Running configuration", criPrefix+"stdout F "+execLine,
				criPrefix+"stdout F [1,2]", noiseLine, "[pod/coredns-1/coredns] [INFO] 10.0.0.5:53 NOERROR"),
			lines: 5, events: 2, skipped: 2, malformed: 1, hits: []string{"2:R1"}, problems: []string{"3:a JSON array"},
		},
		{
			name: "CRI output in brackets, in a log of lines",
			input: lines(noiseLine, criPrefix+"stdout F [INFO] plugin/reload: Running configuration", criPrefix+"stdout F [1,2]",
				"[pod/coredns-1/coredns] [INFO] 10.0.0.5:53 NOERROR", "[INFO] bare"),
			lines: 5, events: 1, skipped: 2, malformed: 2, problems: []string{"3:a JSON array", `5:not JSON (starts "[INFO] bare")`},
		},
		{
			name: "CRI line with no output", input: lines(criPrefix+"stdout F", criPrefix+"stdout F ", criPrefix+"stdout F "+execLine, criPrefix+"stdout F \t "+procLine),
			lines: 4, events: 2, hits: []string{"3:R1", "4:R2"},
		},
		{
			// The runtime splits a line over its limit: the pieces are
			// joined, and the event read at the first.
			name: "CRI line split by the runtime",
			input: lines(criPrefix+"stdout P "+execLine[:300], criPrefix+"stdout P "+execLine[300:400], criPrefix+"stdout F "+execLine[400:],
				criPrefix+"stdout F "+execLine),
			lines: 4, events: 2, hits: []string{"1:R1", "4:R1"},
		},
		{
			// Each stream's pieces are joined, whatever comes between.
			name: "CRI pieces of both streams",
			input: lines(criPrefix+"stdout P "+execLine[:300], criPrefix+"stderr F I1120 text", criPrefix+"stderr P "+procLine[:50],
				criPrefix+"stdout F "+execLine[300:], criPrefix+"stderr F "+procLine[50:]),
			lines: 5, events: 2, skipped: 1, hits: []string{"1:R1", "3:R2"},
		},
		{
			name:  "CRI split line the input does not end",
			input: lines(criPrefix+"stdout P "+execLine[:300], criPrefix+"stderr F "+noiseLine, criPrefix+"stderr F text"),
			lines: 3, events: 1, malformed: 1, skipped: 1,
			problems: []string{"1:" + criUnended + "; auditID"},
		},
		{
			// The first line decides: where it is no container log, a split
			// line is not joined, and its first piece is named with its
			// request; the rest is container output that is not JSON.
			name: "CRI lines in a log of lines",
			input: lines(noiseLine, criPrefix+"stdout P "+execLine[:300], criPrefix+"stdout P "+execLine[300:400], criPrefix+"stdout F "+execLine[400:],
				criPrefix+"stdout F "+execLine, criPrefix+"stdout F", criPrefix+"stdout F \t "),
			lines: 7, blank: 2, events: 2, malformed: 1, skipped: 2, hits: []string{"5:R1"},
			problems: []string{"2:" + criSplit + "; auditID"},
		},
		{
			// kubectl logs --prefix and --timestamps of an API server that
			// writes its audit log to stdout: text after them is the
			// server's output, skipped, unless an object is in it; text
			// alone is malformed.
			name: "kubectl logs --prefix --timestamps",
			input: lines("[pod/kube-apiserver-cp-1/kube-apiserver] 2026-11-20T09:41:07.160199123Z "+execLine,
				"[pod/kube-apiserver-cp-1/kube-apiserver] 2026-11-20T09:41:07.2Z I1120 09:41:07.161998       1 handler.go:286] Adding GroupVersion apps v1",
				"2026-11-20T09:41:07.3Z "+procLine, "[pod/kube-apiserver-cp-1/kube-apiserver] "+wsExecLine,
				"2026-11-20T09:41:07.4Z W1120 webhook said {\"allowed\":false}", "I1120 09:41:07.161998       1 handler.go:286] Adding GroupVersion apps v1",
				"[pod/a] "+execLine),
			lines: 7, events: 3, skipped: 1, malformed: 3, hits: []string{"1:R1", "3:R2", "4:R3"},
			problems: []string{"5:not JSON", "6:not JSON", `7:not JSON (starts "[pod/a] {\"kind\":\"Event\",`},
		},
		{
			// A piece may end in '}' where the runtime cut it: it is not
			// an event all the same.
			name:  "CRI piece that looks whole, in a log of lines",
			input: lines(noiseLine, criPrefix+"stdout P "+execLine, criPrefix+"stdout F "+noiseLine),
			lines: 3, events: 2, malformed: 1, problems: []string{"2:container runtime split"},
		},
		{
			// Only the runtime's own form is stripped: a time and stream
			// with no tag, or a tag of another kind, is not output.
			name: "not quite CRI",
			input: lines(criPrefix+"stdout "+execLine, criPrefix+"stdout X "+execLine, "2026-11-20 09:41:07Z stdout F "+execLine,
				"2026-11-20T09:41:07.Z stdout F "+execLine, "2026-11-20T09:41:07+0100 stdout F "+execLine, criPrefix+"stdin F "+execLine),
			lines: 6, malformed: 6,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ref string
			for _, size := range []int{tc.opts.ChunkSize, 1, 64, 4 << 20} {
				for _, workers := range []int{1, 4} {
					for _, noPrefilter := range []bool{false, true} {
						opts := tc.opts
						opts.Rules, opts.Workers, opts.NoPrefilter, opts.MaxProblems = rs, workers, noPrefilter, 100
						if size != 0 {
							opts.ChunkSize = size
						}
						where := fmt.Sprintf("chunk=%d workers=%d noPrefilter=%v", opts.ChunkSize, workers, noPrefilter)
						res := scanString(t, tc.input, opts)
						checkInvariants(t, res)
						st := res.Inputs[0]
						if got := hits(res, rs, 0); !slices.Equal(got, tc.hits) {
							t.Errorf("%s: matches %v, want %v", where, got, tc.hits)
						}
						if st.Lines != tc.lines || st.Blank != tc.blank || st.Overlong != tc.overlong {
							t.Errorf("%s: lines/blank/overlong %d/%d/%d, want %d/%d/%d",
								where, st.Lines, st.Blank, st.Overlong, tc.lines, tc.blank, tc.overlong)
						}
						if st.Skipped != tc.skipped {
							t.Errorf("%s: skipped %d, want %d", where, st.Skipped, tc.skipped)
						}
						if !noPrefilter && (st.Events != tc.events || st.Malformed != tc.malformed) {
							t.Errorf("%s: events/malformed %d/%d, want %d/%d", where, st.Events, st.Malformed, tc.events, tc.malformed)
						}
						if st.Bytes != int64(len(tc.input)) {
							t.Errorf("%s: bytes %d, want %d", where, st.Bytes, len(tc.input))
						}
						if !noPrefilter {
							checkProblems(t, where, res, tc.problems)
						}
						if st.Err != nil {
							t.Errorf("%s: input error %v", where, st.Err)
						}
						if got := canonEvents(res); ref == "" {
							ref = got
						} else if got != ref {
							t.Errorf("%s: events differ from the first run: %s", where, firstDiff(got, ref))
						}
					}
				}
			}
		})
	}
}

// checkProblems compares problems with "line:reason substring" entries,
// when the test lists any.
func checkProblems(t *testing.T, where string, res *Result, want []string) {
	t.Helper()
	if want == nil {
		return
	}
	if len(res.Problems) != len(want) {
		t.Errorf("%s: %d problems %v, want %d", where, len(res.Problems), res.Problems, len(want))
		return
	}
	for i, w := range want {
		line, reason, _ := strings.Cut(w, ":")
		p := res.Problems[i]
		if fmt.Sprint(p.Line) != line || !strings.Contains(p.Reason, reason) {
			t.Errorf("%s: problem %d is line %d %q, want line %s mentioning %q", where, i, p.Line, p.Reason, line, reason)
		}
	}
}

// eventList starts an EventList on one line, for its items to follow.
const eventList = `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[`

// TestCutWrapperLinePlaces: the events of a one-line wrapper cut short
// are placed where they start on the line, and its malformed rest where
// the last event read ends, numbered after the events.
func TestCutWrapperLinePlaces(t *testing.T) {
	rs := builtinRules(t)
	line := "  " + eventList + execLine + ", " + wsExecLine + ",\t" + execLine[:150]
	input := noiseLine + "\n" + line
	for _, size := range []int{16, 4 << 20} {
		res := scanString(t, input, Options{Rules: rs, ChunkSize: size})
		checkInvariants(t, res)
		first := len(noiseLine) + 1 + len("  ") + len(eventList)
		second := first + len(execLine) + len(", ")
		rest := second + len(wsExecLine) + len(",\t")
		if len(res.Events) != 2 {
			t.Fatalf("chunk %d: events %+v", size, res.Events)
		}
		for i, want := range []int{first, second} {
			if ev := res.Events[i]; ev.Line != 2 || ev.Offset != int64(want) || ev.Index != i+1 {
				t.Errorf("chunk %d: event %d at %d#%d offset %d, want 2#%d offset %d", size, i, ev.Line, ev.Index, ev.Offset, i+1, want)
			}
		}
		if len(res.Problems) != 1 {
			t.Fatalf("chunk %d: problems %+v", size, res.Problems)
		}
		if p := res.Problems[0]; p.Line != 2 || p.Offset != int64(rest) || p.Index != 3 {
			t.Errorf("chunk %d: problem at %d#%d offset %d, want 2#3 offset %d", size, p.Line, p.Index, p.Offset, rest)
		}
		if st := res.Inputs[0]; st.Envelopes != 1 || st.Unwrapped != 3 || st.Events != 3 || st.Malformed != 1 {
			t.Errorf("chunk %d: envelopes %d unwrapped %d events %d malformed %d, want 1 3 3 1", size, st.Envelopes, st.Unwrapped, st.Events, st.Malformed)
		}
	}
}

// TestProblemOffsets: a problem's offset is where its line starts in the
// decompressed stream.
func TestProblemOffsets(t *testing.T) {
	rs := builtinRules(t)
	input := lines(execLine, "junk", "", "{\x00}", `{"pad":"`+strings.Repeat("x", 2000)+`"}`, "[]", execLine[:40])
	for _, size := range []int{16, 4 << 20} {
		res := scanString(t, input, Options{Rules: rs, ChunkSize: min(size, 1024), MaxLineSize: 1024})
		lineStarts := []int{0}
		for i, c := range input {
			if c == '\n' {
				lineStarts = append(lineStarts, i+1)
			}
		}
		if len(res.Problems) != 5 {
			t.Fatalf("problems %v, want 5", res.Problems)
		}
		for _, p := range res.Problems {
			if want := int64(lineStarts[p.Line-1]); p.Offset != want {
				t.Errorf("chunk %d: problem on line %d (%s) at offset %d, want %d", size, p.Line, p.Reason, p.Offset, want)
			}
		}
		if ev := res.Events; len(ev) != 1 || ev[0].Offset != 0 || ev[0].Line != 1 {
			t.Errorf("events %+v", ev)
		}
	}
}

// TestMaxProblems: only the first MaxProblems locations are kept, in line
// order; the counts stay complete.
func TestMaxProblems(t *testing.T) {
	rs := builtinRules(t)
	var b strings.Builder
	for i := range 500 {
		if i%3 == 0 {
			b.WriteString("bad line\n")
		} else {
			b.WriteString(noiseLine + "\n")
		}
	}
	for _, tc := range []struct{ max, want int }{{0, DefaultMaxProblems}, {5, 5}, {1000, 167}} {
		res := scanString(t, b.String(), Options{Rules: rs, ChunkSize: 100, Workers: 4, MaxProblems: tc.max})
		if len(res.Problems) != tc.want {
			t.Errorf("MaxProblems %d: kept %d problems, want %d", tc.max, len(res.Problems), tc.want)
		}
		for i, p := range res.Problems {
			if p.Line != int64(3*i+1) {
				t.Errorf("MaxProblems %d: problem %d on line %d, want %d", tc.max, i, p.Line, 3*i+1)
				break
			}
		}
		if res.Inputs[0].Malformed != 167 {
			t.Errorf("malformed %d, want 167", res.Inputs[0].Malformed)
		}
	}
}

// TestOverlongLineMemoryBounded feeds a 50 MiB line through standard
// input, produced lazily, between two execs: the line is skipped and
// counted, the lines after it keep their numbers, and the scan allocates
// far less than the line's size.
func TestOverlongLineMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 100 MiB")
	}
	rs := builtinRules(t)
	const lineSize = 100 << 20
	for _, tc := range []struct {
		name     string
		opts     Options
		maxAlloc uint64
	}{
		// The default limit (16 MiB) grows a buffer to 16 MiB and no more.
		{"default limit", Options{}, 48 << 20},
		{"1 MiB limit", Options{ChunkSize: 64 << 10, MaxLineSize: 1 << 20}, 8 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := &lazyLine{
				prefix: []byte(execLine + "\n" + `{"verb":"create","pad":"`),
				fill:   'x',
				n:      lineSize,
				suffix: []byte(`"}` + "\n" + noiseLine + "\n" + execLine + "\n"),
			}
			opts := tc.opts
			opts.Rules, opts.Stdin, opts.Workers = rs, in, 2
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			res := mustScan(t, []Input{{Name: Stdin}}, opts)
			runtime.ReadMemStats(&after)
			checkInvariants(t, res)
			st := res.Inputs[0]
			if got := hits(res, rs, 0); !slices.Equal(got, []string{"1:R1", "4:R1"}) {
				t.Errorf("matches %v, want [1:R1 4:R1]", got)
			}
			if st.Lines != 4 || st.Overlong != 1 || st.Events != 3 {
				t.Errorf("lines %d overlong %d events %d, want 4 1 3", st.Lines, st.Overlong, st.Events)
			}
			if len(res.Problems) != 1 || res.Problems[0].Line != 2 || res.Problems[0].Offset != int64(len(execLine)+1) {
				t.Errorf("problems %+v, want line 2 at offset %d", res.Problems, len(execLine)+1)
			}
			if want := int64(len(execLine)+1) + int64(len(`{"verb":"create","pad":"`)) + lineSize + 3 + int64(len(noiseLine)+1); res.Events[1].Offset != want {
				t.Errorf("line 4 at offset %d, want %d", res.Events[1].Offset, want)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > tc.maxAlloc {
				t.Errorf("scan allocated %d MiB for a %d MiB line, want at most %d MiB", alloc>>20, lineSize>>20, tc.maxAlloc>>20)
			} else {
				t.Logf("allocated %.1f MiB", float64(alloc)/(1<<20))
			}
		})
	}
}

// TestOverlongRecordMemoryBounded: in whole-file JSON a 100 MiB value is
// skipped with memory bounded by the limit, and the values around it are
// read.
func TestOverlongRecordMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 100 MiB")
	}
	rs := builtinRules(t)
	const size = 100 << 20
	in := &lazyLine{
		prefix: []byte("[\n" + execLine + ",\n" + `{"verb":"create","pad":"`),
		fill:   'x',
		n:      size,
		suffix: []byte(`"},` + "\n" + execLine + "\n]\n"),
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res := mustScan(t, []Input{{Name: Stdin}}, Options{Rules: rs, Stdin: in, MaxLineSize: 1 << 20, Workers: 2})
	runtime.ReadMemStats(&after)
	checkInvariants(t, res)
	st := res.Inputs[0]
	if st.Layout != LayoutJSON || st.Overlong != 1 || st.Events != 2 || st.Lines != 5 {
		t.Errorf("layout %s overlong %d events %d lines %d, want json 1 2 5", st.Layout, st.Overlong, st.Events, st.Lines)
	}
	if got := hits(res, rs, 0); !slices.Equal(got, []string{"2:R1", "4:R1"}) {
		t.Errorf("matches %v", got)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 24<<20 {
		t.Errorf("allocated %d MiB for a %d MiB value with a 1 MiB limit", alloc>>20, size>>20)
	}
}

// padTo pads an event with a field so that it is exactly n bytes long.
func padTo(event string, n int) string {
	pad := n - len(event) - len(`"pad":"",`)
	if pad < 0 {
		panic("event too long to pad")
	}
	return strings.Replace(event, `"level"`, `"pad":"`+strings.Repeat("p", pad)+`","level"`, 1)
}

// TestSelectors: an event that only a selector matches is returned with
// its selector and no rule; one matching both carries both.
func TestSelectors(t *testing.T) {
	rs := builtinRules(t)
	sel := []Selector{
		{Name: "complete", Expr: mustExpr(t, `kubernetes.audit.stage:"ResponseComplete"`)},
		{Name: "exec", Expr: mustExpr(t, `kubernetes.audit.objectRef.subresource:exec`)},
	}
	input := lines(noiseLine, execLine, wsExecLine, procLine)
	for _, noPrefilter := range []bool{false, true} {
		res := scanString(t, input, Options{Rules: rs, Selectors: sel, NoPrefilter: noPrefilter})
		checkInvariants(t, res)
		var got []string
		for _, ev := range res.Events {
			got = append(got, fmt.Sprintf("%d:%v:%v", ev.Line, len(ev.Rules), ev.Selectors))
		}
		want := []string{"1:0:[0]", "2:1:[1]", "3:1:[0 1]", "4:1:[]"}
		if !slices.Equal(got, want) {
			t.Errorf("noPrefilter=%v: events %v, want %v", noPrefilter, got, want)
		}
	}
}

// TestOptionErrors: Scan fails only on rules it cannot run.
func TestOptionErrors(t *testing.T) {
	if _, err := Scan(t.Context(), nil, Options{Rules: []*rules.Rule{{ID: "raw"}}}); err == nil {
		t.Error("an uncompiled rule was accepted")
	}
	res, err := Scan(t.Context(), []Input{{Name: Stdin}}, Options{Stdin: strings.NewReader(lines(execLine, "junk")), ParseFirst: -1})
	if err != nil {
		t.Fatal(err)
	}
	// No rules: nothing matches, but every line is still accounted for.
	if st := res.Inputs[0]; len(res.Events) != 0 || st.Lines != 2 || st.Malformed != 1 || st.Parsed != 0 {
		t.Errorf("no rules: events %v, stats %+v", res.Events, st)
	}
}

// TestProgress: progress comes in order, never goes back, and ends at the
// totals of the Result.
func TestProgress(t *testing.T) {
	rs := builtinRules(t)
	dir := t.TempDir()
	data := []byte(strings.Repeat(lines(noiseLine, execLine, "junk"), 200))
	gz := gzipBytes(t, data)
	a := writeFile(t, dir+"/a.log", data)
	b := writeFile(t, dir+"/b.log.gz", gz)
	var last Progress
	calls := 0
	res := mustScan(t, []Input{{Name: a}, {Name: b}}, Options{Rules: rs, ChunkSize: 4096, Workers: 4, Progress: func(p Progress) {
		calls++
		if p.InputIndex < last.InputIndex || p.Bytes < last.Bytes || p.RawBytes < last.RawBytes ||
			p.Events < last.Events || p.Matches < last.Matches {
			t.Errorf("progress went back: %+v after %+v", p, last)
		}
		last = p
	}})
	if calls < 10 {
		t.Errorf("%d progress calls", calls)
	}
	want := Progress{Input: b, InputIndex: 1, RawBytes: int64(len(data) + len(gz)), Bytes: int64(2 * len(data)),
		Events: res.Inputs[0].Events + res.Inputs[1].Events, Matches: int64(len(res.Events))}
	if last != want {
		t.Errorf("last progress %+v, want %+v", last, want)
	}
}

// TestSelectorLimit: a limited selector keeps the first events of each key
// in input order and counts the rest; rule hits are never dropped and use
// no room.
func TestSelectorLimit(t *testing.T) {
	var in []string
	for i := range 7 {
		for _, leader := range []string{"L1", "L2"} {
			in = append(in, fmt.Sprintf(`{"process":{"entry_leader":{"entity_id":%q},"name":"cmd%d"},"n":%d}`, leader, i, i))
		}
	}
	in = append(in, `{"process":{"entry_leader":{"entity_id":"L1"},"name":"bash"},"n":99}`)
	sels := []Selector{{Name: "commands", Expr: mustExpr(t, `process.entry_leader.entity_id:*`), Keys: []*rules.Field{rules.NewField("process.entry_leader.entity_id")}, Limit: 3}}
	rs := []*rules.Rule{customRule(t, "bash", `process.name:"bash"`)}
	for _, chunk := range []int{64, 4 << 20} {
		for _, workers := range []int{1, 4} {
			res := scanString(t, lines(in...), Options{Rules: rs, Selectors: sels, ChunkSize: chunk, Workers: workers})
			var got []string
			for _, ev := range res.Events {
				got = append(got, fmt.Sprintf("%d:%v", ev.Line, ev.Selectors))
			}
			want := []string{"1:[0]", "2:[0]", "3:[0]", "4:[0]", "5:[0]", "6:[0]", "15:[0]"} // the rule hit is kept and uses no room
			if !slices.Equal(got, want) {
				t.Errorf("chunk %d workers %d: events %v, want %v", chunk, workers, got, want)
			}
			if fmt.Sprint(res.Overflow) != "[{0 L1 4 false} {0 L2 4 false}]" {
				t.Errorf("overflow %v", res.Overflow)
			}
		}
	}
}

// With an Order, a limited selector keeps the earliest events by it, not
// the first read: lines in reverse time order (and two without a time,
// which count as latest) keep the same three as in time order, whatever
// the chunks and workers; an event a rule matched is kept and uses no
// room, and the overflow counts the rest.
func TestSelectorLimitByOrder(t *testing.T) {
	var in []string
	for i := 9; i >= 0; i-- {
		in = append(in, fmt.Sprintf(`{"@timestamp":"2026-11-20T10:00:0%dZ","process":{"entry_leader":{"entity_id":"L1"},"name":"cmd%d"}}`, i, i))
	}
	in = append(in, `{"process":{"entry_leader":{"entity_id":"L1"},"name":"untimed"}}`, `{"@timestamp":"2026-11-20T10:00:09Z","process":{"entry_leader":{"entity_id":"L1"},"name":"bash"}}`)
	in = append([]string{`{"process":{"entry_leader":{"entity_id":"L1"},"name":"untimed0"}}`}, in...)
	ts := rules.NewField("@timestamp")
	name := rules.NewField("process.name")
	sels := []Selector{{Name: "commands", Expr: mustExpr(t, `process.entry_leader.entity_id:*`), Keys: []*rules.Field{rules.NewField("process.entry_leader.entity_id")}, Limit: 3, Order: ts}}
	rs := []*rules.Rule{customRule(t, "bash", `process.name:"bash"`)}
	for _, chunk := range []int{64, 4 << 20} {
		for _, workers := range []int{1, 4} {
			res := scanString(t, lines(in...), Options{Rules: rs, Selectors: sels, ChunkSize: chunk, Workers: workers})
			checkInvariants(t, res)
			var got []string
			for _, ev := range res.Events {
				got = append(got, fmt.Sprintf("%s:%v", rules.First(ev.Doc, name).String(), ev.Selectors))
			}
			// In input order: cmd2, cmd1, cmd0 are the earliest three;
			// bash matched the rule, so it is kept and uses no room.
			want := []string{"cmd2:[0]", "cmd1:[0]", "cmd0:[0]", "bash:[0]"}
			if !slices.Equal(got, want) {
				t.Errorf("chunk %d workers %d: events %v, want %v", chunk, workers, got, want)
			}
			if fmt.Sprint(res.Overflow) != "[{0 L1 9 false}]" {
				t.Errorf("chunk %d workers %d: overflow %v, want the 9 others", chunk, workers, res.Overflow)
			}
		}
	}
}

// With a Group, a limited selector keeps the events of only the
// GroupLimit earliest keys of each group, by GroupOrder: sessions read in
// any order keep the same two earliest of each container, a session that
// starts earlier pushes out the latest one kept (its events are let go),
// a key without a GroupOrder date is placed by its Order date, and what
// is left out is counted under the group, each key's own overflow under
// the key. A rule hit uses no room, but in a selector that may be left to
// a second pass (OnlyFor; here read in one, from stdin) it counts like
// any event, as that pass would.
func TestSelectorGroupLimit(t *testing.T) {
	session := func(c string, s int, start string) []string {
		var out []string
		for i := range 3 {
			out = append(out, fmt.Sprintf(`{"@timestamp":"2026-11-20T10:0%d:0%dZ","c":%q,"leader":"%s-S%d","start":%q,"name":"%s-S%d-%d"}`, s, i, c, c, s, start, c, s, i))
		}
		return out
	}
	var sessions [][]string
	for s := 1; s <= 5; s++ {
		sessions = append(sessions, session("A", s, fmt.Sprintf("2026-11-20T10:0%d:00Z", s)))
	}
	sessions = append(sessions, session("B", 1, ""), session("B", 2, "2026-11-20T10:02:00Z"), session("B", 3, "not a date"))
	name := rules.NewField("name")
	rs := []*rules.Rule{customRule(t, "marked", `name:"A-S4-1"`)}
	for _, deferrable := range []bool{false, true} {
		sels := []Selector{{Name: "commands", Expr: mustExpr(t, `leader:*`), Keys: []*rules.Field{rules.NewField("leader")}, Limit: 2, Order: rules.NewField("@timestamp"),
			Group: []*rules.Field{rules.NewField("c")}, GroupLimit: 2, GroupOrder: rules.NewField("start")}}
		marked, dropped := "A-S4-1:[0]", int64(8)
		if deferrable {
			sels[0].OnlyFor = func(rules.Document) bool { return true }
			marked, dropped = "A-S4-1:[]", 9
		}
		for _, order := range [][]int{{0, 1, 2, 3, 4, 5, 6, 7}, {4, 3, 7, 2, 6, 1, 0, 5}, {2, 4, 0, 3, 1, 5, 7, 6}} {
			var in []string
			for _, o := range order {
				in = append(in, sessions[o]...)
			}
			for _, workers := range []int{1, 4} {
				res := scanString(t, lines(in...), Options{Rules: rs, Selectors: sels, ChunkSize: 64, Workers: workers})
				checkInvariants(t, res)
				var got []string
				for _, ev := range res.Events {
					got = append(got, fmt.Sprintf("%s:%v", rules.First(ev.Doc, name).String(), ev.Selectors))
				}
				slices.Sort(got)
				// A: S1 and S2, two events each; S4-1 matched the rule: kept
				// (not as the selector's when deferrable). B: S1 has no start and S3 no date,
				// so they are placed by their first event's @timestamp,
				// 10:01 and 10:03: S1 and S2 are the earliest.
				want := []string{"A-S1-0:[0]", "A-S1-1:[0]", "A-S2-0:[0]", "A-S2-1:[0]", marked, "B-S1-0:[0]", "B-S1-1:[0]", "B-S2-0:[0]", "B-S2-1:[0]"}
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("deferrable %t order %v workers %d: events %v, want %v", deferrable, order, workers, got, want)
				}
				var wantOver []Overflow
				for _, k := range slices.Sorted(slices.Values([]string{"A-S1", "A-S2", "B-S1", "B-S2"})) {
					wantOver = append(wantOver, Overflow{Key: k, Dropped: 1})
				}
				wantOver = append(wantOver, Overflow{Key: "A", Dropped: dropped, Group: true}, Overflow{Key: "B", Dropped: 3, Group: true})
				if !slices.Equal(res.Overflow, wantOver) {
					t.Errorf("deferrable %t order %v workers %d: overflow %v, want %v", deferrable, order, workers, res.Overflow, wantOver)
				}
			}
		}
	}
}

// TestSelectorGroupCompacts: sessions read newest first push out the
// session kept before them, one after the other, so the collector drops
// the events let go during the scan (compact) and renumbers those it
// keeps. The result is the earliest sessions' events, as if read oldest
// first, with the events a rule or an unlimited selector holds untouched.
func TestSelectorGroupCompacts(t *testing.T) {
	n := 3 * minCompact
	var in []string
	for s := n - 1; s >= 0; s-- {
		start := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC).Add(time.Duration(s) * time.Second).Format(time.RFC3339)
		for i := range 2 {
			in = append(in, fmt.Sprintf(`{"@timestamp":%q,"c":"A","leader":"S%d","start":%q,"name":"S%d-%d","every":%d}`, start, s, start, s, i, s%7))
		}
	}
	sels := []Selector{
		{Name: "sessions", Expr: mustExpr(t, `leader:*`), Keys: []*rules.Field{rules.NewField("leader")}, Limit: 2, Order: rules.NewField("@timestamp"),
			Group: []*rules.Field{rules.NewField("c")}, GroupLimit: 3, GroupOrder: rules.NewField("start")},
		{Name: "sevenths", Expr: mustExpr(t, `every:0`)},
	}
	rs := []*rules.Rule{customRule(t, "marked", `name:"S5000-1"`)}
	name := rules.NewField("name")
	for _, workers := range []int{1, 4} {
		res := scanString(t, lines(in...), Options{Rules: rs, Selectors: sels, Workers: workers, ChunkSize: 4096})
		checkInvariants(t, res)
		var grouped, sevenths []string
		for _, ev := range res.Events {
			if slices.Contains(ev.Selectors, 0) {
				grouped = append(grouped, rules.First(ev.Doc, name).String())
			}
			if slices.Contains(ev.Selectors, 1) {
				sevenths = append(sevenths, rules.First(ev.Doc, name).String())
			}
			if len(ev.Selectors) == 0 {
				t.Errorf("workers %d: event %s kept with no selector", workers, rules.First(ev.Doc, name).String())
			}
		}
		slices.Sort(grouped)
		if want := []string{"S0-0", "S0-1", "S1-0", "S1-1", "S2-0", "S2-1", "S5000-1"}; !slices.Equal(grouped, want) { // the rule hit uses no room
			t.Errorf("workers %d: grouped %v, want %v", workers, grouped, want)
		}
		if want := 2 * ((n + 6) / 7); len(sevenths) != want {
			t.Errorf("workers %d: %d events of the unlimited selector, want %d", workers, len(sevenths), want)
		}
		if want := []Overflow{{Key: "A", Dropped: int64(2*n - 7), Group: true}}; !slices.Equal(res.Overflow, want) {
			t.Errorf("workers %d: overflow %v, want %v", workers, res.Overflow, want)
		}
	}
}

// TestSampleLinesCountsEveryNeedle checks the one-pass count adapt orders
// clauses by against a search per needle, line by line: on our fixtures of
// every shape, for the needles of the operator rules and the built-ins
// (case-insensitive ones, with two anchor bytes, among them), and with
// more needles than are counted in a whole sample.
func TestSampleLinesCountsEveryNeedle(t *testing.T) {
	rs := operatorRules(t)
	p, err := newPlan(Options{Rules: rs})
	if err != nil {
		t.Fatal(err)
	}
	needles := append(neededIn(p.static.reqs), neededIn(p.static.loose)...)
	var sample []byte
	for _, dir := range []string{"../testdata/families", "../testdata/audit", "../testdata/process", "../testdata/wrapped"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			sample = append(sample, b...)
			if len(b) > 0 && b[len(b)-1] != '\n' {
				sample = append(sample, '\n')
			}
		}
	}
	// want counts the lines on which the needle matches with the anchors
	// the one-byte groups of all of them look for it by.
	freq := newSampledFreq(sample)
	want := func(sample []byte, s *search, n rules.Needle) int {
		c := 0
		for line := range bytes.Lines(sample) {
			held := false
			for _, g := range s.groups {
				for k := range g.needles {
					if an := &g.needles[k]; an.n == n {
						for j := range line {
							held = held || line[j] == g.b && an.at(line, j)
						}
					}
				}
			}
			if held {
				c++
			}
		}
		return c
	}
	for _, tc := range []struct {
		name    string
		needles rules.Clause
	}{
		{"few", needles[:min(len(needles), countNeedles)]},
		{"many", append(slices.Clone(needles), needles...)},
	} {
		distinct := map[rules.Needle]bool{}
		var list rules.Clause
		for _, n := range tc.needles {
			if !distinct[n] {
				list = append(list, n)
			}
			distinct[n] = true
		}
		s := groupSearch(list, freq, false) // as sampleLines groups them
		counted := sample
		if len(distinct) > countNeedles {
			counted = sample[:len(sample)*countNeedles/len(distinct)]
			counted = counted[:bytes.LastIndexByte(counted, '\n')+1]
		}
		got := sampleLines(sample, tc.needles, freq)
		held := 0
		for n := range distinct {
			w := want(counted, &s, n)
			if got[n] != w {
				t.Errorf("%s: needle %v: %d lines, want %d", tc.name, n, got[n], w)
			}
			if w > 0 {
				held++
			}
		}
		if len(got) != len(distinct) || held < len(distinct)/4 {
			t.Errorf("%s: %d needles counted of %d, %d on some line", tc.name, len(got), len(distinct), held)
		}
	}
}

// TestJoinedCountsValuesOnALine: an envelope that is several values one
// after another on a line is joined; a wrapper, or one event, is not.
func TestJoinedCountsValuesOnALine(t *testing.T) {
	rs := builtinRules(t)
	res := scanString(t, lines(procLine+procLine, eventList+execLine+","+execLine+"]}", execLine, noiseLine+execLine, procLine+" "+eventList+execLine+"]}"),
		Options{Rules: rs, NoPrefilter: true})
	checkInvariants(t, res)
	st := res.Inputs[0]
	if st.Envelopes != 4 || st.Joined != 3 || st.Unwrapped != 8 || st.Events != 9 {
		t.Errorf("envelopes %d joined %d unwrapped %d events %d, want 4, 3, 8, 9", st.Envelopes, st.Joined, st.Unwrapped, st.Events)
	}
}

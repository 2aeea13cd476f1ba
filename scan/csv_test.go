package scan

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// csvRecords cuts a CSV export into its records, as "line:data", or
// "!line:reason" for a broken one and "overlong@line" for an overlong one.
func csvRecords(in string, limit int) []string {
	sp := newCSVSplitter(strings.NewReader(in))
	var out []string
	for {
		rec, ok := sp.next(nil, limit)
		if !ok {
			return out
		}
		switch rec.status {
		case recordOK:
			out = append(out, fmt.Sprintf("%d:%s", rec.line, rec.data))
		case recordBroken:
			out = append(out, fmt.Sprintf("!%d:%s", rec.line, rec.reason))
		default:
			out = append(out, fmt.Sprintf("overlong@%d", rec.line))
		}
	}
}

// Each row becomes a JSON object of its non-empty cells under their
// column names; Kibana's quoting, formula escapes, lists, objects and
// dates are undone, and rows are placed on the line they start on.
func TestCSVRows(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"kibana quoting", "\"'@timestamp\",\"user.name\",\"process.args\"\n" +
			"\"Nov 20, 2026 @ 09:41:07.160\",\"alice@example.com\",\"[\"\"sh\"\",\"\"'-c\"\"]\"\n",
			[]string{`2:{"@timestamp":"2026-11-20T09:41:07.16Z","user.name":"alice@example.com","process.args":["sh","'-c"]}`}},
		{"formula escape undone, empty cells left out", "event.action,process.entity_id,user.id\n'-x,'+R70h,\n",
			[]string{`2:{"event.action":"-x","process.entity_id":"+R70h"}`}},
		{"objects, and a quoted cell over lines", "kubernetes.audit.requestObject,message\n" +
			"\"{\"\"spec\"\":{\"\"a\"\":1}}\",\"two\nlines, \"\"quoted\"\"\"\nx,y\n",
			[]string{`2:{"kubernetes.audit.requestObject":{"spec":{"a":1}},"message":"two\u000alines, \"quoted\""}`, `4:{"kubernetes.audit.requestObject":"x","message":"y"}`}},
		{"a Logs Insights @message stays text", "@timestamp,@message\r\n2026-11-20 09:41:07.000,\"{\"\"kind\"\":\"\"Event\"\"}\"\r\n",
			[]string{`2:{"@timestamp":"2026-11-20 09:41:07.000","@message":"{\"kind\":\"Event\"}"}`}},
		{"a Splunk _raw and an Azure log_s stay text", "_time,_raw\n1,\"{\"\"a\"\":1}\"\n", []string{`2:{"_time":"1","_raw":"{\"a\":1}"}`}},
		{"an Azure log_s alone", "log_s\n\"{\"\"a\"\":1}\"\n", []string{`2:{"log_s":"{\"a\":1}"}`}},
		{"semicolons, BOM, blank lines", "\ufeff\n@timestamp;event.action\n\n1;exec\n\n",
			[]string{`4:{"@timestamp":"1","event.action":"exec"}`}},
		{"a row of too few cells", "@timestamp,event.action\n1\n2,b\n",
			[]string{"!2:a CSV row of 1 cells under a header of 2", `3:{"@timestamp":"2","event.action":"b"}`}},
		{"input ending inside a quoted cell", "@timestamp,event.action\n1,a\n2,\"b\n",
			[]string{`2:{"@timestamp":"1","event.action":"a"}`, "!3:truncated CSV: the input ends inside a quoted cell"}},
		{"last row without a newline", "@timestamp,event.action\n1,a",
			[]string{`2:{"@timestamp":"1","event.action":"a"}`}},
		{"an overlong row", "@timestamp,event.action\n1," + strings.Repeat("x", 2000) + "\n2,b\n",
			[]string{"overlong@2", `3:{"@timestamp":"2","event.action":"b"}`}},
		{"invalid UTF-8", "@timestamp,user.name\n1,a\xffb\n",
			[]string{`2:{"@timestamp":"1","user.name":"a` + "\ufffd" + `b"}`}},
	} {
		if got := csvRecords(tc.in, 1024); !slices.Equal(got, tc.want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

// A CSV export scans to the same findings as the NDJSON its rows came
// from, and its problems are located on the lines their rows start on.
func TestCSVScan(t *testing.T) {
	rs := builtinRules(t)
	in := "\"'@timestamp\",\"kubernetes.audit.verb\"\n1,get\nbroken\n" +
		"@timestamp,event.dataset,kubernetes.audit.annotations.authorization_k8s_io/decision,kubernetes.audit.verb,kubernetes.audit.objectRef.resource,kubernetes.audit.objectRef.subresource\n"
	res := scanString(t, in, Options{Rules: rs})
	checkInvariants(t, res)
	if st := res.Inputs[0]; st.Layout != LayoutCSV || st.Records != 3 || st.Malformed != 2 || st.Lines != 4 {
		t.Errorf("layout %s records %d malformed %d lines %d, want csv 3 2 4", st.Layout, st.Records, st.Malformed, st.Lines)
	}
	if got := problemLines(res, 0); !slices.Equal(got, []int64{3, 4}) {
		t.Errorf("problems on lines %v, want 3 and 4", got)
	}
	row := "\"Nov 20, 2026 @ 09:41:07.160\",kubernetes.audit_logs,allow,create,pods,exec\n"
	header := in[strings.LastIndex(in[:len(in)-1], "\n")+1:]
	res = scanString(t, header+row+strings.Replace(row, "allow", "forbid", 1)+row, Options{Rules: rs})
	checkInvariants(t, res)
	if got := hits(res, rs, 0); !slices.Equal(got, []string{"2:R1", "4:R1"}) {
		t.Errorf("matches %v, want R1 on lines 2 and 4", got)
	}
	if ev := res.Events; len(ev) > 0 && !bytes.Contains(ev[0].Raw, []byte(`"@timestamp":"2026-11-20T09:41:07.16Z"`)) {
		t.Errorf("raw %s", ev[0].Raw)
	}

	// Exports whose column holds the raw audit event as text: Azure Log
	// Analytics' AzureDiagnostics (log_s), Splunk (_raw).
	cell := `"` + strings.ReplaceAll(execLine, `"`, `""`) + `"`
	for _, in := range []string{
		"TimeGenerated,Category,log_s\n2026-11-20T09:41:07.16Z,kube-audit," + cell + "\n",
		"_time,host,_raw\n2026-11-20T09:41:07.160+00:00,cp-1," + cell + "\n",
	} {
		res = scanString(t, in, Options{Rules: rs})
		checkInvariants(t, res)
		if got := hits(res, rs, 0); !slices.Equal(got, []string{"2:R1"}) || res.Inputs[0].Shapes[ShapeShipped] != 1 {
			t.Errorf("%.40s: matches %v, shapes %v; want R1 on line 2, shipped-audit", in, got, res.Inputs[0].Shapes)
		}
	}
}

// FuzzCSVSplitter: any bytes after a header row cut into records without
// a panic, placed on lines that only grow, within the input, each record
// whole being a valid JSON object no longer than the limit.
func FuzzCSVSplitter(f *testing.F) {
	for _, s := range []string{
		"1,a\n2,\"b\"\"c\"\n",
		"\"x\ny\",'-z\n\"[\"\"a\"\"]\",\"{\"\"b\"\":1}\"\n",
		"\"open\n",
		"\r\n\r\n1,2,3\n,\n",
		"\"Nov 20, 2026 @ 09:41:07.160\",\xff\n",
	} {
		f.Add([]byte(s), uint16(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, limit uint16) {
		in := append([]byte("\"'@timestamp\",user.name\n"), data...)
		max := 64 + int(limit)%4096
		sp := newCSVSplitter(bytes.NewReader(in))
		lines := int64(bytes.Count(in, []byte{'\n'})) + 1
		last := int64(0)
		for {
			rec, ok := sp.next(nil, max)
			if !ok {
				break
			}
			if rec.line < last || rec.line < 2 || rec.line > lines {
				t.Fatalf("record on line %d after line %d, input of %d lines", rec.line, last, lines)
			}
			last = rec.line
			if rec.status == recordOK && (!checkJSON(rec.data).valid || rec.data[0] != '{' || len(rec.data) > max) {
				t.Fatalf("record %q is not a JSON object within %d bytes", rec.data, max)
			}
		}
		if sp.consumed() != int64(len(in)) {
			t.Fatalf("consumed %d of %d bytes", sp.consumed(), len(in))
		}
	})
}

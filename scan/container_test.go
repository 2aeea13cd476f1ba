package scan

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestCRILine(t *testing.T) {
	tests := []struct {
		line    string
		content string
		partial bool
		ok      bool
	}{
		{"2026-11-20T09:41:07.160199123Z stdout F {}", "{}", false, true},
		{"2026-11-20T09:41:07.160199123Z stderr P {\"a\":", "{\"a\":", true, true},
		{"2026-11-20T09:41:07Z stdout F x", "x", false, true},
		{"2026-11-20T10:41:07.1+01:00 stdout F x", "x", false, true},
		{"2026-11-20T04:11:07.1-05:30 stdout F x", "x", false, true},
		{"2026-11-20T09:41:07Z stdout F:future:flags x y", "x y", false, true},
		{"2026-11-20T09:41:07Z stdout F", "", false, true},
		{"2026-11-20T09:41:07Z stdout F  {}", " {}", false, true}, // the output keeps its own spaces
		{"2026-11-20T09:41:07Z stdout X {}", "", false, false},
		{"2026-11-20T09:41:07Z stdout {}", "", false, false},
		{"2026-11-20T09:41:07Z stdin F {}", "", false, false},
		{"2026-11-20T09:41:07Z  stdout F {}", "", false, false},
		{"2026-11-20T09:41:07 stdout F {}", "", false, false},   // no zone
		{"2026-11-20T09:41:07.Z stdout F {}", "", false, false}, // no fraction digits
		{"2026-11-20T09:41:07+0100 stdout F {}", "", false, false},
		{"2026-11-20 09:41:07Z stdout F {}", "", false, false},
		{"2026-1-20T09:41:07Z stdout F {}", "", false, false},
		{"1 stdout F {}", "", false, false},
		{"", "", false, false},
	}
	for _, tc := range tests {
		content, partial, ok := criLine([]byte(tc.line))
		if string(content) != tc.content || partial != tc.partial || ok != tc.ok {
			t.Errorf("criLine(%q) = %q, %v, %v; want %q, %v, %v", tc.line, content, partial, ok, tc.content, tc.partial, tc.ok)
		}
	}
}

// TestDockerJSONFile: a line of Docker's json-file log holds a line of
// output: an event is read with its shape, text is skipped, and a piece of
// a line Docker split is malformed with its request named. An object with
// other members, or another stream, is not such a line.
func TestDockerJSONFile(t *testing.T) {
	rs := builtinRules(t)
	docker := func(output, stream string) string {
		b, err := json.Marshal(output)
		if err != nil {
			t.Fatal(err)
		}
		return `{"log":` + string(b) + `,"stream":"` + stream + `","time":"2026-11-20T09:41:07.160199123Z"}`
	}
	input := lines(
		docker(execLine+"\n", "stdout"),
		docker("I1120 09:41:07.161998       1 handler.go:286] Adding GroupVersion apps v1\n", "stderr"),
		docker(execLine[:300], "stdout"),
		docker(execLine[300:]+"\n", "stdout"),
		docker(procLine+"\n", "stdout"),
		strings.Replace(docker(execLine+"\n", "stdout"), `"time"`, `"attrs":{"tag":"apiserver"},"time"`, 1),
		strings.Replace(docker(execLine+"\n", "stdout"), `{"log"`, `{"host":"n1","log"`, 1),
		docker(execLine+"\n", "stdin"),
	)
	for _, noPrefilter := range []bool{false, true} {
		for _, chunk := range []int{0, 64} {
			res := scanString(t, input, Options{Rules: rs, NoPrefilter: noPrefilter, ChunkSize: chunk})
			checkInvariants(t, res)
			where := fmt.Sprintf("noPrefilter=%v chunk=%d", noPrefilter, chunk)
			st := res.Inputs[0]
			if got, want := hits(res, rs, 0), []string{"1:R1", "5:R2", "6:R1"}; !slices.Equal(got, want) {
				t.Errorf("%s: matches %v, want %v", where, got, want)
			}
			if st.Skipped != 2 || st.SkipReasons[skipCRIText] != 2 {
				t.Errorf("%s: skipped %d %v, want 2 container output", where, st.Skipped, st.SkipReasons)
			}
			if st.Shapes[ShapeDocker] != 2 || st.Shapes[ShapeECS] != 3 {
				t.Errorf("%s: shapes %v, want docker-json-file 2, ecs 3 (a process event, other members, another stream)", where, st.Shapes)
			}
			if len(res.Problems) != 1 || res.Problems[0].Line != 3 || !strings.HasPrefix(res.Problems[0].Reason, dockerSplit+"; auditID ") ||
				res.Problems[0].Cut == nil {
				t.Errorf("%s: problems %+v, want line 3 split by Docker, naming its request", where, res.Problems)
			}
		}
	}
}

func TestDockerForced(t *testing.T) {
	tests := []struct {
		line string
		want bool
	}{
		{`{"log":"{\"a\":1}\n","stream":"stdout","time":"t"}`, false},  // a whole event
		{`{"log":"{\"a\":1}","stream":"stdout","time":"t"}`, true},     // a piece
		{`{"log":"{\"a\":\"x\\n","stream":"stdout","time":"t"}`, true}, // ends in a backslash and an n
		{`{"log":"{\"a\":\"x\\\n","stream":"stdout","time":"t"}`, false},
		{`{"log":"I1120 text\n","stream":"stderr","time":"t"}`, true}, // text, to count as skipped
		{`{"log":"","stream":"stdout","time":"t"}`, true},
		{`{"log":"{\"stream\":1}\n","stream":"stdout","time":"t"}`, false},
		{`{"log":"{\"a\":1}","time":"t"}`, false}, // not Docker's order: parsed as any record
		{`{"time":"t","log":"{\"a\":1}","stream":"stdout"}`, false},
		{`{"kind":"Event"}`, false},
	}
	for _, tc := range tests {
		if got := dockerForced([]byte(tc.line)); got != tc.want {
			t.Errorf("dockerForced(%s) = %v, want %v", tc.line, got, tc.want)
		}
	}
}

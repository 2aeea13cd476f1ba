package cmd

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/k8sexec/k8sexec/triage"
)

// FuzzScanReport runs the whole scan, triage and every report format on
// arbitrary input read from standard input: nothing may panic, the exit
// code is one of the documented ones, the machine formats parse, and the
// formats, machine ones too, hold no character a terminal acts on.
func FuzzScanReport(f *testing.F) {
	dir := f.TempDir()
	writeRule := func(name, id, title, query string) string {
		path := filepath.Join(dir, name)
		rule := "[rule]\nrule_id = \"" + id + "\"\nname = \"" + title + "\"\nseverity = \"medium\"\nrisk_score = 47\ntype = \"query\"\nlanguage = \"kuery\"\nquery = '" + query + "'\n"
		if err := os.WriteFile(path, []byte(rule), 0o644); err != nil {
			f.Fatal(err)
		}
		return path
	}
	ruleArgs := []string{
		"--rules", writeRule("any.toml", "fuzz-any", "Any event", `kubernetes.audit.auditID:* or process.entity_id:* or @timestamp:* or event.kind:*`),
		"--rules", writeRule("secrets.toml", "fuzz-secrets", "Secret read", `kubernetes.audit.objectRef.resource:secrets or kubernetes.audit.verb:create`),
		"--rules", writeRule("exec.toml", rule1, "Exec at level Request", `kubernetes.audit.level:Request and kubernetes.audit.objectRef.subresource:exec`),
	}
	// Seeds are a few lines each (alice's exec and the shell it started;
	// two execs that fit one session equally): the fuzzer minimizes every
	// input it finds interesting, at a whole scan per try.
	seed := func(files ...string) {
		var b []byte
		for i := 0; i < len(files); i += 2 {
			data, err := os.ReadFile(files[i])
			if err != nil {
				f.Fatal(err)
			}
			lines := strings.SplitAfter(string(data), "\n")
			for _, n := range strings.Split(files[i+1], ",") {
				k, err := strconv.Atoi(n)
				if err != nil || k < 1 || k > len(lines) {
					f.Fatalf("%s: no line %s", files[i], n)
				}
				b = append(b, lines[k-1]...)
			}
		}
		f.Add(b)
	}
	seed("../testdata/demo/kube-apiserver-audit.log", "7,8,41", "../testdata/demo/cloud-defend-process.ndjson", "3,4,5")
	seed("../testdata/sessions/audit_ambiguous.log", "1,2,3,4", "../testdata/sessions/process_ambiguous.ndjson", "1,2")
	// Sessions' ends: the shell's and one command's, and a one-off exec's.
	seed("../testdata/demo/kube-apiserver-audit.log", "8,13,14", "../testdata/demo/cloud-defend-process.ndjson", "3,5,6,15,16,20")
	f.Add([]byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"P","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/shop/pods?x=1\u0026tty=true","verb":"create","user":{"username":"ctl\u001b[2J"},"objectRef":{"resource":"pods","namespace":"shop"},"responseObject":{"metadata":{"name":"web-\u202e"}},"requestReceivedTimestamp":"2026-11-20T10:00:00Z","stageTimestamp":"bad"}
{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"S","stage":"RequestReceived","verb":"get","objectRef":{"resource":"secrets","namespace":"shop","name":"tls"},"requestReceivedTimestamp":1763632800000}
{"@timestamp":"2026-11-20T10:00:01Z","process":{"entity_id":"E2","entry_leader":{"entity_id":"E1"},"args":"not a list"}}
not json
`))
	f.Fuzz(func(t *testing.T, input []byte) {
		// The input once as it is, and once three times over with a limit
		// of two events per request or process (evidenceLimit), which
		// the copies then reach.
		for _, format := range []string{"json", "table", "timeline", "csv", "sarif", "json-copies"} {
			in := input
			if format == "json-copies" {
				format, in = "json", bytes.Repeat(append(bytes.TrimRight(input, "\n"), '\n'), 3)
				defer func(n int) { evidenceLimit = n }(evidenceLimit)
				evidenceLimit = 2
			}
			args := append([]string{"scan", "-q", "-f", format, "--now", "2026-12-01T00:00:00Z"}, ruleArgs...)
			out, stderr, code := run(t, bytes.NewReader(in), append(args, "-")...)
			if code != ExitOK && code != ExitFindings && code != ExitError {
				t.Fatalf("-f %s: exit %d\n%s", format, code, stderr)
			}
			switch format {
			case "json", "sarif":
				if !json.Valid([]byte(out)) {
					t.Fatalf("-f %s: output is not JSON:\n%s", format, out)
				}
			case "csv":
				if _, err := csv.NewReader(strings.NewReader(out)).ReadAll(); err != nil {
					t.Fatalf("-f csv: %v\n%s", err, out)
				}
			}
			// Every format may reach a terminal (cat report.json): none
			// holds a character a terminal acts on, but for the line
			// breaks and the indentation of its own layout. Invalid UTF-8
			// could hold a raw C1 byte (0x9b is CSI to an 8-bit terminal).
			if !utf8.ValidString(out) {
				t.Fatalf("-f %s: output is not UTF-8:\n%q", format, out)
			}
			for i, r := range out {
				if triage.TerminalUnsafe(r) && r != '\n' && !(r == '\r' && format == "csv") {
					t.Fatalf("-f %s: character %U at offset %d reached the terminal:\n%s", format, r, i, out)
				}
			}
		}
	})
}

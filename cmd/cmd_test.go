package cmd

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/k8sexec/k8sexec/report"
	"github.com/k8sexec/k8sexec/scan"
	"github.com/k8sexec/k8sexec/triage"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// run executes the command line in-process, as main would.
func run(t *testing.T, stdin io.Reader, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runEnv(t, &env{stdin: stdin}, args...)
}

func runEnv(t *testing.T, e *env, args ...string) (string, string, int) {
	t.Helper()
	return runCtx(t, context.Background(), e, args...)
}

func runCtx(t *testing.T, ctx context.Context, e *env, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	e.stdout, e.stderr = &out, &errb
	if e.stdin == nil {
		e.stdin = strings.NewReader("")
	}
	code := execute(ctx, e, args)
	return out.String(), errb.String(), code
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s; rerun with -update and review the diff\n--- got ---\n%s", path, got)
	}
}

type jsonReport struct {
	Tool     struct{ Version string }
	Findings []jsonFinding
	Summary  struct {
		Suppressed int
		Exceptions []report.ExceptionUse
		Totals     struct {
			Inputs, Incomplete, Findings int
			Lines, Events, Malformed     int64
		}
		Problems []struct {
			File   string
			Line   int64
			Reason string
		}
	}
}

type jsonFinding struct {
	ID   string
	Rule struct {
		ID        string
		Severity  string
		RiskScore int `json:"risk_score"`
	}
	Timestamp string
	User      *struct{ Name string }
	Orch      *struct {
		Cluster   *struct{ Name string }
		Namespace string
		Resource  *struct{ Name string }
	} `json:"orchestrator"`
	Container *struct{ Name string }
	Process   *struct{ Args []string }
	Exec      *struct{ TTY, Stdin bool }
	Session   *struct {
		Stages     []string
		DurationMS *int64 `json:"duration_ms"`
	}
	Evidence []struct {
		File  string
		Line  int64
		Index int
	}
	Context []struct {
		File string
		Line int64
	}
	MoreEvidence int64 `json:"more_evidence"`
	MoreCommands int64 `json:"more_commands"`
	Related      []string
	Commands     []struct {
		Time string
		Args []string
	}
	Started *struct {
		PID  int64
		Args []string
	} `json:"started_process"`
	Notes    []string
	Guidance string
}

func (f jsonFinding) Cluster() string {
	if f.Orch == nil || f.Orch.Cluster == nil {
		return ""
	}
	return f.Orch.Cluster.Name
}

func parseReport(t *testing.T, out string) jsonReport {
	t.Helper()
	var r jsonReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("json output: %v\n%s", err, out)
	}
	return r
}

const (
	ruleAttach = "c9961d4e-ba8c-40aa-9985-47d97953404b"
	ruleDenied = "93f9d6b1-07b8-403f-b61f-f2195d61ea93"
	rule1      = "14de811c-d60f-11ec-9fd7-f661ea17fbce"
	rule2      = "420e5bb4-93bf-40a3-8f4a-4cc1af90eca1"
	rule3      = "1c50f817-b9c2-4669-a629-d365cc2a0802"
)

func TestScanDemoGolden(t *testing.T) {
	out, errOut, code := run(t, nil, "scan", "--color", "never", "../testdata/demo/")
	if code != ExitFindings {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitFindings, errOut)
	}
	golden(t, "demo.table.golden", out)

	out, _, code = run(t, nil, "scan", "--format", "json", "../testdata/demo/")
	if code != ExitFindings {
		t.Fatalf("json: exit %d", code)
	}
	golden(t, "demo.json.golden", out)

	out, _, _ = run(t, nil, "scan", "--format", "ndjson", "../testdata/demo/")
	golden(t, "demo.ndjson.golden", out)
}

func TestScanDemoFindings(t *testing.T) {
	out, _, _ := run(t, nil, "scan", "--format", "json", "../testdata/demo/")
	r := parseReport(t, out)
	type key struct{ rule, user, pod, cmd string }
	var got []key
	for _, f := range r.Findings {
		k := key{rule: f.Rule.ID}
		if f.User != nil {
			k.user = f.User.Name
		}
		if f.Orch != nil && f.Orch.Resource != nil {
			k.pod = f.Orch.Namespace + "/" + f.Orch.Resource.Name
		}
		if f.Process != nil {
			k.cmd = strings.Join(f.Process.Args, " ")
		}
		got = append(got, k)
	}
	want := []key{
		{rule2, "", "shop/api-7d9f-x2x4q", "/bin/bash"},
		{rule1, "carol@example.com", "analytics/pg-0", "tar cf - /var/lib/data"},
		{rule1, "alice@example.com", "shop/api-7d9f-x2x4q", "/bin/bash"},
		{rule1, "system:serviceaccount:ci:deployer", "shop/deploy-check", "ls -la /app"},
		{rule3, "bob@example.com", "payments/ledger-0", "sh"},
		{ruleAttach, "erin@example.com", "shop/worker-5c6d-9k2lp", ""},
		{ruleDenied, "mallory@example.com", "payments/ledger-0", "/bin/sh"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d findings %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("finding %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	// Alice's exec: one finding for three stages, evidence only for the
	// two stages that matched, session measured from the stages.
	alice := r.Findings[2]
	if len(alice.Evidence) != 2 || alice.Evidence[0].Line != 8 || alice.Evidence[1].Line != 41 {
		t.Errorf("alice evidence = %+v, want lines 8 and 41", alice.Evidence)
	}
	if alice.Session == nil || len(alice.Session.Stages) != 3 || alice.Session.DurationMS == nil {
		t.Errorf("alice session = %+v", alice.Session)
	}
	if alice.Exec == nil || !alice.Exec.TTY || !alice.Exec.Stdin || alice.Container == nil || alice.Container.Name != "api" {
		t.Errorf("alice exec flags %+v container %+v", alice.Exec, alice.Container)
	}
	if !strings.Contains(alice.Guidance, "alice@example.com") || !strings.Contains(alice.Guidance, "kubectl auth can-i create pods/exec -n shop --as alice@example.com --as-group sre --as-group oidc:team-shop\n") {
		t.Errorf("guidance not filled in with the finding's values:\n%s", alice.Guidance)
	}
	// The story: alice's request started the shell the process finding
	// reports, and the commands typed in it are on both findings.
	shell := r.Findings[0]
	if len(alice.Related) != 1 || alice.Related[0] != shell.ID || len(shell.Related) != 1 || shell.Related[0] != alice.ID {
		t.Errorf("alice %v and the shell %v should be related to each other", alice.Related, shell.Related)
	}
	if len(alice.Commands) != 4 || len(shell.Commands) != 4 || strings.Join(alice.Commands[1].Args, " ") != "cat /var/run/secrets/kubernetes.io/serviceaccount/token" {
		t.Errorf("session commands: alice %+v shell %+v", alice.Commands, shell.Commands)
	}
	if alice.Started == nil || alice.Started.PID != 1958854 {
		t.Errorf("alice started %+v", alice.Started)
	}
	// The CI job's ls is not interactive, so no rule reports the process,
	// but the request is still linked to it.
	if ci := r.Findings[3]; ci.Started == nil || strings.Join(ci.Started.Args, " ") != "ls -la /app" || len(ci.Related) != 0 {
		t.Errorf("ci started %+v related %v", ci.Started, ci.Related)
	}
	if r.Summary.Totals.Inputs != 3 || r.Summary.Totals.Lines != 86 || r.Summary.Totals.Malformed != 0 {
		t.Errorf("totals = %+v", r.Summary.Totals)
	}
}

// TestOutputIndependentOfWorkers: same input, same bytes, whatever the
// number of workers.
func TestOutputIndependentOfWorkers(t *testing.T) {
	for _, format := range []string{"json", "table", "ndjson"} {
		var first string
		for _, w := range []string{"1", "2", "3", "8"} {
			out, _, _ := run(t, nil, "scan", "--format", format, "--color", "never", "--workers", w, "../testdata/")
			if first == "" {
				first = out
			} else if out != first {
				t.Errorf("%s output with --workers %s differs from --workers 1", format, w)
			}
		}
	}
}

func TestScanStdin(t *testing.T) {
	data, err := os.ReadFile("../testdata/demo/kube-apiserver-audit.log")
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	for name, tc := range map[string]struct {
		stdin []byte
		args  []string
	}{
		"dash":         {data, []string{"scan", "--format", "json", "-"}},
		"no args":      {data, []string{"scan", "--format", "json"}},
		"gzip on pipe": {gz.Bytes(), []string{"scan", "--format", "json", "-"}},
	} {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := run(t, bytes.NewReader(tc.stdin), tc.args...)
			if code != ExitFindings {
				t.Fatalf("exit %d; stderr %s", code, errOut)
			}
			r := parseReport(t, out)
			if len(r.Findings) != 5 {
				t.Fatalf("%d findings, want 5 (alice, ci, bob, erin's attach, mallory's refused exec)", len(r.Findings))
			}
			for _, f := range r.Findings {
				for _, ev := range f.Evidence {
					if ev.File != "-" {
						t.Errorf("evidence file %q, want -", ev.File)
					}
				}
			}
		})
	}
}

func TestNoInputOnTerminalIsUsageError(t *testing.T) {
	_, errOut, code := runEnv(t, &env{stdin: strings.NewReader(""), stdinTTY: true}, "scan")
	if code != ExitError || !strings.Contains(errOut, "no input") {
		t.Errorf("exit %d stderr %q", code, errOut)
	}
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"findings", []string{"scan", "-q", "../testdata/demo/kube-apiserver-audit.log"}, ExitFindings},
		{"no findings", []string{"scan", "-q", "../testdata/audit/noise.log"}, ExitOK},
		{"empty file", []string{"scan", "-q", "../testdata/broken/empty.log"}, ExitOK},
		{"fail-on above what was found", []string{"scan", "-q", "--fail-on", "high", "../testdata/demo/kube-apiserver-audit.log"}, ExitOK},
		{"fail-on at what was found", []string{"scan", "-q", "--fail-on", "medium", "../testdata/demo/kube-apiserver-audit.log"}, ExitFindings},
		{"fail-on none", []string{"scan", "-q", "--fail-on", "none", "../testdata/demo/"}, ExitOK},
		{"truncated gzip", []string{"scan", "-q", "../testdata/broken/truncated.log.gz"}, ExitError},
		{"missing path", []string{"scan", "-q", "does-not-exist.log"}, ExitError},
		{"bad flag", []string{"scan", "--no-such-flag"}, ExitError},
		{"bad format", []string{"scan", "--format", "xml", "../testdata/demo/"}, ExitError},
		{"bad fail-on", []string{"scan", "--fail-on", "urgent", "../testdata/demo/"}, ExitError},
		{"unknown rule id", []string{"scan", "--only-rule", "nope", "../testdata/demo/"}, ExitError},
		{"unknown command", []string{"scna"}, ExitError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := run(t, nil, tc.args...)
			if code != tc.want {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.want, errOut)
			}
			// An exit code 2 always comes with its reason, even with -q:
			// a CI job must be able to say why it failed.
			if code == ExitError && strings.TrimSpace(errOut) == "" {
				t.Errorf("exit %d with nothing on stderr", code)
			}
		})
	}
}

// TestQuietStillSaysInputErrors: -q silences the summary and warnings,
// not the unreadable inputs behind an exit code 2.
func TestQuietStillSaysInputErrors(t *testing.T) {
	for _, format := range []string{"table", "ndjson", "json"} {
		_, errOut, code := run(t, nil, "scan", "-q", "-f", format, "../testdata/broken/truncated.log.gz", "../testdata/broken/corrupt_header.gz", "../testdata/audit/noise.log")
		if code != ExitError {
			t.Errorf("-f %s: exit %d, want %d", format, code, ExitError)
		}
		want := []string{
			"k8sexec: incomplete input: ../testdata/broken/truncated.log.gz: read failed at compressed byte 7141",
			"k8sexec: cannot read input: ../testdata/broken/corrupt_header.gz: gzip header",
		}
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		if len(lines) != len(want) {
			t.Errorf("-f %s: stderr has %d lines, want %d:\n%s", format, len(lines), len(want), errOut)
			continue
		}
		for i, w := range want {
			if !strings.HasPrefix(lines[i], w) {
				t.Errorf("-f %s: stderr line %d = %q, want it to start %q", format, i+1, lines[i], w)
			}
		}
	}
}

// TestIncompleteInputKeepsFindings: a truncated gzip still reports what was
// read before the damage, names the file and offset, and the scan goes on
// with the next input.
func TestIncompleteInputKeepsFindings(t *testing.T) {
	out, errOut, code := run(t, nil, "scan", "--format", "json", "../testdata/broken/truncated.log.gz", "../testdata/broken/corrupt_header.gz", "../testdata/demo/kube-apiserver-audit.log")
	if code != ExitError {
		t.Errorf("exit %d, want %d", code, ExitError)
	}
	r := parseReport(t, out)
	if r.Summary.Totals.Incomplete != 2 {
		t.Errorf("incomplete = %d, want 2", r.Summary.Totals.Incomplete)
	}
	var fromTruncated, fromDemo int
	for _, f := range r.Findings {
		for _, ev := range f.Evidence {
			switch {
			case strings.HasSuffix(ev.File, "truncated.log.gz"):
				fromTruncated++
			case strings.HasSuffix(ev.File, "kube-apiserver-audit.log"):
				fromDemo++
			}
		}
	}
	if fromTruncated == 0 || fromDemo == 0 {
		t.Errorf("findings from truncated=%d, from the next input=%d; both should be kept", fromTruncated, fromDemo)
	}
	for _, want := range []string{"truncated.log.gz", "compressed byte", "unexpected EOF", "corrupt_header.gz"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr should mention %q:\n%s", want, errOut)
		}
	}
}

func TestMalformedLinesLocated(t *testing.T) {
	out, errOut, _ := run(t, nil, "scan", "--format", "json", "../testdata/broken/not_json.log")
	r := parseReport(t, out)
	// All six, including the trailing-comma line no rule literal is in:
	// the start of every input is parsed whatever the prefilter says.
	if r.Summary.Totals.Malformed != 6 || len(r.Summary.Problems) != 6 {
		t.Errorf("malformed = %d, problems = %d, want 6 and 6", r.Summary.Totals.Malformed, len(r.Summary.Problems))
	}
	if len(r.Findings) != 1 {
		t.Errorf("the valid exec line among the garbage should still be found; got %d findings", len(r.Findings))
	}
	if !strings.Contains(errOut, "not_json.log:1:") {
		t.Errorf("stderr should locate the first malformed line:\n%s", errOut)
	}
}

// TestStderrIsClean: a malformed line full of escape sequences must not
// reach the terminal through the diagnostics either.
func TestStderrIsClean(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "evil.log")
	os.WriteFile(path, []byte("\x1b]0;owned\x07\x1b[2J this is not json\n"), 0o644)
	_, errOut, _ := run(t, nil, "scan", "--format", "json", path)
	if strings.ContainsAny(errOut, "\x1b\x07") {
		t.Errorf("stderr carries control characters: %q", errOut)
	}
}

func TestOutputFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.json")
	out, _, code := run(t, nil, "scan", "--format", "json", "-o", path, "../testdata/demo/")
	if code != ExitFindings || out != "" {
		t.Errorf("exit %d, stdout %q; the report should go to the file only", code, out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if r := parseReport(t, string(data)); len(r.Findings) != 7 {
		t.Errorf("%d findings in the file, want 7", len(r.Findings))
	}
	_, _, code = run(t, nil, "scan", "-o", filepath.Join(t.TempDir(), "no", "such", "dir", "r.json"), "../testdata/demo/")
	if code != ExitError {
		t.Errorf("an unwritable --output should be a usage error, got exit %d", code)
	}
}

func TestColor(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tty     bool
		noColor string
		flag    string
		want    bool
	}{
		{"auto on a terminal", true, "", "auto", true},
		{"auto in a pipe", false, "", "auto", false},
		{"NO_COLOR wins over auto", true, "1", "auto", false},
		{"always wins over NO_COLOR", false, "1", "always", true},
		{"never", true, "", "never", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("NO_COLOR", tc.noColor)
			t.Setenv("TERM", "xterm")
			out, _, _ := runEnv(t, &env{stdoutTTY: tc.tty}, "scan", "--color", tc.flag, "../testdata/demo/kube-apiserver-audit.log")
			if got := strings.Contains(out, "\x1b["); got != tc.want {
				t.Errorf("colour = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestOnlyAndDisableRule(t *testing.T) {
	out, _, _ := run(t, nil, "scan", "--format", "json", "--only-rule", rule3, "../testdata/demo/")
	r := parseReport(t, out)
	if len(r.Findings) != 1 || r.Findings[0].Rule.ID != rule3 {
		t.Errorf("--only-rule: %+v", r.Findings)
	}
	out, _, _ = run(t, nil, "scan", "--format", "json", "--disable-rule", rule1, "--disable-rule", rule2, "--disable-rule", ruleAttach, "--disable-rule", ruleDenied, "../testdata/demo/")
	r = parseReport(t, out)
	if len(r.Findings) != 1 || r.Findings[0].Rule.ID != rule3 {
		t.Errorf("--disable-rule: %+v", r.Findings)
	}
}

func TestInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, code := runCtx(t, ctx, &env{}, "scan", "-q", "../testdata/demo/")
	if code != ExitInterrupted {
		t.Errorf("exit %d, want %d", code, ExitInterrupted)
	}
	// An interrupted scan's findings are not all the logs hold: the old
	// baseline stays, and nothing is left beside it.
	dir := t.TempDir()
	base := filepath.Join(dir, "baseline.json")
	if err := os.WriteFile(base, []byte("last night's baseline"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCtx(t, ctx, &env{stderr: io.Discard}, "scan", "--write-baseline", base, "../testdata/demo/")
	if got, _ := os.ReadFile(base); code != ExitInterrupted || string(got) != "last night's baseline" {
		t.Errorf("interrupted with --write-baseline: exit %d, baseline %q, %s", code, got, stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files beside the baseline, want none", len(entries)-1)
	}
}

// A baseline named through a symbolic link replaces the file the link
// names, and keeps the link; a dangling link's target is created.
func TestWriteBaselineThroughLink(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "baseline.json")
	target := filepath.Join(dir, "state", "b.json")
	if err := os.Mkdir(filepath.Dir(target), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("state", "b.json"), link); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	for round := range 2 { // dangling, then replacing
		if _, stderr, code := run(t, nil, "scan", "-q", "--write-baseline", link, "../testdata/demo/kube-apiserver-audit.log"); code != ExitFindings {
			t.Fatalf("round %d: exit %d, %s", round, code, stderr)
		}
		if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			t.Fatalf("round %d: the link was replaced (%v)", round, err)
		}
		if data, err := os.ReadFile(target); err != nil || len(parseReport(t, string(data)).Findings) != 5 {
			t.Fatalf("round %d: the link's target holds no baseline of 5 findings (%v)", round, err)
		}
	}
}

func TestRulesCommands(t *testing.T) {
	out, _, code := run(t, nil, "rules", "list")
	if code != 0 {
		t.Fatalf("rules list exit %d", code)
	}
	for _, id := range []string{rule1, rule2, rule3} {
		if !strings.Contains(out, id) {
			t.Errorf("rules list misses %s:\n%s", id, out)
		}
	}
	out, _, code = run(t, nil, "rules", "show", rule2)
	if code != 0 || !strings.Contains(out, "process.interactive == true") || !strings.Contains(out, "event.category == \"process\"") ||
		!strings.Contains(out, "index       logs-cloud_defend* (documents from other data streams never match)") {
		t.Errorf("rules show exit %d:\n%s", code, out)
	}
	// A rule the flags leave out exists: the error says which flag.
	if _, stderr, code := run(t, nil, "rules", "show", rule2, "--disable-rule", rule2); code != ExitError || !strings.Contains(stderr, "is left out by --disable-rule") {
		t.Errorf("rules show of a disabled rule: exit %d, %s", code, stderr)
	}
	if _, _, code := run(t, nil, "rules", "show", "nope"); code != ExitError {
		t.Errorf("rules show of an unknown ID: exit %d", code)
	}

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "good.toml"), []byte("[rule]\nrule_id = \"r-1\"\nname = \"Good\"\nseverity = \"low\"\nrisk_score = 21\nlanguage = \"kuery\"\ntype = \"query\"\nquery = 'user.name:\"alice@example.com\"'\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "seq.toml"), []byte("[rule]\nrule_id = \"r-2\"\nname = \"Seq\"\nseverity = \"low\"\nrisk_score = 21\nlanguage = \"eql\"\ntype = \"eql\"\nquery = 'sequence [process where true] [process where true]'\n"), 0o644)
	out, _, code = run(t, nil, "rules", "check", dir)
	if code != 0 || !strings.Contains(out, "loaded") || !strings.Contains(out, "skipped") || !strings.Contains(out, "EQL sequence") {
		t.Errorf("rules check exit %d:\n%s", code, out)
	}
	os.WriteFile(filepath.Join(dir, "broken.toml"), []byte("[rule\n"), 0o644)
	if out, _, code = run(t, nil, "rules", "check", dir); code != ExitError || !strings.Contains(out, "error") {
		t.Errorf("a broken rule file should fail rules check: exit %d\n%s", code, out)
	}
	// A broken file passed to scan is an error; an unsupported one is
	// skipped with its reason on stderr.
	if _, _, code := run(t, nil, "scan", "-q", "--rules", dir, "../testdata/demo/"); code != ExitError {
		t.Errorf("scan --rules with a broken file: exit %d", code)
	}
	os.Remove(filepath.Join(dir, "broken.toml"))
	out, errOut, _ := run(t, nil, "scan", "--format", "json", "--rules", dir, "../testdata/demo/")
	if !strings.Contains(errOut, "rule skipped") || !strings.Contains(errOut, "seq.toml") {
		t.Errorf("skipped rule not reported on stderr:\n%s", errOut)
	}
	r := parseReport(t, out)
	found := false
	for _, f := range r.Findings {
		found = found || f.Rule.ID == "r-1"
	}
	if !found {
		t.Error("the loaded user rule should find alice's events")
	}

	// Overlapping paths load each file once: a folder and a file in it.
	if _, errOut, code := run(t, nil, "scan", "-q", "--rules", dir, "--rules", filepath.Join(dir, "good.toml"), "../testdata/demo/"); code != ExitFindings {
		t.Errorf("--rules with a folder and a file in it: exit %d\n%s", code, errOut)
	}
	// rules check refuses what scan refuses: two files of one rule_id, a
	// folder without rules.
	os.WriteFile(filepath.Join(dir, "good-copy.toml"), []byte("[rule]\nrule_id = \"r-1\"\nname = \"Copy\"\nseverity = \"low\"\nrisk_score = 21\nlanguage = \"kuery\"\ntype = \"query\"\nquery = 'user.name:x'\n"), 0o644)
	out, _, code = run(t, nil, "rules", "check", dir, t.TempDir())
	if code != ExitError || !strings.Contains(out, "good.toml: rule_id r-1 is also defined in "+filepath.Join(dir, "good-copy.toml")) ||
		!strings.Contains(out, "no .toml rule files found") || !strings.Contains(out, "1 loaded, 1 skipped, 2 broken") {
		t.Errorf("rules check of a duplicate rule_id and an empty folder: exit %d\n%s", code, out)
	}
	if _, _, code := run(t, nil, "scan", "-q", "--rules", dir, "../testdata/demo/"); code != ExitError {
		t.Errorf("scan of a duplicate rule_id: exit %d", code)
	}

	// A deprecated rule in a folder is skipped; named on its own it loads,
	// whether it comes before or after its folder.
	dep := t.TempDir()
	os.WriteFile(filepath.Join(dep, "old.toml"), []byte("[metadata]\nmaturity = \"deprecated\"\n[rule]\nrule_id = \"r-old\"\nname = \"Old\"\nseverity = \"low\"\nrisk_score = 21\nlanguage = \"kuery\"\ntype = \"query\"\nquery = 'user.name:x'\n"), 0o644)
	old := filepath.Join(dep, "old.toml")
	for _, args := range [][]string{{dep}, {dep, old}, {old, dep}} {
		out, _, code := run(t, nil, append([]string{"rules", "check"}, args...)...)
		want := "0 loaded, 1 skipped"
		if len(args) > 1 {
			want = "1 loaded, 0 skipped"
		}
		if code != ExitOK || !strings.Contains(out, want) {
			t.Errorf("rules check %v: exit %d, want %q\n%s", args, code, want, out)
		}
	}
}

func TestSearch(t *testing.T) {
	out, _, code := run(t, nil, "search", `user.name:"alice@example.com"`, "../testdata/demo/")
	if code != 0 || strings.Count(out, "\n") != 3 {
		t.Errorf("search exit %d, want 3 lines:\n%s", code, out)
	}
	out, _, code = run(t, nil, "search", "--count", `process where event.type == "start" and process.interactive == true and process.entry_leader.same_as_process == true`, "../testdata/demo/")
	if code != 0 || strings.TrimSpace(out) != "1" {
		t.Errorf("EQL search count = %q, exit %d", out, code)
	}
	out, _, _ = run(t, nil, "search", "--format", "ndjson", `kubernetes.audit.verb:get and kubernetes.audit.objectRef.subresource:exec`, "../testdata/demo/")
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var hit struct {
			File  string
			Line  int64
			Event map[string]any
		}
		if err := json.Unmarshal([]byte(line), &hit); err != nil || hit.Event["verb"] != "get" {
			t.Errorf("ndjson hit %q: %v", line, err)
		}
	}
	if _, _, code := run(t, nil, "search", `user.name:"nobody"`, "../testdata/demo/"); code != 1 {
		t.Errorf("no match: exit %d, want 1", code)
	}
	if _, errOut, code := run(t, nil, "search", `user.name:(`, "../testdata/demo/"); code != ExitError || !strings.Contains(errOut, "query") {
		t.Errorf("bad query: exit %d %q", code, errOut)
	}
}

func TestVersion(t *testing.T) {
	out, _, code := run(t, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "k8sexec ") {
		t.Errorf("version exit %d: %q", code, out)
	}
}

func TestMain(m *testing.M) {
	flag.Parse()
	// Golden files must not depend on how the test binary was built.
	BuildInfo = Build{Version: "test"}
	os.Exit(m.Run())
}

func TestBaseline(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "baseline.json")
	// Night 1: the audit log alone; write the baseline.
	_, _, code := run(t, nil, "scan", "-q", "--write-baseline", base, "../testdata/demo/kube-apiserver-audit.log")
	if code != ExitFindings {
		t.Fatalf("night 1: exit %d", code)
	}
	// Night 2: the same log plus new ones; only new findings count.
	out, errOut, code := run(t, nil, "scan", "--format", "json", "--baseline", base, "../testdata/demo/")
	if code != ExitFindings {
		t.Errorf("night 2 has new findings: exit %d", code)
	}
	r := parseReport(t, out)
	if len(r.Findings) != 2 {
		t.Errorf("night 2 shows %d findings, want the 2 new ones (carol's kubectl cp, the process)", len(r.Findings))
	}
	if !strings.Contains(errOut, "5 finding(s) already in the baseline") {
		t.Errorf("stderr should count baselined findings:\n%s", errOut)
	}
	// Night 3: nothing new.
	if _, _, code := run(t, nil, "scan", "-q", "--baseline", base, "../testdata/demo/kube-apiserver-audit.log"); code != ExitOK {
		t.Errorf("night 3 has nothing new: exit %d", code)
	}
	os.WriteFile(filepath.Join(dir, "bad.json"), []byte("not json"), 0o644)
	if _, _, code := run(t, nil, "scan", "--baseline", filepath.Join(dir, "bad.json"), "../testdata/demo/"); code != ExitError {
		t.Errorf("a broken baseline is a usage error: exit %d", code)
	}
	// JSON of another shape says where it differs, not which Go type it
	// could not fill.
	os.WriteFile(filepath.Join(dir, "array.json"), []byte("[1]"), 0o644)
	if _, stderr, code := run(t, nil, "scan", "--baseline", filepath.Join(dir, "array.json"), "../testdata/demo/"); code != ExitError ||
		!strings.Contains(stderr, "is not a k8sexec JSON report: it has a JSON array where a report has its top-level object") || strings.Contains(stderr, "Go value") {
		t.Errorf("a JSON array as baseline: exit %d, %s", code, stderr)
	}
}

// --write-baseline records every finding, also those --since leaves out
// of the report (a wider window next time must not show old sessions as
// new), but not those exceptions suppress: nobody saw them, and when the
// exception goes they are new. It replaces the old baseline whole, only
// once the report is written, and a path it cannot write leaves
// --output's file as it was.
func TestWriteBaselineRecordsEveryFinding(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "baseline.json")
	exceptions := filepath.Join(dir, "ex.toml")
	if err := os.WriteFile(exceptions, []byte("[[exception]]\nname = \"alice\"\nreason = \"on call\"\nwhen = 'user.name:\"alice@example.com\"'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, _ := run(t, nil, "scan", "-q", "--format", "json", "--since", "2026-11-20T09:45:00Z", "--exceptions", exceptions, "--write-baseline", base, "../testdata/demo/")
	data, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	if shown, recorded := len(parseReport(t, out).Findings), len(parseReport(t, string(data)).Findings); shown >= 6 || recorded != 6 {
		t.Errorf("%d findings shown, %d in the baseline; want fewer than 6 shown and all 6 but alice's exec recorded", shown, recorded)
	}
	if _, _, code := run(t, nil, "scan", "-q", "--exceptions", exceptions, "--baseline", base, "../testdata/demo/"); code != ExitOK {
		t.Errorf("the whole window against that baseline: exit %d, want %d", code, ExitOK)
	}
	if out, _, code := run(t, nil, "scan", "-q", "-f", "json", "--baseline", base, "../testdata/demo/"); code != ExitFindings ||
		len(parseReport(t, out).Findings) != 1 || parseReport(t, out).Findings[0].User == nil || parseReport(t, out).Findings[0].User.Name != "alice@example.com" {
		t.Errorf("without the exception, alice's exec is new: exit %d\n%s", code, out)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("the folder holds %d files, want the baseline and the exceptions (no file left from writing)", len(entries))
	}
	// A baseline that cannot be written fails before --output is made.
	report := filepath.Join(dir, "report.json")
	if err := os.WriteFile(report, []byte("last night's report"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{filepath.Join(dir, "missing", "b.json"), dir} {
		if _, _, code := run(t, nil, "scan", "-q", "-f", "json", "-o", report, "--write-baseline", bad, "../testdata/demo/"); code != ExitError {
			t.Errorf("--write-baseline %s: exit %d, want %d", bad, code, ExitError)
		}
		if got, _ := os.ReadFile(report); string(got) != "last night's report" {
			t.Errorf("--write-baseline %s: --output's file became %q", bad, got)
		}
	}
	// A report that could not be written reported nothing: the old
	// baseline stays, and no temporary file is left.
	before, _ := os.ReadFile(base)
	if _, err := os.Stat("/dev/full"); err == nil {
		if _, stderr, code := run(t, nil, "scan", "-q", "-f", "json", "-o", "/dev/full", "--write-baseline", base, "../testdata/audit/"); code != ExitError || !strings.Contains(stderr, "writing the report") {
			t.Errorf("a report to a full disk: exit %d, %s", code, stderr)
		}
		if after, _ := os.ReadFile(base); string(after) != string(before) {
			t.Error("a report that could not be written replaced the baseline")
		}
	}
	var stderr bytes.Buffer
	failing := &env{stdin: strings.NewReader(""), stdout: failWriter{}, stderr: &stderr}
	if code := execute(context.Background(), failing, []string{"scan", "-q", "-f", "ndjson", "--write-baseline", base, "../testdata/audit/"}); code != ExitError {
		t.Errorf("a report to a stdout that fails: exit %d, %s", code, stderr.String())
	}
	if after, _ := os.ReadFile(base); string(after) != string(before) {
		t.Error("a report to a stdout that failed replaced the baseline")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 3 {
		t.Errorf("the folder holds %d files, want the baseline, the exceptions and the report (no file left from writing)", len(entries))
	}
}

// failWriter fails every write, as a full disk or a closed pipe does.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

// TestMinSeverityNeverHidesTheExitDecision: --min-severity filters what is
// shown; the exit code still counts everything, and says so.
func TestMinSeverityNeverHidesTheExitDecision(t *testing.T) {
	out, errOut, code := run(t, nil, "scan", "--format", "json", "--min-severity", "high", "../testdata/demo/kube-apiserver-audit.log")
	if code != ExitFindings {
		t.Errorf("medium findings still fail the default --fail-on low: exit %d", code)
	}
	if r := parseReport(t, out); len(r.Findings) != 0 {
		t.Errorf("%d findings shown, want none at or above high", len(r.Findings))
	}
	if !strings.Contains(errOut, "5 finding(s) below --min-severity high not shown (they still count for --fail-on)") {
		t.Errorf("stderr should say what was hidden:\n%s", errOut)
	}
}

func TestSARIFAndCSVFromTheCommandLine(t *testing.T) {
	out, _, code := run(t, nil, "scan", "--format", "sarif", "../testdata/demo/")
	if code != ExitFindings {
		t.Fatalf("exit %d", code)
	}
	var doc struct {
		Version string
		Runs    []struct {
			Tool struct {
				Driver struct {
					Version string
					Rules   []struct{ ID string }
				}
			}
			Results []struct {
				RuleID              string
				PartialFingerprints map[string]string
				Locations           []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine int }
					}
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	run0 := doc.Runs[0]
	if doc.Version != "2.1.0" || run0.Tool.Driver.Version != "test" || len(run0.Tool.Driver.Rules) != 6 || len(run0.Results) != 7 {
		t.Fatalf("sarif: version %s driver %+v results %d", doc.Version, run0.Tool.Driver, len(run0.Results))
	}
	// Finding IDs are the same in every format.
	jsonOut, _, _ := run(t, nil, "scan", "--format", "json", "../testdata/demo/")
	r := parseReport(t, jsonOut)
	// The demo folder is outside the working directory (cmd/), so it is
	// named by its file:/// URI, not by a path that climbs out.
	demo, err := filepath.Abs("../testdata/demo")
	if err != nil {
		t.Fatal(err)
	}
	demoURI := (&url.URL{Scheme: "file", Path: filepath.ToSlash(demo) + "/"}).String()
	for i, res := range run0.Results {
		if res.PartialFingerprints["k8sexecFindingId/v1"] != r.Findings[i].ID {
			t.Errorf("result %d fingerprint %v, json ID %s", i, res.PartialFingerprints, r.Findings[i].ID)
		}
		loc := res.Locations[0].PhysicalLocation
		if !strings.HasPrefix(loc.ArtifactLocation.URI, demoURI) || loc.Region.StartLine != int(r.Findings[i].Evidence[0].Line) {
			t.Errorf("result %d location %+v", i, loc)
		}
	}
	out, _, _ = run(t, nil, "scan", "--format", "csv", "../testdata/demo/")
	if lines := strings.Count(out, "\n"); lines != 8 {
		t.Errorf("csv has %d lines, want header + 7", lines)
	}
}

func TestProgress(t *testing.T) {
	_, errOut, _ := runEnv(t, &env{}, "scan", "--progress", "always", "--format", "json", "../testdata/demo/")
	if !strings.Contains(errOut, "\r\x1b[K") {
		t.Errorf("--progress always should draw (and erase) a status line on stderr: %q", errOut)
	}
	t.Setenv("CI", "true")
	_, errOut, _ = runEnv(t, &env{stderrTTY: true}, "scan", "--format", "json", "../testdata/demo/")
	if strings.Contains(errOut, "\r") {
		t.Errorf("--progress auto must stay silent in CI: %q", errOut)
	}
}

// TestProgressLine: the status line gives percent and ETA when the total is
// known, and says so when a second pass reads process events again (its
// bytes count from zero, with no percentage); names are cleaned.
func TestProgressLine(t *testing.T) {
	p := &progress{total: 4 << 20, start: time.Now().Add(-time.Second)}
	first := p.line(scan.Progress{Input: "audit\x1b[31m.log", RawBytes: 1 << 20, Events: 10, Matches: 2})
	for _, want := range []string{"of 4.0 MiB (25%)", "10 events, 2 matched", "ETA", "audit<U+001B>[31m.log"} {
		if !strings.Contains(first, want) {
			t.Errorf("first pass line %q lacks %q", first, want)
		}
	}
	again := p.line(scan.Progress{Input: "process.ndjson", RawBytes: 3 << 20, Again: true})
	for _, want := range []string{"again", "3.0 MiB", "process.ndjson"} {
		if !strings.Contains(again, want) {
			t.Errorf("second pass line %q lacks %q", again, want)
		}
	}
	if strings.Contains(again, "%") || strings.Contains(again, "ETA") {
		t.Errorf("second pass line %q gives a percentage of the first pass's total", again)
	}
}

func TestClosingSummaryOnStderr(t *testing.T) {
	_, errOut, _ := run(t, nil, "scan", "--format", "ndjson", "../testdata/demo/")
	if !strings.Contains(errOut, "7 finding(s) (1 high, 4 medium, 2 low) in 3 input(s), 86 events, 0 malformed") {
		t.Errorf("closing summary:\n%s", errOut)
	}
	_, errOut, _ = run(t, nil, "scan", "-q", "--format", "ndjson", "../testdata/demo/")
	if errOut != "" {
		t.Errorf("--quiet should silence stderr, got %q", errOut)
	}
	// A table on stdout carries its own summary; stderr adds only the
	// time it took, which would make the table's bytes vary.
	_, errOut, _ = run(t, nil, "scan", "--format", "table", "../testdata/demo/")
	// The demo's gzip makes the bytes scanned (decompressed) more than
	// those read.
	if !strings.HasPrefix(errOut, "k8sexec: scanned 95.7 KiB (81.1 KiB read) in ") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("table on stdout: stderr should only time the scan, got %q", errOut)
	}
	_, errOut, _ = run(t, nil, "scan", "--format", "table", "-o", filepath.Join(t.TempDir(), "r.txt"), "../testdata/demo/")
	if !strings.Contains(errOut, "7 finding(s)") {
		t.Errorf("table to a file: the closing summary belongs on stderr, got %q", errOut)
	}
}

func TestUnreadableInputMessage(t *testing.T) {
	_, errOut, code := run(t, nil, "scan", "--format", "json", "no-such-file.log")
	if code != ExitError {
		t.Errorf("exit %d, want %d", code, ExitError)
	}
	if !strings.Contains(errOut, "cannot read input") || strings.Contains(errOut, "findings read before") {
		t.Errorf("an input that could not be opened is not a partly read one:\n%s", errOut)
	}
}

// TestCLIDocsCurrent keeps docs/cli.md in step with the command tree.
func TestCLIDocsCurrent(t *testing.T) {
	got := cliMarkdown()
	path := filepath.Join("..", "docs", "cli.md")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != got {
		t.Error("docs/cli.md is out of date: run go test ./cmd -update")
	}
}

func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		out, errOut, code := run(t, nil, "completion", shell)
		if code != 0 || !strings.Contains(out, "k8sexec") {
			t.Errorf("completion %s: exit %d, %d bytes, stderr %q", shell, code, len(out), errOut)
		}
	}
}

// TestCIDocsCommands runs every k8sexec command line in docs/ci.md, with
// the documented log paths pointed at the demo logs, twice: the first run
// writes baselines, the second must find nothing new where a baseline is
// used.
func TestCIDocsCommands(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "ci.md"))
	if err != nil {
		t.Fatal(err)
	}
	demo, err := filepath.Abs(filepath.Join("..", "testdata", "demo"))
	if err != nil {
		t.Fatal(err)
	}
	var commands [][]string
	inBlock := false
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inBlock = !inBlock
			continue
		}
		if !inBlock {
			continue
		}
		line = strings.TrimSpace(line)
		line = strings.TrimPrefix(line, "- ")
		line = strings.TrimPrefix(line, "run: ")
		if !strings.HasPrefix(line, "k8sexec scan ") {
			continue
		}
		commands = append(commands, strings.Fields(line)[1:])
	}
	if len(commands) < 4 {
		t.Fatalf("found %d k8sexec commands in docs/ci.md, want at least 4", len(commands))
	}
	dir := t.TempDir()
	t.Chdir(dir)
	os.MkdirAll(filepath.Join(dir, ".k8sexec"), 0o755)
	os.MkdirAll(filepath.Join(dir, "state"), 0o755)
	for round := 1; round <= 2; round++ {
		for _, args := range commands {
			var mapped []string
			usesBaseline := false
			for _, a := range args {
				a = strings.ReplaceAll(a, "/var/log/kubernetes/audit/", demo+"/")
				a = strings.ReplaceAll(a, "/state/", filepath.Join(dir, "state")+"/")
				if a == "logs/" {
					a = demo + "/"
				}
				usesBaseline = usesBaseline || strings.HasPrefix(a, "--baseline")
				mapped = append(mapped, a)
			}
			_, errOut, code := run(t, nil, append([]string{"scan", "-q"}, mapped[1:]...)...)
			want := ExitFindings
			if round == 2 && usesBaseline {
				want = ExitOK
			}
			if code != want {
				t.Errorf("round %d: k8sexec %s: exit %d, want %d\n%s", round, strings.Join(args, " "), code, want, errOut)
			}
		}
	}
	for _, out := range []string{"k8sexec.sarif", "k8sexec.json", "findings.csv", ".k8sexec/baseline.json", "state/baseline.json"} {
		if st, err := os.Stat(filepath.Join(dir, out)); err != nil || st.Size() == 0 {
			t.Errorf("%s was not written: %v", out, err)
		}
	}
}

// TestFindingIDsStable: finding IDs are fingerprints of the rule and the
// request or process, so they do not change with the order inputs are
// given in, and must not change between k8sexec versions (a baseline
// written by one version is read by the next).
func TestFindingIDsStable(t *testing.T) {
	ids := func(paths ...string) []string {
		out, _, _ := run(t, nil, append([]string{"scan", "--format", "json"}, paths...)...)
		var got []string
		for _, f := range parseReport(t, out).Findings {
			got = append(got, f.ID)
		}
		return got
	}
	files := []string{"../testdata/demo/cloud-defend-process.ndjson", "../testdata/demo/kube-apiserver-audit-2026-11-20.log.gz", "../testdata/demo/kube-apiserver-audit.log"}
	forward := ids(files...)
	backward := ids(files[2], files[1], files[0])
	if strings.Join(forward, " ") != strings.Join(backward, " ") {
		t.Errorf("input order changed the findings:\n%v\n%v", forward, backward)
	}
	// Pinned: alice's exec, its shell, carol's kubectl cp.
	for _, id := range []string{"8ec19fd8153af356", "1abd4f8e9b690a75", "4210681c3595380b"} {
		if !strings.Contains(strings.Join(forward, " "), id) {
			t.Errorf("finding %s is gone: IDs must stay the same across versions (got %v)", id, forward)
		}
	}
}

func TestReplacedBuiltinIsNamedInTheClosingSummary(t *testing.T) {
	dir := t.TempDir()
	rule := `[metadata]
creation_date = "2026/12/01"

[rule]
rule_id = "14de811c-d60f-11ec-9fd7-f661ea17fbce"
name = "Exec into Pod, a site's own version"
description = "Replaces the built-in seed rule."
risk_score = 21
severity = "low"
type = "query"
language = "kuery"
query = 'kubernetes.audit.objectRef.subresource:"exec"'
`
	path := filepath.Join(dir, "exec.toml")
	if err := os.WriteFile(path, []byte(rule), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := run(t, nil, "scan", "-f", "ndjson", "--rules", path, "../testdata/demo/")
	if code != 1 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	want := "built-in rule replaced: 14de811c-d60f-11ec-9fd7-f661ea17fbce (Kubernetes User Exec into Pod) by " + path
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr does not name the replaced rule %q:\n%s", want, stderr)
	}
	notes := func() []string {
		out, _, _ := run(t, nil, "scan", "-f", "json", "--rules", path, "../testdata/demo/")
		var doc struct{ Notes []string }
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		return doc.Notes
	}
	// This version matches every exec the built-in does: nothing to say.
	for _, n := range notes() {
		if strings.Contains(n, "did not match") {
			t.Errorf("note %q, but the replacement matches all the built-in finds", n)
		}
	}
	// Elastic's current version asks for audit level Request, and the
	// demo logs execs at Metadata: the built-in's three are named in a
	// note instead of vanishing unsaid, and are no findings.
	narrow := strings.Replace(rule, `query = 'kubernetes.audit.objectRef.subresource:"exec"'`, `query = 'kubernetes.audit.level:Request and kubernetes.audit.objectRef.subresource:"exec"'`, 1)
	if err := os.WriteFile(path, []byte(narrow), 0o644); err != nil {
		t.Fatal(err)
	}
	want = `"Exec into Pod, a site's own version" from ` + path + ` replaced k8sexec's built-in rule of that rule_id and did not match 3 request(s) the built-in finds (the first at ../testdata/demo/kube-apiserver-audit-2026-11-20.log.gz:9, carol@example.com create pods/exec analytics/pg-0 at 2026-11-20T03:12:26.730455Z); scan without that rule file to see them as findings.`
	if got := strings.Join(notes(), "\n"); !strings.Contains(got, want) {
		t.Errorf("notes:\n%s\nwant one holding %q", got, want)
	}
	out, _, _ := run(t, nil, "scan", "-f", "json", "--rules", path, "../testdata/demo/")
	for _, f := range parseReport(t, out).Findings {
		if f.Rule.ID == rule1 {
			t.Errorf("finding %s of the replaced rule: the built-in's matches are only counted", f.ID)
		}
	}
}

// NDJSON and CSV have no place for the scan's notes, and the table that
// prints them is not on stdout: the closing summary on stderr says them.
func TestNotesOnStderrWithMachineFormats(t *testing.T) {
	for _, format := range []string{"ndjson", "csv", "json"} {
		_, stderr, _ := run(t, nil, "scan", "-f", format, "../testdata/demo/")
		if !strings.Contains(stderr, "k8sexec:   note: 1 exec request(s) used WebSocket") {
			t.Errorf("-f %s: stderr lacks the WebSocket note:\n%s", format, stderr)
		}
	}
	_, stderr, _ := run(t, nil, "scan", "../testdata/demo/")
	if strings.Contains(stderr, "note:") {
		t.Errorf("the table prints the notes; stderr repeats them:\n%s", stderr)
	}
}

// TestLinkedFindingNotShownIsStillDescribed: a finding left out of the
// report (below --min-severity, before --since, suppressed) is still
// described where a finding shown links to it, saying why it is missing.
func TestLinkedFindingNotShownIsStillDescribed(t *testing.T) {
	exceptions := filepath.Join(t.TempDir(), "exceptions.toml")
	if err := os.WriteFile(exceptions, []byte("[[exception]]\nname = \"alice\"\nreason = \"on call\"\nrule = \"14de811c-d60f-11ec-9fd7-f661ea17fbce\"\nwhen = 'user.name:\"alice@example.com\"'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--min-severity", "high"}, `linked    exec by alice@example.com from 203.0.113.24: /bin/bash at 2026-11-20T09:41:07.112043Z (finding 8ec19fd8153af356, not shown: below --min-severity)`},
		{[]string{"--exceptions", exceptions}, `linked    exec by alice@example.com from 203.0.113.24: /bin/bash at 2026-11-20T09:41:07.112043Z (finding 8ec19fd8153af356, not shown: suppressed by ` + exceptions},
		{[]string{"--since", "2026-11-20T09:41:10Z", "--until", "2026-11-20T09:41:08Z"}, ""},
		{[]string{"--since", "2026-11-20T09:41:07.3Z"}, `linked    exec by alice@example.com from 203.0.113.24: /bin/bash at 2026-11-20T09:41:07.112043Z (finding 8ec19fd8153af356, not shown: outside --since/--until)`},
		{[]string{"--until", "2026-11-20T09:41:07.3Z"}, `linked    interactive /bin/bash pid 1958854 started at 2026-11-20T09:41:07.452Z (finding 1abd4f8e9b690a75, not shown: outside --since/--until)`},
	} {
		args := append(append([]string{"scan", "--guide", "none"}, tc.args...), "../testdata/demo/")
		out, errOut, code := run(t, nil, args...)
		if tc.want == "" {
			if code != ExitError {
				t.Errorf("%v: exit %d, want a usage error for an empty window", tc.args, code)
			}
			continue
		}
		if code != ExitFindings || !strings.Contains(out, tc.want) {
			t.Errorf("%v: exit %d, no line %q in:\n%s\n%s", tc.args, code, tc.want, out, errOut)
		}
		if regexp.MustCompile(`linked +[0-9a-f]{16}\n`).MatchString(out) {
			t.Errorf("%v: a linked line with only an ID:\n%s", tc.args, out)
		}
	}
}

// Naming a rule that was skipped says why it does not run, rather than
// that there is no such rule.
func TestSkippedRuleNamed(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "seq.toml"), []byte("[rule]\nrule_id = \"r-2\"\nname = \"Seq\"\nseverity = \"low\"\nrisk_score = 21\nlanguage = \"eql\"\ntype = \"eql\"\nquery = 'sequence [process where true] [process where true]'\n"), 0o644)
	// Disabling it is no error: it does not run anyway.
	if _, errOut, code := run(t, nil, "scan", "--rules", dir, "--disable-rule", "r-2", "../testdata/demo/"); code != ExitFindings ||
		!strings.Contains(errOut, "k8sexec: warning: --disable-rule r-2: that rule was skipped, so it does not run anyway: ") {
		t.Errorf("--disable-rule of a skipped rule: exit %d\n%s", code, errOut)
	}
	for _, args := range [][]string{
		{"scan", "-q", "--rules", dir, "--only-rule", "r-2", "../testdata/demo/"},
		{"rules", "show", "--rules", dir, "r-2"},
		{"rules", "list", "--rules", dir, "--only-rule", "r-2"},
	} {
		_, errOut, code := run(t, nil, args...)
		if code != ExitError || !strings.Contains(errOut, `rule_id "r-2" was skipped, so it does not run: `+filepath.Join(dir, "seq.toml")+": EQL sequence") {
			t.Errorf("%v: exit %d\n%s", args, code, errOut)
		}
	}
}

// The table's summary says what every filter left out, as stderr does:
// with -q or -o it is all the user gets.
func TestTableSummarySaysWhatIsNotShown(t *testing.T) {
	out, _, _ := run(t, nil, "scan", "-q", "--guide", "none", "--since", "2026-11-20T09:45:00Z", "--min-severity", "medium", "../testdata/demo/")
	if want := "  not shown 2 below --min-severity (they still count for --fail-on), 4 outside --since/--until\n"; !strings.Contains(out, want) {
		t.Errorf("no line %q in the summary:\n%s", want, out)
	}
	if out, _, _ := run(t, nil, "scan", "-q", "--guide", "none", "../testdata/demo/"); strings.Contains(out, "not shown") {
		t.Errorf("a report that shows everything says something is not shown:\n%s", out)
	}
}

// An empty input (a pipe fed nothing, a path a script left empty) passes,
// but is said: a job scanning nothing should not look like a clean scan.
func TestEmptyInputIsSaid(t *testing.T) {
	out, _, code := run(t, strings.NewReader(""), "scan", "-")
	if code != ExitOK || !strings.Contains(out, "  warning   standard input was empty: nothing was scanned\n") {
		t.Errorf("table: exit %d\n%s", code, out)
	}
	_, errOut, code := run(t, nil, "scan", "-f", "ndjson", "../testdata/broken/empty.log", "../testdata/audit/noise.log")
	if code != ExitOK || !strings.Contains(errOut, "k8sexec: warning: ../testdata/broken/empty.log: empty: nothing was scanned\n") || strings.Contains(errOut, "noise.log: empty") {
		t.Errorf("ndjson: exit %d\n%s", code, errOut)
	}
	// A gzip of nothing is read without an error, and holds nothing.
	var gz bytes.Buffer
	if err := gzip.NewWriter(&gz).Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "audit.log.gz")
	if err := os.WriteFile(path, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := run(t, nil, "scan", "-f", "ndjson", path); code != ExitOK || !strings.Contains(errOut, "audit.log.gz: an empty gzip stream: nothing was scanned\n") {
		t.Errorf("gzip of nothing: exit %d\n%s", code, errOut)
	}
	if out, _, code := run(t, bytes.NewReader(gz.Bytes()), "scan", "-"); code != ExitOK || !strings.Contains(out, "  warning   standard input was an empty gzip stream: nothing was scanned\n") {
		t.Errorf("gzip of nothing on standard input: exit %d\n%s", code, out)
	}
	if out, _, code := run(t, bytes.NewReader([]byte{0xff, 0xfe}), "scan", "-"); code != ExitOK || !strings.Contains(out, "  warning   standard input was a utf-16le byte order mark and nothing else: nothing was scanned\n") {
		t.Errorf("UTF-16 of nothing on standard input: exit %d\n%s", code, out)
	}
}

// The JSON summary reconciles, per input, as formats.md says: every record
// is an event, malformed, overlong, skipped, or an envelope whose events
// are counted instead.
func TestJSONCountsReconcile(t *testing.T) {
	out, _, _ := run(t, nil, "scan", "-f", "json", "--guide", "none", "../testdata/wrapped/", "../testdata/broken/", "../testdata/demo/")
	var r struct {
		Summary struct {
			Inputs []struct {
				Name, Layout                                                           string
				Lines, Blank, Records, Events, Malformed, Overlong, Skipped, Envelopes int64
				Unwrapped                                                              int64
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	envelopes := int64(0)
	for _, in := range r.Summary.Inputs {
		envelopes += in.Envelopes
		if got := in.Events + in.Malformed + in.Overlong + in.Skipped + in.Envelopes - in.Unwrapped; got != in.Records {
			t.Errorf("%s: events+malformed+overlong+skipped+envelopes-unwrapped = %d, records %d: %+v", in.Name, got, in.Records, in)
		}
		if in.Layout == "lines" && in.Lines != in.Blank+in.Records {
			t.Errorf("%s: lines %d != blank %d + records %d", in.Name, in.Lines, in.Blank, in.Records)
		}
	}
	if envelopes == 0 {
		t.Error("no envelope among the wrapped inputs: the test reconciles nothing")
	}
}

// scan and search take the same line limit and worker count, and refuse
// the same values: a limit below an ordinary audit line would count every
// line overlong, and numbers near the int range overflowed buffer sizes or
// exhausted memory.
func TestNumberFlagLimits(t *testing.T) {
	input := filepath.Join("..", "testdata", "demo", "kube-apiserver-audit.log")
	huge := "9223372036854775807"
	for _, sub := range [][]string{{"scan"}, {"search", "kubernetes.audit.verb:create"}} {
		for _, tc := range []struct{ flag, value, want string }{
			{"--max-line-size", "0", "must be from 1024 to 1073741824"},
			{"--max-line-size", "-5", "must be from 1024 to 1073741824"},
			{"--max-line-size", "1023", "must be from 1024 to 1073741824"},
			{"--max-line-size", "1073741825", "must be from 1024 to 1073741824"},
			{"--max-line-size", huge, "must be from 1024 to 1073741824"},
			{"--workers", "-1", "must be from 0 (one per CPU) to 1024"},
			{"--workers", "1025", "must be from 0 (one per CPU) to 1024"},
			{"--workers", huge, "must be from 0 (one per CPU) to 1024"},
		} {
			args := append(append([]string{}, sub...), tc.flag, tc.value, input)
			stdout, stderr, code := run(t, nil, args...)
			if code != ExitError || stdout != "" || !strings.Contains(stderr, tc.flag+" "+tc.value+": "+tc.want) {
				t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d and %q", args, code, stdout, stderr, ExitError, tc.want)
			}
		}
		for _, ok := range [][]string{{"--max-line-size", "1024"}, {"--max-line-size", "1073741824"}, {"--workers", "1024"}, {"--workers", "0"}} {
			args := append(append(append([]string{}, sub...), "-q"), append(ok, input)...)
			if _, stderr, code := run(t, nil, args...); code == ExitError {
				t.Errorf("%v: exit %d (%s); the bound is allowed", args, code, stderr)
			}
		}
	}
}

// A command that groups others takes a mistyped subcommand for a usage
// error, as the root does: printing the help with exit 0 let a CI step
// running "rules chek" pass.
func TestUnknownSubcommandRefused(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"rules", "chek", "../testdata/demo"}, `unknown command "chek" for "k8sexec rules"; did you mean check?`},
		{[]string{"completion", "tcsh"}, `unknown command "tcsh" for "k8sexec completion"`},
		{[]string{"bogus"}, `unknown command "bogus" for "k8sexec"`},
	} {
		stdout, stderr, code := run(t, nil, tc.args...)
		if code != ExitError || stdout != "" || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d and %q", tc.args, code, stdout, stderr, ExitError, tc.want)
		}
	}
	if stdout, _, code := run(t, nil, "rules"); code != ExitOK || !strings.Contains(stdout, "Available Commands:") {
		t.Errorf("rules alone: exit %d, %q; want its help", code, stdout)
	}
}

// A glob that is not valid is refused before anything is read: a scan
// that went on read the files named but no folder, and its report said
// "No findings." beside an input with no name.
func TestBadGlobRefused(t *testing.T) {
	input := filepath.Join("..", "testdata", "demo", "kube-apiserver-audit.log")
	for _, sub := range [][]string{{"scan"}, {"search", "kubernetes.audit.verb:create"}} {
		for _, flag := range []string{"--include", "--exclude"} {
			args := append(append([]string{}, sub...), flag, "[a-", input)
			stdout, stderr, code := run(t, nil, args...)
			if want := flag + ` "[a-": `; code != ExitError || stdout != "" || !strings.Contains(stderr, want) {
				t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d, no report and %q", args, code, stdout, stderr, ExitError, want)
			}
		}
	}
}

// An output over a file the scan reads would empty the evidence before it
// is read, and the scan would then report nothing with exit 0: it is
// refused, whatever path names the file, and the file is left as it was.
func TestOutputOverInputRefused(t *testing.T) {
	dir := t.TempDir()
	demo, err := os.ReadFile(filepath.Join("..", "testdata", "demo", "kube-apiserver-audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(dir, "audit.log")
	folder := filepath.Join(dir, "logs")
	inFolder := filepath.Join(folder, "audit.log")
	ruleFile := filepath.Join(dir, "rule.toml")
	rule := "[rule]\nrule_id = \"r\"\nname = \"r\"\nseverity = \"low\"\nrisk_score = 1\ntype = \"query\"\nlanguage = \"kuery\"\nquery = 'kubernetes.audit.verb:nothing'\n"
	for path, text := range map[string]string{logFile: string(demo), inFolder: string(demo), ruleFile: rule} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A rule k8sexec skips, and a file that must survive a refusal of the
	// other output.
	mlFile := filepath.Join(dir, "ml.toml")
	keepFile := filepath.Join(dir, "keep.txt")
	ml := strings.Replace(rule, `type = "query"`, `type = "machine_learning"`, 1)
	for path, text := range map[string]string{mlFile: ml, keepFile: "precious\n"} {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	hard := filepath.Join(dir, "hard.log")
	if err := os.Link(logFile, hard); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	stdinFile := func() io.Reader {
		f, err := os.Open(logFile)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	for _, tc := range []struct {
		name  string
		stdin func() io.Reader
		args  []string
		want  string
	}{
		{"output is the input", nil, []string{"-o", logFile, logFile}, "--output " + logFile + " is an input"},
		{"output is a hard link to it", nil, []string{"-o", hard, logFile}, "--output " + hard + " is an input (" + logFile + ")"},
		{"baseline written over an input", nil, []string{"--write-baseline", logFile, logFile}, "--write-baseline " + logFile + " is an input"},
		{"output is a file in a scanned folder", nil, []string{"-o", inFolder, folder}, "--output " + inFolder + " is an input"},
		{"output is standard input's file", stdinFile, []string{"-o", logFile, "-"}, "is an input (standard input)"},
		{"output is a rule file", nil, []string{"--rules", ruleFile, "-o", ruleFile, logFile}, "is a --rules file"},
		{"both outputs one new file", nil, []string{"-o", filepath.Join(dir, "new.json"), "--write-baseline", filepath.Join(dir, "new.json"), logFile}, "is --output's file"},
		{"output is a skipped rule's file", nil, []string{"--rules", mlFile, "-o", mlFile, logFile}, "is a --rules file"},
		{"output is a disabled rule's file", nil, []string{"--rules", ruleFile, "--disable-rule", "r", "-o", ruleFile, logFile}, "is a --rules file"},
		{"baseline refused after a good output", nil, []string{"-o", keepFile, "--write-baseline", logFile, logFile}, "--write-baseline " + logFile + " is an input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &env{}
			if tc.stdin != nil {
				e.stdin = tc.stdin()
			}
			stdout, stderr, code := runEnv(t, e, append([]string{"scan", "-q", "-f", "json"}, tc.args...)...)
			if code != ExitError || stdout != "" || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, stdout, stderr, ExitError, tc.want)
			}
			for path, text := range map[string]string{logFile: string(demo), inFolder: string(demo), ruleFile: rule, mlFile: ml, keepFile: "precious\n"} {
				if got, err := os.ReadFile(path); err != nil || string(got) != text {
					t.Errorf("%s changed (%v)", path, err)
				}
			}
		})
	}

	// Devices are no files an output could empty: /dev/null takes both
	// reports, and may be standard input too.
	if _, stderr, code := runEnv(t, &env{stdin: devNull(t)}, "scan", "-q", "-f", "json", "-o", os.DevNull, "--write-baseline", os.DevNull, "-"); code == ExitError {
		t.Errorf("/dev/null as standard input and both outputs: exit %d, %s", code, stderr)
	}
	// The baseline is renamed into place, but never over a device.
	if fi, err := os.Stat(os.DevNull); err != nil || fi.Mode().IsRegular() {
		t.Fatalf("%s is no longer a device (%v): a report was renamed over it", os.DevNull, err)
	}

	// A report written into the folder it scans is fine the first time;
	// the second run finds it there, a k8sexec report, and leaves it out
	// (a log in its place is refused, above). Named as an input, it is
	// refused.
	reportFile := filepath.Join(folder, "report.json")
	if _, stderr, code := run(t, nil, "scan", "-q", "-f", "json", "-o", reportFile, folder); code != ExitFindings {
		t.Fatalf("first run: exit %d, %s", code, stderr)
	}
	if _, stderr, code := run(t, nil, "scan", "-f", "json", "-o", reportFile, folder); code != ExitFindings || !strings.Contains(stderr, "it is the --output file") {
		t.Errorf("second run: exit %d, %s; want the report left out", code, stderr)
	}
	if _, stderr, code := run(t, nil, "scan", "-q", "-f", "json", "-o", reportFile, folder, reportFile); code != ExitError || !strings.Contains(stderr, "is an input") {
		t.Errorf("the report named as an input: exit %d, %s; want it refused", code, stderr)
	}
	if _, stderr, code := run(t, nil, "scan", "-q", "-f", "json", "-o", reportFile, "--exclude", "report.json", folder); code != ExitFindings {
		t.Errorf("second run without the report: exit %d, %s", code, stderr)
	}
}

// A folder that gave no input is listed in the JSON summary under its own
// name, with the reason, and the scan exits 2.
func TestFolderGivingNothingInSummary(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	filtered := filepath.Join(dir, "filtered")
	for _, d := range []string{empty, filtered} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(filtered, "a.txt"), []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := run(t, nil, "scan", "-q", "-f", "json", "--include", "*.log", empty, filtered)
	if code != ExitError {
		t.Errorf("exit %d, want %d (%s)", code, ExitError, stderr)
	}
	var doc struct {
		Summary struct {
			Inputs []struct{ Name, Error string } `json:"inputs"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{empty: "folder holds no files", filtered: "left out all 1 file(s)"}
	if len(doc.Summary.Inputs) != len(want) {
		t.Fatalf("inputs %+v, want %v", doc.Summary.Inputs, want)
	}
	for _, in := range doc.Summary.Inputs {
		if w, ok := want[in.Name]; !ok || !strings.Contains(in.Error, w) {
			t.Errorf("input %+v: want a name in %v and its reason", in, want)
		}
	}
}

// rules check says when a rule's guide template will not be filled in,
// and still counts the rule as loaded.
func TestRulesCheckGuideTemplate(t *testing.T) {
	dir := t.TempDir()
	rule := "[rule]\nrule_id = \"loop\"\nname = \"Loop\"\nseverity = \"low\"\nrisk_score = 1\ntype = \"query\"\nlanguage = \"kuery\"\nquery = 'kubernetes.audit.verb:get'\nnote = '{{range 9}}x{{end}}'\n[k8sexec]\nnote_format = \"template\"\n"
	if err := os.WriteFile(filepath.Join(dir, "loop.toml"), []byte(rule), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := run(t, nil, "rules", "check", dir)
	if code != ExitOK || !strings.Contains(out, "its guide template cannot be filled in") || !strings.Contains(out, "range: a guide may not loop") || !strings.Contains(out, "1 loaded, 0 skipped, 0 broken") {
		t.Errorf("exit %d\n%s%s", code, out, stderr)
	}
}

// Rule and exceptions files are anyone's: their IDs, ATT&CK IDs, field
// names and file names reach the terminal without control characters, in
// rules check and show, in the table, and in errors.
func TestRuleFileTextIsCleaned(t *testing.T) {
	dir := t.TempDir()
	const esc = "\x1b]0;owned\x07\x1b[31m\r\u009b\u202e"
	rule := "[rule]\nrule_id = \"r-" + esc + "\"\nname = \"Evil\"\nseverity = \"low\"\nrisk_score = 1\ntype = \"query\"\nlanguage = \"kuery\"\n" +
		"query = 'kubernetes.audit.objectRef.subresource:\"exec\"'\n[[rule.threat]]\nframework = \"MITRE ATT&CK\"\n" +
		"[rule.threat.tactic]\nid = \"TA0002\"\nname = \"Execution\"\nreference = \"https://attack.mitre.org/tactics/TA0002/\"\n" +
		"[[rule.threat.technique]]\nid = \"T1609" + esc + "\"\nname = \"x\"\nreference = \"https://attack.mitre.org/techniques/T1609/\"\n"
	// TOML basic strings take the escapes as \u sequences.
	var b strings.Builder
	for _, r := range rule {
		if r < 0x20 && r != '\n' || r == 0x7f || r >= 0x80 {
			fmt.Fprintf(&b, "\\u%04x", r)
		} else {
			b.WriteRune(r)
		}
	}
	ruleFile := filepath.Join(dir, "evil.toml")
	if err := os.WriteFile(ruleFile, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	badExceptions := filepath.Join(dir, "ex.toml")
	if err := os.WriteFile(badExceptions, []byte("[[exception]]\nname = \"x\"\nwhen = 'no\\u001b[31mfield:1'\nreason = \"r\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	demo := filepath.Join("..", "testdata", "demo", "kube-apiserver-audit.log")
	for _, args := range [][]string{
		{"rules", "check", dir},
		{"rules", "show", "--rules", ruleFile, "r-" + esc},
		{"scan", "--rules", ruleFile, "--color", "never", demo},
		{"scan", "--exceptions", badExceptions, demo},
		{"scan", "--rules", filepath.Join(dir, "missing"+esc+".toml"), demo},
	} {
		stdout, stderr, _ := run(t, nil, args...)
		for _, out := range []string{stdout, stderr} {
			if i := strings.IndexFunc(out, func(r rune) bool { return r != '\n' && triage.TerminalUnsafe(r) }); i >= 0 {
				t.Errorf("%q prints %q at %d:\n%s", args[:2], out[i:min(len(out), i+8)], i, out[max(0, i-80):min(len(out), i+80)])
			}
		}
	}
}

func devNull(t *testing.T) *os.File {
	t.Helper()
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// Without the process-side rule (disabled, or replaced by a version that
// misses this shell), an exec request is still linked to the interactive
// session it started, with the commands typed in it.
func TestSessionLinkedWithoutTheProcessRule(t *testing.T) {
	out, _, _ := run(t, nil, "scan", "-q", "-f", "json", "--disable-rule", rule2, "../testdata/demo/")
	r := parseReport(t, out)
	for _, f := range r.Findings {
		if f.User == nil || f.User.Name != "alice@example.com" {
			continue
		}
		if f.Started == nil || f.Started.PID != 1958854 || len(f.Commands) != 4 {
			t.Errorf("alice's exec: started %+v, %d commands; want bash 1958854 and its 4 commands", f.Started, len(f.Commands))
		}
		return
	}
	t.Fatalf("no finding for alice's exec:\n%s", out)
}

// Interactive sessions are read whatever their number: five shells in
// one container, a minute apart, are each linked to their request when
// the process-side rule does not run (the cap of 3 repeated sessions is
// for sessions without a terminal, such as probes).
func TestEveryInteractiveSessionLinked(t *testing.T) {
	dir := t.TempDir()
	var audit, proc strings.Builder
	for i := range 5 {
		fmt.Fprintf(&audit, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"req-%d","stage":"ResponseStarted","requestURI":"/api/v1/namespaces/shop/pods/api-1/exec?command=bash&container=api&stdin=true&stdout=true&tty=true","verb":"create","user":{"username":"u%d@example.com","groups":["devs","system:authenticated"]},"sourceIPs":["203.0.113.9"],"userAgent":"kubectl/v1.29.0","objectRef":{"resource":"pods","namespace":"shop","name":"api-1","apiVersion":"v1","subresource":"exec"},"responseStatus":{"metadata":{},"code":101},"requestReceivedTimestamp":"2026-03-02T10:0%d:00Z","stageTimestamp":"2026-03-02T10:0%d:00.050Z","annotations":{"authorization.k8s.io/decision":"allow"}}`+"\n", i, i, i, i)
		fmt.Fprintf(&proc, `{"@timestamp":"2026-03-02T10:0%d:01Z","event":{"category":["process"],"type":["start"],"action":"exec"},"container":{"id":"c1","name":"api"},"orchestrator":{"namespace":"shop","resource":{"type":"pod","name":"api-1"}},"process":{"entity_id":"S%d","pid":100,"name":"bash","executable":"/bin/bash","args":["bash"],"interactive":true,"entry_leader":{"entity_id":"S%d","interactive":true,"same_as_process":true,"entry_meta":{"type":"container"}}}}`+"\n", i, i, i)
	}
	a, p := filepath.Join(dir, "audit.log"), filepath.Join(dir, "proc.ndjson")
	if err := os.WriteFile(a, []byte(audit.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(proc.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, _ := run(t, nil, "scan", "-q", "-f", "json", "--disable-rule", rule2, a, p)
	r := parseReport(t, out)
	if len(r.Findings) != 5 {
		t.Fatalf("%d findings, want the 5 exec requests", len(r.Findings))
	}
	for _, f := range r.Findings {
		if f.Started == nil {
			t.Errorf("%s (%s) has no session", f.ID, f.User.Name)
		}
	}
}

// A log that Windows PowerShell 5 wrote with > is UTF-16LE with a byte
// order mark: it finds what the UTF-8 log finds, and both reports say it
// was decoded.
func TestUTF16LogDecoded(t *testing.T) {
	demo, err := os.ReadFile(filepath.Join("..", "testdata", "demo", "kube-apiserver-audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	data := []byte{0xff, 0xfe}
	for _, u := range utf16.Encode([]rune(string(demo))) {
		data = binary.LittleEndian.AppendUint16(data, u)
	}
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	want, _, _ := run(t, nil, "scan", "-q", "--format", "ndjson", "../testdata/demo/kube-apiserver-audit.log")
	got, _, _ := run(t, nil, "scan", "-q", "--format", "ndjson", path)
	if strings.Count(got, "\n") != 5 || strings.Count(got, `"evidence"`) != strings.Count(want, `"evidence"`) {
		t.Errorf("UTF-16 log: %d findings, want the UTF-8 log's 5", strings.Count(got, "\n"))
	}
	table, _, _ := run(t, nil, "scan", "--guide", "none", path)
	if !strings.Contains(table, "1 input (1 decoded from UTF-16),") {
		t.Errorf("the table's summary does not say the input was decoded:\n%s", table)
	}
	js, _, _ := run(t, nil, "scan", "-q", "--format", "json", path)
	if !strings.Contains(js, `"encoding": "utf-16le"`) {
		t.Error(`the JSON report's input has no "encoding": "utf-16le"`)
	}
}

// With an audit log among the inputs, even one without exec requests, a
// shell no request was linked to says none fits instead of asking for the
// audit log.
func TestProcessGuideWithAuditScanned(t *testing.T) {
	alone, _, _ := run(t, nil, "scan", "../testdata/process/")
	with, _, _ := run(t, nil, "scan", "../testdata/process/", "../testdata/audit/noise.log")
	if !strings.Contains(alone, "Scan the API server audit log of the same period") || strings.Contains(alone, "no exec request in the audit events") {
		t.Errorf("process events alone: the guide should ask for the audit log:\n%s", alone)
	}
	if strings.Contains(with, "Scan the API server audit log of the same period") || !strings.Contains(with, "no exec request in the audit events") {
		t.Errorf("with an audit log: the guide should say no request fits:\n%s", with)
	}
}

// The report may not be the baseline it is read against (each run would
// report what the last one hid); -o - is standard output; a baseline is a
// file.
func TestOutputAndBaselinePaths(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "b.json")
	if _, _, code := run(t, nil, "scan", "-q", "-f", "json", "--write-baseline", base, "../testdata/demo/"); code != ExitFindings {
		t.Fatalf("writing the baseline: exit %d", code)
	}
	for _, flag := range []string{"--baseline", "--baseline-if-exists"} {
		if _, stderr, code := run(t, nil, "scan", "-q", "-f", "json", "-o", base, flag, base, "../testdata/demo/"); code != ExitError || !strings.Contains(stderr, "the next run would read this report as its baseline") {
			t.Errorf("-o naming the %s file: exit %d, %s", flag, code, stderr)
		}
	}
	if out, _, code := run(t, nil, "scan", "-q", "-f", "ndjson", "-o", "-", "../testdata/demo/"); code != ExitFindings || strings.Count(out, "\n") != 7 {
		t.Errorf("-o -: exit %d, %d lines on stdout, want the 7 findings", code, strings.Count(out, "\n"))
	}
	if _, err := os.Stat("-"); err == nil {
		t.Error(`-o - made a file named "-"`)
		os.Remove("-")
	}
	if _, stderr, code := run(t, nil, "scan", "-q", "--write-baseline", "-", "../testdata/demo/"); code != ExitError || !strings.Contains(stderr, "a baseline is a file") {
		t.Errorf("--write-baseline -: exit %d, %s", code, stderr)
	}
}

// A scan whose flags leave no rule to run is a usage error: it would
// find nothing, and pass every job.
func TestNoRuleLeftIsAnError(t *testing.T) {
	if _, stderr, code := run(t, nil, "scan", "--only-rule", ruleDenied, "--disable-rule", ruleDenied, "../testdata/demo/"); code != ExitError || !strings.Contains(stderr, "no rule left to run") {
		t.Errorf("exit %d, %s", code, stderr)
	}
}

// An Elasticsearch index that Fluent Bit or Logstash fill with the API
// server's own events (no Elastic integration) holds raw audit events as
// _source: search hits of them, one per line or as a whole response,
// find what the raw log finds.
func TestSearchHitsOfRawAuditEvents(t *testing.T) {
	data, err := os.ReadFile("../testdata/demo/kube-apiserver-audit.log")
	if err != nil {
		t.Fatal(err)
	}
	var hits []string
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		hits = append(hits, fmt.Sprintf(`{"_index":"k8s-audit-2026.11.20","_id":"%d","_score":1,"_source":%s}`, i, line))
	}
	dir := t.TempDir()
	perLine, response := filepath.Join(dir, "hits.ndjson"), filepath.Join(dir, "response.json")
	if err := os.WriteFile(perLine, []byte(strings.Join(hits, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(response, []byte(`{"took":3,"hits":{"total":{"value":`+strconv.Itoa(len(hits))+`},"hits":[`+strings.Join(hits, ",")+"]}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ids := func(out string) []string {
		var got []string
		for _, f := range parseReport(t, out).Findings {
			got = append(got, f.ID)
		}
		slices.Sort(got)
		return got
	}
	raw, _, _ := run(t, nil, "scan", "-q", "-f", "json", "../testdata/demo/kube-apiserver-audit.log")
	want := ids(raw)
	for _, path := range []string{perLine, response} {
		out, _, code := run(t, nil, "scan", "-q", "-f", "json", path)
		if got := ids(out); code != ExitFindings || !slices.Equal(got, want) {
			t.Errorf("%s: exit %d, findings %v, want the raw log's %v", filepath.Base(path), code, got, want)
		}
	}
}

// search says where a query stops parsing, and which lines it could not
// read, as scan does.
func TestSearchErrorsAreLocated(t *testing.T) {
	_, stderr, code := run(t, nil, "search", `user.name:"alice" and (verb:get`, "../testdata/demo/")
	if want := "  user.name:\"alice\" and (verb:get\n                                 ^"; code != ExitError || !strings.Contains(stderr, want) {
		t.Errorf("exit %d, stderr:\n%s\nwant the query with a caret at its end", code, stderr)
	}
	_, stderr, _ = run(t, nil, "search", `user.name:alice`, "../testdata/broken/garbage.bin")
	if !strings.Contains(stderr, "garbage.bin:1: binary data") || !strings.Contains(stderr, "malformed or overlong line(s) skipped") {
		t.Errorf("stderr does not locate the lines skipped:\n%s", stderr)
	}
}

// An export cut short (a download that stopped) keeps the events that
// ended before the cut: a wrapper the input ends inside is read up to its
// last whole event, and the rest is one malformed record where it starts,
// whether the wrapper is pretty-printed or on one line (aws logs
// --output json | jq -c, an AKS blob).
func TestCutWrapperKeepsItsWholeEvents(t *testing.T) {
	data, err := os.ReadFile("../testdata/demo/kube-apiserver-audit.log")
	if err != nil {
		t.Fatal(err)
	}
	type cwEvent struct {
		LogStreamName string `json:"logStreamName"`
		Timestamp     int64  `json:"timestamp"`
		Message       string `json:"message"`
	}
	var evs []cwEvent
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		evs = append(evs, cwEvent{"kube-apiserver-audit-1", 1763631667000 + int64(i), line})
	}
	doc := map[string]any{"events": evs, "searchedLogStreams": []any{}}
	pretty, _ := json.MarshalIndent(doc, "", "  ")
	oneLine, _ := json.Marshal(doc)
	for name, whole := range map[string][]byte{"pretty": pretty, "one line": oneLine} {
		dir := t.TempDir()
		full, cut := filepath.Join(dir, "full.json"), filepath.Join(dir, "cut.json")
		// Cut inside the 30th of the log's 45 events.
		at := bytes.Index(whole, []byte(`"timestamp": 1763631667029`))
		if name == "one line" {
			at = bytes.Index(whole, []byte(`"timestamp":1763631667029`))
		}
		if err := os.WriteFile(full, whole, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(cut, whole[:at], 0o644); err != nil {
			t.Fatal(err)
		}
		fullOut, _, _ := run(t, nil, "scan", "-q", "-f", "json", full)
		cutOut, _, _ := run(t, nil, "scan", "-q", "-f", "json", cut)
		before := map[string]bool{}
		for _, f := range parseReport(t, fullOut).Findings {
			before[f.ID] = true
		}
		r := parseReport(t, cutOut)
		if len(r.Findings) == 0 {
			t.Fatalf("%s: the cut export kept no finding", name)
		}
		for _, f := range r.Findings {
			if !before[f.ID] {
				t.Errorf("%s: finding %s is not one of the whole export's", name, f.ID)
			}
		}
		if tot := r.Summary.Totals; tot.Events != 29 || tot.Malformed != 1 {
			t.Errorf("%s: events %d, malformed %d; want the 29 whole events and the cut one", name, tot.Events, tot.Malformed)
		}
		startLine := int64(bytes.Count(whole[:bytes.LastIndex(whole[:at], []byte("{"))], []byte("\n")) + 1)
		if len(r.Summary.Problems) != 1 || r.Summary.Problems[0].Line != startLine || !strings.Contains(r.Summary.Problems[0].Reason, "truncated JSON") {
			t.Errorf("%s: problems %+v, want the cut event's, at line %d", name, r.Summary.Problems, startLine)
		}
	}
}

// A stage CloudWatch cut at its size limit is not read, but the finding
// about its request lists it, and a cut ResponseComplete makes the
// session's end unknown rather than possibly still open; the problem says
// which request it was.
func TestCutStageIsTheRequests(t *testing.T) {
	data, err := os.ReadFile("../testdata/demo/kube-apiserver-audit.log")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	started, complete := lines[7], lines[40] // alice's exec
	if !strings.Contains(complete, `"stage":"ResponseComplete"`) || !strings.Contains(started, `"stage":"ResponseStarted"`) {
		t.Fatal("the demo log's lines moved")
	}
	cut := complete[:len(complete)-40] + "[Truncated...]" // a CloudWatch cut is at the end of a long event
	type cwEvent struct {
		LogStreamName string `json:"logStreamName"`
		Timestamp     int64  `json:"timestamp"`
		Message       string `json:"message"`
	}
	doc, _ := json.Marshal(map[string]any{"events": []cwEvent{{"s", 1, started}, {"s", 2, cut}}})
	path := filepath.Join(t.TempDir(), "eks.json")
	if err := os.WriteFile(path, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	checkCutStage(t, path, 1, 2)
}

// A raw audit event cut short is placed and reported as one CloudWatch
// cut: the last line of a log copied while it was written, or an event a
// crash cut short with the next write on the same line.
func TestCutRawAuditStageIsTheRequests(t *testing.T) {
	data, err := os.ReadFile("../testdata/demo/kube-apiserver-audit.log")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	started, complete, next := lines[7], lines[40], lines[41] // alice's exec, and what follows
	if !strings.Contains(complete, `"stage":"ResponseComplete"`) || !strings.Contains(started, `"stage":"ResponseStarted"`) {
		t.Fatal("the demo log's lines moved")
	}
	cut := complete[:strings.Index(complete, `"responseStatus"`)+10] // after what the problem names
	for _, tc := range []struct {
		name, log string
		index     int
	}{
		{"the last line", started + "\n" + cut + "\n", 0},
		{"followed by the next event", started + "\n" + cut + next + "\n", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.log")
			if err := os.WriteFile(path, []byte(tc.log), 0o644); err != nil {
				t.Fatal(err)
			}
			checkCutStage(t, path, 2, tc.index)
		})
	}
}

// checkCutStage checks the report on a log holding the ResponseStarted of
// alice's exec in the demo log whole and its ResponseComplete cut short,
// at line and index.
func checkCutStage(t *testing.T, path string, line int64, index int) {
	t.Helper()
	out, stderr, _ := run(t, nil, "scan", "-f", "json", path)
	var r struct {
		Findings []struct {
			Context []struct {
				Line        int64
				Index       int
				Stage, Note string
			}
			Notes []string
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || len(r.Findings) != 1 {
		t.Fatalf("%v, %d findings", err, len(r.Findings))
	}
	f := r.Findings[0]
	if len(f.Context) != 1 || f.Context[0].Stage != "ResponseComplete" || f.Context[0].Note != "cut short, not read" ||
		f.Context[0].Line != line || f.Context[0].Index != index {
		t.Errorf("context %+v, want the cut ResponseComplete at %d#%d", f.Context, line, index)
	}
	joined := strings.Join(f.Notes, " ")
	if !strings.Contains(joined, "was cut short (") || strings.Contains(joined, "may still have been open") {
		t.Errorf("notes %q", f.Notes)
	}
	if strings.Contains(out, `"ongoing": true`) {
		t.Error("a session whose ResponseComplete was cut is not ongoing: it ended, when is unknown")
	}
	if !strings.Contains(stderr, "(ResponseComplete of create pods/exec by alice@example.com)") {
		t.Errorf("the problem does not say which request was cut:\n%s", stderr)
	}
}

// The other ways people save CloudWatch events find what the raw log
// finds: the events alone (aws logs filter-log-events --query events, or
// jq -c '.events[]' one per line), and Logs Insights' get-query-results,
// whose rows are field/value pairs and whose @log names the cluster.
func TestCloudWatchEventShapes(t *testing.T) {
	data, err := os.ReadFile("../testdata/demo/kube-apiserver-audit.log")
	if err != nil {
		t.Fatal(err)
	}
	var events, rows []string
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		msg, _ := json.Marshal(line)
		events = append(events, fmt.Sprintf(`{"logStreamName":"kube-apiserver-audit-1","timestamp":%d,"message":%s,"ingestionTime":1,"eventId":"%d"}`, 1763631667000+i, msg, i))
		rows = append(rows, fmt.Sprintf(`[{"field":"@timestamp","value":"2026-11-20 09:41:07.000"},{"field":"@message","value":%s},{"field":"@log","value":"123456789012:/aws/eks/prod-euw1/cluster"},{"field":"@ptr","value":"x%d"}]`, msg, i))
	}
	dir := t.TempDir()
	files := map[string]string{
		"events.ndjson": strings.Join(events, "\n") + "\n",
		"events.json":   "[\n" + strings.Join(events, ",\n") + "\n]\n",
		"insights.json": `{"results":[` + strings.Join(rows, ",") + `],"statistics":{"recordsMatched":45},"status":"Complete"}` + "\n",
	}
	raw, _, _ := run(t, nil, "scan", "-q", "-f", "json", "../testdata/demo/kube-apiserver-audit.log")
	var want []string
	for _, f := range parseReport(t, raw).Findings {
		want = append(want, f.ID)
	}
	slices.Sort(want)
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		out, _, code := run(t, nil, "scan", "-q", "-f", "json", path)
		r := parseReport(t, out)
		var got []string
		for _, f := range r.Findings {
			got = append(got, f.ID)
		}
		slices.Sort(got)
		if code != ExitFindings || !slices.Equal(got, want) {
			t.Errorf("%s: exit %d, findings %v, want the raw log's %v", name, code, got, want)
		}
		if name == "insights.json" && !strings.Contains(out, `"name": "prod-euw1"`) {
			t.Errorf("%s: the findings do not name the cluster of @log", name)
		}
	}
}

// A job that keeps its report and baseline in the folder it scans reads
// the logs there, not its own files: they are left out, with a warning.
// Named as inputs they are still refused.
func TestOwnFilesInAScannedFolder(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile("../testdata/demo/kube-apiserver-audit.log")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "audit.log"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	reportFile, base := filepath.Join(dir, "report.json"), filepath.Join(dir, "baseline.json")
	args := []string{"scan", "-f", "json", "-o", reportFile, "--baseline-if-exists", base, "--write-baseline", base, dir}
	if _, stderr, code := run(t, nil, args...); code != ExitFindings {
		t.Fatalf("first night: exit %d\n%s", code, stderr)
	}
	_, stderr, code := run(t, nil, args...)
	if code != ExitOK || !strings.Contains(stderr, "not reading "+reportFile+", found in a folder scanned: it is the --output file") ||
		!strings.Contains(stderr, "it is the --baseline-if-exists file") {
		t.Errorf("second night: exit %d, want %d with the report and baseline left out\n%s", code, ExitOK, stderr)
	}
	if _, _, code := run(t, nil, "scan", "-o", reportFile, reportFile); code != ExitError {
		t.Errorf("-o naming an input: exit %d, want %d", code, ExitError)
	}
}

// An ECS document with a message and a log stream of its own is ECS, not
// a CloudWatch event: its exec is found.
func TestECSWithMessageIsNoCloudWatchEvent(t *testing.T) {
	doc := `{"@timestamp":"2026-11-20T09:41:07Z","message":"hello","logStreamName":"x","ingestionTime":1,"event":{"dataset":"kubernetes.audit_logs"},"kubernetes":{"audit":{"auditID":"q1","verb":"create","objectRef":{"resource":"pods","subresource":"exec","namespace":"ns","name":"p"},"annotations":{"authorization_k8s_io/decision":"allow"}}}}`
	out, _, code := run(t, strings.NewReader(doc+"\n"), "scan", "-q", "-f", "ndjson", "-")
	if code != ExitFindings || strings.Count(out, "\n") != 1 {
		t.Errorf("exit %d, %d findings, want the exec", code, strings.Count(out, "\n"))
	}
}

// A line holding several events one after another is read as such, not
// as an envelope: the summary says which lines were.
func TestJoinedLinesInTheSummary(t *testing.T) {
	out, _, code := run(t, nil, "scan", "--guide", "none", "../testdata/broken/crash_resumed.log")
	if code != ExitFindings || !strings.Contains(out, "crash_resumed.log: raw-audit 5; 2 lines held several JSON values one after another\n") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

// TestContainerLogsInTheSummary: the summary says an input was read as a
// container log, and counts the output that was not JSON.
func TestContainerLogsInTheSummary(t *testing.T) {
	for name, want := range map[string]string{
		"kube-apiserver_cri.log":    "kube-apiserver_cri.log: raw-audit 12 (CRI container log); 2 skipped (2 container output that is not JSON)\n",
		"kube-apiserver_docker.log": "kube-apiserver_docker.log: docker-json-file 12 (Docker container log); 3 skipped (3 container output that is not JSON)\n",
	} {
		out, _, code := run(t, nil, "scan", "--guide", "none", "../testdata/wrapped/"+name)
		if code != ExitFindings || !strings.Contains(out, want) || strings.Count(out, "\n  finding   ") != 4 {
			t.Errorf("%s: exit %d, want %q and 4 findings in:\n%s", name, code, want, out)
		}
	}
}

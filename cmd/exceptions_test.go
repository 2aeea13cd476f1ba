package cmd

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/k8sexec/k8sexec/report"
)

func writeExceptions(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "exceptions.toml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestExceptionsFromTheCommandLine: an exception suppresses exactly what it
// says, the summary counts it, --show-suppressed lists it with its reason,
// and suppressed findings do not fail the run.
func TestExceptionsFromTheCommandLine(t *testing.T) {
	ex := writeExceptions(t, `
[[exception]]
name   = "ci-ls"
rule   = "`+rule1+`"
when   = 'user.name:"system:serviceaccount:ci:deployer" and process.args:"ls"'
reason = "the deploy job lists the app folder"

[[exception]]
name    = "old"
when    = 'user.name:"bob@example.com"'
reason  = "expired long ago"
expires = 2020-01-01

[[exception]]
name   = "typo"
rule   = "no-such-rule"
reason = "names a rule that is not loaded"
`)
	out, errOut, code := run(t, nil, "scan", "--format", "json", "--exceptions", ex, "../testdata/demo/")
	if code != ExitFindings {
		t.Errorf("exit %d", code)
	}
	r := parseReport(t, out)
	for _, f := range r.Findings {
		if f.User != nil && f.User.Name == "system:serviceaccount:ci:deployer" {
			t.Error("the CI job's exec is still reported")
		}
	}
	if len(r.Findings) != 6 || r.Summary.Suppressed != 1 {
		t.Errorf("%d findings, %d suppressed; want 6 and 1", len(r.Findings), r.Summary.Suppressed)
	}
	for _, want := range []string{`exception 2 ("old") expired`, `exception 3 ("typo"): rule no-such-rule is not loaded`, "1 suppressed by exceptions"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(out, `"suppressed":`) && strings.Contains(out, "suppressed_by") {
		t.Error("suppressed findings are listed without --show-suppressed")
	}
	// What each exception did, and which in force did nothing.
	if got, want := fmt.Sprint(r.Summary.Exceptions), fmt.Sprint([]report.ExceptionUse{
		{Name: "ci-ls", Source: ex + `: exception 1 ("ci-ls")`, Suppressed: 1},
		{Name: "old", Source: ex + `: exception 2 ("old")`, Expired: true},
		{Name: "typo", Source: ex + `: exception 3 ("typo")`},
	}); got != want {
		t.Errorf("summary.exceptions %s, want %s", got, want)
	}
	if want := `unused: 1 of 2 exceptions in force suppressed nothing: ` + ex + `: exception 3 ("typo")`; !strings.Contains(errOut, want) {
		t.Errorf("stderr lacks %q:\n%s", want, errOut)
	}
	if out, _, _ := run(t, nil, "scan", "--guide", "none", "--exceptions", ex, "../testdata/demo/"); !strings.Contains(out, "\n  unused    1 of 2 exceptions in force suppressed nothing: ") {
		t.Errorf("the table does not say which exception suppressed nothing:\n%s", out)
	}
	if out, _, _ := run(t, nil, "scan", "--format", "json", "../testdata/demo/"); strings.Contains(out, `"exceptions"`) {
		t.Error("summary.exceptions is written without --exceptions")
	}

	out, _, _ = run(t, nil, "scan", "--format", "table", "--guide", "none", "--exceptions", ex, "--show-suppressed", "../testdata/demo/")
	if !strings.Contains(out, "Suppressed (1)") || !strings.Contains(out, "by ci-ls: the deploy job lists the app folder") {
		t.Errorf("table with --show-suppressed:\n%s", out)
	}
	out, _, _ = run(t, nil, "scan", "--format", "json", "--exceptions", ex, "--show-suppressed", "../testdata/demo/")
	if !strings.Contains(out, `"suppressed_by": {`) || !strings.Contains(out, `"exception": "ci-ls"`) {
		t.Errorf("json with --show-suppressed lacks the suppressed finding")
	}

	// SARIF: the suppressed finding is a result after the six others,
	// with its exception as an accepted external suppression; without
	// --show-suppressed it is not there at all.
	sarifResults := func(args ...string) []sarifSuppressed {
		t.Helper()
		out, _, _ := run(t, nil, append([]string{"scan", "--format", "sarif", "--exceptions", ex}, append(args, "../testdata/demo/")...)...)
		var doc struct {
			Runs []struct {
				Tool struct {
					Driver struct{ Rules []struct{ ID string } }
				}
				Results []sarifSuppressed
			}
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Runs) != 1 {
			t.Fatalf("sarif %v: %v\n%s", args, err, out)
		}
		for i, res := range doc.Runs[0].Results {
			if rules := doc.Runs[0].Tool.Driver.Rules; res.RuleIndex >= len(rules) || rules[res.RuleIndex].ID != res.RuleID {
				t.Errorf("sarif %v: result %d has rule %s at index %d, which is not it", args, i, res.RuleID, res.RuleIndex)
			}
		}
		return doc.Runs[0].Results
	}
	unsuppressed := func(results []sarifSuppressed) {
		t.Helper()
		for i, res := range results {
			if len(res.Suppressions) != 0 {
				t.Errorf("sarif result %d, a finding shown, has suppressions %+v", i, res.Suppressions)
			}
		}
	}
	results := sarifResults()
	if len(results) != 6 {
		t.Errorf("sarif without --show-suppressed: %d results, want the 6 shown", len(results))
	}
	unsuppressed(results)
	results = sarifResults("--show-suppressed")
	if len(results) != 7 {
		t.Fatalf("sarif with --show-suppressed: %d results, want 7", len(results))
	}
	unsuppressed(results[:6])
	if sup := results[6].Suppressions; len(sup) != 1 || sup[0].Kind != "external" || sup[0].Status != "accepted" ||
		sup[0].Justification != "the deploy job lists the app folder" || sup[0].Properties["k8sexec/exception"] != "ci-ls" ||
		!strings.HasSuffix(sup[0].Properties["k8sexec/source"], `exceptions.toml: exception 1 ("ci-ls")`) {
		t.Errorf("suppressed result's suppressions = %+v", sup)
	}
	out, _, _ = run(t, nil, "scan", "--format", "timeline", "--exceptions", ex, "--show-suppressed", "../testdata/demo/")
	if !strings.Contains(out, "Kubernetes User Exec into Pod, suppressed by ci-ls]") {
		t.Errorf("timeline with --show-suppressed lacks the suppressed finding:\n%s", out)
	}

	// Only suppressed findings left: the run passes.
	all := writeExceptions(t, `
[[exception]]
reason = "everything in the demo is a drill"
`)
	if _, _, code := run(t, nil, "scan", "-q", "--exceptions", all, "../testdata/demo/"); code != ExitOK {
		t.Errorf("every finding suppressed: exit %d, want 0", code)
	}

	// A broken file stops the scan before it starts.
	bad := writeExceptions(t, "[[exception]]\nwhen = 'user.name:'\n")
	_, errOut, code = run(t, nil, "scan", "--exceptions", bad, "../testdata/demo/")
	if code != ExitError || !strings.Contains(errOut, "exceptions.toml: exception 1") {
		t.Errorf("broken exceptions: exit %d\n%s", code, errOut)
	}
}

// TestExampleExceptionsLoad: the examples the docs walk through load.
func TestExampleExceptionsLoad(t *testing.T) {
	_, errOut, code := run(t, nil, "scan", "-q", "--exceptions", "../testdata/exceptions/examples.toml", "../testdata/demo/")
	if code == ExitError {
		t.Errorf("examples.toml: exit %d\n%s", code, errOut)
	}
}

// TestStreamFlagsReadAsTheAPIServerDoes: kube-apiserver opens a terminal
// for tty=True (anything but "0" or "false" in any case), so the finding
// says exec.tty and exec.stdin, and an exception for exec requests without
// a terminal leaves it reported.
func TestStreamFlagsReadAsTheAPIServerDoes(t *testing.T) {
	const line = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"3e1c9a52-7b4d-4f0e-9a61-2d8c5b7e0f13","stage":"ResponseStarted","requestURI":"/api/v1/namespaces/shop/pods/api-1/exec?command=bash\u0026container=api\u0026stdin=True\u0026stdout=true\u0026tty=True","verb":"create","user":{"username":"system:serviceaccount:ci:deployer","groups":["system:serviceaccounts","system:authenticated"]},"sourceIPs":["10.20.0.14"],"userAgent":"kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46","objectRef":{"resource":"pods","namespace":"shop","name":"api-1","apiVersion":"v1","subresource":"exec"},"responseStatus":{"metadata":{},"code":101},"requestReceivedTimestamp":"2026-11-20T10:00:00.000000Z","stageTimestamp":"2026-11-20T10:00:00.050000Z","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":""}}` + "\n"
	log := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(log, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	ex := writeExceptions(t, `
[[exception]]
name   = "ci-no-terminal"
when   = 'user.name:"system:serviceaccount:ci:deployer" and not exec.tty:true'
reason = "the deploy job runs commands without a terminal"
`)
	for _, args := range [][]string{
		{"scan", "--format", "json", log},
		{"scan", "--format", "json", "--exceptions", ex, log},
	} {
		out, errOut, code := run(t, nil, args...)
		if code != ExitFindings {
			t.Fatalf("%q: exit %d, want %d; stderr:\n%s", args, code, ExitFindings, errOut)
		}
		r := parseReport(t, out)
		if len(r.Findings) != 1 || r.Summary.Suppressed != 0 {
			t.Fatalf("%q: %d findings, %d suppressed; want 1 and 0", args, len(r.Findings), r.Summary.Suppressed)
		}
		if e := r.Findings[0].Exec; e == nil || !e.TTY || !e.Stdin {
			t.Errorf("%q: exec = %+v, want tty and stdin true", args, e)
		}
	}
}

// sarifSuppressed is what the exceptions test reads of a SARIF result.
type sarifSuppressed struct {
	RuleID       string
	RuleIndex    int
	Suppressions []struct {
		Kind, Status, Justification string
		Properties                  map[string]string
	}
}

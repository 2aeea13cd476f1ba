package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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

	out, _, _ = run(t, nil, "scan", "--format", "table", "--guide", "none", "--exceptions", ex, "--show-suppressed", "../testdata/demo/")
	if !strings.Contains(out, "Suppressed (1)") || !strings.Contains(out, "by ci-ls: the deploy job lists the app folder") {
		t.Errorf("table with --show-suppressed:\n%s", out)
	}
	out, _, _ = run(t, nil, "scan", "--format", "json", "--exceptions", ex, "--show-suppressed", "../testdata/demo/")
	if !strings.Contains(out, `"suppressed_by": {`) || !strings.Contains(out, `"exception": "ci-ls"`) {
		t.Errorf("json with --show-suppressed lacks the suppressed finding")
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

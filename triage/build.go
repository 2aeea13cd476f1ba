package triage

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/k8sexec/k8sexec/rules"
	"github.com/tidwall/gjson"
)

// Event is one scanned event handed to triage: a rule hit, or context.
type Event struct {
	File  string // input name as given, "-" for stdin
	Line  int64  // 1-based, in the decompressed stream
	Index int    // position inside a record holding several events, or 0
	// Context names the context queries (ContextQueries) the event
	// matched.
	Context []string
	Raw     []byte
	Doc     rules.Document
	// Cluster is the cluster the event's wrapper names (an EKS log group,
	// an AKS resource ID), used when the event names none itself.
	Cluster string
	// Rules are the rules the event matched (none for pure context).
	Rules []*rules.Rule
}

// Options tune Build.
type Options struct {
	// Inputs are the scan's inputs as the user named them, quoted into the
	// follow-up commands of the guidance.
	Inputs []string
	// Guide renders each rule's investigation guide into its findings.
	Guide bool
	// MoreCommands counts, per session (entry leader entity ID), the
	// commands the scanner saw but did not keep (ContextCommands' limit).
	MoreCommands map[string]int64
	// Since and Until, when set, keep only findings whose time (the
	// request's start, the process's start) is at or after Since and
	// before Until. Findings without a time are left out too.
	Since, Until time.Time
	// NewTerms are the scan's new_terms summaries, said in the notes.
	NewTerms []rules.TermsSummary
	// Replaced maps built-in rules that loaded rules replaced to their
	// replacements. The scan ran the built-ins too: their matches are no
	// findings, but the requests and processes the replacement did not
	// match are counted in a note, since a replacement may miss what
	// the built-in finds (Elastic's exec rule wants level Request).
	Replaced map[*rules.Rule]*rules.Rule
	// MoreEvidence counts the events the scan read but did not keep,
	// past MaxEvidence: a rule's matches on one thing, or the thing's
	// context.
	MoreEvidence map[EvidenceKey]int64
	// Running reports whether a rule of that rule_id ran (nil: any did).
	// A rule that fills another's gap says nothing about a rule that was
	// not run.
	Running func(ruleID string) bool
	// AuditScanned is set when the scan read API server audit events: a
	// shell no exec request was linked to then says none fits, rather
	// than asking for the audit log. A finding of an audit event says so
	// too.
	AuditScanned bool
	// Cut are the stages of requests whose events a wrapper cut short
	// (a CloudWatch message at its size limit): not evaluated, but the
	// finding about the request lists them and does not take a cut end
	// for a session still open.
	Cut []CutStage
}

// CutStage is a stage of an audit request whose event was cut short.
type CutStage struct {
	AuditID, Stage string
	At             Evidence // where the cut event is
}

// Report is the outcome of triage.
type Report struct {
	Findings []*Finding
	// Outside are the findings Since and Until left out, those without a
	// time among them (findings shown may name them: an exec before
	// --since linked to a shell after it).
	Outside []*Finding
	// Notes are observations about the whole scan, such as execs that
	// Elastic's seed rule would have missed.
	Notes []string
}

var (
	fAuditID       = rules.NewField("kubernetes.audit.auditID")
	fStage         = rules.NewField("kubernetes.audit.stage")
	fVerb          = rules.NewField("kubernetes.audit.verb")
	fRequestURI    = rules.NewField("kubernetes.audit.requestURI")
	fUsername      = rules.NewField("kubernetes.audit.user.username")
	fUID           = rules.NewField("kubernetes.audit.user.uid")
	fGroups        = rules.NewField("kubernetes.audit.user.groups")
	fImpUser       = rules.NewField("kubernetes.audit.impersonatedUser.username")
	fImpGroups     = rules.NewField("kubernetes.audit.impersonatedUser.groups")
	fTokenPod      = rules.NewField("kubernetes.audit.user.extra.authentication.kubernetes.io/pod-name")
	fTokenNode     = rules.NewField("kubernetes.audit.user.extra.authentication.kubernetes.io/node-name")
	fSourceIPs     = rules.NewField("kubernetes.audit.sourceIPs")
	fAuditUA       = rules.NewField("kubernetes.audit.userAgent")
	fNamespace     = rules.NewField("kubernetes.audit.objectRef.namespace")
	fObjName       = rules.NewField("kubernetes.audit.objectRef.name")
	fResource      = rules.NewField("kubernetes.audit.objectRef.resource")
	fCreatedName   = rules.NewField("kubernetes.audit.responseObject.metadata.name")
	fSubresource   = rules.NewField("kubernetes.audit.objectRef.subresource")
	fCode          = rules.NewField("kubernetes.audit.responseStatus.code")
	fMessage       = rules.NewField("kubernetes.audit.responseStatus.message")
	fDecision      = rules.NewField("kubernetes.audit.annotations.authorization_k8s_io/decision")
	fGKECommand    = rules.NewField("kubernetes.audit.annotations.command_gke_io/command")
	fReason        = rules.NewField("kubernetes.audit.annotations.authorization_k8s_io/reason")
	fReceived      = rules.NewField("kubernetes.audit.requestReceivedTimestamp")
	fStageTime     = rules.NewField("kubernetes.audit.stageTimestamp")
	fTimestamp     = rules.NewField("@timestamp")
	fUserName      = rules.NewField("user.name")
	fUserID        = rules.NewField("user.id")
	fSourceIP      = rules.NewField("source.ip")
	fUA            = rules.NewField("user_agent.original")
	fCluster       = rules.NewField("orchestrator.cluster.name")
	fOrchNS        = rules.NewField("orchestrator.namespace")
	fOrchName      = rules.NewField("orchestrator.resource.name")
	fOrchType      = rules.NewField("orchestrator.resource.type")
	fHost          = rules.NewField("host.name")
	fHostname      = rules.NewField("host.hostname")
	fContName      = rules.NewField("container.name")
	fContID        = rules.NewField("container.id")
	fImage         = rules.NewField("container.image.name")
	fImageTag      = rules.NewField("container.image.tag")
	fEntityID      = rules.NewField("process.entity_id")
	fEntryLeader   = rules.NewField("process.entry_leader.entity_id")
	fLeaderArgs    = rules.NewField("process.entry_leader.args")
	fLeaderStart   = rules.NewField("process.entry_leader.start")
	fSameAsProcess = rules.NewField("process.entry_leader.same_as_process")
	fEntryType     = rules.NewField("process.entry_leader.entry_meta.type")
	fExecutable    = rules.NewField("process.executable")
	fProcName      = rules.NewField("process.name")
	fArgs          = rules.NewField("process.args")
	fPID           = rules.NewField("process.pid")
	fInteractive   = rules.NewField("process.interactive")
	fProcEnd       = rules.NewField("process.end")
	fProcStart     = rules.NewField("process.start")
	fExitCode      = rules.NewField("process.exit_code")
	fWorkDir       = rules.NewField("process.working_directory")
	fProcUserID    = rules.NewField("process.user.id")
	stageOrdering  = map[string]int{"RequestReceived": 1, "ResponseStarted": 2, "ResponseComplete": 3, "Panic": 4}
)

func str(doc rules.Document, f *rules.Field) string {
	v := rules.First(doc, f)
	if !v.Exists() || v.IsObject() {
		return ""
	}
	if v.Type == gjson.String {
		return v.Str
	}
	return v.Raw
}

func strs(doc rules.Document, f *rules.Field) []string { return rules.Strings(doc, f) }

// long reads a value as Elasticsearch indexes a long field, coercing: an
// integer, or a fraction cut to one (1.5 is 1, 1e3 is 1000), written as a
// number or a string; false for anything else and for a value out of the
// long range, which Elasticsearch refuses, rather than the nearest long.
func long(v gjson.Result) (int64, bool) {
	var text string
	switch v.Type {
	case gjson.Number:
		text = v.Raw
	case gjson.String:
		text = v.Str
		if strings.ContainsAny(text, "xXpP_") { // Go's hex and digit separators, which are no JSON numbers
			return 0, false
		}
	default:
		return 0, false
	}
	if n, err := strconv.ParseInt(text, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(f) || f < -(1<<63) || f >= 1<<63 {
		return 0, false
	}
	return int64(f), true
}

// group is the hits of one rule about one thing.
type group struct {
	key    string
	rule   *rules.Rule
	kind   string
	id     string // what identify gave its events
	events []Event
	// reads are the indexes (in Build's events) of every event its
	// finding reads: its own, and for a request all its stages.
	reads []int
}

// A releaser is a document holding memory it can do without once triage
// has read it (scan's value index of a matched event); later reads still
// work, more slowly.
type releaser interface{ Release() }

// Build turns rule hits and context events into findings.
func Build(events []Event, opts Options) *Report {
	groups := map[string]*group{}
	var order []*group
	// identify reads each event (and makes its document index itself):
	// in parallel, before the grouping.
	kinds, ids := make([]string, len(events)), make([]string, len(events))
	parallel(len(events), func(i int) { kinds[i], ids[i] = identify(events[i]) })
	stagesAt := map[string][]int{} // a request's stages, by audit ID
	missed, ghostGroups := unreplaced(events, kinds, ids, opts.Replaced)
	for i, ev := range events {
		kind, id := kinds[i], ids[i]
		if kind == KindAudit {
			stagesAt[id] = append(stagesAt[id], i)
		}
		for _, r := range ev.Rules {
			key := r.ID + "\x00" + thingKey(kind, id)
			g := groups[key]
			if g == nil {
				g = &group{key: key, rule: r, kind: kind, id: id}
				groups[key] = g
				order = append(order, g)
			}
			g.events = append(g.events, ev)
			if kind != KindAudit {
				g.reads = append(g.reads, i)
			}
		}
	}
	order = dropCovered(order, groups)
	// With many findings the events' value indexes are most of the memory:
	// each goes once the last finding reading its event is built. Session
	// leaders and commands stay whole for the sessions read below.
	readers := make([]atomic.Int32, len(events))
	for _, g := range order {
		if g.kind == KindAudit {
			// A request's stages are all read (auditFinding); its own
			// events are among them.
			g.reads = stagesAt[g.id]
		}
		for _, i := range g.reads {
			readers[i].Add(1)
		}
	}

	// The exec requests only a replaced built-in matched are no findings,
	// but they may say who opened a session: built before any event's
	// document is let go.
	var ghosts []*Finding
	for _, g := range ghostGroups {
		g.reads = stagesAt[g.id]
		if f := auditFinding(g, events); isExec(f) && !Failed(f) {
			f.ID = fingerprint(g.rule.ID, g.kind, g.id)
			ghosts = append(ghosts, f)
		}
	}

	// Each finding reads only its own events: build them in parallel.
	rep := &Report{Findings: make([]*Finding, len(order))}
	parallel(len(order), func(i int) {
		g := order[i]
		var f *Finding
		switch g.kind {
		case KindAudit:
			f = auditFinding(g, events)
		case KindProcess:
			f = processFinding(g)
		default:
			f = eventFinding(g)
		}
		f.ID = fingerprint(g.rule.ID, g.kind, g.id)
		thing := thingKey(g.kind, g.id)
		if n, others := opts.MoreEvidence[EvidenceKey{g.rule, thing}], opts.MoreEvidence[EvidenceKey{nil, thing}]; n > 0 || others > 0 {
			f.MoreEvidence, f.capped = n, moreEvidenceNote(g.kind, g.id, n, others)
			f.Notes = append(f.Notes, f.capped)
		}
		if from := g.rule.NameFrom; from != nil {
			// rule_name_override: the event names its finding.
			if name := strings.TrimSpace(str(g.events[0].Doc, from)); name != "" {
				f.Rule.Name = name
			}
		}
		rep.Findings[i] = f
		for _, e := range g.reads {
			if ev := events[e]; readers[e].Add(-1) == 0 && !sessionContext(ev) {
				if r, ok := ev.Doc.(releaser); ok {
					r.Release()
				}
			}
		}
	})

	// The story: a refused WebSocket exec and kubectl's SPDY retry are one
	// attempt; an exec request is linked to the session it started and
	// the commands run in it; kubectl debug's two requests are related.
	cutStages(rep.Findings, opts.Cut)
	var fallbacks int
	rep.Findings, fallbacks = mergeFallbacks(rep.Findings)
	seen := sessions(events, rep.Findings, opts.MoreCommands)
	correlate(rep.Findings, seen)
	relateCommands(rep.Findings, seen)
	openedBy(rep.Findings, ghosts, seen)
	linkDebugAttach(rep.Findings)
	for _, f := range rep.Findings {
		f.Related = sortedSet(f.Related)
		f.Candidates = sortedSet(f.Candidates)
	}

	if opts.Guide {
		guides := newGuideCache()
		byID := map[string]*Finding{}
		// Process events were scanned if a session, a finding or any
		// session context (a child whose session started before the
		// logs did) came from them.
		scanned := scannedKinds{process: len(seen) > 0 || slices.ContainsFunc(events, sessionContext), audit: opts.AuditScanned}
		for _, f := range rep.Findings {
			byID[f.ID] = f
			guides.prepare(f.Rule.rule)
			scanned.audit = scanned.audit || f.Kind == KindAudit
			scanned.process = scanned.process || f.Kind == KindProcess
		}
		// Rendering reads only its finding and those it names: in parallel.
		parallel(len(rep.Findings), func(i int) {
			f := rep.Findings[i]
			f.Guidance = guides.render(f.Rule.rule, f, byID, opts.Inputs, scanned)
		})
	}
	sortFindings(rep.Findings)
	rep.Notes = append(rep.Notes, newTermsNotes(opts.NewTerms)...)
	if !opts.Since.IsZero() || !opts.Until.IsZero() {
		rep.Findings, rep.Outside = inWindow(rep.Findings, opts.Since, opts.Until)
	}
	rep.Notes = append(rep.Notes, gapNotes(rep.Findings, opts.Replaced, opts.Running)...)
	rep.Notes = append(rep.Notes, missed...)
	if fallbacks > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf(
			"%d refused WebSocket exec(s) were retried by kubectl over SPDY right away; each pair is shown as one attempt, on the retry.", fallbacks))
	}
	return rep
}

// gapNotes says, on each WebSocket exec a complementing rule (k8sexec's
// WebSocket rule) found and in one note for the scan, that the exec rule
// it complements did not: the seed rule, which looks only for verb
// create, or the loaded rule that replaced it (whose matches dropCovered
// already took out, so what is left it did miss, for its own reasons:
// Elastic's current version wants audit level Request). Nothing is said
// of a rule that did not run.
func gapNotes(findings []*Finding, replaced map[*rules.Rule]*rules.Rule, running func(string) bool) []string {
	type gap struct {
		note    string
		summary func(n int) string
		n       int
	}
	var gaps []*gap
	byID := map[string]*gap{} // complemented rule_id
	for _, f := range findings {
		r := f.Rule.rule
		if r == nil || r.Complements == "" || !isExec(f) || f.Audit.Verb != "get" || Refused(f) || running != nil && !running(r.Complements) {
			continue
		}
		g := byID[r.Complements]
		if g == nil {
			by := r.Name
			g = &gap{
				note: "Exec over WebSocket (verb get): Elastic's seed rule \"Kubernetes User Exec into Pod\" (verb create only) does not match it.",
				summary: func(n int) string {
					return fmt.Sprintf("%d exec request(s) used WebSocket (logged as verb get), which Elastic's seed rule \"Kubernetes User Exec into Pod\" (verb create only) does not match; %q reported them.", n, by)
				}}
			for builtin, loaded := range replaced {
				if builtin.ID == r.Complements {
					g.note = fmt.Sprintf("The loaded rule %q from %s, which replaced the seed version of that rule, did not match this WebSocket exec (verb get).", loaded.Name, loaded.Source)
					g.summary = func(n int) string {
						return fmt.Sprintf("%d WebSocket exec request(s) (verb get) were not matched by the loaded rule %q from %s, which replaced the seed version of that rule; %q reported them.", n, loaded.Name, loaded.Source, by)
					}
				}
			}
			byID[r.Complements] = g
			gaps = append(gaps, g)
		}
		g.n++
		f.Notes = append(f.Notes, g.note)
	}
	var notes []string
	for _, g := range gaps {
		notes = append(notes, g.summary(g.n))
	}
	return notes
}

// dropCovered drops the groups of a rule that complements another (fills
// its known gap) when the complemented rule matched the same thing:
// Elastic's current exec rule matches the WebSocket execs k8sexec's rule
// was written for, and one exec is one finding.
func dropCovered(order []*group, groups map[string]*group) []*group {
	kept := order[:0]
	for _, g := range order {
		if c := g.rule.Complements; c != "" && groups[c+"\x00"+thingKey(g.kind, g.id)] != nil {
			continue
		}
		kept = append(kept, g)
	}
	return kept
}

// inWindow keeps the findings whose time lies in [since, until).
func inWindow(findings []*Finding, since, until time.Time) (kept, outside []*Finding) {
	for _, f := range findings {
		t, ok := parseTime(f.Timestamp)
		if !ok || !since.IsZero() && t.Before(since) || !until.IsZero() && !t.Before(until) {
			outside = append(outside, f)
		} else {
			kept = append(kept, f)
		}
	}
	return kept, outside
}

// unreplaced takes the matches of replaced built-in rules out of events
// and says, per built-in, how many things (requests, processes, events:
// kinds and ids) it matched that its replacement matched in none of their
// events, and where the first is. (A request the replacement matched at
// another stage is no miss.)
func unreplaced(events []Event, kinds, ids []string, replaced map[*rules.Rule]*rules.Rule) ([]string, []*group) {
	if len(replaced) == 0 {
		return nil, nil
	}
	key := func(i int) string { return thingKey(kinds[i], ids[i]) }
	found := map[*rules.Rule]map[string]bool{} // by replacement
	for i, ev := range events {
		for _, r := range ev.Rules {
			if found[r] == nil {
				found[r] = map[string]bool{}
			}
			found[r][key(i)] = true
		}
	}
	type miss struct {
		seen  map[string]bool // keys
		first Event
	}
	misses := map[*rules.Rule]*miss{}
	var order []*rules.Rule
	// The requests only a built-in matched, as groups of its own: triage
	// reads them to say who opened a session (openedBy).
	ghosts := map[string]*group{}
	var ghostOrder []*group
	for i := range events {
		ev := &events[i]
		kept := ev.Rules[:0:0]
		for _, r := range ev.Rules {
			by, ok := replaced[r]
			if !ok {
				kept = append(kept, r)
				continue
			}
			if found[by][key(i)] {
				continue
			}
			m := misses[r]
			if m == nil {
				m = &miss{seen: map[string]bool{}, first: *ev}
				misses[r] = m
				order = append(order, r)
			}
			m.seen[key(i)] = true
			if kinds[i] == KindAudit {
				k := r.ID + "\x00" + key(i)
				g := ghosts[k]
				if g == nil {
					g = &group{key: k, rule: r, kind: KindAudit, id: ids[i]}
					ghosts[k] = g
					ghostOrder = append(ghostOrder, g)
				}
				g.events = append(g.events, *ev)
			}
		}
		if len(kept) != len(ev.Rules) {
			ev.Rules = kept
		}
	}
	var notes []string
	for _, r := range order {
		m := misses[r]
		counts := map[string]int{}
		for k := range m.seen {
			kind, _, _ := strings.Cut(k, "\x00")
			counts[kind]++
		}
		var what []string
		for _, k := range []struct{ kind, noun string }{{KindAudit, "request(s)"}, {KindProcess, "process(es)"}, {KindEvent, "event(s)"}} {
			if n := counts[k.kind]; n > 0 {
				what = append(what, strconv.Itoa(n)+" "+k.noun)
			}
		}
		at := m.first.File + ":" + strconv.FormatInt(m.first.Line, 10)
		sum := Summarize(m.first.Doc)
		if desc := joinNonEmpty(" ", sum.Who, sum.Action, sum.Where); desc != "" {
			at += ", " + desc
			if sum.Time != "" {
				at += " at " + sum.Time
			}
		}
		notes = append(notes, fmt.Sprintf("%q from %s replaced k8sexec's built-in rule of that rule_id and did not match %s the built-in finds (the first at %s); scan without that rule file to see them as findings.",
			replaced[r].Name, replaced[r].Source, strings.Join(what, " and "), at))
	}
	return notes, ghostOrder
}

// identify says what an event is about: an audit request (by auditID), a
// process (by entity ID), or neither (by its content).
func identify(ev Event) (kind, id string) { return identifyDoc(ev.Doc, ev.Raw) }

func identifyDoc(doc rules.Document, raw []byte) (kind, id string) {
	if id := str(doc, fAuditID); id != "" {
		return KindAudit, id
	}
	if id := str(doc, fEntityID); id != "" {
		return KindProcess, id
	}
	sum := sha256.Sum256(raw)
	return KindEvent, hex.EncodeToString(sum[:8])
}

// MaxEvidence is how many different events of one thing (a request, a
// process, one event's copies) the scan keeps for each rule that matched
// them, how many as context, and how many copies of those (the same
// text); the rest are counted (Options.MoreEvidence). A request has at
// most four stages, and a process a few events: only a log that repeats
// them (read again and again, a broken writer, a forged log) reaches it.
const MaxEvidence = 100

// EvidenceOf names the thing an event is about, as findings are grouped:
// its audit request, else its process, else its text.
func EvidenceOf(doc rules.Document, raw []byte) string {
	return thingKey(identifyDoc(doc, raw))
}

// thingKey joins a thing's kind and ID (identify) into one key: the key of
// its findings' groups (after the rule ID) and of EvidenceOf.
func thingKey(kind, id string) string { return kind + "\x00" + id }

// EvidenceKey names what the scan's evidence limit counts: the matches of
// Rule on one thing (EvidenceOf), or with Rule nil the thing's context
// (ContextStages).
type EvidenceKey struct {
	Rule  *rules.Rule
	Thing string
}

// CappedNote is the scan's note on the findings shown whose request or
// process the logs hold so many times over that the scan kept only some
// of its events (each says how many more it read), "" when none. It
// counts the findings a reader sees, after exceptions and time windows.
func CappedNote(shown []*Finding) string {
	n := 0
	for _, f := range shown {
		if f.capped != "" {
			n++
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d finding(s) are about a request, process or event that the logs hold so many times over (the same log read again and again, a broken writer, a forged log?) that k8sexec kept only some of its events; each says how many more it read.", n)
}

// moreEvidenceNote says on a finding how many of its rule's matches on
// its thing, and of the thing's other events, were not kept, and where to
// find them.
func moreEvidenceNote(kind, id string, matches, others int64) string {
	what, search := map[string]string{KindAudit: "request", KindProcess: "process"}[kind], ""
	switch kind {
	case KindAudit:
		search = fmt.Sprintf(" Every one: k8sexec search 'kubernetes.audit.auditID:%s'.", kqlQuote(id))
	case KindProcess:
		search = fmt.Sprintf(" Every one: k8sexec search 'process.entity_id:%s'.", kqlQuote(id))
	default:
		what = "event"
	}
	var parts []string
	if matches > 0 {
		parts = append(parts, fmt.Sprintf("%d more matches of this rule", matches))
	}
	if others > 0 {
		parts = append(parts, fmt.Sprintf("%d more events read as its context", others))
	}
	if kind == KindAudit {
		search = " The request's stages, end and length are those of the events kept." + search
	}
	return fmt.Sprintf("%s were read but not kept: of one %s, k8sexec keeps the first %d different events each rule matched, %d more as context, and %d copies of those, in input order.%s",
		strings.Join(parts, " and "), what, MaxEvidence, MaxEvidence, MaxEvidence, search)
}

// fingerprint is a finding's stable ID: the same rule and request give the
// same ID in every run, output format and k8sexec version.
func fingerprint(ruleID, kind, id string) string {
	sum := sha256.Sum256([]byte(ruleID + "\x00" + kind + "\x00" + id))
	return hex.EncodeToString(sum[:8])
}

func ruleRef(r *rules.Rule) RuleRef {
	ref := RuleRef{ID: r.ID, Name: r.Name, Severity: r.Severity, RiskScore: r.RiskScore, Origin: r.Origin, rule: r}
	ref.Tags = append([]string(nil), r.Tags...)
	for _, t := range r.Threat {
		if t.Tactic.ID != "" && !contains(ref.Tactics, t.Tactic.ID) {
			ref.Tactics = append(ref.Tactics, t.Tactic.ID)
		}
		for _, tech := range t.Techniques {
			if tech.ID != "" && !contains(ref.Techniques, tech.ID) {
				ref.Techniques = append(ref.Techniques, tech.ID)
			}
			for _, sub := range tech.Subtechniques {
				if sub.ID != "" && !contains(ref.Techniques, sub.ID) {
					ref.Techniques = append(ref.Techniques, sub.ID)
				}
			}
		}
	}
	return ref
}

// parallel calls fn(i) for every i below n, on one goroutine per CPU
// when n is large enough to be worth it.
func parallel(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n/64)
	if workers < 2 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func evidence(evs []Event, withStage bool) []Evidence {
	var out []Evidence
	seen := map[Evidence]bool{}
	for _, ev := range evs {
		e := Evidence{File: ev.File, Line: ev.Line, Index: ev.Index, Time: eventTime(ev.Doc)}
		if withStage {
			e.Stage = str(ev.Doc, fStage)
		}
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out
}

// commonFields fills what every kind of finding can carry, read by ECS
// name (the raw-audit adapter provides these names too) from the event.
func commonFields(f *Finding, ev *Event) {
	doc := ev.Doc
	if name := str(doc, fUserName); name != "" {
		f.User = &User{Name: name, ID: str(doc, fUserID)}
	}
	if ips := strs(doc, fSourceIP); len(ips) > 0 {
		f.Source = &Source{IP: ips}
	}
	if ua := str(doc, fUA); ua != "" {
		f.UserAgent = &UserAgent{Original: ua}
	}
	orch := &Orchestrator{Namespace: str(doc, fOrchNS)}
	if c := clusterOf(ev); c != "" {
		orch.Cluster = &Name{Name: c}
	}
	if n := str(doc, fOrchName); n != "" {
		orch.Resource = &Resource{Type: str(doc, fOrchType), Name: n}
	}
	if orch.Namespace != "" || orch.Cluster != nil || orch.Resource != nil {
		f.Orch = orch
	}
	host := str(doc, fHost)
	if host == "" {
		host = str(doc, fHostname)
	}
	if host != "" {
		f.Host = &Host{Name: host}
	}
	cont := &Container{Name: str(doc, fContName), ID: str(doc, fContID), Image: str(doc, fImage)}
	if tag := str(doc, fImageTag); tag != "" && cont.Image != "" {
		cont.Image += ":" + tag
	}
	if *cont != (Container{}) {
		f.Container = cont
	}
	f.Timestamp = eventTime(doc)
}

// clusterOf is the cluster an event names: its own field, else its
// wrapper's (an EKS log group, an AKS resource ID).
func clusterOf(ev *Event) string {
	if c := str(ev.Doc, fCluster); c != "" {
		return c
	}
	return ev.Cluster
}

// setCluster names on a finding the cluster its events name, whichever
// copy was read first: one copy of a request may come in a wrapper that
// names it and another in none (a raw log beside an EKS export). Events
// that disagree give the first name in sort order.
func setCluster(f *Finding, evs []Event) {
	best := ""
	for i := range evs {
		if c := clusterOf(&evs[i]); c != "" && (best == "" || c < best) {
			best = c
		}
	}
	if best == "" {
		return
	}
	if f.Orch == nil {
		f.Orch = &Orchestrator{}
	}
	f.Orch.Cluster = &Name{Name: best}
}

// cutStages lists on each audit finding the stages of its request that
// were cut short, as context; a cut ResponseComplete (or a cut event whose
// stage the cut left out) means the session's end is unknown, not that it
// may still be open.
func cutStages(findings []*Finding, cut []CutStage) {
	if len(cut) == 0 {
		return
	}
	byID := map[string][]CutStage{}
	for _, c := range cut {
		byID[c.AuditID] = append(byID[c.AuditID], c)
	}
	for _, f := range findings {
		if f.Audit == nil || f.Audit.AuditID == "" {
			continue
		}
		for _, c := range byID[f.Audit.AuditID] {
			e := c.At
			e.Stage, e.Note = c.Stage, "cut short, not read"
			f.Context = append(f.Context, e)
			if i := slices.Index(f.Notes, noCompleteNote); i >= 0 && (c.Stage == "ResponseComplete" || c.Stage == "") {
				if f.Session != nil {
					f.Session.Ongoing = false // it ended: when is not known
				}
				f.Notes[i] = fmt.Sprintf("The request's ResponseComplete stage is in the logs but was cut short (%s) and not read: when the session ended is not known.", e.Place())
			}
		}
	}
}

// noCompleteNote is said of an exec or attach request without a
// ResponseComplete stage, unless the process it started is known to have
// ended (attach).
const noCompleteNote = "No ResponseComplete stage in the logs: the session may still have been open when the log ends, or the audit policy omits that stage."

// auditFinding builds a request's finding; g.reads are its stages in
// events.
func auditFinding(g *group, events []Event) *Finding {
	first := g.events[0].Doc
	f := &Finding{Rule: ruleRef(g.rule), Kind: KindAudit}
	commonFields(f, &g.events[0])
	auditID := str(first, fAuditID)
	a := &Audit{
		AuditID:     auditID,
		Verb:        str(first, fVerb),
		Resource:    str(first, fResource),
		Subresource: str(first, fSubresource),
		RequestURI:  str(first, fRequestURI),
	}
	f.Audit = a

	// Who: the audit record is authoritative; ECS copies may lack user.name.
	user := &User{Name: str(first, fUsername), ID: str(first, fUID), Groups: strs(first, fGroups)}
	if user.Name == "" && f.User != nil {
		user.Name = f.User.Name
	}
	if imp := str(first, fImpUser); imp != "" {
		user.Impersonated = &User{Name: imp, Groups: strs(first, fImpGroups)}
	}
	// A bound token names its pod, which is in the service account's
	// namespace.
	if ns, _, ok := serviceAccount(user.Name); ok {
		if pod := str(first, fTokenPod); pod != "" {
			user.TokenPod = ns + "/" + pod
		}
		user.TokenNode = str(first, fTokenNode)
	}
	if user.Name != "" || user.Impersonated != nil {
		f.User = user
	}
	if ips := strs(first, fSourceIPs); len(ips) > 0 {
		f.Source = &Source{IP: ips}
	}
	if ua := str(first, fAuditUA); ua != "" {
		f.UserAgent = &UserAgent{Original: ua}
	}
	ns, name := str(first, fNamespace), str(first, fObjName)
	if name == "" && a.Verb == "create" {
		// A create by a controller names no object (generateName): the
		// response says what the server called it.
		for _, i := range g.reads {
			if name = str(events[i].Doc, fCreatedName); name != "" {
				break
			}
		}
	}
	if ns != "" || name != "" {
		if f.Orch == nil {
			f.Orch = &Orchestrator{}
		}
		f.Orch.Namespace = ns
		if name != "" || a.Resource != "" {
			f.Orch.Resource = &Resource{Type: resourceType(a.Resource), Name: name}
		}
	}

	// What: the command, container and streams from the request URI of an
	// exec or attach (other requests' parameters are no streams).
	if cmd, ok := parseExecURI(a.RequestURI); ok && a.RequestURI != "" && Streams(f) {
		if len(cmd.Args) > 0 {
			f.Process = &Process{Args: cmd.Args}
		}
		if cmd.Container != "" {
			if f.Container == nil {
				f.Container = &Container{}
			}
			f.Container.Name = cmd.Container
		}
		f.Exec = &ExecFlags{TTY: cmd.TTY, Stdin: cmd.Stdin, Stdout: cmd.Stdout, Stderr: cmd.Stderr}
	} else if gkeCmd := str(first, fGKECommand); gkeCmd != "" {
		// GKE logs no request URI; its command label joins argv with
		// spaces, so arguments holding spaces cannot be told apart.
		f.Process = &Process{Args: strings.Fields(gkeCmd)}
		f.Notes = append(f.Notes, "GKE records the command as one string (split at spaces here) and no container, TTY or stdin flags.")
	}

	// Outcome and session: all stages of the request, matched or not.
	all := make([]Event, len(g.reads))
	for k, i := range g.reads {
		all[k] = events[i]
	}
	sess := &Session{}
	var received, completed string
	stageSeen := map[string]bool{}
	for _, ev := range all {
		st := str(ev.Doc, fStage)
		if st != "" && !stageSeen[st] {
			stageSeen[st] = true
			sess.Stages = append(sess.Stages, st)
		}
		if a.Decision == "" {
			a.Decision = str(ev.Doc, fDecision)
		}
		if a.Reason == "" {
			a.Reason = str(ev.Doc, fReason)
		}
		if code, ok := long(rules.First(ev.Doc, fCode)); ok && code >= 0 && code <= math.MaxInt32 && (st != "RequestReceived" || a.ResponseCode == 0) {
			a.ResponseCode = int(code)
		}
		if a.ResponseMessage == "" {
			a.ResponseMessage = str(ev.Doc, fMessage)
		}
		// The earliest: copies of a request in other shapes agree, but
		// GKE may log an operation twice (its first and last entries).
		if r := str(ev.Doc, fReceived); received == "" || timeBefore(r, received) {
			received = r
		}
		if st == "ResponseComplete" {
			completed = str(ev.Doc, fStageTime)
		}
	}
	setCluster(f, all)
	sort.SliceStable(sess.Stages, func(i, j int) bool { return stageOrdering[sess.Stages[i]] < stageOrdering[sess.Stages[j]] })
	sess.Start = normTime(received)
	sess.End = normTime(completed)
	// Without any stage (GKE records none) nothing says whether the
	// session ended.
	sess.Ongoing = completed == "" && len(sess.Stages) > 0
	if t0, ok := parseTime(received); ok {
		if t1, ok := parseTime(completed); ok && !t1.Before(t0) {
			ms := t1.Sub(t0).Milliseconds()
			sess.DurationMS = &ms
		} else if ok {
			f.Notes = append(f.Notes, fmt.Sprintf("The request's ResponseComplete stage is dated %s, before the request was received (%s): the log, or a clock, is wrong, so the session has no length.", sess.End, sess.Start))
		}
	}
	f.Session = sess
	if sess.Start != "" {
		f.Timestamp = sess.Start
	}

	f.Evidence = evidence(g.events, true)
	inEvidence := map[Evidence]bool{}
	for _, e := range f.Evidence {
		inEvidence[Evidence{File: e.File, Line: e.Line, Index: e.Index}] = true
	}
	for _, e := range evidence(all, true) {
		if !inEvidence[Evidence{File: e.File, Line: e.Line, Index: e.Index}] {
			f.Context = append(f.Context, e)
		}
	}

	switch {
	case a.Decision == "allow" && a.ResponseCode == 403 && a.Verb == "get" && Streams(f):
		f.Notes = append(f.Notes, "Authorization logged allow but the response was 403: the request was refused after authorization (Kubernetes 1.35 also checks create permission for exec and attach over WebSocket, verb get; an admission webhook can refuse it too).")
	case a.Decision == "allow" && a.ResponseCode == 403:
		f.Notes = append(f.Notes, "Authorization logged allow but the response was 403: the request was refused after authorization, by admission (a webhook or policy).")
	case a.ResponseCode >= 400 && !Refused(f) && Streams(f):
		f.Notes = append(f.Notes, fmt.Sprintf("The response was %d: the request failed before a stream was opened, so nothing ran in the container.", a.ResponseCode))
	}
	if sess.Ongoing && !Failed(f) && Streams(f) {
		f.Notes = append(f.Notes, noCompleteNote)
	}
	return f
}

// resourceType is orchestrator.resource.type for an audit request's
// object: "pod" for pods (the exec, attach and ephemeral container
// requests k8sexec is about, as findings have always said), else the
// resource as the API names it ("secrets", "clusterrolebindings"), as
// Elastic's integration sets the field.
func resourceType(resource string) string {
	if resource == "pods" || resource == "" {
		return "pod"
	}
	return resource
}

func processFinding(g *group) *Finding {
	first := g.events[0].Doc
	f := &Finding{Rule: ruleRef(g.rule), Kind: KindProcess}
	commonFields(f, &g.events[0])
	f.Process = processOf(first)
	// The earliest timestamp among the merged events (fork and exec of the
	// same process are both "start" events).
	earliest, haveEarliest := parseTime(f.Timestamp)
	for _, ev := range g.events[1:] {
		at := eventTime(ev.Doc)
		if t, ok := parseTime(at); ok && (!haveEarliest || t.Before(earliest)) {
			earliest, haveEarliest = t, true
			f.Timestamp = at
		}
	}
	setCluster(f, g.events)
	f.Evidence = evidence(g.events, false)
	return f
}

func eventFinding(g *group) *Finding {
	f := &Finding{Rule: ruleRef(g.rule), Kind: KindEvent}
	commonFields(f, &g.events[0])
	if args := strs(g.events[0].Doc, fArgs); len(args) > 0 {
		f.Process = &Process{Args: args, Executable: str(g.events[0].Doc, fExecutable)}
	}
	setCluster(f, g.events)
	f.Evidence = evidence(g.events, false)
	return f
}

// All returns every finding the scan made, those Since and Until left out
// too, in report order.
func (r *Report) All() []*Finding {
	all := append(slices.Clone(r.Findings), r.Outside...)
	sortFindings(all)
	return all
}

func sortFindings(fs []*Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if ra, rb := rules.SeverityRank(a.Rule.Severity), rules.SeverityRank(b.Rule.Severity); ra != rb {
			return ra > rb
		}
		if a.Rule.RiskScore != b.Rule.RiskScore {
			return a.Rule.RiskScore > b.Rule.RiskScore
		}
		ta, oka := parseTime(a.Timestamp)
		tb, okb := parseTime(b.Timestamp)
		switch {
		case oka && okb && !ta.Equal(tb):
			return ta.Before(tb)
		case oka != okb:
			return oka // findings with a time first
		case !oka && a.Timestamp != b.Timestamp:
			return a.Timestamp < b.Timestamp
		}
		return a.ID < b.ID
	})
}

// parseTime reads a log's time: RFC 3339 to the nanosecond, else any
// other spelling of a date Elasticsearch reads (epoch milliseconds, no
// zone, a date alone), to the millisecond.
func parseTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	return rules.ParseDate(s)
}

// eventTime is an event's time, normalized: its @timestamp, or, for a
// process event without one that reads as a date, when the process
// started (process.start), which Defend records on every event of the
// process, or, on an end that is not also a start, when it ended
// (process.end); @timestamp as written when none of them is a date.
func eventTime(doc rules.Document) string {
	if at, _ := firstDate(doc, fTimestamp); at != "" {
		return at
	}
	instead := fProcStart
	if types := strs(doc, fEventType); slices.Contains(types, "end") && !slices.Contains(types, "start") {
		instead = fProcEnd
	}
	if at, _ := firstDate(doc, instead); at != "" {
		return at
	}
	return normTime(str(doc, fTimestamp))
}

// firstDate is the first of fields whose value in doc is a date, as
// normTime writes it, and the time; "" when none is.
func firstDate(doc rules.Document, fields ...*rules.Field) (string, time.Time) {
	for _, f := range fields {
		if t, ok := parseTime(str(doc, f)); ok {
			return t.UTC().Format(time.RFC3339Nano), t
		}
	}
	return "", time.Time{}
}

// normTime renders a log timestamp in UTC RFC 3339 with the precision it
// had, so timestamps sort as strings. Unparseable values stay as written.
func normTime(s string) string {
	t, ok := parseTime(s)
	if !ok {
		return s
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// Cut returns s cut to at most n runes, the last one an ellipsis when it
// was cut.
func Cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := []rune(s)
	return string(runes[:n-1]) + "…"
}

// MaxCommandText is how much of a command line is shown where people
// read it (the table, the guides): a payload of kilobytes passed as an
// argument would fill the screen twice. JSON has every argument whole.
const MaxCommandText = 500

// Command renders argv for reading, quoting arguments the way a POSIX
// shell would need them.
func Command(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = ShellQuote(a)
	}
	return strings.Join(quoted, " ")
}

// ShellQuote quotes s for a POSIX shell when it needs quoting. Strings
// holding control characters use $'...' with escapes, so a newline or an
// escape sequence in a log value shows as \n or \x1b instead of breaking
// the line or reaching the terminal.
func ShellQuote(s string) string {
	if s == "" {
		return "''"
	}
	if needsEscapes(s) {
		var b strings.Builder
		b.WriteString("$'")
		for i := 0; i < len(s); {
			r, size := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				fmt.Fprintf(&b, `\x%02x`, s[i]) // a byte that is no UTF-8, as it is
			case r == '\\' || r == '\'':
				b.WriteByte('\\')
				b.WriteRune(r)
			case r == '\n':
				b.WriteString(`\n`)
			case r == '\t':
				b.WriteString(`\t`)
			case r == '\r':
				b.WriteString(`\r`)
			case r < 0x80 && TerminalUnsafe(r):
				fmt.Fprintf(&b, `\x%02x`, r)
			case TerminalUnsafe(r):
				// A C1 control, a bidirectional or invisible mark, as
				// its UTF-8 bytes: \u would depend on the shell's
				// locale. The command names the argument exactly, where
				// the printed text marks such characters.
				for _, c := range []byte(string(r)) {
					fmt.Fprintf(&b, `\x%02x`, c)
				}
			default:
				b.WriteRune(r)
			}
			i += size
		}
		b.WriteByte('\'')
		return b.String()
	}
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+,", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// needsEscapes reports whether s holds a character ShellQuote writes as
// an escape: a terminal control or mark, or a byte that is no UTF-8.
func needsEscapes(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if TerminalUnsafe(r) {
			return true
		}
	}
	return false
}

// TerminalUnsafe reports whether a terminal would act on r rather than
// show it, or show nothing: the C0 controls (ESC starts escape sequences),
// DEL, the C1 controls (U+009B is ESC [), the line and paragraph
// separators, and the invisible format characters: bidirectional ones,
// which make text read in another order than it is (a file named
// "exe.txt" can display as "txt.exe"), zero-width ones, the soft hyphen,
// the byte order mark and tags, with which "alice\u200b" prints as
// "alice"; and the rest of Unicode's default-ignorable characters, which
// a terminal shows as nothing or as a blank: variation selectors
// ("alice\ufe00" too prints as "alice"), the grapheme joiner, the Hangul
// and halfwidth fillers, the Khmer inherent vowels and the reserved ones.
// Output cleaning shows them as <U+XXXX>, and shell quoting escapes them.
func TerminalUnsafe(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x2028, r == 0x2029: // line and paragraph separators: line breaks to some terminals
		return true
	case r < 0xad:
		return false
	}
	return unicode.In(r, unicode.Cf, unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point)
}

package triage

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"time"
)

// Linking an exec request (audit) to the process it started (process
// events) uses what both sides record: namespace, pod and container, and
// time. The process starts after the API server receives the request: the
// request travels to the kubelet and the container runtime first. Clocks
// on the control plane and the nodes may disagree a little.
const (
	// LinkBefore is how long before the request a process may appear to
	// start and still be linked (clock skew between control plane and node).
	LinkBefore = 2 * time.Second
	// LinkAfter is how long after the request the process may start.
	LinkAfter = 10 * time.Second
)

// session is one container session that entered from outside: its first
// process (from a rule finding, or from context when no rule reported it)
// and the commands run in it.
type session struct {
	id       string     // the entry leader's entity ID
	leader   *Finding   // the leader's details, Kind process
	finding  *Finding   // the rule finding about the leader, if any
	findings []*Finding // every one (two rules may report one shell)
	commands []SessionCommand
	more     int64      // commands seen but not kept
	ends     []endEvent // the end events with the leader's entity ID
	end      *endEvent  // the leader's, of those (firstEnd)
	// dropped is set when the scan kept none of the session's events:
	// it was not one of the first of its command (ContextQuiet).
	dropped bool
	linked  *Finding
}

// link is one audit-session pairing under consideration.
type link struct {
	audit *Finding
	s     *session
	gap   time.Duration
	// agree counts the details both sides record that agree: the command
	// (argv[0] against the process name or executable) and interactivity
	// (a TTY request against process.interactive).
	agree int
}

// correlate links audit exec findings to the container sessions they
// started. A session is linked to a request only when that request is its
// single best explanation; when several requests explain it equally well,
// all of them are recorded as candidates and nothing is linked. A linked
// request gets the session's first process and commands, and the finding
// about that process, if there is one, is related to it both ways. See
// docs/triage.md.
func correlate(findings []*Finding, sessions []*session) {
	// The exec requests by pod, in findings order (candidate needs the
	// same pod): each session looks only at its own pod's, not at every
	// request, which made a week of audit and process logs quadratic.
	// Each pod's are in time order, so a session reads only those within
	// the link window of its start, not every request into its pod (a job
	// that execs into one pod every minute for a week made that quadratic).
	type pod struct{ namespace, name string }
	type timed struct {
		t     time.Time
		order int // in findings: candidates are tried in this order
		f     *Finding
	}
	audits := map[pod][]timed{}
	for i, f := range findings {
		if f.Kind == KindAudit && f.Audit != nil && f.Audit.Subresource == "exec" && !Failed(f) && f.Orch != nil && f.Orch.Resource != nil {
			t, ok := parseTime(f.Timestamp)
			if !ok {
				continue // candidate needs the request's time
			}
			k := pod{f.Orch.Namespace, f.Orch.Resource.Name}
			audits[k] = append(audits[k], timed{t, i, f})
		}
	}
	for _, list := range audits {
		sort.SliceStable(list, func(i, j int) bool { return list[i].t.Before(list[j].t) })
	}
	var open []*pending
	var window []timed
	for _, s := range sessions {
		var cands []link
		var mine []timed
		if p := s.leader.Orch; p != nil && p.Resource != nil {
			mine = audits[pod{p.Namespace, p.Resource.Name}]
		}
		window = window[:0]
		tp, ok := parseTime(s.leader.Timestamp)
		if ok && len(mine) > 0 {
			// The requests received from LinkAfter before the session
			// started to LinkBefore after it, in findings order.
			from := sort.Search(len(mine), func(i int) bool { return !mine[i].t.Before(tp.Add(-LinkAfter)) })
			for _, a := range mine[from:] {
				if a.t.After(tp.Add(LinkBefore)) {
					break
				}
				window = append(window, a)
			}
			sort.Slice(window, func(i, j int) bool { return window[i].order < window[j].order })
		}
		for _, a := range window {
			if l, ok := candidate(a.f, a.t, s, tp); ok {
				cands = append(cands, l)
			}
		}
		if len(cands) == 0 {
			continue
		}
		sort.SliceStable(cands, func(i, j int) bool {
			if cands[i].agree != cands[j].agree {
				return cands[i].agree > cands[j].agree
			}
			return absDur(cands[i].gap) < absDur(cands[j].gap)
		})
		open = append(open, &pending{s: s, cands: cands})
	}
	done := linkInRounds(open)
	for _, p := range open {
		if !done[p] {
			unresolved(p)
		}
	}
}

// pending is a session that requests may explain, with those requests,
// best first.
type pending struct {
	s     *session
	cands []link
}

// bestLinks returns the candidates that agree on as many details as the best
// one, without (unlinked) those linked to another session: a request that
// agrees less is never promoted by the others' links.
func bestLinks(cands []link, unlinked bool) []link {
	var out []link
	for _, c := range cands {
		if c.agree == cands[0].agree && (!unlinked || c.audit.Started == nil) {
			out = append(out, c)
		}
	}
	return out
}

// linkInRounds links each session that has one best explanation left,
// and reports which it linked.
func linkInRounds(open []*pending) map[*pending]bool {
	// One request starts one session: a request linked to a session
	// explains no other, so a session it tied for may be left with a
	// single best explanation. Links are made in rounds: first every
	// session with one best explanation, then those that the round's
	// links left with one, and so on; a session is looked at again only
	// when its count of unlinked best explanations falls to one, so each
	// request-session pair costs once. Whatever the order of the events,
	// a link that follows from others never takes a request that a session
	// had as its only explanation from the start.
	live := map[*pending]int{} // unlinked best explanations
	tops := map[*Finding][]*pending{}
	var round []*pending
	for _, p := range open {
		top := bestLinks(p.cands, true)
		live[p] = len(top)
		for _, c := range top {
			tops[c.audit] = append(tops[c.audit], p)
		}
		if len(top) == 1 {
			round = append(round, p)
		}
	}
	done := map[*pending]bool{}
	order := map[*pending]int{}
	for i, p := range open {
		order[p] = i
	}
	for first := true; len(round) > 0; first = false {
		// A request that two sessions of a later round are left with
		// explains neither better than the other: none takes it, and
		// they stay ties. In the first round the first takes it and
		// attach says there was another (a retried exec), as before
		// links were inferred.
		claims := map[*Finding]int{}
		for _, p := range round {
			if top := bestLinks(p.cands, true); len(top) == 1 {
				claims[top[0].audit]++
			}
		}
		var linked []*Finding
		for _, p := range round {
			// Another session of this round may have taken it.
			if top := bestLinks(p.cands, true); len(top) == 1 && (first || claims[top[0].audit] == 1) {
				attach(top[0].audit, p.s)
				done[p] = true
				linked = append(linked, top[0].audit)
			}
		}
		for _, a := range linked {
			for _, q := range tops[a] {
				live[q]--
			}
		}
		round = round[:0]
		seen := map[*pending]bool{}
		for _, a := range linked {
			for _, q := range tops[a] {
				if !done[q] && live[q] == 1 && !seen[q] {
					seen[q] = true
					round = append(round, q)
				}
			}
		}
		sort.Slice(round, func(i, j int) bool { return order[round[i]] < order[round[j]] })
	}
	return done
}

// unresolved records what is known of a session linkInRounds could not
// link: the request that fits it best though it started another session
// (attach notes it), or the requests that fit it equally well.
func unresolved(p *pending) {
	s, tied := p.s, bestLinks(p.cands, true)
	if len(tied) == 0 {
		// Every best explanation started another session.
		if tied = bestLinks(p.cands, false); len(tied) == 1 {
			attach(tied[0].audit, s) // which says so on it (a retried exec)
			return
		}
	}
	var ids []string
	for _, c := range tied {
		ids = append(ids, c.audit.ID)
	}
	for _, c := range tied {
		for _, f := range s.findings {
			addCandidate(c.audit, f.ID)
			addCandidate(f, c.audit.ID)
		}
		if s.finding == nil {
			c.audit.Notes = append(c.audit.Notes, fmt.Sprintf(
				"Process %s (pid %d) started in this container at %s, but %d exec requests fit it equally well (findings %s): not linked.",
				processLabel(s.leader.Process), s.leader.Process.PID, s.leader.Timestamp, len(ids), strings.Join(ids, ", ")))
		}
	}
}

// attach records that audit finding a started session s.
func attach(a *Finding, s *session) {
	if a.Started != nil {
		// Two sessions fit one request equally uniquely (a retried exec):
		// keep the first, say there was another.
		a.Notes = append(a.Notes, fmt.Sprintf("Another process session also fits this request: %s (pid %d) at %s.",
			processLabel(s.leader.Process), s.leader.Process.PID, s.leader.Timestamp))
		return
	}
	p := *s.leader.Process
	p.Time = s.leader.Timestamp
	a.Started = &p
	if i := slices.Index(a.Notes, noCompleteNote); i >= 0 && p.End != "" {
		a.Notes[i] = fmt.Sprintf("No ResponseComplete stage in the logs, but the process this request started ended at %s: the session is over (the audit policy may omit that stage).", p.End)
	}
	a.Commands, a.MoreCommands = s.commands, s.more
	s.linked = a
	if s.dropped {
		note := fmt.Sprintf("The programs this session ran were not kept: of the sessions without a terminal, k8sexec keeps those of the %d earliest of each command in each container. They are one search away: k8sexec search 'process.entry_leader.entity_id:%s'.",
			MaxRepeatedSessions, kqlQuote(s.id))
		a.Notes = append(a.Notes, note)
		for _, f := range s.findings {
			f.Notes = append(f.Notes, note)
		}
	}
	for _, f := range s.findings {
		addRelated(a, f.ID)
		addRelated(f, a.ID)
	}
}

// relateCommands relates each finding about a process run inside a
// session (a credential read, a curl to the API server, from Elastic's
// container rules) to the finding about the session's first process and
// to the exec request that started the session, both ways: they are one
// story. sessions holds every session whose first process is known, by
// entry leader.
func relateCommands(findings []*Finding, sessions []*session) {
	byLeader := make(map[string]*session, len(sessions))
	for _, s := range sessions {
		byLeader[s.id] = s
	}
	for _, f := range findings {
		if f.Kind != KindProcess || f.Process == nil || f.Process.EntryLeaderID == "" || f.Process.EntryLeaderID == f.Process.EntityID {
			continue
		}
		s := byLeader[f.Process.EntryLeaderID]
		if s == nil {
			continue
		}
		for _, g := range append([]*Finding{s.linked}, s.findings...) {
			if g != nil && g != f {
				addRelated(f, g.ID)
				addRelated(g, f.ID)
			}
		}
	}
	// Two rules that report one shell are about one story too.
	for _, s := range sessions {
		for i, f := range s.findings {
			for _, g := range s.findings[i+1:] {
				addRelated(f, g.ID)
				addRelated(g, f.ID)
			}
		}
	}
}

// openedBy links the sessions no exec finding explains to the exec
// requests only a replaced built-in matched (ghosts: Elastic's exec rule
// wants audit level Request, and many clusters log execs at Metadata).
// A ghost is no finding, so nothing names it in related; the finding
// about the session's first process, and those about the commands run
// in it, say in a note who opened the session.
func openedBy(findings, ghosts []*Finding, sessions []*session) {
	if len(ghosts) == 0 {
		return
	}
	var open []*session
	for _, s := range sessions {
		if s.linked == nil && (s.finding == nil || len(s.finding.Candidates) == 0) {
			open = append(open, s)
		}
	}
	correlate(ghosts, open)
	isGhost := map[string]bool{}
	for _, g := range ghosts {
		isGhost[g.ID] = true
	}
	byLeader := map[string][]*Finding{} // the findings about each session's processes
	for _, f := range findings {
		if f.Kind == KindProcess && f.Process != nil && f.Process.EntityID != "" {
			leader := f.Process.EntryLeaderID
			if leader == "" {
				leader = f.Process.EntityID
			}
			byLeader[leader] = append(byLeader[leader], f)
		}
		f.Related = slices.DeleteFunc(f.Related, func(id string) bool { return isGhost[id] })
		f.Candidates = slices.DeleteFunc(f.Candidates, func(id string) bool { return isGhost[id] })
	}
	for _, s := range open {
		g := s.linked
		if g == nil {
			continue
		}
		who := "someone"
		if g.User != nil && g.User.Name != "" {
			who = g.User.Name
		}
		if g.Source != nil && len(g.Source.IP) > 0 {
			who += " from " + g.Source.IP[0]
		}
		at := ""
		if len(g.Evidence) > 0 {
			at = " (" + g.Evidence[0].Place() + ")"
		}
		note := fmt.Sprintf("Opened by %s with kubectl exec at %s%s: k8sexec's built-in rule %q finds that request; the loaded rule of that rule_id does not, so it is no finding here.",
			who, g.Timestamp, at, g.Rule.Name)
		for _, f := range byLeader[s.id] {
			f.Notes = append(f.Notes, note)
		}
	}
}

// candidate reports whether session s, whose first process started at
// tp, may be the one that audit finding a, received at ta, started.
// correlate asks only about requests into the session's pod within the
// link window of tp.
func candidate(a *Finding, ta time.Time, s *session, tp time.Time) (link, bool) {
	p := s.leader
	// An exec without container= goes to the pod's default container,
	// which the audit log does not name: any container may be it.
	if a.Container != nil && a.Container.Name != "" && (p.Container == nil || p.Container.Name != a.Container.Name) {
		return link{}, false
	}
	gap := tp.Sub(ta)
	if a.Session != nil && a.Session.End != "" {
		if end, ok := parseTime(a.Session.End); ok && tp.After(end.Add(LinkBefore)) {
			return link{}, false
		}
	}
	l := link{audit: a, s: s, gap: gap}
	if a.Process != nil && len(a.Process.Args) > 0 && p.Process != nil {
		argv0 := a.Process.Args[0]
		if argv0 == p.Process.Executable || path.Base(argv0) == p.Process.Name || path.Base(argv0) == path.Base(p.Process.Executable) {
			l.agree++
		}
	}
	if a.Exec != nil && p.Process != nil && p.Process.Interactive != nil && (a.Exec.TTY && a.Exec.Stdin) == *p.Process.Interactive {
		l.agree++
	}
	return l, true
}

// Refused reports whether an audit finding is about a request the API
// server turned down (authorization forbid, or a 403 response).
func Refused(f *Finding) bool {
	return f.Audit != nil && (f.Audit.Decision == "forbid" || f.Audit.ResponseCode == 403)
}

// Failed reports whether an audit finding is about a request that did
// nothing: refused, or answered with an error (a code of 400 or more: the
// pod or container not found, the kubelet not reached), so an exec
// opened no stream and ran nothing.
func Failed(f *Finding) bool {
	return Refused(f) || f.Audit != nil && f.Audit.ResponseCode >= 400
}

func processLabel(p *Process) string {
	switch {
	case p == nil:
		return "a process"
	case len(p.Args) > 0:
		return Command(p.Args)
	case p.Executable != "":
		return p.Executable
	}
	return p.Name
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// addRelated and addCandidate note a link; Build sorts each finding's
// lists and drops repeats once linking is done (sortedSet): keeping them
// sorted on every insertion made a thousand tied execs into one pod take
// cubic time.
func addRelated(f *Finding, id string) { f.Related = append(f.Related, id) }

func addCandidate(f *Finding, id string) { f.Candidates = append(f.Candidates, id) }

// sortedSet sorts list and removes repeats, in place.
func sortedSet(list []string) []string {
	slices.Sort(list)
	return slices.Compact(list)
}

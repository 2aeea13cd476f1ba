package triage

import (
	"path"
	"sort"
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

// link is one audit-process pairing under consideration.
type link struct {
	audit, proc *Finding
	gap         time.Duration
	// agree counts the details both sides record that agree: the command
	// (argv[0] against the process name or executable) and interactivity
	// (a TTY request against process.interactive).
	agree int
}

// correlate links audit exec findings to process findings that describe
// the same session. A process is linked to a request only when that
// request is its single best explanation; when several requests explain
// it equally well, all of them are recorded as candidates on both sides
// and nothing is linked. See docs/triage.md.
func correlate(findings []*Finding) {
	var audits, procs []*Finding
	for _, f := range findings {
		switch {
		case f.Kind == KindAudit && f.Audit != nil && f.Audit.Subresource == "exec":
			audits = append(audits, f)
		case f.Kind == KindProcess:
			procs = append(procs, f)
		}
	}
	for _, p := range procs {
		var cands []link
		for _, a := range audits {
			if l, ok := candidate(a, p); ok {
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
		best := cands[0]
		unique := len(cands) == 1 || cands[1].agree < best.agree
		if unique {
			addRelated(best.audit, p.ID)
			addRelated(p, best.audit.ID)
			continue
		}
		for _, c := range cands {
			if c.agree == best.agree {
				addCandidate(c.audit, p.ID)
				addCandidate(p, c.audit.ID)
			}
		}
	}
}

// candidate reports whether process finding p may be the session that
// audit finding a opened.
func candidate(a, p *Finding) (link, bool) {
	if a.Orch == nil || p.Orch == nil || a.Orch.Resource == nil || p.Orch.Resource == nil {
		return link{}, false
	}
	if a.Orch.Namespace != p.Orch.Namespace || a.Orch.Resource.Name != p.Orch.Resource.Name {
		return link{}, false
	}
	// An exec without container= goes to the pod's default container,
	// which the audit log does not name: any container may be it.
	if a.Container != nil && a.Container.Name != "" && (p.Container == nil || p.Container.Name != a.Container.Name) {
		return link{}, false
	}
	ta, ok1 := parseTime(a.Timestamp)
	tp, ok2 := parseTime(p.Timestamp)
	if !ok1 || !ok2 {
		return link{}, false
	}
	gap := tp.Sub(ta)
	if gap < -LinkBefore || gap > LinkAfter {
		return link{}, false
	}
	if a.Session != nil && a.Session.End != "" {
		if end, ok := parseTime(a.Session.End); ok && tp.After(end.Add(LinkBefore)) {
			return link{}, false
		}
	}
	l := link{audit: a, proc: p, gap: gap}
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

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func addRelated(f *Finding, id string) {
	if !contains(f.Related, id) {
		f.Related = append(f.Related, id)
		sort.Strings(f.Related)
	}
}

func addCandidate(f *Finding, id string) {
	if !contains(f.Candidates, id) {
		f.Candidates = append(f.Candidates, id)
		sort.Strings(f.Candidates)
	}
}

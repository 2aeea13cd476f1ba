package triage

import (
	"fmt"
	"slices"
	"time"
)

// FallbackWindow is how soon after a refused WebSocket exec kubectl's SPDY
// retry of the same command is taken to be the same attempt.
const FallbackWindow = 2 * time.Second

// DebugAttachWindow is how soon after adding an ephemeral container an
// attach to the same pod by the same user is taken to be kubectl debug's.
const DebugAttachWindow = time.Minute

// mergeFallbacks folds every refused WebSocket exec that kubectl retried
// over SPDY into the retry: one command, one attempt. It returns the
// findings left and how many were folded.
func mergeFallbacks(findings []*Finding) ([]*Finding, int) {
	// The SPDY execs, by user and pod (sameRequester needs both alike), in
	// findings order: each refused exec looks only at its own. A retry
	// refused or failed too is still the same attempt, shown once.
	retries := map[requester][]*Finding{}
	for _, e := range findings {
		if isExec(e) && e.Audit.Verb == "create" {
			if k, ok := requesterOf(e); ok {
				retries[k] = append(retries[k], e)
			}
		}
	}
	merged := map[*Finding]bool{}
	for _, d := range findings {
		if !isExec(d) || d.Audit.Verb != "get" || !Refused(d) {
			continue
		}
		k, ok := requesterOf(d)
		if !ok {
			continue
		}
		var retry *Finding
		for _, e := range retries[k] {
			if sameRequester(d, e) && within(d.Timestamp, e.Timestamp, FallbackWindow) {
				if retry != nil {
					retry = nil // two retries fit: leave both alone
					break
				}
				retry = e
			}
		}
		if retry == nil || retry.Audit.FallbackFrom != "" {
			continue
		}
		retry.Audit.FallbackFrom = d.Audit.AuditID
		for _, ev := range append(slices.Clone(d.Evidence), d.Context...) {
			ev.Note = "refused WebSocket attempt " + d.Audit.AuditID
			retry.Context = append(retry.Context, ev)
		}
		why := "forbid"
		if d.Audit.Decision != "forbid" {
			why = fmt.Sprintf("%d", d.Audit.ResponseCode)
		}
		retry.Notes = append(retry.Notes, fmt.Sprintf(
			"kubectl tried WebSocket first (request %s at %s, refused: %s) and fell back to SPDY: one attempt, shown once.",
			d.Audit.AuditID, d.Timestamp, why))
		if d.capped != "" {
			retry.Notes = append(retry.Notes, "Of the WebSocket attempt "+d.Audit.AuditID+": "+d.capped)
			retry.MoreEvidence += d.MoreEvidence
			if retry.capped == "" {
				retry.capped = d.capped
			}
		}
		merged[d] = true
	}
	if len(merged) == 0 {
		return findings, 0
	}
	out := findings[:0:0]
	for _, f := range findings {
		if !merged[f] {
			out = append(out, f)
		}
	}
	return out, len(merged)
}

// linkDebugAttach relates kubectl debug's two requests: the ephemeral
// container added to a pod, and the attach to it right after.
func linkDebugAttach(findings []*Finding) {
	// The allowed attaches by user and pod, in findings order: each
	// ephemeral container looks only at those to its pod by its user
	// (samePod and sameUser), not at every finding.
	attaches := map[requester][]*Finding{}
	for _, at := range findings {
		if at.Kind == KindAudit && at.Audit != nil && at.Audit.Subresource == "attach" && !Failed(at) {
			if k, ok := requesterOf(at); ok {
				attaches[k] = append(attaches[k], at)
			}
		}
	}
	for _, add := range findings {
		if add.Kind != KindAudit || add.Audit == nil || add.Audit.Subresource != "ephemeralcontainers" || Failed(add) {
			continue
		}
		k, ok := requesterOf(add)
		if !ok {
			continue
		}
		var attached []*Finding
		for _, at := range attaches[k] {
			if within(add.Timestamp, at.Timestamp, DebugAttachWindow) {
				attached = append(attached, at)
			}
		}
		if len(attached) != 1 {
			continue
		}
		at := attached[0]
		addRelated(add, at.ID)
		addRelated(at, add.ID)
		container := ""
		if at.Container != nil {
			container = " " + at.Container.Name
		}
		at.Notes = append(at.Notes, fmt.Sprintf("kubectl debug: this attaches to the ephemeral container%s added at %s (finding %s).", container, add.Timestamp, add.ID))
	}
}

func isExec(f *Finding) bool {
	return f.Kind == KindAudit && f.Audit != nil && f.Audit.Subresource == "exec"
}

// requester is who made a request and to which pod: findings with the
// same one are sameUser and samePod.
type requester struct{ user, namespace, pod string }

func requesterOf(f *Finding) (requester, bool) {
	if f.User == nil || f.Orch == nil || f.Orch.Resource == nil {
		return requester{}, false
	}
	return requester{f.User.Name, f.Orch.Namespace, f.Orch.Resource.Name}, true
}

func sameUser(a, b *Finding) bool {
	return a.User != nil && b.User != nil && a.User.Name == b.User.Name
}

func samePod(a, b *Finding) bool {
	return a.Orch != nil && b.Orch != nil && a.Orch.Resource != nil && b.Orch.Resource != nil &&
		a.Orch.Namespace == b.Orch.Namespace && a.Orch.Resource.Name == b.Orch.Resource.Name
}

// sameRequester: the same user asked for the same command in the same
// container of the same pod.
func sameRequester(a, b *Finding) bool {
	if !sameUser(a, b) || !samePod(a, b) {
		return false
	}
	ca, cb := "", ""
	if a.Container != nil {
		ca = a.Container.Name
	}
	if b.Container != nil {
		cb = b.Container.Name
	}
	var aa, ba []string
	if a.Process != nil {
		aa = a.Process.Args
	}
	if b.Process != nil {
		ba = b.Process.Args
	}
	return ca == cb && slices.Equal(aa, ba)
}

// within reports whether b is at a or up to d after it.
func within(a, b string, d time.Duration) bool {
	ta, ok1 := parseTime(a)
	tb, ok2 := parseTime(b)
	if !ok1 || !ok2 {
		return false
	}
	gap := tb.Sub(ta)
	return gap >= 0 && gap <= d
}

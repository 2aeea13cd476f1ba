package triage

import (
	"fmt"
	"slices"
	"testing"
)

// TestLinkDebugAttach: an ephemeral container added to a pod is related to
// the one allowed attach to that pod by the same user within a minute, and
// to nothing when no attach or two fit.
func TestLinkDebugAttach(t *testing.T) {
	f := func(id, sub, user, ns, pod, at string, code int) *Finding {
		return &Finding{ID: id, Kind: KindAudit, Timestamp: at,
			Audit: &Audit{Subresource: sub, ResponseCode: code},
			User:  &User{Name: user},
			Orch:  &Orchestrator{Namespace: ns, Resource: &Resource{Type: "pod", Name: pod}}}
	}
	const t0 = "2026-11-20T10:00:00Z"
	findings := []*Finding{
		f("add1", "ephemeralcontainers", "alice", "prod", "web", t0, 200),
		f("att1", "attach", "alice", "prod", "web", "2026-11-20T10:00:05Z", 101),
		f("att-other-user", "attach", "bob", "prod", "web", "2026-11-20T10:00:06Z", 101),
		f("att-other-pod", "attach", "alice", "prod", "api", "2026-11-20T10:00:06Z", 101),
		f("att-refused", "attach", "alice", "prod", "web", "2026-11-20T10:00:07Z", 403),
		f("att-late", "attach", "alice", "prod", "web", "2026-11-20T10:01:30Z", 101),
		// Two attaches fit this one: neither is linked.
		f("add2", "ephemeralcontainers", "carol", "dev", "db", t0, 200),
		f("att2a", "attach", "carol", "dev", "db", "2026-11-20T10:00:10Z", 101),
		f("att2b", "attach", "carol", "dev", "db", "2026-11-20T10:00:20Z", 101),
		// Too early: the attach comes before the container.
		f("add3", "ephemeralcontainers", "dave", "dev", "cache", t0, 200),
		f("att3", "attach", "dave", "dev", "cache", "2026-11-20T09:59:59Z", 101),
	}
	// Many findings that are no attach must not change anything.
	for i := range 1000 {
		findings = append(findings, f(fmt.Sprint("exec", i), "exec", "alice", "prod", "web", t0, 101))
	}
	linkDebugAttach(findings)
	want := map[string][]string{"add1": {"att1"}, "att1": {"add1"}}
	for _, g := range findings {
		if !slices.Equal(g.Related, want[g.ID]) {
			t.Errorf("%s related to %v, want %v", g.ID, g.Related, want[g.ID])
		}
	}
	if len(findings[1].Notes) != 1 {
		t.Errorf("att1 notes %q, want the kubectl debug note", findings[1].Notes)
	}
}

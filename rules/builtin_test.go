package rules_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/k8sexec/k8sexec/rules"
)

const (
	ruleExecIntoPod     = "14de811c-d60f-11ec-9fd7-f661ea17fbce" // Elastic: Kubernetes User Exec into Pod
	ruleInteractiveExec = "420e5bb4-93bf-40a3-8f4a-4cc1af90eca1" // Elastic: Interactive Exec Command Launched Against A Running Container
	ruleExecWebSocket   = "1c50f817-b9c2-4669-a629-d365cc2a0802" // k8sexec: exec over WebSocket (verb get)
	ruleExecDenied      = "93f9d6b1-07b8-403f-b61f-f2195d61ea93" // k8sexec: exec refused
	ruleAttach          = "c9961d4e-ba8c-40aa-9985-47d97953404b" // k8sexec: attach to a running container
	ruleEphemeral       = "43ed3b31-8bee-479a-a7d2-146165c67a5e" // k8sexec: ephemeral debug container added
)

// A Kubernetes 1.35 WebSocket exec refused by the second check (create on
// pods/exec) after authorization logged allow, and kubectl debug's two
// requests: adding the ephemeral container, then attaching to it.
const (
	auditExecWebSocket403 = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"cb7d5d44-72fb-4856-8977-7c17625d8a26","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/payments/pods/ledger-1/exec?command=bash\u0026container=ledger\u0026stdin=true\u0026stdout=true\u0026tty=true","verb":"get","user":{"username":"erin@example.com","groups":["sre","system:authenticated"]},"sourceIPs":["203.0.113.40"],"userAgent":"kubectl/v1.35.0 (linux/amd64) kubernetes/a1b2c3d","objectRef":{"resource":"pods","namespace":"payments","name":"ledger-1","apiVersion":"v1","subresource":"exec"},"responseStatus":{"metadata":{},"status":"Failure","reason":"Forbidden","code":403},"requestReceivedTimestamp":"2026-11-20T10:33:40.120551Z","stageTimestamp":"2026-11-20T10:33:40.122017Z","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by RoleBinding \"sre-read\" of ClusterRole \"view-exec\" to Group \"sre\" in Namespace \"payments\""}}`
	auditEphemeralPatch   = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"1d2e3f40-5a6b-4c7d-8e9f-0a1b2c3d4e5f","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/shop/pods/api-5f6b7-x9z2c/ephemeralcontainers?fieldManager=kubectl-debug","verb":"patch","user":{"username":"grace@example.com","groups":["sre","system:authenticated"]},"sourceIPs":["203.0.113.77"],"userAgent":"kubectl/v1.31.3 (linux/amd64) kubernetes/c83a3d1","objectRef":{"resource":"pods","namespace":"shop","name":"api-5f6b7-x9z2c","apiVersion":"v1","subresource":"ephemeralcontainers"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2026-11-22T11:00:00.100000Z","stageTimestamp":"2026-11-22T11:00:00.130000Z","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by ClusterRoleBinding \"sre-admin\" of ClusterRole \"cluster-admin\" to Group \"sre\""}}`
	auditAttach           = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"6f7a8b9c-0d1e-4f2a-8b3c-4d5e6f7a8b9c","stage":"ResponseStarted","requestURI":"/api/v1/namespaces/shop/pods/api-5f6b7-x9z2c/attach?container=debugger-h7k2p\u0026stdin=true\u0026stdout=true\u0026tty=true","verb":"create","user":{"username":"grace@example.com","groups":["sre","system:authenticated"]},"sourceIPs":["203.0.113.77"],"userAgent":"kubectl/v1.31.3 (linux/amd64) kubernetes/c83a3d1","objectRef":{"resource":"pods","namespace":"shop","name":"api-5f6b7-x9z2c","apiVersion":"v1","subresource":"attach"},"responseStatus":{"metadata":{},"code":101},"requestReceivedTimestamp":"2026-11-22T11:00:01.600000Z","stageTimestamp":"2026-11-22T11:00:01.650000Z","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by ClusterRoleBinding \"sre-admin\" of ClusterRole \"cluster-admin\" to Group \"sre\""}}`
)

// replace returns s with old replaced by new once, and panics if old is not
// there, so an example event cannot silently stay the same as its base.
func replace(s, old, new string) string {
	if !strings.Contains(s, old) {
		panic("example event does not contain " + old)
	}
	return strings.Replace(s, old, new, 1)
}

// Example audit events, as kube-apiserver writes them.
const (
	// kubectl exec -it over SPDY: the request stage carries no
	// authorization annotations yet; the response stages do.
	auditExecSPDYRequestReceived = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"e0f9b71b-c59b-40cb-84d7-cb2ffadf15e6","stage":"RequestReceived","requestURI":"/api/v1/namespaces/shop/pods/api-7d9f-m8wzr/exec?command=%2Fbin%2Fsh\u0026container=api\u0026stdin=true\u0026stdout=true\u0026tty=true","verb":"create","user":{"username":"erin@example.com","groups":["sre","system:authenticated"]},"sourceIPs":["203.0.113.40"],"userAgent":"kubectl/v1.29.6 (linux/amd64) kubernetes/b37a2e1","objectRef":{"resource":"pods","namespace":"shop","name":"api-7d9f-m8wzr","apiVersion":"v1","subresource":"exec"},"requestReceivedTimestamp":"2026-11-20T10:41:07.112043Z","stageTimestamp":"2026-11-20T10:41:07.112043Z"}`
	auditExecSPDYResponseStarted = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"e0f9b71b-c59b-40cb-84d7-cb2ffadf15e6","stage":"ResponseStarted","requestURI":"/api/v1/namespaces/shop/pods/api-7d9f-m8wzr/exec?command=%2Fbin%2Fsh\u0026container=api\u0026stdin=true\u0026stdout=true\u0026tty=true","verb":"create","user":{"username":"erin@example.com","groups":["sre","system:authenticated"]},"sourceIPs":["203.0.113.40"],"userAgent":"kubectl/v1.29.6 (linux/amd64) kubernetes/b37a2e1","objectRef":{"resource":"pods","namespace":"shop","name":"api-7d9f-m8wzr","apiVersion":"v1","subresource":"exec"},"responseStatus":{"metadata":{},"code":101},"requestReceivedTimestamp":"2026-11-20T10:41:07.112043Z","stageTimestamp":"2026-11-20T10:41:07.160199Z","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by ClusterRoleBinding \"sre-admin\" of ClusterRole \"cluster-admin\" to Group \"sre\""}}`
	// kubectl 1.31 exec over WebSocket: logged as verb get.
	auditExecWebSocket = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"5b1f0f53-8d3e-4a51-9d8e-0c2a1b7f4e21","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/payments/pods/ledger-1/exec?command=sh\u0026container=ledger\u0026stdin=true\u0026stdout=true\u0026tty=true","verb":"get","user":{"username":"dave@example.com","groups":["devs","system:authenticated"]},"sourceIPs":["198.51.100.23"],"userAgent":"kubectl/v1.31.2 (darwin/arm64) kubernetes/5864a46","objectRef":{"resource":"pods","namespace":"payments","name":"ledger-1","apiVersion":"v1","subresource":"exec"},"responseStatus":{"metadata":{},"code":101},"requestReceivedTimestamp":"2026-11-20T11:02:13.001200Z","stageTimestamp":"2026-11-20T11:09:44.310871Z","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by RoleBinding \"devs-debug/payments\" of Role \"debug\" to Group \"devs\""}}`
	// Refused by RBAC.
	auditExecForbidden = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"0c7d3f9e-2b7a-4a51-8f3e-6a1e2d9c4b10","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/kube-system/pods/etcd-cp-1/exec?command=sh\u0026container=etcd\u0026stdin=true\u0026tty=true","verb":"create","user":{"username":"system:serviceaccount:ci:runner","groups":["system:serviceaccounts","system:serviceaccounts:ci","system:authenticated"]},"sourceIPs":["10.20.0.14"],"userAgent":"kubectl/v1.29.6 (linux/amd64) kubernetes/b37a2e1","objectRef":{"resource":"pods","namespace":"kube-system","name":"etcd-cp-1","apiVersion":"v1","subresource":"exec"},"responseStatus":{"metadata":{},"status":"Failure","message":"pods \"etcd-cp-1\" is forbidden","reason":"Forbidden","code":403},"requestReceivedTimestamp":"2026-11-20T12:00:00.000100Z","stageTimestamp":"2026-11-20T12:00:00.001900Z","annotations":{"authorization.k8s.io/decision":"forbid","authorization.k8s.io/reason":""}}`
	// An ordinary read of the pod, not of its exec subresource.
	auditGetPod = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"83824e51-8821-4db7-bb94-433633d06018","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/analytics/pods/pg-0","verb":"get","user":{"username":"erin@example.com","groups":["sre","system:authenticated"]},"sourceIPs":["203.0.113.40"],"userAgent":"kubectl/v1.29.6 (linux/amd64) kubernetes/b37a2e1","objectRef":{"resource":"pods","namespace":"analytics","name":"pg-0","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2026-11-20T10:40:01.701514Z","stageTimestamp":"2026-11-20T10:40:01.703514Z","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by ClusterRoleBinding \"sre-admin\" of ClusterRole \"cluster-admin\" to Group \"sre\""}}`

	// The same exec as an Elastic export: nested objects.
	ecsExecNested = `{"@timestamp":"2026-11-20T10:41:07.112Z","event":{"dataset":"kubernetes.audit_logs","module":"kubernetes","action":"create","outcome":"success"},"kubernetes":{"audit":{"kind":"Event","auditID":"e0f9b71b-c59b-40cb-84d7-cb2ffadf15e6","stage":"ResponseStarted","verb":"create","user":{"username":"erin@example.com"},"objectRef":{"resource":"pods","namespace":"shop","name":"api-7d9f-m8wzr","subresource":"exec"},"annotations":{"authorization_k8s_io/decision":"allow"}}},"user":{"name":"erin@example.com"},"source":{"ip":"203.0.113.40"}}`
	// Dotted keys, as some exports flatten documents.
	ecsExecDotted = `{"@timestamp":"2026-11-20T10:41:07.112Z","event.dataset":"kubernetes.audit_logs","kubernetes.audit.verb":"create","kubernetes.audit.objectRef.resource":"pods","kubernetes.audit.objectRef.subresource":"exec","kubernetes.audit.annotations.authorization_k8s_io/decision":"allow","kubernetes.audit.user.username":"erin@example.com"}`
	// A mix of both in one document.
	ecsExecMixed = `{"event.dataset":"kubernetes.audit_logs","kubernetes":{"audit":{"annotations.authorization_k8s_io/decision":"allow","objectRef.subresource":"exec"},"audit.verb":"create"},"kubernetes.audit.objectRef":{"resource":"pods"}}`
	// A hit copied from Elasticsearch's search API.
	ecsExecSearchHit = `{"_index":".ds-logs-kubernetes.audit_logs-default-2026.11.20-000001","_id":"kJ3x","_score":1,"_source":{"event":{"dataset":"kubernetes.audit_logs"},"kubernetes":{"audit":{"verb":"get","objectRef":{"resource":"pods","subresource":"exec"},"annotations":{"authorization_k8s_io/decision":"allow"}}}}}`
)

// An interactive shell as Elastic Defend for Containers reports it: the
// entry leader of a session that entered the container with a terminal.
const processInteractiveEntry = `{"@timestamp":"2026-11-20T13:05:41.230Z","event":{"kind":"event","category":["process"],"type":["start"],"action":"exec","dataset":"cloud_defend.process"},"container":{"id":"7a18fcc8da2948ac693aabdd8739c337a1436d70a71d211f13d92c3419921880","name":"ledger"},"orchestrator":{"namespace":"payments","resource":{"type":"pod","name":"ledger-1"}},"process":{"entity_id":"+R70hg+/Bf+Q+E/D6fsfj6gN84bAbocM","pid":1957770,"name":"sh","executable":"/bin/sh","args":["/bin/sh"],"interactive":true,"parent":{"name":"runc","executable":"/usr/bin/runc"},"entry_leader":{"entity_id":"+R70hg+/Bf+Q+E/D6fsfj6gN84bAbocM","pid":1957770,"name":"sh","interactive":true,"same_as_process":true,"entry_meta":{"type":"container"}}}}`

func TestBuiltinRules(t *testing.T) {
	builtin, err := rules.Builtin()
	if err != nil {
		t.Fatalf("Builtin: %v", err)
	}
	var ids []string
	byID := map[string]*rules.Rule{}
	for _, r := range builtin {
		ids = append(ids, r.ID)
		byID[r.ID] = r
		if r.Matcher == nil || r.Expr == nil {
			t.Errorf("rule %s is not compiled", r.ID)
		}
		if !r.Builtin() || !strings.HasPrefix(r.Source, "builtin:") {
			t.Errorf("rule %s source %q, want builtin:", r.ID, r.Source)
		}
		if !r.NoteTemplate || r.Note == "" {
			t.Errorf("rule %s has no templated investigation guide", r.ID)
		}
		if r.Name == "" || r.Description == "" {
			t.Errorf("rule %s lacks a name or description", r.ID)
		}
	}
	// Sorted by file name.
	wantIDs := []string{ruleInteractiveExec, ruleExecIntoPod, ruleEphemeral, ruleExecDenied, ruleAttach, ruleExecWebSocket}
	if !reflect.DeepEqual(ids, wantIDs) {
		t.Fatalf("built-in rule IDs = %v, want %v", ids, wantIDs)
	}

	meta := []struct {
		id, severity, language, typ, origin string
		risk                                int
		attack                              []string
	}{
		{ruleExecIntoPod, "medium", "kuery", "query", "elastic", 47, []string{"TA0002", "T1609"}},
		{ruleInteractiveExec, "high", "eql", "eql", "elastic", 73, []string{"TA0002", "T1059", "T1059.004", "T1609"}},
		{ruleExecWebSocket, "medium", "kuery", "query", "k8sexec", 47, []string{"TA0002", "T1609"}},
		{ruleExecDenied, "low", "kuery", "query", "k8sexec", 21, []string{"TA0002", "T1609"}},
		{ruleAttach, "low", "kuery", "query", "k8sexec", 35, []string{"TA0002", "T1609"}},
		{ruleEphemeral, "low", "kuery", "query", "k8sexec", 35, []string{"TA0002", "T1609"}},
	}
	for _, m := range meta {
		r := byID[m.id]
		if r.Severity != m.severity || r.Language != m.language || r.Type != m.typ || r.Origin != m.origin || r.RiskScore != m.risk {
			t.Errorf("rule %s: severity %q language %q type %q origin %q risk %d; want %q %q %q %q %d",
				m.id, r.Severity, r.Language, r.Type, r.Origin, r.RiskScore, m.severity, m.language, m.typ, m.origin, m.risk)
		}
		if got := r.AttackIDs(); !reflect.DeepEqual(got, m.attack) {
			t.Errorf("rule %s AttackIDs = %v, want %v", m.id, got, m.attack)
		}
	}
}

// TestBuiltinRuleExamples runs each built-in rule on events that must and
// must not match it.
func TestBuiltinRuleExamples(t *testing.T) {
	builtin, err := rules.Builtin()
	if err != nil {
		t.Fatalf("Builtin: %v", err)
	}
	byID := map[string]*rules.Rule{}
	for _, r := range builtin {
		byID[r.ID] = r
	}

	type example struct {
		name, event string
	}
	tests := []struct {
		id                    string
		match, shouldNotMatch []example
	}{
		{
			id: ruleExecIntoPod,
			match: []example{
				{"raw SPDY exec, response started", auditExecSPDYResponseStarted},
				{"raw SPDY exec, response complete", replace(auditExecSPDYResponseStarted, `"stage":"ResponseStarted"`, `"stage":"ResponseComplete"`)},
				{"raw exec with escaped verb", replace(auditExecSPDYResponseStarted, `"verb":"create"`, `"verb":"\u0063reate"`)},
				{"raw exec, keys reordered", `{"annotations":{"authorization.k8s.io/decision":"allow"},"objectRef":{"subresource":"exec","resource":"pods","name":"web-0","namespace":"default"},"verb":"create","stage":"ResponseStarted","auditID":"9f1c","apiVersion":"audit.k8s.io/v1","kind":"Event"}`},
				{"ECS nested", ecsExecNested},
				{"ECS dotted", ecsExecDotted},
				{"ECS mixed", ecsExecMixed},
				{"ECS decision array", replace(ecsExecNested, `"authorization_k8s_io/decision":"allow"`, `"authorization_k8s_io/decision":["allow"]`)},
				{"search hit", replace(ecsExecSearchHit, `"verb":"get"`, `"verb":"create"`)},
			},
			shouldNotMatch: []example{
				{"request received, no decision yet", auditExecSPDYRequestReceived},
				{"WebSocket exec logged as get", auditExecWebSocket},
				{"forbidden exec", auditExecForbidden},
				{"attach", replace(auditExecSPDYResponseStarted, `"subresource":"exec"`, `"subresource":"attach"`)},
				{"port-forward", replace(auditExecSPDYResponseStarted, `"subresource":"exec"`, `"subresource":"portforward"`)},
				{"upper-case subresource", replace(auditExecSPDYResponseStarted, `"subresource":"exec"`, `"subresource":"Exec"`)},
				{"exec on a node proxy", replace(auditExecSPDYResponseStarted, `"resource":"pods"`, `"resource":"nodes"`)},
				{"get pod", auditGetPod},
				{"create pod", replace(replace(auditGetPod, `"verb":"get"`, `"verb":"create"`), `"code":200`, `"code":201`)},
				{"ECS other dataset", replace(ecsExecNested, `"dataset":"kubernetes.audit_logs"`, `"dataset":"kubernetes.container_logs"`)},
				{"ECS without dataset", replace(ecsExecDotted, `"event.dataset":"kubernetes.audit_logs",`, ``)},
				{"ECS forbid", replace(ecsExecDotted, `decision":"allow"`, `decision":"forbid"`)},
				{"search hit get", ecsExecSearchHit},
				{"D4C process event", processInteractiveEntry},
			},
		},
		{
			id: ruleExecWebSocket,
			match: []example{
				{"raw WebSocket exec", auditExecWebSocket},
				{"raw WebSocket exec, response started", replace(auditExecWebSocket, `"stage":"ResponseComplete"`, `"stage":"ResponseStarted"`)},
				{"search hit", ecsExecSearchHit},
				{"ECS dotted get", replace(ecsExecDotted, `"kubernetes.audit.verb":"create"`, `"kubernetes.audit.verb":"get"`)},
			},
			shouldNotMatch: []example{
				{"SPDY exec logged as create", auditExecSPDYResponseStarted},
				{"get pod", auditGetPod},
				{"get pod log", replace(replace(auditGetPod, `"apiVersion":"v1"}`, `"apiVersion":"v1","subresource":"log"}`), `"requestURI":"/api/v1/namespaces/analytics/pods/pg-0"`, `"requestURI":"/api/v1/namespaces/analytics/pods/pg-0/log"`)},
				{"forbidden WebSocket exec", replace(auditExecWebSocket, `"authorization.k8s.io/decision":"allow"`, `"authorization.k8s.io/decision":"forbid"`)},
				{"refused with 403 after allow (Kubernetes 1.35)", auditExecWebSocket403},
				{"upper-case verb", replace(auditExecWebSocket, `"verb":"get"`, `"verb":"GET"`)},
				{"no annotations", replace(auditExecWebSocket, `"annotations":{"authorization.k8s.io/decision":"allow",`, `"annotationz":{`)},
				{"ECS nested create", ecsExecNested},
			},
		},
		{
			id: ruleExecDenied,
			match: []example{
				{"RBAC forbid", auditExecForbidden},
				{"WebSocket refused with 403 after allow", auditExecWebSocket403},
				{"forbidden WebSocket exec", replace(auditExecWebSocket, `"authorization.k8s.io/decision":"allow"`, `"authorization.k8s.io/decision":"forbid"`)},
				{"ECS forbid", replace(ecsExecDotted, `decision":"allow"`, `decision":"forbid"`)},
			},
			shouldNotMatch: []example{
				{"allowed SPDY exec", auditExecSPDYResponseStarted},
				{"allowed WebSocket exec", auditExecWebSocket},
				{"request received, no decision yet", replace(auditExecSPDYRequestReceived, `"verb":"create"`, `"verb":"get"`)},
				// Elastic's rule reports an allowed create refused later
				// (an admission webhook); it is not reported twice.
				{"create refused with 403 after allow", replace(auditExecWebSocket403, `"verb":"get"`, `"verb":"create"`)},
				{"forbidden attach", replace(auditExecForbidden, `"subresource":"exec"`, `"subresource":"attach"`)},
				{"forbidden pod read", replace(auditExecForbidden, `,"subresource":"exec"`, ``)},
			},
		},
		{
			id: ruleAttach,
			match: []example{
				{"kubectl debug attaching", auditAttach},
				{"attach over WebSocket", replace(auditAttach, `"verb":"create"`, `"verb":"get"`)},
			},
			shouldNotMatch: []example{
				{"exec", auditExecSPDYResponseStarted},
				{"forbidden attach", replace(auditAttach, `"authorization.k8s.io/decision":"allow"`, `"authorization.k8s.io/decision":"forbid"`)},
				{"refused with 403", replace(auditAttach, `"code":101`, `"code":403`)},
				{"ephemeral container patch", auditEphemeralPatch},
			},
		},
		{
			id: ruleEphemeral,
			match: []example{
				{"kubectl debug patch", auditEphemeralPatch},
				{"update", replace(auditEphemeralPatch, `"verb":"patch"`, `"verb":"update"`)},
			},
			shouldNotMatch: []example{
				{"reading ephemeral containers", replace(auditEphemeralPatch, `"verb":"patch"`, `"verb":"get"`)},
				{"refused by admission", replace(auditEphemeralPatch, `"code":200`, `"code":422`)},
				{"forbidden", replace(auditEphemeralPatch, `"authorization.k8s.io/decision":"allow"`, `"authorization.k8s.io/decision":"forbid"`)},
				{"attach", auditAttach},
				{"pod patch", replace(auditEphemeralPatch, `,"subresource":"ephemeralcontainers"`, ``)},
			},
		},
		{
			id: ruleInteractiveExec,
			match: []example{
				{"interactive entry leader", processInteractiveEntry},
				{"upper-case entry type", replace(processInteractiveEntry, `"entry_meta":{"type":"container"}`, `"entry_meta":{"type":"CONTAINER"}`)},
				{"event.type array with start", replace(processInteractiveEntry, `"type":["start"]`, `"type":["start","change"]`)},
				{"event.type string", replace(processInteractiveEntry, `"type":["start"]`, `"type":"start"`)},
				{"booleans as strings", replace(replace(processInteractiveEntry, `"interactive":true,"parent"`, `"interactive":"true","parent"`), `"same_as_process":true`, `"same_as_process":"true"`)},
				{"dotted keys", `{"event.category":["process"],"event.type":["start"],"container.id":"f1277fb830a0","process.interactive":true,"process.entry_leader.same_as_process":true,"process.entry_leader.entry_meta.type":"container"}`},
				{"search hit", `{"_index":".ds-logs-cloud_defend.process-default","_source":` + processInteractiveEntry + `}`},
			},
			shouldNotMatch: []example{
				{"child of the entry leader", replace(processInteractiveEntry, `"same_as_process":true`, `"same_as_process":false`)},
				{"non-interactive exec", replace(processInteractiveEntry, `"interactive":true,"parent"`, `"interactive":false,"parent"`)},
				{"capitalised Start", replace(processInteractiveEntry, `"type":["start"]`, `"type":["Start"]`)},
				{"process end", replace(processInteractiveEntry, `"type":["start"]`, `"type":["end"]`)},
				{"entered over ssh", replace(processInteractiveEntry, `"entry_meta":{"type":"container"}`, `"entry_meta":{"type":"sshd"}`)},
				{"no container", replace(processInteractiveEntry, `"container":{"id":"7a18fcc8da2948ac693aabdd8739c337a1436d70a71d211f13d92c3419921880","name":"ledger"},`, ``)},
				{"network event", replace(processInteractiveEntry, `"category":["process"]`, `"category":["network"]`)},
				{"no category", replace(processInteractiveEntry, `"category":["process"],`, ``)},
				{"capitalised category", replace(processInteractiveEntry, `"category":["process"]`, `"category":["Process"]`)},
				{"same_as_process missing", replace(processInteractiveEntry, `"same_as_process":true,`, ``)},
				{"interactive missing", replace(processInteractiveEntry, `"interactive":true,"parent"`, `"parent"`)},
				{"audit exec event", auditExecSPDYResponseStarted},
			},
		},
	}
	for _, tt := range tests {
		r := byID[tt.id]
		if r == nil {
			t.Fatalf("no built-in rule %s", tt.id)
		}
		if len(tt.match) == 0 || len(tt.shouldNotMatch) == 0 {
			t.Fatalf("rule %s needs examples both ways", tt.id)
		}
		for _, ex := range tt.match {
			t.Run(r.Name+"/match/"+ex.name, func(t *testing.T) {
				if !r.Matches(adapt(ex.event)) {
					t.Errorf("rule %q does not match %s", r.Name, ex.event)
				}
			})
		}
		for _, ex := range tt.shouldNotMatch {
			t.Run(r.Name+"/no match/"+ex.name, func(t *testing.T) {
				if r.Matches(adapt(ex.event)) {
					t.Errorf("rule %q matches %s", r.Name, ex.event)
				}
			})
		}
	}
}

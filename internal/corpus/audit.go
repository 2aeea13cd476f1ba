package corpus

import (
	"net/url"
	"strconv"
	"strings"
)

// Audit stages.
const (
	stageReceived = "RequestReceived"
	stageStarted  = "ResponseStarted"
	stageComplete = "ResponseComplete"
)

// bodyKind selects the requestObject or responseObject of an audit event.
type bodyKind uint8

const (
	bodyNone bodyKind = iota
	bodyLease
	bodyPod
	bodyPodStatus
	bodyNodeStatus
	bodyEvent
	bodyToken
	bodyConfigMap
	bodyClusterRole
	bodyDeploymentPatch
	bodyEphemeral
	bodyStatus // a metav1.Status for a failed request
)

// auditEvent is one request as the API server audits it; each stage event
// written is a copy with its stage set.
type auditEvent struct {
	level       string
	auditID     uuid
	stage       string
	uri         string
	verb        string
	user        *principal
	impersonate string
	ua, ip      string
	ref         objectRef
	code        int64
	failReason  string // metav1.Status reason when code >= 400
	failMessage string
	received    int64
	decision    string
	reason      string
	podSecurity string
	req, resp   bodyKind
	pod         *pod
	node        *node
	seed        uint64 // varies body contents without drawing at write time
	// countFinding marks the one stage event that counts its request in
	// Stats.Findings.
	countFinding bool
}

type objectRef struct {
	resource, namespace, name, uid, apiGroup, apiVersion, rv, subresource string
}

// isSeedExec reports whether ev matches seed rule 1 or its WebSocket variant.
func (ev *auditEvent) isSeedExec() bool {
	return ev.stage != stageReceived && ev.decision == "allow" && (ev.verb == "create" || ev.verb == "get") &&
		ev.ref.resource == "pods" && ev.ref.subresource == "exec"
}

type auditGen struct {
	*gen
	queue pending[auditEvent]
}

func (g *gen) runAudit() {
	a := &auditGen{gen: g}
	for !g.done() {
		switch {
		case a.queue.len() > 0 && a.queue.peekDue() <= g.stats.Events:
			ev := a.queue.pop()
			a.emit(&ev)
		case g.stats.Events >= g.nextFinding:
			a.finding()
			g.nextFinding = g.stats.Events + g.gap(g.every)
		case g.stats.Events >= g.nextDecoy:
			a.decoy()
			g.nextDecoy = g.stats.Events + g.gap(g.decoyEvery())
		default:
			a.background()
		}
	}
	// The log ends here, as a rotated file does, with requests still open;
	// only the stages of findings already started are written.
	for a.queue.len() > 0 && g.err == nil {
		if ev := a.queue.pop(); ev.isSeedExec() {
			a.emit(&ev)
		}
	}
}

// emit writes one stage event. RequestReceived is stamped with the request's
// arrival; later stages with the clock at the time they are written.
func (a *auditGen) emit(ev *auditEvent) {
	g := a.gen
	g.tick()
	stageTS := g.now
	if ev.stage == stageReceived {
		stageTS = ev.received
	}
	if g.cfg.Shape == ECS {
		g.d.begin(g.layoutMask(), false)
		a.writeECS(ev, stageTS)
	} else {
		g.d.begin(0, g.cfg.Escaped)
		a.writeFields(ev, stageTS, false)
	}
	g.endLine()
	if ev.isSeedExec() {
		g.stats.MatchingLines++
		if ev.countFinding {
			g.stats.Findings++
		}
	}
}

// request writes a request's stage events: RequestReceived with probability
// rrPercent (audit policies often omit it), then either ResponseComplete or,
// for a long-running request, ResponseStarted now and ResponseComplete
// completeIn lines later.
func (a *auditGen) request(ev *auditEvent, rrPercent int, long bool, completeIn int64) {
	g := a.gen
	g.tick()
	ev.auditID = g.uuid()
	ev.received = g.now
	ev.seed = g.r.Uint64()
	if ev.ua == "" {
		ev.ua = ev.user.ua
	}
	if ev.ip == "" {
		ev.ip = ev.user.ip
	}
	if ev.decision == "allow" && ev.reason == "" {
		ev.reason = ev.user.allowReason(ev.ref.namespace)
	}
	if g.chance(rrPercent) {
		rr := *ev
		rr.stage = stageReceived
		rr.countFinding = false
		a.emit(&rr)
	}
	if long {
		started := *ev
		started.stage = stageStarted
		a.emit(&started)
		ev.countFinding = false
		ev.stage = stageComplete
		later(g, &a.queue, completeIn, *ev)
		return
	}
	ev.stage = stageComplete
	a.emit(ev)
}

// writeFields writes the audit.k8s.io/v1 Event members. With ecs set it
// writes them the way Elastic stores them under kubernetes.audit: annotation
// and extra keys dedotted, empty values and object metadata dropped.
func (a *auditGen) writeFields(ev *auditEvent, stageTS int64, ecs bool) {
	g, d := a.gen, &a.gen.d
	if !ecs {
		d.str("kind", "Event")
		d.str("apiVersion", "audit.k8s.io/v1")
	}
	d.str("level", ev.level)
	d.bytes("auditID", ev.auditID[:])
	d.str("stage", ev.stage)
	d.str("requestURI", ev.uri)
	d.str("verb", ev.verb)
	d.obj("user")
	d.str("username", ev.user.username)
	d.strOpt("uid", ev.user.uid)
	d.strs("groups", ev.user.groups...)
	if len(ev.user.extra) > 0 {
		d.obj("extra")
		for _, kv := range ev.user.extra {
			k := kv[0]
			if ecs {
				k = dedot(k)
			}
			d.strs(k, kv[1])
		}
		d.end()
	}
	d.end()
	if ev.impersonate != "" {
		d.obj("impersonatedUser")
		d.str("username", ev.impersonate)
		d.strs("groups", "system:serviceaccounts", "system:authenticated")
		d.end()
	}
	d.strs("sourceIPs", ev.ip)
	d.str("userAgent", ev.ua)
	if ev.ref.resource != "" {
		r := &ev.ref
		d.obj("objectRef")
		d.str("resource", r.resource)
		d.strOpt("namespace", r.namespace)
		d.strOpt("name", r.name)
		d.strOpt("uid", r.uid)
		d.strOpt("apiGroup", r.apiGroup)
		d.str("apiVersion", r.apiVersion)
		d.strOpt("resourceVersion", r.rv)
		d.strOpt("subresource", r.subresource)
		d.end()
	}
	if ev.stage != stageReceived {
		d.obj("responseStatus")
		if !ecs {
			d.raw("metadata", "{}")
		}
		if ev.code >= 400 {
			d.str("status", "Failure")
			d.str("message", ev.failMessage)
			d.str("reason", ev.failReason)
			d.obj("details")
			if ev.ref.name != "" {
				d.str("name", ev.ref.name)
			}
			if ev.ref.apiGroup != "" {
				d.str("group", ev.ref.apiGroup)
			}
			d.str("kind", ev.ref.resource)
			d.end()
		}
		d.int("code", ev.code)
		d.end()
		if ev.req != bodyNone {
			a.body("requestObject", ev.req, ev, stageTS, ecs, false)
		}
		if ev.resp != bodyNone {
			a.body("responseObject", ev.resp, ev, stageTS, ecs, true)
		}
	}
	g.time("requestReceivedTimestamp", ev.received, 6)
	g.time("stageTimestamp", stageTS, 6)
	if ev.stage != stageReceived && ev.decision != "" {
		d.obj("annotations")
		if ecs {
			d.str("authorization_k8s_io/decision", ev.decision)
			d.strOpt("authorization_k8s_io/reason", ev.reason)
		} else {
			d.str("authorization.k8s.io/decision", ev.decision)
			d.str("authorization.k8s.io/reason", ev.reason)
		}
		if ev.podSecurity != "" {
			if ecs {
				d.str("pod-security_kubernetes_io/enforce-policy", ev.podSecurity)
			} else {
				d.str("pod-security.kubernetes.io/enforce-policy", ev.podSecurity)
			}
		}
		d.end()
	}
}

func dedot(k string) string { return strings.ReplaceAll(k, ".", "_") }

// --- background requests -----------------------------------------------

func (a *auditGen) background() {
	switch k := a.r.IntN(1000); {
	case k < 100:
		a.nonResource()
	case k < 300:
		a.nodeLease()
	case k < 340:
		a.leaderLease()
	case k < 420:
		a.kubeletEvent()
	case k < 460:
		a.podStatus()
	case k < 480:
		a.nodeStatus()
	case k < 530:
		a.kubeletWatch()
	case k < 560:
		a.kubeletGet()
	case k < 615:
		a.token()
	case k < 710:
		a.informer()
	case k < 770:
		a.appGet()
	case k < 820:
		a.controllerUpdate()
	case k < 829:
		a.podCreate()
	case k < 850:
		a.podDelete()
	case k < 870:
		a.configMapApply(false)
	case k < 895:
		a.deploymentPatch()
	case k < 945:
		a.human()
	case k < 965:
		a.forbidden()
	case k < 975:
		a.conflict()
	default:
		a.secretRotate()
	}
}

// nonResource is a health check or API discovery call: no objectRef.
func (a *auditGen) nonResource() {
	user := pick(a.r, []*principal{a.inv.anonymous, a.inv.anonymous, a.inv.anonymous, a.inv.anonymous, a.inv.kcm, a.inv.scheduler, a.inv.humans[a.r.IntN(len(a.inv.humans))], a.inv.apps[a.r.IntN(len(a.inv.apps))]})
	uri := pick(a.r, []string{"/livez", "/readyz", "/healthz", "/version", "/api?timeout=32s", "/apis?timeout=32s", "/openapi/v2?timeout=32s", "/apis/metrics.k8s.io/v1beta1"})
	if user == a.inv.anonymous {
		uri = pick(a.r, []string{"/livez", "/readyz", "/healthz", "/readyz?verbose"})
	}
	ev := auditEvent{level: "Metadata", verb: "get", user: user, decision: "allow", code: 200, uri: uri}
	if user == a.inv.anonymous {
		ev.reason = `RBAC: allowed by ClusterRoleBinding "system:public-info-viewer" of ClusterRole "system:public-info-viewer" to Group "system:unauthenticated"`
	}
	a.request(&ev, 10, false, 0)
}

func (a *auditGen) kubelet() (*principal, *node) {
	i := a.r.IntN(len(a.inv.nodes))
	return a.inv.kubelets[i], a.inv.nodes[i]
}

func (a *auditGen) pod() *pod { return pick(a.r, a.inv.pods) }

func (a *auditGen) rv() string { return strconv.FormatInt(4_000_000+a.r.Int64N(90_000_000), 10) }

func (a *auditGen) nodeLease() {
	user, n := a.kubelet()
	ev := auditEvent{level: "Metadata", verb: "update", user: user, decision: "allow", code: 200, node: n,
		uri: "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/" + n.name + "?timeout=10s",
		ref: objectRef{resource: "leases", namespace: "kube-node-lease", name: n.name, uid: n.uid, apiGroup: "coordination.k8s.io", apiVersion: "v1", rv: a.rv()}}
	if a.chance(6) {
		ev.level, ev.req, ev.resp = "RequestResponse", bodyLease, bodyLease
	}
	if a.chance(2) {
		a.failConflict(&ev)
	}
	a.request(&ev, 20, false, 0)
}

func (a *auditGen) leaderLease() {
	user := pick(a.r, []*principal{a.inv.kcm, a.inv.scheduler, a.inv.kcm, a.inv.ingress, a.inv.certManager})
	name, ns := "kube-controller-manager", "kube-system"
	switch user {
	case a.inv.scheduler:
		name = "kube-scheduler"
	case a.inv.ingress:
		name, ns = "ingress-nginx-leader", "ingress-nginx"
	case a.inv.certManager:
		name = "cert-manager-controller"
	}
	ev := auditEvent{level: "Metadata", verb: pick(a.r, []string{"get", "update"}), user: user, decision: "allow", code: 200,
		uri: "/apis/coordination.k8s.io/v1/namespaces/" + ns + "/leases/" + name + "?timeout=5s",
		ref: objectRef{resource: "leases", namespace: ns, name: name, apiGroup: "coordination.k8s.io", apiVersion: "v1"}}
	if ev.verb == "update" {
		ev.ref.uid, ev.ref.rv = string(a.uuid().bytes()), a.rv()
		if a.chance(30) {
			ev.level, ev.req, ev.resp = "RequestResponse", bodyLease, bodyLease
		}
	}
	a.request(&ev, 30, false, 0)
}

func (a *auditGen) kubeletEvent() {
	p := a.pod()
	user := a.inv.kubelets[nodeIndex(a.inv, p.node)]
	ev := auditEvent{level: "Request", verb: "create", user: user, decision: "allow", code: 201, pod: p, node: p.node, req: bodyEvent,
		uri: "/api/v1/namespaces/" + p.w.ns + "/events",
		ref: objectRef{resource: "events", namespace: p.w.ns, name: p.name + "." + a.hex(16), apiVersion: "v1"}}
	if a.chance(50) {
		ev.level, ev.req = "Metadata", bodyNone
	}
	a.request(&ev, 25, false, 0)
}

func (a *auditGen) podStatus() {
	p := a.pod()
	user := a.inv.kubelets[nodeIndex(a.inv, p.node)]
	ev := auditEvent{level: "Request", verb: "patch", user: user, decision: "allow", code: 200, pod: p, req: bodyPodStatus,
		uri: "/api/v1/namespaces/" + p.w.ns + "/pods/" + p.name + "/status",
		ref: objectRef{resource: "pods", namespace: p.w.ns, name: p.name, apiVersion: "v1", subresource: "status"}}
	if a.chance(30) {
		ev.level, ev.req = "Metadata", bodyNone
	}
	a.request(&ev, 25, false, 0)
}

func (a *auditGen) nodeStatus() {
	user, n := a.kubelet()
	ev := auditEvent{level: "Request", verb: "patch", user: user, decision: "allow", code: 200, node: n, req: bodyNodeStatus,
		uri: "/api/v1/nodes/" + n.name + "/status?timeout=10s",
		ref: objectRef{resource: "nodes", name: n.name, apiVersion: "v1", subresource: "status"}}
	a.request(&ev, 25, false, 0)
}

func (a *auditGen) kubeletWatch() {
	p := a.pod()
	user := a.inv.kubelets[nodeIndex(a.inv, p.node)]
	res, name := "configmaps", pick(a.r, []string{"kube-root-ca.crt", p.w.config, p.w.configScript})
	if a.chance(30) {
		res, name = "secrets", p.w.name+"-tls"
	}
	timeout := 300 + a.r.IntN(300)
	ev := auditEvent{level: "Metadata", verb: "watch", user: user, decision: "allow", code: 200,
		uri: "/api/v1/namespaces/" + p.w.ns + "/" + res + "?allowWatchBookmarks=true&fieldSelector=metadata.name%3D" + name +
			"&resourceVersion=" + a.rv() + "&timeout=" + strconv.Itoa(timeout/60) + "m" + strconv.Itoa(timeout%60) + "s&timeoutSeconds=" + strconv.Itoa(timeout) + "&watch=true",
		ref: objectRef{resource: res, namespace: p.w.ns, name: name, apiVersion: "v1"}}
	a.request(&ev, 20, true, 50+a.r.Int64N(1500))
}

func (a *auditGen) kubeletGet() {
	p := a.pod()
	user := a.inv.kubelets[nodeIndex(a.inv, p.node)]
	res, name := "configmaps", pick(a.r, []string{"kube-root-ca.crt", p.w.config})
	if a.chance(40) {
		res, name = "secrets", p.w.name+"-tls"
	}
	ev := auditEvent{level: "Metadata", verb: "get", user: user, decision: "allow", code: 200,
		uri: "/api/v1/namespaces/" + p.w.ns + "/" + res + "/" + name,
		ref: objectRef{resource: res, namespace: p.w.ns, name: name, apiVersion: "v1"}}
	if a.chance(8) {
		a.failNotFound(&ev)
	}
	a.request(&ev, 20, false, 0)
}

func (a *auditGen) token() {
	p := a.pod()
	user := a.inv.kubelets[nodeIndex(a.inv, p.node)]
	ev := auditEvent{level: "Metadata", verb: "create", user: user, decision: "allow", code: 201, pod: p,
		uri: "/api/v1/namespaces/" + p.w.ns + "/serviceaccounts/" + p.w.sa + "/token",
		ref: objectRef{resource: "serviceaccounts", namespace: p.w.ns, name: p.w.sa, apiVersion: "v1", subresource: "token"}}
	if a.chance(20) {
		ev.level, ev.req = "Request", bodyToken
	}
	a.request(&ev, 25, false, 0)
}

var informerResources = []struct{ resource, group, path string }{
	{"pods", "", "/api/v1/"},
	{"services", "", "/api/v1/"},
	{"configmaps", "", "/api/v1/"},
	{"secrets", "", "/api/v1/"},
	{"nodes", "", "/api/v1/"},
	{"endpointslices", "discovery.k8s.io", "/apis/discovery.k8s.io/v1/"},
	{"deployments", "apps", "/apis/apps/v1/"},
	{"leases", "coordination.k8s.io", "/apis/coordination.k8s.io/v1/"},
	{"events", "", "/api/v1/"},
}

func (a *auditGen) informer() {
	users := a.inv.apps
	if a.chance(60) {
		users = a.inv.controllers
	}
	user := pick(a.r, users)
	res := pick(a.r, informerResources)
	ns := ""
	if res.resource != "nodes" && a.chance(50) {
		ns = pick(a.r, a.inv.workloads).ns
	}
	path := res.path
	if ns != "" {
		path += "namespaces/" + ns + "/"
	}
	path += res.resource
	ev := auditEvent{level: "Metadata", user: user, decision: "allow", code: 200,
		ref: objectRef{resource: res.resource, namespace: ns, apiGroup: res.group, apiVersion: "v1"}}
	if a.chance(60) {
		timeout := 300 + a.r.IntN(300)
		ev.verb = "watch"
		ev.uri = path + "?allowWatchBookmarks=true&resourceVersion=" + a.rv() + "&timeout=" + strconv.Itoa(timeout/60) + "m" +
			strconv.Itoa(timeout%60) + "s&timeoutSeconds=" + strconv.Itoa(timeout) + "&watch=true"
		a.request(&ev, 20, true, 50+a.r.Int64N(1500))
		return
	}
	ev.verb = "list"
	ev.uri = path + "?limit=500&resourceVersion=0"
	a.request(&ev, 20, false, 0)
}

func (a *auditGen) appGet() {
	user := pick(a.r, a.inv.apps)
	ns := user.ns
	res, name := pick(a.r, []string{"configmaps", "secrets", "services", "configmaps"}), ""
	switch res {
	case "configmaps":
		name = pick(a.r, []string{"kube-root-ca.crt", "extension-apiserver-authentication", user.ns + "-settings"})
		if name == "extension-apiserver-authentication" {
			ns = "kube-system"
		}
	case "secrets":
		name = pick(a.r, []string{"tls-cert", "webhook-ca", "db-credentials"})
	default:
		name = pick(a.r, a.inv.workloads).name
	}
	ev := auditEvent{level: "Metadata", verb: "get", user: user, decision: "allow", code: 200,
		uri: "/api/v1/namespaces/" + ns + "/" + res + "/" + name,
		ref: objectRef{resource: res, namespace: ns, name: name, apiVersion: "v1"}}
	if a.chance(6) {
		a.failNotFound(&ev)
	}
	a.request(&ev, 25, false, 0)
}

func (a *auditGen) controllerUpdate() {
	w := pick(a.r, a.inv.workloads)
	user := a.inv.controllers[1] // deployment-controller
	ev := auditEvent{level: "Metadata", verb: "update", user: user, decision: "allow", code: 200,
		uri: "/apis/apps/v1/namespaces/" + w.ns + "/deployments/" + w.name + "/status",
		ref: objectRef{resource: "deployments", namespace: w.ns, name: w.name, uid: string(a.uuid().bytes()), apiGroup: "apps", apiVersion: "v1", rv: a.rv(), subresource: "status"}}
	switch a.r.IntN(3) {
	case 0:
		ev.user = a.inv.controllers[2] // endpointslice-controller
		name := w.name + "-" + a.alnum(5)
		ev.uri = "/apis/discovery.k8s.io/v1/namespaces/" + w.ns + "/endpointslices/" + name
		ev.ref = objectRef{resource: "endpointslices", namespace: w.ns, name: name, uid: string(a.uuid().bytes()), apiGroup: "discovery.k8s.io", apiVersion: "v1", rv: a.rv()}
	case 1:
		ev.user = a.inv.controllers[0] // replicaset-controller
		name := w.name + "-" + w.templateHash
		ev.uri = "/apis/apps/v1/namespaces/" + w.ns + "/replicasets/" + name + "/status"
		ev.ref = objectRef{resource: "replicasets", namespace: w.ns, name: name, uid: string(a.uuid().bytes()), apiGroup: "apps", apiVersion: "v1", rv: a.rv(), subresource: "status"}
	}
	if a.chance(3) {
		a.failConflict(&ev)
	}
	a.request(&ev, 20, false, 0)
}

func (a *auditGen) podCreate() {
	p := a.pod()
	ev := auditEvent{level: "Request", verb: "create", user: a.inv.controllers[0], decision: "allow", code: 201, pod: p, req: bodyPod,
		uri: "/api/v1/namespaces/" + p.w.ns + "/pods", podSecurity: pick(a.r, []string{"baseline:latest", "restricted:latest", "privileged:latest"}),
		ref: objectRef{resource: "pods", namespace: p.w.ns, apiVersion: "v1"}}
	if p.w.kind == "StatefulSet" {
		ev.user = a.inv.controllers[4]
	} else if p.w.kind == "DaemonSet" {
		ev.user = a.inv.controllers[5]
	}
	a.request(&ev, 30, false, 0)
}

func (a *auditGen) podDelete() {
	p := a.pod()
	ev := auditEvent{level: "Metadata", verb: "delete", user: a.inv.controllers[0], decision: "allow", code: 200,
		uri: "/api/v1/namespaces/" + p.w.ns + "/pods/" + p.name,
		ref: objectRef{resource: "pods", namespace: p.w.ns, name: p.name, apiVersion: "v1"}}
	if a.chance(30) {
		ev.user = pick(a.r, a.inv.humans)
	}
	if a.chance(10) {
		a.failNotFound(&ev)
	}
	a.request(&ev, 30, false, 0)
}

// configMapApply writes a ConfigMap update with its data; execScript makes
// the data an entrypoint script and a runbook that contain the word exec.
func (a *auditGen) configMapApply(execScript bool) {
	w := pick(a.r, a.inv.workloads)
	user := a.inv.argocd
	if a.chance(40) {
		user = a.inv.ci
	}
	name := w.config
	if execScript {
		name = w.configScript
	}
	ev := auditEvent{level: "RequestResponse", verb: pick(a.r, []string{"update", "patch", "create"}), user: user, decision: "allow", code: 200,
		req: bodyConfigMap, resp: bodyConfigMap,
		uri: "/api/v1/namespaces/" + w.ns + "/configmaps/" + name + "?fieldManager=argocd-controller",
		ref: objectRef{resource: "configmaps", namespace: w.ns, name: name, apiVersion: "v1"}}
	if ev.verb == "create" {
		ev.code = 201
		ev.uri = "/api/v1/namespaces/" + w.ns + "/configmaps?fieldManager=kubectl-client-side-apply&fieldValidation=Strict"
	}
	a.request(&ev, 25, false, 0)
}

func (a *auditGen) deploymentPatch() {
	w := pick(a.r, a.inv.workloads)
	user := a.inv.argocd
	if a.chance(30) {
		user = a.inv.ci
	}
	ev := auditEvent{level: "Request", verb: "patch", user: user, decision: "allow", code: 200, req: bodyDeploymentPatch,
		uri: "/apis/apps/v1/namespaces/" + w.ns + "/deployments/" + w.name + "?fieldManager=argocd-controller",
		ref: objectRef{resource: "deployments", namespace: w.ns, name: w.name, apiGroup: "apps", apiVersion: "v1"}}
	ev.pod = pick(a.r, a.inv.pods)
	a.request(&ev, 25, false, 0)
}

func (a *auditGen) human() {
	user := pick(a.r, a.inv.humans)
	p := pick(a.r, a.inv.execTargets)
	ns := p.w.ns
	ev := auditEvent{level: "Metadata", user: user, decision: "allow", code: 200,
		ref: objectRef{resource: "pods", namespace: ns, apiVersion: "v1"}}
	switch a.r.IntN(6) {
	case 0:
		ev.verb, ev.uri = "list", "/api/v1/namespaces/"+ns+"/pods?limit=500"
	case 1:
		ev.verb, ev.uri, ev.ref.name = "get", "/api/v1/namespaces/"+ns+"/pods/"+p.name, p.name
	case 2:
		ev.verb, ev.ref.name, ev.ref.subresource = "get", p.name, "log"
		ev.uri = "/api/v1/namespaces/" + ns + "/pods/" + p.name + "/log?container=" + p.w.container + "&follow=true&tailLines=100"
		a.request(&ev, 30, true, 20+a.r.Int64N(800))
		return
	case 3:
		ev.verb, ev.uri = "get", "/apis/apps/v1/namespaces/"+ns+"/deployments/"+p.w.name
		ev.ref = objectRef{resource: "deployments", namespace: ns, name: p.w.name, apiGroup: "apps", apiVersion: "v1"}
	case 4:
		ev.verb, ev.uri = "list", "/api/v1/nodes?limit=500"
		ev.ref = objectRef{resource: "nodes", apiVersion: "v1"}
	default:
		ev.verb, ev.uri = "list", "/api/v1/namespaces/"+ns+"/events?fieldSelector=involvedObject.name%3D"+p.name+"%2CinvolvedObject.namespace%3D"+ns+"&limit=500"
		ev.ref = objectRef{resource: "events", namespace: ns, apiVersion: "v1"}
	}
	a.request(&ev, 30, false, 0)
}

func (a *auditGen) forbidden() {
	user := pick(a.r, a.inv.apps)
	res := pick(a.r, []string{"secrets", "pods", "nodes"})
	ev := auditEvent{level: "Metadata", verb: "list", user: user, code: 403,
		uri: "/api/v1/" + res + "?limit=500&resourceVersion=0",
		ref: objectRef{resource: res, apiVersion: "v1"}}
	if a.chance(40) {
		ev.user = pick(a.r, a.inv.humans)
		ev.verb, ev.ref.namespace, ev.ref.name = "get", "payments", "db-credentials"
		ev.ref.resource = "secrets"
		ev.uri = "/api/v1/namespaces/payments/secrets/db-credentials"
	}
	a.deny(&ev)
	a.request(&ev, 25, false, 0)
}

func (a *auditGen) conflict() {
	w := pick(a.r, a.inv.workloads)
	ev := auditEvent{level: "Metadata", verb: "create", user: a.inv.ci, decision: "allow", code: 409,
		uri:        "/api/v1/namespaces/" + w.ns + "/configmaps?fieldManager=kubectl-client-side-apply&fieldValidation=Strict",
		ref:        objectRef{resource: "configmaps", namespace: w.ns, name: w.config, apiVersion: "v1"},
		failReason: "AlreadyExists", failMessage: `configmaps "` + w.config + `" already exists`}
	a.request(&ev, 25, false, 0)
}

func (a *auditGen) secretRotate() {
	user := a.inv.certManager
	w := pick(a.r, a.inv.workloads)
	ev := auditEvent{level: "Metadata", verb: pick(a.r, []string{"get", "update", "patch"}), user: user, decision: "allow", code: 200,
		uri: "/api/v1/namespaces/" + w.ns + "/secrets/" + w.name + "-tls",
		ref: objectRef{resource: "secrets", namespace: w.ns, name: w.name + "-tls", apiVersion: "v1"}}
	if ev.verb != "get" {
		ev.ref.uid, ev.ref.rv = string(a.uuid().bytes()), a.rv()
	}
	a.request(&ev, 25, false, 0)
}

func (a *auditGen) failNotFound(ev *auditEvent) {
	ev.code, ev.failReason = 404, "NotFound"
	ev.failMessage = ev.ref.resource + ` "` + ev.ref.name + `" not found`
	if ev.level == "RequestResponse" {
		ev.resp = bodyStatus
	}
}

func (a *auditGen) failConflict(ev *auditEvent) {
	ev.code, ev.failReason = 409, "Conflict"
	group := ev.ref.resource
	if ev.ref.apiGroup != "" {
		group += "." + ev.ref.apiGroup
	}
	ev.failMessage = `Operation cannot be fulfilled on ` + group + ` "` + ev.ref.name + `": the object has been modified; please apply your changes to the latest version and try again`
	if ev.resp != bodyNone {
		ev.resp = bodyStatus
	}
}

// deny makes ev a request refused by RBAC.
func (a *auditGen) deny(ev *auditEvent) {
	ev.code, ev.decision, ev.reason, ev.failReason = 403, "forbid", "", "Forbidden"
	res := ev.ref.resource
	if ev.ref.subresource != "" {
		res += "/" + ev.ref.subresource
	}
	subject := ev.ref.resource
	if ev.ref.name != "" {
		subject += ` "` + ev.ref.name + `"`
	}
	verb := ev.verb
	scope := " at the cluster scope"
	if ev.ref.namespace != "" {
		scope = ` in the namespace "` + ev.ref.namespace + `"`
	}
	ev.failMessage = subject + ` is forbidden: User "` + ev.user.username + `" cannot ` + verb + ` resource "` + res + `" in API group "` + ev.ref.apiGroup + `"` + scope
	ev.resp = bodyNone
}

func nodeIndex(inv *inventory, n *node) int {
	for i, m := range inv.nodes {
		if m == n {
			return i
		}
	}
	return 0
}

// --- findings and decoys -------------------------------------------------

// execCommands are argv lists people run with kubectl exec; tty marks the
// interactive ones (kubectl exec -it).
var execCommands = []struct {
	argv []string
	tty  bool
}{
	{[]string{"bash"}, true},
	{[]string{"sh"}, true},
	{[]string{"/bin/sh"}, true},
	{[]string{"sh", "-c", "clear; (bash || ash || sh)"}, true},
	{[]string{"bash", "-il"}, true},
	{[]string{"cat", "/etc/passwd"}, false},
	{[]string{"env"}, false},
	{[]string{"sh", "-c", "curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/"}, false},
	{[]string{"tar", "cf", "-", "/var/lib/app/exports"}, false},
	{[]string{"ls", "-la", "/var/run/secrets/kubernetes.io/serviceaccount"}, false},
}

// execURI is the request URI of kubectl exec or attach as kubectl builds it.
func execURI(p *pod, sub string, argv []string, tty bool) string {
	var b strings.Builder
	b.WriteString("/api/v1/namespaces/")
	b.WriteString(p.w.ns)
	b.WriteString("/pods/")
	b.WriteString(p.name)
	b.WriteString("/")
	b.WriteString(sub)
	b.WriteString("?")
	for _, arg := range argv {
		b.WriteString("command=")
		b.WriteString(url.QueryEscape(arg))
		b.WriteString("&")
	}
	b.WriteString("container=")
	b.WriteString(p.w.container)
	if tty {
		b.WriteString("&stdin=true&stdout=true&tty=true")
	} else {
		b.WriteString("&stderr=true&stdout=true")
	}
	return b.String()
}

// finding writes one exec that seed rule 1 (verb create) or its WebSocket
// variant (verb get) reports: allowed, 2-3 stage events sharing the auditID.
func (a *auditGen) finding() {
	p := pick(a.r, a.inv.execTargets)
	user := pick(a.r, a.inv.humans)
	switch a.r.IntN(10) {
	case 0:
		user = a.inv.ci
	case 1:
		user = a.inv.admin
	}
	cmd := pick(a.r, execCommands)
	if user == a.inv.ci {
		cmd = execCommands[8] // kubectl cp: tar without a tty
	}
	ev := auditEvent{level: "Metadata", user: user, decision: "allow", code: 101, countFinding: true,
		uri: execURI(p, "exec", cmd.argv, cmd.tty),
		ref: objectRef{resource: "pods", namespace: p.w.ns, name: p.name, apiVersion: "v1", subresource: "exec"}}
	switch {
	case strings.HasPrefix(user.ua, "kubectl/v1.2"):
		ev.verb = "create" // SPDY
	case a.chance(25):
		// WebSocket upgrade refused on the way; kubectl falls back to SPDY
		// within milliseconds, under a new auditID.
		refused := ev
		refused.verb, refused.countFinding = "get", false
		a.deny(&refused)
		a.request(&refused, 50, false, 0)
		ev.verb = "create"
	default:
		ev.verb = "get" // kubectl 1.30+ WebSocket
	}
	if a.chance(8) && user == a.inv.admin {
		ev.impersonate = "system:serviceaccount:" + p.w.ns + ":" + p.w.sa
	}
	a.request(&ev, 50, true, 20+a.r.Int64N(1500))
}

// decoy writes one request that resembles an exec finding but must not
// match: a denied exec, attach, port-forward, kubectl debug, a ClusterRole
// granting pods/exec, or a ConfigMap whose data mentions exec.
func (a *auditGen) decoy() {
	p := pick(a.r, a.inv.execTargets)
	user := pick(a.r, a.inv.humans)
	ref := objectRef{resource: "pods", namespace: p.w.ns, name: p.name, apiVersion: "v1"}
	switch a.r.IntN(6) {
	case 0: // denied exec
		cmd := pick(a.r, execCommands)
		ev := auditEvent{level: "Metadata", user: user, verb: pick(a.r, []string{"create", "get"}), ref: ref,
			uri: execURI(p, "exec", cmd.argv, cmd.tty)}
		ev.ref.subresource = "exec"
		a.deny(&ev)
		a.request(&ev, 50, false, 0)
	case 1: // attach
		ev := auditEvent{level: "Metadata", user: user, verb: "create", decision: "allow", code: 101, ref: ref,
			uri: execURI(p, "attach", nil, true)}
		ev.ref.subresource = "attach"
		a.request(&ev, 50, true, 20+a.r.Int64N(800))
	case 2: // port-forward
		ev := auditEvent{level: "Metadata", user: user, verb: pick(a.r, []string{"create", "get"}), decision: "allow", code: 101, ref: ref,
			uri: "/api/v1/namespaces/" + p.w.ns + "/pods/" + p.name + "/portforward"}
		ev.ref.subresource = "portforward"
		if ev.verb == "get" {
			ev.uri += "?ports=" + strconv.Itoa(p.w.port)
		}
		a.request(&ev, 50, true, 20+a.r.Int64N(800))
	case 3: // kubectl debug: an ephemeral container, then an attach to it
		ev := auditEvent{level: "Request", user: user, verb: "patch", decision: "allow", code: 200, ref: ref, pod: p, req: bodyEphemeral,
			uri: "/api/v1/namespaces/" + p.w.ns + "/pods/" + p.name + "/ephemeralcontainers"}
		ev.ref.subresource = "ephemeralcontainers"
		a.request(&ev, 50, false, 0)
	case 4: // a ClusterRole that grants pods/exec
		ev := auditEvent{level: "RequestResponse", user: a.inv.admin, verb: "create", decision: "allow", code: 201,
			req: bodyClusterRole, resp: bodyClusterRole,
			uri: "/apis/rbac.authorization.k8s.io/v1/clusterroles?fieldManager=kubectl-create&fieldValidation=Strict",
			ref: objectRef{resource: "clusterroles", name: "debug-exec", apiGroup: "rbac.authorization.k8s.io", apiVersion: "v1"}}
		a.request(&ev, 50, false, 0)
	default: // a ConfigMap whose data contains "exec"
		a.configMapApply(true)
	}
}

// --- bodies ----------------------------------------------------------------

// body writes a requestObject or responseObject. The contents derive from
// ev.seed, not from the generator's stream, so that the layout never shifts
// what comes next.
func (a *auditGen) body(key string, kind bodyKind, ev *auditEvent, stageTS int64, ecs, response bool) {
	g, d := a.gen, &a.gen.d
	s := splitmix(ev.seed)
	d.obj(key)
	switch kind {
	case bodyLease:
		holder, duration := ev.ref.name, int64(40)
		if ev.ref.namespace != "kube-node-lease" {
			holder, duration = a.inv.controlPlane[s.intn(3)].name+"_"+string(s.uuid().bytes()), 15
		}
		d.str("kind", "Lease")
		d.str("apiVersion", "coordination.k8s.io/v1")
		if !ecs {
			d.obj("metadata")
			d.str("name", ev.ref.name)
			d.str("namespace", ev.ref.namespace)
			d.str("uid", ev.ref.uid)
			rv := ev.ref.rv
			if response {
				n, _ := strconv.ParseInt(rv, 10, 64)
				rv = strconv.FormatInt(n+1+int64(s.intn(40)), 10)
			}
			d.str("resourceVersion", rv)
			d.str("creationTimestamp", "2026-10-02T07:14:09Z")
			if ev.node != nil {
				d.raw("ownerReferences", `[{"apiVersion":"v1","kind":"Node","name":"`+ev.node.name+`","uid":"`+ev.node.uid+`"}]`)
			}
			d.key("managedFields")
			d.b = append(d.b, `[{"manager":"kubelet","operation":"Update","apiVersion":"coordination.k8s.io/v1","time":`...)
			d.b = g.tf.append(d.b, stageTS/1e6*1e6, 0)
			d.b = append(d.b, `,"fieldsType":"FieldsV1","fieldsV1":{"f:spec":{"f:holderIdentity":{},"f:leaseDurationSeconds":{},"f:renewTime":{}}}}]`...)
			d.end()
		}
		d.obj("spec")
		d.str("holderIdentity", holder)
		d.int("leaseDurationSeconds", duration)
		if duration == 15 {
			g.time("acquireTime", ev.received-int64(s.intn(86400))*1e6, 6)
		}
		g.time("renewTime", ev.received, 6)
		if duration == 15 {
			d.int("leaseTransitions", int64(s.intn(12)))
		}
		d.end()
	case bodyPod:
		p := ev.pod
		d.str("kind", "Pod")
		d.str("apiVersion", "v1")
		if !ecs {
			d.obj("metadata")
			d.str("generateName", p.w.name+"-"+p.w.templateHash+"-")
			d.str("namespace", p.w.ns)
			d.str("creationTimestamp", "")
			d.obj("labels")
			d.str("app.kubernetes.io/name", p.w.name)
			d.str("app.kubernetes.io/part-of", p.w.ns)
			d.str("pod-template-hash", p.w.templateHash)
			d.end()
			d.obj("annotations")
			d.str("kubectl.kubernetes.io/restartedAt", "2026-11-18T16:42:07Z")
			d.str("prometheus.io/scrape", "true")
			d.end()
			d.raw("ownerReferences", `[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"`+p.w.name+"-"+p.w.templateHash+`","uid":"`+string(s.uuid().bytes())+`","controller":true,"blockOwnerDeletion":true}]`)
			d.end()
		}
		d.obj("spec")
		d.raw("volumes", p.w.volumesJSON)
		d.raw("containers", p.w.containersJSON)
		d.str("restartPolicy", "Always")
		d.int("terminationGracePeriodSeconds", 30)
		d.str("dnsPolicy", "ClusterFirst")
		d.str("serviceAccountName", p.w.sa)
		d.str("serviceAccount", p.w.sa)
		d.obj("securityContext")
		d.int("runAsUser", 10001)
		d.int("fsGroup", 10001)
		d.obj("seccompProfile")
		d.str("type", "RuntimeDefault")
		d.end()
		d.end()
		d.str("schedulerName", "default-scheduler")
		d.raw("tolerations", `[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300},{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}]`)
		d.int("priority", 0)
		d.bool("enableServiceLinks", true)
		d.str("preemptionPolicy", "PreemptLowerPriority")
		d.end()
		if !ecs {
			d.raw("status", "{}")
		}
	case bodyPodStatus:
		p := ev.pod
		if !ecs {
			d.obj("metadata")
			d.str("uid", p.uid)
			d.end()
		}
		d.obj("status")
		d.raw("$setElementOrder/conditions", `[{"type":"PodReadyToStartContainers"},{"type":"Initialized"},{"type":"Ready"},{"type":"ContainersReady"},{"type":"PodScheduled"}]`)
		ready := s.intn(4) != 0
		status := "False"
		if ready {
			status = "True"
		}
		d.key("conditions")
		d.b = append(d.b, `[{"lastTransitionTime":`...)
		d.b = g.tf.append(d.b, stageTS/1e6*1e6, 0)
		d.b = append(d.b, `,"status":"`+status+`","type":"Ready"},{"lastTransitionTime":`...)
		d.b = g.tf.append(d.b, stageTS/1e6*1e6, 0)
		d.b = append(d.b, `,"status":"`+status+`","type":"ContainersReady"}]`...)
		d.key("containerStatuses")
		d.b = append(d.b, `[{"containerID":"containerd://`+p.containerID+`","image":"`+p.w.image+":"+p.w.tag+`","imageID":"`+p.w.image+"@"+p.w.imageHash+`","lastState":{},"name":"`+p.w.container+`","ready":`...)
		d.b = strconv.AppendBool(d.b, ready)
		d.b = append(d.b, `,"restartCount":`...)
		d.b = strconv.AppendInt(d.b, int64(s.intn(3)), 10)
		d.b = append(d.b, `,"started":true,"state":{"running":{"startedAt":`...)
		d.b = g.tf.append(d.b, p.init.start/1e6*1e6, 0)
		d.b = append(d.b, `}}}]`...)
		d.end()
	case bodyNodeStatus:
		d.obj("status")
		d.raw("$setElementOrder/conditions", `[{"type":"MemoryPressure"},{"type":"DiskPressure"},{"type":"PIDPressure"},{"type":"Ready"}]`)
		d.key("conditions")
		d.b = append(d.b, '[')
		for i, c := range []string{"MemoryPressure", "DiskPressure", "PIDPressure", "Ready"} {
			if i > 0 {
				d.b = append(d.b, ',')
			}
			d.b = append(d.b, `{"lastHeartbeatTime":`...)
			d.b = g.tf.append(d.b, stageTS/1e6*1e6, 0)
			d.b = append(d.b, `,"type":"`+c+`"}`...)
		}
		d.b = append(d.b, ']')
		d.end()
	case bodyEvent:
		p := ev.pod
		reason, typ, msg := eventMessage(p, s.intn(len(eventReasons)))
		d.str("kind", "Event")
		d.str("apiVersion", "v1")
		if !ecs {
			d.obj("metadata")
			d.str("name", ev.ref.name)
			d.str("namespace", ev.ref.namespace)
			d.str("creationTimestamp", "")
			d.end()
		}
		d.obj("involvedObject")
		d.str("kind", "Pod")
		d.str("namespace", p.w.ns)
		d.str("name", p.name)
		d.str("uid", p.uid)
		d.str("apiVersion", "v1")
		d.str("resourceVersion", strconv.FormatInt(p.rv, 10))
		d.str("fieldPath", "spec.containers{"+p.w.container+"}")
		d.end()
		d.str("reason", reason)
		d.str("message", msg)
		d.obj("source")
		d.str("component", "kubelet")
		d.str("host", p.node.name)
		d.end()
		g.time("firstTimestamp", ev.received/1e6*1e6-int64(s.intn(3600))*1e6, 0)
		g.time("lastTimestamp", ev.received/1e6*1e6, 0)
		d.int("count", int64(1+s.intn(40)))
		d.str("type", typ)
		if !ecs {
			d.raw("eventTime", "null")
		}
		d.str("reportingComponent", "kubelet")
		d.str("reportingInstance", p.node.name)
	case bodyToken:
		p := ev.pod
		d.str("kind", "TokenRequest")
		d.str("apiVersion", "authentication.k8s.io/v1")
		if !ecs {
			d.obj("metadata")
			d.raw("creationTimestamp", "null")
			d.end()
		}
		d.obj("spec")
		d.strs("audiences", "https://kubernetes.default.svc.cluster.local")
		d.int("expirationSeconds", 3607)
		d.obj("boundObjectRef")
		d.str("kind", "Pod")
		d.str("apiVersion", "v1")
		d.str("name", p.name)
		d.str("uid", p.uid)
		d.end()
		d.end()
		if !ecs {
			d.raw("status", `{"token":"","expirationTimestamp":null}`)
		}
	case bodyConfigMap:
		script := strings.HasSuffix(ev.ref.name, "-entrypoint")
		d.str("kind", "ConfigMap")
		d.str("apiVersion", "v1")
		if !ecs {
			d.obj("metadata")
			d.str("name", ev.ref.name)
			d.str("namespace", ev.ref.namespace)
			if response {
				d.str("uid", string(s.uuid().bytes()))
				d.str("resourceVersion", strconv.FormatInt(4_000_000+int64(s.intn(90_000_000)), 10))
				d.str("creationTimestamp", "2026-09-14T11:02:51Z")
			}
			d.obj("labels")
			d.str("app.kubernetes.io/instance", ev.ref.namespace+"-"+strings.TrimSuffix(strings.TrimSuffix(ev.ref.name, "-config"), "-entrypoint"))
			d.str("app.kubernetes.io/managed-by", "argocd")
			d.end()
			d.obj("annotations")
			d.str("argocd.argoproj.io/tracking-id", ev.ref.namespace+":/ConfigMap:"+ev.ref.namespace+"/"+ev.ref.name)
			d.end()
			d.end()
		}
		d.obj("data")
		if script {
			d.str("entrypoint.sh", "#!/bin/sh\nset -eu\n. /etc/app/env\n[ -n \"${MIGRATE:-}\" ] && /app/bin/migrate up\nexec /app/server --config /etc/app/config.yaml \"$@\"\n")
			d.str("RUNBOOK", "Debug a stuck worker: kubectl exec -it deploy/"+ev.ref.namespace+"-worker -- sh, then kill -QUIT 1 && tail /tmp/dump")
		} else {
			d.str("config.yaml", "server:\n  port: 8080\n  readTimeout: 15s\n  writeTimeout: 30s\nlog:\n  level: info\n  format: json\ndatabase:\n  host: ledger-0.ledger."+ev.ref.namespace+".svc.cluster.local\n  pool: "+strconv.Itoa(5+s.intn(40))+"\n")
			d.str("LOG_LEVEL", pick2(s, "info", "debug"))
			d.str("FEATURE_FLAGS", "checkout-v2,fast-cart,"+pick2(s, "beta-search", "ab-test-17"))
		}
		d.end()
	case bodyClusterRole:
		d.str("kind", "ClusterRole")
		d.str("apiVersion", "rbac.authorization.k8s.io/v1")
		if !ecs {
			d.obj("metadata")
			d.str("name", ev.ref.name)
			if response {
				d.str("uid", string(s.uuid().bytes()))
				d.str("resourceVersion", strconv.FormatInt(4_000_000+int64(s.intn(90_000_000)), 10))
				g.time("creationTimestamp", stageTS/1e6*1e6, 0)
			}
			d.end()
		}
		d.raw("rules", `[{"verbs":["get","list","watch"],"apiGroups":[""],"resources":["pods","pods/log"]},{"verbs":["create","get"],"apiGroups":[""],"resources":["pods/exec","pods/attach","pods/portforward"]}]`)
	case bodyDeploymentPatch:
		p := ev.pod
		d.obj("spec")
		if s.intn(2) == 0 {
			d.int("replicas", int64(2+s.intn(6)))
		} else {
			d.obj("template")
			if !ecs {
				d.obj("metadata")
				d.obj("annotations")
				g.time("kubectl.kubernetes.io/restartedAt", stageTS/1e6*1e6, 0)
				d.end()
				d.end()
			}
			d.obj("spec")
			d.raw("containers", `[{"name":"`+p.w.container+`","image":"`+p.w.image+":"+p.w.tag+`"}]`)
			d.end()
			d.end()
		}
		d.end()
	case bodyEphemeral:
		p := ev.pod
		if !ecs {
			d.obj("metadata")
			d.str("uid", p.uid)
			d.end()
		}
		d.obj("spec")
		d.raw("ephemeralContainers", `[{"name":"debugger-`+string(s.alnum(5))+`","image":"busybox:1.36","resources":{},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent","stdin":true,"tty":true,"targetContainerName":"`+p.w.container+`"}]`)
		d.end()
	case bodyStatus:
		d.str("kind", "Status")
		d.str("apiVersion", "v1")
		if !ecs {
			d.raw("metadata", "{}")
		}
		d.str("status", "Failure")
		d.str("message", ev.failMessage)
		d.str("reason", ev.failReason)
		d.obj("details")
		d.str("name", ev.ref.name)
		d.str("kind", ev.ref.resource)
		d.end()
		d.int("code", ev.code)
	}
	d.end()
}

var eventReasons = []struct{ reason, typ, msg string }{
	{"Pulled", "Normal", `Container image "%image" already present on machine`},
	{"Created", "Normal", "Created container %container"},
	{"Started", "Normal", "Started container %container"},
	{"Unhealthy", "Warning", `Readiness probe failed: Get "http://%ip:%port/healthz": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`},
	{"Unhealthy", "Warning", `Liveness probe errored: rpc error: code = Unknown desc = failed to exec in container: container is in CONTAINER_EXITED state`},
	{"BackOff", "Warning", "Back-off restarting failed container %container in pod %pod_%ns(%uid)"},
	{"Killing", "Normal", "Stopping container %container"},
}

func eventMessage(p *pod, i int) (reason, typ, msg string) {
	e := eventReasons[i]
	msg = strings.NewReplacer("%image", p.w.image+":"+p.w.tag, "%container", p.w.container, "%ip", p.ip,
		"%port", strconv.Itoa(p.w.port), "%pod", p.name, "%ns", p.w.ns, "%uid", p.uid).Replace(e.msg)
	return e.reason, e.typ, msg
}

// mix is a tiny deterministic random source derived from one seed, for
// body contents.
type mix struct{ state uint64 }

func splitmix(seed uint64) *mix { return &mix{seed} }

func (m *mix) next() uint64 {
	m.state += 0x9e3779b97f4a7c15
	z := m.state
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func (m *mix) intn(n int) int { return int(m.next() % uint64(n)) }

func (m *mix) uuid() uuid {
	var u uuid
	a, b := m.next(), m.next()
	const h = hexDigits
	j := 0
	for i := range u {
		switch i {
		case 8, 13, 18, 23:
			u[i] = '-'
			continue
		}
		var v uint64
		if j < 16 {
			v = a >> (4 * j)
		} else {
			v = b >> (4 * (j - 16))
		}
		u[i] = h[v&15]
		j++
	}
	u[14] = '4'
	return u
}

func (m *mix) alnum(n int) []byte {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[m.intn(len(alphabet))]
	}
	return b
}

func pick2(m *mix, a, b string) string {
	if m.intn(2) == 0 {
		return a
	}
	return b
}

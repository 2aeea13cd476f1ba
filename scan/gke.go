package scan

import (
	"strconv"
	"strings"

	"github.com/k8sexec/k8sexec/rules"
	"github.com/tidwall/gjson"
)

// gkeDoc is a GKE Cloud Audit Logs entry for a Kubernetes API call
// (protoPayload.serviceName "k8s.io"). GKE does not keep the audit.k8s.io
// Event; it logs a LogEntry whose protoPayload describes the call. The
// adapter maps it onto the raw audit fields, so the same rules run
// unmodified:
//
//	kubernetes.audit.verb                 last segment of protoPayload.methodName (io.k8s.core.v1.pods.exec.create)
//	kubernetes.audit.objectRef.*          parsed from protoPayload.resourceName (core/v1/namespaces/<ns>/pods/<pod>/exec)
//	kubernetes.audit.user.username        protoPayload.authenticationInfo.principalEmail
//	kubernetes.audit.sourceIPs            protoPayload.requestMetadata.callerIp
//	kubernetes.audit.userAgent            protoPayload.requestMetadata.callerSuppliedUserAgent
//	kubernetes.audit.annotations.<key>    labels, dedotted (authorization.k8s.io/decision, command.gke.io/command ...);
//	                                      without a decision label, protoPayload.authorizationInfo[0].granted
//	kubernetes.audit.responseStatus.code  protoPayload.status.code, a gRPC code, as HTTP (7 -> 403, 16 -> 401, ...)
//	kubernetes.audit.auditID              operation.id (the API server's audit ID), else insertId
//	kubernetes.audit.*Timestamp           timestamp
//	kubernetes.audit.requestObject        protoPayload.request; responseObject: protoPayload.response
//	orchestrator.cluster.name             resource.labels.cluster_name
//	orchestrator.cluster.id               resource.labels.project_id (as Elastic's integration sets it)
//	kubernetes.audit.protoPayload.*, .logName, .operation.*, .resource.*
//	                                      the entry's own members, kept under kubernetes.audit as
//	                                      Elastic's integration keeps them
//
// GKE records neither the stage, the request URI (so no container and no
// TTY or stdin flags) nor the user's groups; those fields are missing.
// Every other field is read under its own name (protoPayload.methodName).
type gkeDoc struct {
	root  gjson.Result
	audit *rawAuditDoc // the entry rewritten as an audit.k8s.io Event
	resolver
}

// isGKEAudit reports whether a protoPayload describes a Kubernetes API call.
func isGKEAudit(p gjson.Result) bool {
	return p.Get("serviceName").Str == "k8s.io" || strings.HasPrefix(p.Get("methodName").Str, "io.k8s.")
}

// gkeSynthesized lists the audit fields whose GKE values are not written
// verbatim in the entry; the prefilter must not demand their literals. The
// rest (verb, resource, names, user, address) are substrings of it.
var gkeSynthesized = map[string]bool{
	"kubernetes.audit.kind":                                      true,
	"kubernetes.audit.apiVersion":                                true,
	"kubernetes.audit.annotations.authorization_k8s_io/decision": true,
	"kubernetes.audit.responseStatus.code":                       true,
}

// grpcToHTTP maps the gRPC status codes GKE logs to the HTTP codes the API
// server returned.
var grpcToHTTP = map[int64]int{3: 400, 5: 404, 6: 409, 7: 403, 9: 422, 10: 409, 13: 500, 14: 503, 16: 401}

func newGKEDoc(root gjson.Result, r resolver) *gkeDoc {
	// The rewritten event is built with gjson's first-key reads; a
	// repeated key in a GKE entry is read as written first.
	p := root.Get("protoPayload")
	var b jsonBuilder
	b.open()
	b.str("kind", "Event")
	b.str("apiVersion", "audit.k8s.io/v1")
	// GKE keeps the API server's audit ID as the operation ID; insertId
	// (unique per log entry) stands in when there is none.
	auditID := root.Get("operation.id").Str
	if auditID == "" {
		auditID = root.Get("insertId").Str
	}
	b.str("auditID", auditID)
	method := p.Get("methodName").Str
	if i := strings.LastIndexByte(method, '.'); i >= 0 {
		b.str("verb", method[i+1:])
	}
	if user := p.Get("authenticationInfo.principalEmail").Str; user != "" {
		b.key("user")
		b.open()
		b.str("username", user)
		b.close()
	}
	if ip := p.Get("requestMetadata.callerIp").Str; ip != "" {
		b.key("sourceIPs")
		b.buf = append(b.buf, '[')
		b.buf = strconv.AppendQuote(b.buf, ip)
		b.buf = append(b.buf, ']')
	}
	b.str("userAgent", p.Get("requestMetadata.callerSuppliedUserAgent").Str)
	if ref := parseGKEResource(p.Get("resourceName").Str); ref.resource != "" {
		b.key("objectRef")
		b.open()
		b.str("resource", ref.resource)
		b.str("namespace", ref.namespace)
		b.str("name", ref.name)
		b.str("apiGroup", ref.group)
		b.str("apiVersion", ref.version)
		b.str("subresource", ref.subresource)
		b.close()
	}
	if code := p.Get("status.code"); code.Type == gjson.Number {
		if http, ok := grpcToHTTP[code.Int()]; ok {
			b.key("responseStatus")
			b.buf = append(b.buf, `{"code":`...)
			b.buf = strconv.AppendInt(b.buf, int64(http), 10)
			b.buf = append(b.buf, '}')
		}
	}
	ts := root.Get("timestamp").Str
	b.str("requestReceivedTimestamp", ts)
	b.str("stageTimestamp", ts)
	b.key("annotations")
	b.open()
	decision := false
	root.Get("labels").ForEach(func(k, v gjson.Result) bool {
		if v.Type == gjson.String {
			b.str(k.Str, v.Str)
			decision = decision || k.Str == "authorization.k8s.io/decision"
		}
		return true
	})
	if !decision {
		if g := p.Get("authorizationInfo.0.granted"); g.Type == gjson.True {
			b.str("authorization.k8s.io/decision", "allow")
		} else if g.Type == gjson.False {
			b.str("authorization.k8s.io/decision", "forbid")
		}
	}
	b.close()
	if req := p.Get("request"); req.IsObject() {
		b.raw("requestObject", req.Raw)
	}
	if resp := p.Get("response"); resp.IsObject() {
		b.raw("responseObject", resp.Raw)
	}
	b.close()
	return &gkeDoc{root: root, audit: &rawAuditDoc{root: gjson.ParseBytes(b.buf)}, resolver: r}
}

// gkeEntryMembers are the members of a GKE entry that Elastic's Kubernetes
// integration keeps as they are under kubernetes.audit
// (kubernetes.audit.protoPayload.methodName); none is an audit Event
// field, so they do not hide the mapped ones.
var gkeEntryMembers = map[string]bool{"protoPayload": true, "logName": true, "operation": true, "resource": true}

func (d *gkeDoc) Any(f *rules.Field, test func(gjson.Result) bool) bool {
	switch f.Name {
	case "orchestrator.cluster.name":
		return anyValue(d.root.Get("resource.labels.cluster_name"), nonEmpty(test))
	case "orchestrator.cluster.id":
		// As Elastic's integration sets it: the project.
		return anyValue(d.root.Get("resource.labels.project_id"), nonEmpty(test))
	}
	_, ecs := rawECSFields[f.Name]
	if !ecs && len(f.Segments) > 2 && f.Segments[0] == "kubernetes" && f.Segments[1] == "audit" && gkeEntryMembers[f.Segments[2]] {
		return d.anyPath(d.root, f.Segments[2:], test)
	}
	if ecs || len(f.Segments) > 2 && f.Segments[0] == "kubernetes" && f.Segments[1] == "audit" {
		return d.audit.Any(f, test)
	}
	return d.anyPath(d.root, f.Segments, test)
}

// gkeResource is a Kubernetes object named the way GKE names it:
// <group>/<version>/[namespaces/<ns>/]<resource>[/<name>[/<subresource>]],
// with the core group spelled "core".
type gkeResource struct {
	group, version, namespace, resource, name, subresource string
}

func parseGKEResource(s string) gkeResource {
	segs := strings.Split(s, "/")
	if len(segs) < 3 {
		return gkeResource{}
	}
	r := gkeResource{group: segs[0], version: segs[1]}
	if r.group == "core" {
		r.group = ""
	}
	rest := segs[2:]
	if len(rest) > 2 && rest[0] == "namespaces" {
		r.namespace, rest = rest[1], rest[2:]
	}
	r.resource = rest[0]
	if len(rest) > 1 {
		r.name = rest[1]
	}
	if len(rest) > 2 {
		r.subresource = strings.Join(rest[2:], "/")
	}
	if r.resource == "namespaces" && r.namespace == "" {
		r.namespace = r.name
	}
	return r
}

// jsonBuilder writes a small JSON object without reflection.
type jsonBuilder struct {
	buf   []byte
	first bool
}

func (b *jsonBuilder) open() {
	b.buf = append(b.buf, '{')
	b.first = true
}

func (b *jsonBuilder) close() {
	b.buf = append(b.buf, '}')
	b.first = false
}

func (b *jsonBuilder) key(k string) {
	if !b.first {
		b.buf = append(b.buf, ',')
	}
	b.first = false
	b.buf = appendJSONString(b.buf, k)
	b.buf = append(b.buf, ':')
}

// str writes a string member; empty values are left out, as the ingest
// pipeline drops them.
func (b *jsonBuilder) str(k, v string) {
	if v == "" {
		return
	}
	b.key(k)
	b.buf = appendJSONString(b.buf, v)
}

func (b *jsonBuilder) raw(k, v string) {
	b.key(k)
	b.buf = append(b.buf, v...)
}

func appendJSONString(dst []byte, s string) []byte {
	return append(dst, quoteJSON(s)...)
}

package scan

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// Benchmarks scan generated corpora (fixed seeds, built once per process,
// outside the timed loop) from standard input, so the numbers measure the
// engine and not the disk. b.SetBytes is the decompressed size: MB/s reads
// as log throughput.

const benchCorpusSize = 48 << 20

var (
	benchNamespaces = []string{"shop", "payments", "analytics", "kube-system", "monitoring", "ingress-nginx", "default"}
	benchNodes      = []string{"wk-eu1-a-7h2k", "wk-eu1-b-3m9q", "wk-eu1-c-5p1x", "wk-eu1-a-9z2f", "cp-eu1-1"}
	benchUsers      = []string{"alice@example.com", "bob@example.com", "system:serviceaccount:ci:deployer", "system:serviceaccount:monitoring:prometheus", "system:kube-scheduler"}
	benchResources  = []string{"pods", "configmaps", "secrets", "services", "endpoints", "deployments", "replicasets", "serviceaccounts"}
)

func benchUUID(r *rand.Rand) string {
	a, b := r.Uint64(), r.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", a>>32, a>>16&0xffff, a&0xfff, b>>48&0x3fff|0x8000, b&0xffffffffffff)
}

func benchTime(r *rand.Rand, i int) string {
	s := i / 50
	return fmt.Sprintf("2026-11-20T%02d:%02d:%02d.%06dZ", 8+s/3600%12, s/60%60, s%60, r.IntN(1000000))
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// genRawAudit writes kube-apiserver audit lines: leases, kubelet events,
// reads, lists and watches, token requests, controller updates, some of
// them Go-escaped, with an exec (verb create or get) every ~5000 lines.
func genRawAudit(size, execEvery int) []byte {
	r := rand.New(rand.NewPCG(0x5ca9, 1))
	var b bytes.Buffer
	b.Grow(size + 4096)
	for i := 0; b.Len() < size; i++ {
		ns, node, user := pick(r, benchNamespaces), pick(r, benchNodes), pick(r, benchUsers)
		ts := benchTime(r, i)
		var verb, uri, objRef, agent, reason string
		code := 200
		switch k := r.IntN(100); {
		case k < 30:
			verb, user = "update", "system:node:"+node
			uri = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/" + node + "?timeout=10s"
			objRef = fmt.Sprintf(`{"resource":"leases","namespace":"kube-node-lease","name":"%s","uid":"%s","apiGroup":"coordination.k8s.io","apiVersion":"v1","resourceVersion":"%d"}`, node, benchUUID(r), 4000000+r.IntN(999999))
			agent = "kubelet/v1.31.2 (linux/amd64) kubernetes/9a1c3e7"
		case k < 45:
			verb, user, code = "create", "system:node:"+node, 201
			uri = "/api/v1/namespaces/" + ns + "/events"
			objRef = fmt.Sprintf(`{"resource":"events","namespace":"%s","name":"api-%04x.%016x","apiVersion":"v1"}`, ns, r.IntN(65536), r.Uint64())
			agent = "kubelet/v1.31.2 (linux/amd64) kubernetes/9a1c3e7"
		case k < 75:
			res := pick(r, benchResources)
			verb = pick(r, []string{"get", "list", "watch"})
			uri = "/api/v1/namespaces/" + ns + "/" + res
			if verb == "watch" {
				uri += `?allowWatchBookmarks=true\u0026resourceVersion=` + fmt.Sprint(4000000+r.IntN(999999)) + `\u0026watch=true`
			}
			objRef = fmt.Sprintf(`{"resource":"%s","namespace":"%s","apiVersion":"v1"}`, res, ns)
			agent = "kube-controller-manager/v1.31.2 (linux/amd64) kubernetes/9a1c3e7/shared-informers"
			reason = `RBAC: allowed by ClusterRoleBinding \"system:controller\" of ClusterRole \"view\" to User \"` + user + `\"`
		case k < 85:
			verb, code = "create", 201
			uri = "/api/v1/namespaces/" + ns + "/serviceaccounts/default/token"
			objRef = fmt.Sprintf(`{"resource":"serviceaccounts","namespace":"%s","name":"default","apiVersion":"v1","subresource":"token"}`, ns)
			agent = "kubelet/v1.31.2 (linux/amd64) kubernetes/9a1c3e7"
		case k < 95:
			verb = pick(r, []string{"update", "patch"})
			uri = "/apis/apps/v1/namespaces/" + ns + "/deployments/api/status"
			objRef = fmt.Sprintf(`{"resource":"deployments","namespace":"%s","name":"api","apiGroup":"apps","apiVersion":"v1","subresource":"status"}`, ns)
			agent = "kube-controller-manager/v1.31.2 (linux/amd64) kubernetes/9a1c3e7/system:serviceaccount:kube-system:deployment-controller"
		default:
			verb = "patch"
			uri = "/api/v1/namespaces/" + ns + "/pods/api-7d9f-x2x4q/status"
			objRef = fmt.Sprintf(`{"resource":"pods","namespace":"%s","name":"api-7d9f-x2x4q","apiVersion":"v1","subresource":"status"}`, ns)
			agent = "kubelet/v1.31.2 (linux/amd64) kubernetes/9a1c3e7"
		}
		if r.IntN(execEvery) == 0 {
			verb, code = pick(r, []string{"create", "get"}), 101
			uri = "/api/v1/namespaces/" + ns + `/pods/api-1/exec?command=%2Fbin%2Fbash\u0026container=api\u0026stdin=true\u0026tty=true`
			objRef = fmt.Sprintf(`{"resource":"pods","namespace":"%s","name":"api-1","apiVersion":"v1","subresource":"exec"}`, ns)
			agent = "kubectl/v1.31.1 (linux/amd64) kubernetes/948afe5"
		}
		fmt.Fprintf(&b, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"%s","stage":"ResponseComplete","requestURI":"%s","verb":"%s","user":{"username":"%s","groups":["system:authenticated"]},"sourceIPs":["198.51.100.%d"],"userAgent":"%s","objectRef":%s,"responseStatus":{"metadata":{},"code":%d},"requestReceivedTimestamp":"%s","stageTimestamp":"%s","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"%s"}}`+"\n",
			benchUUID(r), uri, verb, user, r.IntN(256), agent, objRef, code, ts, ts, reason)
	}
	return b.Bytes()
}

// genECS writes Elastic-exported audit documents (nested ECS), with an
// exec every ~5000 lines.
func genECS(size, execEvery int) []byte {
	raw := genRawAudit(size*2/3, execEvery)
	r := rand.New(rand.NewPCG(0xec5, 2))
	var b bytes.Buffer
	b.Grow(size + 4096)
	for i, line := range bytes.Split(raw, []byte("\n")) {
		if len(line) == 0 || b.Len() >= size {
			break
		}
		ns := pick(r, benchNamespaces)
		// The ingest pipeline dedots annotation keys.
		line = bytes.ReplaceAll(line, []byte(`"authorization.k8s.io/`), []byte(`"authorization_k8s_io/`))
		fmt.Fprintf(&b, `{"@timestamp":"%s","agent":{"type":"filebeat","version":"8.15.3","name":"cp-eu1-1","id":"%s"},"data_stream":{"type":"logs","dataset":"kubernetes.audit_logs","namespace":"default"},"ecs":{"version":"8.11.0"},"event":{"dataset":"kubernetes.audit_logs","module":"kubernetes"},"host":{"name":"cp-eu1-1"},"log":{"file":{"path":"/var/log/kubernetes/audit/kube-apiserver-audit.log"},"offset":%d},"kubernetes":{"audit":%s},"orchestrator":{"type":"kubernetes","cluster":{"name":"prod-eu1"},"namespace":"%s"}}`+"\n",
			benchTime(r, i), benchUUID(r), r.IntN(1<<30), line, ns)
	}
	return b.Bytes()
}

// genProcess writes Defend for Containers process events: forks, execs and
// ends of probes, workers and shells, with an interactive entry leader
// every ~2000 lines.
func genProcess(size, execEvery int) []byte {
	r := rand.New(rand.NewPCG(0x9c0c, 3))
	var b bytes.Buffer
	b.Grow(size + 4096)
	execs := []string{"/bin/sh", "/usr/bin/wget", "/usr/sbin/nginx", "/usr/bin/python3", "/bin/ls", "/usr/bin/pg_isready"}
	for i := 0; b.Len() < size; i++ {
		exe := pick(r, execs)
		typ := pick(r, []string{"start", "end", "start"})
		action := map[string]string{"start": pick(r, []string{"fork", "exec"}), "end": "end"}[typ]
		interactive := "false"
		same := pick(r, []string{"true", "false", "false"})
		if r.IntN(execEvery) == 0 {
			exe, typ, action, interactive, same = "/bin/bash", "start", "exec", "true", "true"
		}
		id := fmt.Sprintf("%016x%016x", r.Uint64(), r.Uint64())
		ns := pick(r, benchNamespaces)
		fmt.Fprintf(&b, `{"@timestamp":"%s","event":{"kind":"event","category":["process"],"type":["%s"],"action":"%s","dataset":"cloud_defend.process","id":"%s"},"data_stream":{"type":"logs","dataset":"cloud_defend.process","namespace":"default"},"container":{"id":"%016x%016x","name":"api","image":{"name":"registry.example.com/shop/api","tag":"1.4.2"},"runtime":"containerd"},"orchestrator":{"cluster":{"name":"prod-eu1"},"namespace":"%s","resource":{"type":"pod","name":"api-7d9f-x2x4q"}},"host":{"name":"%s"},"user":{"id":"%d"},"process":{"entity_id":"%s","pid":%d,"name":"%s","executable":"%s","args":["%s","-c","true"],"interactive":%s,"parent":{"entity_id":"%016x","pid":%d,"name":"runc","executable":"/usr/bin/runc"},"entry_leader":{"entity_id":"%s","pid":%d,"name":"%s","executable":"%s","interactive":%s,"same_as_process":%s,"entry_meta":{"type":"container"}}}}`+"\n",
			benchTime(r, i), typ, action, benchUUID(r), r.Uint64(), r.Uint64(), ns, pick(r, benchNodes), r.IntN(2)*1000,
			id, r.IntN(1<<22), exe[strings.LastIndexByte(exe, '/')+1:], exe, exe, interactive, r.Uint64(), r.IntN(1<<22),
			id, r.IntN(1<<22), exe[strings.LastIndexByte(exe, '/')+1:], exe, interactive, same)
	}
	return b.Bytes()
}

var (
	benchRaw     = sync.OnceValue(func() []byte { return genRawAudit(benchCorpusSize, 5000) })
	benchECSData = sync.OnceValue(func() []byte { return genECS(benchCorpusSize, 5000) })
	benchProc    = sync.OnceValue(func() []byte { return genProcess(benchCorpusSize, 2000) })
	benchGzip    = sync.OnceValue(func() []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(benchRaw())
		zw.Close()
		return b.Bytes()
	})
)

// benchScan scans stream from standard input b.N times. plainSize is the
// decompressed size; minEvents guards against a corpus that stopped
// matching.
func benchScan(b *testing.B, stream []byte, plainSize int, opts Options, minEvents int) {
	b.Helper()
	opts.Rules = builtinRules(b)
	b.SetBytes(int64(plainSize))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		opts.Stdin = bytes.NewReader(stream)
		res, err := Scan(context.Background(), []Input{{Name: Stdin}}, opts)
		if err != nil {
			b.Fatal(err)
		}
		if st := res.Inputs[0]; st.Err != nil || st.Malformed != 0 || st.Bytes != int64(plainSize) || len(res.Events) < minEvents {
			b.Fatalf("unexpected result: %d events, stats %+v", len(res.Events), st)
		}
	}
}

func BenchmarkScanRawAudit(b *testing.B) {
	data := benchRaw()
	benchScan(b, data, len(data), Options{}, 5)
}

func BenchmarkScanECS(b *testing.B) {
	data := benchECSData()
	benchScan(b, data, len(data), Options{}, 3)
}

func BenchmarkScanProcess(b *testing.B) {
	data := benchProc()
	benchScan(b, data, len(data), Options{}, 5)
}

func BenchmarkScanGzip(b *testing.B) {
	benchScan(b, benchGzip(), len(benchRaw()), Options{}, 5)
}

// BenchmarkScanNoPrefilter is the worst case: every line is parsed and
// every rule evaluated.
func BenchmarkScanNoPrefilter(b *testing.B) {
	data := benchRaw()
	benchScan(b, data, len(data), Options{NoPrefilter: true}, 5)
}

// TestBenchCorporaAreValid keeps the generators honest without running
// the benchmarks: small corpora parse, and the rare events match.
func TestBenchCorporaAreValid(t *testing.T) {
	rs := builtinRules(t)
	for name, data := range map[string][]byte{
		"raw":     genRawAudit(2<<20, 200),
		"ecs":     genECS(2<<20, 200),
		"process": genProcess(2<<20, 200),
	} {
		res := scanString(t, string(data), Options{Rules: rs, NoPrefilter: true})
		st := res.Inputs[0]
		if st.Malformed != 0 || st.Events != st.Lines || st.Lines == 0 {
			t.Errorf("%s: %d of %d lines malformed; first problems %+v", name, st.Malformed, st.Lines, res.Problems)
		}
		if len(res.Events) == 0 || len(res.Events) > int(st.Lines/50) {
			t.Errorf("%s: %d matches in %d lines, want rare matches", name, len(res.Events), st.Lines)
		}
		t.Logf("%s: %d lines, %d matches, shapes %v", name, st.Lines, len(res.Events), st.Shapes)
	}
}

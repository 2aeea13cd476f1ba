package corpus

import (
	"encoding/base64"
	"math/rand/v2"
	"strconv"
)

// inventory is the simulated cluster, drawn once per seed: nodes, workloads
// with their pods and containers, and the principals that call the API.
type inventory struct {
	cluster      string
	nodes        []*node
	controlPlane []*node
	workloads    []*workload
	pods         []*pod
	execTargets  []*pod // pods people exec into (not kube-system)

	kubelets    []*principal // parallel to nodes
	kcm         *principal
	scheduler   *principal
	controllers []*principal
	apps        []*principal // service accounts of workloads, with pod-bound tokens
	ci          *principal
	argocd      *principal
	ingress     *principal
	certManager *principal
	humans      []*principal
	admin       *principal
	anonymous   *principal
}

type node struct {
	name, ip, uid string
	agentID       string // its Defend for Containers agent
}

// workload is a Deployment, StatefulSet or DaemonSet and what its
// containers run.
type workload struct {
	ns, name, kind       string
	container            string
	image, tag           string
	sa                   string
	replicas             int
	port                 int
	exe                  string
	args                 []string
	wd                   string
	userID, userName     string
	forks                bool       // the main process forks copies of itself (workers)
	spawns               [][]string // commands the main process runs; spawns[i][0] is the executable
	probe                []string   // exec liveness probe argv; nil for HTTP probes
	entryType            string     // entry_meta.type of the main process: init, or sshd for an SSH server
	templateHash         string
	containersJSON       string // spec.containers as JSON
	volumesJSON          string
	cpuLimit, memLimit   string
	imageHash            string
	config, configScript string // configmap names
}

type pod struct {
	w           *workload
	name, uid   string
	ip          string
	node        *node
	containerID string
	rv          int64
	init        procRef // the container's first process
}

type principal struct {
	username, uid string
	groups        []string
	extra         [][2]string // user.extra of pod-bound service account tokens
	ua            string
	ip            string
	reason        string // authorization.k8s.io/reason when allowed
	reasonTail    string // when set, the reason names a RoleBinding: reason + namespace + reasonTail
	ns            string // home namespace of a service account
}

// allowReason is the RBAC reason annotation of an allowed request in ns.
func (p *principal) allowReason(ns string) string {
	if p.reasonTail == "" {
		return p.reason
	}
	if ns == "" {
		ns = "default"
	}
	return p.reason + ns + p.reasonTail
}

var workloadSpecs = []workload{
	{ns: "shop", name: "api", kind: "Deployment", container: "api", image: "registry.example.com/shop/api", tag: "1.4.2", replicas: 3, port: 8080,
		exe: "/app/api", args: []string{"/app/api", "--config", "/etc/api/config.yaml"}, wd: "/app", userID: "10001", userName: "app",
		spawns: [][]string{{"/bin/sh", "-c", "/app/bin/migrate --check"}, {"/usr/bin/curl", "-sf", "http://localhost:8080/internal/warmup"}}},
	{ns: "shop", name: "web", kind: "Deployment", container: "nginx", image: "nginx", tag: "1.27.2", replicas: 3, port: 80,
		exe: "/usr/sbin/nginx", args: []string{"nginx", "-g", "daemon off;"}, wd: "/", userID: "0", userName: "root", forks: true},
	{ns: "shop", name: "cart", kind: "StatefulSet", container: "redis", image: "redis", tag: "7.4.1", replicas: 2, port: 6379,
		exe: "/usr/local/bin/redis-server", args: []string{"redis-server", "/etc/redis/redis.conf"}, wd: "/data", userID: "999", userName: "redis", forks: true,
		probe: []string{"/usr/local/bin/redis-cli", "ping"}},
	{ns: "shop", name: "checkout", kind: "Deployment", container: "checkout", image: "registry.example.com/shop/checkout", tag: "3.2.0", replicas: 2, port: 8000,
		exe: "/usr/local/bin/python3.12", args: []string{"python3.12", "-m", "gunicorn", "checkout.wsgi:app", "--workers", "4", "--bind", "0.0.0.0:8000"}, wd: "/srv", userID: "1000", userName: "app", forks: true,
		spawns: [][]string{{"/bin/sh", "-c", "uname -p 2> /dev/null"}, {"/usr/bin/ldconfig", "-p"}}},
	{ns: "payments", name: "ledger", kind: "StatefulSet", container: "postgres", image: "postgres", tag: "16.4", replicas: 2, port: 5432,
		exe: "/usr/lib/postgresql/16/bin/postgres", args: []string{"postgres", "-c", "config_file=/etc/postgresql/postgresql.conf"}, wd: "/var/lib/postgresql/data", userID: "999", userName: "postgres", forks: true,
		probe: []string{"/usr/bin/pg_isready", "-U", "postgres", "-h", "127.0.0.1", "-p", "5432"}},
	{ns: "payments", name: "gateway", kind: "Deployment", container: "gateway", image: "registry.example.com/payments/gateway", tag: "2.9.0", replicas: 3, port: 8443,
		exe: "/opt/java/openjdk/bin/java", args: []string{"java", "-XX:MaxRAMPercentage=75", "-jar", "/app/gateway.jar"}, wd: "/app", userID: "185", userName: "jboss",
		probe: []string{"/bin/sh", "-c", "test -f /tmp/ready"}},
	{ns: "analytics", name: "ingest", kind: "Deployment", container: "ingest", image: "registry.example.com/analytics/ingest", tag: "0.18.3", replicas: 2, port: 9000,
		exe: "/usr/local/bin/python3.11", args: []string{"python3.11", "/opt/ingest/main.py", "--queue", "events"}, wd: "/opt/ingest", userID: "1000", userName: "ingest",
		spawns: [][]string{{"/usr/bin/gzip", "-d", "-c", "/tmp/batch.json.gz"}, {"/bin/sh", "-c", "df -h /tmp"}}},
	{ns: "analytics", name: "sftp", kind: "Deployment", container: "sftp", image: "atmoz/sftp", tag: "alpine-3.19", replicas: 1, port: 22,
		exe: "/usr/sbin/sshd", args: []string{"/usr/sbin/sshd", "-D", "-e"}, wd: "/", userID: "0", userName: "root", forks: true, entryType: "sshd",
		spawns: [][]string{{"/usr/lib/ssh/sftp-server"}, {"/usr/lib/ssh/sftp-server", "-l", "INFO"}}},
	{ns: "kube-system", name: "coredns", kind: "Deployment", container: "coredns", image: "registry.k8s.io/coredns/coredns", tag: "v1.11.3", replicas: 2, port: 53,
		exe: "/coredns", args: []string{"/coredns", "-conf", "/etc/coredns/Corefile"}, wd: "/", userID: "65532", userName: "nonroot"},
	{ns: "kube-system", name: "kube-proxy", kind: "DaemonSet", container: "kube-proxy", image: "registry.k8s.io/kube-proxy", tag: "v1.31.2", replicas: 4,
		exe: "/usr/local/bin/kube-proxy", args: []string{"/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf", "--hostname-override=$(NODE_NAME)"}, wd: "/", userID: "0", userName: "root",
		spawns: [][]string{{"/usr/sbin/iptables-save", "-t", "nat"}, {"/usr/sbin/iptables-restore", "-w", "5", "--noflush", "--counters"}, {"/usr/sbin/ip6tables-save", "-t", "filter"}}},
	{ns: "kube-system", name: "metrics-server", kind: "Deployment", container: "metrics-server", image: "registry.k8s.io/metrics-server/metrics-server", tag: "v0.7.2", replicas: 1, port: 10250,
		exe: "/metrics-server", args: []string{"/metrics-server", "--cert-dir=/tmp", "--secure-port=10250", "--kubelet-preferred-address-types=InternalIP"}, wd: "/", userID: "65534", userName: "nobody"},
	{ns: "monitoring", name: "prometheus", kind: "StatefulSet", container: "prometheus", image: "quay.io/prometheus/prometheus", tag: "v2.54.1", replicas: 2, port: 9090,
		exe: "/bin/prometheus", args: []string{"/bin/prometheus", "--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus", "--storage.tsdb.retention.time=15d"}, wd: "/prometheus", userID: "65534", userName: "nobody"},
	{ns: "monitoring", name: "node-exporter", kind: "DaemonSet", container: "node-exporter", image: "quay.io/prometheus/node-exporter", tag: "v1.8.2", replicas: 4, port: 9100,
		exe: "/bin/node_exporter", args: []string{"/bin/node_exporter", "--path.rootfs=/host", "--web.listen-address=:9100"}, wd: "/", userID: "65534", userName: "nobody"},
	{ns: "monitoring", name: "grafana", kind: "Deployment", container: "grafana", image: "grafana/grafana", tag: "11.2.2", replicas: 1, port: 3000,
		exe: "/usr/share/grafana/bin/grafana", args: []string{"grafana", "server", "--homepath=/usr/share/grafana", "--config=/etc/grafana/grafana.ini"}, wd: "/usr/share/grafana", userID: "472", userName: "grafana"},
	{ns: "ingress-nginx", name: "ingress-nginx-controller", kind: "Deployment", container: "controller", image: "registry.k8s.io/ingress-nginx/controller", tag: "v1.11.3", replicas: 2, port: 443,
		exe: "/nginx-ingress-controller", args: []string{"/nginx-ingress-controller", "--publish-service=$(POD_NAMESPACE)/ingress-nginx-controller", "--election-id=ingress-nginx-leader", "--controller-class=k8s.io/ingress-nginx"}, wd: "/etc/nginx", userID: "101", userName: "www-data",
		spawns: [][]string{{"/usr/bin/nginx", "-c", "/tmp/nginx/nginx-cfg3871264", "-t"}, {"/usr/bin/nginx", "-s", "reload"}},
		probe:  []string{"/usr/bin/test", "-f", "/tmp/nginx/nginx.pid"}},
	{ns: "argocd", name: "argocd-repo-server", kind: "Deployment", container: "argocd-repo-server", image: "quay.io/argoproj/argocd", tag: "v2.12.4", replicas: 2, port: 8081,
		exe: "/usr/local/bin/argocd-repo-server", args: []string{"/usr/local/bin/argocd-repo-server", "--port=8081", "--metrics-port=8084"}, wd: "/home/argocd", userID: "999", userName: "argocd",
		spawns: [][]string{{"/usr/bin/git", "fetch", "origin", "--tags", "--force", "--prune"}, {"/usr/bin/git", "ls-remote", "https://git.example.com/platform/deploy.git"}, {"/usr/local/bin/kustomize", "build", "/tmp/_argocd-repo/overlays/prod"}, {"/usr/local/bin/helm", "template", ".", "--namespace", "shop"}}},
	{ns: "ci", name: "runner", kind: "Deployment", container: "runner", image: "gitlab/gitlab-runner", tag: "alpine-v17.4.0", replicas: 2, port: 9252,
		exe: "/usr/bin/gitlab-runner", args: []string{"/usr/bin/gitlab-runner", "run", "--user=gitlab-runner", "--working-directory=/home/gitlab-runner"}, wd: "/home/gitlab-runner", userID: "100", userName: "gitlab-runner",
		spawns: [][]string{{"/bin/sh", "-c", "if [ -x /usr/local/bin/bash ]; then exec /usr/local/bin/bash; fi"}, {"/usr/bin/git", "clone", "--depth", "20", "https://git.example.com/shop/api.git"}, {"/usr/local/go/bin/go", "test", "./..."}}},
	{ns: "cert-manager", name: "cert-manager", kind: "Deployment", container: "cert-manager-controller", image: "quay.io/jetstack/cert-manager-controller", tag: "v1.15.3", replicas: 1, port: 9402,
		exe: "/app/cmd/controller/controller", args: []string{"/app/cmd/controller/controller", "--v=2", "--leader-election-namespace=kube-system"}, wd: "/", userID: "1000", userName: "cert-manager"},
	{ns: "logging", name: "fluent-bit", kind: "DaemonSet", container: "fluent-bit", image: "cr.fluentbit.io/fluent/fluent-bit", tag: "3.1.9", replicas: 4, port: 2020,
		exe: "/fluent-bit/bin/fluent-bit", args: []string{"/fluent-bit/bin/fluent-bit", "-c", "/fluent-bit/etc/conf/fluent-bit.conf"}, wd: "/", userID: "0", userName: "root"},
}

func newInventory(r *rand.Rand) *inventory {
	g := &gen{r: r} // for the helpers; the caller's rand
	inv := &inventory{cluster: "prod-eu1"}
	zones := []string{"a", "b", "c"}
	for i := range 12 {
		n := &node{
			name: "wk-eu1-" + zones[i%3] + "-" + g.alnum(4),
			ip:   "10.0." + strconv.Itoa(16+i%3*16) + "." + strconv.Itoa(10+r.IntN(240)),
		}
		n.uid, n.agentID = string(g.uuid().bytes()), string(g.uuid().bytes())
		inv.nodes = append(inv.nodes, n)
	}
	for i := range 3 {
		n := &node{name: "cp-eu1-" + strconv.Itoa(i+1), ip: "10.0.0." + strconv.Itoa(10+i)}
		n.uid, n.agentID = string(g.uuid().bytes()), string(g.uuid().bytes())
		inv.controlPlane = append(inv.controlPlane, n)
	}

	podIP := 0
	for i := range workloadSpecs {
		w := new(workload)
		*w = workloadSpecs[i]
		if w.sa == "" {
			w.sa = w.name
		}
		if w.entryType == "" {
			w.entryType = "init"
		}
		w.templateHash = g.alnum(10)
		w.imageHash = "sha256:" + g.hex(64)
		w.cpuLimit = pick(r, []string{"250m", "500m", "1", "2"})
		w.memLimit = pick(r, []string{"256Mi", "512Mi", "1Gi", "2Gi"})
		w.config, w.configScript = w.name+"-config", w.name+"-entrypoint"
		w.containersJSON = containersJSON(w)
		w.volumesJSON = volumesJSON(w, g.alnum(5))
		inv.workloads = append(inv.workloads, w)
		for j := range w.replicas {
			p := &pod{w: w, uid: string(g.uuid().bytes()), containerID: g.hex(64), rv: 4_000_000 + r.Int64N(9_000_000)}
			switch w.kind {
			case "StatefulSet":
				p.name = w.name + "-" + strconv.Itoa(j)
			case "DaemonSet":
				p.name = w.name + "-" + g.alnum(5)
			default:
				p.name = w.name + "-" + w.templateHash + "-" + g.alnum(5)
			}
			if w.kind == "DaemonSet" {
				p.node = inv.nodes[j*len(inv.nodes)/w.replicas]
			} else {
				p.node = pick(r, inv.nodes)
			}
			podIP++
			p.ip = "10.244." + strconv.Itoa(podIP/200) + "." + strconv.Itoa(2+podIP%200)
			start := baseTime - (3600+r.Int64N(30*86400))*1e6
			p.init = procRef{
				entityID:    g.entityID(),
				pid:         int64(1000 + r.IntN(3_000_000)),
				name:        baseName(w.exe),
				executable:  w.exe,
				args:        w.args,
				start:       start,
				interactive: false,
			}
			inv.pods = append(inv.pods, p)
			if w.ns != "kube-system" && w.ns != "logging" {
				inv.execTargets = append(inv.execTargets, p)
			}
		}
	}

	const kubeletUA = "kubelet/v1.31.2 (linux/amd64) kubernetes/9a1c3e7"
	for _, n := range inv.nodes {
		inv.kubelets = append(inv.kubelets, &principal{
			username: "system:node:" + n.name, groups: []string{"system:nodes", "system:authenticated"},
			ua: kubeletUA, ip: n.ip,
		})
	}
	cp := inv.controlPlane[0].ip
	inv.kcm = &principal{username: "system:kube-controller-manager", groups: []string{"system:authenticated"},
		ua: "kube-controller-manager/v1.31.2 (linux/amd64) kubernetes/9a1c3e7/leader-election", ip: cp,
		reason: `RBAC: allowed by ClusterRoleBinding "system:kube-controller-manager" of ClusterRole "system:kube-controller-manager" to User "system:kube-controller-manager"`}
	inv.scheduler = &principal{username: "system:kube-scheduler", groups: []string{"system:authenticated"},
		ua: "kube-scheduler/v1.31.2 (linux/amd64) kubernetes/9a1c3e7/scheduler", ip: cp,
		reason: `RBAC: allowed by ClusterRoleBinding "system:kube-scheduler" of ClusterRole "system:kube-scheduler" to User "system:kube-scheduler"`}
	for _, c := range []string{"replicaset-controller", "deployment-controller", "endpointslice-controller", "generic-garbage-collector", "statefulset-controller", "daemon-set-controller", "namespace-controller", "resourcequota-controller"} {
		sa := "system:serviceaccount:kube-system:" + c
		inv.controllers = append(inv.controllers, &principal{
			username: sa, uid: string(g.uuid().bytes()),
			groups: []string{"system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"},
			ua:     "kube-controller-manager/v1.31.2 (linux/amd64) kubernetes/9a1c3e7/" + sa, ip: cp, ns: "kube-system",
			reason: `RBAC: allowed by ClusterRoleBinding "system:controller:` + c + `" of ClusterRole "system:controller:` + c + `" to ServiceAccount "` + c + `/kube-system"`,
		})
	}
	appUA := map[string]string{
		"prometheus":               "Prometheus/2.54.1",
		"coredns":                  "coredns/v1.11.3 (linux/amd64) kubernetes/$Format",
		"ingress-nginx-controller": "nginx-ingress-controller/v1.11.3 (linux/amd64) ingress-nginx/2c3e1a5f6d7e8b9c",
		"cert-manager":             "cert-manager-controller/v1.15.3 (linux/amd64) cert-manager/2a0ef53b06e183356d922cd58af2510d8885bef5",
		"fluent-bit":               "fluent-bit/3.1.9",
		"metrics-server":           "metrics-server/v0.7.2 (linux/amd64) kubernetes/$Format",
		"argocd-repo-server":       "argocd-application-controller/v2.12.4+27d1e64 (linux/amd64) kubernetes/$Format",
		"grafana":                  "Go-http-client/2.0",
	}
	for _, w := range inv.workloads { // slice order, not map order
		ua, ok := appUA[w.name]
		if !ok {
			continue
		}
		var p *pod
		for _, q := range inv.pods {
			if q.w == w {
				p = q
				break
			}
		}
		sa := "system:serviceaccount:" + w.ns + ":" + w.sa
		inv.apps = append(inv.apps, &principal{
			username: sa, uid: string(g.uuid().bytes()),
			groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + w.ns, "system:authenticated"},
			extra: [][2]string{
				{"authentication.kubernetes.io/credential-id", "JTI=" + string(g.uuid().bytes())},
				{"authentication.kubernetes.io/node-name", p.node.name},
				{"authentication.kubernetes.io/pod-name", p.name},
				{"authentication.kubernetes.io/pod-uid", p.uid},
			},
			ua: ua, ip: p.ip, ns: w.ns,
			reason: `RBAC: allowed by ClusterRoleBinding "` + w.sa + `" of ClusterRole "` + w.sa + `" to ServiceAccount "` + w.sa + "/" + w.ns + `"`,
		})
	}
	for _, a := range inv.apps {
		switch a.ns {
		case "argocd":
			inv.argocd = a
		case "ingress-nginx":
			inv.ingress = a
		case "cert-manager":
			inv.certManager = a
		}
	}
	inv.ci = &principal{username: "system:serviceaccount:ci:deployer", uid: string(g.uuid().bytes()),
		groups: []string{"system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"},
		ua:     "kubectl/v1.31.1 (linux/amd64) kubernetes/948afe5", ip: "10.244.3.17", ns: "ci",
		reason: `RBAC: allowed by ClusterRoleBinding "ci-deployer" of ClusterRole "edit" to ServiceAccount "deployer/ci"`}
	for _, h := range []struct{ name, group, ip, ua string }{
		{"alice@example.com", "oidc:sre", "203.0.113.9", "kubectl/v1.31.1 (linux/amd64) kubernetes/948afe5"},
		{"bob@example.com", "oidc:devs", "198.51.100.23", "kubectl/v1.29.3 (darwin/arm64) kubernetes/6813625"},
		{"carol@example.com", "oidc:devs", "198.51.100.71", "k9s/v0.32.5 (darwin/arm64) kubernetes/$Format"},
		{"dave@example.com", "oidc:payments", "10.8.0.14", "kubectl/v1.32.0 (linux/amd64) kubernetes/70d3cc9"},
	} {
		inv.humans = append(inv.humans, &principal{
			username: h.name, groups: []string{h.group, "system:authenticated"}, ua: h.ua, ip: h.ip,
			reason:     `RBAC: allowed by RoleBinding "` + h.group[5:] + `-edit/`,
			reasonTail: `" of ClusterRole "edit" to Group "` + h.group + `"`,
		})
	}
	inv.admin = &principal{username: "kubernetes-admin", groups: []string{"kubeadm:cluster-admins", "system:authenticated"},
		ua: "kubectl/v1.28.4 (linux/amd64) kubernetes/bae2c62", ip: "192.0.2.44",
		reason: `RBAC: allowed by ClusterRoleBinding "kubeadm:cluster-admins" of ClusterRole "cluster-admin" to Group "kubeadm:cluster-admins"`}
	inv.anonymous = &principal{username: "system:anonymous", groups: []string{"system:unauthenticated"},
		ua: "kube-probe/1.31", ip: inv.controlPlane[1].ip}
	return inv
}

func (u uuid) bytes() []byte { return u[:] }

// entityID imitates Elastic's process.entity_id: base64 of opaque bytes.
func (g *gen) entityID() string {
	var raw [24]byte
	for i := 0; i < len(raw); i += 8 {
		v := g.r.Uint64()
		for j := range 8 {
			raw[i+j] = byte(v >> (8 * j))
		}
	}
	return base64.StdEncoding.EncodeToString(raw[:])
}

func baseName(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '/' {
			return path[i+1:]
		}
	}
	return path
}

// containersJSON is a Pod's spec.containers as the API server logs it.
func containersJSON(w *workload) string {
	b := []byte(`[{"name":`)
	b = appendString(b, w.container, false)
	b = append(b, `,"image":`...)
	b = appendString(b, w.image+":"+w.tag, false)
	b = append(b, `,"args":`...)
	b = appendStrings(b, w.args[1:], false)
	if w.port != 0 {
		b = append(b, `,"ports":[{"name":"http","containerPort":`...)
		b = strconv.AppendInt(b, int64(w.port), 10)
		b = append(b, `,"protocol":"TCP"}]`...)
	}
	b = append(b, `,"env":[{"name":"POD_NAME","valueFrom":{"fieldRef":{"apiVersion":"v1","fieldPath":"metadata.name"}}},{"name":"POD_NAMESPACE","valueFrom":{"fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"}}},{"name":"GOMAXPROCS","valueFrom":{"resourceFieldRef":{"resource":"limits.cpu","divisor":"0"}}}]`...)
	b = append(b, `,"resources":{"limits":{"cpu":"`+w.cpuLimit+`","memory":"`+w.memLimit+`"},"requests":{"cpu":"100m","memory":"128Mi"}}`...)
	b = append(b, `,"volumeMounts":[{"name":"config","readOnly":true,"mountPath":"/etc/`+w.name+`"},{"name":"kube-api-access","readOnly":true,"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}]`...)
	if w.probe != nil {
		b = append(b, `,"livenessProbe":{"exec":{"command":`...)
		b = appendStrings(b, w.probe, false)
		b = append(b, `},"timeoutSeconds":5,"periodSeconds":10,"successThreshold":1,"failureThreshold":3}`...)
	} else if w.port != 0 {
		b = append(b, `,"readinessProbe":{"httpGet":{"path":"/healthz","port":`...)
		b = strconv.AppendInt(b, int64(w.port), 10)
		b = append(b, `,"scheme":"HTTP"},"timeoutSeconds":1,"periodSeconds":10,"successThreshold":1,"failureThreshold":3}`...)
	}
	b = append(b, `,"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent","securityContext":{"allowPrivilegeEscalation":false,"readOnlyRootFilesystem":true,"runAsNonRoot":true,"capabilities":{"drop":["ALL"]}}}]`...)
	return string(b)
}

func volumesJSON(w *workload, suffix string) string {
	return `[{"name":"config","configMap":{"name":"` + w.name + `-config","defaultMode":420}},{"name":"kube-api-access","projected":{"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},{"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},{"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"}}]}}],"defaultMode":420}},{"name":"tmp-` + suffix + `","emptyDir":{"sizeLimit":"1Gi"}}]`
}

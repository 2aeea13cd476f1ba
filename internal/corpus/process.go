package corpus

// procRef is a process as Defend for Containers describes it, either the
// event's own process or one of its leaders.
type procRef struct {
	entityID         string
	pid              int64
	name, executable string
	args             []string
	interactive      bool
	start            int64
}

// procEvent is one process event: a start (fork or exec) or an end.
type procEvent struct {
	ts          int64
	pod         *pod  // nil for a process on the node itself
	host        *node // the node
	typ, action string
	actionArray bool // event.action written as an array
	proc        procRef
	wd          string
	userID      string
	userName    string
	ttyMinor    int64 // -1: no controlling terminal
	exitCode    int64
	parent      procRef
	entry       procRef
	entrySame   bool
	entryType   string
	session     procRef
	sessionSame bool
	// countFinding marks the event that counts in Stats.Findings.
	countFinding bool
	// finding marks every event of a finding's session.
	finding bool
}

// isSeedInteractive reports whether ev matches seed rule 2.
func (ev *procEvent) isSeedInteractive() bool {
	return ev.pod != nil && ev.typ == "start" && ev.entryType == "container" && ev.entrySame && ev.proc.interactive
}

type procGen struct {
	*gen
	queue      pending[procEvent]
	active     []*pod // pods whose main process forks or runs commands
	probed     []*pod // pods with an exec liveness probe
	sftp       []*pod
	runcPID    int64
	lineMicros int64 // average clock advance per line, to stamp future events
}

func (g *gen) runProcess() {
	p := &procGen{gen: g, runcPID: 2_000_000, lineMicros: 2000}
	for _, q := range g.inv.pods {
		if q.w.forks || len(q.w.spawns) > 0 {
			p.active = append(p.active, q)
		}
		if q.w.probe != nil {
			p.probed = append(p.probed, q)
		}
		if q.w.entryType == "sshd" {
			p.sftp = append(p.sftp, q)
		}
	}
	for !g.done() {
		switch {
		case p.queue.len() > 0 && p.queue.peekDue() <= g.stats.Events:
			ev := p.queue.pop()
			p.emit(&ev)
		case g.stats.Events >= g.nextFinding:
			p.finding()
			g.nextFinding = g.stats.Events + g.gap(g.every)
		case g.stats.Events >= g.nextDecoy:
			p.decoy()
			g.nextDecoy = g.stats.Events + g.gap(g.decoyEvery())
		default:
			p.background()
		}
	}
	// The log ends here with processes still running; only the commands
	// and exits of findings' sessions already started are written.
	for p.queue.len() > 0 && g.err == nil {
		if ev := p.queue.pop(); ev.finding {
			p.emit(&ev)
		}
	}
}

func (p *procGen) emit(ev *procEvent) {
	g := p.gen
	g.tick()
	if ev.ts == 0 {
		ev.ts = g.now
	}
	g.d.begin(g.layoutMask(), false)
	p.write(ev)
	g.endLine()
	if ev.isSeedInteractive() {
		g.stats.MatchingLines++
	}
	if ev.countFinding {
		g.stats.Findings++
	}
}

// at returns the timestamp of an event written delay lines from now.
func (p *procGen) at(delay int64) int64 {
	return p.now + delay*p.lineMicros + p.r.Int64N(p.lineMicros)
}

// newProc is a new process running argv; a relative argv[0] is looked up
// in /bin.
func (p *procGen) newProc(argv []string, interactive bool, start int64) procRef {
	exe := argv[0]
	if exe[0] != '/' {
		exe = "/bin/" + exe
	}
	return procRef{
		entityID:    p.entityID(),
		pid:         int64(1000 + p.r.IntN(4_000_000)),
		name:        baseName(exe),
		executable:  exe,
		args:        argv,
		interactive: interactive,
		start:       start,
	}
}

// typed is a command typed at a shell prompt: the shell resolves the
// executable, args[0] stays the name typed.
func (p *procGen) typed(cmd []string, interactive bool, start int64) procRef {
	r := p.newProc(cmd, interactive, start)
	r.args = append([]string{baseName(cmd[0])}, cmd[1:]...)
	return r
}

// runc is the runtime process that injects an exec'd process.
func (p *procGen) runc(start int64) procRef {
	p.runcPID += 1 + int64(p.r.IntN(400))
	return procRef{
		entityID:   p.entityID(),
		pid:        p.runcPID,
		name:       "runc",
		executable: "/usr/bin/runc",
		args:       []string{"runc", "init"},
		start:      start - 2000,
	}
}

// end returns the end event of the process a start event describes.
func end(start procEvent, ts, exitCode int64) procEvent {
	ev := start
	ev.ts, ev.typ, ev.action, ev.exitCode, ev.countFinding = ts, "end", "end", exitCode, false
	return ev
}

// --- background ------------------------------------------------------------

func (p *procGen) background() {
	switch k := p.r.IntN(100); {
	case k < 60:
		p.worker()
	case k < 95:
		p.probe()
	default:
		p.restart()
	}
}

// worker is a child of a container's main process: a forked worker or a
// command it runs.
func (p *procGen) worker() {
	q := pick(p.r, p.active)
	w := q.w
	ts := p.at(0)
	ev := procEvent{ts: ts, pod: q, host: q.node, typ: "start", wd: w.wd, userID: w.userID, userName: w.userName, ttyMinor: -1,
		parent: q.init, entry: q.init, entryType: w.entryType, session: q.init}
	if w.forks && (len(w.spawns) == 0 || p.chance(60)) {
		ev.action = "fork"
		ev.proc = q.init
		ev.proc.entityID, ev.proc.pid, ev.proc.start = p.entityID(), int64(1000+p.r.IntN(4_000_000)), ts
	} else {
		ev.action = "exec"
		ev.proc = p.newProc(pick(p.r, w.spawns), false, ts)
	}
	ev.actionArray = p.chance(10)
	p.emit(&ev)
	life := 1 + p.r.Int64N(300)
	code := int64(0)
	if p.chance(8) {
		code = 1
	}
	later(p.gen, &p.queue, life, end(ev, p.at(life), code))
}

// probe is a kubelet exec probe: entered from outside like kubectl exec,
// but without a terminal.
func (p *procGen) probe() {
	q := pick(p.r, p.probed)
	ts := p.at(0)
	proc := p.newProc(q.w.probe, false, ts)
	ev := procEvent{ts: ts, pod: q, host: q.node, typ: "start", action: "exec", proc: proc, wd: q.w.wd, userID: q.w.userID, userName: q.w.userName, ttyMinor: -1,
		parent: p.runc(ts), entry: proc, entrySame: true, entryType: "container", session: proc, sessionSame: true}
	p.emit(&ev)
	life := 1 + p.r.Int64N(5)
	later(p.gen, &p.queue, life, end(ev, p.at(life), 0))
}

// restart is a container's main process starting again.
func (p *procGen) restart() {
	q := pick(p.r, p.inv.pods)
	ts := p.at(0)
	q.init.entityID, q.init.pid, q.init.start = p.entityID(), int64(1000+p.r.IntN(4_000_000)), ts
	shim := procRef{entityID: p.entityID(), pid: int64(1000 + p.r.IntN(4_000_000)), name: "containerd-shim-runc-v2", executable: "/usr/bin/containerd-shim-runc-v2",
		args: []string{"containerd-shim-runc-v2", "-namespace", "k8s.io", "-id", q.containerID, "-address", "/run/containerd/containerd.sock"}, start: ts - 86400e6}
	ev := procEvent{ts: ts, pod: q, host: q.node, typ: "start", action: "exec", proc: q.init, wd: q.w.wd, userID: q.w.userID, userName: q.w.userName, ttyMinor: -1,
		parent: shim, entry: q.init, entrySame: true, entryType: q.w.entryType, session: q.init, sessionSame: true}
	p.emit(&ev)
}

// --- findings and decoys -----------------------------------------------------

var interactiveShells = [][]string{{"bash"}, {"sh"}, {"/bin/sh"}, {"bash", "-il"}, {"sh", "-c", "clear; (bash || ash || sh)"}}

// sessionCommands are what people type in a shell they exec'd into.
var sessionCommands = [][]string{
	{"/bin/ls", "-la"}, {"/usr/bin/id"}, {"/usr/bin/whoami"}, {"/bin/cat", "/etc/passwd"}, {"/usr/bin/env"},
	{"/bin/ps", "aux"}, {"/bin/cat", "/var/run/secrets/kubernetes.io/serviceaccount/token"},
	{"/usr/bin/curl", "-sk", "https://kubernetes.default.svc/api/v1/namespaces/default/secrets"},
	{"/usr/bin/wget", "-qO-", "http://169.254.169.254/latest/meta-data/iam/security-credentials/"},
	{"/bin/uname", "-a"}, {"/bin/df", "-h"}, {"/bin/mount"}, {"/bin/cat", "/proc/1/environ"},
	{"/bin/tar", "czf", "/tmp/c.tgz", "/app/config"}, {"/usr/bin/find", "/", "-name", "*.pem", "-perm", "-u=r"},
	{"/usr/bin/vi", "/etc/hosts"}, {"/bin/netstat", "-tlnp"},
}

// session writes a process entered from outside and the commands run from
// it: the leader's start now, then children starts and ends, then the
// leader's end, spread over the following lines.
func (p *procGen) session(q *pod, host *node, argv []string, interactive bool, entryType string, parent procRef, children int, childInteractive bool, count bool) {
	ts := p.at(0)
	leader := p.newProc(argv, interactive, ts)
	tty := int64(-1)
	if interactive {
		tty = int64(p.r.IntN(6))
	}
	userID, userName, wd := "0", "root", "/"
	if q != nil {
		userID, userName, wd = q.w.userID, q.w.userName, q.w.wd
	}
	ev := procEvent{ts: ts, pod: q, host: host, typ: "start", action: "exec", proc: leader, wd: wd, userID: userID, userName: userName, ttyMinor: tty,
		parent: parent, entry: leader, entrySame: true, entryType: entryType, session: leader, sessionSame: true, countFinding: count, finding: count}
	p.emit(&ev)
	var due int64
	for range children {
		due += 1 + p.r.Int64N(120) // typing the next command
		cts := p.at(due)
		child := procEvent{ts: cts, pod: q, host: host, typ: "start", action: "exec", proc: p.typed(pick(p.r, sessionCommands), childInteractive, cts),
			wd: wd, userID: userID, userName: userName, ttyMinor: tty, parent: leader, entry: leader, entryType: entryType, session: leader, finding: count}
		if !childInteractive {
			child.ttyMinor = -1
		}
		later(p.gen, &p.queue, due, child)
		life := 1 + p.r.Int64N(4)
		code := int64(0)
		if p.chance(10) {
			code = 1
		}
		later(p.gen, &p.queue, due+life, end(child, p.at(due+life), code))
		due += life
	}
	due += 1 + p.r.Int64N(20)
	code := int64(0)
	if interactive && p.chance(20) {
		code = 130
	}
	ev.countFinding = false
	later(p.gen, &p.queue, due, end(ev, p.at(due), code))
}

// finding writes an interactive shell exec'd into a container (kubectl exec
// -it) and 3-10 commands typed in it; only the shell's start matches rule 2.
func (p *procGen) finding() {
	q := pick(p.r, p.inv.execTargets)
	ts := p.at(0)
	p.session(q, q.node, pick(p.r, interactiveShells), true, "container", p.runc(ts), 3+p.r.IntN(8), true, true)
}

// decoy writes a session that resembles a finding but must not match:
// kubectl exec without -t, a terminal opened inside a non-interactive exec
// (script), or an SSH login in a container or on the node.
func (p *procGen) decoy() {
	q := pick(p.r, p.inv.execTargets)
	ts := p.at(0)
	switch p.r.IntN(4) {
	case 0: // kubectl exec without -t, kubectl cp
		argv := pick(p.r, [][]string{{"sh", "-c", "cat /etc/" + q.w.name + "/config.yaml"}, {"tar", "cf", "-", "/var/lib/app/exports"}, {"env"}, {"/bin/sh", "-c", "kill -HUP 1"}})
		p.session(q, q.node, argv, false, "container", p.runc(ts), p.r.IntN(3), false, false)
	case 1: // script(1) gives a non-interactive exec a terminal: interactive, but not the entry leader
		leader := p.newProc([]string{"sh", "-c", "script -qc /bin/bash /dev/null"}, false, ts)
		ev := procEvent{ts: ts, pod: q, host: q.node, typ: "start", action: "exec", proc: leader, wd: q.w.wd, userID: q.w.userID, userName: q.w.userName, ttyMinor: -1,
			parent: p.runc(ts), entry: leader, entrySame: true, entryType: "container", session: leader, sessionSame: true}
		p.emit(&ev)
		script := ev
		script.ts = p.at(1)
		script.proc = p.typed([]string{"/usr/bin/script", "-qc", "/bin/bash", "/dev/null"}, true, script.ts)
		script.parent, script.entrySame, script.sessionSame, script.ttyMinor = leader, false, false, int64(p.r.IntN(6))
		later(p.gen, &p.queue, 1, script)
		shell := script
		shell.ts = p.at(2)
		shell.proc = p.newProc([]string{"/bin/bash"}, true, shell.ts)
		shell.parent = script.proc
		later(p.gen, &p.queue, 2, shell)
		cmd := shell
		cmd.ts = p.at(5)
		cmd.proc = p.typed(pick(p.r, sessionCommands), true, cmd.ts)
		cmd.parent = shell.proc
		later(p.gen, &p.queue, 5, cmd)
		later(p.gen, &p.queue, 7, end(cmd, p.at(7), 0))
		later(p.gen, &p.queue, 30, end(shell, p.at(30), 0))
		later(p.gen, &p.queue, 31, end(script, p.at(31), 0))
		later(p.gen, &p.queue, 32, end(ev, p.at(32), 0))
	case 2: // SSH login inside a container running sshd
		if len(p.sftp) == 0 {
			return
		}
		s := pick(p.r, p.sftp)
		sshd := s.init
		p.session(s, s.node, []string{"/bin/bash", "-l"}, true, "sshd", sshd, 1+p.r.IntN(3), true, false)
	default: // SSH login on the node: no container
		n := pick(p.r, p.inv.nodes)
		sshd := procRef{entityID: p.entityID(), pid: int64(700 + p.r.IntN(3000)), name: "sshd", executable: "/usr/sbin/sshd",
			args: []string{"sshd: ec2-user [priv]"}, start: ts - 1e6}
		p.session(nil, n, []string{"/bin/bash", "-l"}, true, "sshd", sshd, 1+p.r.IntN(3), true, false)
	}
}

// --- writing -------------------------------------------------------------------

func (p *procGen) write(ev *procEvent) {
	g, d := p.gen, &p.gen.d
	g.time("@timestamp", ev.ts, 3)

	d.obj("agent")
	d.str("id", ev.host.agentID)
	d.str("type", "cloud-defend")
	d.end()

	if q := ev.pod; q != nil {
		d.obj("container")
		d.str("id", q.containerID)
		d.obj("image")
		d.str("name", q.w.image)
		d.str("tag", q.w.tag)
		d.end()
		d.str("name", q.w.container)
		d.end()
	}

	d.obj("data_stream")
	d.str("dataset", "cloud_defend.process")
	d.str("namespace", "default")
	d.str("type", "logs")
	d.end()

	d.obj("event")
	if ev.actionArray {
		d.strs("action", ev.action)
	} else {
		d.str("action", ev.action)
	}
	d.strs("category", "process")
	d.str("dataset", "cloud_defend.process")
	d.str("kind", "event")
	d.strs("type", ev.typ)
	d.end()

	d.obj("host")
	d.str("name", ev.host.name)
	d.end()

	d.obj("orchestrator")
	d.obj("cluster")
	d.str("name", p.inv.cluster)
	d.end()
	if q := ev.pod; q != nil {
		d.str("namespace", q.w.ns)
		d.obj("resource")
		d.str("name", q.name)
		d.obj("parent")
		d.str("type", q.w.kind)
		d.end()
		d.str("type", "pod")
		d.end()
	}
	d.str("type", "kubernetes")
	d.end()

	d.obj("process")
	d.strs("args", ev.proc.args...)
	if ev.typ == "end" {
		g.time("end", ev.ts, 3)
	}
	d.str("entity_id", ev.proc.entityID)
	d.obj("entry_leader")
	d.str("entity_id", ev.entry.entityID)
	d.obj("entry_meta")
	d.str("type", ev.entryType)
	d.end()
	d.bool("interactive", ev.entry.interactive)
	d.str("name", ev.entry.name)
	d.int("pid", ev.entry.pid)
	d.bool("same_as_process", ev.entrySame)
	d.end()
	d.str("executable", ev.proc.executable)
	if ev.typ == "end" {
		d.int("exit_code", ev.exitCode)
	}
	d.bool("interactive", ev.proc.interactive)
	d.str("name", ev.proc.name)
	d.obj("parent")
	d.str("entity_id", ev.parent.entityID)
	d.str("executable", ev.parent.executable)
	d.str("name", ev.parent.name)
	d.int("pid", ev.parent.pid)
	d.end()
	d.int("pid", ev.proc.pid)
	d.obj("session_leader")
	d.str("entity_id", ev.session.entityID)
	d.str("name", ev.session.name)
	d.int("pid", ev.session.pid)
	d.bool("same_as_process", ev.sessionSame)
	d.end()
	g.time("start", ev.proc.start, 3)
	if ev.ttyMinor >= 0 {
		d.obj("tty")
		d.obj("char_device")
		d.int("major", 136)
		d.int("minor", ev.ttyMinor)
		d.end()
		d.end()
	}
	d.str("working_directory", ev.wd)
	d.end()

	d.obj("user")
	d.str("id", ev.userID)
	d.str("name", ev.userName)
	d.end()
}

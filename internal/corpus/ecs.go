package corpus

// writeECS writes ev the way Elastic's Kubernetes integration indexes it:
// the audit event under kubernetes.audit, plus the fields the agent and the
// ingest pipeline add (event.*, user.name, source.ip, user_agent.original,
// data_stream.*, orchestrator.*).
func (a *auditGen) writeECS(ev *auditEvent, stageTS int64) {
	g, d := a.gen, &a.gen.d
	inv := a.inv
	g.time("@timestamp", ev.received, 3)

	d.obj("data_stream")
	d.str("dataset", "kubernetes.audit_logs")
	d.str("namespace", "default")
	d.str("type", "logs")
	d.end()

	d.obj("event")
	d.str("action", ev.verb)
	d.str("dataset", "kubernetes.audit_logs")
	d.str("kind", "event")
	d.str("module", "kubernetes")
	if ev.stage != stageReceived {
		switch ev.decision {
		case "allow":
			d.str("outcome", "success")
		case "forbid":
			d.str("outcome", "failure")
		}
	}
	d.end()

	d.obj("kubernetes")
	d.obj("audit")
	a.writeFields(ev, stageTS, true)
	d.end()
	d.end()

	d.obj("orchestrator")
	d.obj("cluster")
	d.str("name", inv.cluster)
	d.end()
	d.str("type", "kubernetes")
	d.end()

	d.obj("source")
	d.str("ip", ev.ip)
	d.end()

	d.obj("user")
	d.str("name", ev.user.username)
	d.strOpt("id", ev.user.uid)
	d.end()

	d.obj("user_agent")
	d.str("original", ev.ua)
	d.end()
}

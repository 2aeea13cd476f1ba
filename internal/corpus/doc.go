// Package corpus generates deterministic benchmark corpora for k8sexec:
// NDJSON logs that look like what users have on disk, with a known number of
// true findings and of decoys that must not match.
//
// Three shapes (see docs/formats.md):
//
//   - Audit: raw kube-apiserver audit.k8s.io/v1 events. Kubelet lease
//     renewals, events, pod and node status patches, watches and gets of
//     configmaps and secrets, token requests, controller informers and
//     updates, pod creates and deletes, GitOps applies, people reading pods
//     and logs, health checks, 403s, 404s and 409s; Metadata level mostly,
//     Request and RequestResponse with Lease, Pod, Event, ConfigMap,
//     ClusterRole and patch bodies; RequestReceived, ResponseStarted and
//     ResponseComplete stages sharing one auditID.
//   - ECS: the same events as Elastic's Kubernetes integration indexes them
//     (kubernetes.audit.*, dedotted annotation keys, event.dataset
//     kubernetes.audit_logs, user.name, source.ip, user_agent.original).
//   - Process: Elastic Defend for Containers process events: workers forked
//     and commands run by containers' main processes, exec liveness probes,
//     container restarts, and their ends.
//
// ECS and Process documents come in nested, dotted or mixed key layouts, or
// all three rotating line by line; every layout of one Config carries the
// same events in the same order.
//
// Data flow: Config ──▶ a rand/v2 PCG stream seeded from Config.Seed ──▶ an
// inventory (nodes, workloads, pods, principals) ──▶ one loop that, line by
// line, writes the next due pending stage or child event, else a finding
// when its mark is reached, else a decoy when its mark is reached, else
// background noise ──▶ jsonDoc appends the line in the chosen layout ──▶
// 256 KiB writes to the io.Writer. Nothing depends on map order or the wall
// clock, so a Config always yields the same bytes.
//
// Findings are placed one per Config.FindingEvery events on average, each
// mark a uniform draw in [every/2, every*3/2) events after the previous one;
// decoys the same way at twice the rate.
//
//   - Audit and ECS findings are kubectl exec requests on pods/exec, allowed,
//     verb create (SPDY, older kubectl, or the fallback after a refused
//     WebSocket get) or get (WebSocket, kubectl 1.30+), each written as
//     RequestReceived (half of them), ResponseStarted right away and
//     ResponseComplete 20-1500 lines later. Decoys: exec denied by RBAC
//     (decision forbid, 403), pods/attach, pods/portforward, kubectl debug
//     (pods/ephemeralcontainers), a ClusterRole granting pods/exec, a
//     ConfigMap whose data says exec.
//   - Process findings are an interactive shell entered from outside
//     (entry_meta.type container, same_as_process true, interactive true,
//     tty) followed over the next lines by 3-10 commands typed in it and
//     their ends, then the shell's end; only the shell's start matches.
//     Decoys: kubectl exec without -t, a terminal opened with script(1)
//     under a non-interactive exec, SSH logins in a container and on a node
//     (no container.id).
//
// Stats counts what was written, so a benchmark can assert the scanner found
// exactly Stats.Findings findings in Stats.MatchingLines matching lines.
// The command in ./gen writes a corpus to a file.
package corpus

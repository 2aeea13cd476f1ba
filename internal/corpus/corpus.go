package corpus

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"
)

// Shape is the kind of log a corpus imitates.
type Shape string

// The shapes Write can generate.
const (
	// Audit is raw kube-apiserver audit.k8s.io/v1 Event NDJSON.
	Audit Shape = "audit"
	// ECS is the same audit events as Elastic's Kubernetes integration
	// stores them (kubernetes.audit.*, event.dataset kubernetes.audit_logs).
	ECS Shape = "ecs"
	// Process is Elastic Defend for Containers process events
	// (logs-cloud_defend.process-*).
	Process Shape = "process"
)

// Layout is how ECS and Process documents spell their field paths.
type Layout string

// The layouts of ECS and Process documents. Audit ignores the layout.
const (
	// Nested writes objects: {"kubernetes":{"audit":{"verb":"create"}}}.
	Nested Layout = "nested"
	// Dotted writes every leaf as a dotted key: {"kubernetes.audit.verb":"create"}.
	// Arrays stay arrays, with their elements nested.
	Dotted Layout = "dotted"
	// Mixed rotates, line by line, through three mixes: top-level objects
	// dotted and the rest nested ({"kubernetes.audit":{...}}), two levels
	// dotted ({"kubernetes.audit.objectRef":{...}}), and nested with dotted
	// leaves ({"kubernetes":{"audit":{"objectRef.resource":"pods"}}}).
	Mixed Layout = "mixed"
	// All rotates nested, dotted and mixed line by line.
	All Layout = "all"
)

// DefaultFindingEvery is Config.FindingEvery when it is zero or negative.
const DefaultFindingEvery = 20000

// Config says what Write generates. The same Config always gives the same
// bytes.
type Config struct {
	Shape Shape
	// Layout applies to ECS and Process; empty means Nested.
	Layout Layout
	// Size is the approximate number of bytes to write: generation stops
	// after the first event that reaches it, then writes the stage and child
	// events still pending for findings already started (a few KiB at most;
	// other open requests and processes are cut off as in a rotated log).
	// For ECS and Process the bytes are counted as the nested layout would
	// write them, so all layouts of one Config hold the same events; dotted
	// and mixed files come out larger than Size.
	Size int64
	Seed uint64
	// FindingEvery places one true finding per this many events on average
	// (DefaultFindingEvery when <= 0; 100 gives the dense 1% case). Decoys,
	// events that resemble findings but must not match, come twice as often.
	FindingEvery int
	// Escaped writes &, < and > in audit strings as \u0026, \u003c and
	// \u003e, as kube-apiserver's JSON encoder does. Audit only.
	Escaped bool
}

// Stats describes what Write wrote.
type Stats struct {
	// Events is the number of lines (one event per line).
	Events int64
	// Bytes is the number of bytes written, newlines included.
	Bytes int64
	// Findings is the number of true findings: distinct auditIDs of allowed
	// create or get requests on pods/exec (seed rule 1 and its WebSocket
	// variant) for Audit and ECS, interactive entry-leader process starts
	// (seed rule 2) for Process.
	Findings int64
	// MatchingLines is the number of lines that match a seed rule (rule 1
	// counting verb get as well): the stage events of the findings' requests
	// that carry decision allow (RequestReceived has no annotations), or the
	// entry-leader start events themselves.
	MatchingLines int64
}

// ErrConfig is wrapped by the errors Write returns for an invalid Config.
var ErrConfig = errors.New("invalid corpus config")

// Write generates a corpus as described by cfg and writes it to w in large
// chunks (wrap w in a bufio.Writer or a compressor as needed).
func Write(w io.Writer, cfg Config) (Stats, error) {
	cfg, err := normalize(cfg)
	if err != nil {
		return Stats{}, err
	}
	g := newGen(w, cfg)
	switch cfg.Shape {
	case Audit, ECS:
		g.runAudit()
	case Process:
		g.runProcess()
	}
	g.flush()
	return g.stats, g.err
}

func normalize(cfg Config) (Config, error) {
	switch cfg.Shape {
	case Audit, ECS, Process:
	default:
		return cfg, fmt.Errorf("%w: shape %q (want audit, ecs or process)", ErrConfig, cfg.Shape)
	}
	switch cfg.Layout {
	case "":
		cfg.Layout = Nested
	case Nested, Dotted, Mixed, All:
	default:
		return cfg, fmt.Errorf("%w: layout %q (want nested, dotted, mixed or all)", ErrConfig, cfg.Layout)
	}
	if cfg.Shape == Audit {
		cfg.Layout = Nested
	}
	if cfg.Size < 0 {
		return cfg, fmt.Errorf("%w: negative size %d", ErrConfig, cfg.Size)
	}
	if cfg.FindingEvery <= 0 {
		cfg.FindingEvery = DefaultFindingEvery
	}
	return cfg, nil
}

// seedStream is the PCG stream constant: "k8sexec-".
const seedStream = 0x6b3873657865632d

// flushAt is the buffered size at which gen hands its bytes to the writer.
const flushAt = 256 << 10

// baseTime is the wall clock of the first event: 2026-11-20T08:00:00Z.
var baseTime = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC).UnixMicro()

// gen holds the state shared by the shapes: randomness, the clock, the
// output buffer, the finding and decoy schedule and the statistics.
type gen struct {
	cfg     Config
	r       *rand.Rand
	w       io.Writer
	err     error
	d       jsonDoc
	stats   Stats
	nominal int64 // nested-equivalent bytes written
	now     int64 // microseconds since the Unix epoch
	tf      timeFormat
	inv     *inventory

	every       int64
	nextFinding int64
	nextDecoy   int64
	seq         int64 // tie-breaker for pending events due at the same index
}

func newGen(w io.Writer, cfg Config) *gen {
	g := &gen{
		cfg:   cfg,
		r:     rand.New(rand.NewPCG(cfg.Seed, seedStream)),
		w:     w,
		now:   baseTime,
		every: int64(cfg.FindingEvery),
	}
	g.d.b = make([]byte, 0, flushAt+64<<10)
	g.inv = newInventory(g.r)
	g.nextFinding = g.gap(g.every)
	g.nextDecoy = g.gap(g.decoyEvery())
	return g
}

func (g *gen) decoyEvery() int64 { return max(1, g.every/2) }

// gap returns a distance in events, uniform in [every/2, every*3/2), at
// least 1, so that marks placed gap after gap average one per every events
// without a fixed stride.
func (g *gen) gap(every int64) int64 {
	return max(1, every/2+g.r.Int64N(max(1, every)))
}

// done reports whether generation should stop starting new events.
func (g *gen) done() bool { return g.nominal >= g.cfg.Size || g.err != nil }

// layoutMask returns the jsonDoc flatten mask for the next line.
func (g *gen) layoutMask() uint64 {
	i := g.stats.Events
	layout := g.cfg.Layout
	if layout == All {
		layout = [...]Layout{Nested, Dotted, Mixed}[i%3]
		i /= 3
	}
	switch layout {
	case Dotted:
		return ^uint64(0)
	case Mixed:
		return [...]uint64{1, 3, ^uint64(3)}[i%3]
	}
	return 0
}

// tick advances the clock by 0-4 ms, a busy cluster's event rate.
func (g *gen) tick() { g.now += 1 + g.r.Int64N(4000) }

// endLine finishes the line being written and accounts for it.
func (g *gen) endLine() {
	actual, nominal := g.d.finish()
	g.stats.Events++
	g.stats.Bytes += int64(actual)
	g.nominal += int64(nominal)
	if len(g.d.b) >= flushAt {
		g.flush()
	}
}

func (g *gen) flush() {
	if len(g.d.b) == 0 || g.err != nil {
		g.d.b = g.d.b[:0]
		return
	}
	if _, err := g.w.Write(g.d.b); err != nil {
		g.err = fmt.Errorf("write corpus: %w", err)
	}
	g.d.b = g.d.b[:0]
}

// timeFormat appends RFC 3339 UTC timestamps, caching the date part.
type timeFormat struct {
	day    int64
	prefix []byte // "2026-11-20T"
}

// append writes us (microseconds since the epoch, positive) as a quoted
// timestamp with digits fractional digits (0, 3 or 6).
func (t *timeFormat) append(b []byte, us int64, digits int) []byte {
	const usPerDay = 86400 * 1e6
	day := us / usPerDay
	if t.prefix == nil || day != t.day {
		t.day = day
		t.prefix = time.UnixMicro(day*usPerDay).UTC().AppendFormat(t.prefix[:0], "2006-01-02T")
	}
	rem := us - day*usPerDay
	sec, frac := rem/1e6, rem%1e6
	h, m, s := sec/3600, sec/60%60, sec%60
	b = append(b, '"')
	b = append(b, t.prefix...)
	b = append(b, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+m/10), byte('0'+m%10), ':', byte('0'+s/10), byte('0'+s%10))
	if digits == 0 {
		return append(b, 'Z', '"')
	}
	b = append(b, '.')
	if digits == 3 {
		frac /= 1000
	}
	var tmp [6]byte
	for i := digits - 1; i >= 0; i-- {
		tmp[i] = byte('0' + frac%10)
		frac /= 10
	}
	b = append(b, tmp[:digits]...)
	return append(b, 'Z', '"')
}

// time writes member k as a timestamp.
func (g *gen) time(k string, us int64, digits int) {
	g.d.key(k)
	g.d.b = g.tf.append(g.d.b, us, digits)
}

// uuid is a random RFC 4122 version 4 UUID in text form.
type uuid [36]byte

func (g *gen) uuid() uuid {
	var u uuid
	a, b := g.r.Uint64(), g.r.Uint64()
	a = a&^0xf000 | 0x4000                               // version 4
	b = b&^0xc000_0000_0000_0000 | 0x8000_0000_0000_0000 // variant
	put := func(off int, v uint64, n int) {
		for i := n - 1; i >= 0; i-- {
			u[off+i] = hexDigits[v&15]
			v >>= 4
		}
	}
	put(0, a>>32, 8)
	u[8] = '-'
	put(9, a>>16, 4)
	u[13] = '-'
	put(14, a, 4)
	u[18] = '-'
	put(19, b>>48, 4)
	u[23] = '-'
	put(24, b, 12)
	return u
}

// hex returns n random lowercase hex digits.
func (g *gen) hex(n int) string {
	b := make([]byte, n)
	for i := 0; i < n; {
		v := g.r.Uint64()
		for j := 0; j < 16 && i < n; j++ {
			b[i] = hexDigits[v&15]
			v >>= 4
			i++
		}
	}
	return string(b)
}

// alnum returns n random characters from Kubernetes' name suffix alphabet.
func (g *gen) alnum(n int) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	return string(b)
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// chance reports true with probability percent/100.
func (g *gen) chance(percent int) bool { return g.r.IntN(100) < percent }

// pending is a min-heap of events due at a later line index, ordered by
// (due, seq) so that the output does not depend on heap internals.
type pending[T any] struct {
	items []pendingItem[T]
}

type pendingItem[T any] struct {
	due, seq int64
	ev       T
}

func (p *pending[T]) len() int { return len(p.items) }

func (p *pending[T]) less(i, j int) bool {
	a, b := &p.items[i], &p.items[j]
	return a.due < b.due || a.due == b.due && a.seq < b.seq
}

func (p *pending[T]) push(due, seq int64, ev T) {
	p.items = append(p.items, pendingItem[T]{due, seq, ev})
	for i := len(p.items) - 1; i > 0; {
		parent := (i - 1) / 2
		if !p.less(i, parent) {
			break
		}
		p.items[i], p.items[parent] = p.items[parent], p.items[i]
		i = parent
	}
}

func (p *pending[T]) peekDue() int64 { return p.items[0].due }

func (p *pending[T]) pop() T {
	top := p.items[0].ev
	last := len(p.items) - 1
	p.items[0] = p.items[last]
	var zero pendingItem[T]
	p.items[last] = zero
	p.items = p.items[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(p.items) && p.less(l, m) {
			m = l
		}
		if r < len(p.items) && p.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		p.items[i], p.items[m] = p.items[m], p.items[i]
		i = m
	}
	return top
}

// later queues ev to be written delay lines from now.
func later[T any](g *gen, p *pending[T], delay int64, ev T) {
	g.seq++
	p.push(g.stats.Events+max(0, delay), g.seq, ev)
}

package scan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/tidwall/gjson"

	"github.com/k8sexec/k8sexec/rules"
)

// Defaults for Options.
const (
	// DefaultChunkSize is small enough that a chunk stays in a core's
	// cache between the read that fills it and the searches over it (1 MiB
	// scanned raw audit faster than 4 MiB, in a third of the memory).
	DefaultChunkSize   = 1 << 20
	DefaultMaxLineSize = 16 << 20
	// DefaultMaxProblems bounds how many malformed-line locations a Result
	// keeps; the counts are always complete.
	DefaultMaxProblems = 20
	// DefaultParseFirst is the default for Options.ParseFirst.
	DefaultParseFirst = 64 << 10
)

// Selector is a query whose matching events the caller wants back as
// context, without making them findings (for example every stage of an
// exec request, to list stages and measure session length).
//
// With Keys and Limit set, at most Limit events are kept for each
// combination of the Keys' values (the first ones in input order, or the
// earliest by Order) and the rest are only counted in Result.Overflow, so
// context stays bounded however large the input: for example the commands
// of each container session.
type Selector struct {
	Name  string
	Expr  rules.Expr
	Keys  []*rules.Field
	Limit int
	// Order, with a Limit, makes it keep the events earliest by this
	// field (a date; one without it counts as latest, and equal ones in
	// input order) rather than the first read, so that inputs given out
	// of time order keep the same events.
	Order *rules.Field
	// OnlyFor, when set, says the selector's events are only wanted if
	// some rule hit h has OnlyFor(h.Doc). Where every input is a regular
	// file the scan then leaves the selector out, and looks for its events
	// in a second pass only when a hit wants them (deferred.go).
	OnlyFor func(hit rules.Document) bool
	// Group and GroupLimit, with Keys and Limit, also bound how many keys
	// hold events: of the keys whose events share the Group fields'
	// values, only the GroupLimit earliest by GroupOrder keep theirs: a
	// date read from each key's first event, its Order date where it has
	// none, latest without either, equal ones in input order. An earlier
	// key read later takes the place of the latest, whose events are let
	// go. For example the commands of the first few sessions that ran one
	// command in one container, where a probe starts a session every few
	// seconds.
	Group      []*rules.Field
	GroupLimit int
	GroupOrder *rules.Field
}

// Overflow counts the events of one selector and key that were not kept.
// With Group set, Key is a group's (Selector.Group) and Dropped counts
// the events of the keys that did not fit in it.
type Overflow struct {
	Selector int
	Key      string
	Dropped  int64
	Group    bool
}

// Options configure a scan.
type Options struct {
	Rules     []*rules.Rule
	Selectors []Selector
	Stdin     io.Reader // read for the input "-"

	Workers     int // 0: one per CPU
	ChunkSize   int // 0: DefaultChunkSize
	MaxLineSize int // 0: DefaultMaxLineSize
	MaxProblems int // 0: DefaultMaxProblems

	// NoPrefilter parses every line, for tests that prove the prefilter
	// never changes a result.
	NoPrefilter bool
	// ParseFirst is how many bytes at the start of every input are parsed
	// whatever the prefilter says, so that every input's summary names the
	// shapes it holds (0: DefaultParseFirst; negative: none).
	ParseFirst int64

	// Progress, if set, is called from one goroutine after each chunk.
	Progress func(Progress)

	// MaxEvents, when positive, keeps only the first MaxEvents matched
	// events, in input order, and counts the rest in Result.MoreEvents;
	// negative keeps none (a count). Memory then stays flat however many
	// events match. For scans without Selectors (a search), whose events
	// no second pass merges.
	MaxEvents int

	// Evidence, with EvidenceLimit, bounds what is kept of one thing: it
	// names what a matched event is about (an audit request, a process;
	// "" for nothing), from the event's document and text. Of the events
	// about one thing, each rule keeps the first EvidenceLimit different
	// ones it matched in input order, and the selectors without Keys and
	// Limit together the first EvidenceLimit they matched; copies of an
	// event kept (the same text) take none of those places, and
	// EvidenceLimit of them are kept besides; the rest are counted in
	// Result.MoreEvidence (boundEvidence). A request whose lines were
	// written a million times then holds a few hundred events, not a
	// million. new_terms rules are not bounded so (a later event may show
	// a match was not new), nor are selectors left to a second pass
	// (Selector.OnlyFor): their own Keys and Limit bound them.
	Evidence      func(doc rules.Document, raw []byte) string
	EvidenceLimit int

	// probes are selectors that are only looked for: lines that may hold
	// their events are counted (InputStats.probed), never parsed for them
	// (deferred.go).
	probes []Selector
}

// Progress is a snapshot of a running scan.
type Progress struct {
	Input      string
	InputIndex int
	RawBytes   int64 // bytes read from disk or stdin so far, all inputs (of this pass)
	Bytes      int64 // decompressed bytes scanned so far (of this pass)
	Events     int64
	Matches    int64
	// Again is set during the second pass over some inputs for deferred
	// selectors (deferred.go); the counts then start from zero.
	Again bool
}

// Event is an event that matched a rule or a selector.
type Event struct {
	Input  int   // index into Result.Inputs
	Line   int64 // 1-based line number in the decompressed stream (where its record starts)
	Offset int64 // byte offset of its record in the decompressed stream
	// Index is the event's 1-based position among the events its record
	// holds (an EventList, an export page, values on one line), or 0 when
	// the record is the event; in whole-file JSON, a record that is one
	// event and shares its line with others is numbered across the line.
	Index int
	Shape Shape
	Raw   []byte // the event's JSON, on one line
	// Doc reads Raw's fields; goroutines may share it.
	Doc rules.Document
	// Cluster is the cluster the event's wrapper names (Unit.Cluster),
	// for triage; "" when none does.
	Cluster string
	// Rules holds the indices (into Options.Rules) of the rules the event
	// matched; Selectors the indices of the selectors.
	Rules     []int
	Selectors []int
	// keys holds, for each of Selectors, the event's key and group
	// (keyOf; "" without Keys or Group) and the group's order date,
	// read by the worker that matched it.
	keys []eventKey
	// terms holds, for each new_terms rule of Rules, what its condition
	// reads of the event, read by the worker that matched it.
	terms []matchTerms
	// thing is what the event is about (Options.Evidence), set by the
	// worker on the events EvidenceLimit bounds; sum hashes Raw, for
	// telling copies apart.
	thing string
	sum   uint64
}

// Problem locates a line, record or wrapped event that could not be
// evaluated.
type Problem struct {
	Input  int
	Line   int64
	Offset int64
	Index  int // position of the event inside its record, 0 for the record
	Reason string
	// Cut is set for an audit event its wrapper cut short (a CloudWatch
	// message at its size limit): which request's stage it was.
	Cut *CutRequest
}

// CutRequest is what the text of a cut audit event still says.
type CutRequest struct {
	AuditID, Stage string
}

// InputStats describes what was read from one input.
//
// Every record (a non-blank line, or a top-level JSON value in the json
// layout) is counted once: as an event, malformed, overlong, or as an
// envelope whose contents are counted instead. So
//
//	Records = Events + Malformed + Overlong + Skipped + Envelopes - Unwrapped
//
// and, in the lines layout, Lines = Blank + Records.
type InputStats struct {
	Name        string
	Compression string // "", "gzip" or "zstd"
	// Encoding is EncodingUTF16LE or EncodingUTF16BE for text k8sexec
	// decoded (offsets are then of the UTF-8 text), else "".
	Encoding  string
	Layout    string // LayoutLines, LayoutJSON, LayoutCSV, LayoutCRI or LayoutDocker
	RawBytes  int64  // bytes read from the file (compressed size)
	Bytes     int64  // decompressed bytes
	Lines     int64
	Blank     int64
	Records   int64 // non-blank lines, JSON values in the json layout, rows in the csv layout
	Events    int64 // events evaluated, or ruled out by the prefilter without parsing
	Parsed    int64 // events parsed and evaluated
	Malformed int64 // records or wrapped events that are not a valid JSON object
	Overlong  int64 // records longer than the limit, skipped
	Skipped   int64 // records that are not events: wrapped ones of other log categories, container output that is not JSON
	Envelopes int64 // records that held other records (an EventList, an export page)
	Unwrapped int64 // records found inside envelopes
	// Joined counts the envelopes that were no wrapper but several values
	// written one after another on a line (Firehose payloads, audit
	// events whose newline was lost, a write a crash cut short and the
	// next one).
	Joined int64
	// Shapes counts events by shape. Events ruled out without parsing
	// count under ShapeUnparsed, except raw audit lines, recognised by
	// their first bytes.
	Shapes map[Shape]int64
	// SkipReasons counts Skipped records by why they were skipped.
	SkipReasons map[string]int64
	// Err is set when the input could not be read completely; everything
	// read before the error was scanned.
	Err error
	// probed counts lines that may hold events of Options.probes; once
	// one is found in an input, its later chunks are not searched for
	// more, so only whether it is 0 is meaningful.
	probed int64
}

// Incomplete reports whether the input was not read to its end.
func (s *InputStats) Incomplete() bool { return s.Err != nil }

// Result is everything a scan found, in input order.
type Result struct {
	Inputs []InputStats
	Events []Event
	// MoreEvents counts the matched events past Options.MaxEvents.
	MoreEvents int64
	// MoreEvidence counts, per thing (Options.Evidence) and rule, or
	// context, the events past Options.EvidenceLimit; nil when none were.
	MoreEvidence map[EvidenceKey]int64
	Problems     []Problem  // the first MaxProblems, in input order
	Overflow     []Overflow // by selector, then key
	// NewTerms says, per new_terms rule that matched anything, in rule
	// order, what its condition left of its matches (newterms.go).
	NewTerms    []rules.TermsSummary
	Interrupted bool
}

// ReadError locates a failure to read an input.
type ReadError struct {
	Input     string
	RawOffset int64 // compressed offset reached (equals Offset for plain input)
	Offset    int64 // decompressed bytes read before the failure
	Line      int64 // lines read before the failure
	Err       error
	// Decoded is set for UTF-16 text that was not compressed: RawOffset
	// is then a byte of the UTF-16 text, Offset one of the UTF-8.
	Decoded bool
}

func (e *ReadError) Error() string {
	where := fmt.Sprintf("after %d bytes (line %d)", e.Offset, e.Line)
	switch {
	case e.Decoded:
		where = fmt.Sprintf("at byte %d of the UTF-16 text, after %d bytes decoded (line %d)", e.RawOffset, e.Offset, e.Line)
	case e.RawOffset != e.Offset:
		where = fmt.Sprintf("at compressed byte %d, after %d decompressed bytes (line %d)", e.RawOffset, e.Offset, e.Line)
	}
	return fmt.Sprintf("%s: read failed %s: %v", e.Input, where, e.Err)
}

func (e *ReadError) Unwrap() error { return e.Err }

// chunk is a line-aligned piece of one input.
// chunkKey orders chunks: by input, then by seq within it.
type chunkKey struct{ input, seq int }

type chunk struct {
	seq   int // within its input; the input's end chunk comes last
	input int
	// filter is the input's line filter (nil: the plan's static one),
	// chosen from its first chunk.
	filter *filter
	offset int64 // decompressed offset of data[0]
	data   []byte
	buf    *[]byte // pooled buffer backing data, or nil
	// release, when set, unmaps the file window data is (mapped.go), and
	// changed says whether the file changed since it was opened.
	release func()
	changed func() (changed, shrank bool)
	// probed is shared by the chunks of an input: set once a probe found
	// a line in one of them.
	probed *atomic.Bool
	rawPos int64 // raw (compressed) bytes consumed when the chunk was cut
	// span is how many decompressed bytes of the input the chunk stands
	// for: len(data) for lines, more for whole-file JSON (whitespace and
	// separators between records), an overlong record, or the padding.
	span int64
	// padding is how many NUL bytes a reader dropped before data
	// (nulPadding): the chunk's first line starts that many bytes before
	// offset.
	padding int64
	// recs is set for whole-file JSON: data holds one record per line,
	// and recs[i] says where record i started in the input and, if it is
	// broken, why. lines is then how many input lines the chunk covers.
	recs  []recInfo
	lines int64
	// lineRecs marks records that are lines of a container's output
	// (containerSplitter): read by the rules of the lines layout, not as JSON
	// values (lineLike).
	lineRecs bool
	// overlong marks a single line (or record) longer than MaxLineSize
	// that was skipped.
	overlong bool
	// end marks the end of an input: rawBytes, compression and err describe it.
	end         bool
	rawBytes    int64
	compression string
	encoding    string
	layout      string
	err         error
}

// recInfo places one record of a whole-file JSON input.
type recInfo struct {
	line, offset int64
	index        int     // position among the records starting on its line, or 0 (jsonSplitter.number)
	broken       string  // why the record is not a JSON value, or ""
	newlines     []int32 // positions in the record of its line breaks
	skip         string  // why the record is no event, or ""
	cut          *CutRequest
	lead         int // bytes of its line before the record (record.lead)
}

// lineLike reports whether the chunk's records are read as lines are: no
// array is an event, an object may be cut short or several values.
func (c *chunk) lineLike() bool { return c.recs == nil || c.lineRecs }

// place returns the input line and offset of line i of the chunk, whose
// first byte is at start in data.
func (c *chunk) place(i, start int) (int64, int64) {
	if c.recs != nil {
		return c.recs[i].line, c.recs[i].offset
	}
	return int64(i + 1), c.offset + int64(start) - c.padded(i)
}

// recIndex is the position of record i among the records that start on
// its input line, in whole-file JSON, or 0.
func (c *chunk) recIndex(i int) int {
	if c.recs != nil {
		return c.recs[i].index
	}
	return 0
}

// padded is the padding dropped before line i of a chunk of lines.
func (c *chunk) padded(i int) int64 {
	if i == 0 {
		return c.padding
	}
	return 0
}

// placeWithin returns the line and offset of the byte at off inside line i
// of the chunk: in pretty-printed JSON an event may start lines below its
// record.
func (c *chunk) placeWithin(i, start, off int) (int64, int64) {
	line, offset := c.place(i, start)
	if c.recs != nil {
		nl := c.recs[i].newlines
		line += int64(sort.Search(len(nl), func(k int) bool { return int(nl[k]) >= off }))
		return line, offset + int64(c.recs[i].lead+off)
	}
	return line, offset + c.padded(i) + int64(off)
}

type chunkResult struct {
	c         *chunk
	lines     int64
	blank     int64
	events    int64
	parsed    int64
	malformed int64
	skipped   int64
	envelopes int64
	unwrapped int64
	joined    int64
	shapes    map[Shape]int64
	skips     map[string]int64
	// hits and problems hold, in Line, the 1-based line within the chunk,
	// or the input line for whole-file JSON chunks.
	hits     []Event
	problems []Problem
	probed   int64
	// fault is set, and nothing else, when the chunk's mapped pages went
	// away while it was processed.
	fault error
}

// Scan reads every input and evaluates the rules on every line. Inputs that
// cannot be opened or read to the end are reported in their InputStats;
// Scan itself fails only on invalid options or rules. When ctx is cancelled
// the scan stops and returns what it has, with Interrupted set.
func Scan(ctx context.Context, inputs []Input, opts Options) (*Result, error) {
	if opts.MaxEvents != 0 && len(opts.Selectors) > 0 {
		return nil, errors.New("scan: MaxEvents is for scans without selectors")
	}
	if opts.MaxEvents != 0 && slices.ContainsFunc(opts.Rules, func(r *rules.Rule) bool { return r.NewTerms != nil }) {
		// A new_terms history names the matches it keeps by the place
		// they will have among the events.
		return nil, errors.New("scan: MaxEvents is for scans without new_terms rules")
	}
	if deferred := deferrable(inputs, opts.Selectors); len(deferred) > 0 {
		return scanDeferring(ctx, inputs, opts, deferred)
	}
	return scanOnce(ctx, inputs, opts)
}

// scanOnce is Scan in one pass over the inputs.
func scanOnce(ctx context.Context, inputs []Input, opts Options) (*Result, error) {
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = DefaultChunkSize
	}
	if opts.MaxLineSize <= 0 {
		opts.MaxLineSize = DefaultMaxLineSize
	}
	// Only a line that does not fit a buffer is measured against the
	// limit, so no buffer may hold more than the longest line allowed
	// plus its newline.
	if opts.ChunkSize > opts.MaxLineSize+1 {
		opts.ChunkSize = opts.MaxLineSize + 1
	}
	if opts.MaxProblems <= 0 {
		opts.MaxProblems = DefaultMaxProblems
	}
	plan, err := newPlan(opts)
	if err != nil {
		return nil, err
	}
	if opts.ParseFirst == 0 {
		opts.ParseFirst = DefaultParseFirst
	}

	res := &Result{Inputs: make([]InputStats, len(inputs))}
	for i, in := range inputs {
		res.Inputs[i] = InputStats{Name: in.Name, Shapes: map[Shape]int64{}, SkipReasons: map[string]int64{}}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	pool := &sync.Pool{New: func() any {
		b := make([]byte, opts.ChunkSize)
		return &b
	}}
	work := make(chan *chunk, opts.Workers*2)
	results := make(chan chunkResult, opts.Workers*2)

	go produce(ctx, inputs, opts, plan, pool, work)

	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := newWorker(plan, opts.ParseFirst)
			for c := range work {
				var r chunkResult
				if c.release != nil {
					r = w.processMapped(c)
					c.release()
				} else {
					r = w.process(c)
				}
				// Results copy what they keep: the buffer can be
				// reused at once.
				if c.buf != nil && cap(*c.buf) == opts.ChunkSize {
					pool.Put(c.buf)
				}
				c.data, c.buf, c.release = nil, nil, nil
				results <- r
			}
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()

	col := collector{res: res, opts: &opts, pending: map[chunkKey]chunkResult{}, lines: make([]int64, len(inputs)), faulted: make([]bool, len(inputs)),
		kept: map[selectorKey]*keptEvents{}, dropped: map[selectorKey]int64{}, groups: map[selectorKey]*keptEvents{}, groupDropped: map[selectorKey]int64{},
		evidence: map[EvidenceKey]int{}, thingSums: map[thingSum]bool{}, copies: map[string]int{}}
	col.startTerms(opts.Rules)
	for r := range results {
		col.add(r)
	}
	col.finishTerms()
	col.dropUnwanted()
	res.Interrupted = ctx.Err() != nil
	for k, n := range col.dropped {
		res.Overflow = append(res.Overflow, Overflow{Selector: k.selector, Key: k.key, Dropped: n})
	}
	for k, n := range col.groupDropped {
		res.Overflow = append(res.Overflow, Overflow{Selector: k.selector, Key: k.key, Dropped: n, Group: true})
	}
	sortOverflow(res.Overflow)
	return res, nil
}

// collector puts chunk results back in input order, and in each input in
// chunk order, and folds them into the Result. Inputs are read
// concurrently: results of later inputs wait here (they are small; the
// chunks' buffers are already reused).
type collector struct {
	res     *Result
	opts    *Options
	pending map[chunkKey]chunkResult
	input   int     // the input being folded
	next    int     // its next chunk
	lines   []int64 // lines seen so far per input
	// faulted marks the inputs a chunk of which faulted (mapped.go).
	faulted []bool
	matches int64
	raw     int64 // raw bytes of finished inputs
	rawDone int64 // raw bytes of the current input so far
	bytes   int64
	events  int64
	ended   int
	// kept and dropped count, per limited selector and key, the events
	// kept and those left out.
	kept    map[selectorKey]*keptEvents
	dropped map[selectorKey]int64
	// groups holds, per grouped selector and group, the keys kept in it
	// (keptEvent.key); groupDropped counts the events of the others.
	groups       map[selectorKey]*keptEvents
	groupDropped map[selectorKey]int64
	// unwanted is set once an event may be left with no rule and no
	// selector: a limited selector let it go for an earlier one
	// (keptEvents), or a new_terms rule found it not new (finishTerms).
	unwanted bool
	// stubs counts the events let go (left with no rule and no
	// selector) since the last compact.
	stubs int
	seq   int64 // events kept for limited selectors so far
	// histories holds each new_terms rule's history, nil for others.
	histories []*rules.TermsHistory
	// evidence counts the events kept per thing (Options.Evidence) and
	// rule, or context; thingSums names those kept whole, by text, and
	// copies counts, per thing, the copies of them kept (boundEvidence).
	evidence  map[EvidenceKey]int
	thingSums map[thingSum]bool
	copies    map[string]int
}

// eventKey is what a worker reads of an event for one selector: its key,
// its group and the group's order date (groupDate).
type eventKey struct {
	key, group string
	at         int64
}

type selectorKey struct {
	selector int
	key      string
}

// appendKey appends to b a document's key for a selector: every value of
// the key fields, as rules.Strings reads them (a NUL between fields, a tab
// between the values of one field), so arrays such as process.args key by
// all their elements.
func appendKey(b []byte, doc rules.Document, fields []*rules.Field) []byte {
	for i, f := range fields {
		if i > 0 {
			b = append(b, 0)
		}
		first := true
		doc.Any(f, func(v gjson.Result) bool {
			if v.IsObject() {
				return false
			}
			if !first {
				b = append(b, '\t')
			}
			first = false
			if v.Type == gjson.String {
				b = append(b, v.Str...)
			} else {
				b = append(b, v.Raw...)
			}
			return false
		})
	}
	return b
}

// keep applies the selectors' limits to an event in input order. An event
// matching a rule is always kept, and uses no room in a selector read
// with the rules. A selector that may be left to a second pass (OnlyFor)
// counts it like any other event, as that pass, which runs no rules,
// would (deferred.go): past the limit it keeps its rule, not that
// selector. So does every selector for a match of new_terms rules alone,
// which a later event may show was not new. One matching only limited
// selectors whose keys are all full is dropped and counted.
func (c *collector) keep(h *Event) bool {
	kept := len(h.Rules) > 0
	ruled := slices.ContainsFunc(h.Rules, func(r int) bool { // a finding whatever comes later
		return !slices.ContainsFunc(h.terms, func(t matchTerms) bool { return t.rule == r })
	})
	var full []int
	for _, si := range h.Selectors {
		sel := c.opts.Selectors[si]
		if len(sel.Keys) == 0 || sel.Limit <= 0 || ruled && sel.OnlyFor == nil {
			kept = true
			continue
		}
		ek := h.keys[slices.Index(h.Selectors, si)]
		k := selectorKey{si, ek.key}
		ks := c.kept[k]
		if ks == nil {
			if len(sel.Group) > 0 && sel.GroupLimit > 0 && !c.admitKey(sel, k, ek) {
				full = append(full, si)
				continue
			}
			ks = &keptEvents{}
			c.kept[k] = ks
		}
		if h.Raw != nil && ks.holds(h.sum) {
			// A copy of an event kept for this key takes no place, and
			// is no more of them (a command written twice ran once).
			// One of an event let go for an earlier one would not be
			// kept either: it is no earlier than those kept.
			full = append(full, si)
			continue
		}
		if c.admit(ks, sel, k, h) {
			kept = true
		} else {
			c.dropped[k]++
			full = append(full, si)
		}
	}
	if kept && len(full) > 0 {
		// Kept for another selector: it stays, but not as one of these.
		h.keepSelectors(func(si int) bool { return !slices.Contains(full, si) })
	}
	return kept
}

// keepSelectors keeps of h's selectors (and their keys) those keep says.
func (h *Event) keepSelectors(keep func(si int) bool) {
	var sels []int
	var keys []eventKey
	for i, si := range h.Selectors {
		if keep(si) {
			sels, keys = append(sels, si), append(keys, h.keys[i])
		}
	}
	h.Selectors, h.keys = sels, keys
}

// EvidenceKey names what Options.EvidenceLimit counts: the events about
// one thing that one rule matched (Rule, an index into Options.Rules), or,
// with Rule -1, those the selectors it bounds matched (boundsContext).
type EvidenceKey struct {
	Thing string
	Rule  int
}

// boundsContext reports whether Options.EvidenceLimit bounds a selector's
// events: those of one without Keys and Limit, read with the rules.
// A selector left to a second pass (OnlyFor) is bounded by its own Keys
// and Limit only, so that one pass and two keep the same.
func boundsContext(s Selector) bool { return (len(s.Keys) == 0 || s.Limit <= 0) && s.OnlyFor == nil }

// boundEvidence applies Options.EvidenceLimit to h in input order: each
// rule (but new_terms rules, bounded by their histories) keeps the first
// EvidenceLimit events about one thing that it matched, and the selectors
// boundsContext names, together, the first EvidenceLimit they matched;
// copies of an event kept whole (the same text) take none of those
// places, and the first EvidenceLimit copies of one thing's events are
// kept besides. A rule or those selectors past the limit let h go, and
// count it in Result.MoreEvidence; whatever else holds h still keeps it
// (collector.keep). So no rule's matches push out another's, and a stage
// written a thousand times over leaves room for the stages after it.
func (c *collector) boundEvidence(h *Event) {
	if h.thing == "" || c.opts.EvidenceLimit <= 0 {
		return
	}
	limit := c.opts.EvidenceLimit
	ts := thingSum{h.thing, h.sum}
	copied := c.thingSums[ts]
	if copied && c.copies[h.thing] < limit {
		// A copy of an event kept: kept as that one was, taking none
		// of the places of the events that differ, so that a stage
		// written a thousand times leaves room for the next stage.
		c.copies[h.thing]++
		return
	}
	count := func(rule int) {
		if c.res.MoreEvidence == nil {
			c.res.MoreEvidence = map[EvidenceKey]int64{}
		}
		c.res.MoreEvidence[EvidenceKey{h.thing, rule}]++
	}
	room := func(rule int) bool {
		k := EvidenceKey{h.thing, rule}
		if c.evidence[k] < limit {
			c.evidence[k]++
			return true
		}
		return false
	}
	isBounded := func(r int) bool { return c.opts.Rules[r].NewTerms == nil }
	bounded := func(si int) bool { return boundsContext(c.opts.Selectors[si]) }
	ruled := slices.ContainsFunc(h.Rules, isBounded)
	if copied {
		// Past the copies kept: it goes from everything the limit bounds
		// and from the limited selectors its rules shadowed (which would
		// otherwise take it in), since what held its first copy holds
		// that. Its new_terms rules and the selectors a second pass may
		// read (OnlyFor) keep it as they would in that pass.
		for _, r := range h.Rules {
			if isBounded(r) {
				count(r)
			}
		}
		if !ruled && slices.ContainsFunc(h.Selectors, bounded) {
			count(-1)
		}
		h.Rules = slices.DeleteFunc(h.Rules, isBounded)
		h.keepSelectors(func(si int) bool { return c.opts.Selectors[si].OnlyFor != nil })
		return
	}
	kept := false
	h.Rules = slices.DeleteFunc(h.Rules, func(r int) bool {
		if !isBounded(r) {
			return false
		}
		if room(r) {
			kept = true
			return false
		}
		count(r)
		return true
	})
	if slices.ContainsFunc(h.Selectors, bounded) {
		if room(-1) {
			kept = true
		} else {
			// Counted only for events no rule matched: a match is
			// counted once, as its rule's.
			if !ruled {
				count(-1)
			}
			h.keepSelectors(func(si int) bool { return !bounded(si) })
		}
	}
	if kept {
		c.thingSums[ts] = true // its copies are copies of a kept event
	}
}

// thingSum names an event's text (Event.sum) among one thing's.
type thingSum struct {
	thing string
	sum   uint64
}

func (c *collector) add(r chunkResult) {
	c.pending[chunkKey{r.c.input, r.c.seq}] = r
	for {
		k := chunkKey{c.input, c.next}
		r, ok := c.pending[k]
		if !ok {
			return
		}
		delete(c.pending, k)
		c.next++
		if r.c.end {
			c.input, c.next = c.input+1, 0
		}
		c.fold(r)
	}
}

func (c *collector) fold(r chunkResult) {
	ch := r.c
	st := &c.res.Inputs[ch.input]
	base := c.lines[ch.input]
	if ch.recs != nil {
		base = 0 // lines are input lines already
	}
	if ch.end {
		st.RawBytes = ch.rawBytes
		st.Compression, st.Encoding = ch.compression, ch.encoding
		st.Layout = ch.layout
		st.Lines += ch.lines
		st.Bytes += ch.span
		c.bytes += ch.span
		if ch.err != nil && st.Err == nil {
			var re *ReadError
			if errors.As(ch.err, &re) {
				re.Line = st.Lines
			}
			st.Err = ch.err
		}
		c.raw += ch.rawBytes
		c.rawDone = 0
		c.report(ch.input)
		return
	}
	if r.fault != nil || c.faulted[ch.input] {
		// The file lost pages under a chunk: what follows that chunk is
		// not what was there when the scan started, so the input stops
		// where the damage starts.
		if !c.faulted[ch.input] {
			c.faulted[ch.input] = true
			st.Err = &ReadError{Input: st.Name, RawOffset: ch.offset, Offset: ch.offset, Line: st.Lines, Err: r.fault}
		}
		return
	}
	st.Bytes += ch.span
	c.bytes += ch.span
	if ch.overlong {
		line := base + 1
		if ch.recs != nil {
			line = ch.recs[0].line
			st.Lines += ch.lines
		} else {
			st.Lines++
			c.lines[ch.input]++
		}
		st.Records++
		st.Overlong++
		c.problem(Problem{Input: ch.input, Line: line, Offset: ch.offset, Index: ch.recIndex(0),
			Reason: fmt.Sprintf("longer than %d bytes, skipped", c.opts.MaxLineSize)})
		return
	}
	if ch.recs != nil {
		st.Lines += ch.lines
		st.Records += int64(len(ch.recs))
	} else {
		st.Lines += r.lines
		st.Records += r.lines - r.blank
		c.lines[ch.input] += r.lines
	}
	st.Blank += r.blank
	st.Events += r.events
	st.Parsed += r.parsed
	st.Malformed += r.malformed
	st.Skipped += r.skipped
	st.Envelopes += r.envelopes
	st.Unwrapped += r.unwrapped
	st.Joined += r.joined
	st.probed += r.probed
	for k, v := range r.shapes {
		st.Shapes[k] += v
	}
	for k, v := range r.skips {
		st.SkipReasons[k] += v
	}
	for _, p := range r.problems {
		p.Input = ch.input
		p.Line += base
		c.problem(p)
	}
	for _, h := range r.hits {
		h.Line += base
		c.boundEvidence(&h)
		c.observeTerms(&h)
		if !c.keep(&h) {
			continue
		}
		c.matches++
		if max := c.opts.MaxEvents; max != 0 && (max < 0 || len(c.res.Events) >= max) {
			c.res.MoreEvents++
			continue
		}
		c.res.Events = append(c.res.Events, h)
	}
	c.compact()
	c.rawDone = ch.rawPos
	c.events += r.events
	c.report(ch.input)
}

func (c *collector) problem(p Problem) {
	if len(c.res.Problems) < c.opts.MaxProblems {
		c.res.Problems = append(c.res.Problems, p)
	}
}

func (c *collector) report(input int) {
	if c.opts.Progress == nil {
		return
	}
	c.opts.Progress(Progress{
		Input:      c.res.Inputs[input].Name,
		InputIndex: input,
		RawBytes:   c.raw + c.rawDone,
		Bytes:      c.bytes,
		Events:     c.events,
		Matches:    c.matches,
	})
}

// produce reads the inputs one after the other and cuts them into
// line-aligned chunks. It is the only goroutine doing I/O and decompression.
// produce reads the inputs, several at once (one per worker, so several
// gzip inputs are decompressed in parallel), and sends their chunks to
// the workers. Each input's chunks are numbered from 0, its end chunk
// last; the collector restores input order.
func produce(ctx context.Context, inputs []Input, opts Options, plan *plan, pool *sync.Pool, work chan<- *chunk) {
	defer close(work)
	// Standard input may be listed more than once: the first listing reads
	// it to the end, and each later one waits for the one before.
	turn := make([]chan struct{}, len(inputs))
	for i, in := range inputs {
		if in.Name == Stdin {
			turn[i] = make(chan struct{})
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(max(opts.Workers, 1), len(inputs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(inputs) {
					return
				}
				if !stdinTurn(ctx, turn, i) || !readInput(ctx, i, inputs[i], opts, plan, pool, work) {
					return
				}
				if turn[i] != nil {
					close(turn[i])
				}
			}
		}()
	}
	wg.Wait()
}

// stdinTurn waits, for a listing of standard input, until the listing
// before it is read. It reports false when the scan was cancelled.
func stdinTurn(ctx context.Context, turn []chan struct{}, i int) bool {
	if turn[i] == nil {
		return true
	}
	for j := i - 1; j >= 0; j-- {
		if turn[j] != nil {
			select {
			case <-turn[j]:
			case <-ctx.Done():
				return false
			}
			break
		}
	}
	return true
}

// readInput sends the chunks of one input, then its end chunk. It reports
// false when the scan was cancelled.
func readInput(ctx context.Context, i int, in Input, opts Options, plan *plan, pool *sync.Pool, work chan<- *chunk) bool {
	seq := 0
	var f *filter
	var sample []byte // of the first chunk, until the filter adapts to it
	var learnt chan *filter
	size := int64(-1) // of a mapped file, where the reader knows it
	probed := &atomic.Bool{}
	// Learning never outlives the input's reading (an input that ends
	// before adaptedChunk waits for what it started).
	defer func() {
		if learnt != nil {
			<-learnt
		}
	}()
	// send hands c to the workers and reports whether the scan goes on.
	// Every chunk read is scanned, even once the scan is cancelled: the
	// workers take what is sent until the channel closes, and a report
	// that covers "what was read" must. The reader stops at the next one.
	send := func(c *chunk) bool {
		switch {
		case c.end:
		case seq == 0:
			sample = plan.adaptSampleOf(c.data)
		case seq == adaptChunk && sample != nil && (size < 0 || size > int64(adaptedChunk)*int64(opts.ChunkSize)):
			// Learning runs beside the workers instead of holding up the
			// chunks behind this one.
			learnt = make(chan *filter, 1)
			go func(sample []byte) { learnt <- plan.adapt(sample) }(sample)
			sample = nil
		case seq == adaptedChunk && learnt != nil:
			f, learnt = <-learnt, nil
		}
		c.seq, c.filter, c.probed = seq, f, probed
		seq++
		work <- c
		return ctx.Err() == nil
	}
	end := &chunk{input: i, end: true}
	s, err := open(ctx, in, opts.Stdin)
	if err != nil {
		end.err = fmt.Errorf("%s: %w", in.Name, err)
		if ctx.Err() != nil {
			end.err = nil // interrupted before the first byte: no damage in the input
		}
		return send(end)
	}
	end.compression = s.compression
	end.layout, err = sniff(s)
	end.encoding = s.encoding
	if err != nil {
		end.err = fmt.Errorf("%s: %w", in.Name, err)
		end.rawBytes = s.raw.n()
		s.close()
		if ctx.Err() != nil {
			end.err = nil // the read was interrupted: no damage in the input
		}
		return send(end)
	}
	var ok bool
	switch {
	case mappable(s, end.layout):
		size = s.size
		ok = readMapped(ctx, in.Name, i, s.file, s.size, opts, send, end)
	case end.layout == LayoutJSON:
		ok = readRecordChunks(ctx, in.Name, i, s, newJSONSplitter(s), opts, pool, send, end)
		end.rawBytes = s.raw.n()
	case end.layout == LayoutCSV:
		ok = readRecordChunks(ctx, in.Name, i, s, newCSVSplitter(s), opts, pool, send, end)
		end.rawBytes = s.raw.n()
	case end.layout == LayoutCRI:
		ok = readRecordChunks(ctx, in.Name, i, s, newCRISplitter(s), opts, pool, send, end)
		end.rawBytes = s.raw.n()
	case end.layout == LayoutDocker:
		ok = readRecordChunks(ctx, in.Name, i, s, newDockerSplitter(s), opts, pool, send, end)
		end.rawBytes = s.raw.n()
	default:
		ok = readChunks(ctx, in.Name, i, s, opts, pool, send, end)
		end.rawBytes = s.raw.n()
	}
	s.close()
	// An input the cancellation interrupted still ends, with what was
	// read of it, and no error: the stop is no damage in the input.
	if ctx.Err() != nil {
		end.err = nil
	}
	return send(end) && ok
}

// readChunks cuts one stream into chunks that end at a newline. A line
// longer than a chunk grows the buffer up to MaxLineSize plus its newline;
// a line longer than that is skipped up to its newline and sent as an
// overlong marker.
// It reports false when the scan was cancelled.
func readChunks(ctx context.Context, name string, input int, s *stream, opts Options, pool *sync.Pool, send func(*chunk) bool, end *chunk) bool {
	var offset int64
	var carry []byte  // start of a line continued in the next chunk
	var padding int64 // NUL padding dropped before the next chunk's data (nulPadding)
	for {
		if ctx.Err() != nil {
			return false
		}
		bufp := pool.Get().(*[]byte)
		if len(carry) > cap(*bufp) {
			// The carried line start came from a grown buffer and does
			// not fit a pooled one; copying it would drop its tail.
			pool.Put(bufp)
			bigger := make([]byte, len(carry))
			bufp = &bigger
		}
		buf := (*bufp)[:cap(*bufp)]
		n := copy(buf, carry)
		carry = nil
		var readErr error
		for {
			for n < len(buf) && readErr == nil {
				var m int
				m, readErr = s.Read(buf[n:])
				n += m
			}
			// A full buffer without a newline holds (the start of) a line
			// as long as the buffer, whether or not the reader reported
			// EOF with its last bytes (gzip does, plain files do not).
			if readErr != nil && n < len(buf) || bytes.LastIndexByte(buf[:n], '\n') >= 0 {
				break
			}
			// The buffer holds the start of one line: padding is dropped
			// before it can make the line overlong.
			if drop := nulPadding(buf[:n]); drop > 0 {
				n = copy(buf, buf[drop:n])
				offset += int64(drop)
				padding += int64(drop)
				continue
			}
			// A line bigger than the buffer: grow, or give up on the line
			// once it is longer than MaxLineSize (the buffer's last byte
			// is room for the newline).
			if len(buf) > opts.MaxLineSize {
				offset = skipLine(s, buf[:n], offset, padding, input, send)
				n, padding = 0, 0
				if offset < 0 {
					return false
				}
				continue
			}
			// Doubling plus one byte reaches MaxLineSize+1 without a last
			// one-byte step when the sizes are powers of two.
			bigger := make([]byte, min(2*len(buf)+1, opts.MaxLineSize+1))
			copy(bigger, buf[:n])
			pool.Put(bufp)
			bufp, buf = &bigger, bigger
		}
		data := buf[:n]
		interrupted := readErr != nil && ctx.Err() != nil
		if interrupted {
			// The lines read before the cancellation are scanned; the
			// start of a line is not a line.
			data = data[:bytes.LastIndexByte(data, '\n')+1]
		}
		if readErr == nil {
			cut := bytes.LastIndexByte(data, '\n') + 1
			carry = append([]byte(nil), data[cut:]...)
			data = data[:cut]
		}
		if len(data) > 0 {
			if !send(&chunk{input: input, offset: offset, data: data, buf: bufp, rawPos: s.raw.n(), span: padding + int64(len(data)), padding: padding}) {
				return false
			}
			offset += int64(len(data))
			padding = 0
		} else {
			pool.Put(bufp)
		}
		if interrupted {
			return false
		}
		if readErr != nil {
			if readErr != io.EOF {
				end.err = &ReadError{Input: name, RawOffset: s.raw.n(), Offset: offset, Err: readErr, Decoded: s.decodedOnly()}
			}
			return true
		}
	}
}

// skipLine discards the rest of an overlong line, sends its marker (its
// span counting the padding dropped before it), and returns the offset
// after its newline (or -1 if the scan was cancelled). Memory stays at one
// buffer however long the line is.
func skipLine(s *stream, head []byte, offset, padding int64, input int, send func(*chunk) bool) int64 {
	lineStart := offset
	offset += int64(len(head))
	scratch := head[:cap(head)]
	for {
		m, err := s.Read(scratch)
		if i := bytes.IndexByte(scratch[:m], '\n'); i >= 0 {
			offset += int64(i + 1)
			// Put the bytes after the newline back in front for the caller.
			s.Reader = io.MultiReader(bytes.NewReader(append([]byte(nil), scratch[i+1:m]...)), s.Reader)
			break
		}
		offset += int64(m)
		if err != nil {
			break
		}
	}
	if !send(&chunk{input: input, offset: lineStart - padding, overlong: true, span: padding + offset - lineStart}) {
		return -1
	}
	return offset
}

// nulPadding returns how many bytes at the start of data, the start of a
// line longer than a chunk, a reader drops: the NUL bytes it starts with
// but the last. copytruncate rotation leaves a hole of NULs as long as the
// file was when it was cut, where the writer goes on, and counted as part
// of the line the hole would make the event after it overlong. trimLine
// strips the NUL left, so the event is read as after a short hole, and a
// line of nothing but NULs is still malformed. The bytes dropped are
// counted in the span of the chunk after them; no newline is among them,
// so every line keeps its number.
func nulPadding(data []byte) int {
	n := 0
	for n < len(data) && data[n] == 0 {
		n++
	}
	return max(n-1, 0)
}

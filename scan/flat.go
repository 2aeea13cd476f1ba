package scan

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/k8sexec/k8sexec/rules"
	"github.com/tidwall/gjson"
)

// One-pass field extraction. Matching a line against many rules through
// the adapters' documents looks every field up from the top of the event,
// once per condition: with Elastic's rule set loaded that is dozens of
// walks over the same line. A flatPlan lists the fields the matchers read
// as a tree of member names; one walk over the line collects the values
// of all of them, and the matchers then read those (flatDoc). For a line
// that is one event, that walk is the validation pass itself
// (jsonChecker.walk); flatWalker walks the events it did not. The values
// are exactly the ones the adapter's document gives, in the same order,
// so a rule matches a flat document exactly when it matches the adapter's
// (a fuzz test holds the two to it). Documents that need more than names
// (repeated keys, wrappers, search hits, GKE) keep the adapter's document.

// flatPlan is the extraction for the two shapes it serves: raw audit
// events, read the way rawAuditDoc reads them, and ECS documents, read the
// way ecsDoc does.
type flatPlan struct {
	raw, ecs flatShape
}

// flatShape is the extraction of one shape: the tree of the fields' member
// names from root, and each field's slot (of slots). A negative slot s is
// a constant of the raw mapping, consts[-1-s] (event.dataset: every rule's
// first condition). nonEmpty is set for raw audit events, where "" and {}
// are no values.
type flatShape struct {
	root     *flatNode
	slot     map[*rules.Field]int32
	slots    int
	consts   []gjson.Result
	nonEmpty bool
	// computed is set when some field has no slot: the adapter computes
	// it from the record (event.outcome from an annotation, @timestamp
	// from members of the top level, of raw audit events).
	computed bool
}

// flatNode is a member name along the fields' paths.
type flatNode struct {
	children map[string]*flatNode
	kids     []flatKid // the same, for child1, once the plan is built: by name length, then name
	// byLen[l] is where the kids with names l bytes long start (l below
	// maxKidLen); longer names are from byLen[maxKidLen] on.
	byLen [maxKidLen + 2]uint16
	// slots are the fields whose value this member is.
	slots []int32
	// members, on the raw annotations object, maps each member name with
	// its dots replaced by underscores to the node of its fields; elems
	// then walks the elements of an array there, for the node's own
	// fields only (the adapter reads annotations from an object, not from
	// objects in an array).
	members map[string]*flatNode
	elems   *flatNode
	// memberKids is members as a list, for annotation, once the plan is
	// built.
	memberKids []flatKid
}

func (n *flatNode) child(name string) *flatNode {
	if n.children == nil {
		n.children = map[string]*flatNode{}
	}
	c := n.children[name]
	if c == nil {
		c = &flatNode{}
		n.children[name] = c
	}
	return c
}

func (n *flatNode) path(segs []string) *flatNode {
	for _, s := range segs {
		n = n.child(s)
	}
	return n
}

// newFlatPlan builds the trees for the fields the matchers read. A field
// the raw-audit adapter computes gets no slot: flatDoc asks the adapter's
// document for it.
func newFlatPlan(fields []*rules.Field) *flatPlan {
	p := &flatPlan{
		raw: flatShape{root: &flatNode{}, slot: map[*rules.Field]int32{}, nonEmpty: true},
		ecs: flatShape{root: &flatNode{}, slot: map[*rules.Field]int32{}},
	}
	raw, ecs := &p.raw, &p.ecs
	// Fields of one name share a slot: each rule compiles its own, and a
	// value read by forty rules is recorded once, not forty times.
	ecsByName, rawByName := map[string]int32{}, map[string]int32{}
	for _, f := range fields {
		if slot, ok := ecsByName[f.Name]; ok {
			ecs.slot[f] = slot
			if slot, ok := rawByName[f.Name]; ok {
				raw.slot[f] = slot
			}
			continue
		}
		slot := int32(ecs.slots)
		ecs.slots++
		ecsByName[f.Name] = slot
		ecs.slot[f] = slot
		n := ecs.root.path(f.Segments)
		n.slots = append(n.slots, slot)

		newRawSlot := func() int32 {
			slot := int32(raw.slots)
			raw.slots++
			rawByName[f.Name] = slot
			raw.slot[f] = slot
			return slot
		}
		segs := f.Segments
		if len(segs) > 2 && segs[0] == "kubernetes" && segs[1] == "audit" {
			rest := segs[2:]
			slot := newRawSlot()
			switch {
			case rest[0] == "annotations" && len(rest) == 2:
				a := raw.root.child("annotations")
				if a.members == nil {
					a.members = map[string]*flatNode{}
				}
				m := a.members[rest[1]]
				if m == nil {
					m = &flatNode{}
					a.members[rest[1]] = m
				}
				m.slots = append(m.slots, slot)
			case rest[0] == "annotations" && len(rest) > 2:
				// Dedotted annotation names hold no dots: no value.
			default:
				n := raw.root.path(rest)
				n.slots = append(n.slots, slot)
			}
			continue
		}
		m, ok := rawECSFields[f.Name]
		switch {
		case ok && m.constant != "":
			slot := -1 - int32(len(raw.consts))
			raw.consts = append(raw.consts, m.value)
			rawByName[f.Name] = slot
			raw.slot[f] = slot
			continue
		case ok && m.derive != nil:
			raw.computed = true
			continue
		}
		slot = newRawSlot()
		for _, path := range m.paths {
			n := raw.root.path(path)
			n.slots = append(n.slots, slot)
		}
	}
	if raw.computed {
		// The adapter computes event.outcome and @timestamp from members
		// no field may name: the walk looks them up by name all the same
		// (recording nothing), so that a repeated one sends the record to
		// the adapter's last-wins reading (flatWalker).
		for _, k := range timestampKeys {
			raw.root.child(k)
		}
		a := raw.root.child("annotations")
		if a.members == nil {
			a.members = map[string]*flatNode{}
		}
		if a.members[outcomeAnnotation] == nil {
			a.members[outcomeAnnotation] = &flatNode{}
		}
	}
	if a := raw.root.children["annotations"]; a != nil && a.members != nil {
		a.elems = &flatNode{slots: a.slots}
	}
	raw.root.listKids()
	ecs.root.listKids()
	return p
}

type flatKid struct {
	name string
	node *flatNode
}

// maxKidLen is the longest child name child1 finds by its length alone.
const maxKidLen = 31

// listKids fills kids and byLen from children, below n too.
func (n *flatNode) listKids() {
	n.kids = n.kids[:0]
	for name, c := range n.children {
		n.kids = append(n.kids, flatKid{name, c})
		c.listKids()
	}
	kidLen := func(k flatKid) int { return min(len(k.name), maxKidLen+1) }
	slices.SortFunc(n.kids, func(a, b flatKid) int {
		if la, lb := kidLen(a), kidLen(b); la != lb {
			return la - lb
		}
		return strings.Compare(a.name, b.name)
	})
	k := 0
	for l := range n.byLen {
		for k < len(n.kids) && kidLen(n.kids[k]) < l {
			k++
		}
		n.byLen[l] = uint16(k)
	}
	n.memberKids = n.memberKids[:0]
	for name, m := range n.members {
		n.memberKids = append(n.memberKids, flatKid{name, m})
		m.listKids()
	}
	slices.SortFunc(n.memberKids, func(a, b flatKid) int { return strings.Compare(a.name, b.name) })
	if n.elems != nil {
		n.elems.listKids()
	}
}

// flatVal is one value of the field in slot: the bytes from start to end
// of the record, of the kind it was recorded as. Its gjson.Result is made
// only when a matcher reads it (most values of a line no rule matches are
// never read).
type flatVal struct {
	slot       int32
	kind       leafKind
	start, end int
}

// value is v as the adapter's document gives it.
func (v flatVal) value(rec []byte) gjson.Result { return valueOf(v.kind, rec[v.start:v.end]) }

// flatDoc serves the extracted values, and the adapter's document for
// fields without a slot. head and next chain each slot's values in
// document order (-1 ends a chain).
type flatDoc struct {
	shape    *flatShape
	rec      []byte
	vals     []flatVal
	head     []int32
	next     []int32
	fallback rules.Document
}

// reset makes d the document of vals, found in rec, of shape s.
func (d *flatDoc) reset(s *flatShape, rec []byte, vals []flatVal, fallback rules.Document) {
	d.shape, d.rec, d.vals, d.fallback = s, rec, vals, fallback
	nslots := s.slots
	if cap(d.head) < nslots {
		d.head = make([]int32, nslots)
	}
	d.head = d.head[:nslots]
	for i := range d.head {
		d.head[i] = -1
	}
	if cap(d.next) < len(vals) {
		d.next = make([]int32, len(vals))
	}
	d.next = d.next[:len(vals)]
	// Chain from the back so each chain runs front to back.
	for i := len(vals) - 1; i >= 0; i-- {
		s := vals[i].slot
		d.next[i], d.head[s] = d.head[s], int32(i)
	}
}

func (d *flatDoc) Any(f *rules.Field, test func(gjson.Result) bool) bool {
	slot, ok := d.shape.slot[f]
	switch {
	case !ok:
		return d.fallback.Any(f, test)
	case slot < 0:
		return test(d.shape.consts[-1-slot])
	}
	for i := d.head[slot]; i >= 0; i = d.next[i] {
		if test(d.vals[i].value(d.rec)) {
			return true
		}
	}
	return false
}

// flatVals collects the values of a walk, by where they are in the
// record. nonEmpty is for raw audit events, where "", {} and null are no
// values (null is none anywhere).
type flatVals struct {
	list     []flatVal
	nonEmpty bool
}

func (c *flatVals) reset() { c.list = c.list[:0] }

// record records the value from start to end, of kind kind, for n's
// fields, unless it is one that raw audit events do not have (nonEmpty).
func (c *flatVals) record(n *flatNode, kind leafKind, start, end int) {
	if c.nonEmpty && emptyValue(kind, start, end) {
		return
	}
	for _, s := range n.slots {
		c.list = append(c.list, flatVal{slot: s, kind: kind, start: start, end: end})
	}
}

// emptyValue reports whether the value from start to end, of kind kind, is
// "" or {}: values the ingest pipeline drops from raw audit events. A
// string with escapes is never empty.
func emptyValue(kind leafKind, start, end int) bool {
	return (kind == leafString || kind == leafObject) && end-start == 2
}

// object records the object from start to end for n's fields.
func (c *flatVals) object(n *flatNode, start, end int) { c.record(n, leafObject, start, end) }

// str records the JSON string from start to end (quotes included) for n's
// fields.
func (c *flatVals) str(n *flatNode, start, end int, escaped bool) {
	kind := leafString
	if escaped {
		kind = leafEscaped
	}
	c.record(n, kind, start, end)
}

// scalar records the number or literal starting with first, from start to
// end, for n's fields; null is no value.
func (c *flatVals) scalar(n *flatNode, first byte, start, end int) {
	if first != 'n' {
		c.record(n, leafScalar, start, end)
	}
}

// flatWalker collects the values of one record without validating it: it
// follows the members on the fields' paths and steps over the rest. On
// valid JSON without repeated keys it collects exactly what the checker
// does while it validates (jsonChecker.walk). It serves the records the
// checker did not walk, such as the events inside a wrapper, and raw audit
// lines the scan rules out before validating them (worker.ruledOut).
//
// Any input is safe. extract reports false, and no values, when the text
// is not an object it can follow (cut short, a member without its key or
// colon, a value it cannot tell, nested deeper than maxDepth along a
// field's path) or when an object it looks into by name repeats a key
// that names a field, which only the adapter's last-wins reading gets
// right. Text it reports good may still be invalid JSON where it stepped
// over a value or in a value it kept (a control byte in a string, a bad
// number).
type flatWalker struct {
	data  []byte
	vals  flatVals
	keys  keySets
	depth int
	bad   bool
	// extends is set when the walk stopped at a key that spells a path
	// below a field (flatNode.lookup).
	extends bool
}

// extract walks rec for the fields of shape s and returns the values
// found, and whether rec could be walked (see flatWalker). The values
// point into rec, which must not change while they are used.
func (w *flatWalker) extract(rec []byte, s *flatShape) ([]flatVal, bool) {
	w.data, w.depth, w.bad, w.extends = rec, 0, false, false
	w.vals.reset()
	w.vals.nonEmpty = s.nonEmpty
	w.keys.reset()
	i := skipSpace(rec, 0)
	if i >= len(rec) || rec[i] != '{' {
		return nil, false
	}
	if i = w.object(i, s.root); w.bad || skipSpace(rec, i) != len(rec) {
		return nil, false
	}
	return w.vals.list, true
}

// fail marks the record as one the walker cannot follow and returns the
// offset of its end, where every loop stops.
func (w *flatWalker) fail() int {
	w.bad = true
	return len(w.data)
}

// object walks the object at i with node n and returns the offset after
// it.
func (w *flatWalker) object(i int, n *flatNode) int {
	b := w.data
	if w.depth++; w.depth > maxDepth {
		return w.fail()
	}
	w.keys.push()
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		w.keys.pop()
		w.depth--
		return i + 1
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return w.fail()
		}
		ke, escaped := stringEnd(b, i)
		if ke >= len(b) {
			return w.fail()
		}
		// Only a repeated key that names a field changes what is
		// collected; field names are ASCII, so a key with other bytes
		// names none, and hashes as it is.
		c := n.member(text(b[i:ke], escaped))
		if c == extendsField {
			w.extends = true
			return w.fail()
		}
		if c != nil && w.keys.add(keyHash(b[i+1:ke-1], escaped)) {
			return w.fail()
		}
		if i = skipSpace(b, ke); i >= len(b) || b[i] != ':' {
			return w.fail()
		}
		if i = skipSpace(b, i+1); i >= len(b) {
			return w.fail()
		}
		if c == nil {
			i = skipValue(b, i)
		} else if i = w.value(i, c); w.bad {
			return i
		}
		switch i = skipSpace(b, i); {
		case i >= len(b):
			return w.fail()
		case b[i] == '}':
			w.keys.pop()
			w.depth--
			return i + 1
		case b[i] != ',':
			return w.fail()
		}
		i = skipSpace(b, i+1)
	}
}

// member is the node of the member key of an object walked with n, or nil:
// on the raw annotations object, by annotation, elsewhere by lookup.
func (n *flatNode) member(key string) *flatNode {
	if n.members != nil {
		return n.annotation(key)
	}
	return n.lookup(key)
}

// annotation is the node of the annotation named key: the member whose
// name is key with its dots read as underscores, as the adapter dedots
// annotation names (member names hold no dots). An event has a few
// annotations and the rules read a few: comparing costs less than making
// the dedotted name to look it up.
func (n *flatNode) annotation(key string) *flatNode {
	for _, k := range n.memberKids {
		if len(k.name) == len(key) && dedotsTo(key, k.name) {
			return k.node
		}
	}
	return nil
}

// dedotsTo reports whether key with its dots replaced by underscores is
// name, of the same length.
func dedotsTo(key, name string) bool {
	for i := 0; i < len(key); i++ {
		if c := key[i]; c != name[i] && !(c == '.' && name[i] == '_') {
			return false
		}
	}
	return true
}

// lookup follows a key, dotted or not, from n: "a.b" is a then b, as
// prefixSegments reads it. No child's name holds a dot (names are a
// field's segments), so a key that names a child is one.
//
// A dotted key that goes on past a field's node ("a.b.c" where a is a
// field) makes that field an object holding a value (objectBelow), which
// the walks do not collect: lookup returns extendsField, and the record
// is read through the adapter's document instead.
func (n *flatNode) lookup(key string) *flatNode {
	for n != nil {
		if c := n.child1(key); c != nil {
			return c
		}
		dot := strings.IndexByte(key, '.')
		if dot < 0 {
			return nil
		}
		if n, key = n.child1(key[:dot]), key[dot+1:]; n != nil && len(n.slots) > 0 {
			return extendsField
		}
	}
	return nil
}

// extendsField is what lookup returns for a key that spells a path below
// a field: the walks stop, and the record is not read flat.
var extendsField = &flatNode{}

// child1 is the child named name, or nil. Children are kept by name
// length: most member names of an event are no field's, and their length
// rules out all or all but one of them.
func (n *flatNode) child1(name string) *flatNode {
	l := min(len(name), maxKidLen+1)
	end := len(n.kids)
	if l <= maxKidLen {
		end = int(n.byLen[l+1])
	}
	for i := int(n.byLen[l]); i < end; i++ {
		if k := &n.kids[i]; k.name == name {
			return k.node
		}
	}
	return nil
}

// value walks the value at i (not past the end) for node n: it records it
// for n's fields (every element of an array, at any depth; objects too,
// which only existence tests look into) and descends into objects, and
// objects in arrays, for n's children.
func (w *flatWalker) value(i int, n *flatNode) int {
	b := w.data
	switch b[i] {
	case '{':
		var end int
		if n.children == nil && n.members == nil {
			end = skipValue(b, i)
		} else if end = w.object(i, n); w.bad {
			return end
		}
		if len(n.slots) > 0 && end < len(b) {
			w.vals.object(n, i, end)
		}
		return end
	case '[':
		if w.depth++; w.depth > maxDepth {
			return w.fail()
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == ']' {
			w.depth--
			return i + 1
		}
		if n.elems != nil {
			n = n.elems
		}
		for {
			if i >= len(b) {
				return w.fail()
			}
			if i = w.value(i, n); w.bad {
				return i
			}
			switch i = skipSpace(b, i); {
			case i >= len(b):
				return w.fail()
			case b[i] == ']':
				w.depth--
				return i + 1
			case b[i] != ',':
				return w.fail()
			}
			i = skipSpace(b, i+1)
		}
	case '"':
		end, escaped := stringEnd(b, i)
		if end >= len(b) {
			return w.fail() // cut short: the record's own brace comes after any string
		}
		if len(n.slots) > 0 {
			w.vals.str(n, i, end, escaped)
		}
		return end
	}
	end := scalarEnd(b, i)
	if end == i {
		return w.fail()
	}
	if len(n.slots) > 0 {
		w.vals.scalar(n, b[i], i, end)
	}
	return end
}

// text is the content of the JSON string raw (quotes included): viewed in
// place when it holds no escape, else decoded.
func text(raw []byte, escaped bool) string {
	if !escaped {
		return unsafeString(raw[1 : len(raw)-1])
	}
	return gjson.Parse(unsafeString(raw)).Str
}

// stringValue is the value of the JSON string raw.
func stringValue(raw []byte, escaped bool) gjson.Result {
	return gjson.Result{Type: gjson.String, Raw: unsafeString(raw), Str: text(raw, escaped)}
}

// scalarValue is the value of a number, true or false.
func scalarValue(b []byte) gjson.Result {
	switch raw := unsafeString(b); raw[0] {
	case 't':
		return gjson.Result{Type: gjson.True, Raw: raw}
	case 'f':
		return gjson.Result{Type: gjson.False, Raw: raw}
	default:
		return gjson.Parse(raw)
	}
}

// stringEnd returns the offset after the string starting at i (a quote),
// and whether it holds an escape.
func stringEnd(b []byte, i int) (int, bool) {
	// Eight bytes at a time: the first quote or backslash is the lowest
	// flagged byte (see specialBytes).
	j := i + 1
	for ; j+8 <= len(b); j += 8 {
		if m := quoteOrBackslash(binary.LittleEndian.Uint64(b[j:])); m != 0 {
			j += bits.TrailingZeros64(m) / 8
			if b[j] == '"' {
				return j + 1, false // the common string: no escape before the quote
			}
			return escapedStringEnd(b, j)
		}
	}
	for ; j < len(b); j++ {
		switch b[j] {
		case '"':
			return j + 1, false
		case '\\':
			return escapedStringEnd(b, j)
		}
	}
	return len(b), false
}

// escapedStringEnd is stringEnd from the string's first backslash, at j:
// after each escape the next quote or backslash is looked for eight bytes
// at a time too (a request URI holds an escaped & every few bytes).
func escapedStringEnd(b []byte, j int) (int, bool) {
	for j < len(b) { // at a backslash
		j += 2
		for ; j+8 <= len(b); j += 8 {
			if m := quoteOrBackslash(binary.LittleEndian.Uint64(b[j:])); m != 0 {
				j += bits.TrailingZeros64(m) / 8
				break
			}
		}
		for ; j < len(b) && b[j] != '"' && b[j] != '\\'; j++ {
		}
		if j < len(b) && b[j] == '"' {
			return j + 1, true
		}
	}
	return len(b), true
}

// quoteOrBackslash flags the quotes and backslashes among eight bytes (see
// specialBytes).
func quoteOrBackslash(x uint64) uint64 { return bytesEqual(x, '"') | bytesEqual(x, '\\') }

// scalarEnd returns the offset after the number, true, false or null at i.
func scalarEnd(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// skipValue returns the offset after the value at i.
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		end, _ := stringEnd(b, i)
		return end
	case '{', '[':
	default:
		return scalarEnd(b, i)
	}
	if twoByteSIMD {
		return skipNested(b, i)
	}
	var st nesting
	end, _ := st.walk(b, i, len(b))
	return end
}

// nesting is where a walk over an object or array stands: how many
// brackets are open, and whether it is inside a string.
type nesting struct {
	depth    int
	inString bool
}

// walk goes over b from from, stepping over each string whole, until it
// reaches to; it returns the offset after the bracket that closes the
// first one, and true, or where it stopped (to, or past it at the end of
// a string that crossed it), and false.
func (st *nesting) walk(b []byte, from, to int) (int, bool) {
	j := from
	if st.inString {
		// Within a string since before from: its end, as if b[from-1]
		// opened it.
		j, _ = stringEnd(b, from-1)
		st.inString = false
	}
	for ; j < to; j++ {
		switch b[j] {
		case '"':
			end, _ := stringEnd(b, j)
			j = end - 1
		case '{', '[':
			st.depth++
		case '}', ']':
			if st.depth--; st.depth == 0 {
				return j + 1, true
			}
		}
	}
	return j, false
}

// skipBlocks is how many blocks of 32 bytes skipNested has marked at a
// time: an object stepped over is often short.
const skipBlocks = 4

// skipNested is skipValue for the object or array at i, 32 bytes at a
// time (AVX2): a stepped-over subtree (a request's body, its response) was
// a fifth of the CPU time when every line was walked. In a block without
// backslashes the quotes all open or close strings, so the bytes inside
// strings are a prefix XOR of the quote mask, and the brackets outside
// them are checked one by one; a block with a backslash, and the last
// bytes, are walked a string at a time.
func skipNested(b []byte, i int) int {
	var st nesting
	var masks [skipBlocks][4]uint32
	pos := i
blocks:
	for len(b)-pos >= 32 {
		n := min((len(b)-pos)/32, skipBlocks)
		jsonMasksAVX2(&b[pos], n, &masks)
		for k := range n {
			m := &masks[k]
			quotes, backslashes, open, close := m[0], m[1], m[2], m[3]
			if backslashes != 0 {
				end, ok := st.walk(b, pos, pos+32)
				if ok {
					return end
				}
				// The walk may stop past the block: mark blocks from
				// where it did.
				pos = end
				continue blocks
			}
			in := prefixXOR(quotes)
			if st.inString {
				in = ^in
			}
			st.inString = in>>31 != 0
			for s := (open | close) &^ in; s != 0; s &= s - 1 {
				t := bits.TrailingZeros32(s)
				if open>>t&1 != 0 {
					st.depth++
				} else if st.depth--; st.depth == 0 {
					return pos + t + 1
				}
			}
			pos += 32
		}
	}
	end, _ := st.walk(b, pos, len(b))
	return end
}

// prefixXOR sets each bit of x to the XOR of it and the bits below: with
// x the quotes of a block, the bits inside strings (and their opening
// quotes) are set.
func prefixXOR(x uint32) uint32 {
	x ^= x << 1
	x ^= x << 2
	x ^= x << 4
	x ^= x << 8
	x ^= x << 16
	return x
}

// unsafeString views b as a string without copying. The flat values live
// no longer than the chunk they point into.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// leafDoc is a matched event's document for triage, which reads dozens of
// fields of each finding: every value of the event is indexed once by its
// Elasticsearch path (dotted and nested keys joined alike), so each read
// is a scan of a small table instead of a walk. Raw audit events are
// indexed by their own paths and read through the raw adapter's mapping;
// fields the mapping computes, and annotations, come from the adapter's
// document.
//
// The index is built on the document's leafReads+1st read: events only
// looked at briefly (context events a selector's limit drops) never pay
// for it.
//
// Several goroutines may read one leafDoc (triage builds findings in
// parallel, and one event can be in several findings). Triage releases
// the index once the last finding reading the event is built.
type leafDoc struct {
	rec      []byte // valid JSON without repeated keys, never changed
	raw      bool
	fallback rules.Document // safe for concurrent reads
	reads    atomic.Int32
	once     sync.Once
	built    atomic.Bool
	released atomic.Bool
	// Set once, by index: a value per leaf (and per object below the
	// root), in document order, and the paths they are at; for raw audit,
	// the root's members and its annotations (keys dedotted), which the
	// raw mapping's computed fields read.
	leaves []leaf
	paths  []byte
	roots  []member
	annots []member
	// heads[h&(len(heads)-1)] is 1 + the first leaf whose path hashes to
	// a bucket, next[i] 1 + the leaf after leaf i in it (0 ends), in
	// document order.
	heads, next []int32
}

// member is a member of an object in a leafDoc: its value is
// rec[start:end].
type member struct {
	key        string
	start, end uint32
}

func (d *leafDoc) memberValue(m member) gjson.Result {
	return gjson.Parse(unsafeString(d.rec[m.start:m.end]))
}

// member and annotation serve the raw mapping's computed fields
// (rawMembers) from the index, as rawAuditDoc's do from the text.
func (d *leafDoc) member(key string) gjson.Result {
	for _, m := range d.roots {
		if m.key == key {
			return d.memberValue(m)
		}
	}
	return gjson.Result{}
}

func (d *leafDoc) annotation(key string) gjson.Result {
	for _, m := range d.annots {
		if m.key == key {
			return d.memberValue(m)
		}
	}
	return gjson.Result{}
}

// leaf is one value of a leafDoc: its path is paths[path:path+plen], its
// text rec[start:end]. hash is the path's, cut to 32 bits (a leaf of a
// colliding path is told apart by its path): every finding's event keeps
// its leaves until the report is written.
type leaf struct {
	hash       uint32
	path       uint32
	plen       uint32
	start, end uint32
	kind       leafKind
}

type leafKind uint8

const (
	leafString leafKind = iota
	leafEscaped
	leafScalar
	leafObject
)

// value is the leaf's value as gjson would give it.
func (d *leafDoc) value(l *leaf) gjson.Result { return valueOf(l.kind, d.rec[l.start:l.end]) }

// valueOf is the value b, of kind k, as gjson would give it.
func valueOf(k leafKind, b []byte) gjson.Result {
	switch k {
	case leafString, leafEscaped:
		return stringValue(b, k == leafEscaped)
	case leafObject:
		return gjson.Result{Type: gjson.JSON, Raw: unsafeString(b)}
	}
	return scalarValue(b)
}

// pathHash is FNV-1a.
func pathHash[T string | []byte](p T) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(p); i++ {
		h = fnvByte(h, p[i])
	}
	return h
}

func fnvByte(h uint64, c byte) uint64 { return (h ^ uint64(c)) * 1099511628211 }

const leafReads = 2

// leafScratch holds the slices index builds in, grown once per goroutine
// instead of per event; the index keeps exact-size copies, since every
// finding's event keeps its index until the report is written.
var leafScratch = sync.Pool{New: func() any { return new(leafBuild) }}

type leafBuild struct {
	leaves        []leaf
	paths         []byte
	roots, annots []member
}

// index builds the value index of rec.
func (d *leafDoc) index() {
	sc := leafScratch.Get().(*leafBuild)
	d.leaves, d.paths, d.roots, d.annots = sc.leaves[:0], sc.paths[:0], sc.roots[:0], sc.annots[:0]
	d.build()
	sc.leaves, sc.paths, sc.roots, sc.annots = d.leaves, d.paths, d.roots, d.annots
	d.leaves, d.paths = slices.Clone(d.leaves), slices.Clone(d.paths)
	d.roots, d.annots = slices.Clone(d.roots), slices.Clone(d.annots)
	leafScratch.Put(sc)
}

// build fills the index in d's slices.
func (d *leafDoc) build() {
	rec, raw := d.rec, d.raw
	var path []byte
	ph := pathHash(path) // of path, kept up to date as it grows
	depth := 0           // objects entered; the root's keys start the path
	var walk func(i int) int
	add := func(start, end int, kind leafKind) {
		if raw && emptyValue(kind, start, end) {
			return
		}
		l := leaf{hash: uint32(ph), path: uint32(len(d.paths)), plen: uint32(len(path)), start: uint32(start), end: uint32(end), kind: kind}
		if n := len(d.leaves); n > 0 && d.leaves[n-1].hash == l.hash && d.leaves[n-1].plen == l.plen &&
			string(d.paths[d.leaves[n-1].path:][:l.plen]) == string(path) {
			l.path = d.leaves[n-1].path // the elements of an array share it
		} else {
			d.paths = append(d.paths, path...)
		}
		d.leaves = append(d.leaves, l)
	}
	walk = func(i int) int {
		b := rec
		switch b[i] {
		case '{':
			start, n, nested := i, len(path), depth > 0
			depth++
			i = skipSpace(b, i+1)
			h := ph
			for b[i] != '}' {
				ke, escaped := stringEnd(b, i)
				key := text(b[i:ke], escaped)
				if nested {
					path = append(path, '.')
					ph = fnvByte(ph, '.')
				}
				path = append(path, key...)
				for k := 0; k < len(key); k++ {
					ph = fnvByte(ph, key[k])
				}
				i = skipSpace(b, skipSpace(b, ke)+1)
				end := walk(i)
				if raw && !nested {
					d.roots = append(d.roots, member{key: key, start: uint32(i), end: uint32(end)})
				}
				i = skipSpace(b, end)
				path, ph = path[:n], h
				if b[i] == ',' {
					i = skipSpace(b, i+1)
				}
			}
			depth--
			if nested {
				add(start, i+1, leafObject)
			}
			return i + 1
		case '[':
			i = skipSpace(b, i+1)
			for b[i] != ']' {
				i = skipSpace(b, walk(i))
				if b[i] == ',' {
					i = skipSpace(b, i+1)
				}
			}
			return i + 1
		case '"':
			end, escaped := stringEnd(b, i)
			kind := leafString
			if escaped {
				kind = leafEscaped
			}
			add(i, end, kind)
			return end
		}
		end := scalarEnd(b, i)
		if b[i] != 'n' { // null is no value
			add(i, end, leafScalar)
		}
		return end
	}
	if i := skipSpace(rec, 0); i < len(rec) && rec[i] == '{' {
		walk(i)
	}
	size := 1
	for size < 2*len(d.leaves) {
		size *= 2
	}
	d.heads, d.next = make([]int32, size), make([]int32, len(d.leaves))
	for i := len(d.leaves) - 1; i >= 0; i-- {
		b := d.leaves[i].hash & uint32(size-1)
		d.next[i], d.heads[b] = d.heads[b], int32(i+1)
	}
	for _, m := range d.roots {
		if m.key == "annotations" && rec[m.start] == '{' {
			for _, a := range rootOf(rec[m.start:m.end]) {
				d.annots = append(d.annots, member{key: dedot(a.key), start: m.start + uint32(a.start), end: m.start + uint32(a.end)})
			}
		}
	}
}

// Release lets the index go once triage has built the findings that read
// the event; it must not run while another goroutine reads d. Later
// reads go through the fallback, as the first ones do.
func (d *leafDoc) Release() {
	d.released.Store(true)
	d.leaves, d.paths, d.roots, d.annots, d.heads, d.next = nil, nil, nil, nil, nil, nil
}

func (d *leafDoc) Any(f *rules.Field, test func(gjson.Result) bool) bool {
	if d.released.Load() {
		return d.fallback.Any(f, test)
	}
	if !d.built.Load() {
		if d.reads.Add(1) <= leafReads {
			return d.fallback.Any(f, test)
		}
		d.once.Do(func() {
			d.index()
			d.built.Store(true)
		})
	}
	if !d.raw {
		return d.anyAt(f.Name, test)
	}
	if rest, ok := strings.CutPrefix(f.Name, "kubernetes.audit."); ok {
		key, ok := strings.CutPrefix(rest, "annotations.")
		if !ok {
			return d.anyAt(rest, test)
		}
		// As rawAuditDoc reads them: a dedotted key holds no dots.
		if strings.Contains(key, ".") {
			return false
		}
		for _, m := range d.annots {
			if m.key == key && anyValue(d.memberValue(m), nonEmpty(test)) {
				return true
			}
		}
		return false
	}
	m, ok := rawECSFields[f.Name]
	if !ok {
		return false
	}
	if found, computed := m.computed(d, test); computed {
		return found
	}
	for _, p := range m.dotted {
		if d.anyAt(p, test) {
			return true
		}
	}
	return false
}

// anyAt tests the values indexed at path p, in document order.
func (d *leafDoc) anyAt(p string, test func(gjson.Result) bool) bool {
	h := uint32(pathHash(p))
	for i := d.heads[h&uint32(len(d.heads)-1)]; i != 0; i = d.next[i-1] {
		l := &d.leaves[i-1]
		if l.hash == h && string(d.paths[l.path:l.path+l.plen]) == p && test(d.value(l)) {
			return true
		}
	}
	return false
}

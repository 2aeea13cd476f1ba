package inflate

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math/bits"
)

// ErrChecksum: a member's CRC-32 or length does not match its data.
var ErrChecksum = errors.New("gzip: invalid checksum")

// ErrHeader: the data is not a gzip member where one should start.
var ErrHeader = errors.New("gzip: invalid header")

// ErrTrailing: bytes follow the last member that do not start another one
// (zero padding, garbage). Everything before them was decoded; GNU gzip
// warns of them the same way.
var ErrTrailing = errors.New("gzip: trailing bytes after the last member are not gzip")

// CorruptError is damaged DEFLATE data.
type CorruptError struct {
	// Offset is the count of compressed bytes consumed when the damage
	// was seen (it lies before, in the last few bytes).
	Offset int64
	Reason string
}

func (e *CorruptError) Error() string {
	return "corrupt deflate data: " + e.Reason
}

const (
	// Primary table sizes: codes longer than these go through a
	// second-level table.
	litBits  = 11
	distBits = 8
	clenBits = 7 // code length codes are at most 7 bits long

	maxMatch = 258
	window   = 32 << 10
	// directMin is the smallest buffer Read decodes into directly: a
	// match must fit, and match copies may write 8 bytes past its end.
	directMin = 1 << 10
	inSize    = 128 << 10
)

// A table entry (uint32): bits 0-4 the code's length in bits, bits 5-7 its
// kind, bits 8-11 the extra bits that follow it (for a subtable entry: the
// subtable's index bits), bits 16-31 its value (a literal byte, a length
// or distance base, a subtable's offset).
const (
	kindLit  = 0 << 5 // also a distance code
	kindLen  = 1 << 5
	kindEOB  = 2 << 5
	kindSub  = 3 << 5
	kindBad  = 4 << 5 // no code, or a symbol DEFLATE does not define
	kindMask = 7 << 5
)

var (
	lengthBase  = [29]uint32{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint32{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]uint32{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint32{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	// clenOrder is the order code length code lengths are stored in.
	clenOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

// Each symbol's table entry, without its code length.
var litEntries, distEntries, clenEntries = func() (lit [288]uint32, dist [32]uint32, clen [19]uint32) {
	for sym := range lit {
		switch {
		case sym < 256:
			lit[sym] = kindLit | uint32(sym)<<16
		case sym == 256:
			lit[sym] = kindEOB
		case sym < 286:
			i := sym - 257
			lit[sym] = kindLen | lengthExtra[i]<<8 | lengthBase[i]<<16
		default:
			lit[sym] = kindBad
		}
	}
	for sym := range dist {
		dist[sym] = kindBad
		if sym < 30 {
			dist[sym] = kindLit | distExtra[sym]<<8 | distBase[sym]<<16
		}
	}
	for sym := range clen {
		clen[sym] = kindLit | uint32(sym)<<16
	}
	return
}()

// buildTable returns the decoding table for a canonical Huffman code given
// by its code lengths, in t's storage; entries[sym] is symbol sym's entry
// without its length. A table is indexed by the next primary bits of input
// (DEFLATE packs codes starting from their most significant bit, so
// entries sit at bit-reversed codes). It reports false for a code that
// assigns more than all bit patterns, or fewer (except a lone code one bit
// long, which zlib writes and accepts); a code with no symbols gives a
// table of bad entries.
func buildTable(t []uint32, lens []uint8, primary uint, entries []uint32) ([]uint32, bool) {
	var count [16]int
	maxLen := 0
	for _, l := range lens {
		count[l&15]++
		maxLen = max(maxLen, int(l&15))
	}
	size := 1 << primary
	if cap(t) < size {
		t = make([]uint32, size, 2*size)
	}
	t = t[:size]
	left := 1
	for l := 1; l <= 15; l++ {
		left = left<<1 - count[l]
		if left < 0 {
			return t, false
		}
	}
	if left > 0 {
		if maxLen != 0 && !(maxLen == 1 && count[1] == 1) {
			return t, false
		}
		// Empty, or the lone one-bit code: the patterns no code takes
		// are bad. A complete code overwrites every entry below.
		for i := range t {
			t[i] = kindBad
		}
		if maxLen == 0 {
			return t, true
		}
	}
	var next [16]int
	code := 0
	for l := 1; l <= 15; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	// Codes up to primary bits fill their entries at once; the longer ones
	// wait for their second-level tables.
	var long longCodes
	for sym, l := range lens {
		if l == 0 {
			continue
		}
		r := int(bits.Reverse16(uint16(next[l])) >> (16 - l))
		next[l]++
		if uint(l) > primary {
			long.sym[long.n], long.code[long.n] = uint16(sym), uint16(r)
			long.n++
			continue
		}
		e := entries[sym] | uint32(l)
		for i := r; i < size; i += 1 << l {
			t[i] = e
		}
	}
	if long.n > 0 {
		t = long.fill(t, lens, primary, entries)
	}
	return t, true
}

// longCodes are the codes of a table longer than its primary bits.
type longCodes struct {
	n    int
	sym  [320]uint16
	code [320]uint16 // bit-reversed
}

// fill makes the second-level tables, one per primary prefix of the long
// codes, as wide as the longest code under it, and fills them (a complete
// code takes every entry).
func (lc *longCodes) fill(t []uint32, lens []uint8, primary uint, entries []uint32) []uint32 {
	size := 1 << primary
	var width [1 << litBits]uint8
	for k := range lc.n {
		p := int(lc.code[k]) & (size - 1)
		width[p] = max(width[p], lens[lc.sym[k]])
	}
	for k := range lc.n {
		p := int(lc.code[k]) & (size - 1)
		if width[p] == 0 {
			continue // its table is made
		}
		sb := uint(width[p]) - primary
		width[p] = 0
		t[p] = kindSub | uint32(sb)<<8 | uint32(len(t))<<16
		t = append(t, make([]uint32, 1<<sb)...)
	}
	for k := range lc.n {
		sym, r := int(lc.sym[k]), int(lc.code[k])
		l := uint(lens[sym])
		sub := t[r&(size-1)]
		off, sb := int(sub>>16), uint(sub>>8)&15
		e := entries[sym] | uint32(l)
		for i := r >> primary; i < 1<<sb; i += 1 << (l - primary) {
			t[off+i] = e
		}
	}
	return t
}

// Fixed Huffman tables (RFC 1951, 3.2.6).
var fixedLit, fixedDist = func() ([]uint32, []uint32) {
	var lens [288]uint8
	for i := range lens {
		switch {
		case i < 144:
			lens[i] = 8
		case i < 256:
			lens[i] = 9
		case i < 280:
			lens[i] = 7
		default:
			lens[i] = 8
		}
	}
	lit, _ := buildTable(nil, lens[:], litBits, litEntries[:])
	var dl [32]uint8
	for i := range dl {
		dl[i] = 5
	}
	dist, _ := buildTable(nil, dl[:], distBits, distEntries[:])
	return lit, dist
}()

// Reader states.
const (
	stMember = iota // a gzip member header is next (or the end)
	stBlock         // a block header is next
	stStored        // inside a stored block
	stHuff          // inside a Huffman block
)

// Reader decompresses gzip data (RFC 1952: one member or several in a row,
// each a DEFLATE stream, RFC 1951). It decodes straight into the buffer
// passed to Read, keeping a copy of the last 32 KiB of output for matches
// that reach back before it, so a caller reading large buffers copies
// nothing. Each member's CRC-32 and length are checked.
type Reader struct {
	r    io.Reader
	in   []byte
	ip   int // next unread byte of in
	end  int // end of the bytes read into in
	rerr error
	base int64 // input offset of in[0]

	bb uint64 // bit buffer: bits above nb are zero or the stream's next bits
	nb uint

	st      int
	final   bool
	stored  int
	lit     []uint32
	dist    []uint32
	dynLit  []uint32
	dynDist []uint32
	clen    []uint32
	lens    [320]uint8
	hist    [window]byte
	histLen int
	total   int64 // bytes output by this member
	crc     uint32
	members int
	err     error
	small   [4 << 10]byte
	pending []byte
}

// NewReader reads gzip data from r, which it buffers itself.
func NewReader(r io.Reader) (*Reader, error) {
	z := &Reader{}
	if err := z.Reset(r); err != nil {
		return nil, err
	}
	return z, nil
}

// Reset makes z read the gzip data of r as a new Reader would, keeping
// its buffers: a folder of thousands of small gzip files otherwise
// allocates and clears some 170 KiB for each. Its window and small
// output buffer are not cleared: only what is written there is read.
func (z *Reader) Reset(r io.Reader) error {
	in := z.in
	if in == nil {
		in = make([]byte, inSize)
	}
	z.r, z.in, z.ip, z.end, z.rerr, z.base = r, in, 0, 0, nil, 0
	z.bb, z.nb = 0, 0
	z.st, z.final, z.stored = 0, false, 0
	z.lit, z.dist = nil, nil
	z.histLen, z.total, z.crc, z.members, z.err, z.pending = 0, 0, 0, 0, nil, nil
	if err := z.member(); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	return nil
}

// InputOffset is the count of compressed bytes consumed so far.
func (z *Reader) InputOffset() int64 {
	return z.base + int64(z.ip) - int64(z.nb/8)
}

// Read decodes into p. It returns io.EOF after the last member's trailer.
func (z *Reader) Read(p []byte) (int, error) {
	if len(z.pending) > 0 {
		n := copy(p, z.pending)
		z.pending = z.pending[n:]
		return n, nil
	}
	if z.err != nil {
		return 0, z.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if len(p) >= directMin {
		n, err := z.decode(p)
		z.err = err
		return n, err
	}
	n, err := z.decode(z.small[:])
	z.err = err
	z.pending = z.small[:n]
	m := copy(p, z.pending)
	z.pending = z.pending[m:]
	if len(z.pending) > 0 {
		return m, nil
	}
	return m, err
}

func (z *Reader) corrupt(reason string) error {
	return &CorruptError{Offset: z.InputOffset(), Reason: reason}
}

// fill reads more input, keeping the unread bytes. It reports false when
// the input has ended (or failed).
func (z *Reader) fill() bool {
	if z.rerr != nil {
		return false
	}
	if z.ip > 0 {
		copy(z.in, z.in[z.ip:z.end])
		z.base += int64(z.ip)
		z.end -= z.ip
		z.ip = 0
	}
	m, err := z.r.Read(z.in[z.end:])
	z.end += m
	if err != nil {
		z.rerr = err
	}
	return m > 0 || err == nil
}

// refill loads input into the bit buffer until it holds more than 56 bits
// or the input has ended.
func (z *Reader) refill() {
	for z.nb <= 56 {
		if z.ip+8 <= z.end {
			z.bb |= binary.LittleEndian.Uint64(z.in[z.ip:]) << z.nb
			z.ip += int((63 - z.nb) >> 3)
			z.nb |= 56
			return
		}
		if z.ip == z.end && !z.fill() {
			return
		}
		if z.ip < z.end {
			z.bb |= uint64(z.in[z.ip]) << z.nb
			z.ip++
			z.nb += 8
		}
	}
}

// inputErr is the error for input that ended before the data did.
func (z *Reader) inputErr() error {
	if z.rerr != nil && z.rerr != io.EOF {
		return z.rerr
	}
	return io.ErrUnexpectedEOF
}

// need makes the bit buffer hold at least n bits.
func (z *Reader) need(n uint) error {
	if z.nb < n {
		z.refill()
		if z.nb < n {
			return z.inputErr()
		}
	}
	return nil
}

func (z *Reader) take(n uint) uint32 {
	v := uint32(z.bb & (1<<n - 1))
	z.bb >>= n
	z.nb -= n
	return v
}

// byte reads one byte at a byte boundary (headers and trailers).
func (z *Reader) byte() (byte, error) {
	if err := z.need(8); err != nil {
		return 0, err
	}
	return byte(z.take(8)), nil
}

// member reads a gzip member header, or reports io.EOF when the input
// ends where one would start.
func (z *Reader) member() error {
	var h [10]byte
	for i := range h {
		b, err := z.byte()
		if err != nil {
			if i == 0 && err == io.ErrUnexpectedEOF {
				return io.EOF
			}
			if i < 2 && z.members > 0 && err == io.ErrUnexpectedEOF {
				return ErrTrailing
			}
			return err
		}
		h[i] = b
		if i < 2 && b != []byte{0x1f, 0x8b}[i] {
			if z.members > 0 {
				return ErrTrailing
			}
			return ErrHeader
		}
	}
	if h[2] != 8 || h[3]&0xe0 != 0 {
		return ErrHeader
	}
	flg := h[3]
	hcrc := crc32.Update(0, crc32.IEEETable, h[:])
	read := func() (byte, error) {
		b, err := z.byte()
		if err == nil {
			hcrc = crc32.Update(hcrc, crc32.IEEETable, []byte{b})
		}
		return b, err
	}
	if flg&0x04 != 0 { // FEXTRA
		lo, err := read()
		if err != nil {
			return err
		}
		hi, err := read()
		if err != nil {
			return err
		}
		for range int(lo) | int(hi)<<8 {
			if _, err := read(); err != nil {
				return err
			}
		}
	}
	for _, f := range []byte{0x08, 0x10} { // FNAME, FCOMMENT: zero-terminated
		if flg&f == 0 {
			continue
		}
		for {
			b, err := read()
			if err != nil {
				return err
			}
			if b == 0 {
				break
			}
		}
	}
	if flg&0x02 != 0 { // FHCRC
		lo, err := z.byte()
		if err != nil {
			return err
		}
		hi, err := z.byte()
		if err != nil {
			return err
		}
		if uint16(hcrc) != uint16(lo)|uint16(hi)<<8 {
			return ErrHeader
		}
	}
	z.st, z.final, z.total, z.crc, z.histLen = stBlock, false, 0, 0, 0
	z.members++
	return nil
}

// trailer checks the member's CRC-32 and length.
func (z *Reader) trailer() error {
	z.take(z.nb & 7)
	var t [8]byte
	for i := range t {
		b, err := z.byte()
		if err != nil {
			return err
		}
		t[i] = b
	}
	if binary.LittleEndian.Uint32(t[:4]) != z.crc || binary.LittleEndian.Uint32(t[4:]) != uint32(z.total) {
		return ErrChecksum
	}
	z.st = stMember
	return nil
}

// decode fills out from the start and returns the count of bytes written.
// It stops when fewer than a match's worth of bytes are left, at the end
// of a member (so that one call's output belongs to one member, whose
// trailer is checked before the call returns), or at an error: io.EOF
// where the next member would start and the input ends.
func (z *Reader) decode(out []byte) (int, error) {
	o := 0
	var err error
	for err == nil {
		switch z.st {
		case stMember:
			err = z.member()
		case stBlock:
			if z.final {
				z.finish(out[:o])
				return o, z.trailer()
			}
			err = z.blockHeader()
		case stStored:
			if o, err = z.copyStored(out, o); z.st == stStored {
				z.finish(out[:o])
				return o, err
			}
		case stHuff:
			if o, err = z.huffman(out, o); z.st == stHuff {
				z.finish(out[:o])
				return o, err
			}
		}
	}
	z.finish(out[:o])
	return o, err
}

// finish accounts for the bytes just written: checksum, length and the
// history later matches may reach back into.
func (z *Reader) finish(b []byte) {
	if len(b) == 0 {
		return
	}
	z.crc = crc32.Update(z.crc, crc32.IEEETable, b)
	z.total += int64(len(b))
	if len(b) >= window {
		copy(z.hist[:], b[len(b)-window:])
		z.histLen = window
		return
	}
	keep := min(z.histLen, window-len(b))
	copy(z.hist[:], z.hist[z.histLen-keep:z.histLen])
	copy(z.hist[keep:], b)
	z.histLen = keep + len(b)
}

func (z *Reader) blockHeader() error {
	if err := z.need(3); err != nil {
		return err
	}
	h := z.take(3)
	z.final = h&1 != 0
	switch h >> 1 {
	case 0:
		z.take(z.nb & 7)
		if err := z.need(32); err != nil {
			return err
		}
		n, nn := z.take(16), z.take(16)
		if n != ^nn&0xffff {
			return z.corrupt("stored block length does not match its complement")
		}
		z.stored, z.st = int(n), stStored
	case 1:
		z.lit, z.dist, z.st = fixedLit, fixedDist, stHuff
	case 2:
		if err := z.dynamic(); err != nil {
			return err
		}
		z.st = stHuff
	default:
		return z.corrupt("reserved block type")
	}
	return nil
}

// dynamic reads a dynamic Huffman block's code tables.
func (z *Reader) dynamic() error {
	if err := z.need(14); err != nil {
		return err
	}
	nlit := int(z.take(5)) + 257
	ndist := int(z.take(5)) + 1
	nclen := int(z.take(4)) + 4
	if nlit > 286 || ndist > 30 {
		return z.corrupt("too many codes")
	}
	var cl [19]uint8
	for i := range nclen {
		if err := z.need(3); err != nil {
			return err
		}
		cl[clenOrder[i]] = uint8(z.take(3))
	}
	var ok bool
	if z.clen, ok = buildTable(z.clen, cl[:], clenBits, clenEntries[:]); !ok {
		return z.corrupt("bad code length code")
	}
	lens := z.lens[:nlit+ndist]
	for i := 0; i < len(lens); {
		if z.nb < clenBits {
			z.refill()
		}
		e := z.clen[z.bb&(1<<clenBits-1)]
		n := uint(e & 31)
		if e&kindMask == kindBad {
			if z.nb < clenBits {
				return z.inputErr()
			}
			return z.corrupt("bad code length")
		}
		if n > z.nb {
			return z.inputErr()
		}
		z.take(n)
		sym := e >> 16
		if sym < 16 {
			lens[i] = uint8(sym)
			i++
			continue
		}
		var rep int
		var val uint8
		switch sym {
		case 16:
			if i == 0 {
				return z.corrupt("repeat with no previous code length")
			}
			if err := z.need(2); err != nil {
				return err
			}
			rep, val = 3+int(z.take(2)), lens[i-1]
		case 17:
			if err := z.need(3); err != nil {
				return err
			}
			rep = 3 + int(z.take(3))
		default:
			if err := z.need(7); err != nil {
				return err
			}
			rep = 11 + int(z.take(7))
		}
		if i+rep > len(lens) {
			return z.corrupt("code lengths repeat past the end")
		}
		for range rep {
			lens[i] = val
			i++
		}
	}
	if lens[256] == 0 {
		return z.corrupt("no end-of-block code")
	}
	if z.dynLit, ok = buildTable(z.dynLit, lens[:nlit], litBits, litEntries[:]); !ok {
		return z.corrupt("bad literal/length code")
	}
	if z.dynDist, ok = buildTable(z.dynDist, lens[nlit:], distBits, distEntries[:]); !ok {
		return z.corrupt("bad distance code")
	}
	z.lit, z.dist = z.dynLit, z.dynDist
	return nil
}

// copyStored copies a stored block's bytes.
func (z *Reader) copyStored(out []byte, o int) (int, error) {
	// The bits above nb are bytes of in the refill loaded ahead; the copy
	// below reads those bytes from in, so the bit buffer lets them go.
	z.bb &= 1<<z.nb - 1
	for z.stored > 0 && o < len(out) && z.nb >= 8 {
		out[o] = byte(z.take(8))
		o++
		z.stored--
	}
	for z.stored > 0 && o < len(out) {
		if z.ip == z.end && !z.fill() {
			return o, z.inputErr()
		}
		n := copy(out[o:min(len(out), o+z.stored)], z.in[z.ip:z.end])
		z.ip += n
		o += n
		z.stored -= n
	}
	if z.stored == 0 {
		z.st = stBlock
	}
	return o, nil
}

// lookup returns t's entry for the code at the bottom of bb, through its
// second-level table when the code is longer than primary bits.
func lookup(t []uint32, bb uint64, primary uint) uint32 {
	e := t[bb&(1<<primary-1)]
	if e&kindMask == kindSub {
		e = t[e>>16+uint32(bb>>primary)&(1<<(e>>8&15)-1)]
	}
	return e
}

// huffman decodes a Huffman block until its end or until out is full.
// The bit buffer and input position live in locals in the loop; every way
// out of it goes through the end, which stores them back.
func (z *Reader) huffman(out []byte, o int) (int, error) {
	lit, dist := z.lit, z.dist
	limit := len(out) - maxMatch - 8
	// Matches may reach back this far before out[0], into the history.
	back := z.histLen
	bb, nb := z.bb, z.nb
	in, ip, end := z.in, z.ip, z.end
	// At most one of these is set when the loop ends early.
	var short bool     // the input ended inside the block
	var corrupt string // why the data is not DEFLATE
loop:
	for o <= limit {
		if ip+8 <= end {
			bb |= binary.LittleEndian.Uint64(in[ip:]) << nb
			ip += int((63 - nb) >> 3)
			nb |= 56
		} else if nb < 56 {
			bb, nb, in, ip, end = z.refillFrom(bb, nb, ip)
		}
		e := lookup(lit, bb, litBits)
		n := uint(e & 31)
		switch e & kindMask {
		case kindLit:
			if n > nb {
				short = true
				break loop
			}
			bb >>= n
			nb -= n
			out[o] = byte(e >> 16)
			o++
			// Literals come in runs, and the refill left bits for
			// a second without refilling.
			if e = lit[bb&(1<<litBits-1)]; e&kindMask == kindLit && uint(e&31) <= nb {
				n = uint(e & 31)
				bb >>= n
				nb -= n
				out[o] = byte(e >> 16)
				o++
			}
			continue
		case kindLen:
		case kindEOB:
			if n > nb {
				short = true
				break loop
			}
			bb >>= n
			nb -= n
			z.st = stBlock
			break loop
		default:
			short, corrupt = nb < 15, "invalid literal/length code"
			break loop
		}
		extra := uint(e >> 8 & 15)
		if n+extra > nb {
			short = true
			break loop
		}
		length := int(e>>16) + int(uint32(bb>>n)&(1<<extra-1))
		bb >>= n + extra
		nb -= n + extra
		if nb < 28 {
			bb, nb, in, ip, end = z.refillFrom(bb, nb, ip)
		}
		d := lookup(dist, bb, distBits)
		n = uint(d & 31)
		extra = uint(d >> 8 & 15)
		if d&kindMask == kindBad || n+extra > nb {
			short, corrupt = nb < 28, "invalid distance code"
			break loop
		}
		distance := int(d>>16) + int(uint32(bb>>n)&(1<<extra-1))
		bb >>= n + extra
		nb -= n + extra
		src := o - distance
		switch {
		case src < 0:
			if distance > o+back {
				corrupt = "distance reaches before the start"
				break loop
			}
			for i := range length {
				if s := src + i; s < 0 {
					out[o+i] = z.hist[back+s]
				} else {
					out[o+i] = out[s]
				}
			}
		case distance >= 8 && (length <= 32 || distance < length):
			// Eight bytes at a time, each read from bytes already
			// written; a call to memmove costs more for short matches.
			for i := 0; i < length; i += 8 {
				binary.LittleEndian.PutUint64(out[o+i:], binary.LittleEndian.Uint64(out[src+i:]))
			}
		case distance >= length:
			copy(out[o:o+length], out[src:src+length])
		case distance == 1:
			c := out[src]
			for i := range length {
				out[o+i] = c
			}
		default:
			for i := range length {
				out[o+i] = out[src+i]
			}
		}
		o += length
	}
	z.bb, z.nb, z.ip = bb, nb, ip
	switch {
	case short:
		// A bad code in the last bits may be a code cut short.
		return o, z.inputErr()
	case corrupt != "":
		return o, z.corrupt(corrupt)
	}
	return o, nil
}

// refillFrom is refill for huffman's locals: it stores them, refills, and
// returns them with the input buffer, which a read may have moved.
func (z *Reader) refillFrom(bb uint64, nb uint, ip int) (uint64, uint, []byte, int, int) {
	z.bb, z.nb, z.ip = bb, nb, ip
	z.refill()
	return z.bb, z.nb, z.in, z.ip, z.end
}

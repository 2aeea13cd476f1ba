package inflate

import (
	"bytes"
	stdgzip "compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
)

// samples are inputs that exercise every kind of block and match: empty,
// incompressible, long runs (distance 1), short periods (distances 2 to
// 7), log-like text with matches up to the window's far end.
func samples() map[string][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 300<<10)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	var logs strings.Builder
	for i := 0; logs.Len() < 2<<20; i++ {
		fmt.Fprintf(&logs, `{"kind":"Event","auditID":"%08x-%04x","stage":"ResponseComplete","verb":"%s","user":{"username":"system:serviceaccount:ns-%d:sa"},"n":%d}`+"\n",
			rng.Uint32(), i%65536, []string{"get", "list", "watch", "create"}[i%4], i%97, rng.IntN(1<<20))
	}
	periods := make([]byte, 0, 200<<10)
	for p := 1; p <= 9; p++ {
		for range 20 << 10 / p {
			for j := range p {
				periods = append(periods, byte('a'+j))
			}
		}
	}
	return map[string][]byte{
		"empty":   nil,
		"one":     []byte("x"),
		"random":  random,
		"logs":    []byte(logs.String()),
		"periods": periods,
		"zeros":   make([]byte, 1<<20+7),
		"mixed":   append(append(append([]byte(nil), random[:70<<10]...), logs.String()[:500<<10]...), random[:3000]...),
	}
}

// compressors are the encoders whose output must decode: klauspost's at
// every kind of level (stored, Huffman only, fast, default, best) and the
// standard library's.
var compressors = map[string]func([]byte) []byte{
	"klauspost-0":  klaus(flate.NoCompression),
	"klauspost-h":  klaus(flate.HuffmanOnly),
	"klauspost-1":  klaus(flate.BestSpeed),
	"klauspost-5":  klaus(5),
	"klauspost-9":  klaus(flate.BestCompression),
	"stdlib-1":     std(stdgzip.BestSpeed),
	"stdlib-6":     std(stdgzip.DefaultCompression),
	"stdlib-9":     std(stdgzip.BestCompression),
	"stdlib-named": stdNamed,
}

func klaus(level int) func([]byte) []byte {
	return func(b []byte) []byte {
		var buf bytes.Buffer
		w, err := gzip.NewWriterLevel(&buf, level)
		if err != nil {
			panic(err)
		}
		w.Write(b)
		w.Close()
		return buf.Bytes()
	}
}

func std(level int) func([]byte) []byte {
	return func(b []byte) []byte {
		var buf bytes.Buffer
		w, _ := stdgzip.NewWriterLevel(&buf, level)
		w.Write(b)
		w.Close()
		return buf.Bytes()
	}
}

// stdNamed writes a header with a name, a comment and an extra field.
func stdNamed(b []byte) []byte {
	var buf bytes.Buffer
	w := stdgzip.NewWriter(&buf)
	w.Name, w.Comment, w.Extra = "audit.log", "rotated", []byte{1, 2, 3, 4}
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// readAll reads r in reads of the given sizes, cycling through them.
func readAll(r io.Reader, sizes []int) ([]byte, error) {
	var out []byte
	buf := make([]byte, 1<<20+512)
	for i := 0; ; i++ {
		n, err := r.Read(buf[:sizes[i%len(sizes)]])
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

var readSizes = [][]int{{1 << 20}, {1}, {7, 300, 1023, 1024, 5000}, {4096}, {1500, 1 << 20, 3}}

func decodeAll(t *testing.T, gz []byte, sizes []int) ([]byte, error) {
	t.Helper()
	z, err := NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	return readAll(z, sizes)
}

func TestDecodesWhatEncodersWrite(t *testing.T) {
	for sname, data := range samples() {
		for cname, compress := range compressors {
			gz := compress(data)
			for _, sizes := range readSizes {
				if len(sizes) == 1 && sizes[0] == 1 && len(data) > 100<<10 {
					continue // byte by byte is tested on the small samples
				}
				got, err := decodeAll(t, gz, sizes)
				if err != nil {
					t.Fatalf("%s/%s reads %v: %v", sname, cname, sizes, err)
				}
				if !bytes.Equal(got, data) {
					t.Fatalf("%s/%s reads %v: decoded %d bytes differ from the %d written", sname, cname, sizes, len(got), len(data))
				}
			}
		}
	}
}

func TestMembers(t *testing.T) {
	a, b := []byte("first member\n"), bytes.Repeat([]byte("second member\n"), 5000)
	gz := append(append(klaus(5)(a), std(9)(nil)...), klaus(1)(b)...)
	for _, sizes := range readSizes {
		got, err := decodeAll(t, gz, sizes)
		if err != nil || !bytes.Equal(got, append(append([]byte(nil), a...), b...)) {
			t.Fatalf("reads %v: %d bytes, %v", sizes, len(got), err)
		}
	}
	// A match in the second member cannot reach into the first.
	z, _ := NewReader(bytes.NewReader(gz))
	out, _ := readAll(z, []int{1 << 20})
	if z.members != 3 || len(out) != len(a)+len(b) {
		t.Fatalf("members %d, %d bytes", z.members, len(out))
	}
}

func TestHeaderCRC(t *testing.T) {
	body := klaus(5)([]byte("hello\n"))
	// Set FHCRC and insert the header's CRC-16 after the 10 fixed bytes.
	h := append([]byte(nil), body[:10]...)
	h[3] |= 0x02
	sum := crc32.ChecksumIEEE(h)
	good := append(append(append([]byte(nil), h...), byte(sum), byte(sum>>8)), body[10:]...)
	if got, err := decodeAll(t, good, []int{4096}); err != nil || string(got) != "hello\n" {
		t.Fatalf("header CRC: %q, %v", got, err)
	}
	bad := append([]byte(nil), good...)
	bad[10] ^= 1
	if _, err := decodeAll(t, bad, []int{4096}); !errors.Is(err, ErrHeader) {
		t.Fatalf("a wrong header CRC: %v, want ErrHeader", err)
	}
}

func TestDamage(t *testing.T) {
	data := samples()["logs"][:200<<10]
	gz := klaus(5)(data)
	for _, c := range []struct {
		name string
		gz   []byte
		want error
	}{
		{"crc", flip(gz, len(gz)-8), ErrChecksum},
		{"size", flip(gz, len(gz)-1), ErrChecksum},
		{"trailing garbage", append(append([]byte(nil), gz...), "garbage!!!!"...), ErrTrailing},
		{"short trailing garbage", append(append([]byte(nil), gz...), 'x'), ErrTrailing},
		{"a trailing 1f", append(append([]byte(nil), gz...), 0x1f), ErrTrailing},
		{"trailing zeros", append(append([]byte(nil), gz...), make([]byte, 512)...), ErrTrailing},
		{"a second member not deflate", append(append([]byte(nil), gz...), flip(gz, 2, 1)...), ErrHeader},
		{"cut trailer", gz[:len(gz)-3], io.ErrUnexpectedEOF},
		{"cut next header", append(append([]byte(nil), gz...), gz[:5]...), io.ErrUnexpectedEOF},
		{"reserved flag", flip(gz, 3, 0x80), ErrHeader},
		{"not deflate", flip(gz, 2, 1), ErrHeader},
	} {
		got, err := decodeAll(t, c.gz, []int{1 << 20})
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if !bytes.HasPrefix(data, got) {
			t.Errorf("%s: the bytes decoded before the error are not the data's start", c.name)
		}
	}
	if _, err := NewReader(bytes.NewReader([]byte("not gzip at all"))); !errors.Is(err, ErrHeader) {
		t.Errorf("not gzip: %v", err)
	}
}

func flip(b []byte, i int, mask ...byte) []byte {
	m := byte(1)
	if len(mask) > 0 {
		m = mask[0]
	}
	c := append([]byte(nil), b...)
	c[i] ^= m
	return c
}

// Every cut of a stream ends in io.ErrUnexpectedEOF after a correct start
// of the data, whatever the block types.
func TestTruncated(t *testing.T) {
	data := samples()["mixed"][:90<<10]
	for cname, compress := range compressors {
		gz := compress(data)
		step := max(1, len(gz)/700)
		for cut := 10; cut < len(gz); cut += step {
			got, err := decodeAll(t, gz[:cut], []int{1500, 1 << 20})
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("%s cut at %d of %d: %v, want unexpected EOF", cname, cut, len(gz), err)
			}
			if !bytes.HasPrefix(data, got) {
				t.Fatalf("%s cut at %d: %d bytes decoded are not the data's start", cname, cut, len(got))
			}
		}
	}
}

// Damaged streams never decode to anything but what klauspost's reader
// decodes, and never panic.
func TestCorruptAgreesWithKlauspost(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	data := samples()["mixed"][:60<<10]
	for cname, compress := range compressors {
		gz := compress(data)
		for range 300 {
			bad := append([]byte(nil), gz...)
			for range 1 + rng.IntN(3) {
				i := 10 + rng.IntN(len(bad)-10)
				bad[i] ^= byte(1 + rng.IntN(255))
			}
			compare(t, cname, bad)
		}
	}
}

// compare decodes gz with both readers: where either succeeds, both must,
// with the same bytes.
func compare(t *testing.T, name string, gz []byte) {
	t.Helper()
	want, werr := klausDecode(gz)
	got, gerr := decodeAll(t, gz, []int{1 << 20})
	if (werr == nil) != (gerr == nil) || werr == nil && !bytes.Equal(got, want) {
		t.Fatalf("%s: klauspost %d bytes, %v; inflate %d bytes, %v (input %x)", name, len(want), werr, len(got), gerr, gz[:min(len(gz), 64)])
	}
}

func klausDecode(gz []byte) ([]byte, error) {
	r, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// wrap makes a gzip member of raw DEFLATE data that decodes to want.
func wrap(deflate, want []byte) []byte {
	gz := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}
	gz = append(gz, deflate...)
	gz = binary.LittleEndian.AppendUint32(gz, crc32.ChecksumIEEE(want))
	return binary.LittleEndian.AppendUint32(gz, uint32(len(want)))
}

// bitWriter writes DEFLATE's bit order: fields from their least
// significant bit, Huffman codes from their most significant.
type bitWriter struct {
	out []byte
	n   uint
}

func (w *bitWriter) bits(v uint32, n uint) {
	for i := range n {
		if w.n%8 == 0 {
			w.out = append(w.out, 0)
		}
		w.out[len(w.out)-1] |= byte(v>>i&1) << (w.n % 8)
		w.n++
	}
}

func (w *bitWriter) code(c uint32, n uint) {
	for i := int(n) - 1; i >= 0; i-- {
		w.bits(c>>uint(i)&1, 1)
	}
}

// fixedLitCode is the fixed Huffman code of a literal/length symbol.
func fixedLitCode(sym int) (uint32, uint) {
	switch {
	case sym < 144:
		return uint32(0x30 + sym), 8
	case sym < 256:
		return uint32(0x190 + sym - 144), 9
	case sym < 280:
		return uint32(sym - 256), 7
	}
	return uint32(0xc0 + sym - 280), 8
}

func TestHandWrittenStreams(t *testing.T) {
	// Fixed Huffman: "ab", then length 4 at distance 2 ("abab"), then
	// end of block: "ababab".
	var w bitWriter
	w.bits(1, 1) // final
	w.bits(1, 2) // fixed
	for _, s := range []int{'a', 'b', 258} {
		w.code(fixedLitCode(s))
	}
	w.code(1, 5) // distance symbol 1: distance 2
	w.code(fixedLitCode(256))
	if got, err := decodeAll(t, wrap(w.out, []byte("ababab")), []int{4096}); err != nil || string(got) != "ababab" {
		t.Fatalf("fixed block: %q, %v", got, err)
	}

	// A distance before the start of the data.
	w = bitWriter{}
	w.bits(1, 1)
	w.bits(1, 2)
	w.code(fixedLitCode('a'))
	w.code(fixedLitCode(258))
	w.code(1, 5) // distance 2, one byte written
	w.code(fixedLitCode(256))
	var ce *CorruptError
	if _, err := decodeAll(t, wrap(w.out, nil), []int{4096}); !errors.As(err, &ce) {
		t.Fatalf("distance too far: %v", err)
	}

	// Fixed-code symbols DEFLATE leaves undefined: length 286, distance 30.
	for _, c := range []struct {
		name string
		sym  int
		dist uint32
	}{{"length 286", 286, 0}, {"distance 30", 257, 30}} {
		w = bitWriter{}
		w.bits(1, 1)
		w.bits(1, 2)
		w.code(fixedLitCode('a'))
		w.code(fixedLitCode(c.sym))
		w.code(c.dist, 5)
		w.code(fixedLitCode(256))
		w.bits(0, 32)
		if _, err := decodeAll(t, wrap(w.out, nil), []int{4096}); !errors.As(err, &ce) {
			t.Fatalf("%s: %v", c.name, err)
		}
	}

	// A stored block whose length and complement disagree; a reserved
	// block type.
	if _, err := decodeAll(t, wrap([]byte{1, 5, 0, 0, 0, 'h', 'e', 'l', 'l', 'o'}, []byte("hello")), []int{4096}); !errors.As(err, &ce) {
		t.Fatalf("stored length: %v", err)
	}
	if got, err := decodeAll(t, wrap([]byte{1, 5, 0, 0xfa, 0xff, 'h', 'e', 'l', 'l', 'o'}, []byte("hello")), []int{4096}); err != nil || string(got) != "hello" {
		t.Fatalf("stored block: %q, %v", got, err)
	}
	if _, err := decodeAll(t, wrap([]byte{7, 0, 0, 0}, nil), []int{4096}); !errors.As(err, &ce) {
		t.Fatalf("reserved type: %v", err)
	}
}

// dynamicBlock writes a dynamic block with the given literal/length and
// distance code lengths (sent as plain code lengths, with a code length
// code of 4 bits each for 0-15), then the symbols given as (code, bits).
func dynamicBlock(litLens, distLens []uint8, symbols [][2]uint32) []byte {
	var w bitWriter
	w.bits(1, 1)
	w.bits(2, 2)
	w.bits(uint32(len(litLens)-257), 5)
	w.bits(uint32(len(distLens)-1), 5)
	w.bits(19-4, 4)
	// Code length code: symbols 0-15 four bits each, 16-18 unused.
	for _, s := range clenOrder {
		if s < 16 {
			w.bits(4, 3)
		} else {
			w.bits(0, 3)
		}
	}
	// With sixteen 4-bit codes, symbol s's code is s.
	for _, l := range append(append([]uint8(nil), litLens...), distLens...) {
		w.code(uint32(l), 4)
	}
	for _, s := range symbols {
		w.code(s[0], uint(s[1]))
	}
	return w.out
}

func TestDynamicCodes(t *testing.T) {
	lits := func(set map[int]uint8) []uint8 {
		l := make([]uint8, 257)
		for s, n := range set {
			l[s] = n
		}
		return l
	}
	// 'a' 1 bit (code 0), end of block 1 bit (code 1); one distance code
	// of one bit (zlib's degenerate case) is accepted.
	ok := dynamicBlock(lits(map[int]uint8{'a': 1, 256: 1}), []uint8{1}, [][2]uint32{{0, 1}, {0, 1}, {1, 1}})
	if got, err := decodeAll(t, wrap(ok, []byte("aa")), []int{4096}); err != nil || string(got) != "aa" {
		t.Fatalf("degenerate distance code: %q, %v", got, err)
	}
	// No distance codes at all, in a block without matches.
	none := dynamicBlock(lits(map[int]uint8{'a': 1, 256: 1}), []uint8{0}, [][2]uint32{{0, 1}, {1, 1}})
	if got, err := decodeAll(t, wrap(none, []byte("a")), []int{4096}); err != nil || string(got) != "a" {
		t.Fatalf("no distance codes: %q, %v", got, err)
	}
	var ce *CorruptError
	for name, block := range map[string][]byte{
		"oversubscribed":  dynamicBlock(lits(map[int]uint8{'a': 1, 'b': 1, 256: 1}), []uint8{1}, nil),
		"incomplete":      dynamicBlock(lits(map[int]uint8{'a': 2, 256: 2}), []uint8{1}, nil),
		"no end of block": dynamicBlock(lits(map[int]uint8{'a': 1, 'b': 1}), []uint8{1}, nil),
		"long codes": dynamicBlock(func() []uint8 {
			// 15-bit codes are valid (second-level tables); make the
			// code complete: 1, 2, ..., 14, 15, 15.
			l := make([]uint8, 257)
			for i := range 14 {
				l['a'+i] = uint8(i + 1)
			}
			l['z'], l[256] = 15, 15
			return l
		}(), []uint8{1}, nil),
	} {
		_, err := decodeAll(t, wrap(block, nil), []int{4096})
		if name == "long codes" {
			// Valid tables, but the block has no symbols: the input
			// ends inside it.
			if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.As(err, &ce) {
				t.Errorf("%s: %v", name, err)
			}
			compare(t, name, wrap(block, nil))
			continue
		}
		if !errors.As(err, &ce) {
			t.Errorf("%s: %v, want a corrupt-data error", name, err)
		}
		compare(t, name, wrap(block, nil))
	}
}

func FuzzReader(f *testing.F) {
	for _, name := range []string{"logs", "periods", "random"} {
		data := samples()[name][:4<<10]
		for _, c := range []string{"klauspost-0", "klauspost-h", "klauspost-5", "stdlib-named"} {
			f.Add(compressors[c](data))
		}
	}
	f.Fuzz(func(t *testing.T, gz []byte) {
		compare(t, "fuzz", gz)
	})
}

func BenchmarkReader(b *testing.B) {
	data := samples()["logs"]
	gz := klaus(5)(data)
	buf := make([]byte, 1<<20)
	b.Run("inflate", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			z, _ := NewReader(bytes.NewReader(gz))
			for {
				if _, err := z.Read(buf); err != nil {
					break
				}
			}
		}
	})
	b.Run("klauspost", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			z, _ := gzip.NewReader(bytes.NewReader(gz))
			for {
				if _, err := z.Read(buf); err != nil {
					break
				}
			}
		}
	})
}

// TestReset: a Reader reset onto another stream, after a whole stream, part
// of one, or a damaged one, decodes it as a new Reader does, and holds
// nothing of the last stream but the buffers Reset keeps. A field added to
// Reader and not reset fails the comparison.
func TestReset(t *testing.T) {
	all := samples()
	var gzs [][]byte
	for _, name := range []string{"logs", "periods", "one", "mixed", "empty"} {
		gzs = append(gzs, klaus(5)(all[name]), std(stdgzip.BestSpeed)(all[name]))
	}
	damaged := flip(gzs[0], len(gzs[0])/2, 0xff)
	z := &Reader{}
	for i, gz := range gzs {
		// Leave z in each state the last input can: read to the end,
		// read in part, or failed.
		var prev []byte
		switch i % 3 {
		case 0:
			prev = gzs[(i+1)%len(gzs)]
		case 1:
			prev = gzs[(i+3)%len(gzs)][:len(gzs[(i+3)%len(gzs)])/3]
		default:
			prev = damaged
		}
		if err := z.Reset(bytes.NewReader(prev)); err == nil {
			readAll(z, []int{1000 + i})
		}
		if err := z.Reset(bytes.NewReader(gz)); err != nil {
			t.Fatalf("stream %d: Reset: %v", i, err)
		}
		fresh, err := NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatal(err)
		}
		// Past the header, every field but the kept buffers is a new
		// Reader's.
		a, b := *z, *fresh
		for _, r := range []*Reader{&a, &b} {
			r.r, r.in, r.dynLit, r.dynDist, r.clen, r.lens, r.hist, r.small = nil, nil, nil, nil, nil, [320]uint8{}, [window]byte{}, [4 << 10]byte{}
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("stream %d: after Reset\n%+v\nwant\n%+v", i, a, b)
		}
		got, err := readAll(z, []int{7, 4096, 1 << 20})
		want, _ := readAll(fresh, []int{1 << 20})
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("stream %d: decoded %d bytes (%v), want %d", i, len(got), err, len(want))
		}
	}
}

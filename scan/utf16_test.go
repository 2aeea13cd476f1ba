package scan

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// byteOrder reads and appends: binary.LittleEndian and BigEndian.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// utf16Reference decodes UTF-16 the standard library's way: unpaired
// surrogates, and a last byte without its pair, are U+FFFD.
func utf16Reference(b []byte, order byteOrder) []byte {
	units := make([]uint16, len(b)/2)
	for i := range units {
		units[i] = order.Uint16(b[2*i:])
	}
	out := []byte(string(utf16.Decode(units)))
	if len(b)%2 == 1 {
		out = utf8.AppendRune(out, utf8.RuneError)
	}
	return out
}

func encodeUTF16(s string, order byteOrder) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = order.AppendUint16(b, u)
	}
	return b
}

func readUTF16(t testing.TB, b []byte, encoding string, oneByte bool) []byte {
	var r io.Reader = bytes.NewReader(b)
	if oneByte {
		r = &oneByteReader{r}
	}
	out, err := io.ReadAll(newUTF16Reader(r, encoding))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestUTF16Reader(t *testing.T) {
	text := "{\"user\":\"zoë 🐳\"}\n\x00é\r\n"
	for _, tc := range []struct {
		encoding string
		order    byteOrder
	}{{EncodingUTF16LE, binary.LittleEndian}, {EncodingUTF16BE, binary.BigEndian}} {
		le := encodeUTF16(text, tc.order)
		cases := map[string][]byte{
			"text":                 le,
			"odd last byte":        append(slices.Clone(le), 'x'),
			"unpaired high":        append(tc.order.AppendUint16(nil, 0xd83d), le...),
			"unpaired low":         append(tc.order.AppendUint16(nil, 0xdc33), le...),
			"high at the end":      tc.order.AppendUint16(slices.Clone(le), 0xd83d),
			"two highs then a low": append(tc.order.AppendUint16(tc.order.AppendUint16(nil, 0xd83d), 0xd83d), tc.order.AppendUint16(nil, 0xdc33)...),
			"empty":                nil,
		}
		for name, b := range cases {
			want := utf16Reference(b, tc.order)
			for _, oneByte := range []bool{false, true} {
				if got := readUTF16(t, b, tc.encoding, oneByte); !bytes.Equal(got, want) {
					t.Errorf("%s %s (one byte at a time %v): %q, want %q", tc.encoding, name, oneByte, got, want)
				}
			}
		}
	}
}

func FuzzUTF16Reader(f *testing.F) {
	f.Add([]byte{0x3d, 0xd8, 0x33, 0xdc, 'a', 0}, false)
	f.Add([]byte{0xd8, 0x3d}, true)
	f.Fuzz(func(t *testing.T, b []byte, big bool) {
		encoding, order := EncodingUTF16LE, byteOrder(binary.LittleEndian)
		if big {
			encoding, order = EncodingUTF16BE, binary.BigEndian
		}
		want := utf16Reference(b, order)
		if got := readUTF16(t, b, encoding, false); !bytes.Equal(got, want) {
			t.Fatalf("%q, want %q", got, want)
		}
		if got := readUTF16(t, b, encoding, true); !bytes.Equal(got, want) {
			t.Fatalf("one byte at a time: %q, want %q", got, want)
		}
	})
}

// TestUTF16Input: a log with a UTF-16 byte order mark (Windows PowerShell
// 5 writes one with >) is decoded, from a file or standard input, and
// finds what its UTF-8 text finds.
func TestUTF16Input(t *testing.T) {
	rs := builtinRules(t)
	dir := t.TempDir()
	text := lines(noiseLine, execLine, procLine)
	for _, tc := range []struct {
		encoding string
		bom      []byte
		order    byteOrder
	}{{EncodingUTF16LE, []byte{0xff, 0xfe}, binary.LittleEndian}, {EncodingUTF16BE, []byte{0xfe, 0xff}, binary.BigEndian}} {
		data := append(slices.Clone(tc.bom), encodeUTF16(text, tc.order)...)
		for _, compression := range []string{"", CompressionGzip, CompressionZstd} {
			stored := data
			switch compression {
			case CompressionGzip:
				stored = gzipBytes(t, data)
			case CompressionZstd:
				stored = zstdBytes(t, data)
			}
			path := writeFile(t, filepath.Join(dir, tc.encoding+compression+".log"), stored)
			for _, in := range []Input{{Name: path}, {Name: Stdin}} {
				where := tc.encoding + " " + compression + " " + in.Name
				res := mustScan(t, []Input{in}, Options{Rules: rs, Stdin: bytes.NewReader(stored)})
				checkInvariants(t, res)
				st := res.Inputs[0]
				if got := hits(res, rs, 0); !slices.Equal(got, []string{"2:R1", "3:R2"}) {
					t.Errorf("%s: matches %v, want [2:R1 3:R2]", where, got)
				}
				if st.Encoding != tc.encoding || st.Compression != compression || st.Err != nil {
					t.Errorf("%s: encoding %q, compression %q, error %v", where, st.Encoding, st.Compression, st.Err)
				}
				if st.Bytes != int64(len(text)) || st.RawBytes != int64(len(stored)) || st.Lines != 3 || st.Malformed != 0 {
					t.Errorf("%s: bytes %d (read %d), lines %d, malformed %d; want %d (%d), 3, 0",
						where, st.Bytes, st.RawBytes, st.Lines, st.Malformed, len(text), len(stored))
				}
			}
		}
	}
	// Whole-file JSON takes its layout from the decoded text.
	pretty := "[\n" + execLine + ",\n" + procLine + "\n]\n"
	res := scanString(t, "\xff\xfe"+string(encodeUTF16(pretty, binary.LittleEndian)), Options{Rules: rs})
	if st := res.Inputs[0]; st.Layout != LayoutJSON || !slices.Equal(hits(res, rs, 0), []string{"2:R1", "3:R2"}) {
		t.Errorf("UTF-16 JSON array: layout %s, matches %v", st.Layout, hits(res, rs, 0))
	}
	// FF FE 00 00 is UTF-32LE's mark: not decoded as UTF-16.
	res = scanString(t, "\xff\xfe\x00\x00"+execLine+"\n", Options{Rules: rs})
	if st := res.Inputs[0]; st.Encoding != "" {
		t.Errorf("UTF-32LE mark read as %s", st.Encoding)
	}
}

// A read that fails in UTF-16 text says where in that text, and how much
// of it was decoded: the two offsets are not compressed and decompressed.
func TestUTF16ReadErrorWording(t *testing.T) {
	rs := builtinRules(t)
	data := append([]byte{0xff, 0xfe}, encodeUTF16(lines(noiseLine, execLine), binary.LittleEndian)...)
	stdin := io.MultiReader(bytes.NewReader(data[:100]), errorReader{errors.New("disk gone")})
	res := mustScan(t, []Input{{Name: Stdin}}, Options{Rules: rs, Stdin: stdin})
	err := res.Inputs[0].Err
	if err == nil || !strings.Contains(err.Error(), "at byte 100 of the UTF-16 text, after 49 bytes decoded") || strings.Contains(err.Error(), "compressed") {
		t.Errorf("error %v", err)
	}
}

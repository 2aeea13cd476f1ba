package scan

import (
	"encoding/binary"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// Encodings of an input other than UTF-8 (InputStats.Encoding ""),
// detected from its byte order mark. Windows PowerShell 5 writes UTF-16LE
// with `>` and Out-File.
const (
	EncodingUTF16LE = "utf-16le"
	EncodingUTF16BE = "utf-16be"
)

// utf16Encoding is the encoding a byte order mark at the start of head
// names, or "". FF FE 00 00 is UTF-32LE's mark, not UTF-16's.
func utf16Encoding(head []byte) string {
	switch {
	case len(head) >= 2 && head[0] == 0xff && head[1] == 0xfe && !(len(head) >= 4 && head[2] == 0 && head[3] == 0):
		return EncodingUTF16LE
	case len(head) >= 2 && head[0] == 0xfe && head[1] == 0xff:
		return EncodingUTF16BE
	}
	return ""
}

// utf16Reader decodes UTF-16 text, after its byte order mark, into UTF-8.
// An unpaired surrogate, and a last byte without its pair, decode as
// U+FFFD, as the standard decoders do: the line holding one is read like
// any other line holding invalid text.
type utf16Reader struct {
	r     io.Reader
	order binary.ByteOrder
	in    []byte // input read and not yet decoded: less than a character
	buf   []byte // input buffer
	dec   []byte // output buffer
	out   []byte // decoded and not yet returned, in dec
	err   error
}

func newUTF16Reader(r io.Reader, encoding string) *utf16Reader {
	var order binary.ByteOrder = binary.LittleEndian
	if encoding == EncodingUTF16BE {
		order = binary.BigEndian
	}
	return &utf16Reader{r: r, order: order, buf: make([]byte, 64<<10)}
}

func (u *utf16Reader) Read(p []byte) (int, error) {
	for len(u.out) == 0 {
		if u.err != nil {
			return 0, u.err
		}
		n := copy(u.buf, u.in)
		m, err := u.r.Read(u.buf[n:])
		u.in, u.err = u.decode(u.buf[:n+m], err != nil), err
	}
	n := copy(p, u.out)
	u.out = u.out[n:]
	return n, nil
}

// decode appends the characters of b to u.out and returns what is left of
// b: the first half of a character, or of a surrogate pair, unless the
// input ends there (last).
func (u *utf16Reader) decode(b []byte, last bool) []byte {
	out := u.dec[:0]
	for len(b) >= 2 {
		r := rune(u.order.Uint16(b))
		size := 2
		if utf16.IsSurrogate(r) {
			switch {
			case len(b) >= 4:
				if pair := utf16.DecodeRune(r, rune(u.order.Uint16(b[2:]))); pair != utf8.RuneError {
					r, size = pair, 4
				} else {
					r = utf8.RuneError
				}
			case !last:
				u.dec, u.out = out, out
				return b
			default:
				r = utf8.RuneError
			}
		}
		out = utf8.AppendRune(out, r)
		b = b[size:]
	}
	if last && len(b) > 0 {
		out = utf8.AppendRune(out, utf8.RuneError)
		b = nil
	}
	u.dec, u.out = out, out
	return b
}

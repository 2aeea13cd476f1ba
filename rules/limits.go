package rules

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// MaxRuleFile bounds the size of a rule file: Elastic's are a few
// kilobytes, and one of megabytes is a query no parser should be made to
// take apart.
const MaxRuleFile = 1 << 20

// ReadLimited reads the file at path, or fails if it holds more than max
// bytes, without reading more than that.
func ReadLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, &os.PathError{Op: "read", Path: path, Err: err}
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: larger than %d KiB, which no rule or exceptions file needs", path, max>>10)
	}
	return data, nil
}

// MaxTOMLDepth bounds how deeply a TOML file may nest arrays and inline
// tables. The TOML decoder recurses over the nesting, and slows down
// with it, so a rule or exceptions file from anyone could exhaust the
// stack or take minutes; rule files nest two or three levels.
const MaxTOMLDepth = 32

// CheckTOMLNesting reports a TOML text that nests arrays or inline tables
// (or table headers) more than MaxTOMLDepth deep, with the line where it
// does. It reads brackets and braces outside strings and comments; it does
// not validate the rest, which the decoder does.
func CheckTOMLNesting(data []byte) error {
	depth, line := 0, 1
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '\n':
			line++
		case '#':
			j := bytes.IndexByte(data[i:], '\n')
			if j < 0 {
				return nil
			}
			i += j - 1 // the newline is counted next
		case '"', '\'':
			end, lines := tomlStringEnd(data, i)
			line += lines
			i = end - 1
		case '[', '{':
			if depth++; depth > MaxTOMLDepth {
				return fmt.Errorf("line %d: arrays or inline tables nested more than %d deep", line, MaxTOMLDepth)
			}
		case ']', '}':
			if depth > 0 {
				depth--
			}
		}
	}
	return nil
}

// tomlStringEnd returns where the string starting at data[i] ends (just
// past its closing quotes, or the end of data) and how many line breaks it
// holds. Basic strings ("...", """...""") take backslash escapes; literal
// strings ('...', ”'...”') do not.
func tomlStringEnd(data []byte, i int) (end, lines int) {
	q := data[i]
	delim := []byte{q}
	if bytes.HasPrefix(data[i:], []byte{q, q, q}) {
		delim = []byte{q, q, q}
	}
	j := i + len(delim)
	for j < len(data) {
		switch {
		case data[j] == '\\' && q == '"':
			if j+1 < len(data) && data[j+1] == '\n' {
				lines++
			}
			j += 2
			continue
		case data[j] == '\n':
			lines++
			if len(delim) == 1 {
				return j, lines - 1 // an unclosed one-line string: the decoder says so
			}
		case bytes.HasPrefix(data[j:], delim):
			j += len(delim)
			// A multi-line string may end in up to two more quotes.
			for k := 0; k < 2 && len(delim) == 3 && j < len(data) && data[j] == q; k++ {
				j++
			}
			return j, lines
		}
		j++
	}
	return len(data), lines
}

package scan

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Filter chooses the files read from folders. Files named on the command
// line are always read.
type Filter struct {
	// Include, if not empty, keeps only files matching one of its globs;
	// Exclude drops files matching one of its globs. A glob without a
	// slash is matched against the file's name, one with a slash against
	// its path below the folder given; * and ? stay within a path
	// segment, ** spans any number of them, [...] is a character class.
	Include, Exclude []string
}

// Expansion is what Expand found.
type Expansion struct {
	Inputs []Input
	// Errors are paths that could not be read and folders that held
	// nothing; each names its path.
	Errors []error
	// Warnings are symlinks not followed because they loop back to a
	// folder being read, and inputs listed more than once (read once):
	// nothing is missed, but the user should know.
	Warnings []error
	// Excluded counts files the Filter left out.
	Excluded int
}

// ErrSymlinkLoop marks a folder symlink that leads back to a folder already
// being read.
var ErrSymlinkLoop = errors.New("symlink loop: the folder it points to is already being read; not followed")

// ErrListedTwice marks an input reached a second time: the same file named
// twice, or named and inside a folder also named, or standard input given
// twice. It is read once, where it first came.
var ErrListedTwice = errors.New("already an input: read once")

// A FolderError is a folder given as an input that gave none: it holds no
// files, or the Filter left out every one.
type FolderError struct {
	Path, Reason string
}

func (e *FolderError) Error() string { return e.Path + ": " + e.Reason }

// Expand turns command-line paths into inputs: files as they are, folders
// walked recursively in lexical order (symlinks followed, each folder read
// once), and "-" for standard input. Paths that cannot be read are returned
// as errors beside the inputs that can, so one bad path does not stop the
// scan.
func Expand(paths []string, filter Filter) Expansion {
	var x Expansion
	match, err := filter.compile()
	if err != nil {
		x.Errors = append(x.Errors, err)
		return x
	}
	seen := map[string]bool{} // inputs so far: by file identity where the system has one, else by real absolute path
	once := func(name string) bool {
		var fi os.FileInfo
		var err error
		if name == Stdin {
			fi, err = os.Stdin.Stat() // "-" and /dev/stdin are one input
		} else {
			fi, err = os.Stat(name)
		}
		key, ok := "", false
		if err == nil {
			key, ok = fileID(fi)
		}
		if !ok {
			key = name
			if name != Stdin {
				if real, err := filepath.EvalSymlinks(name); err == nil {
					key = real
				}
				if abs, err := filepath.Abs(key); err == nil {
					key = abs
				}
			}
		}
		if seen[key] {
			x.Warnings = append(x.Warnings, &fs.PathError{Op: "read", Path: name, Err: ErrListedTwice})
			return false
		}
		seen[key] = true
		return true
	}
	for _, p := range paths {
		if p == Stdin {
			if once(Stdin) {
				x.Inputs = append(x.Inputs, Input{Name: Stdin})
			}
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			x.Errors = append(x.Errors, err)
			continue
		}
		if !info.IsDir() {
			if once(p) {
				x.Inputs = append(x.Inputs, Input{Name: p})
			}
			continue
		}
		w := walker{root: p, match: match, x: &x, once: once}
		before, excluded, repeated := len(x.Inputs), x.Excluded, len(x.Warnings)
		w.dir(p, info, nil)
		if len(x.Inputs) == before && len(x.Warnings) == repeated {
			reason := "folder holds no files"
			if n := x.Excluded - excluded; n > 0 {
				reason = fmt.Sprintf("--include/--exclude left out all %d file(s) in the folder", n)
			}
			x.Errors = append(x.Errors, &FolderError{Path: p, Reason: reason})
		}
	}
	return x
}

type walker struct {
	root  string
	match func(rel string) bool
	x     *Expansion
	seen  []os.FileInfo // folders read so far, to read each once
	once  func(name string) bool
}

// dir reads one folder. ancestors are the folders above it on this path,
// so a symlink back to one of them is reported as a loop.
func (w *walker) dir(path string, info os.FileInfo, ancestors []os.FileInfo) {
	for _, a := range ancestors {
		if os.SameFile(a, info) {
			w.x.Warnings = append(w.x.Warnings, &fs.PathError{Op: "read folder", Path: path, Err: ErrSymlinkLoop})
			return
		}
	}
	for _, s := range w.seen {
		if os.SameFile(s, info) {
			return // reached again through another symlink: read once
		}
	}
	w.seen = append(w.seen, info)
	entries, err := os.ReadDir(path)
	if err != nil {
		w.x.Errors = append(w.x.Errors, err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	ancestors = append(ancestors, info)
	for _, e := range entries {
		child := filepath.Join(path, e.Name())
		mode := e.Type()
		var childInfo os.FileInfo
		if mode&fs.ModeSymlink != 0 || mode.IsDir() {
			childInfo, err = os.Stat(child) // follows symlinks
			if err != nil {
				w.x.Errors = append(w.x.Errors, err)
				continue
			}
			mode = childInfo.Mode()
		}
		switch {
		case mode.IsDir():
			w.dir(child, childInfo, ancestors)
		case mode.IsRegular():
			rel, err := filepath.Rel(w.root, child)
			if err != nil {
				rel = child
			}
			if !w.match(filepath.ToSlash(rel)) {
				w.x.Excluded++
				continue
			}
			if w.once(child) {
				w.x.Inputs = append(w.x.Inputs, Input{Name: child})
			}
		}
		// Sockets, devices and pipes inside a folder are not logs.
	}
}

// Check reports a glob that is not valid, naming its flag, so that a
// command can refuse it before reading anything.
func (f Filter) Check() error {
	_, err := f.compile()
	return err
}

// compile turns the globs into one decision function.
func (f Filter) compile() (func(rel string) bool, error) {
	include, err := compileGlobs(f.Include, "--include")
	if err != nil {
		return nil, err
	}
	exclude, err := compileGlobs(f.Exclude, "--exclude")
	if err != nil {
		return nil, err
	}
	return func(rel string) bool {
		if len(include) > 0 && !anyGlob(include, rel) {
			return false
		}
		return !anyGlob(exclude, rel)
	}, nil
}

type glob struct {
	re       *regexp.Regexp
	wholeRel bool // the pattern has a slash: match the relative path
}

func anyGlob(gs []glob, rel string) bool {
	base := rel[strings.LastIndexByte(rel, '/')+1:]
	for _, g := range gs {
		target := base
		if g.wholeRel {
			target = rel
		}
		if g.re.MatchString(target) {
			return true
		}
	}
	return false
}

func compileGlobs(patterns []string, flag string) ([]glob, error) {
	var out []glob
	for _, p := range patterns {
		re, err := globRegexp(p)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %v", flag, p, err)
		}
		out = append(out, glob{re: re, wholeRel: strings.Contains(strings.TrimPrefix(p, "**/"), "/") || strings.HasPrefix(p, "**/")})
	}
	return out, nil
}

// globRegexp translates a glob: * and ? within a segment, ** across
// segments ("**/" also matches no folder at all), [...] classes.
func globRegexp(p string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '*':
			if i+1 < len(p) && p[i+1] == '*' {
				i++
				if i+1 < len(p) && p[i+1] == '/' {
					i++
					b.WriteString("(?:.*/)?")
				} else {
					b.WriteString(".*")
				}
			} else {
				b.WriteString("[^/]*")
			}
		case '?':
			b.WriteString("[^/]")
		case '[':
			end := strings.IndexByte(p[i+1:], ']')
			if end < 0 {
				return nil, errors.New("unclosed [")
			}
			class := p[i+1 : i+1+end]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += end + 1
		case '\\':
			if i+1 < len(p) {
				i++
				b.WriteString(regexp.QuoteMeta(string(p[i])))
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

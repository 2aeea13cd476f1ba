package cmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"

	"github.com/k8sexec/k8sexec/report"
	"github.com/k8sexec/k8sexec/scan"
	"github.com/spf13/cobra"
)

// filterFlags choose the files read from folders.
type filterFlags struct {
	include, exclude []string
}

func (f *filterFlags) register(c *cobra.Command) {
	c.Flags().StringArrayVar(&f.include, "include", nil, "read only files in folders matching this glob (repeatable; *.log, **/audit*, kube/**)")
	c.Flags().StringArrayVar(&f.exclude, "exclude", nil, "skip files in folders matching this glob (repeatable)")
}

// check refuses a glob that is not valid: a usage error, before anything
// is read (a scan that read the files named would still have skipped every
// folder, and said nothing was found).
func (f *filterFlags) check() error {
	if err := f.filter().Check(); err != nil {
		return usageError("%v", err)
	}
	return nil
}

func (f *filterFlags) filter() scan.Filter {
	return scan.Filter{Include: f.include, Exclude: f.exclude}
}

// expand finds the inputs and says on warn how many files the filter left
// out, so a too-narrow glob is noticed.
func (f *filterFlags) expand(paths []string, warn io.Writer) scan.Expansion {
	x := scan.Expand(paths, f.filter())
	if warn == nil {
		return x
	}
	for _, w := range x.Warnings {
		fmt.Fprintf(warn, "k8sexec: warning: %s\n", report.Clean(w.Error()))
	}
	if x.Excluded > 0 {
		fmt.Fprintf(warn, "k8sexec: %d file(s) in folders left out by --include/--exclude\n", x.Excluded)
	}
	return x
}

// readFiles are the files a scan reads, and the outputs created so far, so
// that no output is created over one of them.
type readFiles struct {
	stdin io.Reader
	files []readFile
}

type readFile struct {
	name, what string
	why        string // what creating an output over it would do
}

func (r *readFiles) add(name, what, why string) {
	if name != "" {
		r.files = append(r.files, readFile{name, what, why})
	}
}

// refuse returns a usage error when path, an output flag's file, is one of
// the files listed: the same file by any path (a hard link, a symlink,
// /dev/stdin, or standard input redirected from it), or, for a file not
// created yet, the same path as another output. A device or pipe (/dev/null)
// empties nothing and is never refused.
func (r *readFiles) refuse(flag, path string) error {
	if path == "" {
		return nil
	}
	out, err := os.Stat(path)
	exists := err == nil
	if exists && !out.Mode().IsRegular() {
		return nil
	}
	for _, f := range r.files {
		if !exists {
			// Nothing read can be lost, but two outputs may share it.
			if samePath(path, f.name) {
				return usageError("%s %s is %s: %s; choose another file", flag, report.Clean(path), f.what, f.why)
			}
			continue
		}
		var fi os.FileInfo
		if f.name == scan.Stdin {
			file, ok := r.stdin.(*os.File)
			if !ok {
				continue
			}
			if fi, err = file.Stat(); err != nil {
				continue
			}
		} else if fi, err = os.Stat(f.name); err != nil {
			continue
		}
		if os.SameFile(out, fi) {
			name := f.name
			if name == scan.Stdin {
				name = "standard input"
			}
			return usageError("%s %s is %s (%s): %s; choose another file", flag, report.Clean(path), f.what, report.Clean(name), f.why)
		}
	}
	return nil
}

// withoutOwnFiles drops from the inputs a folder held the files the
// flags name that are k8sexec JSON reports (last run's report and
// baselines), saying so on warn. Anything else there may be a log: it
// stays an input, and an output over it is refused.
func withoutOwnFiles(inputs []scan.Input, args []string, warn io.Writer, files map[string]string) []scan.Input {
	flags := make([]string, 0, len(files))
	for flag, path := range files {
		if path != "" {
			flags = append(flags, flag)
		}
	}
	if len(flags) == 0 {
		return inputs
	}
	slices.Sort(flags) // one warning order
	out := inputs[:0:0]
	for _, in := range inputs {
		own := ""
		if !slices.Contains(args, in.Name) {
			for _, flag := range flags {
				if sameFile(in.Name, files[flag]) && isReport(in.Name) {
					own = flag
					break
				}
			}
		}
		if own == "" {
			out = append(out, in)
			continue
		}
		if warn != nil {
			fmt.Fprintf(warn, "k8sexec: not reading %s, found in a folder scanned: it is the %s file\n", report.Clean(in.Name), own)
		}
	}
	return out
}

// isReport reports whether path holds a k8sexec JSON report.
func isReport(path string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var doc struct {
		Tool struct {
			Name string `json:"name"`
		} `json:"tool"`
		Findings []json.RawMessage `json:"findings"`
	}
	return json.Unmarshal(data, &doc) == nil && doc.Tool.Name == "k8sexec" && doc.Findings != nil
}

// sameFile reports whether a and b are one file: by path, or, when both
// exist, as the file system says (links).
func sameFile(a, b string) bool {
	if samePath(a, b) {
		return true
	}
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}

// samePath reports whether a and b name one file, by their absolute paths.
func samePath(a, b string) bool {
	if b == scan.Stdin {
		return false
	}
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == bb
}

// wholeFile is a report file written whole or not at all. A regular file,
// or a new one, is written beside path and renamed over it by commit, so a
// scan that fails or is killed leaves the old file as it was. Anything else
// there (a device such as /dev/null, a FIFO) is written as it is: renaming
// over a device would replace it.
type wholeFile struct {
	*os.File
	path string // the file the rename replaces; "" when File is it
}

// createWhole makes the file a report for path is written to. A folder
// at path is refused now, not after the scan.
func createWhole(path string) (*wholeFile, error) {
	path = linkTarget(path) // the rename replaces the file, not the link
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return nil, fmt.Errorf("%s is a folder", path)
	case err == nil && !fi.Mode().IsRegular():
		f, err := os.Create(path)
		return &wholeFile{File: f}, err
	}
	// Made as os.Create makes a file, so the umask applies to a new
	// baseline (os.CreateTemp's are 0600); an old one's mode is kept.
	for range 100 {
		tmp := filepath.Join(filepath.Dir(path), fmt.Sprintf(".%s.%08x.tmp", filepath.Base(path), rand.Uint32()))
		f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &wholeFile{File: f, path: path}, nil
	}
	return nil, fmt.Errorf("no free temporary name beside %s", path)
}

// linkTarget follows symbolic links from path to the file they name, which
// need not exist yet (a dangling link's target is created, as os.Create
// would).
func linkTarget(path string) string {
	for range 40 { // the kernel's own limit
		fi, err := os.Lstat(path)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			return path
		}
		target, err := os.Readlink(path)
		if err != nil {
			return path
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(path), target)
		}
		path = target
	}
	return path
}

// Write writes to the file; an error names the file asked for, not the
// temporary one beside it.
func (w *wholeFile) Write(p []byte) (int, error) {
	n, err := w.File.Write(p)
	return n, w.named(err)
}

func (w *wholeFile) named(err error) error {
	var pe *fs.PathError
	if w.path != "" && errors.As(err, &pe) && pe.Path == w.Name() {
		return &fs.PathError{Op: pe.Op, Path: w.path, Err: pe.Err}
	}
	return err
}

// commit closes the file and puts it in place, with the permissions of
// the file it replaces.
func (w *wholeFile) commit() error {
	if w.path == "" {
		return w.Close()
	}
	if fi, err := os.Stat(w.path); err == nil {
		if err := w.Chmod(fi.Mode().Perm()); err != nil {
			return w.named(err)
		}
	}
	if err := w.Close(); err != nil {
		return w.named(err)
	}
	return os.Rename(w.Name(), w.path)
}

// discard closes the file and removes what commit did not put in place.
func (w *wholeFile) discard() {
	w.Close()
	if w.path != "" {
		os.Remove(w.Name()) // nothing there once committed
	}
}

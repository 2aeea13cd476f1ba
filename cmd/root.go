// Package cmd is k8sexec's command line: cobra commands that turn flags into
// options, call the engine, pick a report writer, and map the outcome to an
// exit code. It is the only package that imports cobra, and the only one
// that decides anything about terminals and colour.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/k8sexec/k8sexec/report"
	"github.com/k8sexec/k8sexec/scan"
)

// Exit codes.
const (
	ExitOK          = 0   // no finding at or above --fail-on
	ExitFindings    = 1   // findings at or above --fail-on
	ExitError       = 2   // usage error, or an input not read completely
	ExitInterrupted = 130 // interrupted (SIGINT)
)

// Build describes the binary; main sets it from -ldflags.
type Build struct {
	Version string
	Commit  string
	Date    string
}

// BuildInfo is the running binary's version information.
var BuildInfo = Build{Version: "dev"}

// env is what commands need from the outside world, so tests can run them
// in-process with their own streams.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	stdinTTY       bool
	stdoutTTY      bool
	stderrTTY      bool
}

// exitError carries an exit code out of a command. An empty message means
// the command already said everything.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func usageError(format string, args ...any) error {
	return &exitError{code: ExitError, msg: fmt.Sprintf(format, args...)}
}

// Execute runs the k8sexec command line and returns the process exit code.
func Execute(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, stdinTTY: isTerminal(stdin), stdoutTTY: isTerminal(stdout), stderrTTY: isTerminal(stderr)}
	return execute(ctx, e, args)
}

func execute(ctx context.Context, e *env, args []string) int {
	stderr := e.stderr
	root := newRootCmd(e)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(stderr, "k8sexec: "+cleanLines(ee.msg))
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "k8sexec: "+cleanLines(err.Error()))
	return ExitError
}

// cleanLines is report.Clean for each line of an error message: rule,
// exceptions and input files are anyone's, and their names and values
// reach the terminal in errors.
func cleanLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = report.Clean(l)
	}
	return strings.Join(lines, "\n")
}

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "k8sexec",
		Short: "Find who got a shell in which container, from Kubernetes logs",
		Long: `k8sexec reads Kubernetes audit logs and container process-event logs (NDJSON, plain,
gzip or zstd; files, folders or stdin), runs Elastic's exec detection rules on them offline,
and prints one triage-ready finding per exec session, with next steps.`,
		Example: `  k8sexec scan /var/log/kubernetes/audit/
  zcat audit.log.gz | k8sexec scan -
  k8sexec scan --format json -o findings.json audit.log process.ndjson`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError("%v\nRun '%s --help' for usage.", err, c.CommandPath())
	})
	root.AddCommand(newScanCmd(e), newSearchCmd(e), newRulesCmd(e), newVersionCmd(e))
	// The streams are set first: the completion commands keep the output
	// they find when they are made.
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	// cobra's completion command groups one per shell: an unknown shell
	// is a usage error, as an unknown rules command is.
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Args, c.RunE = cobra.ArbitraryArgs, groupRun
		}
	}
	return root
}

// groupRun runs a command that only groups others. Bare, it prints its
// help; with an argument no subcommand took (a typo), it is a usage error:
// cobra would print the help and exit 0, and a CI step checking rule files
// with "rules chek" would pass.
func groupRun(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return c.Help()
	}
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2 // cobra's own default for unknown commands
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
	if s := c.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return usageError("%s\nRun '%s --help' for usage.", msg, c.CommandPath())
}

// exactArgs is cobra.ExactArgs with a usage-error exit code.
func exactArgs(n int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError("%s takes %d argument(s), got %d\nRun '%s --help' for usage.", c.CommandPath(), n, len(args), c.CommandPath())
		}
		return nil
	}
}

// The bounds of --max-line-size: below the least, ordinary audit lines
// would count as overlong; above the most, a line's buffer alone could
// take all memory (and sizes near the int range would overflow).
const (
	minLineSize = 1024
	maxLineSize = 1 << 30
)

// maxWorkers bounds --workers: each worker holds chunk buffers, so a
// number far past any machine's cores only exhausts memory.
const maxWorkers = 1024

// lineSizeFlag adds --max-line-size, which scan and search share; check
// its value with checkLineSize.
func lineSizeFlag(c *cobra.Command, p *int) {
	c.Flags().IntVar(p, "max-line-size", scan.DefaultMaxLineSize, fmt.Sprintf("skip (and count) lines longer than this many bytes (%d to %d)", minLineSize, maxLineSize))
}

func checkLineSize(n int) error {
	if n < minLineSize || n > maxLineSize {
		return usageError("--max-line-size %d: must be from %d to %d (1 GiB)", n, minLineSize, maxLineSize)
	}
	return nil
}

// workersFlag adds --workers, which scan and search share; check its
// value with checkWorkers.
func workersFlag(c *cobra.Command, p *int) {
	c.Flags().IntVar(p, "workers", 0, fmt.Sprintf("parallel workers (0: one per CPU; at most %d)", maxWorkers))
}

func checkWorkers(n int) error {
	if n < 0 || n > maxWorkers {
		return usageError("--workers %d: must be from 0 (one per CPU) to %d", n, maxWorkers)
	}
	return nil
}

func oneOf(flag, value string, allowed ...string) error {
	for _, a := range allowed {
		if value == a {
			return nil
		}
	}
	return usageError("--%s %q: want one of %s", flag, value, strings.Join(allowed, ", "))
}

package cmd

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
)

// cliMarkdown renders the command tree as Markdown: every command's
// description, usage, examples and flags. docs/cli.md is this output; a
// test keeps them in step.
func cliMarkdown() string {
	root := newRootCmd(&env{})
	root.InitDefaultCompletionCmd()
	var b strings.Builder
	b.WriteString("# Command line reference\n\n")
	b.WriteString("Generated from the command definitions by `go test ./cmd -update`; do not edit by hand.\n")
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" {
			return
		}
		if c.Name() == "completion" {
			// Cobra provides this command and its help text; describe it
			// in our own words.
			fmt.Fprintf(&b, "\n## %s\n\nPrint a shell completion script: `k8sexec completion bash|zsh|fish|powershell`.\n"+
				"For example `source <(k8sexec completion bash)` in the current shell, or save the output where your shell\n"+
				"loads completions from.\n", c.CommandPath())
			return
		}
		fmt.Fprintf(&b, "\n## %s\n\n", c.CommandPath())
		text := c.Long
		if text == "" {
			text = c.Short
		}
		b.WriteString(strings.TrimSpace(text) + "\n")
		if c.Runnable() {
			fmt.Fprintf(&b, "\n```\n%s\n```\n", c.UseLine())
		}
		if c.Example != "" {
			fmt.Fprintf(&b, "\nExamples:\n\n```\n%s\n```\n", strings.TrimRight(c.Example, "\n"))
		}
		if flags := c.NonInheritedFlags().FlagUsages(); strings.TrimSpace(flags) != "" {
			fmt.Fprintf(&b, "\nFlags:\n\n```\n%s```\n", flags)
		}
		subs := c.Commands()
		sort.Slice(subs, func(i, j int) bool { return subs[i].Name() < subs[j].Name() })
		for _, sub := range subs {
			walk(sub)
		}
	}
	walk(root)
	return b.String()
}

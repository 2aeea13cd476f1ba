package cmd

import (
	"fmt"
	"io"

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

package cmd

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of k8sexec",
		Args:  exactArgs(0),
		RunE: func(c *cobra.Command, args []string) error {
			b := BuildInfo
			fmt.Fprintf(e.stdout, "k8sexec %s\n", version())
			if b.Commit != "" {
				fmt.Fprintf(e.stdout, "commit  %s\n", b.Commit)
			}
			if b.Date != "" {
				fmt.Fprintf(e.stdout, "built   %s\n", b.Date)
			}
			fmt.Fprintf(e.stdout, "go      %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}

// version is the release version from -ldflags, or for `go install` builds
// the module version Go recorded.
func version() string {
	if BuildInfo.Version != "" && BuildInfo.Version != "dev" {
		return BuildInfo.Version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}

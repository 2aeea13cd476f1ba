// Command k8sexec finds exec sessions into Kubernetes containers in audit
// and process-event logs. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/k8sexec/k8sexec/cmd"
)

// Set by -ldflags at release time (see .goreleaser.yaml).
var (
	version = "dev"
	commit  = ""
	date    = ""
)

func main() {
	cmd.BuildInfo = cmd.Build{Version: version, Commit: commit, Date: date}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cmd.Execute(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

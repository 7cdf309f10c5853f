// Command chatsidecar-load measures a running chatsidecar server end to
// end. It registers channels of the generic webhook provider that point at
// a chat sink it serves itself, drives signed Discourse post_created
// webhooks at the server, and reports how fast the server took them in,
// how fast and how late the notifications reached the sink, and whether
// any were lost or delivered twice.
//
// Everything but main lives in testable functions: main only wires the
// process's signals, arguments, environment and streams into run.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop() // os.Exit skips deferred calls
	os.Exit(code)
}

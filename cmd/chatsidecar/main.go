// Command chatsidecar runs the Chat Sidecar, which connects a Discourse
// forum to chat platforms, and administers it from the command line:
// schema migrations, declarative configuration (apply/export) and admin
// API keys. Run `chatsidecar help` for the commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// Set at build time with
// -ldflags "-X main.version=v1.2.3 -X main.commit=$(git rev-parse HEAD)".
// They are the only package-level variables: the linker can set nothing
// else.
var (
	version = "dev"
	commit  = "unknown"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop() // os.Exit skips deferred calls
	os.Exit(code)
}

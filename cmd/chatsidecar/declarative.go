package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/chatsidecar/chatsidecar/admin"
	"github.com/chatsidecar/chatsidecar/providers/builtin"
)

// remoteFlags are the flags that send apply and export to a running
// server through the GraphQL API instead of opening the local database.
type remoteFlags struct {
	server string
	apiKey string
}

func (r *remoteFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&r.server, "server", "", "base URL of a running sidecar; use its GraphQL API instead of the local database")
	fs.StringVar(&r.apiKey, "api-key", "", "admin API key for --server (default: CHATSIDECAR_ADMIN_API_KEY)")
}

// client returns the GraphQL client, or nil when no --server was given.
// --api-key falls back to the configured bootstrap key, so CI can keep
// the key in the environment rather than on a command line that `ps`
// shows.
func (r *remoteFlags) client(c *cli) (*remoteClient, error) {
	if r.server == "" {
		if r.apiKey != "" {
			return nil, usagef("--api-key needs --server")
		}
		return nil, nil
	}
	key := r.apiKey
	if key == "" {
		key = c.cfg.AdminAPIKey
	}
	if key == "" {
		return nil, usagef("--server needs --api-key KEY (or CHATSIDECAR_ADMIN_API_KEY)")
	}
	return newRemoteClient(r.server, key, c.log)
}

// defineApply applies a declarative document locally or, with --server,
// through the applyConfig mutation.
func defineApply(fs *flag.FlagSet) runFunc {
	var (
		file   string
		prune  bool
		dryRun bool
		remote remoteFlags
	)
	fs.StringVar(&file, "f", "", "the document to apply (- for stdin)")
	fs.BoolVar(&prune, "prune", false, "delete channels the document does not name")
	fs.BoolVar(&dryRun, "dry-run", false, "show what would change and change nothing")
	remote.define(fs)
	return func(ctx context.Context, c *cli) error {
		if len(c.args) > 0 {
			return usagef("unexpected argument %q (the document is given with -f)", c.args[0])
		}
		if file == "" {
			return usagef("-f FILE is required")
		}
		rc, err := remote.client(c)
		if err != nil {
			return err
		}
		doc, err := readDocument(c.stdin, file)
		if err != nil {
			return err
		}
		expand := lookupFunc(c.getenv)

		var plan *admin.Plan
		if rc != nil {
			// The server never expands variables for API callers, so the
			// document is expanded here, from this process's environment.
			// This build's providers say which settings are booleans; the
			// server is expected to run the same release.
			reg, regErr := builtin.Registry()
			if regErr != nil {
				return fmt.Errorf("provider registry: %w", regErr)
			}
			if doc, err = admin.ExpandDocument(doc, expand, reg); err != nil {
				return err
			}
			plan, err = rc.applyConfig(ctx, string(doc), prune, dryRun)
		} else {
			plan, err = c.applyLocal(ctx, doc, admin.ApplyOptions{Prune: prune, DryRun: dryRun, Expand: expand})
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(c.stdout, plan.String())
		switch {
		case dryRun:
			fmt.Fprintln(c.stdout, "dry run: nothing was changed")
		case plan.Changed():
			fmt.Fprintf(c.stdout, "applied %d change%s\n", len(plan.Changes), plural(len(plan.Changes)))
		}
		return nil
	}
}

func (c *cli) applyLocal(ctx context.Context, doc []byte, opts admin.ApplyOptions) (*admin.Plan, error) {
	st, reg, closeStore, err := c.openStore(ctx)
	if err != nil {
		return nil, err
	}
	defer closeStore()
	return admin.New(st, reg, c.log).Apply(ctx, doc, opts)
}

// lookupFunc turns getenv into the lookup ${NAME} expansion uses. An empty
// variable counts as unset: getenv cannot tell them apart, and an empty
// secret is a mistake worth reporting.
func lookupFunc(getenv func(string) string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v := getenv(name)
		return v, v != ""
	}
}

// maxDocumentBytes bounds what apply reads; the server accepts at most
// 1 MiB per request anyway.
const maxDocumentBytes = 1 << 20

func readDocument(stdin io.Reader, file string) ([]byte, error) {
	var r io.Reader = stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	doc, err := io.ReadAll(io.LimitReader(r, maxDocumentBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	if len(doc) > maxDocumentBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", file, maxDocumentBytes)
	}
	return doc, nil
}

// defineExport prints the configuration locally or, with --server,
// through the exportConfig query.
func defineExport(fs *flag.FlagSet) runFunc {
	var (
		includeSecrets bool
		out            string
		remote         remoteFlags
	)
	fs.BoolVar(&includeSecrets, "include-secrets", false, "write secrets in clear text instead of ${CHATSIDECAR_SECRET_…} placeholders (local database only)")
	fs.StringVar(&out, "o", "", "write to FILE instead of stdout (created with mode 0600)")
	remote.define(fs)
	return func(ctx context.Context, c *cli) error {
		if len(c.args) > 0 {
			return usagef("unexpected argument %q", c.args[0])
		}
		rc, err := remote.client(c)
		if err != nil {
			return err
		}
		var doc []byte
		if rc != nil {
			if includeSecrets {
				return usagef("--include-secrets works only on the local database: the API never returns secrets")
			}
			var s string
			if s, err = rc.exportConfig(ctx); err != nil {
				return err
			}
			doc = []byte(s)
		} else if doc, err = c.exportLocal(ctx, admin.ExportOptions{IncludeSecrets: includeSecrets}); err != nil {
			return err
		}
		if len(doc) > 0 && !strings.HasSuffix(string(doc), "\n") {
			doc = append(doc, '\n')
		}
		if out == "" || out == "-" {
			_, err := c.stdout.Write(doc)
			return err
		}
		// 0600 whatever the content: even without secrets the file maps
		// out every chat room the forum talks to.
		if err := os.WriteFile(out, doc, 0o600); err != nil {
			return err
		}
		fmt.Fprintf(c.stderr, "wrote %s\n", out)
		return nil
	}
}

func (c *cli) exportLocal(ctx context.Context, opts admin.ExportOptions) ([]byte, error) {
	st, reg, closeStore, err := c.openStore(ctx)
	if err != nil {
		return nil, err
	}
	defer closeStore()
	return admin.New(st, reg, c.log).Export(ctx, opts)
}

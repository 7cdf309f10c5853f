package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"

	"github.com/chatsidecar/chatsidecar/store"
)

// defineServe wires the admin service, the GraphQL API and the HTTP
// server, and serves until SIGINT/SIGTERM cancels ctx; a clean shutdown
// exits 0.
func defineServe(*flag.FlagSet) runFunc {
	return func(ctx context.Context, c *cli) error {
		if len(c.args) > 0 {
			return usagef("unexpected argument %q", c.args[0])
		}
		c.log.InfoContext(ctx, "starting chatsidecar", "version", version, "commit", commit)
		st, reg, closeStore, err := c.openStore(ctx)
		if err != nil {
			return err
		}
		defer closeStore()
		if err := c.ensureInitialKey(ctx, st); err != nil {
			return err
		}

		a, err := c.buildApp(ctx, st, reg, nil)
		if err != nil {
			return err
		}
		return a.serve(ctx, nil)
	}
}

// ensureInitialKey gives a fresh install a way into the admin API: when
// no bootstrap key is configured and no API key was ever created, it
// creates one named "initial" and prints it once on stderr (not through the
// logger, so it never reaches a log pipeline as a structured field). When
// keys exist but all are revoked, that was deliberate: it only warns.
func (c *cli) ensureInitialKey(ctx context.Context, st *store.Store) error {
	if c.cfg.AdminAPIKey != "" {
		return nil
	}
	keys, err := st.ListAPIKeys(ctx)
	if err != nil {
		return fmt.Errorf("list api keys: %w", err)
	}
	for _, k := range keys {
		if k.RevokedAt == nil {
			return nil
		}
	}
	if len(keys) > 0 {
		c.log.WarnContext(ctx, "every admin API key is revoked: create one with `chatsidecar apikey create NAME` or set CHATSIDECAR_ADMIN_API_KEY")
		return nil
	}
	key, _, err := st.CreateAPIKey(ctx, "initial")
	if err != nil {
		return fmt.Errorf("create the initial api key: %w", err)
	}
	fmt.Fprintf(c.stderr, "\nNo admin API key existed, so one was created. It is shown only this once:\n\n    %s\n\n"+
		"Use it as `Authorization: Bearer <key>`. Revoke it with `chatsidecar apikey revoke` once you have your own.\n\n", key)
	return nil
}

// defineMigrate applies the migrations and reports the schema version.
func defineMigrate(*flag.FlagSet) runFunc {
	return func(ctx context.Context, c *cli) error {
		if len(c.args) > 0 {
			return usagef("unexpected argument %q", c.args[0])
		}
		st, _, closeStore, err := c.openStore(ctx)
		if err != nil {
			return err
		}
		defer closeStore()
		v, err := st.SchemaVersion(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "database schema is at version %d (%s)\n", v, st.Dialect())
		return nil
	}
}

// defineVersion prints the build's version.
func defineVersion(*flag.FlagSet) runFunc {
	return func(_ context.Context, c *cli) error {
		if len(c.args) > 0 {
			return usagef("unexpected argument %q", c.args[0])
		}
		fmt.Fprintf(c.stdout, "chatsidecar %s (commit %s, %s)\n", version, commit, runtime.Version())
		return nil
	}
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/chatsidecar/chatsidecar/store"
)

// maxKeyNameLength keeps key names readable in `apikey list`.
const maxKeyNameLength = 100

// defineAPIKey manages admin API keys in the local database.
func defineAPIKey(*flag.FlagSet) runFunc {
	return func(ctx context.Context, c *cli) error {
		if len(c.args) == 0 {
			return usagef("missing subcommand: create NAME, list or revoke ID")
		}
		sub, args := c.args[0], c.args[1:]
		// Arguments are checked before the database is opened, so a typo
		// does not create a key file or a database.
		var body func(context.Context, *store.Store) error
		switch sub {
		case "create":
			if len(args) != 1 {
				return usagef("create takes one argument, the key's name")
			}
			name := strings.TrimSpace(args[0])
			if err := checkKeyName(name); err != nil {
				return err
			}
			body = func(ctx context.Context, st *store.Store) error { return apiKeyCreate(ctx, c, st, name) }
		case "list":
			if len(args) != 0 {
				return usagef("list takes no arguments")
			}
			body = func(ctx context.Context, st *store.Store) error { return apiKeyList(ctx, c, st) }
		case "revoke":
			if len(args) != 1 {
				return usagef("revoke takes one argument, the key's id (see apikey list)")
			}
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return usagef("%q is not a key id (see apikey list)", args[0])
			}
			body = func(ctx context.Context, st *store.Store) error { return apiKeyRevoke(ctx, c, st, id) }
		default:
			return usagef("unknown subcommand %q: use create NAME, list or revoke ID", sub)
		}
		st, _, closeStore, err := c.openStore(ctx)
		if err != nil {
			return err
		}
		defer closeStore()
		return body(ctx, st)
	}
}

func checkKeyName(name string) error {
	if name == "" {
		return usagef("the key's name must not be empty")
	}
	if len(name) > maxKeyNameLength {
		return usagef("the key's name must be at most %d characters", maxKeyNameLength)
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return usagef("the key's name must not contain control characters")
	}
	return nil
}

// apiKeyCreate prints the new key alone on stdout, so a script can capture
// it with $(chatsidecar apikey create ci), and the notes on stderr.
func apiKeyCreate(ctx context.Context, c *cli, st *store.Store, name string) error {
	key, k, err := st.CreateAPIKey(ctx, name)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, key)
	fmt.Fprintf(c.stderr, "Created API key %d (%s). Store it now: it will not be shown again.\n", k.ID, k.Name)
	fmt.Fprintln(c.stderr, "Send it as `Authorization: Bearer <key>` or `Api-Key: <key>`.")
	return nil
}

func apiKeyList(ctx context.Context, c *cli, st *store.Store) error {
	keys, err := st.ListAPIKeys(ctx)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		fmt.Fprintln(c.stdout, "no API keys; create one with `chatsidecar apikey create NAME`")
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tPREFIX\tCREATED\tLAST USED\tREVOKED")
	for _, k := range keys {
		fmt.Fprintf(tw, "%d\t%s\t%s…\t%s\t%s\t%s\n", k.ID, k.Name, k.Prefix, formatTime(&k.CreatedAt, ""), formatTime(k.LastUsedAt, "never"), formatTime(k.RevokedAt, "-"))
	}
	return tw.Flush()
}

func apiKeyRevoke(ctx context.Context, c *cli, st *store.Store, id int64) error {
	err := st.RevokeAPIKey(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no active API key with id %d (see apikey list)", id)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "revoked API key %d\n", id)
	return nil
}

func formatTime(t *time.Time, none string) string {
	if t == nil || t.IsZero() {
		return none
	}
	return t.UTC().Format(time.RFC3339)
}

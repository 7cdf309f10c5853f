package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/providers/builtin"
	"github.com/chatsidecar/chatsidecar/store"
)

// openStore is the setup shared by every command that touches the
// database: the provider registry, the secret key (configured, or read
// from / generated into the data directory), the connection and the
// migrations. Every such command migrates first, so a fresh database works
// with any command and an old binary never writes to a newer schema
// unnoticed. The caller must call the returned close function.
func (c *cli) openStore(ctx context.Context) (*store.Store, *providers.Registry, func(), error) {
	reg, err := builtin.Registry()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("provider registry: %w", err)
	}
	key := c.cfg.SecretKey
	if key == nil {
		var created bool
		key, created, err = store.LoadOrCreateKey(c.cfg.DataDir)
		if err != nil {
			return nil, nil, nil, err
		}
		if created {
			path := filepath.Join(c.cfg.DataDir, store.KeyFileName)
			if abs, err := filepath.Abs(path); err == nil {
				path = abs
			}
			c.log.InfoContext(ctx, "generated a new secret key; back it up, stored secrets cannot be decrypted without it", "path", path)
		}
	}
	st, err := store.Open(ctx, store.Options{DatabaseURL: c.cfg.DatabaseURL, SecretKey: key, Providers: reg, Logger: c.log})
	if err != nil {
		return nil, nil, nil, err
	}
	closeStore := func() {
		if err := st.Close(); err != nil {
			c.log.WarnContext(ctx, "close database", "error", err)
		}
	}
	if err := st.Migrate(ctx); err != nil {
		closeStore()
		return nil, nil, nil, err
	}
	return st, reg, closeStore, nil
}

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
	reg, err := c.registry()
	if err != nil {
		return nil, nil, nil, err
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
	st, err := store.Open(ctx, store.Options{DatabaseURL: c.cfg.DatabaseURL, SecretKey: key, Providers: reg, Logger: c.log,
		MaxConns: c.cfg.DatabaseMaxConns})
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

// registry builds the providers that serve real traffic, all sharing one
// outbound client: one connection pool for every delivery, and the
// outbound address policy from the configuration (private destinations
// refused unless CHATSIDECAR_OUTBOUND_ALLOW_PRIVATE is set). This is the
// only place providers get their client in production; their own fallback
// (providers.NewHTTPClient) has no address policy and is for tests.
func (c *cli) registry() (*providers.Registry, error) {
	client := providers.NewOutboundClient(providers.ClientOptions{AllowPrivate: c.cfg.OutboundAllowPrivate,
		// As many connections as deliveries run at once.
		MaxConnsPerHost: c.cfg.DeliveryWorkers})
	reg, err := builtin.RegistryWithClient(client)
	if err != nil {
		return nil, fmt.Errorf("provider registry: %w", err)
	}
	return reg, nil
}

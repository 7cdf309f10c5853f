// Package graph is the GraphQL admin API: gqlgen's generated executor plus
// thin resolvers that validate arguments, call the admin service and map
// results. Secrets never leave this package unredacted.
package graph

//go:generate sh -c "cd .. && go tool gqlgen generate"

import (
	"log/slog"

	"github.com/chatsidecar/chatsidecar/admin"
	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/store"
)

// Deps are the resolver's dependencies, built in main.
type Deps struct {
	Admin    *admin.Service
	Store    *store.Store
	Registry *providers.Registry
	Logger   *slog.Logger
	// Deliveries may be nil (tests of the admin API alone).
	Deliveries Deliveries
}

// Resolver is the root resolver; gqlgen's per-type resolvers embed it.
type Resolver struct {
	admin *admin.Service
	store *store.Store
	reg   *providers.Registry
	log   *slog.Logger

	deliveries Deliveries
}

// NewResolver returns the root resolver.
func NewResolver(d Deps) *Resolver {
	log := d.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Resolver{admin: d.Admin, store: d.Store, reg: d.Registry, log: log, deliveries: d.Deliveries}
}

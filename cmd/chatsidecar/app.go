package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/chatsidecar/chatsidecar/admin"
	"github.com/chatsidecar/chatsidecar/config"
	"github.com/chatsidecar/chatsidecar/delivery"
	"github.com/chatsidecar/chatsidecar/discourse"
	"github.com/chatsidecar/chatsidecar/graph"
	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/rules"
	"github.com/chatsidecar/chatsidecar/server"
	"github.com/chatsidecar/chatsidecar/store"
)

// app is everything `serve` runs: the HTTP server, the webhook intake, the
// delivery engine and catch-up.
type app struct {
	cfg     *config.Config
	engine  *delivery.Engine
	intake  *delivery.Intake
	catchUp *delivery.CatchUp
	server  *server.Server
}

// buildApp wires the components; tweak may adjust the engine's options
// (tests shorten retry delays).
func (c *cli) buildApp(ctx context.Context, st *store.Store, reg *providers.Registry, tweak func(*delivery.Options)) (*app, error) {
	cfg := c.cfg
	promReg := prometheus.NewRegistry()
	promReg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := delivery.NewMetrics(promReg, st)

	eopts := delivery.Options{
		Store: st, Registry: reg, Logger: c.log, Metrics: metrics,
		Workers: cfg.DeliveryWorkers, WorkDisabled: cfg.DeliveryWorkers == 0, Lease: cfg.DeliveryLease,
		Retention: cfg.Retention,
	}
	if st.Dialect() == store.Postgres {
		eopts.DatabaseURL = cfg.DatabaseURL
	}
	if tweak != nil {
		tweak(&eopts)
	}
	engine, err := delivery.New(ctx, eopts)
	if err != nil {
		return nil, err
	}

	iopts := delivery.IntakeOptions{
		Store: st, Engine: engine, Registry: reg, Logger: c.log, Metrics: metrics,
		BaseURL: cfg.DiscourseURL, Names: delivery.DefaultNames(),
		// Tag rules apply whenever a topic has tags; the forum's
		// tagging_enabled setting is not read.
		Match: rules.Options{TaggingEnabled: true},
	}
	var client *discourse.Client
	if cfg.DiscourseURL != "" && cfg.DiscourseAPIKey != "" {
		if client, err = discourse.New(discourse.Options{BaseURL: cfg.DiscourseURL, APIKey: cfg.DiscourseAPIKey,
			APIUsername: cfg.DiscourseAPIUsername}); err != nil {
			return nil, fmt.Errorf("discourse client: %w", err)
		}
		iopts.Topics = discourse.NewCache(client, discourse.CacheOptions{Logger: c.log})
		iopts.Posts = client
	} else {
		c.log.InfoContext(ctx, "no Discourse API configured: matching uses webhook payloads only, and there is no catch-up of missed webhooks")
	}
	intake := delivery.NewIntake(iopts)
	a := &app{cfg: cfg, engine: engine, intake: intake}
	if client != nil {
		a.catchUp = &delivery.CatchUp{Posts: client, Intake: intake, Store: st, Logger: c.log,
			Metrics: metrics, Interval: cfg.CatchUpInterval}
	}

	auth := server.NewAuthenticator(st, cfg.AdminAPIKey, c.log)
	resolver := graph.NewResolver(graph.Deps{
		Admin:      admin.New(st, reg, c.log),
		Store:      st,
		Registry:   reg,
		Logger:     c.log,
		Deliveries: &delivery.Admin{Engine: engine, Intake: intake},
	})
	gql := graph.NewHandler(resolver, graph.HandlerOptions{
		Authenticate: auth.Authenticate,
		// A WebSocket upgrade that carried a valid key in its headers was
		// authenticated by the server already.
		IsAuthenticated: func(ctx context.Context) bool {
			_, ok := server.PrincipalFrom(ctx)
			return ok
		},
	})
	a.server = server.New(server.Options{
		Config:  cfg,
		Store:   st,
		Auth:    auth,
		GraphQL: gql,
		Logger:  c.log,
		Intake:  intake,
		Metrics: promhttp.HandlerFor(promReg, promhttp.HandlerOpts{}),
	})
	return a, nil
}

// serve runs until ctx ends: it starts the engine, then serves HTTP; on
// shutdown it stops taking webhooks first and then lets running
// deliveries finish within the shutdown timeout.
func (a *app) serve(ctx context.Context, ln net.Listener) error {
	if err := a.engine.Start(ctx); err != nil {
		return fmt.Errorf("start delivery: %w", err)
	}
	var wg sync.WaitGroup
	cctx, cancelCatchUp := context.WithCancel(ctx)
	if a.catchUp != nil {
		wg.Add(1)
		go func() { defer wg.Done(); a.catchUp.Run(cctx) }()
	}
	var err error
	if ln != nil {
		err = a.server.Serve(ctx, ln)
	} else {
		err = a.server.Run(ctx)
	}
	cancelCatchUp()
	wg.Wait()
	a.intake.Close()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.ShutdownTimeout)
	defer cancel()
	if serr := a.engine.Stop(sctx); serr != nil && !errors.Is(serr, context.DeadlineExceeded) {
		err = errors.Join(err, fmt.Errorf("stop delivery: %w", serr))
	}
	return err
}

// handler is the HTTP handler, for in-process tests.
func (a *app) handler() http.Handler { return a.server.Handler() }

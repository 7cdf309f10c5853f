package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Exit codes. Losing or duplicating deliveries has its own code so that a
// script can tell a server that misbehaved from a run that never got
// going.
const (
	exitOK          = 0
	exitFailure     = 1 // the run failed (setup, sink, interrupted)
	exitUsage       = 2 // bad flags; nothing was done
	exitCheckFailed = 3 // deliveries were lost or duplicated
)

// Post ids of a run are drawn from [idFloor, idCeiling). Random bases keep
// repeated runs from colliding in the server's de-duplication (post id +
// version), and the ceiling keeps ids within Discourse's 32-bit range.
const (
	idFloor   = 1_000_000_000
	idCeiling = 2_000_000_000
)

// sinkShutdownTimeout bounds waiting for deliveries still in flight at
// the sink when the run ends; by then they can only be late duplicates.
// It is short because net/http's Shutdown counts a connection that was
// opened but has not sent a request yet as busy for 5 s, and the server's
// client often holds one: a longer bound only delayed the report.
const sinkShutdownTimeout = time.Second

// run is the whole command: it parses args, runs the load, prints the
// report on stdout (progress and problems go to stderr) and returns the
// exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	o, err := parseOptions(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		var ue *usageError
		if errors.As(err, &ue) && !ue.printed {
			fmt.Fprintf(stderr, "chatsidecar-load: %v\n", err)
		}
		return exitUsage
	}
	rep, err := execute(ctx, o, stderr)
	if rep != nil {
		write := writeText
		if o.jsonOut {
			write = writeJSON
		}
		if werr := write(stdout, rep); werr != nil {
			err = errors.Join(err, werr)
		}
	}
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "chatsidecar-load: %v\n", err)
		return exitFailure
	case !rep.Pass:
		return exitCheckFailed
	}
	return exitOK
}

// execute runs one load test against a running server: it starts the
// sink, creates the channels, samples RSS, sends, waits for deliveries,
// cleans up and builds the report. The report is returned whenever
// sending started, even with an error (an interrupted run still says
// what it saw).
func execute(ctx context.Context, o *options, logw io.Writer) (*report, error) {
	logf := func(format string, a ...any) { fmt.Fprintf(logw, "chatsidecar-load: "+format+"\n", a...) }
	client := newHTTPClient(o.concurrency)
	defer client.CloseIdleConnections()
	runID := fmt.Sprintf("%08x", rand.Uint32())
	idBase := newIDBase(o.events, rand.Int64N)

	var rss *rssReport
	var readRSS func() (int64, error)
	if o.serverPID > 0 {
		readRSS = procRSS(o.serverPID)
		idle, err := readRSS()
		if err != nil {
			return nil, fmt.Errorf("--server-pid %d: %w", o.serverPID, err)
		}
		rss = &rssReport{PID: o.serverPID, IdleBytes: idle}
	}

	sk := newSink(sinkConfig{
		channels:  o.channels,
		minPostID: idBase,
		maxPostID: idBase + int64(o.events),
		latency:   o.sinkLatency,
		frac429:   o.sink429,
		random:    sinkRandom(o.sinkSeed),
		now:       time.Now,
	})
	sinkURL, stopSink, err := serveSink(ctx, o.sinkListen, sk)
	if err != nil {
		return nil, err
	}
	defer stopSink()
	if o.sinkURL != "" {
		sinkURL = o.sinkURL
	}

	ac := newAdminClient(o.server, o.apiKey, client)
	fx, err := setupFixture(ctx, ac, o, runID, sinkURL)
	if err != nil {
		return nil, fmt.Errorf("set up: %w", err)
	}
	if fx.enabledProvider {
		logf("enabled the %s provider for this run", providerID)
	}
	// Deferred after stopSink, so it runs before it: channels go first,
	// and no delivery is left aimed at a closed port for longer than
	// needed.
	defer func() {
		if o.keep {
			logf("kept channels %s", strings.Join(fx.channelIDs, ", "))
			return
		}
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), requestTimeout)
		defer cancel()
		if err := fx.teardown(tctx, ac); err != nil {
			logf("clean up: %v", err)
		}
	}()
	logf("run %s: %d channel(s) delivering to %s; sending %d events to %s", runID, o.channels, sinkURL, o.events, o.server)
	if o.warmup > 0 {
		logf("the first %d events warm the server up and are not measured", o.warmup)
	}

	var sampler *rssSampler
	if readRSS != nil {
		sampler = startRSSSampler(readRSS, rssInterval)
	}
	sd := &sender{
		client: client, server: o.server, secret: o.webhookSecret, instance: o.instance,
		runID: runID, idBase: idBase, category: o.categoryID, now: time.Now,
	}
	stopProgress := startProgress(o.progress, logf, sd, sk, o.events)
	res := sd.send(ctx, o.events, o.concurrency, o.rate)
	sk.expect(res.accepted)
	timedOut := false
	switch {
	case ctx.Err() != nil:
		// Interrupted: report what arrived so far without waiting.
	case res.ok == 0:
		logf("the server accepted none of the %d webhooks; not waiting for deliveries", res.attempted())
	default:
		logf("sent %d events (%d errors); waiting up to %s for deliveries", res.attempted(), res.failed, o.timeout)
		timedOut = waitDeliveries(ctx, sk, o.timeout, o.settle)
	}
	stopProgress()
	if sampler != nil {
		got := sampler.stop()
		rss.PeakBytes, rss.Samples = max(got.peak, rss.IdleBytes), got.samples
		if got.err != nil {
			rss.Error = got.err.Error()
		}
	}
	rep := buildReport(outcome{
		server: o.server, runID: runID, events: o.events, warmup: o.warmup, channels: o.channels, rate: o.rate,
		idBase: idBase, send: res, sink: sk.stats(), timedOut: timedOut, rss: rss, expectRestarts: o.expectRestarts,
	})
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("interrupted: %w", err)
	}
	return rep, nil
}

// newIDBase returns the first post id of a run of n events, using
// int64n (rand.Int64N) for randomness.
func newIDBase(n int, int64n func(int64) int64) int64 {
	return idFloor + int64n(idCeiling-idFloor-int64(n)+1)
}

// sinkRandom returns the source of the sink's 429 decisions: seeded and
// repeatable when seed is set, otherwise the runtime's random source.
func sinkRandom(seed uint64) func() float64 {
	if seed == 0 {
		return rand.Float64
	}
	return rand.New(rand.NewPCG(seed, seed)).Float64
}

// serveSink listens on addr and serves sk until the returned stop is
// called. It returns the URL the server can reach the sink at: an
// unspecified listen address (0.0.0.0, ::) is reached over loopback.
func serveSink(ctx context.Context, addr string, sk *sink) (string, func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("sink: %w", err)
	}
	srv := &http.Server{Handler: sk, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln) // always ErrServerClosed after stop
	}()
	stop := func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sinkShutdownTimeout)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			_ = srv.Close()
		}
		<-served
	}
	return "http://" + dialable(ln.Addr()), stop, nil
}

// dialable turns a listener's address into one a client can dial.
func dialable(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	host := tcp.IP.String()
	if tcp.IP == nil || tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, fmt.Sprint(tcp.Port))
}

// waitDeliveries waits until every expected delivery arrived, then settle
// longer to catch late duplicates. It reports whether timeout passed
// first; an ended ctx stops the wait without counting as a timeout.
func waitDeliveries(ctx context.Context, sk *sink, timeout, settle time.Duration) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-sk.Done():
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
	if settle > 0 {
		st := time.NewTimer(settle)
		defer st.Stop()
		select {
		case <-st.C:
		case <-ctx.Done():
		}
	}
	return false
}

// startProgress prints a progress line every interval until the returned
// stop is called, so a long run does not look hung. interval 0 prints
// nothing.
func startProgress(interval time.Duration, logf func(string, ...any), sd *sender, sk *sink, events int) (stop func()) {
	if interval <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				logf("progress: %d/%d webhooks answered (%d errors), %d/%d deliveries received",
					sd.answered.Load(), events, sd.failedCount.Load(), sk.received(), sk.expected)
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

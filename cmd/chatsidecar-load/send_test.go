package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPacerDue(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := pacer{start: start, rate: 1000}
	require.Equal(t, start, p.due(0))
	require.Equal(t, start.Add(time.Millisecond), p.due(1))
	require.Equal(t, start.Add(2500*time.Millisecond), p.due(2500))

	// A rate that does not divide a second keeps no rounding error.
	p = pacer{start: start, rate: 3}
	require.Equal(t, start.Add(time.Second), p.due(3))
	require.Equal(t, start.Add(100*time.Second), p.due(300))

	p = pacer{start: start, rate: 0}
	require.Equal(t, start, p.due(1_000_000), "rate 0 releases everything at once")
}

func TestPacerWait(t *testing.T) {
	p := pacer{start: time.Now(), rate: 1000}
	require.NoError(t, p.wait(context.Background(), 0))
	require.NoError(t, p.wait(context.Background(), 20))
	require.GreaterOrEqual(t, time.Since(p.start), 20*time.Millisecond, "event 20 at 1000/s is due after 20ms")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p = pacer{start: time.Now().Add(time.Hour), rate: 1}
	require.ErrorIs(t, p.wait(ctx, 0), context.Canceled, "an ended context ends the wait")
}

func TestSenderCountsAnswersAndBoundsConcurrency(t *testing.T) {
	const concurrency = 3
	var (
		mu       sync.Mutex
		inFlight int
		peak     int
		seen     = map[string]bool{}
	)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		peak = max(peak, inFlight)
		seen[r.Header.Get("X-Discourse-Event-Id")] = true
		n := len(seen)
		full := inFlight == concurrency
		mu.Unlock()
		if full {
			// Every worker is busy at once; let them all finish.
			select {
			case <-release:
			default:
				close(release)
			}
		}
		<-release
		mu.Lock()
		inFlight--
		mu.Unlock()
		if n%4 == 0 {
			http.Error(w, "nope", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	s := &sender{
		client: newHTTPClient(concurrency), server: srv.URL, secret: "s", instance: "https://f",
		runID: "r", idBase: 1_000_000_000, category: 1, now: time.Now,
	}
	res := s.send(context.Background(), 12, concurrency, 0)
	require.Equal(t, 9, res.ok)
	require.Equal(t, 3, res.failed)
	require.Equal(t, map[string]int{"HTTP 503": 3}, res.reasons)
	require.Equal(t, 12, res.attempted())
	require.Len(t, seen, 12, "every event has its own event id")
	require.Equal(t, concurrency, peak)
	for i, at := range res.sent {
		require.False(t, at.IsZero(), "event %d has a send time", i)
		require.False(t, at.Before(res.start))
		require.False(t, res.end.Before(at))
	}
	require.Equal(t, int64(12), s.answered.Load())
	require.Equal(t, int64(3), s.failedCount.Load())
}

func TestSenderReportsTransportErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens any more

	s := &sender{client: newHTTPClient(2), server: url, secret: "s", runID: "r", idBase: 1_000_000_000, now: time.Now}
	res := s.send(context.Background(), 4, 2, 0)
	require.Zero(t, res.ok)
	require.Equal(t, 4, res.failed)
	require.Len(t, res.reasons, 1)
	for reason := range res.reasons {
		require.Contains(t, reason, "transport: ")
		require.NotContains(t, reason, "/webhooks/discourse", "the URL is not repeated in every reason")
	}
}

func TestSenderStopsWhenInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := &sender{client: newHTTPClient(2), server: "http://127.0.0.1:9", secret: "s", runID: "r", idBase: 1, now: time.Now}
	res := s.send(ctx, 1000, 2, 1)
	require.Zero(t, res.attempted())
	require.True(t, res.sent[0].IsZero())
}

func TestAddReasonIsBounded(t *testing.T) {
	reasons := map[string]int{}
	for i := range maxErrorReasons + 5 {
		addReason(reasons, "HTTP "+string(rune('a'+i)), 1)
	}
	addReason(reasons, "HTTP a", 2)
	require.Len(t, reasons, maxErrorReasons+1)
	require.Equal(t, 5, reasons["other"])
	require.Equal(t, 3, reasons["HTTP a"])
}

func TestNewIDBaseStaysInRange(t *testing.T) {
	require.Equal(t, int64(idFloor), newIDBase(10, func(int64) int64 { return 0 }))
	var asked int64
	top := newIDBase(10, func(n int64) int64 { asked = n; return n - 1 })
	require.Equal(t, int64(idCeiling-10), top, "the last id of the run is below the ceiling")
	require.Equal(t, int64(idCeiling-idFloor-10+1), asked)
	require.Less(t, int64(idCeiling), int64(1<<31-1))
}

package main

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPercentileNearestRank(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value", []time.Duration{7}, 99, 7},
		{"p50 of 100", hundred, 50, 50 * time.Millisecond},
		{"p90 of 100", hundred, 90, 90 * time.Millisecond},
		{"p99 of 100", hundred, 99, 99 * time.Millisecond},
		{"p100 of 100", hundred, 100, 100 * time.Millisecond},
		{"p50 of 4 rounds up the rank", []time.Duration{1, 2, 3, 4}, 50, 2},
		{"p99 of 4 is the max", []time.Duration{1, 2, 3, 4}, 99, 4},
		{"tiny p is the min", []time.Duration{1, 2, 3, 4}, 0.001, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, percentile(tt.sorted, tt.p))
		})
	}
}

func TestSummarizeSortsAndConvertsToMilliseconds(t *testing.T) {
	lat := []time.Duration{
		40 * time.Millisecond, 10 * time.Millisecond, 1500 * time.Microsecond,
		30 * time.Millisecond, 20 * time.Millisecond,
	}
	s := summarize(lat)
	require.Equal(t, latencySummary{Count: 5, P50: 20, P90: 40, P99: 40, Max: 40}, s)
	require.Equal(t, latencySummary{}, summarize(nil))
}

// testOutcome is a run of 4 events on 2 channels: event 1 was answered
// 503 yet arrived on both channels (stored, answer lost), every delivery
// of the accepted events arrived except event 3 on channel 1, and event 0
// arrived twice on channel 0.
func testOutcome() outcome {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	const base = 1_000_000_000
	return outcome{
		server: "http://127.0.0.1:8080", runID: "r1", events: 4, channels: 2, rate: 100, idBase: base,
		send: &sendResult{
			sent:     []time.Time{ms(0), ms(10), ms(20), ms(30)},
			accepted: []bool{true, false, true, true},
			ok:       3,
			failed:   1,
			reasons:  map[string]int{"HTTP 503": 1},
			start:    ms(0),
			end:      ms(500),
		},
		sink: sinkStats{
			first: map[deliveryKey]time.Time{
				{0, base}: ms(100), {1, base}: ms(110),
				{0, base + 1}: ms(50), {1, base + 1}: ms(60),
				{0, base + 2}: ms(120), {1, base + 2}: ms(420),
				{0, base + 3}: ms(1030),
				// Event 3 on channel 1 is lost.
			},
			duplicates: 1,
			served429:  5,
			unexpected: 2,
		},
		timedOut: true,
	}
}

func TestBuildReport(t *testing.T) {
	r := buildReport(testOutcome())

	require.Equal(t, 4, r.EventsSent)
	require.Equal(t, 3, r.IngestOK)
	require.Equal(t, 1, r.IngestErrors)
	require.Equal(t, map[string]int{"HTTP 503": 1}, r.IngestErrorReasons)
	require.InDelta(t, 0.5, r.IngestSeconds, 1e-9)
	require.InDelta(t, 6.0, r.IngestPerSecond, 1e-9, "2xx answers per second")
	require.Equal(t, 6, r.DeliveriesExpected, "the 3 accepted events on 2 channels")
	require.Equal(t, 5, r.DeliveriesReceived)
	require.Equal(t, 2, r.DeliveredUnanswered, "event 1 on both channels")
	require.Equal(t, 1, r.Loss)
	require.Equal(t, 1, r.Duplicates)
	require.Equal(t, 5, r.Sink429s)
	require.Equal(t, 2, r.UnexpectedRequests)
	require.InDelta(t, 0.93, r.DeliverySeconds, 1e-9, "first accepted delivery at 100ms, last at 1030ms")
	require.InDelta(t, 5/0.93, r.DeliveriesPerSecond, 1e-9)
	// Latencies of the accepted events from their send time: 100, 110, 100, 400, 1000.
	require.Equal(t, latencySummary{Count: 5, P50: 110, P90: 1000, P99: 1000, Max: 1000}, r.Latency)
	require.True(t, r.TimedOut)
	require.False(t, r.Pass)
	require.Nil(t, r.RSS)
}

func TestBuildReportPassesOnlyWithoutLossAndDuplicates(t *testing.T) {
	o := testOutcome()
	o.sink.first[deliveryKey{1, o.idBase + 3}] = o.send.sent[3].Add(time.Millisecond)
	o.send.ok, o.send.failed, o.send.accepted[1] = 4, 0, true
	require.Equal(t, []string{"deliveries duplicated"}, buildReport(o).failures(), "a duplicate alone fails")
	o.sink.duplicates = 0
	r := buildReport(o)
	require.Zero(t, r.Loss)
	require.True(t, r.Pass)

	o.send.ok, o.send.failed, o.send.accepted[1] = 3, 1, false
	require.Equal(t, []string{"webhooks not accepted"}, buildReport(o).failures(),
		"a refused webhook fails a run that expects no restarts, even when its event was delivered")
}

// TestBuildReportExpectingRestarts: with --expect-restarts a webhook that
// found the server down is owed nothing and a resend repeating the
// delivery id is what a crash between send and record leaves; a loss, or
// a duplicate with another id, still fails.
func TestBuildReportExpectingRestarts(t *testing.T) {
	o := testOutcome()
	o.expectRestarts = true
	o.sink.sameID = 1
	r := buildReport(o)
	require.Equal(t, []string{"deliveries lost"}, r.failures())

	o.sink.first[deliveryKey{1, o.idBase + 3}] = o.send.sent[3].Add(time.Millisecond)
	r = buildReport(o)
	require.Empty(t, r.failures())
	require.True(t, r.Pass)
	var buf bytes.Buffer
	require.NoError(t, writeText(&buf, r))
	require.Contains(t, buf.String(), "duplicates           1 (1 repeating the first arrival's delivery id)")
	require.Contains(t, buf.String(), "delivered, no 2xx    2 (the server stored them but its answer was lost)")
	require.Contains(t, buf.String(), "PASS")

	o.sink.duplicates = 2
	require.Equal(t, []string{"duplicates without the first arrival's delivery id"}, buildReport(o).failures())
}

func TestBuildReportWithNothingDelivered(t *testing.T) {
	o := testOutcome()
	o.sink = sinkStats{first: map[deliveryKey]time.Time{}}
	r := buildReport(o)
	require.Equal(t, 6, r.Loss)
	require.Zero(t, r.DeliveriesPerSecond)
	require.Zero(t, r.DeliverySeconds)
	require.Equal(t, latencySummary{}, r.Latency)
}

func TestReportJSON(t *testing.T) {
	o := testOutcome()
	o.rss = &rssReport{PID: 42, IdleBytes: 10 << 20, PeakBytes: 30 << 20, Samples: 12}
	var buf bytes.Buffer
	require.NoError(t, writeJSON(&buf, buildReport(o)))
	var doc map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &doc))
	for _, k := range []string{
		"events_sent", "ingest_errors", "ingest_seconds", "ingest_per_second", "deliveries_expected",
		"deliveries_received", "delivered_unanswered", "deliveries_per_second", "loss", "duplicates",
		"duplicates_same_delivery_id", "expect_restarts", "sink_429s", "latency_ms", "rss", "pass",
	} {
		require.Contains(t, doc, k)
	}
	require.Equal(t, map[string]any{"count": 5.0, "p50": 110.0, "p90": 1000.0, "p99": 1000.0, "max": 1000.0}, doc["latency_ms"])
	require.Equal(t, map[string]any{"pid": 42.0, "idle_bytes": float64(10 << 20), "peak_bytes": float64(30 << 20), "samples": 12.0}, doc["rss"])
}

func TestReportText(t *testing.T) {
	o := testOutcome()
	o.rss = &rssReport{PID: 42, IdleBytes: 10 << 20, PeakBytes: 30 << 20, Samples: 12}
	var buf bytes.Buffer
	require.NoError(t, writeText(&buf, buildReport(o)))
	out := buf.String()
	for _, want := range []string{
		"4 of 4 (target 100.0 events/s)",
		"ingest errors        1 (HTTP 503: 1)",
		"5 received of 6 expected (2 channels)",
		"loss                 1 (timed out)",
		"latency p50          110.0ms",
		"server RSS peak      30.0 MiB (12 samples)",
		"FAIL (deliveries lost, webhooks not accepted, deliveries duplicated)",
	} {
		require.Contains(t, out, want)
	}
}

func TestFormatReasonsMostFrequentFirst(t *testing.T) {
	require.Equal(t, " (HTTP 500: 3, HTTP 401: 1, HTTP 502: 1)", formatReasons(map[string]int{"HTTP 502": 1, "HTTP 500": 3, "HTTP 401": 1}))
	require.Empty(t, formatReasons(nil))
}

func TestBuildReportLeavesWarmupOut(t *testing.T) {
	o := testOutcome()
	o.warmup = 2
	r := buildReport(o)

	require.Equal(t, 2, r.WarmupEvents)
	require.Equal(t, 3, r.IngestOK, "the totals still count every event")
	require.Equal(t, 5, r.DeliveriesReceived)
	require.Equal(t, 1, r.Loss, "warm-up events are still checked for loss")
	require.Equal(t, 1, r.Duplicates)
	require.InDelta(t, 0.48, r.IngestSeconds, 1e-9, "from event 2's send at 20ms to the last answer at 500ms")
	require.InDelta(t, 2/0.48, r.IngestPerSecond, 1e-9, "events 2 and 3 were accepted")
	require.InDelta(t, 0.91, r.DeliverySeconds, 1e-9, "measured deliveries arrived from 120ms to 1030ms")
	require.InDelta(t, 3/0.91, r.DeliveriesPerSecond, 1e-9)
	// Latencies of events 2 and 3 only: 100, 400, 1000.
	require.Equal(t, latencySummary{Count: 3, P50: 400, P90: 1000, P99: 1000, Max: 1000}, r.Latency)

	var buf bytes.Buffer
	require.NoError(t, writeText(&buf, r))
	require.Contains(t, buf.String(), "warm-up              first 2 events; rates and latencies below cover the other 2")
}

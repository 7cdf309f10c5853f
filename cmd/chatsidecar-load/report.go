package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// report is the outcome of a run, printed as a table or as JSON. Rates
// are per second, durations in the JSON are seconds or milliseconds as
// their names say, and RSS is in bytes.
type report struct {
	Server string `json:"server"`
	RunID  string `json:"run_id"`
	// Events is what was asked for; EventsSent what was actually sent
	// (fewer when the run was interrupted).
	Events     int `json:"events"`
	EventsSent int `json:"events_sent"`
	// WarmupEvents are the first events of the run. They are checked for
	// loss and duplicates like the others, but the rates and latencies
	// cover only the events after them, so a cold server (new database
	// connections, empty caches) does not stand in for its steady state.
	WarmupEvents       int            `json:"warmup_events"`
	IngestOK           int            `json:"ingest_ok"`
	IngestErrors       int            `json:"ingest_errors"`
	IngestErrorReasons map[string]int `json:"ingest_error_reasons,omitempty"`
	// IngestSeconds runs from the first measured send to the last
	// answer; IngestPerSecond counts the measured 2xx answers only.
	IngestSeconds   float64 `json:"ingest_seconds"`
	IngestPerSecond float64 `json:"ingest_per_second"`
	TargetRate      float64 `json:"target_rate"`
	Channels        int     `json:"channels"`
	// DeliveriesExpected is the events the server accepted (2xx) ×
	// channels; DeliveriesReceived counts the distinct (channel, post)
	// pairs of those events that arrived. DeliveredUnanswered counts the
	// pairs of events whose webhook got no 2xx and that arrived anyway:
	// the server stored the event but its answer was lost (it was killed
	// or timed out first). They are owed nothing and are not a loss.
	DeliveriesExpected  int `json:"deliveries_expected"`
	DeliveriesReceived  int `json:"deliveries_received"`
	DeliveredUnanswered int `json:"delivered_unanswered"`
	// DeliverySeconds runs from the first measured delivery to the last;
	// DeliveriesPerSecond counts measured deliveries.
	DeliverySeconds     float64 `json:"delivery_seconds"`
	DeliveriesPerSecond float64 `json:"deliveries_per_second"`
	// Loss is expected deliveries that never arrived.
	Loss       int `json:"loss"`
	Duplicates int `json:"duplicates"`
	// DuplicatesSameID counts the duplicates that carried the delivery id
	// of the first arrival, so a receiver that remembers ids drops them.
	DuplicatesSameID int `json:"duplicates_same_delivery_id"`
	// ExpectRestarts is --expect-restarts: ingest errors and duplicates
	// that repeat a delivery id do not fail the run.
	ExpectRestarts bool `json:"expect_restarts"`
	// UnexpectedRequests reached the sink but were none of the run's
	// deliveries (a wrong path, a foreign post id, a body that is not the
	// webhook provider's).
	UnexpectedRequests int `json:"unexpected_requests"`
	Sink429s           int `json:"sink_429s"`
	// Latency runs from sending a webhook to the sink answering its
	// delivery, over each distinct measured delivery.
	Latency latencySummary `json:"latency_ms"`
	RSS     *rssReport     `json:"rss,omitempty"`
	// TimedOut is set when --timeout passed before every delivery arrived.
	TimedOut bool `json:"timed_out"`
	// Pass is true when nothing was lost or duplicated and every webhook
	// was accepted; with ExpectRestarts, when nothing was lost and every
	// duplicate repeated its delivery id.
	Pass bool `json:"pass"`
}

// failures says why the run failed; none when it passed.
func (r *report) failures() []string {
	var why []string
	if r.Loss > 0 {
		why = append(why, "deliveries lost")
	}
	if r.IngestErrors > 0 && !r.ExpectRestarts {
		why = append(why, "webhooks not accepted")
	}
	switch {
	case r.Duplicates == 0:
	case !r.ExpectRestarts:
		why = append(why, "deliveries duplicated")
	case r.DuplicatesSameID < r.Duplicates:
		why = append(why, "duplicates without the first arrival's delivery id")
	}
	return why
}

// latencySummary holds percentiles in milliseconds.
type latencySummary struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

// rssReport is the server's memory before and during the run.
type rssReport struct {
	PID       int    `json:"pid"`
	IdleBytes int64  `json:"idle_bytes"`
	PeakBytes int64  `json:"peak_bytes"`
	Samples   int    `json:"samples"`
	Error     string `json:"error,omitempty"`
}

// outcome is everything a run measured, the input of buildReport.
type outcome struct {
	server   string
	runID    string
	events   int
	warmup   int
	channels int
	rate     float64
	idBase   int64
	send     *sendResult
	sink     sinkStats
	timedOut bool
	rss      *rssReport
	// expectRestarts is --expect-restarts.
	expectRestarts bool
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// sorted: the smallest value that at least p% of the values do not
// exceed. Nearest rank never invents a value that was not measured.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// summarize returns the percentiles of latencies, which it sorts.
func summarize(latencies []time.Duration) latencySummary {
	slices.Sort(latencies)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	s := latencySummary{Count: len(latencies)}
	if len(latencies) == 0 {
		return s
	}
	s.P50 = ms(percentile(latencies, 50))
	s.P90 = ms(percentile(latencies, 90))
	s.P99 = ms(percentile(latencies, 99))
	s.Max = ms(latencies[len(latencies)-1])
	return s
}

// perSecond is n over d, or 0 for an empty interval.
func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// buildReport computes the figures. A delivery's latency is measured from
// the moment its webhook was sent, so it covers ingest, queueing and
// every retry the server needed.
func buildReport(o outcome) *report {
	r := &report{
		Server:             o.server,
		RunID:              o.runID,
		Events:             o.events,
		EventsSent:         o.send.attempted(),
		IngestOK:           o.send.ok,
		IngestErrors:       o.send.failed,
		TargetRate:         o.rate,
		Channels:           o.channels,
		Duplicates:         o.sink.duplicates,
		DuplicatesSameID:   o.sink.sameID,
		ExpectRestarts:     o.expectRestarts,
		UnexpectedRequests: o.sink.unexpected,
		Sink429s:           o.sink.served429,
		TimedOut:           o.timedOut,
		RSS:                o.rss,
	}
	if len(o.send.reasons) > 0 {
		r.IngestErrorReasons = o.send.reasons
	}
	accepted := func(i int64) bool {
		return i >= 0 && i < int64(len(o.send.accepted)) && o.send.accepted[i]
	}
	r.DeliveriesExpected = o.send.ok * o.channels
	for k := range o.sink.first {
		if accepted(k.postID - o.idBase) {
			r.DeliveriesReceived++
		} else {
			r.DeliveredUnanswered++
		}
	}
	// Events before o.warmup, and events the server did not accept, are
	// not measured.
	measured := func(i int64) bool {
		return i >= int64(o.warmup) && accepted(i) && !o.send.sent[i].IsZero()
	}
	r.WarmupEvents = o.warmup
	start := o.send.start
	if o.warmup > 0 && o.warmup < len(o.send.sent) && !o.send.sent[o.warmup].IsZero() {
		start = o.send.sent[o.warmup]
	}
	ingestOK := o.send.ok
	if o.warmup > 0 {
		ingestOK = 0
		for i := o.warmup; i < len(o.send.accepted); i++ {
			if o.send.accepted[i] {
				ingestOK++
			}
		}
	}
	ingest := o.send.end.Sub(start)
	r.IngestSeconds = max(ingest.Seconds(), 0)
	r.IngestPerSecond = perSecond(ingestOK, ingest)

	latencies := make([]time.Duration, 0, len(o.sink.first))
	var first, last time.Time
	for k, at := range o.sink.first {
		i := k.postID - o.idBase
		if !measured(i) {
			continue
		}
		if first.IsZero() || at.Before(first) {
			first = at
		}
		if at.After(last) {
			last = at
		}
		latencies = append(latencies, at.Sub(o.send.sent[i]))
	}
	r.Latency = summarize(latencies)
	span := last.Sub(first)
	r.DeliverySeconds = span.Seconds()
	r.DeliveriesPerSecond = perSecond(len(latencies), span)
	r.Loss = r.DeliveriesExpected - r.DeliveriesReceived
	r.Pass = len(r.failures()) == 0
	return r
}

func writeJSON(w io.Writer, r *report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// writeText prints the report as an aligned two-column table.
func writeText(w io.Writer, r *report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(name, format string, a ...any) {
		fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{name}, a...)...)
	}
	target := "as fast as possible"
	if r.TargetRate > 0 {
		target = fmt.Sprintf("%.1f events/s", r.TargetRate)
	}
	row("server", "%s (run %s)", r.Server, r.RunID)
	row("events sent", "%d of %d (target %s)", r.EventsSent, r.Events, target)
	row("ingest errors", "%d%s", r.IngestErrors, formatReasons(r.IngestErrorReasons))
	if r.WarmupEvents > 0 {
		row("warm-up", "first %d events; rates and latencies below cover the other %d", r.WarmupEvents, r.Events-r.WarmupEvents)
	}
	row("ingest duration", "%s", seconds(r.IngestSeconds))
	row("ingest rate", "%.1f events/s (2xx answers)", r.IngestPerSecond)
	row("deliveries", "%d received of %d expected (%d channel%s)", r.DeliveriesReceived, r.DeliveriesExpected, r.Channels, plural(r.Channels))
	if r.DeliveredUnanswered > 0 {
		row("delivered, no 2xx", "%d (the server stored them but its answer was lost)", r.DeliveredUnanswered)
	}
	row("delivery duration", "%s (first to last)", seconds(r.DeliverySeconds))
	row("delivery rate", "%.1f deliveries/s", r.DeliveriesPerSecond)
	row("loss", "%d%s", r.Loss, map[bool]string{true: " (timed out)"}[r.TimedOut])
	if r.Duplicates > 0 {
		row("duplicates", "%d (%d repeating the first arrival's delivery id)", r.Duplicates, r.DuplicatesSameID)
	} else {
		row("duplicates", "%d", r.Duplicates)
	}
	row("unexpected requests", "%d", r.UnexpectedRequests)
	row("429s served", "%d", r.Sink429s)
	row("latency p50", "%s", millis(r.Latency.P50))
	row("latency p90", "%s", millis(r.Latency.P90))
	row("latency p99", "%s", millis(r.Latency.P99))
	row("latency max", "%s", millis(r.Latency.Max))
	if r.RSS != nil {
		row("server RSS idle", "%s", mib(r.RSS.IdleBytes))
		row("server RSS peak", "%s (%d samples)", mib(r.RSS.PeakBytes), r.RSS.Samples)
		if r.RSS.Error != "" {
			row("server RSS error", "%s", r.RSS.Error)
		}
	}
	result := "PASS"
	if !r.Pass {
		result = "FAIL (" + strings.Join(r.failures(), ", ") + ")"
	}
	row("result", "%s", result)
	return tw.Flush()
}

// formatReasons renders ingest-error reasons, most frequent first.
func formatReasons(reasons map[string]int) string {
	if len(reasons) == 0 {
		return ""
	}
	keys := make([]string, 0, len(reasons))
	for k := range reasons {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if reasons[keys[i]] != reasons[keys[j]] {
			return reasons[keys[i]] > reasons[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, reasons[k])
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func seconds(s float64) string { return fmt.Sprintf("%.3fs", s) }

func millis(ms float64) string { return fmt.Sprintf("%.1fms", ms) }

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

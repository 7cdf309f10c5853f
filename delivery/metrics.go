package delivery

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chatsidecar/chatsidecar/store"
)

// Metrics are the Prometheus series of intake and delivery. A nil
// *Metrics records nothing, so tests need not build one.
type Metrics struct {
	events       *prometheus.CounterVec
	outcomes     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	send         *prometheus.HistogramVec
	dropped      prometheus.Counter
	catchedUp    prometheus.Counter
	prunedEvents prometheus.Counter
	tookOverJobs prometheus.Counter
	subs         prometheus.Gauge
	outages      *prometheus.GaugeVec
}

// NewMetrics registers the series on reg. With a store, it also exports
// the queue depth, read from the database at scrape time so every replica
// reports the same shared queue.
func NewMetrics(reg prometheus.Registerer, st *store.Store) *Metrics {
	m := &Metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chatsidecar_events_received_total",
			Help: "Forum events received, by Discourse event name and outcome (accepted, duplicate, ignored, rejected, invalid, error).",
		}, []string{"event", "outcome"}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chatsidecar_deliveries_total",
			Help: "Delivery attempts by provider and outcome (delivered, retry, rate_limited, failed, cancelled).",
		}, []string{"provider", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "chatsidecar_delivery_latency_seconds",
			Help:    "Time from accepting an event to its delivery being confirmed by the platform.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 1800},
		}, []string{"provider"}),
		send: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "chatsidecar_platform_request_seconds",
			Help:    "Duration of one call to a chat platform, whatever its outcome.",
			Buckets: prometheus.DefBuckets,
		}, []string{"provider"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chatsidecar_delivery_updates_dropped_total",
			Help: "Delivery status updates not passed to a subscriber that fell behind.",
		}),
		subs: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "chatsidecar_delivery_subscribers",
			Help: "Live deliveryUpdated subscriptions served by this process.",
		}),
		catchedUp: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chatsidecar_catchup_posts_total",
			Help: "Posts found by catch-up that no webhook had delivered.",
		}),
		outages: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "chatsidecar_provider_outage",
			Help: "1 while this process takes a provider's platform to be down (its deliveries wait for a probe), else 0.",
		}, []string{"provider"}),
		prunedEvents: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chatsidecar_events_pruned_total",
			Help: "Forum events deleted with their deliveries because they were older than the retention.",
		}),
		tookOverJobs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chatsidecar_deliveries_taken_over_total",
			Help: "Delivery jobs of processes that died (held back or running) that this process made due at once.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.events, m.outcomes, m.latency, m.send, m.dropped, m.catchedUp, m.prunedEvents, m.tookOverJobs, m.subs, m.outages)
		if st != nil {
			reg.MustRegister(&queueDepth{st: st, desc: prometheus.NewDesc("chatsidecar_delivery_queue_depth",
				"Deliveries not yet finished, by status.", []string{"status"}, nil)})
		}
	}
	return m
}

func (m *Metrics) outage(provider string, down bool) {
	if m != nil {
		v := 0.0
		if down {
			v = 1
		}
		m.outages.WithLabelValues(provider).Set(v)
	}
}

func (m *Metrics) event(name, outcome string) {
	if m != nil {
		m.events.WithLabelValues(name, outcome).Inc()
	}
}

func (m *Metrics) delivery(provider, outcome string) {
	if m != nil {
		m.outcomes.WithLabelValues(provider, outcome).Inc()
	}
}

func (m *Metrics) observeLatency(provider string, d time.Duration) {
	if m != nil {
		m.latency.WithLabelValues(provider).Observe(d.Seconds())
	}
}

func (m *Metrics) observeSend(provider string, d time.Duration) {
	if m != nil {
		m.send.WithLabelValues(provider).Observe(d.Seconds())
	}
}

func (m *Metrics) droppedUpdate() {
	if m != nil {
		m.dropped.Inc()
	}
}

func (m *Metrics) caughtUp(n int) {
	if m != nil {
		m.catchedUp.Add(float64(n))
	}
}

func (m *Metrics) tookOver(n int) {
	if m != nil && n > 0 {
		m.tookOverJobs.Add(float64(n))
	}
}

func (m *Metrics) pruned(n int) {
	if m != nil && n > 0 {
		m.prunedEvents.Add(float64(n))
	}
}

// queueDepth reads the unfinished deliveries at scrape time.
type queueDepth struct {
	st   *store.Store
	desc *prometheus.Desc
}

func (q *queueDepth) Describe(ch chan<- *prometheus.Desc) { ch <- q.desc }

func (q *queueDepth) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	counts, err := q.st.CountDeliveries(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(q.desc, err)
		return
	}
	for _, s := range []string{store.StatusQueued, store.StatusSending, store.StatusRetrying} {
		ch <- prometheus.MustNewConstMetric(q.desc, prometheus.GaugeValue, float64(counts[s]), s)
	}
}

func (m *Metrics) subscribers(delta float64) {
	if m != nil {
		m.subs.Add(delta)
	}
}

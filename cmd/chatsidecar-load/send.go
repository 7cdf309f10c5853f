package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Bounds of the webhook traffic.
const (
	// requestTimeout bounds one webhook or API request: Discourse itself
	// gives up on a webhook after 20 s.
	requestTimeout = 30 * time.Second
	// maxErrorReasons bounds the distinct ingest-error reasons kept, so a
	// server failing in many ways cannot grow the report without limit.
	maxErrorReasons = 20
)

// newHTTPClient returns the one client of a run. Its transport keeps at
// least one idle connection per concurrent request, so a steady run
// reuses connections instead of opening (and leaving in TIME_WAIT) one
// per webhook; the default of two idle connections per host would.
func newHTTPClient(concurrency int) *http.Client {
	idle := max(concurrency, 2)
	return &http.Client{
		Timeout: requestTimeout,
		Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxIdleConns:        idle,
			MaxIdleConnsPerHost: idle,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
			ForceAttemptHTTP2:   true,
		},
		// A webhook endpoint that redirects is misconfigured; report the
		// redirect rather than follow it.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// pacer spaces sends evenly: event i is due at start + i/rate. One
// goroutine waits on it and hands events to the workers, so the schedule
// costs one timer however many requests are in flight. When the workers
// fall behind, overdue events are released at once, keeping the average
// rate on target rather than silently lowering it.
type pacer struct {
	start time.Time
	rate  float64 // events per second; 0 releases everything at once
}

// due is when event i may be sent.
func (p pacer) due(i int) time.Time {
	if p.rate <= 0 {
		return p.start
	}
	return p.start.Add(time.Duration(float64(i) * float64(time.Second) / p.rate))
}

// wait blocks until event i is due or ctx ends.
func (p pacer) wait(ctx context.Context, i int) error {
	d := time.Until(p.due(i))
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// sender posts a run's webhooks.
type sender struct {
	client   *http.Client
	server   string
	secret   string
	instance string
	runID    string
	idBase   int64
	category int
	now      func() time.Time

	// answered and failedCount count requests as they finish, for the
	// progress lines.
	answered    atomic.Int64
	failedCount atomic.Int64
}

// sendResult is what sending observed.
type sendResult struct {
	// sent[i] is when event i's request was handed to the client; zero
	// if the run was interrupted before it.
	sent []time.Time
	// accepted[i] is set when event i got a 2xx answer.
	accepted []bool
	ok       int // 2xx answers
	failed   int // other answers and transport errors
	reasons  map[string]int
	// start is the first send, end the last answer.
	start, end time.Time
}

// attempted is how many webhooks were sent, answered or not.
func (r *sendResult) attempted() int { return r.ok + r.failed }

// send posts n events with the given concurrency, paced by rate. It
// returns when every event was answered or ctx ended.
func (s *sender) send(ctx context.Context, n, concurrency int, rate float64) *sendResult {
	res := &sendResult{sent: make([]time.Time, n), accepted: make([]bool, n), reasons: map[string]int{}}
	jobs := make(chan int)
	var (
		mu sync.Mutex // guards res's counters and end
		wg sync.WaitGroup
	)
	res.start = s.now()
	for range concurrency {
		wg.Go(func() {
			var ok, failed int
			var last time.Time
			reasons := map[string]int{}
			for i := range jobs {
				res.sent[i] = s.now()
				reason := s.post(ctx, newEvent(s.runID, s.idBase, i, s.category, res.sent[i]))
				last = s.now()
				s.answered.Add(1)
				if reason == "" {
					res.accepted[i] = true
					ok++
					continue
				}
				failed++
				s.failedCount.Add(1)
				reasons[reason]++
			}
			mu.Lock()
			defer mu.Unlock()
			res.ok += ok
			res.failed += failed
			if last.After(res.end) {
				res.end = last
			}
			for r, c := range reasons {
				addReason(res.reasons, r, c)
			}
		})
	}
	p := pacer{start: res.start, rate: rate}
feed:
	for i := range n {
		if p.wait(ctx, i) != nil {
			break
		}
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if res.end.IsZero() {
		res.end = res.start
	}
	return res
}

// addReason counts c failures of reason r, folding reasons beyond the
// first maxErrorReasons into "other".
func addReason(reasons map[string]int, r string, c int) {
	if _, ok := reasons[r]; !ok && len(reasons) >= maxErrorReasons {
		r = "other"
	}
	reasons[r] += c
}

// post sends one webhook and returns "" on a 2xx answer, otherwise why it
// failed ("HTTP 401", or the transport error).
func (s *sender) post(ctx context.Context, e event) string {
	body, err := webhookBody(e)
	if err != nil {
		return "encode: " + err.Error()
	}
	req, err := newWebhookRequest(ctx, s.server, s.secret, s.instance, e, body)
	if err != nil {
		return "request: " + err.Error()
	}
	resp, err := s.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "interrupted"
		}
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // drop the repeated method and URL
		}
		return "transport: " + err.Error()
	}
	// Draining lets the connection be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Sprintf("HTTP %d", resp.StatusCode)
	}
	return ""
}

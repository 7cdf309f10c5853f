package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxSinkBody bounds a delivery's body; the webhook provider's documents
// are a few kilobytes.
const maxSinkBody = 1 << 20

// deliveryKey identifies one expected delivery: a post on a channel.
type deliveryKey struct {
	channel int
	postID  int64
}

// sinkConfig is what the sink accepts and how it behaves.
type sinkConfig struct {
	// channels is how many /hook/<i> paths exist.
	channels int
	// minPostID and maxPostID bound the run's post ids [min, max); other
	// ids are not this run's and are counted as unexpected.
	minPostID, maxPostID int64
	// latency is how long the sink takes to answer a delivery.
	latency time.Duration
	// frac429 of the requests are answered 429 with Retry-After: 1.
	frac429 float64
	// random returns numbers in [0, 1) for the 429 decision. The sink
	// calls it under its lock, so it need not be safe for concurrent use,
	// and a seeded source gives a repeatable sequence of decisions.
	random func() float64
	// now is the clock of the receive times.
	now func() time.Time
}

// sink is the chat platform the run's channels point at. It records the
// first time each (channel, post) arrived and counts everything else: a
// second arrival is a duplicate, a request that is not one of this run's
// deliveries is unexpected.
type sink struct {
	cfg      sinkConfig
	expected int
	done     chan struct{} // closed when every expected delivery arrived

	mu         sync.Mutex
	first      map[deliveryKey]time.Time
	duplicates int
	served429  int
	unexpected int
	recorded   int // every recorded request, duplicates included
}

// sinkStats is a copy of what the sink saw.
type sinkStats struct {
	first      map[deliveryKey]time.Time
	duplicates int
	served429  int
	unexpected int
}

func newSink(cfg sinkConfig) *sink {
	expected := cfg.channels * int(cfg.maxPostID-cfg.minPostID)
	return &sink{
		cfg:      cfg,
		expected: expected,
		done:     make(chan struct{}),
		first:    make(map[deliveryKey]time.Time, expected),
	}
}

// Done is closed once every expected delivery has arrived at least once.
func (s *sink) Done() <-chan struct{} { return s.done }

// ServeHTTP answers one delivery of the generic webhook provider. The 429
// decision comes before the body is read and before anything is recorded,
// as a throttling platform refuses work it has not done; only a request
// that waited out the latency and was answered 200 counts as delivered,
// because a request the server abandoned (its context ended) will be
// retried and must not count twice.
func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	channel, ok := hookChannel(r.URL.Path, s.cfg.channels)
	if r.Method != http.MethodPost || !ok {
		s.countUnexpected()
		http.NotFound(w, r)
		return
	}
	if s.throttle() {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxSinkBody))
		w.Header().Set("Retry-After", "1")
		http.Error(w, "slow down", http.StatusTooManyRequests)
		return
	}
	var body struct {
		Post struct {
			ID int64 `json:"id"`
		} `json:"post"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, maxSinkBody)).Decode(&body); err != nil {
		s.countUnexpected()
		http.Error(w, "not a webhook provider body", http.StatusBadRequest)
		return
	}
	if id := body.Post.ID; id < s.cfg.minPostID || id >= s.cfg.maxPostID {
		// Not this run's post (a straggler of an earlier run, say).
		// Accept it so that it is not retried at us again.
		s.countUnexpected()
		writeReceipt(w, 0)
		return
	}
	if s.cfg.latency > 0 {
		t := time.NewTimer(s.cfg.latency)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	writeReceipt(w, s.record(deliveryKey{channel: channel, postID: body.Post.ID}))
}

// writeReceipt answers like a chat platform that created message n; the
// provider keeps the id as the delivery's message id.
func writeReceipt(w http.ResponseWriter, n int) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"id":"`+strconv.Itoa(n)+`"}`)
}

// hookChannel returns i for a path "/hook/<i>" with 0 <= i < channels.
func hookChannel(path string, channels int) (int, bool) {
	rest, ok := strings.CutPrefix(path, "/hook/")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(rest)
	if err != nil || i < 0 || i >= channels || strconv.Itoa(i) != rest {
		return 0, false
	}
	return i, true
}

func (s *sink) throttle() bool {
	if s.cfg.frac429 <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.random() >= s.cfg.frac429 {
		return false
	}
	s.served429++
	return true
}

func (s *sink) countUnexpected() {
	s.mu.Lock()
	s.unexpected++
	s.mu.Unlock()
}

// record notes that k arrived now and returns the request's sequence
// number, which doubles as the message id of the receipt.
func (s *sink) record(k deliveryKey) int {
	at := s.cfg.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recorded++
	if _, seen := s.first[k]; seen {
		s.duplicates++
		return s.recorded
	}
	s.first[k] = at
	if len(s.first) == s.expected {
		close(s.done)
	}
	return s.recorded
}

// received is how many distinct deliveries have arrived, for progress.
func (s *sink) received() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.first)
}

// stats returns a copy of what the sink has seen so far.
func (s *sink) stats() sinkStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	first := make(map[deliveryKey]time.Time, len(s.first))
	for k, v := range s.first {
		first[k] = v
	}
	return sinkStats{first: first, duplicates: s.duplicates, served429: s.served429, unexpected: s.unexpected}
}

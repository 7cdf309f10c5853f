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
	expected int           // every post of the run on every channel
	done     chan struct{} // closed when every awaited delivery arrived

	mu    sync.Mutex
	first map[deliveryKey]time.Time
	// firstID is the delivery id the first arrival carried.
	firstID    map[deliveryKey]string
	duplicates int
	// sameID counts the duplicates that carried the first arrival's
	// delivery id, which a receiver that remembers ids would drop.
	sameID     int
	served429  int
	unexpected int
	recorded   int // every recorded request, duplicates included
	// awaited[i] says whether post minPostID+i is awaited; nil awaits
	// every post until expect narrows it. want and got count awaited
	// deliveries, expected and arrived.
	awaited   []bool
	want, got int
	closed    bool
}

// sinkStats is a copy of what the sink saw.
type sinkStats struct {
	first      map[deliveryKey]time.Time
	duplicates int
	sameID     int
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
		firstID:  make(map[deliveryKey]string, expected),
		want:     expected,
	}
}

// Done is closed once every awaited delivery has arrived at least once.
func (s *sink) Done() <-chan struct{} { return s.done }

// expect narrows the awaited deliveries to the posts whose webhook the
// server accepted (accepted[i] for post minPostID+i), on every channel.
// A server that refused a webhook, or was down when it came, owes no
// delivery for it; one that stored the event but died before answering
// still delivers it, and the sink records that too.
func (s *sink) expect(accepted []bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.awaited = accepted
	s.want, s.got = 0, 0
	for _, ok := range accepted {
		if ok {
			s.want += s.cfg.channels
		}
	}
	for k := range s.first {
		if s.isAwaited(k) {
			s.got++
		}
	}
	s.closeIfComplete()
}

// isAwaited reports whether k counts towards Done; s.mu is held.
func (s *sink) isAwaited(k deliveryKey) bool {
	if s.awaited == nil {
		return true
	}
	i := k.postID - s.cfg.minPostID
	return i >= 0 && i < int64(len(s.awaited)) && s.awaited[i]
}

// closeIfComplete closes done once every awaited delivery arrived; s.mu
// is held.
func (s *sink) closeIfComplete() {
	if !s.closed && s.got >= s.want {
		s.closed = true
		close(s.done)
	}
}

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
		DeliveryID string `json:"delivery_id"`
		Post       struct {
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
	writeReceipt(w, s.record(deliveryKey{channel: channel, postID: body.Post.ID}, body.DeliveryID))
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

// record notes that k arrived now carrying delivery id id, and returns
// the request's sequence number, which doubles as the message id of the
// receipt.
func (s *sink) record(k deliveryKey, id string) int {
	at := s.cfg.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recorded++
	if _, seen := s.first[k]; seen {
		s.duplicates++
		if id != "" && id == s.firstID[k] {
			s.sameID++
		}
		return s.recorded
	}
	s.first[k] = at
	s.firstID[k] = id
	if s.isAwaited(k) {
		s.got++
		s.closeIfComplete()
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
	return sinkStats{first: first, duplicates: s.duplicates, sameID: s.sameID, served429: s.served429, unexpected: s.unexpected}
}

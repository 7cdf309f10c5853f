package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// rssInterval is how often the server's RSS is sampled: often enough to
// catch a burst of a few hundred milliseconds, rarely enough to cost the
// machine under test nothing measurable.
const rssInterval = 100 * time.Millisecond

// parseVmRSS returns the VmRSS of a /proc/PID/status document in bytes.
// The kernel reports it in kB (KiB).
func parseVmRSS(status []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("unexpected VmRSS line %q", sc.Text())
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("unexpected VmRSS line %q", sc.Text())
		}
		return kb << 10, nil
	}
	// Kernel threads and zombies have no VmRSS line.
	return 0, errors.New("no VmRSS line (is the process a zombie?)")
}

// procRSS returns a reader of pid's current RSS.
func procRSS(pid int) func() (int64, error) {
	path := "/proc/" + strconv.Itoa(pid) + "/status"
	return func() (int64, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return 0, err
		}
		return parseVmRSS(b)
	}
}

// rssResult is what a sampler saw.
type rssResult struct {
	peak    int64
	samples int
	err     error // the read that stopped sampling, if any
}

// rssSampler reads an RSS periodically in its own goroutine and keeps the
// peak. The first failed read stops it: the process is gone and further
// samples would only repeat the error.
type rssSampler struct {
	read     func() (int64, error)
	stopCh   chan struct{}
	finished chan struct{}

	mu  sync.Mutex
	res rssResult
}

// startRSSSampler samples read now and then every interval until stop.
func startRSSSampler(read func() (int64, error), interval time.Duration) *rssSampler {
	s := &rssSampler{read: read, stopCh: make(chan struct{}), finished: make(chan struct{})}
	go s.loop(interval)
	return s
}

func (s *rssSampler) loop(interval time.Duration) {
	defer close(s.finished)
	t := time.NewTicker(interval)
	defer t.Stop()
	for s.sample() {
		select {
		case <-s.stopCh:
			return
		case <-t.C:
		}
	}
}

// sample takes one reading and reports whether sampling should go on.
func (s *rssSampler) sample() bool {
	v, err := s.read()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.res.err = err
		return false
	}
	s.res.samples++
	s.res.peak = max(s.res.peak, v)
	return true
}

// stop ends sampling, takes a last reading (so a peak right at the end of
// the run is not missed), and returns the result.
func (s *rssSampler) stop() rssResult {
	close(s.stopCh)
	<-s.finished
	if s.res.err == nil {
		s.sample()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.res
}

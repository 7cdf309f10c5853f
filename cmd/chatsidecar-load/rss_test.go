package main

import (
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseVmRSS(t *testing.T) {
	status := "Name:\tchatsidecar\nVmPeak:\t  900000 kB\nVmRSS:\t   12345 kB\nThreads:\t12\n"
	got, err := parseVmRSS([]byte(status))
	require.NoError(t, err)
	require.Equal(t, int64(12345*1024), got)

	_, err = parseVmRSS([]byte("Name:\tkthreadd\nState:\tS (sleeping)\n"))
	require.Error(t, err)
	_, err = parseVmRSS([]byte("VmRSS:\t 12 MB\n"))
	require.Error(t, err)
	_, err = parseVmRSS([]byte("VmRSS:\t x kB\n"))
	require.Error(t, err)
}

func TestProcRSSOfMissingProcess(t *testing.T) {
	got, err := procRSS(1 << 30)() // no such process
	require.Error(t, err)
	require.Zero(t, got)
}

// scriptedRSS returns values in turn and then the last one forever,
// signalling on reached once it has returned them all.
type scriptedRSS struct {
	mu      sync.Mutex
	values  []int64
	err     error // returned after the values, if set
	reached chan struct{}
	calls   int
}

func (s *scriptedRSS) read() (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.calls == len(s.values) {
		close(s.reached)
	}
	if s.calls > len(s.values) {
		if s.err != nil {
			return 0, s.err
		}
		return s.values[len(s.values)-1], nil
	}
	return s.values[s.calls-1], nil
}

func TestRSSSamplerKeepsThePeak(t *testing.T) {
	src := &scriptedRSS{values: []int64{10, 50, 20, 30}, reached: make(chan struct{})}
	s := startRSSSampler(src.read, 1) // 1ns: as fast as the ticker goes
	<-src.reached
	got := s.stop()
	require.NoError(t, got.err)
	require.Equal(t, int64(50), got.peak)
	require.GreaterOrEqual(t, got.samples, 5, "the four scripted reads and the final one")
}

func TestRSSSamplerStopsAtTheFirstError(t *testing.T) {
	gone := errors.New("no such process")
	src := &scriptedRSS{values: []int64{10, 70}, err: gone, reached: make(chan struct{})}
	s := startRSSSampler(src.read, 1)
	<-s.finished // the loop ends by itself on the error
	got := s.stop()
	require.ErrorIs(t, got.err, gone)
	require.Equal(t, int64(70), got.peak)
	require.Equal(t, 2, got.samples)
	require.Equal(t, 3, src.calls, "no read after the failed one, not even the final one")
}

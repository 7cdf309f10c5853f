package delivery

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Concurrent callers each get their own result, whatever group they were
// served in.
func TestBatcherAnswersEachCaller(t *testing.T) {
	b := newBatcher(func(_ context.Context, reqs []int) ([]int, error) {
		out := make([]int, len(reqs))
		for i, r := range reqs {
			out[i] = r * 10
		}
		return out, nil
	}, false)
	b.start(2)
	defer b.close()
	var wg sync.WaitGroup
	for i := range 500 {
		wg.Go(func() {
			got, err := b.do(context.Background(), i)
			assert.NoError(t, err)
			assert.Equal(t, i*10, got)
		})
	}
	wg.Wait()
}

// With retrySingly, one bad request fails alone; the others in its group
// succeed.
func TestBatcherRetriesSingly(t *testing.T) {
	errBad := errors.New("bad request")
	var mu sync.Mutex
	var sizes []int
	b := newBatcher(func(_ context.Context, reqs []int) ([]int, error) {
		mu.Lock()
		sizes = append(sizes, len(reqs))
		mu.Unlock()
		for _, r := range reqs {
			if r == 13 {
				return nil, errBad
			}
		}
		return make([]int, len(reqs)), nil
	}, true)

	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range 20 {
		wg.Go(func() { _, errs[i] = b.do(context.Background(), i) })
	}
	// Start serving only once all 20 wait, so they form one group.
	require.Eventually(t, func() bool { return len(b.in) == 20 }, 5*time.Second, time.Millisecond)
	b.start(1)
	defer b.close()
	wg.Wait()
	for i, err := range errs {
		if i == 13 {
			require.ErrorIs(t, err, errBad)
		} else {
			require.NoError(t, err, "request %d", i)
		}
	}
	require.Equal(t, 20, sizes[0], "the waiting requests were served as one group first")
	require.Len(t, sizes, 21, "then one by one")
}

// A caller whose context ends before the request is handed over gets the
// context's error.
func TestBatcherHandOverHonoursContext(t *testing.T) {
	b := newBatcher(func(_ context.Context, reqs []int) ([]int, error) { return make([]int, len(reqs)), nil }, false)
	// Not started: nothing takes requests once the buffer is full.
	for range maxGroup {
		b.in <- &call[int, int]{done: make(chan result[int], 1)}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := b.do(ctx, 1)
	require.ErrorIs(t, err, context.Canceled)
}

package delivery

import (
	"context"
	"sync"
	"time"
)

// batcher serves requests from many goroutines in groups: a caller hands
// its request over and waits, and a few loops each take every request
// waiting and serve the group with one database round trip. Under load
// the groups grow by themselves (the requests that arrive while a group is
// served form the next one); when idle a request is served at once, so
// batching adds no latency.
type batcher[Req, Res any] struct {
	in    chan *call[Req, Res]
	serve func(ctx context.Context, reqs []Req) ([]Res, error)
	// single serves each request alone after its group failed, so one
	// bad request cannot fail the others.
	single bool

	stop chan struct{}
	wg   sync.WaitGroup
}

type call[Req, Res any] struct {
	req  Req
	done chan result[Res]
}

type result[Res any] struct {
	res Res
	err error
}

// maxGroup bounds one group; it keeps statements within PostgreSQL's
// parameter limit.
const maxGroup = 256

// newBatcher returns a batcher whose serve returns one result per request,
// in order. With retrySingly, a failed group is served again one request
// at a time.
func newBatcher[Req, Res any](serve func(ctx context.Context, reqs []Req) ([]Res, error), retrySingly bool) *batcher[Req, Res] {
	return &batcher[Req, Res]{in: make(chan *call[Req, Res], maxGroup), serve: serve, single: retrySingly}
}

func (b *batcher[Req, Res]) start(loops int) {
	b.stop = make(chan struct{})
	b.wg.Add(loops)
	for range loops {
		go b.loop()
	}
}

// close stops the loops; callers must have stopped calling do.
func (b *batcher[Req, Res]) close() {
	if b.stop != nil {
		close(b.stop)
		b.wg.Wait()
		b.stop = nil
	}
}

// do serves req in the next group and returns its result. ctx bounds the
// wait to hand the request over; once handed over, the caller waits for
// the group to be served, so an outcome it asked to record is never left
// unknown.
func (b *batcher[Req, Res]) do(ctx context.Context, req Req) (Res, error) {
	c := &call[Req, Res]{req: req, done: make(chan result[Res], 1)}
	select {
	case b.in <- c:
	case <-ctx.Done():
		var zero Res
		return zero, ctx.Err()
	}
	r := <-c.done
	return r.res, r.err
}

func (b *batcher[Req, Res]) loop() {
	defer b.wg.Done()
	group := make([]*call[Req, Res], 0, maxGroup)
	reqs := make([]Req, 0, maxGroup)
	for {
		select {
		case c := <-b.in:
			group = append(group[:0], c)
		case <-b.stop:
			return
		}
	fill:
		for len(group) < maxGroup {
			select {
			case c := <-b.in:
				group = append(group, c)
			default:
				break fill
			}
		}
		reqs = reqs[:0]
		for _, c := range group {
			reqs = append(reqs, c.req)
		}
		b.run(group, reqs)
	}
}

// groupTimeout bounds serving one group; the callers wait for it.
const groupTimeout = 30 * time.Second

func (b *batcher[Req, Res]) run(group []*call[Req, Res], reqs []Req) {
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	res, err := b.serve(ctx, reqs)
	if err == nil || !b.single || len(group) == 1 {
		for i, c := range group {
			var r Res
			if err == nil {
				r = res[i]
			}
			c.done <- result[Res]{res: r, err: err}
		}
		return
	}
	for _, c := range group {
		one, err := b.serve(ctx, []Req{c.req})
		var r Res
		if err == nil {
			r = one[0]
		}
		c.done <- result[Res]{res: r, err: err}
	}
}

package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// scripted returns the given numbers in turn, as the sink's random source.
func scripted(t *testing.T, values ...float64) func() float64 {
	return func() float64 {
		if len(values) == 0 {
			t.Fatal("the sink drew more random numbers than scripted")
		}
		v := values[0]
		values = values[1:]
		return v
	}
}

func testSinkConfig() sinkConfig {
	return sinkConfig{
		channels: 2, minPostID: 100, maxPostID: 103,
		random: func() float64 { return 0.99 }, now: time.Now,
	}
}

// deliverTo sends one webhook-provider-shaped request to h.
func deliverTo(h http.Handler, path string, postID string) *httptest.ResponseRecorder {
	body := `{"event":"post_created","site":{},"topic":{"id":5,"tags":[]},"post":{"id":` + postID + `,"number":1,"version":1},"author":{},"text":"x"}`
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestSinkRecordsAndCountsDuplicates(t *testing.T) {
	s := newSink(testSinkConfig())
	require.Equal(t, 6, s.expected)

	rec := deliverTo(s, "/hook/0", "100")
	require.Equal(t, http.StatusOK, rec.Code)
	require.JSONEq(t, `{"id":"1"}`, rec.Body.String())
	require.Equal(t, http.StatusOK, deliverTo(s, "/hook/1", "100").Code, "the same post on another channel is not a duplicate")
	require.Equal(t, http.StatusOK, deliverTo(s, "/hook/0", "100").Code)
	require.Equal(t, http.StatusOK, deliverTo(s, "/hook/0", "100").Code)

	st := s.stats()
	require.Len(t, st.first, 2)
	require.Equal(t, 2, st.duplicates)
	require.Zero(t, st.unexpected)
	require.Equal(t, 2, s.received())
	select {
	case <-s.Done():
		t.Fatal("done before every delivery arrived")
	default:
	}

	for _, ch := range []string{"0", "1"} {
		for _, id := range []string{"101", "102"} {
			require.Equal(t, http.StatusOK, deliverTo(s, "/hook/"+ch, id).Code)
		}
	}
	select {
	case <-s.Done():
	default:
		t.Fatal("not done after every delivery arrived")
	}
	// A duplicate after completion does not close done twice.
	require.Equal(t, http.StatusOK, deliverTo(s, "/hook/1", "102").Code)
	require.Equal(t, 3, s.stats().duplicates)
}

func TestSinkCountsUnexpectedRequests(t *testing.T) {
	s := newSink(testSinkConfig())
	require.Equal(t, http.StatusNotFound, deliverTo(s, "/hook/2", "100").Code, "channel out of range")
	require.Equal(t, http.StatusNotFound, deliverTo(s, "/hook/01", "100").Code, "not a canonical index")
	require.Equal(t, http.StatusNotFound, deliverTo(s, "/other", "100").Code)
	require.Equal(t, http.StatusOK, deliverTo(s, "/hook/0", "99").Code, "a foreign post is accepted so it is not retried")
	require.Equal(t, http.StatusOK, deliverTo(s, "/hook/0", "103").Code)
	req := httptest.NewRequest(http.MethodPost, "/hook/0", strings.NewReader("not json"))
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	require.Equal(t, http.StatusBadRequest, rec.Code)
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/hook/0", nil))
	require.Equal(t, http.StatusNotFound, rec.Code)

	st := s.stats()
	require.Equal(t, 7, st.unexpected)
	require.Empty(t, st.first)
	require.Zero(t, st.duplicates)
}

func TestSink429FractionIsDrawnFromTheSource(t *testing.T) {
	cfg := testSinkConfig()
	cfg.frac429 = 0.25
	// Below the fraction is throttled, at or above it is not.
	cfg.random = scripted(t, 0.1, 0.25, 0.24, 0.9, 0.0)
	s := newSink(cfg)

	codes := make([]int, 0, 5)
	var retryAfter []string
	for range 5 {
		rec := deliverTo(s, "/hook/0", "100")
		codes = append(codes, rec.Code)
		if rec.Code == http.StatusTooManyRequests {
			retryAfter = append(retryAfter, rec.Header().Get("Retry-After"))
		}
	}
	require.Equal(t, []int{429, 200, 429, 200, 429}, codes)
	require.Equal(t, []string{"1", "1", "1"}, retryAfter)
	st := s.stats()
	require.Equal(t, 3, st.served429)
	require.Len(t, st.first, 1, "a 429 records nothing")
	require.Equal(t, 1, st.duplicates, "the second 200 of the same post is a duplicate")
}

func TestSinkWithoutFractionDrawsNothing(t *testing.T) {
	cfg := testSinkConfig()
	cfg.random = scripted(t) // any draw fails the test
	s := newSink(cfg)
	require.Equal(t, http.StatusOK, deliverTo(s, "/hook/0", "100").Code)
}

func TestSinkWaitsLatencyBeforeRecording(t *testing.T) {
	cfg := testSinkConfig()
	cfg.latency = 30 * time.Millisecond
	var recordedAt time.Time
	cfg.now = func() time.Time {
		recordedAt = time.Now()
		return recordedAt
	}
	s := newSink(cfg)
	start := time.Now()
	rec := deliverTo(s, "/hook/1", "101")
	require.Equal(t, http.StatusOK, rec.Code)
	require.GreaterOrEqual(t, recordedAt.Sub(start), 30*time.Millisecond)
	require.Equal(t, recordedAt, s.stats().first[deliveryKey{channel: 1, postID: 101}], "the receive time is taken after the wait")
}

func TestSinkAbandonedRequestIsNotRecorded(t *testing.T) {
	cfg := testSinkConfig()
	cfg.latency = time.Hour // only the request's context can end the wait
	s := newSink(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	body := `{"post":{"id":100}}`
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/hook/0", strings.NewReader(body))
	s.ServeHTTP(httptest.NewRecorder(), req)
	require.Empty(t, s.stats().first)
}

func TestHookChannel(t *testing.T) {
	for path, want := range map[string]int{"/hook/0": 0, "/hook/4": 4} {
		got, ok := hookChannel(path, 5)
		require.True(t, ok, path)
		require.Equal(t, want, got, path)
	}
	for _, path := range []string{"/hook/5", "/hook/-1", "/hook/", "/hook/1/x", "/hooks/1", "/hook/+1"} {
		_, ok := hookChannel(path, 5)
		require.False(t, ok, path)
	}
}

// deliverWithID sends a delivery carrying a delivery id, as the webhook
// provider does.
func deliverWithID(h http.Handler, path, postID, id string) int {
	body := `{"event":"post_created","delivery_id":"` + id + `","post":{"id":` + postID + `}}`
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
	return rec.Code
}

func TestSinkExpectAwaitsOnlyAcceptedPosts(t *testing.T) {
	s := newSink(testSinkConfig())
	requireOpen := func(msg string) {
		t.Helper()
		select {
		case <-s.Done():
			t.Fatal(msg)
		default:
		}
	}
	require.Equal(t, http.StatusOK, deliverTo(s, "/hook/0", "100").Code)
	require.Equal(t, http.StatusOK, deliverTo(s, "/hook/1", "100").Code)
	s.expect([]bool{true, false, true})
	requireOpen("done before post 102 arrived")
	require.Equal(t, http.StatusOK, deliverTo(s, "/hook/0", "101").Code, "a post whose webhook was not accepted is still recorded")
	require.Equal(t, http.StatusOK, deliverTo(s, "/hook/0", "102").Code)
	requireOpen("done before post 102 arrived on channel 1")
	require.Equal(t, http.StatusOK, deliverTo(s, "/hook/1", "102").Code)
	select {
	case <-s.Done():
	default:
		t.Fatal("not done after every accepted post arrived on every channel")
	}
	require.Len(t, s.stats().first, 5)

	// Everything awaited may have arrived before expect is called.
	s = newSink(testSinkConfig())
	require.Equal(t, http.StatusOK, deliverTo(s, "/hook/0", "101").Code)
	require.Equal(t, http.StatusOK, deliverTo(s, "/hook/1", "101").Code)
	s.expect([]bool{false, true, false})
	select {
	case <-s.Done():
	default:
		t.Fatal("not done although the one accepted post had arrived")
	}
}

func TestSinkCountsDuplicatesRepeatingTheDeliveryID(t *testing.T) {
	s := newSink(testSinkConfig())
	require.Equal(t, http.StatusOK, deliverWithID(s, "/hook/0", "100", "d-1"))
	require.Equal(t, http.StatusOK, deliverWithID(s, "/hook/0", "100", "d-1"))
	require.Equal(t, http.StatusOK, deliverWithID(s, "/hook/0", "100", "d-2"))
	require.Equal(t, http.StatusOK, deliverWithID(s, "/hook/1", "101", ""))
	require.Equal(t, http.StatusOK, deliverWithID(s, "/hook/1", "101", ""))
	st := s.stats()
	require.Equal(t, 3, st.duplicates)
	require.Equal(t, 1, st.sameID, "only a resend carrying the first arrival's id counts; no id is no id")
}

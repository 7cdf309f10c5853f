package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	testKey    = "test-admin-key-0123456789"
	testSecret = "test-webhook-secret"
)

// runResult is what one in-process run printed and returned.
type runResult struct {
	code   int
	stdout string
	stderr string
}

// runTool runs the whole command in-process against server with quick,
// quiet defaults; extra flags come last and win. The fake delivers before
// answering, so the timeout only matters when the tool under test is
// broken, and then it should fail quickly.
func runTool(t *testing.T, server string, extra ...string) runResult {
	t.Helper()
	args := append([]string{
		"--server", server, "--api-key", testKey, "--webhook-secret", testSecret,
		"--settle", "0", "--progress", "0", "--concurrency", "8", "--timeout", "10s",
	}, extra...)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, func(string) string { return "" }, &stdout, &stderr)
	return runResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func decodeReport(t *testing.T, r runResult) report {
	t.Helper()
	var rep report
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	return rep
}

func TestEndToEnd(t *testing.T) {
	f := newFakeServer(t, testKey, testSecret)
	args := []string{
		"--events", "200", "--channels", "3", "--category-id", "7",
		"--sink-429", "0.2", "--sink-seed", "7", "--json",
	}
	_, err := os.Stat("/proc/self/status")
	withRSS := err == nil
	if withRSS {
		args = append(args, "--server-pid", strconv.Itoa(os.Getpid()))
	}
	r := runTool(t, f.URL(), args...)
	require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
	rep := decodeReport(t, r)
	st := f.state()

	require.Equal(t, 200, rep.Events)
	require.Equal(t, 200, rep.EventsSent)
	require.Equal(t, 200, rep.IngestOK)
	require.Zero(t, rep.IngestErrors)
	require.Positive(t, rep.IngestPerSecond)
	require.Equal(t, 600, rep.DeliveriesExpected)
	require.Equal(t, 600, rep.DeliveriesReceived)
	require.Equal(t, 600, st.delivered)
	require.Zero(t, rep.Loss)
	require.Zero(t, rep.Duplicates)
	require.Zero(t, rep.UnexpectedRequests)
	require.Positive(t, rep.Sink429s)
	require.Equal(t, st.got429, rep.Sink429s, "the sink's count of 429s is what the server saw")
	require.Equal(t, 600, rep.Latency.Count)
	require.Positive(t, rep.Latency.P50)
	require.LessOrEqual(t, rep.Latency.P50, rep.Latency.P90)
	require.LessOrEqual(t, rep.Latency.P90, rep.Latency.P99)
	require.LessOrEqual(t, rep.Latency.P99, rep.Latency.Max)
	require.False(t, rep.TimedOut)
	require.True(t, rep.Pass)
	if withRSS {
		require.NotNil(t, rep.RSS)
		require.Positive(t, rep.RSS.IdleBytes)
		require.GreaterOrEqual(t, rep.RSS.PeakBytes, rep.RSS.IdleBytes)
		require.Positive(t, rep.RSS.Samples)
		require.Empty(t, rep.RSS.Error)
	}

	// Set up with one WATCH rule on category 7 per channel, and cleaned up.
	require.True(t, st.everEnabled, "the provider was enabled for the run")
	require.False(t, st.enabled, "and disabled again afterwards")
	require.Empty(t, st.channels)
	require.Len(t, st.deleted, 3)
}

func TestEndToEndText(t *testing.T) {
	f := newFakeServer(t, testKey, testSecret)
	r := runTool(t, f.URL(), "--events", "10")
	require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
	for _, want := range []string{"events sent", "10 of 10", "10 received of 10 expected", "latency p99", "PASS"} {
		require.Contains(t, r.stdout, want)
	}
	require.NotContains(t, r.stdout, "RSS", "no --server-pid, no RSS rows")
}

func TestEndToEndRatePacesSending(t *testing.T) {
	f := newFakeServer(t, testKey, testSecret)
	r := runTool(t, f.URL(), "--events", "21", "--rate", "200", "--json")
	require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
	rep := decodeReport(t, r)
	// Event 20 is not due before 20/200 s after the first.
	require.GreaterOrEqual(t, rep.IngestSeconds, 0.1)
	require.LessOrEqual(t, rep.IngestPerSecond, 210.0)
}

func TestEndToEndWarmupIsDeliveredButNotMeasured(t *testing.T) {
	f := newFakeServer(t, testKey, testSecret)
	r := runTool(t, f.URL(), "--events", "50", "--warmup", "20", "--channels", "2", "--json")
	require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
	rep := decodeReport(t, r)
	require.Equal(t, 20, rep.WarmupEvents)
	require.Equal(t, 50, rep.IngestOK)
	require.Equal(t, 100, rep.DeliveriesReceived, "warm-up events are delivered and checked")
	require.Equal(t, 100, f.state().delivered)
	require.Equal(t, 60, rep.Latency.Count, "30 measured events on 2 channels")
	require.True(t, rep.Pass)
	require.Contains(t, r.stderr, "the first 20 events warm the server up")
}

func TestEndToEndDuplicatesFail(t *testing.T) {
	f := newFakeServer(t, testKey, testSecret)
	f.dup = func(n int) bool { return n == 3 }
	r := runTool(t, f.URL(), "--events", "20", "--channels", "2", "--json")
	require.Equal(t, exitCheckFailed, r.code, "stderr: %s", r.stderr)
	rep := decodeReport(t, r)
	require.Equal(t, 2, rep.Duplicates, "one post delivered twice to each of two channels")
	require.Zero(t, rep.Loss)
	require.Equal(t, 40, rep.DeliveriesReceived)
	require.False(t, rep.Pass)
}

func TestEndToEndLossFailsAfterTimeout(t *testing.T) {
	f := newFakeServer(t, testKey, testSecret)
	f.drop = func(n int) bool { return n == 5 || n == 6 }
	r := runTool(t, f.URL(), "--events", "20", "--channels", "2", "--timeout", "150ms", "--json")
	require.Equal(t, exitCheckFailed, r.code, "stderr: %s", r.stderr)
	rep := decodeReport(t, r)
	require.Equal(t, 4, rep.Loss)
	require.Equal(t, 36, rep.DeliveriesReceived)
	require.True(t, rep.TimedOut)
	require.Zero(t, rep.Duplicates)
	require.Empty(t, f.state().channels, "cleaned up after a failed run too")
}

// TestEndToEndExpectingRestarts is a run during which the server was
// killed and restarted: some webhooks got no 2xx although their events
// were stored and delivered, and some deliveries were sent again with the
// same delivery id. That passes with --expect-restarts and fails without;
// a lost delivery fails either way.
func TestEndToEndExpectingRestarts(t *testing.T) {
	f := newFakeServer(t, testKey, testSecret)
	f.unanswered = func(n int) bool { return n%10 == 3 }
	f.dup = func(n int) bool { return n%10 == 5 }
	args := []string{"--events", "40", "--channels", "2", "--concurrency", "1", "--json"}

	r := runTool(t, f.URL(), append(args, "--expect-restarts")...)
	require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
	rep := decodeReport(t, r)
	require.True(t, rep.Pass)
	require.Equal(t, 4, rep.IngestErrors)
	require.Equal(t, 72, rep.DeliveriesExpected, "36 accepted events on 2 channels")
	require.Equal(t, 72, rep.DeliveriesReceived)
	require.Equal(t, 8, rep.DeliveredUnanswered)
	require.Equal(t, 8, rep.Duplicates)
	require.Equal(t, 8, rep.DuplicatesSameID)
	require.Zero(t, rep.Loss)

	r = runTool(t, f.URL(), args...)
	require.Equal(t, exitCheckFailed, r.code, "without --expect-restarts, refused webhooks and duplicates fail")

	f.drop = func(n int) bool { return n%40 == 20 } // n counts the webhooks of every run
	r = runTool(t, f.URL(), append(args, "--expect-restarts", "--timeout", "200ms")...)
	require.Equal(t, exitCheckFailed, r.code)
	rep = decodeReport(t, r)
	require.Equal(t, 2, rep.Loss, "post 20 on both channels")
}

func TestEndToEndWrongSecretIsIngestErrors(t *testing.T) {
	f := newFakeServer(t, testKey, testSecret)
	r := runTool(t, f.URL(), "--events", "15", "--json", "--webhook-secret", "not-the-secret")
	require.Equal(t, exitCheckFailed, r.code, "stderr: %s", r.stderr)
	rep := decodeReport(t, r)
	require.Equal(t, 15, rep.EventsSent)
	require.Equal(t, 15, rep.IngestErrors)
	require.Zero(t, rep.IngestOK)
	require.Equal(t, map[string]int{"HTTP 401": 15}, rep.IngestErrorReasons)
	require.Zero(t, rep.DeliveriesExpected, "a refused webhook is owed no delivery")
	require.Zero(t, rep.Loss)
	require.False(t, rep.Pass, "refused webhooks fail the run")
	require.False(t, rep.TimedOut, "nothing was accepted, so nothing was waited for")
	require.Contains(t, r.stderr, "accepted none")
}

func TestEndToEndWrongAPIKeyFailsSetup(t *testing.T) {
	f := newFakeServer(t, testKey, testSecret)
	r := runTool(t, f.URL(), "--events", "5", "--api-key", "wrong-key-0123456789")
	require.Equal(t, exitFailure, r.code)
	require.Empty(t, r.stdout, "no report when nothing was sent")
	require.Contains(t, r.stderr, "UNAUTHENTICATED")
	require.Zero(t, f.state().delivered)
}

func TestEndToEndKeep(t *testing.T) {
	f := newFakeServer(t, testKey, testSecret)
	r := runTool(t, f.URL(), "--events", "5", "--channels", "2", "--keep")
	require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
	st := f.state()
	require.Len(t, st.channels, 2)
	require.Empty(t, st.deleted)
	require.True(t, st.enabled)
	for id, url := range st.channels {
		require.Regexp(t, `^http://127\.0\.0\.1:\d+/hook/[01]$`, url)
		require.Contains(t, r.stderr, id)
	}
}

func TestEndToEndLeavesEnabledProviderAlone(t *testing.T) {
	f := newFakeServer(t, testKey, testSecret)
	f.enabled = true
	r := runTool(t, f.URL(), "--events", "5")
	require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
	require.True(t, f.state().enabled, "a provider the admin enabled stays enabled")
	require.NotContains(t, r.stderr, "enabled the")
}

func TestEndToEndSetupFailureRemovesCreatedChannels(t *testing.T) {
	f := newFakeServer(t, testKey, testSecret)
	f.refuseChannel = func(n int) bool { return n == 2 }
	r := runTool(t, f.URL(), "--events", "5", "--channels", "3")
	require.Equal(t, exitFailure, r.code)
	require.Contains(t, r.stderr, "CONFLICT")
	require.Empty(t, r.stdout)
	st := f.state()
	require.Empty(t, st.channels, "the two channels created before the failure are gone")
	require.Len(t, st.deleted, 2)
	require.True(t, st.everEnabled)
	require.False(t, st.enabled, "the provider is disabled again")
	require.Zero(t, st.delivered)
}

func TestRunUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no api key", []string{"--webhook-secret", "s"}, "--api-key"},
		{"no secret", []string{"--api-key", "k"}, "--webhook-secret"},
		{"bad server", []string{"--api-key", "k", "--webhook-secret", "s", "--server", "ftp://x"}, "--server"},
		{"no events", []string{"--api-key", "k", "--webhook-secret", "s", "--events", "0"}, "--events"},
		{"negative rate", []string{"--api-key", "k", "--webhook-secret", "s", "--rate", "-1"}, "--rate"},
		{"429 fraction", []string{"--api-key", "k", "--webhook-secret", "s", "--sink-429", "1"}, "--sink-429"},
		{"warm-up as long as the run", []string{"--api-key", "k", "--webhook-secret", "s", "--events", "5", "--warmup", "5"}, "--warmup"},
		{"negative warm-up", []string{"--api-key", "k", "--webhook-secret", "s", "--warmup", "-1"}, "--warmup"},
		{"zero concurrency", []string{"--api-key", "k", "--webhook-secret", "s", "--concurrency", "0"}, "--concurrency"},
		{"unknown flag", []string{"--bogus"}, "bogus"},
		{"argument", []string{"--api-key", "k", "--webhook-secret", "s", "extra"}, "extra"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, func(string) string { return "" }, &stdout, &stderr)
			require.Equal(t, exitUsage, code)
			require.Contains(t, stderr.String(), tt.want)
			require.Empty(t, stdout.String())
		})
	}
}

func TestOptionsFromEnvironment(t *testing.T) {
	env := map[string]string{
		"CHATSIDECAR_ADMIN_API_KEY":            "env-key",
		"CHATSIDECAR_DISCOURSE_WEBHOOK_SECRET": "env-secret",
	}
	var stderr bytes.Buffer
	o, err := parseOptions([]string{"--server", "http://127.0.0.1:9/"}, func(k string) string { return env[k] }, &stderr)
	require.NoError(t, err)
	require.Equal(t, "env-key", o.apiKey)
	require.Equal(t, "env-secret", o.webhookSecret)
	require.Equal(t, "http://127.0.0.1:9", o.server, "trailing slash dropped")
	require.Equal(t, 10000, o.events)
	require.Equal(t, 32, o.concurrency)
	require.Equal(t, 1, o.channels)
	require.Equal(t, 1, o.categoryID)

	o, err = parseOptions([]string{"--api-key", "flag-key"}, func(k string) string { return env[k] }, &stderr)
	require.NoError(t, err)
	require.Equal(t, "flag-key", o.apiKey, "a flag wins over the environment")
	require.True(t, strings.HasPrefix(o.server, "http://127.0.0.1:8080"))
}

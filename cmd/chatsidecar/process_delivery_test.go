package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/discourse/discoursetest"
	"github.com/chatsidecar/chatsidecar/store/storetest"
)

const processAdminKey = "process-test-admin-key-0123456789"

// proc is a running `chatsidecar serve` child process.
type proc struct {
	t      *testing.T
	addr   string
	logs   *lineWriter
	cmd    *exec.Cmd
	exited chan error
	done   bool
}

// buildBinary builds the chatsidecar binary once per test.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the chatsidecar binary; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "chatsidecar")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// processEnv is the environment of a serve process on db, with the
// caller's variables appended (later ones win).
func processEnv(db storetest.DB, dir string, extra ...string) []string {
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CHATSIDECAR_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"CHATSIDECAR_LISTEN=127.0.0.1:0",
		"CHATSIDECAR_DATABASE_URL="+db.URL,
		"CHATSIDECAR_DATA_DIR="+dir,
		"CHATSIDECAR_ADMIN_API_KEY="+processAdminKey,
		"CHATSIDECAR_DISCOURSE_WEBHOOK_SECRET="+webhookSecret,
		"CHATSIDECAR_OUTBOUND_ALLOW_PRIVATE=true",
	)
	return append(env, extra...)
}

func spawn(t *testing.T, bin, dir string, env []string) *proc {
	t.Helper()
	p := &proc{t: t, logs: newLineWriter(), cmd: exec.Command(bin, "serve"), exited: make(chan error, 1)}
	p.cmd.Dir, p.cmd.Env, p.cmd.Stderr = dir, env, p.logs
	require.NoError(t, p.cmd.Start())
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if !p.done {
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	select {
	case p.addr = <-p.logs.addr:
	case err := <-p.exited:
		p.done = true
		t.Fatalf("serve exited early (%v); output:\n%s", err, p.logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not log its address; output:\n%s", p.logs.String())
	}
	return p
}

func (p *proc) url() string { return "http://" + p.addr }

// kill9 kills the process without any chance to clean up.
func (p *proc) kill9() {
	require.NoError(p.t, p.cmd.Process.Signal(syscall.SIGKILL))
	<-p.exited
	p.done = true
}

// term stops the process gracefully and requires exit status 0.
func (p *proc) term() {
	require.NoError(p.t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-p.exited:
		p.done = true
		require.NoError(p.t, err, "serve did not exit 0 on SIGTERM; output:\n%s", p.logs.String())
	case <-time.After(60 * time.Second):
		p.t.Fatalf("serve did not stop on SIGTERM; output:\n%s", p.logs.String())
	}
}

// TestProcess_KilledAfterAcceptingDeliversAfterRestart accepts webhooks in
// a process that does not deliver (an intake-only replica), kills it with
// SIGKILL, and starts a normal one on the same database: every accepted
// event reaches chat exactly once.
func TestProcess_KilledAfterAcceptingDeliversAfterRestart(t *testing.T) {
	bin := buildBinary(t)
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		dir := t.TempDir()
		a := spawn(t, bin, dir, processEnv(db, dir, "CHATSIDECAR_DELIVERY_WORKERS=0"))
		s := &stack{t: t, url: a.url(), key: processAdminKey}
		one := s.slackChannel("durable-one", "WATCH", 21)
		two := s.slackChannel("durable-two", "WATCH", 21)
		const posts = 5
		for i := range posts {
			code, body := s.webhook("post_created",
				discoursetest.PostPayload(post(int64(600+i), int64(100+i), 1, 21, "kept")), webhookSecret)
			require.Equal(t, http.StatusOK, code, body)
			require.Contains(t, body, `"deliveries":2`)
		}
		a.kill9()
		require.Empty(t, s.slack.sent(), "nothing was delivered before the kill")

		b := spawn(t, bin, dir, processEnv(db, dir))
		s.url = b.url()
		for _, ch := range []string{one, two} {
			for _, d := range s.waitDeliveries(ch, posts) {
				require.Equal(t, "DELIVERED", d.Status)
				require.Equal(t, 1, d.Attempts)
			}
		}
		b.term()
		sent := s.slack.sent()
		require.Len(t, sent, 2*posts, "every accepted event once per channel, none twice")
		seen := map[string]bool{}
		for _, m := range sent {
			k := m["channel"].(string) + " " + asJSON(t, m["blocks"])
			require.False(t, seen[k], "duplicate message %s", k)
			seen[k] = true
		}
	})
}

// TestProcess_TwoReplicasShareDeliveryUpdates runs two servers on one
// PostgreSQL database; only the second delivers, so every status change
// the subscriber on the first sees after QUEUED was made by the other.
func TestProcess_TwoReplicasShareDeliveryUpdates(t *testing.T) {
	bin := buildBinary(t)
	db, ok := storetest.Postgres(t)
	if !ok {
		t.Skip("needs PostgreSQL: set " + storetest.EnvDatabaseURL)
	}
	t.Parallel()
	dir := t.TempDir()
	a := spawn(t, bin, dir, processEnv(db, dir, "CHATSIDECAR_DELIVERY_WORKERS=0"))
	b := spawn(t, bin, dir, processEnv(db, dir))
	s := &stack{t: t, url: a.url(), key: processAdminKey}
	ch := s.slackChannel("replicated", "WATCH", 31)

	updates := subscribeWS(t, a.url(), processAdminKey, ch)
	require.Eventually(t, func() bool {
		return strings.Contains(metricsText(t, a.url()), "chatsidecar_delivery_subscribers 1")
	}, 10*time.Second, 10*time.Millisecond)

	code, body := s.webhook("post_created", discoursetest.PostPayload(post(701, 200, 1, 31, "across replicas")), webhookSecret)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, []string{"QUEUED", "SENDING", "DELIVERED"}, statusesUntil(t, updates, "DELIVERED"))
	require.Len(t, s.slack.sent(), 1)
	require.Contains(t, metricsText(t, b.url()), `chatsidecar_deliveries_total{outcome="delivered",provider="slack"} 1`)
	require.NotContains(t, metricsText(t, a.url()), `chatsidecar_deliveries_total{outcome="delivered"`)
	a.term()
	b.term()
}

func metricsText(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// TestProcess_KilledWhileHoldingDeliveriesHandsThemOverAtOnce kills a
// process that holds accepted deliveries for its own workers (one waits
// out Slack's 429, one waits behind it) and starts another on the same
// database with leases of ten minutes: the new process sends both within
// the test's wait, because it sees the killed process's presence gone,
// not because a lease ended.
func TestProcess_KilledWhileHoldingDeliveriesHandsThemOverAtOnce(t *testing.T) {
	bin := buildBinary(t)
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		t.Parallel()
		dir := t.TempDir()
		env := processEnv(db, dir, "CHATSIDECAR_DELIVERY_LEASE=10m")
		a := spawn(t, bin, dir, env)
		s := &stack{t: t, url: a.url(), key: processAdminKey}
		ch := holdTwoDeliveries(s)
		a.kill9()

		b := spawn(t, bin, dir, env)
		requireTakenOver(s, b, ch)
	})
}

// TestProcess_ReplicaTakesOverAKilledOnesDeliveries runs two replicas on
// one PostgreSQL database and kills the one holding accepted deliveries:
// the other, which keeps running, sends them (leases of ten minutes).
func TestProcess_ReplicaTakesOverAKilledOnesDeliveries(t *testing.T) {
	bin := buildBinary(t)
	t.Parallel()
	db, ok := storetest.Postgres(t)
	if !ok {
		t.Skip("replicas share a PostgreSQL database")
	}
	dir := t.TempDir()
	env := processEnv(db, dir, "CHATSIDECAR_DELIVERY_LEASE=10m") // one data directory: one secret key
	a := spawn(t, bin, dir, env)
	b := spawn(t, bin, dir, env)
	s := &stack{t: t, url: a.url(), key: processAdminKey}
	ch := holdTwoDeliveries(s)
	a.kill9()
	requireTakenOver(s, b, ch)
}

// holdTwoDeliveries makes the server at s accept two posts for a new
// Slack channel and hold both in its process: Slack answers the first
// with a 429 of 20 s (parked in the process, not handed to the queue),
// and the second waits behind it. It returns the channel.
func holdTwoDeliveries(s *stack) string {
	t := s.t
	t.Helper()
	ch := s.slackChannel("held", "WATCH", 21)
	s.slack.rateLimit(1, "20")
	for i := range 2 {
		code, body := s.webhook("post_created",
			discoursetest.PostPayload(post(int64(700+i), int64(300+i), 1, 21, "held")), webhookSecret)
		require.Equal(t, http.StatusOK, code, body)
	}
	require.Eventually(t, func() bool { return len(s.slack.callTimes()) == 1 }, 30*time.Second, 10*time.Millisecond,
		"the first delivery reached Slack and got its 429")
	return ch
}

// requireTakenOver requires that process p sent both deliveries of
// holdTwoDeliveries, each once, after taking them over; then stops p.
func requireTakenOver(s *stack, p *proc, ch string) {
	t := s.t
	t.Helper()
	s.url = p.url()
	for _, d := range s.waitDeliveries(ch, 2) {
		require.Equal(t, "DELIVERED", d.Status)
		require.Equal(t, 1, d.Attempts, "a 429 spends no attempt")
	}
	require.Len(t, s.slack.sent(), 2, "each post once")
	require.Contains(t, p.logs.String(), "took over the deliveries of a process that is gone")
	p.term()
}

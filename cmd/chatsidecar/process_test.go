package main

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/store"
)

// TestServeProcess builds the real binary and checks what an operator
// sees on a fresh install: `serve` with no configuration in an empty
// directory starts, answers, keeps its data across a restart and exits 0
// on SIGTERM. Only the listen address is set, to port 0, so parallel test
// runs cannot collide; the bound port is read from the "listening" log
// line.
func TestServeProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the chatsidecar binary; skipped with -short")
	}
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "chatsidecar")
	build := exec.Command("go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	work := t.TempDir()
	env := []string{"CHATSIDECAR_LISTEN=127.0.0.1:0"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CHATSIDECAR_") {
			env = append(env, kv)
		}
	}

	// First start: nothing exists yet.
	addr, logs, stop := startServe(t, bin, work, env)
	resp, err := http.Get("http://" + addr + "/healthz")
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, err = http.Get("http://" + addr + "/readyz")
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusOK, resp.StatusCode)
	status, _ := postGraphQL(t, addr, "", `"{__typename}"`)
	require.Equal(t, http.StatusUnauthorized, status)
	initial := initialKey(t, logs.String())
	status, body := postGraphQL(t, addr, initial, `"{__typename}"`)
	require.Equal(t, http.StatusOK, status, body)
	stop()
	require.Contains(t, logs.String(), "generated a new secret key")
	require.FileExists(t, filepath.Join(work, "chatsidecar.db"))
	require.FileExists(t, filepath.Join(work, store.KeyFileName))

	// A key created with the CLI works after a restart.
	create := exec.Command(bin, "apikey", "create", "ops")
	create.Dir, create.Env = work, env
	var stdout, stderr bytes.Buffer
	create.Stdout, create.Stderr = &stdout, &stderr
	require.NoError(t, create.Run(), stderr.String())
	key := strings.TrimSpace(stdout.String())
	require.True(t, strings.HasPrefix(key, store.APIKeyPrefix), key)

	addr, logs, stop = startServe(t, bin, work, env)
	status, body = postGraphQL(t, addr, key, `"{__typename}"`)
	require.Equal(t, http.StatusOK, status, body)
	require.JSONEq(t, `{"data":{"__typename":"Query"}}`, body)
	stop()
	require.NotContains(t, logs.String(), "generated a new secret key")
	require.NotContains(t, logs.String(), "No admin API key existed", "the initial key is created only once")
	require.NotContains(t, logs.String(), key)
}

// startServe starts `serve` in dir and returns its address, its log, and
// stop, which sends SIGTERM and requires exit status 0.
func startServe(t *testing.T, bin, dir string, env []string) (string, *lineWriter, func()) {
	t.Helper()
	logs := newLineWriter()
	cmd := exec.Command(bin, "serve")
	cmd.Dir, cmd.Env, cmd.Stderr = dir, env, logs
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	var addr string
	select {
	case addr = <-logs.addr:
	case err := <-exited:
		stopped = true
		t.Fatalf("serve exited early (%v); output:\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not log its address; output:\n%s", logs.String())
	}
	stop := func() {
		t.Helper()
		require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
		select {
		case err := <-exited:
			stopped = true
			require.NoError(t, err, "serve did not exit 0 on SIGTERM; output:\n%s", logs.String())
		case <-time.After(30 * time.Second):
			t.Fatalf("serve did not stop on SIGTERM; output:\n%s", logs.String())
		}
		require.Contains(t, logs.String(), "msg=stopped")
	}
	return addr, logs, stop
}

// initialKey finds the key a fresh `serve` printed.
func initialKey(t *testing.T, out string) string {
	t.Helper()
	for _, f := range strings.Fields(out) {
		if strings.HasPrefix(f, store.APIKeyPrefix) {
			return f
		}
	}
	t.Fatalf("serve printed no initial key; output:\n%s", out)
	return ""
}

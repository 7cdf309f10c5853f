package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/store"
)

// result is what one run call printed and returned.
type result struct {
	code   int
	stdout string
	stderr string
}

type testBundle struct {
	dir string
	env map[string]string
}

// setup returns a bundle whose runs keep their database and key file in a
// fresh temporary directory.
func setup(t *testing.T) *testBundle {
	t.Helper()
	return &testBundle{dir: t.TempDir(), env: map[string]string{}}
}

func (b *testBundle) getenv(name string) string { return b.env[name] }

// dbArgs point a command at the bundle's database and data directory.
func (b *testBundle) dbArgs() []string {
	return []string{"--database-url", filepath.Join(b.dir, "chatsidecar.db"), "--data-dir", b.dir}
}

func (b *testBundle) run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, b.getenv, strings.NewReader(stdin), &stdout, &stderr)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// runDB runs a command with the bundle's database flags appended.
func (b *testBundle) runDB(t *testing.T, args ...string) result {
	t.Helper()
	return b.run(t, "", append(args, b.dbArgs()...)...)
}

func TestVersion(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.run(t, "", "version")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Regexp(t, `^chatsidecar dev \(commit unknown, go1\.\S+\)\n$`, r.stdout)

	// version needs no configuration, so a broken one does not matter.
	b.env["CHATSIDECAR_LISTEN"] = "nonsense"
	require.Equal(t, exitOK, b.run(t, "", "version").code)
	require.Equal(t, exitUsage, b.run(t, "", "version", "extra").code)
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)

	r := b.run(t, "")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "Usage: chatsidecar COMMAND")

	r = b.run(t, "", "frobnicate")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, `unknown command "frobnicate"`)

	r = b.run(t, "", "migrate", "--no-such-flag", "x")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "flag provided but not defined: -no-such-flag")

	r = b.run(t, "", "apply", "--prune")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "-f FILE is required")

	r = b.run(t, "", "apply", "-f", "x.yaml", "--api-key", "k")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "--api-key needs --server")

	r = b.run(t, "", "apply", "-f", "x.yaml", "--server", "ftp://example.com", "--api-key", "k")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "--server must be an http(s) URL")

	r = b.run(t, "", "export", "--include-secrets", "--server", "http://127.0.0.1:1", "--api-key", "k")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "the API never returns secrets")

	// Nothing was written for any of these.
	entries, err := os.ReadDir(b.dir)
	require.NoError(t, err)
	require.Empty(t, entries)
}

func TestHelp(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		r := b.run(t, "", args...)
		require.Equal(t, exitOK, r.code)
		require.Contains(t, r.stdout, "apikey")
		require.Contains(t, r.stdout, "CHATSIDECAR_LISTEN")
	}
	for _, args := range [][]string{{"help", "apply"}, {"apply", "--help"}, {"apply", "-h", "-f", "x"}} {
		r := b.run(t, "", args...)
		require.Equal(t, exitOK, r.code, args)
		require.Contains(t, r.stdout, "Usage: chatsidecar apply -f FILE")
		require.Contains(t, r.stdout, "-dry-run")
		require.Contains(t, r.stdout, "CHATSIDECAR_DATABASE_URL")
	}
	require.Equal(t, exitUsage, b.run(t, "", "help", "nope").code)
}

func TestInvalidConfiguration(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.env["CHATSIDECAR_LISTEN"] = "nonsense"
	r := b.run(t, "", "serve")
	require.Equal(t, exitUsage, r.code)
	require.True(t, strings.HasPrefix(r.stderr, "chatsidecar: invalid configuration: CHATSIDECAR_LISTEN: "), r.stderr)

	// A bad flag is reported by its variable's name too, which is what
	// the operator looks up.
	delete(b.env, "CHATSIDECAR_LISTEN")
	r = b.run(t, "", "migrate", "--log-format", "xml")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "chatsidecar: invalid configuration: CHATSIDECAR_LOG_FORMAT: ")
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.runDB(t, "migrate")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Equal(t, fmt.Sprintf("database schema is at version %d (sqlite)\n", store.LatestSchemaVersion()), r.stdout)
	require.Contains(t, r.stderr, "generated a new secret key")
	require.Contains(t, r.stderr, filepath.Join(b.dir, store.KeyFileName))

	key, err := os.ReadFile(filepath.Join(b.dir, store.KeyFileName))
	require.NoError(t, err)
	require.NotContains(t, r.stderr, strings.TrimSpace(string(key)))

	// Again: nothing to generate, nothing to migrate.
	r = b.runDB(t, "migrate")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.NotContains(t, r.stderr, "generated")

	// A different secret key is refused rather than silently used.
	r = b.runDB(t, "migrate", "--secret-key", strings.Repeat("ab", 32))
	require.Equal(t, exitFailure, r.code)
	require.Contains(t, r.stderr, "secret key does not match")
}

func TestAPIKeyRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t)

	r := b.runDB(t, "apikey", "list")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Contains(t, r.stdout, "no API keys")

	r = b.runDB(t, "apikey", "create", "ci")
	require.Equal(t, exitOK, r.code, r.stderr)
	key := strings.TrimSpace(r.stdout)
	require.Regexp(t, `^csk_[A-Za-z0-9_-]{43}$`, key)
	require.Contains(t, r.stderr, "will not be shown again")
	require.NotContains(t, r.stderr, key)

	r = b.runDB(t, "apikey", "list")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.NotContains(t, r.stdout, key)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, lines, 2)
	require.Regexp(t, `^ID\s+NAME\s+PREFIX\s+CREATED\s+LAST USED\s+REVOKED$`, lines[0])
	require.Regexp(t, `^1\s+ci\s+`+regexp.QuoteMeta(key[:10])+`…\s+\d{4}-\d\d-\d\dT\S+Z\s+never\s+-$`, lines[1])

	r = b.runDB(t, "apikey", "revoke", "1")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Equal(t, "revoked API key 1\n", r.stdout)

	r = b.runDB(t, "apikey", "list")
	require.Regexp(t, `\n1\s+ci\s+\S+\s+\S+Z\s+never\s+\d{4}-\d\d-\d\dT\S+Z\n$`, r.stdout)

	r = b.runDB(t, "apikey", "revoke", "1")
	require.Equal(t, exitFailure, r.code)
	require.Contains(t, r.stderr, "no active API key with id 1")

	for _, args := range [][]string{{"apikey"}, {"apikey", "create"}, {"apikey", "create", " "}, {"apikey", "revoke", "abc"}, {"apikey", "revoke", "0"}, {"apikey", "rotate"}} {
		require.Equal(t, exitUsage, b.runDB(t, args...).code, args)
	}
}

const testDocument = `version: 1
providers:
  webhook:
    enabled: true
channels:
  - name: ci-webhook
    provider: webhook
    data:
      name: ci-bot
      url: ${CI_WEBHOOK_URL}
    rules:
      - filter: watch
        tags: [regression]
`

func TestApplyAndExportLocal(t *testing.T) {
	t.Parallel()
	b := setup(t)
	file := filepath.Join(b.dir, "rules.yaml")
	require.NoError(t, os.WriteFile(file, []byte(testDocument), 0o600))

	// An unset variable is a problem like any other; nothing changes.
	r := b.runDB(t, "apply", "-f", file)
	require.Equal(t, exitFailure, r.code)
	require.Contains(t, r.stderr, "nothing was changed")
	require.Contains(t, r.stderr, "line 10: channels[0].data.url: variable CI_WEBHOOK_URL is not set")

	b.env["CI_WEBHOOK_URL"] = "https://ci.example.com/hooks/forum"
	r = b.runDB(t, "apply", "--dry-run", "-f", file)
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Contains(t, r.stdout, "+ create channel ci-webhook")
	require.Contains(t, r.stdout, "dry run: nothing was changed")
	require.NotContains(t, r.stdout, "ci.example.com/hooks") // secret parameter

	r = b.runDB(t, "apply", "-f", file, "--prune")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Contains(t, r.stdout, "+ create rule ci-webhook")
	require.Contains(t, r.stdout, "applied 3 changes")

	// From stdin, and idempotent.
	r = b.run(t, testDocument, append([]string{"apply", "-f", "-"}, b.dbArgs()...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Equal(t, "no changes\n", r.stdout)

	r = b.runDB(t, "export")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Contains(t, r.stdout, "name: ci-webhook")
	require.Contains(t, r.stdout, "${CHATSIDECAR_SECRET_")
	require.NotContains(t, r.stdout, "ci.example.com")

	out := filepath.Join(b.dir, "backup.yaml")
	r = b.runDB(t, "export", "--include-secrets", "-o", out)
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Empty(t, r.stdout)
	backup, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Contains(t, string(backup), "https://ci.example.com/hooks/forum")
	st, err := os.Stat(out)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	// A document with several mistakes lists all of them.
	bad := filepath.Join(b.dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("version: 2\nchannels:\n  - name: x\n    provider: nope\n"), 0o600))
	r = b.runDB(t, "apply", "-f", bad)
	require.Equal(t, exitFailure, r.code)
	require.Contains(t, r.stderr, "the document has 2 problems")
	require.Contains(t, r.stderr, "line 1: version:")
	require.Contains(t, r.stderr, "line 4: channels[0].provider:")

	r = b.runDB(t, "apply", "-f", filepath.Join(b.dir, "missing.yaml"))
	require.Equal(t, exitFailure, r.code)
	require.Contains(t, r.stderr, "no such file")
}

// lineWriter collects a process's log output and reports the address of
// the first "listening" line.
type lineWriter struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	partial []byte
	addr    chan string
}

func newLineWriter() *lineWriter { return &lineWriter{addr: make(chan string, 1)} }

var listeningRe = regexp.MustCompile(`msg=listening addr=(\S+)`)

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		if m := listeningRe.FindSubmatch(w.partial[:i]); m != nil {
			select {
			case w.addr <- string(m[1]):
			default:
			}
		}
		w.partial = w.partial[i+1:]
	}
	return len(p), nil
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// waitAddr returns the address the server logged, failing after a
// deadline.
func (w *lineWriter) waitAddr(t *testing.T) string {
	t.Helper()
	select {
	case a := <-w.addr:
		return a
	case <-time.After(30 * time.Second):
		t.Fatalf("the server did not log its address; output:\n%s", w.String())
		return ""
	}
}

func postGraphQL(t *testing.T, addr, key, query string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/graphql", strings.NewReader(`{"query":`+query+`}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// TestServeInProcess runs serve through run, applies and exports through
// the GraphQL API with --server, and stops serve by cancelling its
// context as SIGTERM does.
func TestServeInProcess(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const adminKey = "bootstrap-key-for-tests"
	logs := newLineWriter()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		args := append([]string{"serve", "--listen", "127.0.0.1:0", "--admin-api-key", adminKey}, b.dbArgs()...)
		done <- run(ctx, args, b.getenv, strings.NewReader(""), io.Discard, logs)
	}()
	addr := logs.waitAddr(t)
	server := "http://" + addr

	status, _ := postGraphQL(t, addr, "", `"{__typename}"`)
	require.Equal(t, http.StatusUnauthorized, status)
	status, body := postGraphQL(t, addr, adminKey, `"{__typename}"`)
	require.Equal(t, http.StatusOK, status, body)

	file := filepath.Join(b.dir, "rules.yaml")
	require.NoError(t, os.WriteFile(file, []byte(testDocument), 0o600))
	// --server expands ${CI_WEBHOOK_URL} here, from run's environment.
	b.env["CI_WEBHOOK_URL"] = "https://ci.example.com/hooks/${literal}"
	r := b.run(t, "", "apply", "-f", file, "--server", server, "--api-key", adminKey, "--dry-run")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Contains(t, r.stdout, "+ create channel ci-webhook")
	require.Contains(t, r.stdout, "dry run: nothing was changed")

	// The key may come from the configuration instead of the command line.
	b.env["CHATSIDECAR_ADMIN_API_KEY"] = adminKey
	r = b.run(t, "", "apply", "-f", file, "--server", server+"/")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Contains(t, r.stdout, "applied 3 changes")
	delete(b.env, "CHATSIDECAR_ADMIN_API_KEY")

	r = b.run(t, "", "apply", "-f", file, "--server", server, "--api-key", adminKey)
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Equal(t, "no changes\n", r.stdout)

	r = b.run(t, "", "export", "--server", server, "--api-key", adminKey)
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Contains(t, r.stdout, "name: ci-webhook")

	// Server-side problems come back with their field and line.
	bad := filepath.Join(b.dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("version: 1\nchannels:\n  - name: x\n    provider: nope\n"), 0o600))
	r = b.run(t, "", "apply", "-f", bad, "--server", server, "--api-key", adminKey)
	require.Equal(t, exitFailure, r.code)
	require.Contains(t, r.stderr, "line 4: channels[0].provider: unknown provider")
	require.Contains(t, r.stderr, "(BAD_USER_INPUT)")

	r = b.run(t, "", "export", "--server", server, "--api-key", "wrong-key")
	require.Equal(t, exitFailure, r.code)
	require.Contains(t, r.stderr, "a valid API key is required (UNAUTHENTICATED)")

	// WebSocket: a key in the upgrade's headers, or in connection_init.
	require.Equal(t, "connection_ack", wsInit(t, addr, http.Header{"Authorization": {"Bearer " + adminKey}}, `{}`))
	require.Equal(t, "connection_ack", wsInit(t, addr, nil, `{"Authorization":"Bearer `+adminKey+`"}`))
	require.NotEqual(t, "connection_ack", wsInit(t, addr, nil, `{}`))

	cancel()
	select {
	case code := <-done:
		require.Equal(t, exitOK, code, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	require.NotContains(t, logs.String(), adminKey)

	// The literal ${ in the variable's value was stored literally.
	r = b.runDB(t, "export", "--include-secrets")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Contains(t, r.stdout, "https://ci.example.com/hooks/$${literal}")
}

func TestSplitArgs(t *testing.T) {
	t.Parallel()
	newFS := func() *flag.FlagSet {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.String("f", "", "")
		fs.Bool("prune", false, "")
		fs.Bool("dry-run", false, "")
		return fs
	}
	tests := []struct {
		args                 []string
		own, cfg, positional []string
		help                 bool
	}{
		{args: []string{"-f", "x.yaml", "--prune"}, own: []string{"-f", "x.yaml", "--prune"}},
		{args: []string{"--listen", "127.0.0.1:9090"}, cfg: []string{"--listen", "127.0.0.1:9090"}},
		{
			args: []string{"--database-url", "db", "--dry-run", "-f=-", "--log-level=debug", "--prune=false"},
			own:  []string{"--dry-run", "-f=-", "--prune=false"},
			cfg:  []string{"--database-url", "db", "--log-level=debug"},
		},
		{args: []string{"create", "ci", "--data-dir", "d"}, cfg: []string{"--data-dir", "d"}, positional: []string{"create", "ci"}},
		{args: []string{"-f", "-", "--", "--prune"}, own: []string{"-f", "-"}, positional: []string{"--prune"}},
		{args: []string{"--listen", "x", "-h"}, cfg: []string{"--listen", "x"}, help: true},
	}
	for _, tt := range tests {
		own, cfg, positional, help := splitArgs(newFS(), tt.args)
		require.Equal(t, tt.own, own, tt.args)
		require.Equal(t, tt.cfg, cfg, tt.args)
		require.Equal(t, tt.positional, positional, tt.args)
		require.Equal(t, tt.help, help, tt.args)
	}
}

// wsInit opens a graphql-transport-ws connection, sends connection_init
// with payload and returns the type of the server's answer, or "" when
// the server closed the connection instead.
func wsInit(t *testing.T, addr string, header http.Header, payload string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+addr+"/graphql", &websocket.DialOptions{
		HTTPHeader: header, Subprotocols: []string{"graphql-transport-ws"},
	})
	require.NoError(t, err)
	defer c.CloseNow()
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(`{"type":"connection_init","payload":`+payload+`}`)))
	_, msg, err := c.Read(ctx)
	if err != nil {
		return ""
	}
	var m struct{ Type string }
	require.NoError(t, json.Unmarshal(msg, &m))
	return m.Type
}

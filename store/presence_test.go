package store_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/store"
	"github.com/chatsidecar/chatsidecar/store/storetest"
)

// envPresenceHelper makes the test binary a process that holds a
// presence on the database it names, prints the id and waits to be
// killed (TestPresenceHelperProcess).
const envPresenceHelper = "CHATSIDECAR_PRESENCE_HELPER_DB"

// TestPresenceHelperProcess is not a test: it is the child process of
// TestPresenceOfAKilledProcess.
func TestPresenceHelperProcess(t *testing.T) {
	url := os.Getenv(envPresenceHelper)
	if url == "" {
		t.Skip("the child process of TestPresenceOfAKilledProcess")
	}
	s, err := store.Open(context.Background(), store.Options{DatabaseURL: url, SecretKey: storetest.Key(), Providers: registry(t)})
	require.NoError(t, err)
	p, err := s.Present(context.Background())
	require.NoError(t, err)
	fmt.Println(p.ID())
	_, _ = io.Copy(io.Discard, os.Stdin) // until killed
}

func TestPresence(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		ctx := context.Background()
		s := storetest.Open(t, db, registry(t))
		a, err := s.Present(ctx)
		require.NoError(t, err)
		b, err := s.Present(ctx)
		require.NoError(t, err)
		require.NotEqual(t, a.ID(), b.ID())
		require.Positive(t, a.ID())

		// Another store on the database (another process's view) sees
		// both as alive; an id nobody holds is not.
		other := storetest.Open(t, db, registry(t))
		alive, err := other.Alive(ctx, []int32{a.ID(), b.ID(), 12345})
		require.NoError(t, err)
		require.Equal(t, map[int32]bool{a.ID(): true, b.ID(): true, 12345: false}, alive)

		require.NoError(t, a.Close())
		alive, err = other.Alive(ctx, []int32{a.ID(), b.ID()})
		require.NoError(t, err)
		require.Equal(t, map[int32]bool{a.ID(): false, b.ID(): true}, alive)
		require.NoError(t, b.Close())

		alive, err = s.Alive(ctx, nil)
		require.NoError(t, err)
		require.Empty(t, alive)

		if db.Name == "sqlite" {
			// A process killed while it held no job left its file;
			// the next presence taken removes it.
			stale := db.URL + ".owners/777"
			require.NoError(t, os.WriteFile(stale, nil, 0o600))
			c, err := other.Present(ctx)
			require.NoError(t, err)
			defer c.Close()
			_, err = os.Stat(stale)
			require.ErrorIs(t, err, os.ErrNotExist)
		}
	})
}

// TestPresenceOfAKilledProcess kills a real process holding a presence
// with SIGKILL: it is gone at once, with no timeout to wait for.
func TestPresenceOfAKilledProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process; skipped with -short")
	}
	storetest.Each(t, func(t *testing.T, db storetest.DB) {
		ctx := context.Background()
		s := storetest.Open(t, db, registry(t))
		cmd := exec.Command(os.Args[0], "-test.run=^TestPresenceHelperProcess$")
		cmd.Env = append(os.Environ(), envPresenceHelper+"="+db.URL)
		stdin, err := cmd.StdinPipe()
		require.NoError(t, err)
		defer stdin.Close()
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		line, err := bufio.NewReader(out).ReadString('\n')
		require.NoError(t, err, "the child printed no presence id")
		id64, err := strconv.ParseInt(strings.TrimSpace(line), 10, 32)
		require.NoError(t, err, "child printed %q", line)
		id := int32(id64)

		alive, err := s.Alive(ctx, []int32{id})
		require.NoError(t, err)
		require.True(t, alive[id], "a running process's presence")

		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait()
		// PostgreSQL ends the session when it reads the closed socket,
		// moments after the kill; SQLite's flock is gone with the process.
		require.Eventually(t, func() bool {
			alive, err := s.Alive(ctx, []int32{id})
			require.NoError(t, err)
			return !alive[id]
		}, 10*time.Second, 10*time.Millisecond, "the killed process still counts as alive")
		if db.Name == "sqlite" {
			_, err := os.Stat(db.URL + ".owners/" + strconv.Itoa(int(id)))
			require.ErrorIs(t, err, os.ErrNotExist, "the dead process's file is removed")
		}
	})
}

// postgresPresence takes a presence on a fresh PostgreSQL database, or
// skips: a SQLite presence has no session to lose.
func postgresPresence(t *testing.T) (*store.Store, *store.Presence) {
	t.Helper()
	db, ok := storetest.Postgres(t)
	if !ok {
		t.Skip("PostgreSQL only: a SQLite presence has no session to lose")
	}
	s := storetest.Open(t, db, registry(t))
	p, err := s.Present(context.Background())
	require.NoError(t, err)
	return s, p
}

// endSession ends a presence's session from the server side, as a
// restart or a network fault would, and waits for its backend to exit.
func endSession(t *testing.T, s *store.Store, p *store.Presence) {
	t.Helper()
	_, err := s.DB().ExecContext(context.Background(), `SELECT pg_terminate_backend(pid, 5000) FROM pg_locks
		WHERE locktype = 'advisory' AND objsubid = 2 AND objid::bigint = $1`, p.ID())
	require.NoError(t, err)
}

// TestPresenceComesBackAfterItsSessionEnds: once a PostgreSQL presence's
// session ends, the process counts as gone, then takes its id again on a
// new session.
func TestPresenceComesBackAfterItsSessionEnds(t *testing.T) {
	ctx := context.Background()
	s, p := postgresPresence(t)
	defer p.Close()
	endSession(t, s, p)
	require.Eventually(t, func() bool {
		alive, err := s.Alive(ctx, []int32{p.ID()})
		require.NoError(t, err)
		return !alive[p.ID()]
	}, 10*time.Second, 10*time.Millisecond, "the ended session's lock")
	require.Eventually(t, func() bool {
		alive, err := s.Alive(ctx, []int32{p.ID()})
		require.NoError(t, err)
		return alive[p.ID()]
	}, 20*time.Second, 50*time.Millisecond, "the presence did not take its id again")
}

// TestPresenceClosesAfterItsSessionEnded: a process stopping after the
// server ended its presence's session, before the keeper noticed, stops
// without an error (the lock went with the session), and counts as gone.
func TestPresenceClosesAfterItsSessionEnded(t *testing.T) {
	s, p := postgresPresence(t)
	endSession(t, s, p)
	require.NoError(t, p.Close())
	alive, err := s.Alive(context.Background(), []int32{p.ID()})
	require.NoError(t, err)
	require.False(t, alive[p.ID()])
}

package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Presence marks a process as alive to every process that shares the
// database, for as long as the process holds it. A process that dies,
// even by SIGKILL, loses it at once, with no timeout to wait for:
//
//   - on PostgreSQL it is a session-level advisory lock on a connection
//     of its own, which the server drops when the connection closes;
//   - on SQLite it is an flock(2) on a file beside the database, which the
//     kernel drops when the process exits.
//
// The delivery engine tags the work it holds back for itself with the
// id, so that another process can tell the work of a dead process from
// that of a live one and take it over at once, instead of waiting for
// its lease to end.
type Presence struct {
	id      int32
	cancel  context.CancelFunc
	done    chan struct{}
	release func() error
}

// ID names the process among those holding a presence on the database:
// positive, and unique among the live ones. A nil presence has id 0.
func (p *Presence) ID() int32 {
	if p == nil {
		return 0
	}
	return p.id
}

// Close gives the presence up; the process counts as gone from then on.
func (p *Presence) Close() error {
	p.cancel()
	<-p.done
	return p.release()
}

// presenceClass is the first key of the PostgreSQL advisory locks that
// mark live processes ("CSdp"); the second is the presence id.
const presenceClass int32 = 0x43536470

// presenceCheck is how often a PostgreSQL presence checks that its
// connection is still up, and how often it tries to take its lock again
// once the connection is lost. It is shorter than the interval at which
// the delivery engine looks for dead processes (3 s by default), which
// takes work over only from an id missing on two looks in a row: a
// database restart must not make live processes look dead for that long.
const presenceCheck = time.Second

// Present takes a presence with a fresh id for this process.
func (s *Store) Present(ctx context.Context) (*Presence, error) {
	if s.dialect == Postgres {
		return s.presentPostgres(ctx)
	}
	return s.presentSQLite()
}

// Alive reports which of ids are held by a live process. An id it
// cannot judge (a platform without flock) counts as alive, so that its
// work waits for its lease as before.
func (s *Store) Alive(ctx context.Context, ids []int32) (map[int32]bool, error) {
	alive := make(map[int32]bool, len(ids))
	if len(ids) == 0 {
		return alive, nil
	}
	if s.dialect == Postgres {
		rows, err := s.sqlDB.QueryContext(ctx, `SELECT objid::bigint FROM pg_locks
			WHERE locktype = 'advisory' AND classid::bigint = $1 AND objsubid = 2 AND granted
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`, presenceClass)
		if err != nil {
			return nil, fmt.Errorf("store: live processes: %w", err)
		}
		defer rows.Close()
		held := map[int32]bool{}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			held[int32(id)] = true
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		for _, id := range ids {
			alive[id] = held[id]
		}
		return alive, nil
	}
	dir, ok := s.ownersDir()
	for _, id := range ids {
		if !ok {
			alive[id] = s.memoryHeld(id)
			continue
		}
		live, err := probeLockFile(filepath.Join(dir, strconv.Itoa(int(id))))
		if err != nil {
			return nil, fmt.Errorf("store: live processes: %w", err)
		}
		alive[id] = live
	}
	return alive, nil
}

// newPresenceID draws a presence id; a collision with a live one is
// refused by the lock, and the caller draws again.
func newPresenceID() int32 { return rand.Int32N(math.MaxInt32) + 1 }

func (s *Store) presentPostgres(ctx context.Context) (*Presence, error) {
	conn, err := pgx.Connect(ctx, s.url)
	if err != nil {
		return nil, fmt.Errorf("store: presence: %w", err)
	}
	for range 8 {
		id := newPresenceID()
		ok, err := tryPresenceLock(ctx, conn, id)
		if err != nil {
			_ = conn.Close(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("store: presence: %w", err)
		}
		if !ok {
			continue
		}
		kctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		k := &presenceKeeper{s: s, id: id, conn: conn}
		p := &Presence{id: id, cancel: cancel, done: make(chan struct{}), release: k.close}
		go k.run(kctx, p.done)
		return p, nil
	}
	_ = conn.Close(context.WithoutCancel(ctx))
	return nil, errors.New("store: presence: no free id after 8 draws")
}

func tryPresenceLock(ctx context.Context, conn *pgx.Conn, id int32) (bool, error) {
	var ok bool
	err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1, $2)", presenceClass, id).Scan(&ok)
	return ok, err
}

// presenceKeeper holds a PostgreSQL presence's connection. When the
// connection drops (a database restart, a network fault), the process
// counts as gone to the others until the keeper has a new connection and
// the lock again: meanwhile another process may take over work this one
// still does, which is why the engine waits for an id to be missing on
// two checks in a row before it does.
type presenceKeeper struct {
	s  *Store
	id int32

	mu   sync.Mutex
	conn *pgx.Conn // nil while lost
}

func (k *presenceKeeper) run(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(presenceCheck)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		k.check(ctx)
	}
}

// check pings the connection, or, once it is lost, connects again and
// takes the lock.
//
// The ping is not cut short when the presence closes: pgx closes a
// connection whose query is interrupted, and Close must still find the
// session open to unlock it. Close waits for the ping instead (bounded).
func (k *presenceKeeper) check(parent context.Context) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.conn != nil {
		pctx, pcancel := context.WithTimeout(context.WithoutCancel(parent), 5*time.Second)
		err := k.conn.Ping(pctx)
		pcancel()
		if err == nil || parent.Err() != nil {
			return
		}
		k.s.log.Warn("lost the database session that marks this process alive; other processes may take over its deliveries until it is back",
			"presence", k.id, "error", err)
		_ = k.conn.Close(context.WithoutCancel(parent))
		k.conn = nil
	}
	ctx, cancel := context.WithTimeout(parent, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, k.s.url)
	if err != nil {
		return
	}
	// False while the server still holds the old session's lock; the
	// next check tries again.
	if ok, err := tryPresenceLock(ctx, conn, k.id); err != nil || !ok {
		_ = conn.Close(context.WithoutCancel(ctx))
		return
	}
	k.conn = conn
	k.s.log.Info("this process is marked alive again", "presence", k.id)
}

func (k *presenceKeeper) close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.conn == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Unlocked first: the server drops a closed session's locks only
	// when its backend has exited, a moment after Close returns, and
	// the process must count as gone as soon as Close does.
	_, uerr := k.conn.Exec(ctx, "SELECT pg_advisory_unlock($1, $2)", presenceClass, k.id)
	if uerr != nil && k.conn.IsClosed() {
		// The session had ended (the server or the network closed it
		// before the keeper noticed): its lock went with it, and a
		// stopping process has nothing left to release.
		uerr = nil
	}
	err := errors.Join(uerr, k.conn.Close(ctx))
	k.conn = nil
	return err
}

// ownersDir is the directory of a SQLite database's presence files,
// beside the database file; false for an in-memory database, which no
// other process can open.
func (s *Store) ownersDir() (string, bool) {
	path := sqlitePath(s.url)
	if path == "" || path == ":memory:" {
		return "", false
	}
	return path + ".owners", true
}

func (s *Store) presentSQLite() (*Presence, error) {
	done := make(chan struct{})
	close(done)
	dir, ok := s.ownersDir()
	if !ok {
		id := s.holdMemory()
		return &Presence{id: id, cancel: func() {}, done: done, release: func() error {
			s.dropMemory(id)
			return nil
		}}, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: presence: %w", err)
	}
	for range 8 {
		id := newPresenceID()
		path := filepath.Join(dir, strconv.Itoa(int(id)))
		f, ok, err := lockFile(path, true)
		if errors.Is(err, errors.ErrUnsupported) {
			// Without flock nobody can judge this id, and Alive
			// counts it alive: the work waits for its leases.
			return &Presence{id: id, cancel: func() {}, done: done, release: func() error { return nil }}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("store: presence: %w", err)
		}
		if !ok {
			continue
		}
		s.removeDeadOwners(dir, path)
		return &Presence{id: id, cancel: func() {}, done: done, release: func() error {
			// Removed while still locked, so a process judging the id
			// finds either the locked file or none.
			rerr := os.Remove(path)
			return errors.Join(rerr, f.Close())
		}}, nil
	}
	return nil, errors.New("store: presence: no free id after 8 draws")
}

// removeDeadOwners removes the files of processes that died holding
// no job (Alive removes the others when it judges them), so killed
// processes leave no files behind. Failures only leave a file.
func (s *Store) removeDeadOwners(dir, own string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if path := filepath.Join(dir, e.Name()); path != own {
			_, _ = probeLockFile(path)
		}
	}
}

// probeLockFile reports whether a live process holds the presence file
// at path. A file nobody holds is a dead process's; it is removed.
func probeLockFile(path string) (bool, error) {
	f, ok, err := lockFile(path, false)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return false, nil
	case errors.Is(err, errors.ErrUnsupported):
		return true, nil
	case err != nil:
		return false, err
	case !ok:
		return true, nil
	}
	rerr := os.Remove(path)
	return false, errors.Join(rerr, f.Close())
}

// holdMemory and memoryHeld track the presences of an in-memory SQLite
// database, which only this process can reach.
func (s *Store) holdMemory() int32 {
	s.memMu.Lock()
	defer s.memMu.Unlock()
	if s.mem == nil {
		s.mem = map[int32]bool{}
	}
	id := newPresenceID()
	for s.mem[id] {
		id = newPresenceID()
	}
	s.mem[id] = true
	return id
}

func (s *Store) dropMemory(id int32) {
	s.memMu.Lock()
	defer s.memMu.Unlock()
	delete(s.mem, id)
}

func (s *Store) memoryHeld(id int32) bool {
	s.memMu.Lock()
	defer s.memMu.Unlock()
	return s.mem[id]
}

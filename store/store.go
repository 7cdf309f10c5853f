// Package store owns the database: it opens the embedded SQLite file or
// PostgreSQL, runs the versioned migrations, encrypts secrets at rest and
// offers typed queries for providers, channels, rules and API keys. GORM
// types never leave this package.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/chatsidecar/chatsidecar/providers"
)

// Dialect names the database behind a Store.
type Dialect string

// The supported databases.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Errors callers test with errors.Is.
var (
	// ErrNotFound means the row does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the change would violate a uniqueness rule; the
	// returned error is a *ConflictError naming the field.
	ErrConflict = errors.New("conflict")
	// ErrSecretKeyMismatch means the configured secret key is not the one
	// that encrypted this database's secrets.
	ErrSecretKeyMismatch = errors.New("the secret key does not match the key that encrypted this database (check CHATSIDECAR_SECRET_KEY or the key file in the data directory)")
)

// ConflictError says which field collides with an existing row.
type ConflictError struct {
	Field   string
	Message string
}

func (e *ConflictError) Error() string { return e.Field + ": " + e.Message }

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Options configures Open.
type Options struct {
	// DatabaseURL is a postgres:// URL or a SQLite file path (optionally
	// prefixed with sqlite: or file:).
	DatabaseURL string
	// SecretKey is the 32-byte AES key that encrypts secrets at rest.
	SecretKey []byte
	// Providers tells the store which channel parameters are secret and
	// which are unique.
	Providers *providers.Registry
	// Logger receives slow-query and error logs; may be nil.
	Logger *slog.Logger
	// MaxConns bounds the PostgreSQL connections of the pool (default
	// DefaultMaxConns). SQLite always uses one.
	MaxConns int
}

// DefaultMaxConns is the default bound on a replica's pooled PostgreSQL
// connections. Intake, the completer and the work loader each hold one
// per group in flight, and a group takes whatever waited meanwhile, so a
// small pool makes bigger groups rather than waits: at the load tool's
// peak, 16 connections gave ~9 % more deliveries per second than 48, with
// ~13 % less PostgreSQL CPU per delivery (fewer commits, and each
// connection's prepared statements reused more), and 8 or 12 no less.
// Two replicas with their queue and notification connections then fit
// PostgreSQL's default of 100 connections with room to spare.
const DefaultMaxConns = 16

// Store is the database handle. It is safe for concurrent use.
type Store struct {
	Queries
	dialect Dialect
	sqlDB   *sql.DB
	// url is the PostgreSQL URL, or the SQLite file path, Open was given;
	// a Presence needs it for a connection or lock file of its own.
	url string
	log *slog.Logger
	// mem holds the presence ids of an in-memory SQLite database.
	memMu sync.Mutex
	mem   map[int32]bool
}

// Open connects to the database. It does not migrate; call Migrate.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Providers == nil {
		return nil, errors.New("store: Options.Providers is required")
	}
	c, err := newCrypter(opts.SecretKey)
	if err != nil {
		return nil, err
	}
	gcfg := &gorm.Config{
		Logger:                 newGormLogger(opts.Logger),
		TranslateError:         true,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
	}
	var (
		db      *gorm.DB
		dialect Dialect
	)
	if isPostgres(opts.DatabaseURL) {
		dialect = Postgres
		db, err = gorm.Open(postgres.New(postgres.Config{DSN: opts.DatabaseURL}), gcfg)
	} else {
		dialect = SQLite
		db, err = gorm.Open(sqlite.Open(sqliteDSN(opts.DatabaseURL)), gcfg)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dialect, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if dialect == SQLite {
		// SQLite has one writer; a single connection serialises writers in
		// the pool instead of failing them with SQLITE_BUSY.
		sqlDB.SetMaxOpenConns(1)
	} else {
		n := opts.MaxConns
		if n <= 0 {
			n = DefaultMaxConns
		}
		sqlDB.SetMaxOpenConns(n)
		sqlDB.SetMaxIdleConns(n)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", dialect, err)
	}
	s := &Store{
		Queries: Queries{db: db, crypt: c, reg: opts.Providers},
		dialect: dialect,
		sqlDB:   sqlDB,
		url:     opts.DatabaseURL,
		log:     opts.Logger,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// Dialect reports which database this store uses.
func (s *Store) Dialect() Dialect { return s.dialect }

// DB returns the underlying *sql.DB, for the job queue that shares it.
func (s *Store) DB() *sql.DB { return s.sqlDB }

// Ping checks that the database answers, for /readyz.
func (s *Store) Ping(ctx context.Context) error { return s.sqlDB.PingContext(ctx) }

// Close releases the connections.
func (s *Store) Close() error { return s.sqlDB.Close() }

// InTx runs fn in one transaction: everything fn does commits together or
// not at all. fn must use only the Queries it is given.
//
// On PostgreSQL the transaction runs on a connection taken from the pool
// for it, so that Queries.PgxTx can reach the same transaction through
// pgx (the job queue's pgx driver inserts jobs with it).
func (s *Store) InTx(ctx context.Context, fn func(q *Queries) error) error {
	if s.dialect != Postgres {
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			return fn(&Queries{db: tx, crypt: s.crypt, reg: s.reg})
		})
	}
	conn, err := s.sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	db := s.db.WithContext(ctx)
	db.Statement.ConnPool = conn // Transaction begins on it
	return db.Transaction(func(tx *gorm.DB) error {
		return fn(&Queries{db: tx, crypt: s.crypt, reg: s.reg, sqlConn: conn})
	})
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// sqliteDSN turns a file path into a DSN with the pragmas the sidecar
// relies on: WAL so readers never block the writer, a busy timeout, foreign
// keys for cascading deletes, and immediate transactions so a read that
// later writes cannot deadlock on the lock upgrade.
func sqliteDSN(path string) string {
	path = sqlitePath(path)
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// sqlitePath is the file path of a SQLite database URL.
func sqlitePath(dsn string) string {
	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite://"), "sqlite:")
	path = strings.TrimPrefix(path, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	return path
}

// Queries are the typed operations; the Store's own Queries run outside a
// transaction, InTx hands out ones bound to a transaction.
type Queries struct {
	db    *gorm.DB
	crypt *crypter
	reg   *providers.Registry
	// sqlConn is the connection of a PostgreSQL transaction (InTx), nil
	// otherwise.
	sqlConn *sql.Conn
}

func (q *Queries) conn(ctx context.Context) *gorm.DB { return q.db.WithContext(ctx) }

func notFound(err error, what string) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return err
}

// gormLogger forwards GORM's errors and slow queries to slog and never logs
// query arguments, which can hold encrypted secrets.
type gormLogger struct{ log *slog.Logger }

func newGormLogger(l *slog.Logger) logger.Interface {
	if l == nil {
		return logger.Discard
	}
	return gormLogger{log: l}
}

func (g gormLogger) LogMode(logger.LogLevel) logger.Interface { return g }
func (g gormLogger) Info(ctx context.Context, msg string, args ...any) {
	g.log.DebugContext(ctx, fmt.Sprintf(msg, args...))
}
func (g gormLogger) Warn(ctx context.Context, msg string, args ...any) {
	g.log.WarnContext(ctx, fmt.Sprintf(msg, args...))
}
func (g gormLogger) Error(ctx context.Context, msg string, args ...any) {
	g.log.ErrorContext(ctx, fmt.Sprintf(msg, args...))
}
func (g gormLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if d := time.Since(begin); d > 500*time.Millisecond {
		g.log.WarnContext(ctx, "slow query", "duration", d)
	}
}

// scanAll runs db's query and scans its rows into dest, as gorm's Scan
// does, but without Scan's trace recorder: that renders every statement
// with its arguments written into the SQL text (a regular expression over
// the whole statement, kilobytes of event payload included) whether or not
// anything logs it. At the load tool's peak that was ~12 % of the bytes
// the server allocated.
func scanAll(db *gorm.DB, dest any) error {
	rows, err := db.Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() {
		if err := db.ScanRows(rows, dest); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}

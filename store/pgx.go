package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// ErrNoPgxTx is returned by PgxTx outside a PostgreSQL transaction.
var ErrNoPgxTx = errors.New("store: PgxTx needs a PostgreSQL transaction (InTx)")

// PgxTx runs fn with the transaction as a pgx.Tx, so River's pgx driver
// can insert and delete jobs in it. database/sql hands River's own
// database/sql driver every array as lib/pq text that pgx then parses and
// encodes again; through pgx the arrays go out in binary. At 950
// deliveries a second that halved the insert's share of the server's CPU
// (15.6 % → 7 %).
//
// fn must not commit or roll back the transaction (InTx does), and must
// not use q while it runs: the connection is fn's until it returns.
func (q *Queries) PgxTx(fn func(tx pgx.Tx) error) error {
	if q.sqlConn == nil {
		return ErrNoPgxTx
	}
	return q.sqlConn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("store: the PostgreSQL driver is %T, not pgx", dc)
		}
		return fn(connTx{c.Conn()})
	})
}

// errTxOwned is what connTx answers to what only InTx may do.
var errTxOwned = errors.New("store: the transaction belongs to InTx; it commits or rolls back")

// connTx is a pgx.Tx over a connection inside a transaction that InTx
// opened: its statements run in that transaction, and it can neither end
// it nor nest another (River's inserts and deletes do neither).
type connTx struct{ c *pgx.Conn }

var _ pgx.Tx = connTx{}

func (t connTx) Begin(context.Context) (pgx.Tx, error) { return nil, errTxOwned }
func (t connTx) Commit(context.Context) error          { return errTxOwned }
func (t connTx) Rollback(context.Context) error        { return errTxOwned }
func (t connTx) LargeObjects() pgx.LargeObjects        { return pgx.LargeObjects{} }
func (t connTx) Conn() *pgx.Conn                       { return t.c }

func (t connTx) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	return t.c.CopyFrom(ctx, table, cols, src)
}

func (t connTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return t.c.SendBatch(ctx, b)
}

func (t connTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return t.c.Prepare(ctx, name, sql)
}

func (t connTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return t.c.Exec(ctx, sql, args...)
}

func (t connTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return t.c.Query(ctx, sql, args...)
}

func (t connTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return t.c.QueryRow(ctx, sql, args...)
}

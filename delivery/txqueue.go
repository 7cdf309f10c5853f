package delivery

import (
	"context"
	"database/sql"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/chatsidecar/chatsidecar/store"
)

// txQueue inserts and deletes jobs inside the store's transactions, so a
// delivery and its job are stored, or finished, together.
type txQueue interface {
	insertMany(ctx context.Context, q *store.Queries, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
	// deleteMany deletes the jobs that are not running (nor locked by
	// another transaction) and returns their ids.
	deleteMany(ctx context.Context, q *store.Queries, ids []int64) ([]int64, error)
}

// sqlQueue works through River's database/sql drivers (SQLite).
type sqlQueue struct{ c *river.Client[*sql.Tx] }

func (s sqlQueue) insertMany(ctx context.Context, q *store.Queries, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
	tx, err := q.SQLTx()
	if err != nil {
		return nil, err
	}
	return s.c.InsertManyTx(ctx, tx, params)
}

func (s sqlQueue) deleteMany(ctx context.Context, q *store.Queries, ids []int64) ([]int64, error) {
	tx, err := q.SQLTx()
	if err != nil {
		return nil, err
	}
	res, err := s.c.JobDeleteManyTx(ctx, tx, river.NewJobDeleteManyParams().IDs(ids...).First(len(ids)))
	if err != nil {
		return nil, err
	}
	return jobIDs(res.Jobs), nil
}

// pgxQueue works through River's pgx driver on PostgreSQL, reaching the
// store's transaction with Queries.PgxTx: the same statements as River's
// database/sql driver, with arrays sent in binary instead of as text.
type pgxQueue struct{ c *river.Client[pgx.Tx] }

func (p pgxQueue) insertMany(ctx context.Context, q *store.Queries, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
	var res []*rivertype.JobInsertResult
	err := q.PgxTx(func(tx pgx.Tx) error {
		var err error
		res, err = p.c.InsertManyTx(ctx, tx, params)
		return err
	})
	return res, err
}

func (p pgxQueue) deleteMany(ctx context.Context, q *store.Queries, ids []int64) ([]int64, error) {
	var out []int64
	err := q.PgxTx(func(tx pgx.Tx) error {
		res, err := p.c.JobDeleteManyTx(ctx, tx, river.NewJobDeleteManyParams().IDs(ids...).First(len(ids)))
		if err == nil {
			out = jobIDs(res.Jobs)
		}
		return err
	})
	return out, err
}

func jobIDs(jobs []*rivertype.JobRow) []int64 {
	out := make([]int64, len(jobs))
	for i, j := range jobs {
		out[i] = j.ID
	}
	return out
}

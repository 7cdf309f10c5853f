package store

import (
	"context"
	"time"
)

// terminalSQL matches deliveries that will not change again by themselves.
const terminalSQL = "status IN ('" + StatusDelivered + "', '" + StatusFailed + "', '" + StatusCancelled + "')"

// PruneEvents deletes old history: of the batch events with the lowest
// ids above after, those created before cutoff whose deliveries have all
// finished, together with their deliveries, in one transaction. It
// returns the highest id it looked at, to pass as after to the next call,
// and how many events it deleted; last is 0 once no event above after
// was created before cutoff.
//
// Events are read in id order, which is their order of arrival, and the
// scan stops at the first one created after cutoff, so a call reads at
// most batch rows and no index on created_at (which every intake would
// pay for) is needed. What is kept: an event with a delivery still
// queued, sending or retrying (it is pruned by a later run once that
// finishes), every post_messages and topic_threads row (they let a later
// edit of an old post update its chat message, and replies find their
// thread), and the catch-up position (a counter).
//
// A delivery an admin retries while its event is being pruned is either
// deleted before the retry (which then finds nothing) or, retried first,
// not deleted, and keeps its event: the deletion re-checks each
// delivery's status under its row lock.
func (s *Store) PruneEvents(ctx context.Context, cutoff time.Time, after int64, batch int) (last int64, deleted int, err error) {
	var rows []struct {
		ID        int64
		CreatedAt time.Time
	}
	err = scanAll(s.db.WithContext(ctx).Raw(`SELECT id, created_at FROM forum_events WHERE id > ? ORDER BY id LIMIT ?`,
		after, batch), &rows)
	if err != nil {
		return 0, 0, err
	}
	ids := make([]int64, 0, len(rows))
	for _, r := range rows {
		if !r.CreatedAt.Before(cutoff) {
			break
		}
		ids = append(ids, r.ID)
	}
	if len(ids) == 0 {
		return 0, 0, nil
	}
	err = s.InTx(ctx, func(q *Queries) error {
		db := q.conn(ctx)
		if err := db.Exec(`DELETE FROM deliveries WHERE event_id IN ? AND `+terminalSQL, ids).Error; err != nil {
			return err
		}
		res := db.Exec(`DELETE FROM forum_events WHERE id IN ?
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = forum_events.id)`, ids)
		deleted = int(res.RowsAffected)
		return res.Error
	})
	if err != nil {
		return 0, 0, err
	}
	return ids[len(ids)-1], deleted, nil
}

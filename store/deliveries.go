package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Counter names.
const (
	// CounterRules changes whenever a rule or a channel with rules is
	// created, changed or deleted; intake rebuilds its match index when it
	// differs from the one the index was built at, on every replica.
	CounterRules = "rules"
	// CounterCatchUp is the highest Discourse post id catch-up has seen.
	CounterCatchUp = "catchup_post_id"
)

// Delivery statuses, as GraphQL names them.
const (
	StatusQueued    = "QUEUED"
	StatusSending   = "SENDING"
	StatusDelivered = "DELIVERED"
	StatusRetrying  = "RETRYING"
	StatusFailed    = "FAILED"
	StatusCancelled = "CANCELLED"
)

// Delivery actions: a new chat message, or a change to the message an
// earlier delivery of the same post created.
const (
	ActionSend   = "send"
	ActionEdit   = "edit"
	ActionDelete = "delete"
)

// ForumEvent is one distinct event from the forum. Payload is the
// platform-independent notification (JSON) the deliveries render.
type ForumEvent struct {
	ID         int64 `gorm:"primaryKey"`
	Kind       string
	DedupeKey  string
	Source     string
	TopicID    *int64
	PostID     *int64
	Payload    string
	Deliveries int
	CreatedAt  time.Time
}

// TableName maps ForumEvent to its table.
func (ForumEvent) TableName() string { return "forum_events" }

// Delivery is one event's way to one channel, and its status.
type Delivery struct {
	ID               int64 `gorm:"primaryKey"`
	EventID          int64
	ChannelID        int64
	RuleID           *int64
	Provider         string
	Action           string
	Filter           string
	TopicID          *int64
	PostID           *int64
	Status           string
	Attempts         int
	LastErrorKey     *string
	LastErrorMessage *string
	RemoteID         *string
	ThreadID         *string
	NextAttemptAt    *time.Time
	CreatedAt        time.Time
	UpdatedAt        time.Time
	DeliveredAt      *time.Time
}

// TableName maps Delivery to its table.
func (Delivery) TableName() string { return "deliveries" }

// Terminal reports whether the delivery will not change again by itself.
func (d *Delivery) Terminal() bool {
	switch d.Status {
	case StatusDelivered, StatusFailed, StatusCancelled:
		return true
	}
	return false
}

// GetEvent returns an event by id.
func (q *Queries) GetEvent(ctx context.Context, id int64) (*ForumEvent, error) {
	var e ForumEvent
	if err := q.conn(ctx).Where("id = ?", id).Take(&e).Error; err != nil {
		return nil, notFound(err, fmt.Sprintf("event %d", id))
	}
	return &e, nil
}

// insertChunk bounds the rows of one INSERT: 500 rows of 12 values stay
// far below PostgreSQL's 65,535 parameters.
const insertChunk = 500

// InsertDeliveries stores new deliveries, sets their ids and returns their
// WorkFacts, read by the same statement: whether an earlier delivery of
// the same topic to the same channel is unfinished (one stored before, or
// one earlier in ds) and the topic's thread in the channel.
func (q *Queries) InsertDeliveries(ctx context.Context, ds []*Delivery) (map[int64]WorkFacts, error) {
	facts := make(map[int64]WorkFacts, len(ds))
	now := q.db.NowFunc()
	type lane struct{ ch, topic int64 }
	seen := map[lane]bool{}
	for start := 0; start < len(ds); start += insertChunk {
		chunk := ds[start:min(start+insertChunk, len(ds))]
		var sb strings.Builder
		sb.WriteString(`INSERT INTO deliveries (event_id, channel_id, rule_id, provider, action, filter, topic_id, post_id,
			status, attempts, created_at, updated_at) VALUES `)
		args := make([]any, 0, len(chunk)*12)
		for i, d := range chunk {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			d.CreatedAt, d.UpdatedAt = now, now
			args = append(args, d.EventID, d.ChannelID, d.RuleID, d.Provider, d.Action, d.Filter, d.TopicID, d.PostID,
				d.Status, d.Attempts, now, now)
		}
		// RETURNING sees the tables as they were before the statement,
		// so deliveries of ds itself are checked below, in order.
		sb.WriteString(` RETURNING id, ` + earlierPendingOf("deliveries") + ` AS earlier_pending,
			(SELECT t.thread_id FROM topic_threads t WHERE t.channel_id = deliveries.channel_id
				AND t.topic_id = deliveries.topic_id) AS topic_thread`)
		var rows []struct {
			ID             int64
			EarlierPending bool
			TopicThread    *string
		}
		if err := scanAll(q.conn(ctx).Raw(sb.String(), args...), &rows); err != nil {
			return nil, err
		}
		if len(rows) != len(chunk) {
			return nil, fmt.Errorf("store: inserted %d deliveries, got %d ids back", len(chunk), len(rows))
		}
		for i, d := range chunk {
			r := rows[i]
			d.ID = r.ID
			f := WorkFacts{EarlierPending: r.EarlierPending}
			if r.TopicThread != nil {
				f.TopicThread = *r.TopicThread
			}
			if d.TopicID != nil {
				l := lane{d.ChannelID, *d.TopicID}
				f.EarlierPending = f.EarlierPending || seen[l]
				seen[l] = true
			}
			facts[d.ID] = f
		}
	}
	return facts, nil
}

// GetDelivery returns a delivery by id.
func (q *Queries) GetDelivery(ctx context.Context, id int64) (*Delivery, error) {
	var d Delivery
	if err := q.conn(ctx).Where("id = ?", id).Take(&d).Error; err != nil {
		return nil, notFound(err, fmt.Sprintf("delivery %d", id))
	}
	return &d, nil
}

// LockDelivery returns a delivery for update: on PostgreSQL the row stays
// locked until the transaction ends, so two workers cannot both act on it.
// SQLite's immediate transactions already exclude each other.
func (q *Queries) LockDelivery(ctx context.Context, id int64) (*Delivery, error) {
	db := q.conn(ctx)
	if q.db.Dialector.Name() == "postgres" {
		db = db.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var d Delivery
	if err := db.Where("id = ?", id).Take(&d).Error; err != nil {
		return nil, notFound(err, fmt.Sprintf("delivery %d", id))
	}
	return &d, nil
}

// DeliveryFilter selects deliveries; zero fields match everything.
type DeliveryFilter struct {
	ChannelID int64
	EventID   int64
	Status    string
	// BeforeID pages backwards: only deliveries with a smaller id.
	BeforeID int64
	Limit    int
}

// ListDeliveries returns deliveries newest first.
func (q *Queries) ListDeliveries(ctx context.Context, f DeliveryFilter) ([]*Delivery, error) {
	db := q.conn(ctx).Order("id DESC")
	if f.ChannelID != 0 {
		db = db.Where("channel_id = ?", f.ChannelID)
	}
	if f.EventID != 0 {
		db = db.Where("event_id = ?", f.EventID)
	}
	if f.Status != "" {
		db = db.Where("status = ?", f.Status)
	}
	return newestFirst[Delivery](db, f.BeforeID, f.Limit)
}

// newestFirst reads the page of db's rows (already filtered and ordered
// by id descending) with ids below beforeID (0: from the newest), at most
// limit of them (0: all).
func newestFirst[T any](db *gorm.DB, beforeID int64, limit int) ([]*T, error) {
	if beforeID != 0 {
		db = db.Where("id < ?", beforeID)
	}
	if limit > 0 {
		db = db.Limit(limit)
	}
	var out []*T
	return out, db.Find(&out).Error
}

// EventFilter selects forum events for ListEvents; zero fields match all.
type EventFilter struct {
	Kind    string
	Source  string
	TopicID int64
	PostID  int64
	// BeforeID pages backwards: only events with a smaller id.
	BeforeID int64
	Limit    int
}

// ListEvents returns forum events newest first, without their payloads
// (a list would otherwise carry kilobytes per event that no caller shows).
func (q *Queries) ListEvents(ctx context.Context, f EventFilter) ([]*ForumEvent, error) {
	db := q.conn(ctx).Select("id", "kind", "dedupe_key", "source", "topic_id", "post_id", "deliveries", "created_at").Order("id DESC")
	if f.Kind != "" {
		db = db.Where("kind = ?", f.Kind)
	}
	if f.Source != "" {
		db = db.Where("source = ?", f.Source)
	}
	if f.TopicID != 0 {
		db = db.Where("topic_id = ?", f.TopicID)
	}
	if f.PostID != 0 {
		db = db.Where("post_id = ?", f.PostID)
	}
	return newestFirst[ForumEvent](db, f.BeforeID, f.Limit)
}

// SaveDelivery writes a delivery's status fields.
func (q *Queries) SaveDelivery(ctx context.Context, d *Delivery) error {
	d.UpdatedAt = q.db.NowFunc()
	res := q.conn(ctx).Model(&Delivery{}).Where("id = ?", d.ID).Updates(statusColumns(d, d.UpdatedAt))
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("delivery %d: %w", d.ID, ErrNotFound)
	}
	return nil
}

// statusColumns are the columns SaveDelivery and SaveOutcome write.
func statusColumns(d *Delivery, updatedAt time.Time) map[string]any {
	return map[string]any{
		"status":             d.Status,
		"attempts":           d.Attempts,
		"last_error_key":     d.LastErrorKey,
		"last_error_message": d.LastErrorMessage,
		"remote_id":          d.RemoteID,
		"thread_id":          d.ThreadID,
		"next_attempt_at":    d.NextAttemptAt,
		"delivered_at":       d.DeliveredAt,
		"updated_at":         updatedAt,
	}
}

// ErrChanged is SaveOutcome finding the delivery changed by somebody else
// since the worker read it: cancelled, or cancelled and queued again (a
// job of its own then sends it), or deleted with its channel. The outcome
// of the attempt that was under way must not overwrite that.
var ErrChanged = errors.New("the delivery was changed since it was read")

// SaveOutcome is SaveDelivery for a worker recording an attempt. It saves
// only over the row as the worker read or last saved it (d.UpdatedAt) and
// never over a CANCELLED one, and otherwise returns ErrChanged: a failed
// attempt's RETRYING (or a shutdown's QUEUED) cannot undo an admin's
// cancel, or a cancel and retry, that came while the platform call ran.
// Nothing else writes a delivery a worker holds: its own outcome comes
// through here or the completer.
func (q *Queries) SaveOutcome(ctx context.Context, d *Delivery) error {
	now := q.db.NowFunc()
	res := q.conn(ctx).Model(&Delivery{}).
		Where("id = ? AND updated_at = ? AND status <> ?", d.ID, d.UpdatedAt, StatusCancelled).
		Updates(statusColumns(d, now))
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("delivery %d: %w", d.ID, ErrChanged)
	}
	d.UpdatedAt = now
	return nil
}

// SendDeliveriesForPost returns the deliveries that sent (or will send) a
// post to chat, one per channel, for propagating edits and deletions.
func (q *Queries) SendDeliveriesForPost(ctx context.Context, postID int64) ([]*Delivery, error) {
	var out []*Delivery
	err := q.conn(ctx).Where("post_id = ? AND action = ?", postID, ActionSend).Order("id").Find(&out).Error
	return out, err
}

// CountDeliveries counts deliveries by status, for the queue-depth gauge.
func (q *Queries) CountDeliveries(ctx context.Context) (map[string]int64, error) {
	var rows []struct {
		Status string
		N      int64
	}
	if err := scanAll(q.conn(ctx).Model(&Delivery{}).Select("status, COUNT(*) AS n").
		Where("status IN ?", []string{StatusQueued, StatusSending, StatusRetrying}).
		Group("status"), &rows); err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}

// TopicThread returns the chat thread a topic started in a channel, or "".
func (q *Queries) TopicThread(ctx context.Context, channelID, topicID int64) (string, error) {
	var ids []string
	err := scanAll(q.conn(ctx).Raw(`SELECT thread_id FROM topic_threads WHERE channel_id = ? AND topic_id = ?`,
		channelID, topicID), &ids)
	if err != nil || len(ids) == 0 {
		return "", err
	}
	return ids[0], nil
}

// PostMessage is the chat message a post became in a channel.
type PostMessage struct {
	ChannelID int64
	PostID    int64
	MessageID string
	ThreadID  string
	Extra     string // provider-specific JSON (map[string]string)
}

// GetPostMessage returns the chat message of a post in a channel.
func (q *Queries) GetPostMessage(ctx context.Context, channelID, postID int64) (*PostMessage, error) {
	var rows []struct {
		MessageID string
		ThreadID  *string
		Extra     *string
	}
	err := scanAll(q.conn(ctx).Raw(`SELECT message_id, thread_id, extra FROM post_messages WHERE channel_id = ? AND post_id = ?`,
		channelID, postID), &rows)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("message of post %d in channel %d: %w", postID, channelID, ErrNotFound)
	}
	pm := &PostMessage{ChannelID: channelID, PostID: postID, MessageID: rows[0].MessageID}
	if rows[0].ThreadID != nil {
		pm.ThreadID = *rows[0].ThreadID
	}
	if rows[0].Extra != nil {
		pm.Extra = *rows[0].Extra
	}
	return pm, nil
}

// DeletePostMessage forgets the chat message of a post.
func (q *Queries) DeletePostMessage(ctx context.Context, channelID, postID int64) error {
	return q.conn(ctx).Exec(`DELETE FROM post_messages WHERE channel_id = ? AND post_id = ?`, channelID, postID).Error
}

// PutTopicData stores the facts about a topic (JSON).
func (q *Queries) PutTopicData(ctx context.Context, id int64, data string) error {
	return q.conn(ctx).Exec(`INSERT INTO topics (id, data, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
		id, data, q.db.NowFunc()).Error
}

// Counter returns a named counter, 0 when it was never set.
func (q *Queries) Counter(ctx context.Context, name string) (int64, error) {
	var v []int64
	if err := scanAll(q.conn(ctx).Raw(`SELECT value FROM counters WHERE name = ?`, name), &v); err != nil {
		return 0, err
	}
	if len(v) == 0 {
		return 0, nil
	}
	return v[0], nil
}

// BumpCounter adds one to a named counter.
func (q *Queries) BumpCounter(ctx context.Context, name string) error {
	return q.conn(ctx).Exec(`INSERT INTO counters (name, value) VALUES (?, 1)
		ON CONFLICT (name) DO UPDATE SET value = counters.value + 1`, name).Error
}

// RaiseCounter sets a named counter to v unless it is already higher.
func (q *Queries) RaiseCounter(ctx context.Context, name string, v int64) error {
	return q.conn(ctx).Exec(`INSERT INTO counters (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = CASE WHEN counters.value > excluded.value
		THEN counters.value ELSE excluded.value END`, name, v).Error
}

// SQLTx returns the transaction's *sql.Tx, so the job queue can insert
// jobs atomically with the rows that describe them. It fails outside InTx.
func (q *Queries) SQLTx() (*sql.Tx, error) {
	tx, ok := q.db.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return nil, errors.New("store: SQLTx outside a transaction")
	}
	return tx, nil
}

// pendingSQL is the condition of an unfinished delivery, with the statuses
// written out: a partial index (deliveries_pending_idx) serves a query
// only when the query states its condition, and a bound parameter does not.
const pendingSQL = "status IN ('" + StatusQueued + "', '" + StatusSending + "', '" + StatusRetrying + "')"

// earlierPendingSQL is true for a delivery d when an earlier delivery of
// its topic to its channel is unfinished (see EarlierPending).
var earlierPendingSQL = earlierPendingOf("d")

// earlierPendingOf is earlierPendingSQL for the delivery row named row.
func earlierPendingOf(row string) string {
	return `EXISTS (SELECT 1 FROM deliveries p WHERE p.channel_id = ` + row + `.channel_id
	AND p.topic_id = ` + row + `.topic_id AND p.id < ` + row + `.id AND p.` + pendingSQL + `)`
}

// EarlierPending reports whether an earlier delivery of the same topic to
// the same channel is still unfinished, so later posts can wait their
// turn and chat shows a topic's posts in order (and a reply never
// overtakes the message whose thread it joins).
func (q *Queries) EarlierPending(ctx context.Context, channelID, topicID, beforeID int64) (bool, error) {
	var ids []int64
	err := q.conn(ctx).Model(&Delivery{}).Select("id").
		Where("channel_id = ? AND topic_id = ? AND id < ? AND "+pendingSQL, channelID, topicID, beforeID).
		Limit(1).Pluck("id", &ids).Error
	return len(ids) > 0, err
}

// InsertEvents stores many events in one statement, skipping those whose
// DedupeKey exists (or repeats within evs). It sets ID on the events it
// stored and leaves it 0 on the duplicates.
func (q *Queries) InsertEvents(ctx context.Context, evs []*ForumEvent) error {
	if len(evs) == 0 {
		return nil
	}
	now := q.db.NowFunc()
	var sb strings.Builder
	sb.WriteString(`INSERT INTO forum_events (kind, dedupe_key, source, topic_id, post_id, payload, deliveries, created_at) VALUES `)
	args := make([]any, 0, len(evs)*8)
	for i, e := range evs {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("(?, ?, ?, ?, ?, ?, ?, ?)")
		if e.CreatedAt.IsZero() {
			e.CreatedAt = now
		}
		e.ID = 0
		args = append(args, e.Kind, e.DedupeKey, e.Source, e.TopicID, e.PostID, e.Payload, e.Deliveries, e.CreatedAt)
	}
	sb.WriteString(` ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, dedupe_key`)
	var rows []struct {
		ID        int64
		DedupeKey string
	}
	if err := scanAll(q.conn(ctx).Raw(sb.String(), args...), &rows); err != nil {
		return err
	}
	byKey := make(map[string]int64, len(rows))
	for _, r := range rows {
		byKey[r.DedupeKey] = r.ID
	}
	for _, e := range evs {
		if id, ok := byKey[e.DedupeKey]; ok {
			e.ID = id
			delete(byKey, e.DedupeKey) // a key repeated within evs is stored once
		}
	}
	return nil
}

// GetTopicDataMany returns the stored facts of several topics.
func (q *Queries) GetTopicDataMany(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ID   int64
		Data string
	}
	if err := scanAll(q.conn(ctx).Raw(`SELECT id, data FROM topics WHERE id IN ?`, ids), &rows); err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.ID] = r.Data
	}
	return out, nil
}

// Notify sends PostgreSQL notifications on channel, one per payload, in
// order, when the transaction commits. It is a no-op on SQLite.
func (q *Queries) Notify(ctx context.Context, channel string, payloads []string) error {
	if q.db.Dialector.Name() != "postgres" || len(payloads) == 0 {
		return nil
	}
	tx, err := q.SQLTx()
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, notifySQL, channel, payloads)
	return err
}

// notifySQL sends one notification per array element, in array order.
const notifySQL = `SELECT pg_notify($1, p) FROM unnest($2::text[]) WITH ORDINALITY AS t(p, n) ORDER BY n`

// NotifyNow sends PostgreSQL notifications at once, outside any
// transaction. It is a no-op on SQLite.
func (s *Store) NotifyNow(ctx context.Context, channel string, payloads []string) error {
	if s.dialect != Postgres || len(payloads) == 0 {
		return nil
	}
	_, err := s.sqlDB.ExecContext(ctx, notifySQL, channel, payloads)
	return err
}

// Work is what a worker needs to attempt a delivery, read in one query.
type Work struct {
	Delivery
	// Payload is the event's notification JSON.
	Payload string
	// EarlierPending: an earlier delivery of the same topic to the same
	// channel is unfinished (see EarlierPending).
	EarlierPending bool
	// TopicThread is the topic's chat thread in the channel, or "".
	TopicThread string
}

// LoadWork reads a delivery with its event's payload, whether it must wait
// for an earlier one, and its topic's thread.
func (q *Queries) LoadWork(ctx context.Context, id int64) (*Work, error) {
	ws, err := q.LoadWorks(ctx, []int64{id})
	if err != nil {
		return nil, err
	}
	w, ok := ws[id]
	if !ok {
		return nil, fmt.Errorf("delivery %d: %w", id, ErrNotFound)
	}
	return w, nil
}

// LoadWorks is LoadWork for many deliveries in one query, so that workers
// starting together share one round trip. Deliveries that no longer exist
// (their channel was deleted) are absent from the map.
func (q *Queries) LoadWorks(ctx context.Context, ids []int64) (map[int64]*Work, error) {
	if len(ids) == 0 {
		return map[int64]*Work{}, nil
	}
	var rows []struct {
		Delivery
		Payload        string
		EarlierPending bool
		TopicThread    *string
	}
	err := scanAll(q.conn(ctx).Raw(`SELECT d.*, e.payload AS payload,
		`+earlierPendingSQL+` AS earlier_pending,
		(SELECT t.thread_id FROM topic_threads t WHERE t.channel_id = d.channel_id AND t.topic_id = d.topic_id) AS topic_thread
		FROM deliveries d JOIN forum_events e ON e.id = d.event_id WHERE d.id IN ?`,
		ids), &rows)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]*Work, len(rows))
	for i := range rows {
		r := &rows[i]
		w := &Work{Delivery: r.Delivery, Payload: r.Payload, EarlierPending: r.EarlierPending}
		if r.TopicThread != nil {
			w.TopicThread = *r.TopicThread
		}
		out[w.ID] = w
	}
	return out, nil
}

// WorkFacts is what a worker needs to know about a delivery besides the
// delivery and its event: whether it must wait its turn and its topic's
// thread (see Work). InsertDeliveries returns them for new deliveries.
type WorkFacts struct {
	EarlierPending bool
	TopicThread    string
}

// Completion is one delivery the platform confirmed.
type Completion struct {
	DeliveryID int64
	ChannelID  int64
	Action     string
	PostID     int64  // 0 for a test message
	TopicID    int64  // 0 for a test message
	MessageID  string // the platform's message id, "" when it gave none
	ThreadID   string
	// RepliedTo is the thread the message was sent into as a reply, ""
	// when it was not a reply. A ThreadID that differs from it means the
	// platform started a new thread (the old root was deleted), which
	// replaces the topic's thread in the channel.
	RepliedTo string
	Extra     string // provider-specific JSON for later edits
	// ClearChannelError clears the channel's last error: the channel works.
	ClearChannelError bool
	// JobID is the queue job to delete with the record, 0 for none. The
	// store does not touch the queue's tables; the caller does.
	JobID int64
}

// CompleteDeliveries records confirmed deliveries with a few multi-row
// statements: the deliveries become DELIVERED (one more attempt), sent
// messages are remembered for edits, new topic threads are recorded,
// deleted messages are forgotten and channels that work again lose their
// error. Call it inside InTx.
func (q *Queries) CompleteDeliveries(ctx context.Context, cs []Completion, at time.Time) error {
	if len(cs) == 0 {
		return nil
	}
	db := q.conn(ctx)
	ids := make([]int64, len(cs))
	var remote, thread strings.Builder
	var remoteArgs, threadArgs []any
	remote.WriteString("CASE id")
	thread.WriteString("CASE id")
	for i, c := range cs {
		ids[i] = c.DeliveryID
		if c.MessageID != "" {
			remote.WriteString(" WHEN ? THEN ?")
			remoteArgs = append(remoteArgs, c.DeliveryID, c.MessageID)
		}
		if c.ThreadID != "" {
			thread.WriteString(" WHEN ? THEN ?")
			threadArgs = append(threadArgs, c.DeliveryID, c.ThreadID)
		}
	}
	sets := ""
	args := []any{StatusDelivered, at, at}
	// A CASE needs at least one WHEN; edits and deletions carry no ids.
	if len(remoteArgs) > 0 {
		remote.WriteString(" ELSE remote_id END")
		sets += ", remote_id = " + remote.String()
		args = append(args, remoteArgs...)
	}
	if len(threadArgs) > 0 {
		thread.WriteString(" ELSE thread_id END")
		sets += ", thread_id = " + thread.String()
		args = append(args, threadArgs...)
	}
	args = append(args, ids)
	if err := db.Exec(`UPDATE deliveries SET status = ?, attempts = attempts + 1, last_error_key = NULL,
		last_error_message = NULL, next_attempt_at = NULL, delivered_at = ?, updated_at = ?`+sets+`
		WHERE id IN ?`, args...).Error; err != nil {
		return err
	}

	type key struct{ ch, id int64 }
	messages := map[key]Completion{}
	threads := map[key]string{}
	type move struct{ from, to string }
	moved := map[key]move{}
	var clear []int64
	for _, c := range cs {
		switch {
		case c.Action == ActionSend && c.MessageID != "" && c.PostID != 0:
			messages[key{c.ChannelID, c.PostID}] = c
		case c.Action == ActionDelete:
			if err := q.DeletePostMessage(ctx, c.ChannelID, c.PostID); err != nil {
				return err
			}
		}
		if c.Action == ActionSend && c.ThreadID != "" && c.TopicID != 0 {
			k := key{c.ChannelID, c.TopicID}
			if c.RepliedTo != "" && c.RepliedTo != c.ThreadID {
				moved[k] = move{c.RepliedTo, c.ThreadID}
			} else if _, ok := threads[k]; !ok {
				threads[k] = c.ThreadID
			}
		}
		if c.ClearChannelError {
			clear = append(clear, c.ChannelID)
		}
	}
	if len(messages) > 0 {
		var sb strings.Builder
		var margs []any
		sb.WriteString(`INSERT INTO post_messages (channel_id, post_id, message_id, thread_id, extra, created_at) VALUES `)
		first := true
		for k, c := range messages {
			if !first {
				sb.WriteString(", ")
			}
			first = false
			sb.WriteString("(?, ?, ?, ?, ?, ?)")
			margs = append(margs, k.ch, k.id, c.MessageID, c.ThreadID, c.Extra, at)
		}
		sb.WriteString(` ON CONFLICT (channel_id, post_id) DO UPDATE SET message_id = excluded.message_id,
			thread_id = excluded.thread_id, extra = excluded.extra`)
		if err := db.Exec(sb.String(), margs...).Error; err != nil {
			return err
		}
	}
	if len(threads) > 0 {
		var sb strings.Builder
		var targs []any
		sb.WriteString(`INSERT INTO topic_threads (channel_id, topic_id, thread_id, created_at) VALUES `)
		first := true
		for k, th := range threads {
			if !first {
				sb.WriteString(", ")
			}
			first = false
			sb.WriteString("(?, ?, ?, ?)")
			targs = append(targs, k.ch, k.id, th, at)
		}
		sb.WriteString(` ON CONFLICT (channel_id, topic_id) DO NOTHING`)
		if err := db.Exec(sb.String(), targs...).Error; err != nil {
			return err
		}
	}
	for k, m := range moved {
		// Only the root the reply was sent to is replaced, so a thread
		// recorded since by another reply is kept.
		if err := db.Exec(`UPDATE topic_threads SET thread_id = ? WHERE channel_id = ? AND topic_id = ? AND thread_id = ?`,
			m.to, k.ch, k.id, m.from).Error; err != nil {
			return err
		}
	}
	if len(clear) > 0 {
		if err := db.Exec(`UPDATE channels SET last_error_key = NULL, last_error_message = NULL, last_error_at = NULL
			WHERE id IN ?`, clear).Error; err != nil {
			return err
		}
	}
	return nil
}

// RequeueFailed turns up to limit FAILED deliveries of a channel created
// at or after since (zero: any time) back into QUEUED with no attempts,
// oldest first, and returns them as they are now. On PostgreSQL the rows
// are locked until the transaction ends, so a concurrent retry of the
// same delivery waits and then finds it no longer FAILED. The caller
// queues their jobs in the same transaction.
func (q *Queries) RequeueFailed(ctx context.Context, channelID int64, since time.Time, limit int) ([]*Delivery, error) {
	ds, err := q.lockOldest(q.failedOf(ctx, channelID, since), limit)
	if err != nil || len(ds) == 0 {
		return nil, err
	}
	ids := make([]int64, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	now := q.db.NowFunc()
	err = q.conn(ctx).Model(&Delivery{}).Where("id IN ?", ids).Updates(map[string]any{
		"status": StatusQueued, "attempts": 0, "next_attempt_at": nil, "updated_at": now}).Error
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		d.Status, d.Attempts, d.NextAttemptAt, d.UpdatedAt = StatusQueued, 0, nil, now
	}
	return ds, nil
}

// CountFailed counts the FAILED deliveries of a channel created at or
// after since (zero: any time).
func (q *Queries) CountFailed(ctx context.Context, channelID int64, since time.Time) (int, error) {
	var n int64
	err := q.failedOf(ctx, channelID, since).Count(&n).Error
	return int(n), err
}

func (q *Queries) failedOf(ctx context.Context, channelID int64, since time.Time) *gorm.DB {
	db := q.conn(ctx).Model(&Delivery{}).Where("channel_id = ? AND status = ?", channelID, StatusFailed)
	if !since.IsZero() {
		db = db.Where("created_at >= ?", since)
	}
	return db
}

// CancelReason is the lastError key of a delivery an admin cancelled.
const CancelReason = "cancelled"

// CancelPending cancels up to limit unfinished (QUEUED or RETRYING)
// deliveries of a channel created before before (zero: any time), oldest
// first, and returns them. The rows are locked on PostgreSQL, so a
// concurrent cancel or retry of the same rows waits instead of repeating
// the change.
func (q *Queries) CancelPending(ctx context.Context, channelID int64, before time.Time, limit int) ([]*Delivery, error) {
	ds, err := q.lockOldest(q.pendingOf(ctx, channelID, before), limit)
	if err != nil || len(ds) == 0 {
		return nil, err
	}
	return ds, q.CancelDeliveries(ctx, ds)
}

// lockOldest reads the oldest limit deliveries sel selects, locked until
// the transaction ends on PostgreSQL (SQLite has one writer).
func (q *Queries) lockOldest(sel *gorm.DB, limit int) ([]*Delivery, error) {
	sel = sel.Order("id").Limit(limit)
	if q.db.Dialector.Name() == "postgres" {
		sel = sel.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var ds []*Delivery
	if err := sel.Find(&ds).Error; err != nil {
		return nil, err
	}
	return ds, nil
}

// CancelDeliveries marks deliveries the caller read and locked CANCELLED,
// with CancelReason as their lastError, and updates ds to match.
func (q *Queries) CancelDeliveries(ctx context.Context, ds []*Delivery) error {
	ids := make([]int64, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	now := q.db.NowFunc()
	key, msg := CancelReason, "cancelled through the admin API"
	err := q.conn(ctx).Model(&Delivery{}).Where("id IN ?", ids).Updates(map[string]any{
		"status": StatusCancelled, "next_attempt_at": nil, "updated_at": now,
		"last_error_key": key, "last_error_message": msg}).Error
	if err != nil {
		return err
	}
	for _, d := range ds {
		d.Status, d.NextAttemptAt, d.UpdatedAt = StatusCancelled, nil, now
		d.LastErrorKey, d.LastErrorMessage = &key, &msg
	}
	return nil
}

// CountPending counts the unfinished deliveries of a channel created
// before before (zero: any time).
func (q *Queries) CountPending(ctx context.Context, channelID int64, before time.Time) (int, error) {
	var n int64
	err := q.pendingOf(ctx, channelID, before).Count(&n).Error
	return int(n), err
}

// pendingOf selects a channel's unfinished deliveries with pendingSQL
// written out, so the partial index of unfinished deliveries serves it.
func (q *Queries) pendingOf(ctx context.Context, channelID int64, before time.Time) *gorm.DB {
	db := q.conn(ctx).Model(&Delivery{}).Where("channel_id = ? AND "+pendingSQL, channelID)
	if !before.IsZero() {
		db = db.Where("created_at < ?", before)
	}
	return db
}

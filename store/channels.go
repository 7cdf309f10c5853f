package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Channel is one room or webhook on one provider. Data holds every
// parameter, secrets decrypted; only the API layer redacts them.
type Channel struct {
	ID        int64
	Provider  string
	Name      string
	Data      map[string]string
	LastError *ChannelError
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ChannelError is the last permanent delivery failure of a channel. Key is
// the stable error key the admin UI translates.
type ChannelError struct {
	Key     string
	Message string
	At      time.Time
}

type channelRow struct {
	ID               int64 `gorm:"primaryKey"`
	Provider         string
	Name             string
	Data             string
	SecretData       []byte
	UniqueHash       *string
	LastErrorKey     *string
	LastErrorMessage *string
	LastErrorAt      *time.Time
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

func (channelRow) TableName() string { return "channels" }

// ListChannelsParams selects a page of channels in id order.
type ListChannelsParams struct {
	Provider string // empty for all providers
	AfterID  int64  // exclusive cursor; 0 from the start
	Limit    int    // 0 for no limit
}

// GetChannel returns a channel by id.
func (q *Queries) GetChannel(ctx context.Context, id int64) (*Channel, error) {
	var row channelRow
	if err := q.conn(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, notFound(err, fmt.Sprintf("channel %d", id))
	}
	return q.channelFromRow(&row)
}

// GetChannelByName returns a channel by its unique name.
func (q *Queries) GetChannelByName(ctx context.Context, name string) (*Channel, error) {
	var row channelRow
	if err := q.conn(ctx).Where("name = ?", name).Take(&row).Error; err != nil {
		return nil, notFound(err, fmt.Sprintf("channel %q", name))
	}
	return q.channelFromRow(&row)
}

// GetChannels returns the channels with the given ids keyed by id; missing
// ids are absent from the map. It serves the per-request data loader.
func (q *Queries) GetChannels(ctx context.Context, ids []int64) (map[int64]*Channel, error) {
	var rows []channelRow
	if err := q.conn(ctx).Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make(map[int64]*Channel, len(rows))
	for i := range rows {
		ch, err := q.channelFromRow(&rows[i])
		if err != nil {
			return nil, err
		}
		out[ch.ID] = ch
	}
	return out, nil
}

// ListChannels returns channels in id order.
func (q *Queries) ListChannels(ctx context.Context, p ListChannelsParams) ([]*Channel, error) {
	db := q.conn(ctx).Order("id")
	if p.Provider != "" {
		db = db.Where("provider = ?", p.Provider)
	}
	if p.AfterID > 0 {
		db = db.Where("id > ?", p.AfterID)
	}
	if p.Limit > 0 {
		db = db.Limit(p.Limit)
	}
	var rows []channelRow
	if err := db.Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]*Channel, 0, len(rows))
	for i := range rows {
		ch, err := q.channelFromRow(&rows[i])
		if err != nil {
			return nil, err
		}
		out = append(out, ch)
	}
	return out, nil
}

// CreateChannel inserts ch and sets its ID and timestamps. A name or
// unique-parameter collision is a *ConflictError.
func (q *Queries) CreateChannel(ctx context.Context, ch *Channel) error {
	row, err := q.channelToRow(ch)
	if err != nil {
		return err
	}
	if err := q.checkChannelConflicts(ctx, row); err != nil {
		return err
	}
	if err := q.conn(ctx).Create(row).Error; err != nil {
		return q.translateChannelErr(ctx, err, row)
	}
	ch.ID, ch.CreatedAt, ch.UpdatedAt = row.ID, row.CreatedAt, row.UpdatedAt
	return nil
}

// UpdateChannel replaces a channel's name and data. The provider of a
// channel never changes.
func (q *Queries) UpdateChannel(ctx context.Context, ch *Channel) error {
	row, err := q.channelToRow(ch)
	if err != nil {
		return err
	}
	if err := q.checkChannelConflicts(ctx, row); err != nil {
		return err
	}
	res := q.conn(ctx).Model(&channelRow{}).Where("id = ?", ch.ID).Updates(map[string]any{
		"name":        row.Name,
		"data":        row.Data,
		"secret_data": row.SecretData,
		"unique_hash": row.UniqueHash,
		"updated_at":  q.db.NowFunc(),
	})
	if res.Error != nil {
		return q.translateChannelErr(ctx, res.Error, row)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("channel %d: %w", ch.ID, ErrNotFound)
	}
	return nil
}

// DeleteChannel deletes a channel and its rules.
func (q *Queries) DeleteChannel(ctx context.Context, id int64) error {
	return q.conn(ctx).Transaction(func(tx *gorm.DB) error {
		// Rules go explicitly as well as by cascade, so the behaviour does
		// not depend on SQLite's foreign_keys pragma.
		if err := tx.Where("channel_id = ?", id).Delete(&ruleRow{}).Error; err != nil {
			return err
		}
		res := tx.Where("id = ?", id).Delete(&channelRow{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("channel %d: %w", id, ErrNotFound)
		}
		return (&Queries{db: tx, crypt: q.crypt, reg: q.reg}).BumpCounter(ctx, CounterRules)
	})
}

// SetChannelError records (or, with nil, clears) a channel's last error.
func (q *Queries) SetChannelError(ctx context.Context, id int64, e *ChannelError) error {
	updates := map[string]any{"last_error_key": nil, "last_error_message": nil, "last_error_at": nil}
	if e != nil {
		updates = map[string]any{"last_error_key": e.Key, "last_error_message": e.Message, "last_error_at": e.At.UTC()}
	}
	res := q.conn(ctx).Model(&channelRow{}).Where("id = ?", id).Updates(updates)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("channel %d: %w", id, ErrNotFound)
	}
	return nil
}

func (q *Queries) checkChannelConflicts(ctx context.Context, row *channelRow) error {
	var n int64
	if err := q.conn(ctx).Model(&channelRow{}).Where("name = ? AND id <> ?", row.Name, row.ID).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return &ConflictError{Field: "name", Message: fmt.Sprintf("a channel named %q already exists", row.Name)}
	}
	if row.UniqueHash == nil {
		return nil
	}
	if err := q.conn(ctx).Model(&channelRow{}).
		Where("provider = ? AND unique_hash = ? AND id <> ?", row.Provider, *row.UniqueHash, row.ID).
		Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return q.uniqueConflict(row.Provider)
	}
	return nil
}

func (q *Queries) uniqueConflict(provider string) error {
	p, _ := q.reg.Get(provider)
	_, unique := paramFlags(p)
	return &ConflictError{
		Field:   "data." + unique[0],
		Message: fmt.Sprintf("another %s channel already has the same %s", provider, strings.Join(unique, " and ")),
	}
}

// translateChannelErr maps a unique-index violation that slipped past the
// pre-check (two writers at once on PostgreSQL) to a ConflictError.
func (q *Queries) translateChannelErr(ctx context.Context, err error, row *channelRow) error {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		var n int64
		if q.conn(ctx).Model(&channelRow{}).Where("name = ? AND id <> ?", row.Name, row.ID).Count(&n); n > 0 {
			return &ConflictError{Field: "name", Message: fmt.Sprintf("a channel named %q already exists", row.Name)}
		}
		return q.uniqueConflict(row.Provider)
	}
	return err
}

func (q *Queries) channelToRow(ch *Channel) (*channelRow, error) {
	p, ok := q.reg.Get(ch.Provider)
	if !ok {
		return nil, fmt.Errorf("store: unknown provider %q", ch.Provider)
	}
	secret, unique := paramFlags(p)
	plain, hidden := map[string]string{}, map[string]string{}
	for k, v := range ch.Data {
		if secret[k] {
			hidden[k] = v
		} else {
			plain[k] = v
		}
	}
	plainJSON, err := json.Marshal(plain)
	if err != nil {
		return nil, err
	}
	row := &channelRow{ID: ch.ID, Provider: ch.Provider, Name: ch.Name, Data: string(plainJSON)}
	if len(hidden) > 0 {
		b, err := json.Marshal(hidden)
		if err != nil {
			return nil, err
		}
		row.SecretData = q.crypt.seal(b, secretsAAD("channels", ch.Provider))
	}
	if len(unique) > 0 {
		h := q.crypt.uniqueHash(ch.Provider, unique, ch.Data)
		row.UniqueHash = &h
	}
	return row, nil
}

func (q *Queries) channelFromRow(row *channelRow) (*Channel, error) {
	data := map[string]string{}
	if err := json.Unmarshal([]byte(row.Data), &data); err != nil {
		return nil, fmt.Errorf("store: channel %d data: %w", row.ID, err)
	}
	if len(row.SecretData) > 0 {
		b, err := q.crypt.open(row.SecretData, secretsAAD("channels", row.Provider))
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, &data); err != nil {
			return nil, fmt.Errorf("store: channel %d secrets: %w", row.ID, err)
		}
	}
	ch := &Channel{ID: row.ID, Provider: row.Provider, Name: row.Name, Data: data, CreatedAt: row.CreatedAt, UpdatedAt: row.UpdatedAt}
	if row.LastErrorKey != nil {
		ch.LastError = &ChannelError{Key: *row.LastErrorKey}
		if row.LastErrorMessage != nil {
			ch.LastError.Message = *row.LastErrorMessage
		}
		if row.LastErrorAt != nil {
			ch.LastError.At = *row.LastErrorAt
		}
	}
	return ch, nil
}

package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Rule routes forum events to a channel. Filter and Type hold the rules
// package's enum values; the store does not interpret them.
type Rule struct {
	ID                   int64
	ChannelID            int64
	Filter               string
	Type                 string
	CategoryID           *int64
	IncludeSubcategories bool
	Tags                 []string // nil means any tags
	GroupName            *string
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

type ruleRow struct {
	ID                   int64 `gorm:"primaryKey"`
	ChannelID            int64
	Filter               string
	Type                 string
	CategoryID           *int64
	IncludeSubcategories bool
	Tags                 *string
	GroupName            *string
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

func (ruleRow) TableName() string { return "rules" }

// GetRule returns a rule by id.
func (q *Queries) GetRule(ctx context.Context, id int64) (*Rule, error) {
	var row ruleRow
	if err := q.conn(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, notFound(err, fmt.Sprintf("rule %d", id))
	}
	return ruleFromRow(&row)
}

// ListRules returns the rules of the given channels in id order; with no
// channel ids it returns every rule.
func (q *Queries) ListRules(ctx context.Context, channelIDs ...int64) ([]*Rule, error) {
	db := q.conn(ctx).Order("id")
	if len(channelIDs) > 0 {
		db = db.Where("channel_id IN ?", channelIDs)
	}
	var rows []ruleRow
	if err := db.Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]*Rule, 0, len(rows))
	for i := range rows {
		r, err := ruleFromRow(&rows[i])
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// CreateRule inserts r and sets its ID and timestamps. The channel must
// exist.
func (q *Queries) CreateRule(ctx context.Context, r *Rule) error {
	if err := q.channelExists(ctx, r.ChannelID); err != nil {
		return err
	}
	row, err := ruleToRow(r)
	if err != nil {
		return err
	}
	if err := q.conn(ctx).Create(row).Error; err != nil {
		return err
	}
	r.ID, r.CreatedAt, r.UpdatedAt = row.ID, row.CreatedAt, row.UpdatedAt
	return q.BumpCounter(ctx, CounterRules)
}

// UpdateRule replaces every field of an existing rule.
func (q *Queries) UpdateRule(ctx context.Context, r *Rule) error {
	if err := q.channelExists(ctx, r.ChannelID); err != nil {
		return err
	}
	row, err := ruleToRow(r)
	if err != nil {
		return err
	}
	res := q.conn(ctx).Model(&ruleRow{}).Where("id = ?", r.ID).Updates(map[string]any{
		"channel_id":            row.ChannelID,
		"filter":                row.Filter,
		"type":                  row.Type,
		"category_id":           row.CategoryID,
		"include_subcategories": row.IncludeSubcategories,
		"tags":                  row.Tags,
		"group_name":            row.GroupName,
		"updated_at":            q.db.NowFunc(),
	})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("rule %d: %w", r.ID, ErrNotFound)
	}
	return q.BumpCounter(ctx, CounterRules)
}

// DeleteRule deletes a rule.
func (q *Queries) DeleteRule(ctx context.Context, id int64) error {
	res := q.conn(ctx).Where("id = ?", id).Delete(&ruleRow{})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("rule %d: %w", id, ErrNotFound)
	}
	return q.BumpCounter(ctx, CounterRules)
}

func (q *Queries) channelExists(ctx context.Context, id int64) error {
	var n int64
	if err := q.conn(ctx).Model(&channelRow{}).Where("id = ?", id).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("channel %d: %w", id, ErrNotFound)
	}
	return nil
}

func ruleToRow(r *Rule) (*ruleRow, error) {
	row := &ruleRow{
		ID:                   r.ID,
		ChannelID:            r.ChannelID,
		Filter:               r.Filter,
		Type:                 r.Type,
		CategoryID:           r.CategoryID,
		IncludeSubcategories: r.IncludeSubcategories,
		GroupName:            r.GroupName,
	}
	if len(r.Tags) > 0 {
		b, err := json.Marshal(r.Tags)
		if err != nil {
			return nil, err
		}
		s := string(b)
		row.Tags = &s
	}
	return row, nil
}

func ruleFromRow(row *ruleRow) (*Rule, error) {
	r := &Rule{
		ID:                   row.ID,
		ChannelID:            row.ChannelID,
		Filter:               row.Filter,
		Type:                 row.Type,
		CategoryID:           row.CategoryID,
		IncludeSubcategories: row.IncludeSubcategories,
		GroupName:            row.GroupName,
		CreatedAt:            row.CreatedAt,
		UpdatedAt:            row.UpdatedAt,
	}
	if row.Tags != nil {
		if err := json.Unmarshal([]byte(*row.Tags), &r.Tags); err != nil {
			return nil, fmt.Errorf("store: rule %d tags: %w", row.ID, err)
		}
		if len(r.Tags) == 0 {
			r.Tags = nil
		}
	}
	return r, nil
}

package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"
)

// APIKeyPrefix starts every generated key, so a leaked key is easy to
// recognise in logs and by secret scanners.
const APIKeyPrefix = "csk_"

// APIKey is an admin API key. Only a SHA-256 hash of the key is stored:
// keys are 256-bit random values, so a fast hash is safe and lets every
// request be checked with one indexed lookup.
type APIKey struct {
	ID         int64
	Name       string
	Prefix     string // the first characters of the key, to tell keys apart
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

type apiKeyRow struct {
	ID         int64 `gorm:"primaryKey"`
	Name       string
	Prefix     string
	Hash       string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

func (apiKeyRow) TableName() string { return "api_keys" }

// HashAPIKey returns the stored form of a key.
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// CreateAPIKey generates a key, stores its hash and returns the key itself,
// which is shown once and never again.
func (q *Queries) CreateAPIKey(ctx context.Context, name string) (string, *APIKey, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	key := APIKeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	row := apiKeyRow{Name: name, Prefix: key[:len(APIKeyPrefix)+6], Hash: HashAPIKey(key)}
	if err := q.conn(ctx).Create(&row).Error; err != nil {
		return "", nil, fmt.Errorf("store: create api key: %w", err)
	}
	return key, apiKeyFromRow(&row), nil
}

// FindAPIKey returns the key with the given plaintext, revoked or not.
func (q *Queries) FindAPIKey(ctx context.Context, key string) (*APIKey, error) {
	var row apiKeyRow
	if err := q.conn(ctx).Where("hash = ?", HashAPIKey(key)).Take(&row).Error; err != nil {
		return nil, notFound(err, "api key")
	}
	return apiKeyFromRow(&row), nil
}

// ListAPIKeys returns every key in creation order.
func (q *Queries) ListAPIKeys(ctx context.Context) ([]*APIKey, error) {
	var rows []apiKeyRow
	if err := q.conn(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]*APIKey, len(rows))
	for i := range rows {
		out[i] = apiKeyFromRow(&rows[i])
	}
	return out, nil
}

// RevokeAPIKey marks a key revoked; it stops working at once.
func (q *Queries) RevokeAPIKey(ctx context.Context, id int64) error {
	res := q.conn(ctx).Model(&apiKeyRow{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", q.db.NowFunc())
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("active api key %d: %w", id, ErrNotFound)
	}
	return nil
}

// TouchAPIKey records when a key was last used.
func (q *Queries) TouchAPIKey(ctx context.Context, id int64, at time.Time) error {
	return q.conn(ctx).Model(&apiKeyRow{}).Where("id = ?", id).Update("last_used_at", at.UTC()).Error
}

func apiKeyFromRow(row *apiKeyRow) *APIKey {
	return &APIKey{ID: row.ID, Name: row.Name, Prefix: row.Prefix, CreatedAt: row.CreatedAt, LastUsedAt: row.LastUsedAt, RevokedAt: row.RevokedAt}
}

package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"github.com/chatsidecar/chatsidecar/providers"
)

// ProviderConfig is the stored configuration of one provider. Settings
// holds every value, secrets decrypted; only the API layer redacts.
type ProviderConfig struct {
	ProviderID string
	Enabled    bool
	Settings   map[string]any
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

type providerConfigRow struct {
	ProviderID string `gorm:"primaryKey"`
	Enabled    bool
	Settings   string
	Secrets    []byte
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (providerConfigRow) TableName() string { return "provider_configs" }

func secretsAAD(table, key string) string { return table + ":" + key }

// GetProviderConfig returns the configuration of one provider, or
// ErrNotFound when it was never configured.
func (q *Queries) GetProviderConfig(ctx context.Context, id string) (*ProviderConfig, error) {
	var row providerConfigRow
	if err := q.conn(ctx).Where("provider_id = ?", id).Take(&row).Error; err != nil {
		return nil, notFound(err, "provider "+id)
	}
	return q.providerConfigFromRow(&row)
}

// ListProviderConfigs returns every configured provider keyed by id.
func (q *Queries) ListProviderConfigs(ctx context.Context) (map[string]*ProviderConfig, error) {
	var rows []providerConfigRow
	if err := q.conn(ctx).Order("provider_id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make(map[string]*ProviderConfig, len(rows))
	for i := range rows {
		pc, err := q.providerConfigFromRow(&rows[i])
		if err != nil {
			return nil, err
		}
		out[pc.ProviderID] = pc
	}
	return out, nil
}

// PutProviderConfig inserts or replaces a provider's configuration. The
// caller has validated the settings.
func (q *Queries) PutProviderConfig(ctx context.Context, pc *ProviderConfig) error {
	p, ok := q.reg.Get(pc.ProviderID)
	if !ok {
		return fmt.Errorf("store: unknown provider %q", pc.ProviderID)
	}
	secret := make(map[string]bool)
	for _, s := range p.Settings() {
		secret[s.Key] = s.Secret
	}
	plain, hidden := map[string]any{}, map[string]any{}
	for k, v := range pc.Settings {
		if secret[k] {
			hidden[k] = v
		} else {
			plain[k] = v
		}
	}
	plainJSON, err := json.Marshal(plain)
	if err != nil {
		return err
	}
	row := providerConfigRow{ProviderID: pc.ProviderID, Enabled: pc.Enabled, Settings: string(plainJSON)}
	if len(hidden) > 0 {
		b, err := json.Marshal(hidden)
		if err != nil {
			return err
		}
		row.Secrets = q.crypt.seal(b, secretsAAD("provider_configs", pc.ProviderID))
	}
	now := q.db.NowFunc()
	row.CreatedAt, row.UpdatedAt = now, now
	if !pc.CreatedAt.IsZero() {
		row.CreatedAt = pc.CreatedAt
	}
	err = q.conn(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "provider_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"enabled", "settings", "secrets", "updated_at"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("store: save provider %s: %w", pc.ProviderID, err)
	}
	pc.CreatedAt, pc.UpdatedAt = row.CreatedAt, row.UpdatedAt
	// Enabling or disabling a provider changes which channels receive.
	return q.BumpCounter(ctx, CounterRules)
}

func (q *Queries) providerConfigFromRow(row *providerConfigRow) (*ProviderConfig, error) {
	settings := map[string]any{}
	if err := decodeJSON([]byte(row.Settings), &settings); err != nil {
		return nil, fmt.Errorf("store: provider %s settings: %w", row.ProviderID, err)
	}
	if len(row.Secrets) > 0 {
		b, err := q.crypt.open(row.Secrets, secretsAAD("provider_configs", row.ProviderID))
		if err != nil {
			return nil, err
		}
		if err := decodeJSON(b, &settings); err != nil {
			return nil, fmt.Errorf("store: provider %s secrets: %w", row.ProviderID, err)
		}
	}
	return &ProviderConfig{
		ProviderID: row.ProviderID,
		Enabled:    row.Enabled,
		Settings:   settings,
		CreatedAt:  row.CreatedAt,
		UpdatedAt:  row.UpdatedAt,
	}, nil
}

// decodeJSON keeps numbers as json.Number so integers survive exactly.
func decodeJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

// paramFlags returns which of a provider's channel parameters are secret
// and the ordered keys of its unique parameters.
func paramFlags(p providers.Provider) (secret map[string]bool, unique []string) {
	secret = make(map[string]bool)
	for _, prm := range p.Params() {
		secret[prm.Key] = prm.Secret
		if prm.Unique {
			unique = append(unique, prm.Key)
		}
	}
	return secret, unique
}

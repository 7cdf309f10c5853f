package config_test

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/config"
	"github.com/chatsidecar/chatsidecar/store"
)

func TestParseRetention(t *testing.T) {
	t.Parallel()
	good := map[string]time.Duration{
		"0":     0,
		"30d":   30 * 24 * time.Hour,
		"1d":    24 * time.Hour,
		"720h":  720 * time.Hour,
		"1h":    time.Hour,
		"90m0s": 90 * time.Minute,
	}
	for in, want := range good {
		got, err := config.ParseRetention(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "30", "0d", "-1d", "1.5d", "d", "59m", "-1h", "forever", "36501d"} {
		_, err := config.ParseRetention(in)
		require.Error(t, err, in)
	}
}

func TestRetentionSetting(t *testing.T) {
	t.Parallel()
	load := func(env map[string]string) (*config.Config, error) {
		cfg, _, err := config.Load("serve", nil, func(k string) string { return env[k] }, io.Discard)
		return cfg, err
	}
	cfg, err := load(nil)
	require.NoError(t, err)
	require.Equal(t, 30*24*time.Hour, cfg.Retention, "history is bounded by default")

	cfg, err = load(map[string]string{"CHATSIDECAR_RETENTION": "0"})
	require.NoError(t, err)
	require.Zero(t, cfg.Retention)

	_, err = load(map[string]string{"CHATSIDECAR_RETENTION": "soon"})
	require.Error(t, err)
	require.True(t, strings.Contains(err.Error(), "CHATSIDECAR_RETENTION"), "the error names the variable: %v", err)
}

func TestDatabaseMaxConnsSetting(t *testing.T) {
	t.Parallel()
	load := func(v string) (*config.Config, error) {
		cfg, _, err := config.Load("serve", nil, func(k string) string {
			if k == "CHATSIDECAR_DATABASE_MAX_CONNS" {
				return v
			}
			return ""
		}, io.Discard)
		return cfg, err
	}
	cfg, err := load("")
	require.NoError(t, err)
	require.Equal(t, store.DefaultMaxConns, cfg.DatabaseMaxConns, "the default is the store's")
	cfg, err = load("32")
	require.NoError(t, err)
	require.Equal(t, 32, cfg.DatabaseMaxConns)
	for _, bad := range []string{"7", "1001", "many", "-1"} {
		_, err := load(bad)
		require.Error(t, err, bad)
		require.Contains(t, err.Error(), "CHATSIDECAR_DATABASE_MAX_CONNS", bad)
	}
}

// Package storetest gives tests real databases: a fresh SQLite file always,
// and a fresh PostgreSQL database when CHATSIDECAR_TEST_DATABASE_URL is set.
// Each PostgreSQL database has a unique name and is dropped when the test
// ends, so tests run in parallel and CI leaves nothing behind.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for creating and dropping test databases

	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/store"
)

// EnvDatabaseURL names the variable that enables PostgreSQL tests. It points
// at a server where the user may create databases, e.g.
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable.
const EnvDatabaseURL = "CHATSIDECAR_TEST_DATABASE_URL"

// DB is one database a test can run against.
type DB struct {
	Name string // "sqlite" or "postgres", for subtest names
	URL  string // what CHATSIDECAR_DATABASE_URL would hold
}

// Databases returns a fresh SQLite database, plus a fresh PostgreSQL
// database when EnvDatabaseURL is set (logging once that PostgreSQL is
// skipped otherwise).
func Databases(t testing.TB) []DB {
	t.Helper()
	dbs := []DB{SQLite(t)}
	if pg, ok := Postgres(t); ok {
		dbs = append(dbs, pg)
	}
	return dbs
}

// SQLite returns a database file in a temporary directory.
func SQLite(t testing.TB) DB {
	t.Helper()
	return DB{Name: "sqlite", URL: filepath.Join(t.TempDir(), "chatsidecar.db")}
}

// Postgres creates a uniquely named database and drops it when the test
// ends. ok is false (and the test logs why) when EnvDatabaseURL is unset.
func Postgres(t testing.TB) (DB, bool) {
	t.Helper()
	base := os.Getenv(EnvDatabaseURL)
	if base == "" {
		t.Logf("PostgreSQL skipped: set %s to run this test on PostgreSQL too", EnvDatabaseURL)
		return DB{}, false
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("storetest: open %s: %v", EnvDatabaseURL, err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "chatsidecar_test_" + hex.EncodeToString(b)
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("storetest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("storetest: drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("storetest: %s is not a URL: %v", EnvDatabaseURL, err)
	}
	u.Path = "/" + name
	return DB{Name: "postgres", URL: u.String()}, true
}

// Key is a fixed secret key for tests.
func Key() []byte { return []byte(strings.Repeat("k", 32)) }

// Open opens and migrates a store on db, closing it when the test ends.
func Open(t testing.TB, db DB, reg *providers.Registry) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), store.Options{DatabaseURL: db.URL, SecretKey: Key(), Providers: reg})
	if err != nil {
		t.Fatalf("storetest: open %s: %v", db.Name, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("storetest: migrate %s: %v", db.Name, err)
	}
	return s
}

// Each runs fn as a subtest on every database of Databases.
func Each(t *testing.T, fn func(t *testing.T, db DB)) {
	t.Helper()
	for _, db := range Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			fn(t, db)
		})
	}
}

package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/chatsidecar/chatsidecar/store"
)

// ErrUnauthenticated means the caller presented no API key, an unknown key
// or a revoked one. The three cases are deliberately indistinguishable to
// the caller so a guesser learns nothing.
var ErrUnauthenticated = errors.New("a valid API key is required")

// touchInterval is how often at most the last-use time of a key is
// written. A key used by a busy script would otherwise cost one database
// write per request; a minute is precise enough to spot stale keys.
const touchInterval = time.Minute

// maxKeyLength bounds what is hashed and looked up. Generated keys are 47
// characters and bootstrap keys are typed by operators, so anything longer
// is garbage that should not cost a database round trip.
const maxKeyLength = 512

// BootstrapPrincipalName is the Principal name of the configured
// CHATSIDECAR_ADMIN_API_KEY, which has no row in the database.
const BootstrapPrincipalName = "bootstrap"

// Principal is who made a request: a stored API key, or the bootstrap key
// from the configuration (KeyID 0).
type Principal struct {
	KeyID int64  // the API key's id; 0 for the bootstrap key
	Name  string // the key's name, for audit logs
}

type principalKey struct{}

// PrincipalFrom returns the caller that Authenticate attached to ctx. ok is
// false for an unauthenticated context, which callers must treat as "no
// access" rather than as an anonymous admin.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Authenticator checks admin API keys. It is shared by the HTTP middleware
// and the GraphQL WebSocket connection_init handler so both paths accept
// exactly the same keys. It is safe for concurrent use.
type Authenticator struct {
	store        *store.Store
	hasBootstrap bool
	bootstrap    [sha256.Size]byte // hash of the bootstrap key; the key itself is not kept
	log          *slog.Logger
	now          func() time.Time

	mu      sync.Mutex
	touched map[int64]time.Time // key id → last time its last-use was written
}

// NewAuthenticator returns an Authenticator for the keys in s plus the
// optional bootstrap key (empty disables it). log may be nil.
func NewAuthenticator(s *store.Store, bootstrapKey string, log *slog.Logger) *Authenticator {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &Authenticator{store: s, log: log, now: time.Now, touched: map[int64]time.Time{}}
	if bootstrapKey != "" {
		a.hasBootstrap = true
		a.bootstrap = sha256.Sum256([]byte(bootstrapKey))
	}
	return a
}

// Authenticate returns ctx carrying the Principal that key belongs to, or
// ErrUnauthenticated. Any other error is a failure to check (the database
// is unreachable) and must not be reported to the caller as a bad key.
//
// The bootstrap key is compared in constant time over SHA-256 digests, so
// neither its content nor its length leaks through timing. Stored keys are
// looked up by their hash, which the database index compares; the
// plaintext never reaches the database or the logs.
func (a *Authenticator) Authenticate(ctx context.Context, key string) (context.Context, error) {
	if key == "" || len(key) > maxKeyLength {
		return ctx, ErrUnauthenticated
	}
	if a.hasBootstrap {
		sum := sha256.Sum256([]byte(key))
		if subtle.ConstantTimeCompare(sum[:], a.bootstrap[:]) == 1 {
			return context.WithValue(ctx, principalKey{}, Principal{Name: BootstrapPrincipalName}), nil
		}
	}
	k, err := a.store.FindAPIKey(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return ctx, ErrUnauthenticated
	}
	if err != nil {
		return ctx, fmt.Errorf("check api key: %w", err)
	}
	if k.RevokedAt != nil {
		return ctx, ErrUnauthenticated
	}
	a.touch(ctx, k.ID)
	return context.WithValue(ctx, principalKey{}, Principal{KeyID: k.ID, Name: k.Name}), nil
}

// touch records the key's last use unless that was done less than
// touchInterval ago. The slot is claimed before the write, so concurrent
// requests with the same key write once. A failed write is logged and not
// retried until the interval passes: last-use is informational and must
// never fail a request.
func (a *Authenticator) touch(ctx context.Context, id int64) {
	now := a.now()
	a.mu.Lock()
	last, seen := a.touched[id]
	if seen && now.Sub(last) < touchInterval {
		a.mu.Unlock()
		return
	}
	a.touched[id] = now
	a.mu.Unlock()
	if err := a.store.TouchAPIKey(ctx, id, now); err != nil {
		a.log.WarnContext(ctx, "could not record api key use", "key_id", id, "error", err)
	}
}

// KeyFromRequest returns the API key of r from `Authorization: Bearer
// <key>` (the scheme is case-insensitive, as HTTP requires) or, as Discourse
// sends it, `Api-Key: <key>`. It returns "" when neither is present; an
// Authorization header with another scheme (Basic) does not count.
func KeyFromRequest(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			if key := strings.TrimSpace(token); key != "" {
				return key
			}
		}
	}
	return strings.TrimSpace(r.Header.Get("Api-Key"))
}

// Package config holds the sidecar's one configuration struct. It is the
// only package that reads the environment or command-line flags; everything
// else receives a Config (or the parts it needs) from main.
package config

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults. Each one is what `chatsidecar serve` does with no configuration.
const (
	// DefaultListen binds to loopback so a fresh install is not exposed.
	DefaultListen = "127.0.0.1:8080"
	// DefaultDatabaseURL is an embedded SQLite file in the working directory.
	DefaultDatabaseURL = "chatsidecar.db"
	// DefaultDataDir is where a generated secret key is kept.
	DefaultDataDir = "."
	// DefaultDiscourseAPIUsername is the user the sidecar acts as, as in the
	// reference plugin.
	DefaultDiscourseAPIUsername = "system"
	// DefaultShutdownTimeout bounds how long serve drains in-flight work.
	DefaultShutdownTimeout = 30 * time.Second
)

// Config is every setting of the sidecar. Each field is set from an
// environment variable and may be overridden by the flag of the same name
// (CHATSIDECAR_LISTEN ↔ --listen).
type Config struct {
	Listen                 string
	DatabaseURL            string
	DataDir                string
	PublicURL              string
	AdminAPIKey            string
	SecretKey              []byte // 32 bytes, or nil to use/generate the key file in DataDir
	DiscourseURL           string
	DiscourseAPIKey        string
	DiscourseAPIUsername   string
	DiscourseWebhookSecret string
	LogLevel               slog.Level
	LogFormat              string // text or json
	// OutboundAllowPrivate lets deliveries connect to non-public
	// addresses (providers.ClientOptions.AllowPrivate); off, they fail
	// with destination_refused.
	OutboundAllowPrivate bool
	ShutdownTimeout      time.Duration
	// DeliveryWorkers is how many deliveries this process runs at once;
	// 0 makes an intake-only replica that leaves delivery to others.
	DeliveryWorkers int
	// DeliveryLease is how long a delivery this process accepted and
	// sends itself is out of other workers' reach; after a crash, any
	// replica sends it once the lease ends (delivery.Options.Lease).
	DeliveryLease time.Duration
	// DatabaseMaxConns bounds the pooled PostgreSQL connections of this
	// process (store.Options.MaxConns).
	DatabaseMaxConns int
	// Retention is how long finished deliveries and their forum events
	// are kept (delivery.Options.Retention); 0 keeps them forever.
	Retention time.Duration
	// CatchUpInterval is how often missed posts are looked for through
	// the Discourse API (only when the API is configured).
	CatchUpInterval time.Duration
}

// Error is an invalid setting. Var names the environment variable so the
// operator knows exactly what to fix; main exits with status 2.
type Error struct {
	Var string
	Msg string
}

func (e *Error) Error() string { return e.Var + ": " + e.Msg }

// variable describes one setting: its environment name, flag name, default
// and how to parse it into the Config.
type variable struct {
	env   string
	flag  string
	def   string
	usage string
	set   func(c *Config, v string) error
}

func variables() []variable {
	return []variable{
		{"CHATSIDECAR_LISTEN", "listen", DefaultListen, "HTTP listen address", setListen},
		{"CHATSIDECAR_DATABASE_URL", "database-url", DefaultDatabaseURL, "SQLite file path or postgres:// URL", setDatabaseURL},
		{"CHATSIDECAR_DATA_DIR", "data-dir", DefaultDataDir, "directory for the generated secret key", func(c *Config, v string) error {
			if v == "" {
				return errors.New("must not be empty")
			}
			c.DataDir = v
			return nil
		}},
		{"CHATSIDECAR_PUBLIC_URL", "public-url", "", "URL at which chat platforms and Discourse reach this server", func(c *Config, v string) error {
			return setURL(&c.PublicURL, v)
		}},
		{"CHATSIDECAR_ADMIN_API_KEY", "admin-api-key", "", "bootstrap admin API key (at least 16 characters)", func(c *Config, v string) error {
			if v != "" && len(v) < 16 {
				return errors.New("must be at least 16 characters")
			}
			c.AdminAPIKey = v
			return nil
		}},
		{"CHATSIDECAR_SECRET_KEY", "secret-key", "", "32-byte key (base64 or hex) that encrypts secrets at rest", setSecretKey},
		{"CHATSIDECAR_DISCOURSE_URL", "discourse-url", "", "base URL of the Discourse forum", func(c *Config, v string) error {
			return setURL(&c.DiscourseURL, strings.TrimRight(v, "/"))
		}},
		{"CHATSIDECAR_DISCOURSE_API_KEY", "discourse-api-key", "", "Discourse API key", func(c *Config, v string) error {
			c.DiscourseAPIKey = v
			return nil
		}},
		{"CHATSIDECAR_DISCOURSE_API_USERNAME", "discourse-api-username", DefaultDiscourseAPIUsername, "Discourse user the API key acts as", func(c *Config, v string) error {
			if v == "" {
				return errors.New("must not be empty")
			}
			c.DiscourseAPIUsername = v
			return nil
		}},
		{"CHATSIDECAR_DISCOURSE_WEBHOOK_SECRET", "discourse-webhook-secret", "", "secret of the Discourse webhook (at least 12 characters)", func(c *Config, v string) error {
			if v != "" && len(v) < 12 {
				return errors.New("must be at least 12 characters (Discourse's own minimum)")
			}
			c.DiscourseWebhookSecret = v
			return nil
		}},
		{"CHATSIDECAR_LOG_LEVEL", "log-level", "info", "debug, info, warn or error", func(c *Config, v string) error {
			return c.LogLevel.UnmarshalText([]byte(v))
		}},
		{"CHATSIDECAR_LOG_FORMAT", "log-format", "text", "text or json", func(c *Config, v string) error {
			if v != "text" && v != "json" {
				return errors.New(`must be "text" or "json"`)
			}
			c.LogFormat = v
			return nil
		}},
		{"CHATSIDECAR_OUTBOUND_ALLOW_PRIVATE", "outbound-allow-private", "false", "let deliveries connect to loopback, private, link-local and other non-public addresses", func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return errors.New("must be true or false")
			}
			c.OutboundAllowPrivate = b
			return nil
		}},
		{"CHATSIDECAR_DATABASE_MAX_CONNS", "database-max-conns", "16", "PostgreSQL connections this process pools for its own queries; it opens up to 9 more (8 for the delivery queue, 1 for notifications)", func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 8 || n > 1000 {
				return errors.New("must be an integer between 8 and 1000")
			}
			c.DatabaseMaxConns = n
			return nil
		}},
		{"CHATSIDECAR_DELIVERY_WORKERS", "delivery-workers", "256", "deliveries run at once by this process; 0 for an intake-only replica", func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 10000 {
				return errors.New("must be an integer between 0 and 10000")
			}
			c.DeliveryWorkers = n
			return nil
		}},
		{"CHATSIDECAR_DELIVERY_LEASE", "delivery-lease", "30s", "how long a delivery this process accepted is reserved for its own workers; a crashed process's deliveries are taken over within seconds, or once this passes when its death cannot be told", func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < 100*time.Millisecond || d > time.Hour {
				return errors.New("must be a duration between 100ms and 1h, such as 30s")
			}
			c.DeliveryLease = d
			return nil
		}},
		{"CHATSIDECAR_RETENTION", "retention", "30d", "how long forum events and their finished deliveries are kept, such as 30d or 720h; 0 keeps them forever", func(c *Config, v string) error {
			d, err := ParseRetention(v)
			if err != nil {
				return err
			}
			c.Retention = d
			return nil
		}},
		{"CHATSIDECAR_CATCHUP_INTERVAL", "catchup-interval", "5m", "how often to look for posts whose webhook never arrived (needs the Discourse API)", func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < time.Second {
				return errors.New("must be a duration of at least 1s, such as 5m")
			}
			c.CatchUpInterval = d
			return nil
		}},
		{"CHATSIDECAR_SHUTDOWN_TIMEOUT", "shutdown-timeout", DefaultShutdownTimeout.String(), "how long to drain work on shutdown", func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return errors.New("must be a positive duration such as 30s")
			}
			c.ShutdownTimeout = d
			return nil
		}},
	}
}

// Load builds a Config from the environment (through getenv) and the flags
// in args; a flag wins over its variable. It returns the remaining
// positional arguments. Every invalid setting is reported as an *Error.
func Load(name string, args []string, getenv func(string) string, output io.Writer) (*Config, []string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(output)
	vars := variables()
	values := make([]*string, len(vars))
	for i, v := range vars {
		def := v.def
		if e := getenv(v.env); e != "" {
			def = e
		}
		values[i] = fs.String(v.flag, def, v.usage+" ("+v.env+")")
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	c := &Config{}
	for i, v := range vars {
		if err := v.set(c, strings.TrimSpace(*values[i])); err != nil {
			return nil, nil, &Error{Var: v.env, Msg: err.Error()}
		}
	}
	if (c.DiscourseAPIKey == "") != (c.DiscourseURL == "") {
		return nil, nil, &Error{Var: "CHATSIDECAR_DISCOURSE_API_KEY", Msg: "set together with CHATSIDECAR_DISCOURSE_URL"}
	}
	return c, fs.Args(), nil
}

// Usage lists every variable with its flag and default, for --help output
// and the README.
func Usage(w io.Writer) {
	for _, v := range variables() {
		fmt.Fprintf(w, "  %-38s --%-26s %s (default %q)\n", v.env, v.flag, v.usage, v.def)
	}
}

func setListen(c *Config, v string) error {
	if _, _, err := net.SplitHostPort(v); err != nil {
		return fmt.Errorf("must be host:port: %v", err)
	}
	c.Listen = v
	return nil
}

func setDatabaseURL(c *Config, v string) error {
	if v == "" {
		return errors.New("must not be empty")
	}
	if IsPostgres(v) {
		if _, err := url.Parse(v); err != nil {
			return errors.New("is not a valid postgres URL")
		}
	}
	c.DatabaseURL = v
	return nil
}

// IsPostgres reports whether a database URL selects PostgreSQL; anything
// else is a SQLite file.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

func setURL(dst *string, v string) error {
	if v == "" {
		*dst = ""
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("must be an http(s) URL")
	}
	*dst = v
	return nil
}

// ParseRetention reads a retention: a whole number of days ("30d"), a Go
// duration of at least an hour ("720h"), or "0" for no limit. Days are
// accepted because retention is thought of in days and Go durations have
// no unit for them.
func ParseRetention(v string) (time.Duration, error) {
	bad := errors.New("must be a number of days such as 30d, a duration of at least 1h such as 720h, or 0 to keep everything")
	if v == "0" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 || n > 36500 {
			return 0, bad
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Hour {
		return 0, bad
	}
	return d, nil
}

// ParseSecretKey decodes a 32-byte key written as base64 (standard or URL
// alphabet, padded or not) or as 64 hex digits.
func ParseSecretKey(v string) ([]byte, error) {
	if len(v) == 64 {
		if b, err := hex.DecodeString(v); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, errors.New("must be 32 bytes written as base64 or 64 hex digits (generate one with `openssl rand -base64 32`)")
}

func setSecretKey(c *Config, v string) error {
	if v == "" {
		return nil
	}
	b, err := ParseSecretKey(v)
	if err != nil {
		return err
	}
	c.SecretKey = b
	return nil
}

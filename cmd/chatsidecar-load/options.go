package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/url"
	"strings"
	"time"
)

// Limits on the flags. maxEvents keeps every post id of a run below
// 2^31 (see newIDBase), because Discourse's own ids are 32-bit integers
// and a server may store them that way.
const (
	maxEvents   = 100_000_000
	maxChannels = 1000
)

// options are the parsed and validated flags of one run.
type options struct {
	server        string // base URL without a trailing slash
	apiKey        string
	webhookSecret string
	instance      string // X-Discourse-Instance
	events        int
	warmup        int     // the first warmup events are not measured
	rate          float64 // events per second; 0 is as fast as possible
	concurrency   int
	channels      int
	categoryID    int
	sinkListen    string
	sinkURL       string // "" derives it from the listener's address
	sinkLatency   time.Duration
	sink429       float64
	sinkSeed      uint64 // 0 draws the 429 decisions from a random seed
	serverPID     int    // 0 samples no RSS
	timeout       time.Duration
	settle        time.Duration
	progress      time.Duration // 0 prints no progress lines
	keep          bool
	// expectRestarts: the server is killed and restarted during the run.
	expectRestarts bool
	enable         bool
	jsonOut        bool
}

// usageError is a problem with the command line: nothing was done, and
// run exits with exitUsage.
type usageError struct {
	msg string
	// printed is set when the flag package has already told the user.
	printed bool
}

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error {
	return &usageError{msg: fmt.Sprintf(format, a...)}
}

// parseOptions parses args. The API key and webhook secret fall back to
// the environment variables the server itself reads, so they need not
// appear on a command line that other users can see in ps.
// flag.ErrHelp is returned as is for -h.
func parseOptions(args []string, getenv func(string) string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("chatsidecar-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.server, "server", "http://127.0.0.1:8080", "base URL of the running chatsidecar server")
	fs.StringVar(&o.apiKey, "api-key", "", "admin API key for the GraphQL API (default: $CHATSIDECAR_ADMIN_API_KEY)")
	fs.StringVar(&o.webhookSecret, "webhook-secret", "", "Discourse webhook secret the server was started with (default: $CHATSIDECAR_DISCOURSE_WEBHOOK_SECRET)")
	fs.StringVar(&o.instance, "instance", "https://forum.example.org", "X-Discourse-Instance header: the forum's base URL")
	fs.IntVar(&o.events, "events", 10000, "number of post_created webhooks to send")
	fs.IntVar(&o.warmup, "warmup", 0, "how many of the --events warm the server up first: sent and checked for loss, but left out of the rates and latencies")
	fs.Float64Var(&o.rate, "rate", 0, "target webhooks per second (0 = as fast as --concurrency allows)")
	fs.IntVar(&o.concurrency, "concurrency", 32, "webhook requests in flight at once")
	fs.IntVar(&o.channels, "channels", 1, "sink channels; every event is delivered to each")
	fs.IntVar(&o.categoryID, "category-id", 1, "Discourse category of the posts and of the rules")
	fs.StringVar(&o.sinkListen, "sink-listen", "127.0.0.1:0", "address the chat sink listens on")
	fs.StringVar(&o.sinkURL, "sink-url", "", "URL the server reaches the sink at (default: http://<sink-listen address>)")
	fs.DurationVar(&o.sinkLatency, "sink-latency", 0, "how long the sink waits before answering a delivery")
	fs.Float64Var(&o.sink429, "sink-429", 0, "fraction of sink requests answered 429 with Retry-After: 1 (0 to <1)")
	fs.Uint64Var(&o.sinkSeed, "sink-seed", 0, "seed of the sink's 429 decisions, for a repeatable pattern (0 = random)")
	fs.IntVar(&o.serverPID, "server-pid", 0, "PID of the server process, to sample its RSS from /proc every 100ms")
	fs.DurationVar(&o.timeout, "timeout", 2*time.Minute, "how long to wait for all deliveries once sending is done")
	fs.DurationVar(&o.settle, "settle", time.Second, "how long to keep listening for late duplicates once every delivery arrived")
	fs.DurationVar(&o.progress, "progress", 5*time.Second, "interval of progress lines on stderr (0 = none)")
	fs.BoolVar(&o.expectRestarts, "expect-restarts", false, "the server is killed and restarted during the run: webhooks it did not accept are owed nothing, and resends repeating a delivery id are allowed; a loss still fails the run")
	fs.BoolVar(&o.keep, "keep", false, "keep the channels (and the provider's enabled state) after the run")
	fs.BoolVar(&o.enable, "enable-provider", true, "enable the webhook provider for the run if it is disabled")
	fs.BoolVar(&o.jsonOut, "json", false, "print the report as JSON")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: chatsidecar-load [flags]\n\n"+
			"Sends signed Discourse post_created webhooks to a running chatsidecar server and\n"+
			"measures delivery to a local chat sink. Exit status: 0 all delivered once,\n"+
			"1 the run failed, 2 bad usage, 3 deliveries were lost or duplicated or webhooks\n"+
			"refused.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		// The flag package has already printed the problem and the usage.
		return nil, &usageError{msg: err.Error(), printed: true}
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected argument %q", fs.Arg(0))
	}
	if o.apiKey == "" {
		o.apiKey = getenv("CHATSIDECAR_ADMIN_API_KEY")
	}
	if o.webhookSecret == "" {
		o.webhookSecret = getenv("CHATSIDECAR_DISCOURSE_WEBHOOK_SECRET")
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	return o, nil
}

// validate checks the options and normalises the URLs.
func (o *options) validate() error {
	server, err := baseURL(o.server)
	if err != nil {
		return usagef("--server: %v", err)
	}
	o.server = server
	if o.sinkURL != "" {
		if o.sinkURL, err = baseURL(o.sinkURL); err != nil {
			return usagef("--sink-url: %v", err)
		}
	}
	switch {
	case o.apiKey == "":
		return usagef("--api-key (or CHATSIDECAR_ADMIN_API_KEY) is required")
	case o.webhookSecret == "":
		return usagef("--webhook-secret (or CHATSIDECAR_DISCOURSE_WEBHOOK_SECRET) is required")
	case o.events < 1 || o.events > maxEvents:
		return usagef("--events must be between 1 and %d", maxEvents)
	case o.warmup < 0 || o.warmup >= o.events:
		return usagef("--warmup must be at least 0 and below --events")
	case math.IsNaN(o.rate) || math.IsInf(o.rate, 0) || o.rate < 0:
		return usagef("--rate must be 0 or a positive number")
	case o.concurrency < 1:
		return usagef("--concurrency must be at least 1")
	case o.channels < 1 || o.channels > maxChannels:
		return usagef("--channels must be between 1 and %d", maxChannels)
	case o.categoryID < 1:
		return usagef("--category-id must be a positive Discourse category id")
	case o.sinkLatency < 0:
		return usagef("--sink-latency must not be negative")
	case math.IsNaN(o.sink429) || o.sink429 < 0 || o.sink429 >= 1:
		return usagef("--sink-429 must be at least 0 and below 1")
	case o.serverPID < 0:
		return usagef("--server-pid must be a process id")
	case o.timeout <= 0:
		return usagef("--timeout must be positive")
	case o.settle < 0:
		return usagef("--settle must not be negative")
	case o.progress < 0:
		return usagef("--progress must not be negative")
	}
	return nil
}

// baseURL checks that raw is an http(s) URL with a host and returns it
// without a trailing slash, so paths can be appended.
func baseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an http(s) URL such as http://127.0.0.1:8080", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

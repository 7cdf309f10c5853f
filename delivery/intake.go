package delivery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"

	"github.com/chatsidecar/chatsidecar/discourse"
	"github.com/chatsidecar/chatsidecar/providers"
	"github.com/chatsidecar/chatsidecar/rules"
	"github.com/chatsidecar/chatsidecar/store"
)

// Discourse event names intake acts on.
const (
	EventPostCreated    = "post_created"
	EventPostEdited     = "post_edited"
	EventPostDestroyed  = "post_destroyed"
	EventTopicCreated   = "topic_created"
	EventTopicEdited    = "topic_edited"
	EventTopicDestroyed = "topic_destroyed"
	EventPing           = "ping"
)

// Event sources recorded on forum events.
const (
	SourceWebhook = "webhook"
	SourceCatchUp = "catchup"
)

// Outcome statuses of Accept.
const (
	Accepted  = "accepted"
	Duplicate = "duplicate"
	Ignored   = "ignored"
)

// Outcome says what intake did with an event.
type Outcome struct {
	Status     string `json:"status"`
	EventID    int64  `json:"eventId,omitempty"`
	Deliveries int    `json:"deliveries"`
}

// TopicSource is the Discourse API as intake needs it; *discourse.Cache
// implements it. Nil means no API is configured.
type TopicSource interface {
	Topic(ctx context.Context, id int64) (*discourse.Topic, error)
	Site(ctx context.Context) (*discourse.Site, error)
	PutTopic(t *discourse.Topic)
}

// IntakeOptions configures an Intake.
type IntakeOptions struct {
	Store    *store.Store
	Engine   *Engine
	Registry *providers.Registry
	Logger   *slog.Logger
	Metrics  *Metrics
	// Topics is the Discourse API; nil works from webhook payloads alone.
	Topics TopicSource
	// Posts reads posts for testChannel; nil sends a sample instead.
	Posts PostFetcher
	// BaseURL is the forum's URL; when empty, X-Discourse-Instance is used.
	BaseURL string
	Title   string
	Names   NameSettings
	Match   rules.Options
}

// Intake turns forum events into stored events and queued deliveries.
type Intake struct {
	opts IntakeOptions
	log  *slog.Logger

	mu       sync.Mutex
	gen      int64
	index    *rules.Index
	channels map[int64]string // channel id → provider, for enabled providers
	built    bool
}

// NewIntake makes an Intake.
func NewIntake(opts IntakeOptions) *Intake {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Intake{opts: opts, log: opts.Logger}
}

// Accept handles one webhook body for the named event. instance is the
// X-Discourse-Instance header, used as the forum URL when none is
// configured. A *discourse.PayloadError means the body is malformed and
// nothing was stored.
func (in *Intake) Accept(ctx context.Context, event, instance string, body []byte) (Outcome, error) {
	payload, err := discourse.ParseWebhook(body)
	if err != nil {
		in.opts.Metrics.event(event, "invalid")
		return Outcome{}, err
	}
	if payload.Ping || event == EventPing {
		in.opts.Metrics.event(EventPing, Ignored)
		return Outcome{Status: Ignored}, nil
	}
	var out Outcome
	switch {
	case payload.Post != nil && (event == EventPostCreated || event == EventPostEdited || event == EventPostDestroyed):
		out, err = in.AcceptPost(ctx, event, SourceWebhook, instance, payload.Post)
	case payload.Topic != nil && (event == EventTopicCreated || event == EventTopicEdited || event == EventTopicDestroyed):
		out, err = in.acceptTopic(ctx, event, payload.Topic, body)
	default:
		out = Outcome{Status: Ignored}
	}
	if err != nil {
		in.opts.Metrics.event(event, "error")
		return out, err
	}
	in.opts.Metrics.event(event, out.Status)
	return out, nil
}

// dedupeKey identifies an event by its payload: a post is created and
// destroyed once, edited once per version; a topic edit once per body.
func dedupeKey(event string, id int64, version int, body []byte) string {
	k := event + ":" + strconv.FormatInt(id, 10)
	switch event {
	case EventPostEdited:
		k += ":" + strconv.Itoa(version)
	case EventTopicEdited:
		sum := sha256.Sum256(body)
		k += ":" + hex.EncodeToString(sum[:12])
	}
	return k
}

// AcceptPost stores a post event and queues its deliveries. Catch-up
// feeds missed posts through it too, deduplicated against webhooks.
func (in *Intake) AcceptPost(ctx context.Context, event, source, instance string, p *discourse.Post) (Outcome, error) {
	facts, site := in.topicFacts(ctx, p.TopicID)
	forum := in.forum(site, instance)
	kind := map[string]providers.EventKind{
		EventPostCreated: providers.PostCreated, EventPostEdited: providers.PostEdited, EventPostDestroyed: providers.PostDeleted,
	}[event]
	n := BuildNotification(kind, forum, p, facts)
	payload, err := json.Marshal(&n)
	if err != nil {
		return Outcome{}, err
	}
	topicID, postID := p.TopicID, p.ID
	ev := &store.ForumEvent{
		Kind: event, DedupeKey: dedupeKey(event, p.ID, p.Version, nil), Source: source,
		TopicID: &topicID, PostID: &postID, Payload: string(payload),
	}
	var ds []*store.Delivery
	err = in.opts.Store.InTx(ctx, func(q *store.Queries) error {
		ds = nil
		if event == EventPostCreated {
			matches, channels, err := in.match(ctx, q, MatchEvent(p, facts, site))
			if err != nil {
				return err
			}
			for _, m := range matches {
				r := m.Rule
				ruleID := r.ID
				ds = append(ds, &store.Delivery{ChannelID: r.ChannelID, RuleID: &ruleID,
					Provider: channels[r.ChannelID], Action: store.ActionSend, Filter: string(r.Filter),
					TopicID: &topicID, PostID: &postID})
			}
		} else {
			action := store.ActionEdit
			if event == EventPostDestroyed {
				action = store.ActionDelete
			}
			sends, err := q.SendDeliveriesForPost(ctx, p.ID)
			if err != nil {
				return err
			}
			seen := map[int64]bool{}
			for _, s := range sends {
				if seen[s.ChannelID] || !in.canEdit(s.Provider) || s.Status == store.StatusFailed || s.Status == store.StatusCancelled {
					continue
				}
				seen[s.ChannelID] = true
				ds = append(ds, &store.Delivery{ChannelID: s.ChannelID, RuleID: s.RuleID,
					Provider: s.Provider, Action: action, Filter: s.Filter, TopicID: &topicID, PostID: &postID})
			}
		}
		ev.Deliveries = len(ds)
		fresh, err := q.InsertEvent(ctx, ev)
		if err != nil || !fresh {
			ds = nil
			return err
		}
		for _, d := range ds {
			d.EventID = ev.ID
		}
		return in.opts.Engine.Enqueue(ctx, q, ds)
	})
	if err != nil {
		return Outcome{}, fmt.Errorf("intake: %w", err)
	}
	if ev.ID == 0 {
		return Outcome{Status: Duplicate}, nil
	}
	in.opts.Engine.Published(ds...)
	return Outcome{Status: Accepted, EventID: ev.ID, Deliveries: len(ds)}, nil
}

func (in *Intake) canEdit(provider string) bool {
	p, ok := in.opts.Registry.Get(provider)
	if !ok {
		return false
	}
	_, ok = p.(providers.Editor)
	return ok
}

// acceptTopic records a topic event and keeps its facts for later posts.
func (in *Intake) acceptTopic(ctx context.Context, event string, t *discourse.Topic, body []byte) (Outcome, error) {
	facts := factsOf(t)
	data, err := json.Marshal(facts)
	if err != nil {
		return Outcome{}, err
	}
	id := t.ID
	ev := &store.ForumEvent{Kind: event, DedupeKey: dedupeKey(event, t.ID, 0, body), Source: SourceWebhook,
		TopicID: &id, Payload: string(data)}
	err = in.opts.Store.InTx(ctx, func(q *store.Queries) error {
		fresh, err := q.InsertEvent(ctx, ev)
		if err != nil || !fresh {
			return err
		}
		if event != EventTopicDestroyed {
			return q.PutTopicData(ctx, t.ID, string(data))
		}
		return nil
	})
	if err != nil {
		return Outcome{}, fmt.Errorf("intake: %w", err)
	}
	if in.opts.Topics != nil && event != EventTopicDestroyed {
		in.opts.Topics.PutTopic(t)
	}
	if ev.ID == 0 {
		return Outcome{Status: Duplicate}, nil
	}
	return Outcome{Status: Accepted, EventID: ev.ID}, nil
}

// topicFacts finds what is known about a topic: the API (cached) first,
// then the last topic webhook. Failures degrade to the post payload
// alone, because a webhook must not be lost to an API outage.
func (in *Intake) topicFacts(ctx context.Context, topicID int64) (*TopicFacts, *discourse.Site) {
	var site *discourse.Site
	if in.opts.Topics != nil {
		var err error
		if site, err = in.opts.Topics.Site(ctx); err != nil {
			in.log.WarnContext(ctx, "could not read the forum's categories", "error", err)
		}
		t, err := in.opts.Topics.Topic(ctx, topicID)
		if err == nil {
			return factsOf(t), site
		}
		in.log.WarnContext(ctx, "could not read the topic from Discourse; matching on the webhook payload", "topic", topicID, "error", err)
	}
	data, err := in.opts.Store.GetTopicData(ctx, topicID)
	if err == nil {
		var f TopicFacts
		if json.Unmarshal([]byte(data), &f) == nil {
			return &f, site
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		in.log.WarnContext(ctx, "could not read stored topic facts", "topic", topicID, "error", err)
	}
	return &TopicFacts{ID: topicID}, site
}

// match runs the matcher, rebuilding the index first when rules changed
// on any replica since it was built.
func (in *Intake) match(ctx context.Context, q *store.Queries, ev rules.Event) ([]rules.Match, map[int64]string, error) {
	gen, err := q.Counter(ctx, store.CounterRules)
	if err != nil {
		return nil, nil, err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.built || gen != in.gen {
		if err := in.rebuild(ctx, q); err != nil {
			return nil, nil, err
		}
		in.gen, in.built = gen, true
	}
	var out []rules.Match
	for _, m := range in.index.Match(&ev, in.opts.Match) {
		if _, ok := in.channels[m.Rule.ChannelID]; ok {
			out = append(out, m)
		}
	}
	return out, in.channels, nil
}

func (in *Intake) rebuild(ctx context.Context, q *store.Queries) error {
	configs, err := q.ListProviderConfigs(ctx)
	if err != nil {
		return err
	}
	chans, err := q.ListChannels(ctx, store.ListChannelsParams{})
	if err != nil {
		return err
	}
	channels := make(map[int64]string, len(chans))
	for _, c := range chans {
		if pc, ok := configs[c.Provider]; ok && pc.Enabled {
			channels[c.ID] = c.Provider
		}
	}
	stored, err := q.ListRules(ctx)
	if err != nil {
		return err
	}
	rs := make([]rules.Rule, 0, len(stored))
	for _, r := range stored {
		rr := rules.Rule{ID: r.ID, ChannelID: r.ChannelID, Filter: rules.Filter(r.Filter), Type: rules.Type(r.Type),
			CategoryID: r.CategoryID, IncludeSubcategories: r.IncludeSubcategories, Tags: r.Tags}
		if r.GroupName != nil {
			rr.GroupName = *r.GroupName
		}
		rs = append(rs, rr)
	}
	in.index, in.channels = rules.NewIndex(rs), channels
	return nil
}

// forum is the forum-wide context; instance (X-Discourse-Instance) is the
// forum URL when none is configured.
func (in *Intake) forum(site *discourse.Site, instance string) ForumInfo {
	base := in.opts.BaseURL
	if base == "" {
		base = instance
	}
	return ForumInfo{BaseURL: base, Title: in.opts.Title, Names: in.opts.Names, Site: site}
}

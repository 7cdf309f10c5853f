package matrix

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/chatsidecar/chatsidecar/providers"
)

// The notification-level operations of Client: what the Matrix provider
// and Gitter's Matrix transport call once they have turned a target into
// a Destination.

// ExtraRoomID is the Receipt.Extra key of the room id a message was sent
// to. An edit or redaction of the message goes there directly, without
// resolving the channel's alias again (which may point elsewhere by then).
const ExtraRoomID = "room_id"

// Destination is a room and how to post there.
type Destination struct {
	Session
	// Room is a room id ("!…") or alias ("#…:server").
	Room string
	// Via are extra servers to join the room through.
	Via []string
	// ChannelID scopes transaction ids, so that the same post sent to two
	// channels that share a room is two messages.
	ChannelID int64
	// Notice sends m.notice, which clients and other bots treat as bot
	// output, instead of m.text.
	Notice bool
	// ExcerptLength is the most visible characters of the post quoted.
	ExcerptLength int
}

// Notify sends n to d's room, replying into n's thread when n is for a
// thread rule and a thread is known. The Receipt's ThreadID is that
// thread's root, or the new message itself, which can root a thread.
func (c *Client) Notify(ctx context.Context, d Destination, n *providers.Notification) (*providers.Receipt, error) {
	o := d.formatOptions()
	if n.Filter == "thread" && n.ThreadID != "" {
		o.ThreadRoot = n.ThreadID
	}
	s, err := c.send(ctx, d.Session, d.Room, d.Via, SendTxnID(d.ChannelID, n), format(n, o))
	if err != nil {
		if o.ThreadRoot != "" {
			err = c.threadGone(err)
		}
		return nil, err
	}
	r := &providers.Receipt{MessageID: s.EventID, ThreadID: o.ThreadRoot, Extra: map[string]string{ExtraRoomID: s.RoomID}}
	if r.ThreadID == "" {
		r.ThreadID = s.EventID
	}
	return r, nil
}

// threadGone turns the homeserver's refusal of a thread reply whose root
// it does not know into providers.ErrThreadNotFound. Synapse answers it
// with 400 M_UNKNOWN "Can't send relation to unknown event", which
// classify reads as an unknown room; on a send to a room already resolved
// (or joined) a 400 is about the content, and a reply's only reference is
// its root. Other errors are returned as they are.
func (c *Client) threadGone(err error) error {
	var pe *providers.Error
	if !errors.As(err, &pe) || pe.Status != http.StatusBadRequest || !errors.Is(pe.Err, providers.ErrChannelNotFound) {
		return err
	}
	return &providers.Error{Status: pe.Status, Permanent: true, Err: providers.ErrThreadNotFound,
		Message: pe.Message + ": the thread's root event is unknown to the homeserver"}
}

// Edit replaces the message r names with n's content: a new event with
// an m.replace relation to it, whose m.new_content is the new message and
// whose own body, "* " and the text, is what clients without edits show.
func (c *Client) Edit(ctx context.Context, d Destination, r *providers.Receipt, n *providers.Notification) error {
	roomID, err := c.editable(ctx, d, r)
	if err != nil {
		return err
	}
	_, _, err = c.sendTo(ctx, d.Session, roomID, EditTxnID(d.ChannelID, n, r.MessageID), replacement(n, d.formatOptions(), r.MessageID))
	return err
}

// Delete redacts the message r names. Redacting is how Matrix deletes: the
// event stays in the room's history with its content removed.
func (c *Client) Delete(ctx context.Context, d Destination, r *providers.Receipt) error {
	roomID, err := c.editable(ctx, d, r)
	if err != nil {
		return err
	}
	return c.redact(ctx, d.Session, roomID, r.MessageID, RedactTxnID(d.ChannelID, r.MessageID), "The forum post was deleted")
}

// editable returns the room to change r in: the one stored with the
// receipt, or the channel's room for a receipt without one.
func (c *Client) editable(ctx context.Context, d Destination, r *providers.Receipt) (string, error) {
	if r == nil || r.MessageID == "" {
		return "", providers.Permanent("", nil, "the receipt has no %s event id to change", c.platform)
	}
	if id := r.Extra[ExtraRoomID]; id != "" {
		return id, nil
	}
	return c.ResolveRoom(ctx, d.Session, d.Room)
}

// TestRoom checks d without posting: the token (whoami), the room (its
// alias resolves) and the bot's membership. A bot that has been invited
// passes, since its first notification joins; one that is not in the room
// fails with Keys.NotInRoom, although a public room would let it join on
// the first notification: the test cannot know without joining.
func (c *Client) TestRoom(ctx context.Context, d Destination) error {
	userID, err := c.WhoAmI(ctx, d.Session)
	if err != nil {
		return err
	}
	roomID, err := c.ResolveRoom(ctx, d.Session, d.Room)
	if err != nil {
		return err
	}
	m, err := c.membership(ctx, d.Session, roomID, userID)
	if err != nil {
		return err
	}
	switch m {
	case "join", "invite":
		return nil
	case "ban":
		return providers.Permanent(c.keys.Forbidden, providers.ErrForbidden, "the bot is banned from the %s room", c.platform)
	}
	return providers.Permanent(c.keys.NotInRoom, providers.ErrForbidden,
		"the bot has not joined the %s room; invite it (a public room it joins on the first notification)", c.platform)
}

func (d Destination) formatOptions() formatOptions {
	o := formatOptions{MsgType: "m.text", ExcerptLength: d.ExcerptLength}
	if d.Notice {
		o.MsgType = "m.notice"
	}
	if o.ExcerptLength < 1 {
		o.ExcerptLength = defaultExcerptLength
	}
	return o
}

// Transaction ids.
//
// Matrix makes PUT /send/{type}/{txnId} idempotent: a homeserver that
// receives a transaction id again from the same access token (device)
// answers with the event it created the first time instead of posting a
// second message. The reference used the Unix second, so two messages to
// one room in the same second collided and the second one was lost, while
// a retry a second later posted a duplicate.
//
// Here the id is derived from what the message is: the channel, the post,
// its version and the action. When a send times out after the homeserver
// accepted it, the engine's retry sends the same id and gets the original
// event back, so the room sees one message; a new version of the post is
// a new id. Homeservers keep transactions for a limited time (Synapse:
// about half an hour) and forget failed ones, so the join-then-send path
// can reuse the id. A post without an id (the sample post of testChannel)
// adds its creation time, so each test is a new message.

// SendTxnID is the transaction id Notify uses for n in channelID.
func SendTxnID(channelID int64, n *providers.Notification) string {
	return providers.SendKey(channelID, n)
}

// EditTxnID is the transaction id Edit uses to replace eventID with n.
func EditTxnID(channelID int64, n *providers.Notification, eventID string) string {
	return providers.StableKey(channelID, "edit", eventID, strconv.FormatInt(n.Post.ID, 10), strconv.Itoa(n.Post.Version))
}

// RedactTxnID is the transaction id Delete uses to redact eventID.
func RedactTxnID(channelID int64, eventID string) string {
	return providers.StableKey(channelID, "redact", eventID)
}

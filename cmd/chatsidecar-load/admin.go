package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// providerID is the generic webhook provider: the only one whose channels
// can point at an arbitrary URL such as the sink's.
const providerID = "webhook"

// maxAdminResponse bounds what is read from one GraphQL answer.
const maxAdminResponse = 4 << 20

// The operations the tool needs. categoryId is an Int and channelId an ID
// in schema.graphqls; the channel's data is the JSON scalar, and the
// webhook provider requires both of its parameters, name and url.
const (
	providerQuery     = `query($id:ID!){provider(id:$id){enabled}}`
	configureMutation = `mutation($id:ID!,$enabled:Boolean){configureProvider(input:{id:$id,enabled:$enabled}){enabled}}`
	channelMutation   = `mutation($name:String!,$data:JSON!){createChannel(input:{provider:"webhook",name:$name,data:$data}){id}}`
	ruleMutation      = `mutation($channel:ID!,$category:Int){createRule(input:{channelId:$channel,filter:WATCH,type:NORMAL,categoryId:$category}){id}}`
	deleteMutation    = `mutation($id:ID!){deleteChannel(id:$id)}`
)

// adminClient speaks just enough GraphQL to set a run up and tear it down.
type adminClient struct {
	endpoint string
	key      string
	http     *http.Client
}

func newAdminClient(server, key string, client *http.Client) *adminClient {
	return &adminClient{endpoint: server + "/graphql", key: key, http: client}
}

// gqlError is one entry of a GraphQL response's errors.
type gqlError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code  string `json:"code"`
		Field string `json:"field"`
	} `json:"extensions"`
}

func (e gqlError) String() string {
	s := e.Message
	if e.Extensions.Field != "" {
		s = e.Extensions.Field + ": " + s
	}
	if e.Extensions.Code != "" {
		s += " (" + e.Extensions.Code + ")"
	}
	return s
}

// do posts one operation and decodes its data into out. GraphQL errors
// are returned with their codes, so "UNAUTHENTICATED" tells the user the
// API key is wrong; an answer that is not GraphQL is reported by status.
func (c *adminClient) do(ctx context.Context, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.key)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("call %s: %w", c.endpoint, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAdminResponse))
	if err != nil {
		return fmt.Errorf("read the answer of %s: %w", c.endpoint, err)
	}
	var gr struct {
		Data   json.RawMessage `json:"data"`
		Errors []gqlError      `json:"errors"`
	}
	if err := json.Unmarshal(raw, &gr); err != nil {
		return fmt.Errorf("%s answered HTTP %d without a GraphQL response", c.endpoint, resp.StatusCode)
	}
	if len(gr.Errors) > 0 {
		msgs := make([]string, len(gr.Errors))
		for i, e := range gr.Errors {
			msgs[i] = e.String()
		}
		return fmt.Errorf("%s: %s", c.endpoint, strings.Join(msgs, "; "))
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered HTTP %d", c.endpoint, resp.StatusCode)
	}
	if len(gr.Data) == 0 || string(gr.Data) == "null" {
		return fmt.Errorf("%s answered without data", c.endpoint)
	}
	if err := json.Unmarshal(gr.Data, out); err != nil {
		return fmt.Errorf("decode the answer of %s: %w", c.endpoint, err)
	}
	return nil
}

func (c *adminClient) providerEnabled(ctx context.Context, id string) (bool, error) {
	var data struct {
		Provider struct{ Enabled bool }
	}
	err := c.do(ctx, providerQuery, map[string]any{"id": id}, &data)
	return data.Provider.Enabled, err
}

func (c *adminClient) setProviderEnabled(ctx context.Context, id string, enabled bool) error {
	var data struct {
		ConfigureProvider struct{ Enabled bool }
	}
	if err := c.do(ctx, configureMutation, map[string]any{"id": id, "enabled": enabled}, &data); err != nil {
		return err
	}
	if data.ConfigureProvider.Enabled != enabled {
		return fmt.Errorf("provider %s: asked for enabled=%t, the server answered %t", id, enabled, data.ConfigureProvider.Enabled)
	}
	return nil
}

func (c *adminClient) createChannel(ctx context.Context, name string, data map[string]any) (string, error) {
	var out struct {
		CreateChannel struct{ ID string }
	}
	if err := c.do(ctx, channelMutation, map[string]any{"name": name, "data": data}, &out); err != nil {
		return "", err
	}
	if out.CreateChannel.ID == "" {
		return "", errors.New("createChannel answered without an id")
	}
	return out.CreateChannel.ID, nil
}

func (c *adminClient) createRule(ctx context.Context, channelID string, categoryID int) error {
	var out struct {
		CreateRule struct{ ID string }
	}
	return c.do(ctx, ruleMutation, map[string]any{"channel": channelID, "category": categoryID}, &out)
}

func (c *adminClient) deleteChannel(ctx context.Context, id string) error {
	var out struct{ DeleteChannel string }
	return c.do(ctx, deleteMutation, map[string]any{"id": id}, &out)
}

// fixture is what a run created on the server, so teardown removes
// exactly that and leaves the admin's own channels alone.
type fixture struct {
	channelIDs []string
	// enabledProvider records that the run enabled the webhook provider,
	// so teardown can put the server back as it found it.
	enabledProvider bool
}

// channelName is the name of a run's i-th channel, also used as its data
// "name" parameter (which must be unique and free of spaces).
func channelName(runID string, i int) string {
	return "load-" + runID + "-" + strconv.Itoa(i)
}

// hookURL is where the server delivers channel i's notifications.
func hookURL(sinkURL string, i int) string {
	return sinkURL + "/hook/" + strconv.Itoa(i)
}

// setupFixture enables the provider if allowed and needed, then creates
// one channel and one WATCH rule per sink channel. On failure it removes
// what it had created, so a failed run leaves nothing behind.
func setupFixture(ctx context.Context, ac *adminClient, o *options, runID, sinkURL string) (*fixture, error) {
	fx := &fixture{}
	if o.enable {
		enabled, err := ac.providerEnabled(ctx, providerID)
		if err != nil {
			return nil, fmt.Errorf("read the %s provider: %w", providerID, err)
		}
		if !enabled {
			if err := ac.setProviderEnabled(ctx, providerID, true); err != nil {
				return nil, fmt.Errorf("enable the %s provider: %w", providerID, err)
			}
			fx.enabledProvider = true
		}
	}
	for i := range o.channels {
		name := channelName(runID, i)
		id, err := ac.createChannel(ctx, name, map[string]any{"name": name, "url": hookURL(sinkURL, i)})
		if err == nil {
			fx.channelIDs = append(fx.channelIDs, id)
			err = ac.createRule(ctx, id, o.categoryID)
		}
		if err != nil {
			err = fmt.Errorf("create channel %s: %w", name, err)
			return nil, errors.Join(err, fx.teardown(context.WithoutCancel(ctx), ac))
		}
	}
	return fx, nil
}

// teardown deletes the run's channels (which deletes their rules) and
// disables the provider again if the run enabled it. It tries every step
// and returns all failures.
func (fx *fixture) teardown(ctx context.Context, ac *adminClient) error {
	var errs []error
	for _, id := range fx.channelIDs {
		if err := ac.deleteChannel(ctx, id); err != nil {
			errs = append(errs, fmt.Errorf("delete channel %s: %w", id, err))
		}
	}
	fx.channelIDs = nil
	if fx.enabledProvider {
		if err := ac.setProviderEnabled(ctx, providerID, false); err != nil {
			errs = append(errs, fmt.Errorf("disable the %s provider again: %w", providerID, err))
		}
		fx.enabledProvider = false
	}
	return errors.Join(errs...)
}

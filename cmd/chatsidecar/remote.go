package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/chatsidecar/chatsidecar/admin"
)

const (
	// remoteTimeout bounds one API call; applying a large document in one
	// transaction is the slowest thing the CLI asks for.
	remoteTimeout = 2 * time.Minute
	// maxResponseBytes bounds what is read from the server.
	maxResponseBytes = 32 << 20
)

// remoteClient speaks just enough GraphQL for apply and export.
type remoteClient struct {
	endpoint string
	key      string
	http     *http.Client
}

// newRemoteClient checks base and returns a client for base+"/graphql"
// (a base that already ends in /graphql is used as is).
func newRemoteClient(base, key string, log *slog.Logger) (*remoteClient, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usagef("--server must be an http(s) URL such as http://127.0.0.1:8080")
	}
	endpoint := strings.TrimRight(u.String(), "/")
	if !strings.HasSuffix(endpoint, "/graphql") {
		endpoint += "/graphql"
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		log.Warn("sending the API key over plain HTTP; use https outside of localhost", "server", u.Host)
	}
	return &remoteClient{endpoint: endpoint, key: key, http: &http.Client{Timeout: remoteTimeout}}, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// applyMutation is the applyConfig call of `chatsidecar apply --server`.
const applyMutation = `mutation($d:String!,$p:Boolean,$n:Boolean){applyConfig(document:$d, prune:$p, dryRun:$n){changed changes{action kind name detail}}}`

func (rc *remoteClient) applyConfig(ctx context.Context, doc string, prune, dryRun bool) (*admin.Plan, error) {
	var data struct {
		ApplyConfig struct {
			Changed bool
			Changes []struct {
				Action, Kind, Name, Detail string
			}
		}
	}
	if err := rc.do(ctx, applyMutation, map[string]any{"d": doc, "p": prune, "n": dryRun}, &data); err != nil {
		return nil, err
	}
	// The API's enums are the upper-case Action and Kind; rebuilding the
	// Plan makes local and remote runs print the same.
	plan := &admin.Plan{}
	for _, ch := range data.ApplyConfig.Changes {
		plan.Changes = append(plan.Changes, admin.Change{
			Action: admin.Action(strings.ToLower(ch.Action)),
			Kind:   admin.Kind(strings.ToLower(ch.Kind)),
			Name:   ch.Name,
			Detail: ch.Detail,
		})
	}
	return plan, nil
}

func (rc *remoteClient) exportConfig(ctx context.Context) (string, error) {
	var data struct{ ExportConfig string }
	if err := rc.do(ctx, `query{exportConfig}`, nil, &data); err != nil {
		return "", err
	}
	return data.ExportConfig, nil
}

// remoteError is the list of errors in a GraphQL response.
type remoteError struct {
	errors []gqlError
}

type gqlError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code  string `json:"code"`
		Field string `json:"field"`
		Line  int    `json:"line"`
	} `json:"extensions"`
}

func (e *remoteError) Error() string {
	lines := make([]string, len(e.errors))
	for i, ge := range e.errors {
		lines[i] = ge.String()
	}
	return strings.Join(lines, "\n")
}

// String renders one error as "line 3: channels[0].name: message (CODE)",
// the local problem format plus the code.
func (ge gqlError) String() string {
	var b strings.Builder
	if ge.Extensions.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", ge.Extensions.Line)
	}
	if ge.Extensions.Field != "" {
		b.WriteString(ge.Extensions.Field + ": ")
	}
	b.WriteString(ge.Message)
	if ge.Extensions.Code != "" {
		b.WriteString(" (" + ge.Extensions.Code + ")")
	}
	return b.String()
}

func printRemoteErrors(w io.Writer, e *remoteError) {
	fmt.Fprintf(w, "chatsidecar: the server reported %d error%s:\n", len(e.errors), plural(len(e.errors)))
	for _, ge := range e.errors {
		fmt.Fprintf(w, "  %s\n", ge.String())
	}
}

// do posts one operation and decodes its data into out. GraphQL errors
// become a *remoteError; a response that is not GraphQL at all (a proxy's
// error page) is reported by its HTTP status only.
func (rc *remoteClient) do(ctx context.Context, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rc.endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+rc.key)
	req.Header.Set("User-Agent", "chatsidecar/"+version)
	resp, err := rc.http.Do(req)
	if err != nil {
		return fmt.Errorf("call %s: %w", rc.endpoint, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("read response of %s: %w", rc.endpoint, err)
	}
	var gr struct {
		Data   json.RawMessage `json:"data"`
		Errors []gqlError      `json:"errors"`
	}
	if err := json.Unmarshal(raw, &gr); err != nil {
		return fmt.Errorf("%s answered HTTP %d without a GraphQL response", rc.endpoint, resp.StatusCode)
	}
	if len(gr.Errors) > 0 {
		return &remoteError{errors: gr.Errors}
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered HTTP %d", rc.endpoint, resp.StatusCode)
	}
	if len(gr.Data) == 0 || string(gr.Data) == "null" {
		return fmt.Errorf("%s answered without data", rc.endpoint)
	}
	if err := json.Unmarshal(gr.Data, out); err != nil {
		return fmt.Errorf("decode response of %s: %w", rc.endpoint, err)
	}
	return nil
}

package providers_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsidecar/chatsidecar/providers"
)

func TestAddrClass(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr string
		want string // "" = public, allowed
	}{
		// Loopback.
		{"127.0.0.1", "loopback"},
		{"127.255.255.254", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"},
		// Unspecified and "this network".
		{"0.0.0.0", "unspecified"},
		{"0.1.2.3", "unspecified"},
		{"::", "unspecified"},
		{"::ffff:0.0.0.0", "unspecified"},
		// Private (RFC 1918, unique local).
		{"10.0.0.1", "private"},
		{"10.255.255.255", "private"},
		{"172.16.0.1", "private"},
		{"172.31.255.255", "private"},
		{"192.168.1.1", "private"},
		{"fc00::1", "private"},
		{"fd12:3456:789a::1", "private"},
		{"fec0::1", "private"}, // deprecated site-local
		{"::ffff:10.0.0.1", "private"},
		{"::ffff:192.168.0.1", "private"},
		// Link-local, cloud metadata included.
		{"169.254.169.254", "link-local"},
		{"169.254.0.1", "link-local"},
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "link-local"},
		{"::ffff:169.254.169.254", "link-local"},
		// Carrier-grade NAT.
		{"100.64.0.1", "shared"},
		{"100.127.255.255", "shared"},
		{"::ffff:100.100.100.100", "shared"},
		// Multicast and broadcast.
		{"224.0.0.1", "multicast"},
		{"239.255.255.250", "multicast"},
		{"ff02::1", "multicast"},
		{"ff05::2", "multicast"},
		{"255.255.255.255", "reserved"},
		// Reserved.
		{"240.0.0.1", "reserved"},
		{"192.0.0.8", "reserved"},
		{"198.18.0.1", "reserved"},
		{"198.19.255.255", "reserved"},
		{"::7f00:1", "reserved"}, // deprecated IPv4-compatible ::127.0.0.1
		// IPv6 prefixes carrying an IPv4 address are judged by it.
		{"64:ff9b::7f00:1", "loopback"},      // NAT64 of 127.0.0.1
		{"64:ff9b::a9fe:a9fe", "link-local"}, // NAT64 of 169.254.169.254
		{"64:ff9b:1::1", "private"},          // local-use NAT64
		{"2002:a00:1::1", "private"},         // 6to4 of 10.0.0.1
		{"2002:7f00:1::1", "loopback"},       // 6to4 of 127.0.0.1
		{"2002:808:808::1", ""},              // 6to4 of 8.8.8.8
		{"64:ff9b::808:808", ""},             // NAT64 of 8.8.8.8
		// Public, including the neighbours of every refused IPv4 range.
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"93.184.216.34", ""},
		{"9.255.255.255", ""},
		{"11.0.0.0", ""},
		{"100.63.255.255", ""},
		{"100.128.0.0", ""},
		{"126.255.255.255", ""},
		{"128.0.0.0", ""},
		{"169.253.255.255", ""},
		{"169.255.0.0", ""},
		{"172.15.255.255", ""},
		{"172.32.0.0", ""},
		{"192.0.1.1", ""},
		{"192.167.255.255", ""},
		{"192.169.0.0", ""},
		{"198.17.255.255", ""},
		{"198.20.0.0", ""},
		{"223.255.255.255", ""},
		{"::ffff:8.8.8.8", ""},
		{"2606:4700:4700::1111", ""},
		{"2001:4860:4860::8888", ""},
		{"2a00:1450:4001:80b::200e", ""},
	}
	for _, tc := range tests {
		t.Run(tc.addr, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, providers.AddrClass(netip.MustParseAddr(tc.addr)))
		})
	}
	require.Equal(t, "invalid", providers.AddrClass(netip.Addr{}))
}

// countingServer is an httptest server that counts the requests it served
// and the connections it accepted.
type countingServer struct {
	*httptest.Server
	requests atomic.Int64
	conns    atomic.Int64
}

func newCountingServer(t *testing.T) *countingServer {
	t.Helper()
	s := &countingServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.requests.Add(1)
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	s.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// post sends a JSON POST to rawURL with client through providers.Do.
func post(t *testing.T, client *http.Client, rawURL string) (*providers.Response, error) {
	t.Helper()
	req, err := providers.NewJSONRequest(t.Context(), rawURL, []byte(`{}`))
	require.NoError(t, err)
	return providers.Do(client, req)
}

// requireRefused checks err is the policy's refusal as the engine sees it:
// permanent, with the refusal key, and without the URL.
func requireRefused(t *testing.T, err error, class string) {
	t.Helper()
	require.ErrorIs(t, err, providers.ErrDestinationRefused)
	permanent, limited, _ := providers.Classify(err)
	require.True(t, permanent, "a refused destination is not retried")
	require.False(t, limited)
	require.Equal(t, providers.KeyDestinationRefused, providers.ErrorKey(err))
	var pe *providers.Error
	require.ErrorAs(t, err, &pe)
	require.Contains(t, pe.Message, "a "+class+" address")
	require.NotContains(t, err.Error(), "SECRET")
	require.NotContains(t, err.Error(), "127.0.0.1")
}

func TestOutboundClientRefusesPrivateDestinations(t *testing.T) {
	t.Parallel()
	srv := newCountingServer(t)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	refusing := providers.NewOutboundClient(providers.ClientOptions{})

	tests := []struct {
		name  string
		url   string
		class string
	}{
		{"IPv4 loopback", srv.URL, "loopback"},
		// A name is resolved first and the address it resolves to is
		// what is refused, when the connection is dialled.
		{"name resolving to loopback", "http://localhost:" + strconv.Itoa(port), "loopback"},
		{"IPv4-mapped IPv6 loopback", "http://[::ffff:127.0.0.1]:" + strconv.Itoa(port), "loopback"},
		{"unspecified", "http://0.0.0.0:" + strconv.Itoa(port), "unspecified"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := post(t, refusing, tc.url+"/hook/SECRET-PATH?token=SECRET")
			requireRefused(t, err, tc.class)
		})
	}
	t.Run("allowed", func(t *testing.T) {
		t.Parallel()
		allowing := providers.NewOutboundClient(providers.ClientOptions{AllowPrivate: true})
		resp, err := post(t, allowing, srv.URL+"/hook")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.Status)
	})
}

func TestOutboundClientRefusalNeverReachesTheServer(t *testing.T) {
	t.Parallel()
	srv := newCountingServer(t)
	_, err := post(t, providers.NewOutboundClient(providers.ClientOptions{}), srv.URL+"/hook")
	requireRefused(t, err, "loopback")
	require.Zero(t, srv.conns.Load(), "the connection is refused before it is made")
	require.Zero(t, srv.requests.Load())
}

func TestNewHTTPClientHasNoAddressPolicy(t *testing.T) {
	t.Parallel()
	srv := newCountingServer(t)
	resp, err := post(t, providers.NewHTTPClient(), srv.URL+"/hook")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.Status)
}

func TestOutboundClientReusesConnections(t *testing.T) {
	t.Parallel()
	srv := newCountingServer(t)
	c := providers.NewOutboundClient(providers.ClientOptions{AllowPrivate: true})
	for range 50 {
		resp, err := post(t, c, srv.URL+"/hook")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.Status)
	}
	require.EqualValues(t, 50, srv.requests.Load())
	// One connection normally; net/http may dial another when a finished
	// request's connection is not back in the pool within 50 ms (a loaded
	// machine under -race). Without keep-alive it would be 50.
	require.LessOrEqual(t, srv.conns.Load(), int64(3), "sequential requests share a kept-alive connection")
}

func TestOutboundClientCapsConnectionsPerHost(t *testing.T) {
	t.Parallel()
	srv := newCountingServer(t)
	c := providers.NewOutboundClient(providers.ClientOptions{AllowPrivate: true, MaxConnsPerHost: 4})
	const burst = 100
	errs := make(chan error, burst)
	var wg sync.WaitGroup
	for range burst {
		wg.Go(func() {
			req, err := providers.NewJSONRequest(t.Context(), srv.URL+"/hook", []byte(`{}`))
			if err == nil {
				_, err = providers.Do(c, req)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.EqualValues(t, burst, srv.requests.Load())
	require.LessOrEqual(t, srv.conns.Load(), int64(4), "a burst never opens more than MaxConnsPerHost connections")
}

func TestOutboundClientThroughProxy(t *testing.T) {
	t.Parallel()
	// A forward proxy on 127.0.0.1: the operator configured it, so the
	// client may connect to it although it is on loopback. It answers for
	// every destination instead of connecting anywhere.
	var mu sync.Mutex
	var proxied []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		proxied = append(proxied, r.URL.Host)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(proxy.Close)
	proxyURL, err := url.Parse(proxy.URL)
	require.NoError(t, err)
	c := providers.NewOutboundClient(providers.ClientOptions{Proxy: http.ProxyURL(proxyURL)})

	resp, err := post(t, c, "http://chat.example.com/hook")
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, resp.Status)

	// The proxy resolves names, so the client cannot see where it will
	// connect; it still refuses what it can tell without resolving.
	for _, dest := range []struct{ url, class string }{
		{"http://10.1.2.3/hook", "private"},
		{"http://169.254.169.254/latest/meta-data", "link-local"},
		{"http://[::1]:8080/hook", "loopback"},
		{"http://[::ffff:192.168.0.1]/hook", "private"},
		{"http://localhost:8080/hook", "loopback"},
		{"http://admin.LOCALHOST./hook", "loopback"},
	} {
		_, err := post(t, c, dest.url)
		requireRefused(t, err, dest.class)
	}
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []string{"chat.example.com"}, proxied, "refused destinations never reach the proxy")
}

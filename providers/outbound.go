package providers

// The outbound HTTP client every provider transport shares. Two concerns
// live here:
//
//   - Throughput. One client (one pool) serves every delivery, with
//     keep-alive and enough idle connections per host that a burst of
//     notifications to one platform reuses a handful of connections
//     instead of dialling (and TLS-handshaking) once per message.
//   - Safety. Webhook and server URLs are typed in by admins, so without a
//     policy the sidecar would POST wherever it is told: to its own admin
//     port, to a database on the private network, or to the cloud metadata
//     service at 169.254.169.254. The production client refuses every
//     address that is not public unless the operator allows it
//     (CHATSIDECAR_OUTBOUND_ALLOW_PRIVATE).
//
// The policy is checked when a connection is dialled, on the address
// actually dialled, after name resolution (net.Dialer.Control). Checking
// the URL's host name instead would be fooled by a name that resolves to a
// private address, or that resolves to a public address for the check and
// a private one for the connection (DNS rebinding). Redirects are never
// followed (see NewOutboundClient), so they cannot bypass it either.

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultMaxConnsPerHost is the connection cap per destination host when
// ClientOptions leaves it unset. It matches the engine's default number of
// delivery workers, so all of them can post to one platform at once
// without queueing for a connection (every Slack channel is one host), and
// no burst can open more. Over HTTP/2 a connection carries many requests,
// so the cap only matters for HTTP/1.1 platforms.
const DefaultMaxConnsPerHost = 256

// KeyDestinationRefused is the error key recorded on a channel whose
// destination the outbound policy refused.
const KeyDestinationRefused = "chat_integration.provider.errors.destination_refused"

// ClientOptions configures NewOutboundClient. The zero value is the safe
// production default: private destinations refused, DefaultMaxConnsPerHost.
type ClientOptions struct {
	// AllowPrivate lets the client connect to loopback, private,
	// link-local, shared (CGNAT), multicast and reserved addresses. Only
	// for chat servers on the operator's own network, and for tests
	// against fakes on 127.0.0.1.
	AllowPrivate bool
	// MaxConnsPerHost caps the connections (dialling, in use and idle) to
	// one host; a request beyond it waits for a free connection, within
	// its context and the client's timeout. 0 means
	// DefaultMaxConnsPerHost. Idle connections kept per host match it, so
	// connections opened in a burst are reused by the next one.
	MaxConnsPerHost int
	// Proxy picks the proxy for a request, as http.Transport.Proxy; nil
	// means http.ProxyFromEnvironment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY).
	// The proxy itself is trusted whatever its address, since the operator
	// configured it. See NewOutboundClient for what is checked when a
	// request goes through one.
	Proxy func(*http.Request) (*url.URL, error)
}

// NewOutboundClient returns the client main hands to every provider. It
// has timeouts (RequestTimeout, DialTimeout), keep-alive, HTTP/2 where the
// server offers it, a per-host connection cap, and it does not follow
// redirects: a redirected POST either loses its body (301/302) or is
// replayed to a host the admin never configured, with the risk of sending
// a signed body or a token elsewhere; the 3xx is returned instead and
// CheckStatus reports it as a permanent failure.
//
// Unless o.AllowPrivate is set, connecting to an address that is not
// public fails with an error that is ErrDestinationRefused, and Do turns
// it into a permanent *Error with KeyDestinationRefused. When a request
// goes through a proxy the client connects only to the proxy, and the
// proxy resolves the destination; the client then refuses destinations
// written as a non-public IP address or named localhost, and name-based
// filtering is left to the proxy's own policy.
func NewOutboundClient(o ClientOptions) *http.Client {
	maxConns := o.MaxConnsPerHost
	if maxConns <= 0 {
		maxConns = DefaultMaxConnsPerHost
	}
	proxy := o.Proxy
	if proxy == nil {
		proxy = http.ProxyFromEnvironment
	}
	direct := &net.Dialer{Timeout: DialTimeout, KeepAlive: 30 * time.Second}
	dial := direct.DialContext
	if !o.AllowPrivate {
		g := &guard{
			direct:    direct,
			checked:   &net.Dialer{Timeout: DialTimeout, KeepAlive: 30 * time.Second, Control: refuseNonPublic},
			proxyFunc: proxy,
		}
		proxy, dial = g.proxy, g.dialContext
	}
	tr := &http.Transport{
		Proxy:                 proxy,
		DialContext:           dial,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   DialTimeout,
		ResponseHeaderTimeout: RequestTimeout,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          4 * maxConns,
		MaxIdleConnsPerHost:   maxConns,
		MaxConnsPerHost:       maxConns,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   RequestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// NewHTTPClient returns NewOutboundClient with AllowPrivate set: the same
// timeouts, pool and redirect rule, and no address policy. It is what
// tests use to reach fakes on 127.0.0.1, and what a provider's New falls
// back to when given no client. Production never relies on that fallback:
// main builds the registry with NewOutboundClient from the configuration,
// so the policy applies to every real delivery.
func NewHTTPClient() *http.Client {
	return NewOutboundClient(ClientOptions{AllowPrivate: true})
}

// guard applies the address policy to a transport's dials and proxy
// choices.
type guard struct {
	direct    *net.Dialer // dials the operator's proxy
	checked   *net.Dialer // dials everything else, refusing non-public addresses
	proxyFunc func(*http.Request) (*url.URL, error)
	proxies   sync.Map // "host:port" of every proxy proxyFunc chose
}

// proxy is the transport's Proxy function. It remembers the proxies it
// hands out, so dialContext can tell a dial to the proxy from a dial to a
// destination, and checks what it can of a proxied destination: the
// client's own dial-time check never sees where the proxy connects.
func (g *guard) proxy(r *http.Request) (*url.URL, error) {
	u, err := g.proxyFunc(r)
	if err != nil || u == nil {
		return u, err
	}
	if err := checkHostName(r.URL.Hostname()); err != nil {
		return nil, err
	}
	g.proxies.Store(proxyAddr(u), struct{}{})
	return u, nil
}

// dialContext dials a proxy directly and anything else through the policy.
// addr is what the transport dials: the proxy's host:port when a request
// is proxied, the destination's otherwise.
func (g *guard) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if _, ok := g.proxies.Load(addr); ok {
		return g.direct.DialContext(ctx, network, addr)
	}
	return g.checked.DialContext(ctx, network, addr)
}

// proxyAddr is the host:port the transport dials for proxy u, the same
// string http.Transport builds, default port included.
func proxyAddr(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "https":
			port = "443"
		case "socks5", "socks5h":
			port = "1080"
		default:
			port = "80"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// checkHostName refuses a destination host, before any resolution, when it
// is a non-public IP address or a localhost name (RFC 6761). Other names
// pass: only the resolved address can tell.
func checkHostName(host string) error {
	if a, err := netip.ParseAddr(host); err == nil {
		if class := AddrClass(a); class != "" {
			return &refusedError{class: class}
		}
		return nil
	}
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return &refusedError{class: "loopback"}
	}
	return nil
}

// refuseNonPublic is the net.Dialer.Control of the checked dialer. It runs
// for every address the dialer tries, after resolution, so a name with
// several addresses connects only to the public ones.
func refuseNonPublic(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &refusedError{class: "unrecognised"}
	}
	if class := AddrClass(ap.Addr()); class != "" {
		return &refusedError{class: class}
	}
	return nil
}

// refusedError is the policy's refusal; errors.Is(err,
// ErrDestinationRefused) holds for it. class says which kind of address
// was refused, never which address, so the message is the same for every
// refused host.
type refusedError struct{ class string }

func (e *refusedError) Error() string {
	return fmt.Sprintf("destination refused: it is a %s address, and the outbound policy allows only public addresses", e.class)
}

func (e *refusedError) Is(target error) bool { return target == ErrDestinationRefused }

// AddrClass returns why the outbound policy refuses a, or "" when a is a
// public address the client may connect to. IPv4-mapped IPv6 addresses
// (::ffff:10.0.0.1) are judged as the IPv4 address they carry, and so are
// the IPv4 addresses embedded in the well-known NAT64 prefix and in 6to4
// addresses, since those reach the IPv4 host.
func AddrClass(a netip.Addr) string {
	a = a.Unmap().WithZone("")
	switch {
	case !a.IsValid():
		return "invalid"
	case a.IsLoopback():
		return "loopback"
	case a.IsUnspecified():
		return "unspecified"
	case a.IsPrivate(): // 10/8, 172.16/12, 192.168/16, fc00::/7
		return "private"
	case a.IsLinkLocalUnicast(): // 169.254/16 (cloud metadata), fe80::/10
		return "link-local"
	case a.IsMulticast():
		return "multicast"
	case a.Is4():
		return classV4(a.As4())
	}
	return classV6(a.As16())
}

// classV4 covers the IPv4 ranges netip has no method for.
func classV4(b [4]byte) string {
	switch {
	case b[0] == 0: // 0/8, "this network": 0.x.y.z can reach the local host
		return "unspecified"
	case b[0] == 100 && b[1]&0xc0 == 64: // 100.64/10, carrier-grade NAT
		return "shared"
	case b[0] == 192 && b[1] == 0 && b[2] == 0: // 192.0.0/24, IETF protocol assignments
		return "reserved"
	case b[0] == 198 && b[1]&0xfe == 18: // 198.18/15, benchmarking, used on internal networks
		return "reserved"
	case b[0] >= 240: // 240/4 and the broadcast address
		return "reserved"
	}
	return ""
}

// classV6 covers the IPv6 ranges netip has no method for, and the
// prefixes that carry an IPv4 address.
func classV6(b [16]byte) string {
	v4 := func(i int) netip.Addr { return netip.AddrFrom4([4]byte(b[i : i+4])) }
	switch {
	case b[0] == 0xfe && b[1]&0xc0 == 0xc0: // fec0::/10, deprecated site-local
		return "private"
	case [12]byte(b[:12]) == [12]byte{}: // ::/96, deprecated IPv4-compatible
		return "reserved"
	case [12]byte(b[:12]) == [12]byte{0, 0x64, 0xff, 0x9b}: // 64:ff9b::/96, NAT64
		return AddrClass(v4(12))
	case [6]byte(b[:6]) == [6]byte{0, 0x64, 0xff, 0x9b, 0, 1}: // 64:ff9b:1::/48, local-use NAT64
		return "private"
	case b[0] == 0x20 && b[1] == 0x02: // 2002::/16, 6to4
		return AddrClass(v4(2))
	}
	return ""
}

package providers

import (
	"errors"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRefuseNonPublic checks the dial-time hook on the address strings the
// dialer hands it: host:port after resolution, IPv6 in brackets, with a
// zone for link-local addresses.
func TestRefuseNonPublic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		address string
		refused bool
	}{
		{"93.184.216.34:443", false},
		{"[2606:4700:4700::1111]:443", false},
		{"[::ffff:8.8.8.8]:80", false},
		{"127.0.0.1:8080", true},
		{"[::1]:443", true},
		{"[::ffff:10.0.0.1]:80", true},
		{"[fe80::1%eth0]:80", true},
		{"169.254.169.254:80", true},
		{"not-an-address", true},
	}
	for _, tc := range tests {
		err := refuseNonPublic("tcp", tc.address, nil)
		require.Equal(t, tc.refused, errors.Is(err, ErrDestinationRefused), tc.address)
	}
}

func TestProxyAddr(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"http://proxy.internal":         "proxy.internal:80",
		"https://proxy.internal":        "proxy.internal:443",
		"socks5://10.0.0.3":             "10.0.0.3:1080",
		"http://proxy.internal:3128":    "proxy.internal:3128",
		"http://user:pw@[fd00::3]:3128": "[fd00::3]:3128",
	} {
		u, err := url.Parse(raw)
		require.NoError(t, err)
		require.Equal(t, want, proxyAddr(u), raw)
	}
}

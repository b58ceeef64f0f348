package webhooks

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"

	validation "github.com/pocketbase/ozzo-validation/v4"
)

// refusedPrefixes are the addresses a delivery never reaches besides
// those netip classifies (loopback, private, link-local, unspecified,
// multicast): networks that are not the public internet, and where the
// clouds put their metadata services (169.254.169.254 is link-local,
// fd00:ec2::254 private; 100.100.100.200 is in the shared space).
var refusedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("100::/64"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("2002::/16"),
}

// refusedHostNames are names that mean this machine or a cloud's metadata
// service whatever DNS says.
var refusedHostNames = []string{"localhost", "metadata.google.internal", "metadata", "instance-data"}

// publicAddress tells whether a delivery may reach ip: an address of the
// public internet.
func publicAddress(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range refusedPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// errPrivateAddress is a delivery refused because its host resolved to an
// address that is not public.
var errPrivateAddress = errors.New("the endpoint's address is not public (private, loopback, link-local or metadata)")

// checkDialedAddress is a net.Dialer's Control: it runs on the address
// actually dialled, after DNS, so a name that resolves to a private
// address, at save time or only later (DNS rebinding), is refused.
func checkDialedAddress(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !publicAddress(ip) {
		return errPrivateAddress
	}
	return nil
}

// CheckEndpointURL accepts an endpoint URL: absolute https to a host that
// is not a private, loopback, link-local or metadata address or name, with
// no user info. With allowPrivate (SHOPDASH_WEBHOOKS_ALLOW_PRIVATE=1),
// http and private hosts are accepted too, for a receiver on the same
// network or in tests. A name is checked again when each delivery dials.
func CheckEndpointURL(raw string, allowPrivate bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || len(raw) > 2000 || (u.Scheme != "https" && u.Scheme != "http") {
		return validation.NewError("validation_webhook_url", "Give an absolute https:// URL, such as https://hooks.example.com/shop.")
	}
	if allowPrivate {
		return nil
	}
	if u.Scheme != "https" {
		return validation.NewError("validation_webhook_https", "Webhook endpoints must use https:// (SHOPDASH_WEBHOOKS_ALLOW_PRIVATE=1 allows http).")
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if ip, err := netip.ParseAddr(host); err == nil {
		if !publicAddress(ip) {
			return privateHostError(host)
		}
		return nil
	}
	for _, name := range refusedHostNames {
		if host == name || strings.HasSuffix(host, "."+name) {
			return privateHostError(host)
		}
	}
	if strings.HasSuffix(host, ".internal") || strings.HasSuffix(host, ".local") || !strings.Contains(host, ".") {
		return privateHostError(host)
	}
	return nil
}

func privateHostError(host string) error {
	return validation.NewError("validation_webhook_private_host",
		fmt.Sprintf("%s is a private, loopback, link-local or metadata host; webhooks go to public hosts (SHOPDASH_WEBHOOKS_ALLOW_PRIVATE=1 allows them).", host))
}

package notify

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"

	"github.com/heraldhq/herald/senders"
)

// Guard decides which webhook destinations Herald may reach. Without an
// allow-list only the official platform hosts are reachable, over https. The
// allow-list (host names, IPs, CIDRs) opens other hosts over http or https;
// an internal address (loopback, private, link-local…) is reachable only when
// the address or its range is itself listed, even if its name is.
//
// Names are checked statically by CheckURL; addresses are checked again at
// connect time by the dialer (Control), on the IP actually dialled, so a name
// that resolves, or re-resolves, to an internal address is still refused.
type Guard struct {
	platforms *senders.Registry
	names     map[string]bool
	prefixes  []netip.Prefix
}

// NewGuard builds a Guard from allow-list entries: host names
// ("relay.example.com"), IPs ("10.1.2.3", "::1") or CIDRs ("10.0.0.0/8").
// Empty entries are ignored; anything else that is not one of these is an
// error naming the entry.
//
// The official hosts of the platforms are reachable without an entry.
func NewGuard(platforms *senders.Registry, allowed []string) (*Guard, error) {
	g := &Guard{platforms: platforms, names: map[string]bool{}}
	for _, raw := range allowed {
		e := strings.ToLower(strings.TrimSpace(raw))
		if e == "" {
			continue
		}
		if strings.Contains(e, "/") {
			p, err := netip.ParsePrefix(e)
			if err != nil {
				return nil, fmt.Errorf("webhook allow-list entry %q is not a valid CIDR: %w", raw, err)
			}
			g.prefixes = append(g.prefixes, p.Masked())
			continue
		}
		if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(e, "["), "]")); err == nil {
			if a.Zone() != "" {
				return nil, fmt.Errorf("webhook allow-list entry %q: IPv6 zones are not supported", raw)
			}
			// The dialler sees ::ffff:a.b.c.d as a.b.c.d; list it that way.
			a = a.Unmap()
			g.prefixes = append(g.prefixes, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		e = strings.TrimSuffix(e, ".")
		if err := checkHostName(e); err != nil {
			return nil, fmt.Errorf("webhook allow-list entry %q: %w", raw, err)
		}
		g.names[e] = true
	}
	return g, nil
}

// CheckURL is the static check, made when a contact is saved and again before
// each send: it needs no DNS. It refuses non-http(s) schemes, credentials in
// the URL, numeric host forms other than dotted-decimal IPv4 and bracketed
// IPv6, official hosts over plain http, and any host that is neither official
// nor allow-listed. Every refusal wraps ErrRefused.
func (g *Guard) CheckURL(rawURL string) error {
	u, err := senders.ParseWebhookURL(rawURL)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrRefused, err)
	}
	scheme := strings.ToLower(u.Scheme)
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return refusef("port %q is not a valid port", port)
		}
	}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, "%") {
		return refusef("IPv6 zone identifiers are not allowed in webhook URLs")
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		if g.listed(addr) {
			return nil
		}
		if k := specialKind(addr); k != "" {
			return refusef("address %s is %s; list the address or its range in the webhook allow-list if this is intended", addr, k)
		}
		return refusef("address %s is not in the webhook allow-list", addr)
	}
	host = strings.TrimSuffix(host, ".")
	if endsInNumber(host) {
		return refusef("host %q looks like an IP address in a non-standard form (decimal, octal or hex); write it as dotted decimal", host)
	}
	if err := checkHostName(host); err != nil {
		return refusef("%v", err)
	}
	if _, ok := g.platforms.OfficialHost(host); ok {
		if scheme != "https" {
			return refusef("official host %s must be reached over https", host)
		}
		return nil
	}
	if g.names[host] {
		return nil
	}
	return refusef("host %s is not an official platform host and is not in the webhook allow-list", host)
}

// CheckWebhook is what saving a contact needs: the static URL check and the
// platform the URL belongs to.
func (g *Guard) CheckWebhook(rawURL string, explicit senders.Platform) (senders.Platform, error) {
	if err := g.CheckURL(rawURL); err != nil {
		return "", err
	}
	return g.platforms.Recognize(rawURL, explicit)
}

// CheckAddr is the connect-time check on the address actually dialled.
func (g *Guard) CheckAddr(addr netip.Addr) error {
	if g.listed(addr) {
		return nil
	}
	if k := specialKind(addr); k != "" {
		return refusef("connection to %s refused: it is %s; list the address or its range in the webhook allow-list if this is intended", addr, k)
	}
	return nil
}

// Control is a net.Dialer Control function applying CheckAddr to every
// address the dialer tries, after DNS resolution.
func (g *Guard) Control(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return refusef("cannot read dialled address %q: %v", address, err)
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return refusef("cannot read dialled address %q: %v", address, err)
	}
	return g.CheckAddr(addr)
}

func (g *Guard) listed(addr netip.Addr) bool {
	addr = addr.WithZone("")
	for _, p := range g.prefixes {
		if p.Contains(addr) || p.Contains(addr.Unmap()) {
			return true
		}
	}
	return false
}

// endsInNumber follows the WHATWG URL rule: a host whose last label is a
// number (decimal, 0-prefixed octal or 0x hex) is parsed by browsers and many
// resolvers as an IPv4 address, so "2130706433", "0177.0.0.1" and "0x7f.1"
// all mean 127.0.0.1. No real host name ends that way, so refuse them all.
func endsInNumber(host string) bool {
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	if strings.HasPrefix(last, "0x") {
		return strings.Trim(last[2:], "0123456789abcdef") == ""
	}
	return strings.Trim(last, "0123456789") == ""
}

func checkHostName(h string) error {
	if h == "" || len(h) > 253 {
		return fmt.Errorf("host name %q has an invalid length", h)
	}
	if strings.ContainsAny(h, ":[]") {
		return fmt.Errorf("host name %q must not contain a port or brackets", h)
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("host name %q has an empty or overlong label", h)
		}
		for _, c := range label {
			ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
			if !ok {
				return fmt.Errorf("host name %q contains %q; write international names in their xn-- form", h, c)
			}
		}
	}
	if endsInNumber(h) {
		return fmt.Errorf("host name %q ends in a number and would be read as an IP address", h)
	}
	return nil
}

func refusef(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrRefused, fmt.Sprintf(format, args...))
}

// ErrRefused marks a destination the Guard refuses; errors.Is finds it in
// both static checks and refused connections.
var ErrRefused = errors.New("webhook destination refused")

package notify

import (
	"fmt"
	"net/netip"
)

// specialRange is an address block that is not the public internet. Go's
// netip predicates (IsPrivate, IsLoopback…) miss CGNAT, benchmarking,
// documentation, reserved blocks and every IPv6 encoding of an IPv4 address,
// so the table is explicit.
type specialRange struct {
	prefix netip.Prefix
	kind   string
}

var specialV4 = []specialRange{
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified (this network)"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private"},
	{netip.MustParsePrefix("100.64.0.0/10"), "carrier-grade NAT (shared)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local (cloud metadata)"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignment"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation"},
	{netip.MustParsePrefix("192.88.99.0/24"), "6to4 relay anycast"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved or broadcast"},
}

var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
	globalV6  = netip.MustParsePrefix("2000::/3")
	specialV6 = []specialRange{
		{netip.MustParsePrefix("::/128"), "unspecified"},
		{netip.MustParsePrefix("::1/128"), "loopback"},
		{netip.MustParsePrefix("::/96"), "IPv4-compatible (deprecated)"},
		{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use NAT64"},
		{netip.MustParsePrefix("100::/64"), "discard-only"},
		{netip.MustParsePrefix("2001::/32"), "Teredo tunnel"},
		{netip.MustParsePrefix("2001:db8::/32"), "documentation"},
		{netip.MustParsePrefix("2001:10::/28"), "ORCHID"},
		{netip.MustParsePrefix("2001:20::/28"), "ORCHIDv2"},
		{netip.MustParsePrefix("fc00::/7"), "unique-local (private)"},
		{netip.MustParsePrefix("fe80::/10"), "link-local"},
		{netip.MustParsePrefix("fec0::/10"), "site-local (deprecated)"},
		{netip.MustParsePrefix("ff00::/8"), "multicast"},
	}
)

// specialKind describes why addr is not a public internet address, or returns
// "" when it is. IPv6 forms that carry an IPv4 address (mapped, NAT64, 6to4)
// are judged by the address they carry.
func specialKind(addr netip.Addr) string {
	addr = addr.WithZone("")
	if addr.Is4In6() {
		v4 := addr.Unmap()
		if k := specialKind(v4); k != "" {
			return fmt.Sprintf("IPv4-mapped form of %s, which is %s", v4, k)
		}
		return ""
	}
	if addr.Is4() {
		for _, r := range specialV4 {
			if r.prefix.Contains(addr) {
				return r.kind
			}
		}
		return ""
	}
	b := addr.As16()
	if nat64.Contains(addr) {
		v4 := netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
		if k := specialKind(v4); k != "" {
			return fmt.Sprintf("NAT64 form of %s, which is %s", v4, k)
		}
		return ""
	}
	if sixToFour.Contains(addr) {
		v4 := netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})
		if k := specialKind(v4); k != "" {
			return fmt.Sprintf("6to4 form of %s, which is %s", v4, k)
		}
		return ""
	}
	for _, r := range specialV6 {
		if r.prefix.Contains(addr) {
			return r.kind
		}
	}
	if !globalV6.Contains(addr) {
		return "reserved (outside global unicast)"
	}
	return ""
}

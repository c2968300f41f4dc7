package notify_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	. "github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/senders/notify"
	"github.com/heraldhq/herald/senders/platforms"
)

func mustGuard(t *testing.T, allowed ...string) *notify.Guard {
	t.Helper()
	g, err := notify.NewGuard(platforms.Registry, allowed)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestGuardRefusesDangerousURLsWithAClearReason(t *testing.T) {
	g := mustGuard(t, "relay.example.com")
	cases := map[string]string{
		"http://127.0.0.1/robot/send?access_token=x":       "127.0.0.1 is loopback",
		"http://[::1]/robot/send?access_token=x":           "::1 is loopback",
		"http://169.254.169.254/latest/meta-data":          "link-local (cloud metadata)",
		"http://[fd00:ec2::254]/latest/meta-data":          "unique-local",
		"http://10.0.0.1/robot/send":                       "10.0.0.1 is private",
		"http://172.16.5.4/":                               "private",
		"http://192.168.1.1/":                              "private",
		"http://100.64.0.1/":                               "carrier-grade NAT",
		"http://0.0.0.0/":                                  "unspecified",
		"http://[::]/":                                     "unspecified",
		"http://224.0.0.1/":                                "multicast",
		"http://[ff02::1]/":                                "multicast",
		"http://[fe80::1]/":                                "link-local",
		"http://[::ffff:127.0.0.1]/":                       "IPv4-mapped form of 127.0.0.1, which is loopback",
		"http://[::ffff:169.254.169.254]/":                 "IPv4-mapped form of 169.254.169.254",
		"http://[64:ff9b::7f00:1]/":                        "NAT64 form of 127.0.0.1, which is loopback",
		"http://[64:ff9b::a9fe:a9fe]/":                     "NAT64 form of 169.254.169.254",
		"http://[2002:7f00:1::]/":                          "6to4 form of 127.0.0.1, which is loopback",
		"http://[2002:a00:1::]/":                           "6to4 form of 10.0.0.1, which is private",
		"http://[fe80::1%25eth0]/":                         "zone",
		"http://2130706433/":                               "non-standard form",
		"http://0177.0.0.1/":                               "non-standard form",
		"http://0x7f.1/":                                   "non-standard form",
		"http://0x7f000001/":                               "non-standard form",
		"http://127.1/":                                    "non-standard form",
		"http://017700000001/":                             "non-standard form",
		"http://8.8.8.8/robot/send?access_token=x":         "8.8.8.8 is not in the webhook allow-list",
		"file:///etc/passwd":                               `scheme "file" is not allowed`,
		"gopher://relay.example.com:70/_GET":               `scheme "gopher" is not allowed`,
		"https://user:pw@relay.example.com/robot/send":     "credentials",
		"https://token@oapi.dingtalk.com/robot/send":       "credentials",
		"http://oapi.dingtalk.com/robot/send?access_token": "official host oapi.dingtalk.com must be reached over https",
		"http://open.feishu.cn/open-apis/bot/v2/hook/x":    "over https",
		"https://evil.example.com/robot/send?access_token": "evil.example.com is not an official platform host and is not in the webhook allow-list",
		"https://oapi.dingtalk.com.evil.com/robot/send":    "not an official platform host",
		"https://relay.example.com:99999/":                 "not a valid port",
		"https://réla y.example.com/":                      "does not parse",
		"https://rélay.example.com/":                       "xn--",
	}
	for url, want := range cases {
		err := g.CheckURL(url)
		if err == nil {
			t.Errorf("CheckURL(%q) accepted it", url)
			continue
		}
		if !errors.Is(err, notify.ErrRefused) {
			t.Errorf("CheckURL(%q) error is not notify.ErrRefused: %v", url, err)
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("CheckURL(%q) = %q; want it to say %q", url, err, want)
		}
	}
}

func TestGuardAllowsOfficialHostsOverHTTPSOnly(t *testing.T) {
	g := mustGuard(t)
	for _, u := range []string{
		"https://oapi.dingtalk.com/robot/send?access_token=x",
		"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x",
		"https://open.feishu.cn/open-apis/bot/v2/hook/x",
		"https://open.larksuite.com/open-apis/bot/v2/hook/x",
		"HTTPS://OAPI.DINGTALK.COM./robot/send?access_token=x",
	} {
		if err := g.CheckURL(u); err != nil {
			t.Errorf("CheckURL(%q) = %v; want allowed", u, err)
		}
	}
	if err := g.CheckURL("https://relay.example.com/robot/send?access_token=x"); err == nil {
		t.Error("a host outside the official ones was allowed without an allow-list")
	}
}

func TestAllowListOpensNamesIPsAndRangesOverHTTPOrHTTPS(t *testing.T) {
	g := mustGuard(t, " Relay.Example.com ", "203.0.113.7", "10.20.0.0/16", "[fd00::1]", "")
	for _, u := range []string{
		"http://relay.example.com/robot/send?access_token=x",
		"https://relay.example.com:8443/robot/send?access_token=x",
		"http://203.0.113.7/x",
		"http://10.20.3.4:8080/x",
		"http://[fd00::1]/x",
	} {
		if err := g.CheckURL(u); err != nil {
			t.Errorf("CheckURL(%q) = %v; want allowed", u, err)
		}
	}
	for _, u := range []string{"http://10.21.0.1/x", "http://sub.relay.example.com/x", "http://203.0.113.8/x"} {
		if err := g.CheckURL(u); err == nil {
			t.Errorf("CheckURL(%q) allowed; only listed entries should be", u)
		}
	}
}

func TestListedNameDoesNotOpenItsInternalAddress(t *testing.T) {
	// localhost is listed by name, but the address it resolves to is not:
	// the static check passes, the connect-time check refuses.
	g := mustGuard(t, "localhost")
	if err := g.CheckURL("http://localhost:8080/robot/send?access_token=x"); err != nil {
		t.Fatalf("listed name refused statically: %v", err)
	}
	for _, a := range []string{"127.0.0.1", "::1"} {
		err := g.CheckAddr(netip.MustParseAddr(a))
		if err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("CheckAddr(%s) = %v; want refused as loopback", a, err)
		}
	}
}

func TestConnectTimeCheckRefusesEveryInternalEncoding(t *testing.T) {
	g := mustGuard(t)
	for _, a := range []string{
		"127.0.0.1", "127.255.0.1", "10.1.1.1", "172.31.255.255", "192.168.0.1", "100.64.0.1",
		"100.127.255.254", "169.254.169.254", "0.0.0.0", "224.0.0.251", "255.255.255.255",
		"198.18.0.1", "192.0.0.170", "::1", "::", "fd00:ec2::254", "fc00::1", "fe80::1",
		"fe80::1%eth0", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::7f00:1",
		"64:ff9b::a9fe:a9fe", "64:ff9b:1::1", "2002:7f00:1::", "2002:a9fe:a9fe::1", "2001::1",
		"::127.0.0.1", "2001:db8::1",
	} {
		if err := g.Control("tcp", netip.AddrPortFrom(netip.MustParseAddr(a), 443).String(), nil); err == nil {
			t.Errorf("Control accepted %s", a)
		} else if !errors.Is(err, notify.ErrRefused) {
			t.Errorf("Control(%s) error is not notify.ErrRefused: %v", a, err)
		}
	}
	for _, a := range []string{"8.8.8.8", "203.119.0.1", "2606:4700::1111", "64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8"} {
		if err := g.Control("tcp", netip.AddrPortFrom(netip.MustParseAddr(a), 443).String(), nil); err != nil {
			t.Errorf("Control refused public %s: %v", a, err)
		}
	}
}

func TestListedRangeOpensItsAddressesAtConnectTime(t *testing.T) {
	g := mustGuard(t, "127.0.0.0/8", "fd00::/8")
	for _, a := range []string{"127.0.0.1", "127.9.9.9", "::ffff:127.0.0.1", "fd12::1"} {
		if err := g.CheckAddr(netip.MustParseAddr(a)); err != nil {
			t.Errorf("CheckAddr(%s) = %v; the range is listed", a, err)
		}
	}
	if err := g.CheckAddr(netip.MustParseAddr("10.0.0.1")); err == nil {
		t.Error("an unlisted private address was accepted")
	}
}

func TestNewGuardRejectsMalformedEntries(t *testing.T) {
	for _, e := range []string{"10.0.0.0/33", "host:8080", "*.example.com", "exa mple.com", "fe80::1%eth0", "0x7f.1", "2130706433"} {
		if _, err := notify.NewGuard(platforms.Registry, []string{e}); err == nil || !strings.Contains(err.Error(), e) {
			t.Errorf("notify.NewGuard(platforms.Registry, %q) = %v; want an error naming the entry", e, err)
		}
	}
}

func TestCheckWebhookGivesThePlatformOfAnAllowedURL(t *testing.T) {
	g := mustGuard(t)
	p, err := g.CheckWebhook("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x", "")
	if err != nil || p != WeCom {
		t.Fatalf("CheckWebhook = %q, %v", p, err)
	}
	if _, err := g.CheckWebhook("http://127.0.0.1/robot/send?access_token=x", DingTalk); !errors.Is(err, notify.ErrRefused) {
		t.Fatalf("CheckWebhook let a loopback URL through: %v", err)
	}
}

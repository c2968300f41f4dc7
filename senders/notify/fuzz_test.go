package notify_test

import (
	"net/url"
	"strings"
	"testing"

	. "github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/senders/notify"
	"github.com/heraldhq/herald/senders/platforms"
)

// FuzzRecognizeAndCheckURL holds the guard's promises on any input: no
// panic; what the default guard accepts is https to an official host without
// credentials; what an allow-listed guard accepts is http(s) to a listed name
// or address; RedactURL never leaks a long token. The seeds run in plain go test.
func FuzzRecognizeAndCheckURL(f *testing.F) {
	for _, s := range []string{
		"https://oapi.dingtalk.com/robot/send?access_token=abcdef0123456789",
		"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abcdef0123456789",
		"https://open.feishu.cn/open-apis/bot/v2/hook/abcdef0123456789",
		"https://open.larksuite.com/open-apis/bot/v2/hook/x",
		"http://oapi.dingtalk.com/robot/send?access_token=x",
		"http://127.0.0.1:8080/robot/send?access_token=x",
		"http://[::ffff:127.0.0.1]/", "http://[64:ff9b::7f00:1]/", "http://[2002:7f00:1::]/",
		"http://2130706433/", "http://0177.0.0.1/", "http://0x7f.1/", "http://[fe80::1%25en0]/",
		"file:///etc/passwd", "gopher://x:70/", "https://u:p@oapi.dingtalk.com/",
		"https://oapi.dingtalk.com.evil.com/robot/send", "HTTPS://OPEN.FEISHU.CN./open-apis/bot/v2/hook/T",
		"https://relay.example.com/x/open-apis/bot/v2/hook/tok", "//oapi.dingtalk.com/robot/send", "",
		"https://oapi.dingtalk.com:0/", "https://%6fapi.dingtalk.com/", "https://oapi.dingtalk.com\\@evil.com/",
	} {
		f.Add(s)
	}
	def, _ := notify.NewGuard(platforms.Registry, nil)
	listed, _ := notify.NewGuard(platforms.Registry, []string{"relay.example.com", "10.0.0.0/8"})
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := platforms.Registry.Recognize(raw, "")
		if _, known := platforms.Registry.Lookup(p); err == nil && (!known || len(raw) > MaxURLBytes) {
			t.Fatalf("platforms.Registry.Recognize(%q) = %q", raw, p)
		}
		if err := def.CheckURL(raw); err == nil {
			u, perr := url.Parse(raw)
			if perr != nil {
				t.Fatalf("accepted unparseable %q", raw)
			}
			if _, official := platforms.Registry.OfficialHost(u.Hostname()); !official || !strings.EqualFold(u.Scheme, "https") || u.User != nil {
				t.Fatalf("default guard accepted %q", raw)
			}
			if _, err := platforms.Registry.Recognize(raw, ""); err != nil {
				t.Fatalf("an official URL %q is not recognised: %v", raw, err)
			}
		}
		if err := listed.CheckURL(raw); err == nil {
			u, _ := url.Parse(raw)
			h := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
			_, official := platforms.Registry.OfficialHost(h)
			if !official && h != "relay.example.com" && !strings.HasPrefix(h, "10.") && !strings.HasPrefix(h, "::ffff:10.") {
				t.Fatalf("allow-list guard accepted %q (host %q)", raw, h)
			}
		}
		red := RedactURL(raw)
		if u, err := url.Parse(raw); err == nil {
			ru, err := url.Parse(red)
			if err != nil {
				t.Fatalf("RedactURL(%q) = %q does not parse", raw, red)
			}
			for _, k := range []string{"access_token", "key", "sign"} {
				if v := u.Query().Get(k); v != "" && !strings.Contains(v, "****") && ru.Query().Get(k) == v {
					t.Fatalf("RedactURL(%q) = %q leaked %s", raw, red, k)
				}
			}
		}
	})
}

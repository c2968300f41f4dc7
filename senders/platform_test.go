package senders_test

import (
	"errors"
	. "github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/senders/platforms"
	"strings"
	"testing"
)

func TestRecognizeOfficialHostsThenPathsThenExplicit(t *testing.T) {
	cases := []struct {
		url      string
		explicit Platform
		want     Platform
	}{
		{"https://oapi.dingtalk.com/robot/send?access_token=abc", "", DingTalk},
		{"https://OAPI.DingTalk.com/anything", "", DingTalk},
		{"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", "", WeCom},
		{"https://open.feishu.cn/open-apis/bot/v2/hook/t", "", Lark},
		{"https://open.larksuite.com/open-apis/bot/v2/hook/t", "", Lark},
		{"https://relay.example.com/robot/send?access_token=abc", "", DingTalk},
		{"https://relay.example.com/dingtalk/robot/send?access_token=abc", "", DingTalk},
		{"https://relay.example.com/cgi-bin/webhook/send?key=abc", "", WeCom},
		{"http://relay.example.com/feishu/open-apis/bot/v2/hook/abc-123", "", Lark},
		// Explicit wins over host and path.
		{"https://oapi.dingtalk.com/robot/send?access_token=abc", WeCom, WeCom},
		{"https://relay.example.com/custom", Lark, Lark},
	}
	for _, c := range cases {
		got, err := platforms.Registry.Recognize(c.url, c.explicit)
		if err != nil || got != c.want {
			t.Errorf("platforms.Registry.Recognize(%q, %q) = %q, %v; want %q", c.url, c.explicit, got, err, c.want)
		}
	}
}

func TestRecognizeRefusesWhatItCannotTell(t *testing.T) {
	cases := map[string]string{
		"https://relay.example.com/robot/send":                 "give platform explicitly", // no access_token
		"https://relay.example.com/cgi-bin/webhook/send":       "give platform explicitly", // no key
		"https://relay.example.com/open-apis/bot/v2/hook/":     "give platform explicitly", // no token
		"https://relay.example.com/open-apis/bot/v2/hook/a/b":  "give platform explicitly",
		"https://example.com/":                                 "give platform explicitly",
		"ftp://oapi.dingtalk.com/robot/send?access_token=x":    "scheme",
		"https://user:pw@oapi.dingtalk.com/robot/send":         "credentials",
		"https://" + strings.Repeat("a", MaxURLBytes) + ".com": "longer than",
		"": "empty",
		"oapi.dingtalk.com/robot/send?access_token=x": "no scheme",
		"https:///robot/send":                         "no host",
		"https://exa mple.com":                        "does not parse",
	}
	for url, want := range cases {
		p, err := platforms.Registry.Recognize(url, "")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("platforms.Registry.Recognize(%q) = %q, %v; want error containing %q", url, p, err, want)
		}
	}
	if _, err := platforms.Registry.Recognize("https://example.com/", ""); !errors.Is(err, ErrUnknownPlatform) {
		t.Errorf("unknown platform error is not ErrUnknownPlatform: %v", err)
	}
}

func TestExplicitPlatformStillValidatesTheURL(t *testing.T) {
	for _, u := range []string{"file:///etc/passwd", "https://u:p@relay.example.com/x", "https://" + strings.Repeat("x", 2100)} {
		if _, err := platforms.Registry.Recognize(u, DingTalk); err == nil {
			t.Errorf("platforms.Registry.Recognize(%q, DINGTALK) accepted it", u)
		}
	}
	if _, err := platforms.Registry.Recognize("https://relay.example.com/x", "SLACK"); err == nil || !strings.Contains(err.Error(), "unknown platform") {
		t.Errorf("an unknown explicit platform was accepted: %v", err)
	}
}

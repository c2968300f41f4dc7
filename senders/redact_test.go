package senders

import (
	"strings"
	"testing"
)

func TestRedactURLHidesEveryCredential(t *testing.T) {
	cases := map[string]string{
		"https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef0123&timestamp=1&sign=abc%2Bdef": "https://oapi.dingtalk.com/robot/send?access_token=0123****0123&timestamp=1&sign=****",
		"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa":         "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a****5aaa",
		"https://open.feishu.cn/open-apis/bot/v2/hook/7d7b6a5e-1111-2222-3333-abcdefabcdef":                 "https://open.feishu.cn/open-apis/bot/v2/hook/7d7b****cdef",
		"https://open.feishu.cn/open-apis/bot/v2/hook/short":                                                "https://open.feishu.cn/open-apis/bot/v2/hook/****",
		"http://u:secretpw@relay.example.com/x?key=shortkey":                                                "http://u:****@relay.example.com/x?key=****",
	}
	for in, want := range cases {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q)\n got %q\nwant %q", in, got, want)
		}
	}
	if got := RedactURL("http://[::1"); strings.Contains(got, "::1") {
		t.Errorf("unparseable URL echoed: %q", got)
	}
}

package senders

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Platform names a chat platform; the values match the GraphQL enum.
type Platform string

const (
	DingTalk Platform = "DINGTALK"
	WeCom    Platform = "WECOM"
	Lark     Platform = "LARK"
)

// MaxURLBytes bounds a webhook URL; real ones are well under 300 bytes, and a
// bound keeps hostile input out of logs and the database.
const MaxURLBytes = 2048

// ErrUnknownPlatform is returned by Recognize when neither the host nor the
// path identifies a platform.
var ErrUnknownPlatform = errors.New("cannot tell the platform from this URL; give platform explicitly")

// Valid reports whether p is one of the platforms Herald speaks.
func (p Platform) Valid() bool {
	switch p {
	case DingTalk, WeCom, Lark:
		return true
	}
	return false
}

// officialHosts are the hosts the platforms publish for their webhooks. They
// are the only destinations reachable without an allow-list entry.
var officialHosts = map[string]Platform{
	"oapi.dingtalk.com":   DingTalk,
	"qyapi.weixin.qq.com": WeCom,
	"open.feishu.cn":      Lark,
	"open.larksuite.com":  Lark,
}

// OfficialHost reports the platform whose official webhook host is host.
func OfficialHost(host string) (Platform, bool) {
	p, ok := officialHosts[strings.TrimSuffix(strings.ToLower(host), ".")]
	return p, ok
}

const larkHookPath = "/open-apis/bot/v2/hook/"

// Recognize returns the platform of a webhook URL: explicit wins when given,
// otherwise the official host, then the path. Paths are matched by suffix
// (DingTalk, WeCom) or by the Lark hook segment anywhere, because relays
// commonly mount the platform path under a prefix of their own.
//
// Recognize does not decide whether the URL may be reached; Guard does.
func Recognize(rawURL string, explicit Platform) (Platform, error) {
	u, err := parseWebhookURL(rawURL)
	if err != nil {
		return "", err
	}
	if explicit != "" {
		if !explicit.Valid() {
			return "", fmt.Errorf("unknown platform %q: want DINGTALK, WECOM or LARK", string(explicit))
		}
		return explicit, nil
	}
	if p, ok := OfficialHost(u.Hostname()); ok {
		return p, nil
	}
	q := u.Query()
	switch {
	case strings.HasSuffix(u.Path, "/robot/send") && q.Get("access_token") != "":
		return DingTalk, nil
	case strings.HasSuffix(u.Path, "/cgi-bin/webhook/send") && q.Get("key") != "":
		return WeCom, nil
	case larkToken(u.Path) != "":
		return Lark, nil
	}
	return "", ErrUnknownPlatform
}

// larkToken returns the hook token of a Lark webhook path, or "".
func larkToken(path string) string {
	i := strings.Index(path, larkHookPath)
	if i < 0 {
		return ""
	}
	tok := path[i+len(larkHookPath):]
	if strings.Contains(tok, "/") {
		return ""
	}
	return tok
}

// parseWebhookURL does the checks every webhook URL must pass regardless of
// platform or allow-list: size, syntax, http(s), a host, no credentials.
func parseWebhookURL(rawURL string) (*url.URL, error) {
	if len(rawURL) > MaxURLBytes {
		return nil, fmt.Errorf("webhook URL is %d bytes, longer than the %d allowed", len(rawURL), MaxURLBytes)
	}
	if rawURL == "" {
		return nil, errors.New("webhook URL is empty")
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error repeats the whole URL, token included; say only what is wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("webhook URL does not parse: %w", err)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "":
		return nil, errors.New("webhook URL has no scheme; it must start with https://")
	default:
		return nil, fmt.Errorf("webhook URL scheme %q is not allowed; only https (or http for an allow-listed host)", u.Scheme)
	}
	if u.Opaque != "" {
		return nil, errors.New("webhook URL must have the form scheme://host/path")
	}
	if u.User != nil {
		return nil, errors.New("webhook URL must not carry credentials (user:password@host)")
	}
	if u.Hostname() == "" {
		return nil, errors.New("webhook URL has no host")
	}
	return u, nil
}

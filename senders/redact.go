package senders

import (
	"net/url"
	"regexp"
	"strings"
)

// Redaction does not depend on recognising a platform: every credential shape any platform uses is
// masked in every URL, so a URL is masked even when it names no known platform (a relay, a typo).

// hookPath is the path segment after which Lark (and relays mimicking it) put the hook token.
const hookPath = "/open-apis/bot/v2/hook/"

// secretParams are the query parameters that grant the right to post (or
// prove it): a URL with them in the clear is a credential.
var secretParams = map[string]bool{"access_token": true, "key": true, "sign": true}

// RedactURL masks the credentials of a webhook URL for logs and displays: the
// DingTalk access_token, the WeCom key, the Lark hook token (first and last 4
// characters kept so people can tell robots apart), the signature, and any
// password. A URL that does not parse is replaced entirely.
func RedactURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "[unparseable URL]"
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "****")
		}
	}
	if i := strings.Index(u.Path, hookPath); i >= 0 {
		head, tok := u.Path[:i+len(hookPath)], u.Path[i+len(hookPath):]
		rest := ""
		if j := strings.IndexByte(tok, '/'); j >= 0 {
			tok, rest = tok[:j], tok[j:]
		}
		u.Path = head + Mask(tok) + rest
		u.RawPath = ""
	}
	u.RawQuery = mapQuery(u.RawQuery, func(key, value string) string {
		switch {
		case key == "sign":
			return "****"
		case secretParams[key]:
			return Mask(value)
		}
		return value
	})
	u.Fragment, u.RawFragment = "", ""
	// url escapes the mask's asterisks; logs read better without that.
	out := strings.ReplaceAll(u.String(), "%2A%2A%2A%2A", "****")
	if _, err := url.Parse(out); err != nil {
		// net/url does not always re-escape what it parsed into something it parses again (an IPv6
		// zone holding "%25\x80" comes back as "%25%80"); such a URL is no use in a log anyway.
		return "[unparseable URL]"
	}
	return out
}

// Mask keeps the first and last four characters of a credential and hides
// the rest; short values are hidden entirely.
func Mask(s string) string {
	if len(s) <= 12 {
		return "****"
	}
	return s[:4] + "****" + s[len(s)-4:]
}

// mapQuery rewrites query values in place, keeping parameter order, which
// url.Values.Encode would not.
func mapQuery(rawQuery string, f func(key, value string) string) string {
	if rawQuery == "" {
		return ""
	}
	parts := strings.Split(rawQuery, "&")
	for i, part := range parts {
		k, v, hasValue := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			key = k
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			val = v
		}
		nv := f(key, val)
		if nv == val {
			continue
		}
		if !hasValue && nv == "" {
			continue
		}
		parts[i] = k + "=" + url.QueryEscape(nv)
	}
	return strings.Join(parts, "&")
}

// RedactedPlaceholder stands in for signature values in RedactSignature's output.
const RedactedPlaceholder = "REDACTED"

var signatureField = regexp.MustCompile(`"(sign|timestamp)":"[^"]*"`)

// RedactSignature replaces a rendered request's signature values (sign,
// timestamp, in its URL or at its body's top level) by RedactedPlaceholder,
// so that a preview shows the request without a usable signature.
func RedactSignature(req Request) Request {
	if u, err := url.Parse(req.URL); err == nil && u.RawQuery != "" {
		u.RawQuery = mapQuery(u.RawQuery, func(k, v string) string {
			if k == "sign" || k == "timestamp" {
				return RedactedPlaceholder
			}
			return v
		})
		req.URL = u.String()
	}
	// Quotes inside JSON string values are escaped, so this pattern only
	// matches real keys; platforms put their signature at the top level.
	req.Body = signatureField.ReplaceAll(req.Body, []byte(`"$1":"`+RedactedPlaceholder+`"`))
	return req
}

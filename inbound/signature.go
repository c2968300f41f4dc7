package inbound

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Grafana's HMAC headers. Grafana's signature header defaults to this name; its timestamp header
// has no default, and Herald reads the name Grafana's own examples use, which the README tells
// users to set.
const (
	SignatureHeader = "X-Grafana-Alerting-Signature"
	TimestampHeader = "X-Grafana-Alerting-Timestamp"
	// MaxClockSkew is how far a signed timestamp may be from Herald's clock: the window in which
	// a captured request could be replayed (and would then be a duplicate anyway).
	MaxClockSkew = 5 * time.Minute
)

// Sign is Grafana's signature of body: lowercase hex of HMAC-SHA256 with the secret, over
// "ts:body" when a timestamp is sent and over the body alone otherwise.
func Sign(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	if timestamp != "" {
		mac.Write([]byte(timestamp + ":"))
	}
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// verifySignature checks a Grafana request's signature, and its timestamp when one is sent.
// It returns why it refuses, or "".
func verifySignature(h http.Header, secret string, body []byte, now time.Time) string {
	got := strings.ToLower(strings.TrimSpace(h.Get(SignatureHeader)))
	if got == "" {
		return "the request is not signed: set the contact point's HMAC secret, or remove the integration's signing secret"
	}
	ts := strings.TrimSpace(h.Get(TimestampHeader))
	if ts != "" {
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			return TimestampHeader + " is not a Unix time in seconds"
		}
		if skew := now.Sub(time.Unix(sec, 0)); skew > MaxClockSkew || skew < -MaxClockSkew {
			return TimestampHeader + " is more than 5 minutes from Herald's clock"
		}
	}
	want := Sign(secret, ts, body)
	if !hmac.Equal([]byte(got), []byte(want)) {
		return "the signature does not match: check the HMAC secret"
	}
	return ""
}

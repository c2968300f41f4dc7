package senders

import (
	"testing"
	"time"
)

func TestVerdictAppliesTheRulesAllPlatformsShare(t *testing.T) {
	code := func(n int) *int { return &n }
	decide := func(c int, _ string) (Outcome, time.Duration) {
		if c == 7 {
			return Retryable, time.Minute
		}
		return Permanent, 0
	}
	cases := []struct {
		name   string
		status int
		a      Answer
		want   Outcome
	}{
		{"200 with code 0 is sent", 200, Answer{Parsed: true, Code: code(0)}, Sent},
		{"200 without code is sent", 200, Answer{Parsed: true}, Sent},
		{"200 with a non-zero code is a failure", 200, Answer{Parsed: true, Code: code(9), Message: "bad"}, Permanent},
		{"the platform decides its codes", 200, Answer{Parsed: true, Code: code(7)}, Retryable},
		{"5xx is retryable", 502, Answer{}, Retryable},
		{"429 is retryable", 429, Answer{}, Retryable},
		{"5xx with a permanent code is still retryable", 500, Answer{Parsed: true, Code: code(9)}, Retryable},
		{"4xx without code is permanent", 404, Answer{}, Permanent},
		{"4xx with a retryable code is retryable", 400, Answer{Parsed: true, Code: code(7)}, Retryable},
		{"200 that is not the platform's JSON is permanent", 200, Answer{}, Permanent},
	}
	for _, c := range cases {
		r := Verdict("DingTalk", c.status, c.a, decide)
		if r.Outcome != c.want {
			t.Errorf("%s: got %v (%v)", c.name, r.Outcome, r.Err)
		}
		if (r.Outcome == Sent) != (r.Err == nil) {
			t.Errorf("%s: Err must be nil exactly when Sent, got %v", c.name, r.Err)
		}
	}
	r := Verdict("WeCom", 200, Answer{Parsed: true, Code: code(93000), Message: "invalid webhook url"}, decide)
	if r.Err.Error() != "WeCom answered code 93000: invalid webhook url" || *r.PlatformCode != 93000 || r.PlatformMessage != "invalid webhook url" {
		t.Fatalf("failure does not carry code and message verbatim: %+v", r)
	}
}

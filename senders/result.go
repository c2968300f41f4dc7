package senders

import (
	"fmt"
	"time"
)

// Outcome is what a send came to; it is stored with each attempt. The zero value is deliberately
// not Sent, so a forgotten Result never reads as a delivery.
type Outcome string

const (
	Sent      Outcome = "SENT"
	Retryable Outcome = "RETRYABLE"
	Permanent Outcome = "PERMANENT"
)

// Result is the outcome of one send. Err never contains the webhook token,
// key or secret, so it can be logged and stored as is.
type Result struct {
	Outcome         Outcome
	HTTPStatus      int           // 0 when no response
	PlatformCode    *int          // nil when the body had no code
	PlatformMessage string        // verbatim errmsg/msg
	RetryAfter      time.Duration // suggested delay, 0 if none
	Duration        time.Duration
	Truncated       bool  // content was cut to fit the platform's limit
	Err             error // nil when Sent
	// Notes are what the reader of the attempt should know beside its verdict: a card sent as
	// markdown and why, a companion message with the mentions that failed.
	Notes []string
}

// Answer is what a platform package extracted from a response body.
type Answer struct {
	Parsed  bool   // the body was the platform's JSON
	Code    *int   // nil when the body had no code
	Message string // verbatim
}

// Decide maps a non-zero platform code to an outcome and suggested delay.
type Decide func(code int, msg string) (Outcome, time.Duration)

// Verdict turns an HTTP status and a parsed answer into a Result, applying
// the rules common to all platforms: a non-zero code is a failure even under
// HTTP 200, 5xx and 429 are worth retrying, other statuses are not.
//
// A 200 whose body is not the platform's JSON is Permanent: the platforms
// always answer JSON, so such a body nearly always means the URL points at
// something that is not a robot (a login page, a relay misconfiguration),
// and retrying would only repeat it. Proxies in trouble answer 5xx, which is
// retried.
//
// name is the platform as written in the error text.
func Verdict(name string, status int, a Answer, decide Decide) Result {
	r := Result{HTTPStatus: status, PlatformCode: a.Code, PlatformMessage: a.Message}
	serverTrouble := status == 429 || status >= 500
	switch {
	case a.Parsed && a.Code != nil && *a.Code != 0:
		r.Outcome, r.RetryAfter = decide(*a.Code, a.Message)
		if serverTrouble {
			r.Outcome = Retryable
		}
		r.Err = fmt.Errorf("%s answered code %d: %s", name, *a.Code, a.Message)
	case serverTrouble:
		r.Outcome = Retryable
		r.Err = fmt.Errorf("%s answered HTTP %d", name, status)
	case status < 200 || status > 299:
		r.Outcome = Permanent
		r.Err = fmt.Errorf("%s answered HTTP %d", name, status)
	case !a.Parsed:
		r.Outcome = Permanent
		r.Err = fmt.Errorf("%s answered HTTP %d with a body that is not its JSON; check that the URL points at a robot", name, status)
	default:
		r.Outcome = Sent
	}
	return r
}

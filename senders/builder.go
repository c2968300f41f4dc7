package senders

import "time"

// Builder is what each platform package implements: its wire format and the meaning of its answers.
type Builder interface {
	// Build renders the HTTP request body for a message. now is used for signing.
	Build(t Robot, m Message, now time.Time) (Request, error)
	// Classify reads the platform's answer.
	Classify(httpStatus int, body []byte) Result
}

// Request is a rendered webhook call.
type Request struct {
	URL       string // includes signing query params when applicable
	Body      []byte
	Truncated bool // content was cut to fit the platform's limit
	// Companion is a short text message sent right after this one, to the same URL, carrying the
	// mentions of a message whose format cannot mention anyone (a DingTalk actionCard, a WeCom
	// template_card); nil when none is needed.
	Companion *Request
	// Fallback says why a CARD was sent in another format ("" when it was not, or was no card).
	Fallback string
}

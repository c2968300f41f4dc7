// Package senders delivers alert messages to chat-bot webhooks.
//
// The package owns what every platform shares: the Message, the Result of a
// send, recognising a platform from a webhook URL, the SSRF Guard and the HTTP
// client (Notifier). Each platform package (dingtalk, wecom, lark) implements
// Builder: it renders the request body for its wire format and reads the
// platform's answer. Retry policy, rate budgets and persistence belong to the
// caller; a Result only says whether a retry can help.
//
// Package fakeplatform speaks all three platforms on loopback for tests,
// demos and benchmarks.
package senders

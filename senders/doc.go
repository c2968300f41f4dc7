// Package senders is what every platform shares: the Message, the Robot it
// goes to, the Result of a send and its Outcome, and the platforms' own
// descriptions (Descriptor, Registry: recognising a platform from a webhook
// URL, its official hosts, its rate windows). Each platform package (dingtalk,
// wecom, lark) exports a Descriptor and implements Builder: it renders the
// request body for its wire format and reads the platform's answer. Package
// platforms lists them.
//
// Nothing here makes a network call: package notify is the guarded HTTP
// client that sends what a Builder renders. Retry policy, rate budgets and
// persistence belong to package delivery; a Result only says whether a retry
// can help.
//
// Package fakeplatform speaks all three platforms on loopback for tests,
// demos and benchmarks.
package senders

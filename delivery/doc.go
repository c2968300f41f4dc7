// Package delivery owns the alert lifecycle: the outbox's tables (outbox.go), accepting an alert
// and planning its deliveries from the recipients package models resolves (accept.go, plan.go),
// claiming, sending and recording (claim.go, spend.go, dispatcher.go, record.go), the typed
// statements that change outbox rows (queue.go), the retry and breaker policy (retry.go), settling
// alerts (settle.go), the history the API reads (history.go) and its deletion once it is old
// (retention.go).
//
// Deliveries wait in the database (an outbox written in the same transaction as the alert). A
// Dispatcher polls for robots with due deliveries and claims them, up to a hundred robots in one
// short transaction: the robots' rows are locked FOR UPDATE SKIP LOCKED, so replicas sharing the
// database never serve one robot at once; each robot's rate budget is read from a send log that every
// replica writes; the deliveries get a lease (their next_attempt_at) and the claim's token. Each step
// is one statement for all the robots, so a fan-out to a thousand robots costs a handful of claims.
//
// The HTTP calls happen after that transaction, one worker per robot, at most Workers at once. Their
// results are recorded in groups: while one recording transaction is being written, the results
// that arrive wait and are then written together, with one statement per kind of change. Each
// delivery's result is recorded only if the claim token still matches, so a worker whose lease ran
// out cannot overwrite the work of the one that took over. A worker is free again once its results
// are recorded, so at most Workers robots have been sent to without their results being stored.
// Leases are short and renewed by a heartbeat while their claim is in flight (heartbeat.go), so a
// crashed process's lease soon runs out and its deliveries become due again: delivery is at least
// once, and a robot gets a message twice only when a process dies between sending it and recording
// the result. While the database is unreachable, results are held and recorded when it answers.
//
// When more alerts wait for a robot than its budget allows, they are combined into fewer messages
// instead of waiting for the next minute. A robot that keeps failing is paused by a circuit breaker
// so that its deliveries wait instead of burning attempts.
//
// The database's clock is the only clock: replicas with skewed clocks still agree on what is due.
package delivery

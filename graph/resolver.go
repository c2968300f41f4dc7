package graph

import (
	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/senders/notify"
)

// Waker is the part of the dispatcher the API needs: a nudge after an alert is committed, so that
// delivery starts at once instead of at the next poll.
type Waker interface{ Wake() }

// Resolver is where the API's dependencies come in; server.go fills it.
type Resolver struct {
	// Store is the address book: contacts, groups, memberships, tokens and the audit log.
	Store *models.Store
	// Outbox accepts alerts and reads their history.
	Outbox *delivery.Outbox
	// Notifier is the webhook client; the platforms query lists the platforms it speaks.
	Notifier   *notify.Notifier
	Dispatcher Waker
	// PublicURL is HERALD_PUBLIC_URL without a trailing slash: the base of integrations' hook URLs.
	PublicURL string
	// Feed reports changes to subscriptions; SubscriptionsPerToken bounds how many one token holds.
	Feed                  *delivery.Feed
	SubscriptionsPerToken int

	live liveSlots
}

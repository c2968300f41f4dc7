package graph

import (
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/senders"
)

// Waker is the part of the dispatcher the API needs: a nudge after an alert is committed, so that
// delivery starts at once instead of at the next poll.
type Waker interface{ Wake() }

// Resolver is where the API's dependencies come in; server.go fills it.
type Resolver struct {
	Store *models.Store
	// Notifier renders previews exactly as the dispatcher will send them.
	Notifier   *senders.Notifier
	Dispatcher Waker
}

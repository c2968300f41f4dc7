package graph

import (
	"context"
	"time"

	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/models"
	"github.com/vikstrous/dataloadgen"
)

// loaderWait is how long a loader collects keys before it queries. gqlgen resolves sibling fields
// concurrently, so a millisecond gathers a whole page; dataloadgen's 16 ms default would add that
// much latency to every nested level.
const loaderWait = time.Millisecond

// Loaders batch the nested fields of one request into one statement per field.
type Loaders struct {
	WebhooksByContact   *dataloadgen.Loader[uint, []*models.Webhook]
	GroupsByContact     *dataloadgen.Loader[uint, []*models.Group]
	ContactsByGroup     *dataloadgen.Loader[uint, []*models.Contact]
	ContactCountByGroup *dataloadgen.Loader[uint, int]
	ContactByID         *dataloadgen.Loader[uint, *models.Contact]
	GroupByID           *dataloadgen.Loader[uint, *models.Group]
	DeliveriesByAlert   *dataloadgen.Loader[uint, []*delivery.Delivery]
	AttemptsByDelivery  *dataloadgen.Loader[uint, []*delivery.DeliveryAttempt]
}

// fillKeys adapts a map-returning batch read to a loader: every key gets a value, the zero value
// (an empty list, a zero count) when the read returned nothing for it.
func fillKeys[V any](read func(context.Context, []uint) (map[uint]V, error)) func(context.Context, []uint) ([]V, []error) {
	return func(ctx context.Context, keys []uint) ([]V, []error) {
		m, err := read(ctx, keys)
		if err != nil {
			return nil, []error{err}
		}
		out := make([]V, len(keys))
		for i, k := range keys {
			out[i] = m[k]
		}
		return out, nil
	}
}

// NewLoaders creates the loaders of one request. They cache, so they must never outlive it.
func NewLoaders(s *models.Store, o *delivery.Outbox) *Loaders {
	wait := dataloadgen.WithWait(loaderWait)
	return &Loaders{
		WebhooksByContact:   dataloadgen.NewLoader(fillKeys(s.WebhooksByContact), wait),
		GroupsByContact:     dataloadgen.NewLoader(fillKeys(s.GroupsByContact), wait),
		ContactsByGroup:     dataloadgen.NewLoader(fillKeys(s.ContactsByGroup), wait),
		ContactCountByGroup: dataloadgen.NewLoader(fillKeys(s.ContactCountByGroup), wait),
		ContactByID:         dataloadgen.NewLoader(fillKeys(s.ContactsByID), wait),
		GroupByID:           dataloadgen.NewLoader(fillKeys(s.GroupsByID), wait),
		DeliveriesByAlert:   dataloadgen.NewLoader(fillKeys(o.DeliveriesByAlert), wait),
		AttemptsByDelivery:  dataloadgen.NewLoader(fillKeys(o.AttemptsByDelivery), wait),
	}
}

type loadersKey struct{}

func loadersFor(ctx context.Context) *Loaders {
	return ctx.Value(loadersKey{}).(*Loaders)
}

package graph

import (
	"context"
	"sync"
	"time"

	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/models"
	"github.com/vikstrous/dataloadgen"
)

// loaderWait is how long a loader collects keys before it queries. gqlgen resolves sibling fields
// concurrently, so a millisecond gathers a whole page; dataloadgen's 16 ms default would add that
// much latency to every nested level.
const loaderWait = time.Millisecond

// batchRead reads the values of any number of keys in one statement; a key it has nothing for is
// simply absent.
type batchRead[V any] func(context.Context, []uint) (map[uint]V, error)

// loader is a per-request dataloader together with its batch read, so that prefetching can call
// the read for a whole page and prime the cache with what it got.
type loader[V any] struct {
	*dataloadgen.Loader[uint, V]
	read batchRead[V]
}

func newLoader[V any](read batchRead[V]) *loader[V] {
	batch := func(ctx context.Context, keys []uint) ([]V, []error) {
		m, err := read(ctx, keys)
		if err != nil {
			return nil, []error{err}
		}
		return valuesOf(keys, m), nil
	}
	return &loader[V]{Loader: dataloadgen.NewLoader(batch, dataloadgen.WithWait(loaderWait)), read: read}
}

// prime fills the cache for every key, with the zero value (an empty list, a zero count) where m
// has none, as the batch read would have.
func (l *loader[V]) prime(keys []uint, m map[uint]V) {
	for i, v := range valuesOf(keys, m) {
		l.Prime(keys[i], v)
	}
}

// valuesOf is m's value of each key, the zero value where m has none.
func valuesOf[V any](keys []uint, m map[uint]V) []V {
	out := make([]V, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

// Loaders batch the nested fields of one request into one statement per field.
type Loaders struct {
	WebhooksByContact   *loader[[]*models.Webhook]
	GroupsByContact     *loader[[]*models.Group]
	ContactsByGroup     *loader[[]*models.Contact]
	ContactCountByGroup *loader[int]
	ContactByID         *loader[*models.Contact]
	GroupByID           *loader[*models.Group]
	DeliveriesByAlert   *loader[[]*delivery.Delivery]
	AttemptsByDelivery  *loader[[]*delivery.DeliveryAttempt]
	// The integration fields: an integration's recipients, an alert's source.
	GroupsByIntegration   *loader[[]*models.Group]
	ContactsByIntegration *loader[[]*models.Contact]
	IntegrationByID       *loader[*models.Integration]
	MessageTemplateByID   *loader[*models.MessageTemplate]
	// The routing fields: a route's recipients, an alert's routes and silence.
	GroupsByRoute   *loader[[]*models.Group]
	ContactsByRoute *loader[[]*models.Contact]
	RouteByID       *loader[*models.Route]
	SilenceByID     *loader[*models.Silence]
	// The bounded nested lists: a group's first members and an alert's deliveries by status, read
	// for a whole page in one statement (see prefetch) and kept by the arguments they answer.
	MembersByGroup        pages[int, []*models.Contact]
	DeliveryPages         pages[deliveryPageKey, []*delivery.Delivery]
	DeliveryCountsByAlert *loader[delivery.DeliveryCounts]

	Store  *models.Store
	Outbox *delivery.Outbox

	// contactsOfDelivery keeps the contact ids of the deliveries prefetched in this request: they
	// are in the delivery rows, so the level below a delivery needs no statement to find them.
	mu                 sync.Mutex
	contactsOfDelivery map[uint][]uint

	// clock reads the database clock once per request: every silence state and quiet-hours end
	// of one answer is judged at the same moment.
	clock func(context.Context) (time.Time, error)
	nowAt time.Time
	nowOK bool

	// lean holds the root fields (*ast.Field) of this request whose whole answer is loaded, which
	// the executor marshals without goroutines (lean.go).
	lean sync.Map
}

// now is the database clock at the request's first question about it.
func (l *Loaders) now(ctx context.Context) (time.Time, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.nowOK {
		t, err := l.clock(ctx)
		if err != nil {
			return time.Time{}, err
		}
		l.nowAt, l.nowOK = t, true
	}
	return l.nowAt, nil
}

// NewLoaders creates the loaders of one request. They cache, so they must never outlive it.
func NewLoaders(s *models.Store, o *delivery.Outbox) *Loaders {
	return &Loaders{
		WebhooksByContact:     newLoader(s.WebhooksByContact),
		GroupsByContact:       newLoader(s.GroupsByContact),
		ContactsByGroup:       newLoader(s.ContactsByGroup),
		ContactCountByGroup:   newLoader(s.ContactCountByGroup),
		ContactByID:           newLoader(s.ContactsByID),
		GroupByID:             newLoader(s.GroupsByID),
		DeliveriesByAlert:     newLoader(o.DeliveriesByAlert),
		AttemptsByDelivery:    newLoader(o.AttemptsByDelivery),
		GroupsByIntegration:   newLoader(s.GroupsByIntegration),
		ContactsByIntegration: newLoader(s.ContactsByIntegration),
		IntegrationByID:       newLoader(s.IntegrationsByID),
		MessageTemplateByID:   newLoader(s.MessageTemplatesByID),
		GroupsByRoute:         newLoader(s.GroupsByRoute),
		ContactsByRoute:       newLoader(s.ContactsByRoute),
		RouteByID:             newLoader(s.RoutesByID),
		SilenceByID:           newLoader(s.SilencesByID),
		DeliveryCountsByAlert: newLoader(o.DeliveryCountsByAlert),
		Store:                 s,
		Outbox:                o,
		contactsOfDelivery:    map[uint][]uint{},
		clock:                 s.Now,
	}
}

// pages caches the pages of a nested list that prefetching read, by the arguments they answer (one
// field can be selected with different ones) and the parent's id. Unlike a loader it never reads:
// a page it lacks is the resolver's to read.
type pages[A comparable, V any] struct {
	mu sync.Mutex
	m  map[A]map[uint]V
}

// prime keeps each parent's page, an empty one where m has none.
func (p *pages[A, V]) prime(args A, parents []uint, m map[uint]V) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[A]map[uint]V{}
	}
	byParent := p.m[args]
	if byParent == nil {
		byParent = make(map[uint]V, len(parents))
		p.m[args] = byParent
	}
	for i, v := range valuesOf(parents, m) {
		byParent[parents[i]] = v
	}
}

func (p *pages[A, V]) get(args A, parent uint) (V, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, ok := p.m[args][parent]
	return v, ok
}

type loadersKey struct{}

func loadersFor(ctx context.Context) *Loaders {
	switch l := ctx.Value(loadersKey{}).(type) {
	case freshLoaders:
		return NewLoaders(l.store, l.outbox)
	default:
		return l.(*Loaders)
	}
}

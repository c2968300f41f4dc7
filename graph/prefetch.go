package graph

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"

	"github.com/99designs/gqlgen/graphql"
	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/models"
	"github.com/vektah/gqlparser/v2/ast"
	"golang.org/x/sync/errgroup"
)

// Prefetching makes the statement count of a nested read depend on the query's shape only.
// gqlgen resolves list elements concurrently and a dataloader batches whatever keys arrive within
// its wait, so on a busy machine a page of 100 can split into several batches. A root resolver
// knows every id of its page, so it loads each selected nested list for all of them in one
// statement, level by level, and primes the loaders; the field resolvers then read the cache.
//
// The levels below declare, once, every nested field that a loader serves: the schema field, the
// loader its resolver reads, and the level of the objects it holds. TestNestedFieldsAreTheSchemas
// checks the declarations against the schema.

// level is the nested fields of one object type of the schema, by field name.
type level struct {
	typeName string
	fields   map[string]fetcher
	// covered names fields that another selected field already fills (a group's contactCount is
	// counted from its loaded contacts): they are fetched only when that field is not selected.
	covered map[string]string
	// neededBy names fields fetched, though not selected, when a resolver of the selection reads
	// them (members' totalCount is the group's count).
	neededBy map[string]func(selection) bool
}

// wanted reports whether prefetch loads the named field for sel.
func (lv *level) wanted(name string, sel selection) bool {
	if sel.has(lv.covered[name]) {
		return false
	}
	need := lv.neededBy[name]
	return sel.has(name) || (need != nil && need(sel))
}

// fetcher loads one nested field for every parent id and primes the loaders. args are the field's
// arguments, one map per distinct use of it (aliases may select it with different ones).
type fetcher interface {
	fetch(ctx context.Context, ids []uint, sel selection, args []map[string]any) error
	// loads reports whether fetch loads the field for these arguments, so that its resolver
	// waits for nothing (lean.go).
	loads(args map[string]any) bool
	// child is the object type below the field ("" for a leaf), for the schema check.
	child() string
}

// nested is a nested field served by a loader of V, keyed by the parent's id: the ids of the
// objects one level down, and their level.
type nested[V any] struct {
	loader   func(*Loaders) *loader[V]
	children func(V) []uint
	below    *level
	// alsoPrime fills other loaders from what was read.
	alsoPrime func(l *Loaders, ids []uint, m map[uint]V)
}

func (n nested[V]) child() string {
	if n.below == nil {
		return ""
	}
	return n.below.typeName
}

func (nested[V]) loads(map[string]any) bool { return true }

func (n nested[V]) fetch(ctx context.Context, ids []uint, sel selection, _ []map[string]any) error {
	l := loadersFor(ctx)
	ld := n.loader(l)
	m, err := ld.read(ctx, ids)
	if err != nil {
		return err
	}
	ld.prime(ids, m)
	if n.alsoPrime != nil {
		n.alsoPrime(l, ids, m)
	}
	if n.below == nil {
		return nil
	}
	var below distinct
	for _, id := range ids {
		below.add(n.children(m[id])...)
	}
	return n.below.prefetch(ctx, below.ids, sel)
}

// prefetch loads every selected nested field of the objects ids, concurrently.
func (lv *level) prefetch(ctx context.Context, ids []uint, sel selection) error {
	if len(ids) == 0 {
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	for name, f := range lv.fields {
		if !lv.wanted(name, sel) {
			continue
		}
		g.Go(func() error { return f.fetch(gctx, ids, sel.child(name), sel.args[name]) })
	}
	return g.Wait()
}

var contactLevel, groupLevel, alertLevel, deliveryLevel, integrationLevel level

// allLevels are every level, for the lookups by type and the schema check.
var allLevels = []*level{&contactLevel, &groupLevel, &alertLevel, &deliveryLevel, &integrationLevel}

func init() {
	contactLevel = level{typeName: "Contact", fields: map[string]fetcher{
		"webhooks": nested[[]*models.Webhook]{loader: func(l *Loaders) *loader[[]*models.Webhook] { return l.WebhooksByContact }},
		"groups": nested[[]*models.Group]{
			loader:   func(l *Loaders) *loader[[]*models.Group] { return l.GroupsByContact },
			children: func(gs []*models.Group) []uint { return groupIDs(gs) }, below: &groupLevel,
		},
	}}
	groupLevel = level{typeName: "ContactGroup", fields: map[string]fetcher{
		"contacts": nested[[]*models.Contact]{
			loader:   func(l *Loaders) *loader[[]*models.Contact] { return l.ContactsByGroup },
			children: func(cs []*models.Contact) []uint { return contactIDs(cs) }, below: &contactLevel,
			alsoPrime: func(l *Loaders, ids []uint, m map[uint][]*models.Contact) {
				counts := make(map[uint]int, len(m))
				for gid, list := range m {
					counts[gid] = len(list)
				}
				l.ContactCountByGroup.prime(ids, counts)
			},
		},
		"contactCount": nested[int]{loader: func(l *Loaders) *loader[int] { return l.ContactCountByGroup }},
		"members":      firstMembers{},
	}, covered: map[string]string{"contactCount": "contacts"},
		neededBy: map[string]func(selection) bool{"contactCount": func(sel selection) bool { return sel.child("members").has("totalCount") }}}
	alertLevel = level{typeName: "Alert", fields: map[string]fetcher{
		"deliveryCounts": nested[delivery.DeliveryCounts]{
			loader: func(l *Loaders) *loader[delivery.DeliveryCounts] { return l.DeliveryCountsByAlert },
		},
		"deliveries": alertDeliveries{all: nested[[]*delivery.Delivery]{
			loader: func(l *Loaders) *loader[[]*delivery.Delivery] { return l.DeliveriesByAlert },
			children: func(ds []*delivery.Delivery) []uint {
				return idsOf(ds, func(d *delivery.Delivery) uint { return d.ID })
			},
			below:     &deliveryLevel,
			alsoPrime: func(l *Loaders, _ []uint, m map[uint][]*delivery.Delivery) { l.keepDeliveryContacts(m) },
		}},
	}}
	integrationLevel = level{typeName: "Integration", fields: map[string]fetcher{
		"groups": nested[[]*models.Group]{
			loader:   func(l *Loaders) *loader[[]*models.Group] { return l.GroupsByIntegration },
			children: func(gs []*models.Group) []uint { return groupIDs(gs) }, below: &groupLevel,
		},
		"contacts": nested[[]*models.Contact]{
			loader:   func(l *Loaders) *loader[[]*models.Contact] { return l.ContactsByIntegration },
			children: func(cs []*models.Contact) []uint { return contactIDs(cs) }, below: &contactLevel,
		},
	}}
	// A delivery's contacts are ids kept in its row; the level below the delivery reads them.
	deliveryLevel = level{typeName: "Delivery", fields: map[string]fetcher{
		"attempts": nested[[]*delivery.DeliveryAttempt]{
			loader: func(l *Loaders) *loader[[]*delivery.DeliveryAttempt] { return l.AttemptsByDelivery },
		},
		"contacts": deliveryContacts{},
	}}
}

// keepDeliveryContacts remembers the contact ids kept in prefetched delivery rows.
func (l *Loaders) keepDeliveryContacts(m map[uint][]*delivery.Delivery) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ds := range m {
		for _, d := range ds {
			l.contactsOfDelivery[d.ID] = d.ContactIDs
		}
	}
}

// firstMembers loads the first page of members of every group, for each distinct first that
// selects it without a cursor or a search; other pages are read by the resolver, one per group.
type firstMembers struct{}

func (firstMembers) child() string { return "ContactConnection" }

func (firstMembers) loads(args map[string]any) bool { _, ok := firstPageSize(args); return ok }

func (firstMembers) fetch(ctx context.Context, groupIDs []uint, sel selection, args []map[string]any) error {
	l := loadersFor(ctx)
	var below distinct
	for _, a := range args {
		size, ok := firstPageSize(a)
		if !ok {
			continue
		}
		// One more than the page tells whether there is a next page.
		m, err := l.Store.FirstMembersByGroup(ctx, groupIDs, size+1)
		if err != nil {
			return err
		}
		l.MembersByGroup.prime(size, groupIDs, m)
		for _, list := range m {
			below.add(contactIDs(list)...)
		}
	}
	// The totalCount, the group's count, is the group level's to load (neededBy).
	return contactLevel.prefetch(ctx, below.ids, sel.connectionNodes())
}

// firstPageSize is the page size of a members selection that asks for a first page (no cursor, no
// search), and false for any other, or for a size the resolver will refuse.
func firstPageSize(args map[string]any) (int, bool) {
	if args["after"] != nil || args["search"] != nil {
		return 0, false
	}
	size := defaultMembersPage
	if v := args["first"]; v != nil {
		n, ok := argInt(v)
		if !ok {
			return 0, false
		}
		size = n
	}
	return size, size >= 1 && size <= models.MaxPageSize
}

// alertDeliveries loads the deliveries of a page of alerts: all of them through the loader, or,
// for each distinct first/after/status, that page of each alert in one statement.
type alertDeliveries struct {
	all nested[[]*delivery.Delivery]
}

func (a alertDeliveries) child() string { return a.all.child() }

func (alertDeliveries) loads(args map[string]any) bool {
	first, after, status, ok := deliveryArgs(args)
	if !ok {
		return false
	}
	_, err := deliveryPageOf(first, after, status)
	return err == nil
}

func (a alertDeliveries) fetch(ctx context.Context, alertIDs []uint, sel selection, args []map[string]any) error {
	l := loadersFor(ctx)
	var below distinct
	for _, arg := range args {
		first, after, status, ok := deliveryArgs(arg)
		if !ok {
			continue
		}
		p, err := deliveryPageOf(first, after, status)
		if err != nil {
			continue // the resolver reports it, at its argument
		}
		if p == (deliveryPageKey{}) {
			if err := a.all.fetch(ctx, alertIDs, sel, nil); err != nil {
				return err
			}
			continue
		}
		m, err := l.Outbox.DeliveryPagesByAlert(ctx, alertIDs, p.page())
		if err != nil {
			return err
		}
		l.DeliveryPages.prime(p, alertIDs, m)
		l.keepDeliveryContacts(m)
		for _, ds := range m {
			below.add(idsOf(ds, func(d *delivery.Delivery) uint { return d.ID })...)
		}
	}
	return deliveryLevel.prefetch(ctx, below.ids, sel)
}

// deliveryContacts loads the contacts a page of deliveries names, by the ids kept in each row.
type deliveryContacts struct{}

func (deliveryContacts) child() string { return contactLevel.typeName }

func (deliveryContacts) loads(map[string]any) bool { return true }

func (deliveryContacts) fetch(ctx context.Context, deliveryIDs []uint, sel selection, _ []map[string]any) error {
	l := loadersFor(ctx)
	var contacts distinct
	l.mu.Lock()
	for _, d := range deliveryIDs {
		contacts.add(l.contactsOfDelivery[d]...)
	}
	l.mu.Unlock()
	ids := contacts.ids
	if len(ids) == 0 {
		return nil
	}
	m, err := l.ContactByID.read(ctx, ids)
	if err != nil {
		return err
	}
	l.ContactByID.prime(ids, m)
	return contactLevel.prefetch(ctx, ids, sel)
}

// selection is the set of fields selected below one field, merged across aliases and fragments,
// with each field's distinct argument sets.
type selection struct {
	op     *graphql.OperationContext
	fields map[string]ast.SelectionSet
	args   map[string][]map[string]any
}

func newSelection(op *graphql.OperationContext, set ast.SelectionSet) selection {
	s := selection{op: op, fields: map[string]ast.SelectionSet{}, args: map[string][]map[string]any{}}
	for _, f := range graphql.CollectFields(op, set, nil) {
		s.fields[f.Name] = append(s.fields[f.Name], f.Selections...)
		if f.Definition == nil || len(f.Definition.Arguments) == 0 {
			continue
		}
		a := f.ArgumentMap(op.Variables)
		if !slices.ContainsFunc(s.args[f.Name], func(b map[string]any) bool { return reflect.DeepEqual(a, b) }) {
			s.args[f.Name] = append(s.args[f.Name], a)
		}
	}
	return s
}

// selectionOf is the selection of the field being resolved.
func selectionOf(ctx context.Context) selection {
	return newSelection(graphql.GetOperationContext(ctx), graphql.GetFieldContext(ctx).Field.Selections)
}

func (s selection) has(name string) bool { _, ok := s.fields[name]; return ok }

// child is the selection below the named field (empty when it is not selected).
func (s selection) child(name string) selection { return newSelection(s.op, s.fields[name]) }

// connectionNodes is the selection of edges.node below a connection field.
func (s selection) connectionNodes() selection { return s.child("edges").child("node") }

func contactIDs(cs []*models.Contact) []uint {
	return idsOf(cs, func(c *models.Contact) uint { return c.ID })
}

func groupIDs(gs []*models.Group) []uint {
	return idsOf(gs, func(g *models.Group) uint { return g.ID })
}

func alertIDs(as []*delivery.Alert) []uint {
	return idsOf(as, func(a *delivery.Alert) uint { return a.ID })
}

func idsOf[T any](rows []T, id func(T) uint) []uint {
	ids := make([]uint, len(rows))
	for i, r := range rows {
		ids[i] = id(r)
	}
	return ids
}

// existingContacts resolves contact ids kept in history, leaving out contacts deleted since.
func (r *Resolver) existingContacts(ctx context.Context, ids []uint) ([]*models.Contact, error) {
	list, err := loadersFor(ctx).ContactByID.LoadAll(ctx, ids)
	out := make([]*models.Contact, 0, len(list))
	for _, c := range list {
		if c != nil {
			out = append(out, c)
		}
	}
	return out, err
}

// prefetchMemberships loads the fields selected below the contacts and groups of a page of
// memberships; the rows carry both sides already.
func prefetchMemberships(ctx context.Context, rows []*models.MembershipRow, sel selection) error {
	var contacts, groups distinct
	for _, m := range rows {
		contacts.add(m.ContactID)
		groups.add(m.GroupID)
	}
	g, gctx := errgroup.WithContext(ctx)
	if sel.has("contact") {
		g.Go(func() error { return contactLevel.prefetch(gctx, contacts.ids, sel.child("contact")) })
	}
	if sel.has("group") {
		g.Go(func() error { return groupLevel.prefetch(gctx, groups.ids, sel.child("group")) })
	}
	return g.Wait()
}

// distinct collects ids once each, in the order first seen.
type distinct struct {
	ids  []uint
	seen map[uint]bool
}

func (d *distinct) add(ids ...uint) {
	if d.seen == nil {
		d.seen = map[uint]bool{}
	}
	for _, id := range ids {
		if !d.seen[id] {
			d.seen[id] = true
			d.ids = append(d.ids, id)
		}
	}
}

// argInt is an Int argument as ArgumentMap gives it: an int64 from the query's text, a json.Number
// (or a float64) from its variables.
func argInt(v any) (int, bool) {
	switch n := v.(type) {
	case int64:
		return int(n), true
	case int:
		return n, true
	case float64:
		return int(n), n == float64(int(n))
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	}
	return 0, false
}

// deliveryArgs are the arguments of an Alert.deliveries selection, as its resolver receives them.
func deliveryArgs(a map[string]any) (first *int, after *string, status *delivery.DeliveryStatus, ok bool) {
	if v := a["first"]; v != nil {
		n, isInt := argInt(v)
		if !isInt {
			return nil, nil, nil, false
		}
		first = &n
	}
	if v := a["after"]; v != nil {
		s, isString := v.(string)
		if !isString {
			return nil, nil, nil, false
		}
		after = &s
	}
	if v := a["status"]; v != nil {
		s, isString := v.(string)
		if !isString {
			return nil, nil, nil, false
		}
		st := delivery.DeliveryStatus(s)
		status = &st
	}
	return first, after, status, true
}

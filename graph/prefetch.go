package graph

import (
	"context"

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

// selection is the set of fields selected below one field, merged across aliases and fragments.
type selection struct {
	op     *graphql.OperationContext
	fields map[string]ast.SelectionSet
}

func newSelection(op *graphql.OperationContext, set ast.SelectionSet) selection {
	s := selection{op: op, fields: map[string]ast.SelectionSet{}}
	for _, f := range graphql.CollectFields(op, set, nil) {
		s.fields[f.Name] = append(s.fields[f.Name], f.Selections...)
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

func contactIDs(cs []*models.Contact) []uint { return idsOf(cs, func(c *models.Contact) uint { return c.ID }) }

func groupIDs(gs []*models.Group) []uint { return idsOf(gs, func(g *models.Group) uint { return g.ID }) }

func alertIDs(as []*delivery.Alert) []uint { return idsOf(as, func(a *delivery.Alert) uint { return a.ID }) }

func idsOf[T any](rows []T, id func(T) uint) []uint {
	ids := make([]uint, len(rows))
	for i, r := range rows {
		ids[i] = id(r)
	}
	return ids
}

// prefetchContacts loads the selected lists of the given contacts.
func (r *Resolver) prefetchContacts(ctx context.Context, ids []uint, sel selection) error {
	if len(ids) == 0 {
		return nil
	}
	l := loadersFor(ctx)
	g, gctx := errgroup.WithContext(ctx)
	if sel.has("webhooks") {
		g.Go(func() error {
			m, err := r.Store.WebhooksByContact(gctx, ids)
			prime(l.WebhooksByContact, ids, m)
			return err
		})
	}
	if sel.has("groups") {
		g.Go(func() error {
			m, err := r.Store.GroupsByContact(gctx, ids)
			if err != nil {
				return err
			}
			prime(l.GroupsByContact, ids, m)
			var groups []uint
			seen := map[uint]bool{}
			for _, list := range m {
				for _, grp := range list {
					if !seen[grp.ID] {
						seen[grp.ID] = true
						groups = append(groups, grp.ID)
					}
				}
			}
			return r.prefetchGroups(gctx, groups, sel.child("groups"))
		})
	}
	return g.Wait()
}

// prefetchGroups loads the selected lists of the given groups.
func (r *Resolver) prefetchGroups(ctx context.Context, ids []uint, sel selection) error {
	if len(ids) == 0 {
		return nil
	}
	l := loadersFor(ctx)
	switch {
	case sel.has("contacts"):
		m, err := r.Store.ContactsByGroup(ctx, ids)
		if err != nil {
			return err
		}
		prime(l.ContactsByGroup, ids, m)
		counts := make(map[uint]int, len(m))
		var members []uint
		seen := map[uint]bool{}
		for gid, list := range m {
			counts[gid] = len(list) // the members are loaded anyway: count them here, not in SQL
			for _, c := range list {
				if !seen[c.ID] {
					seen[c.ID] = true
					members = append(members, c.ID)
				}
			}
		}
		prime(l.ContactCountByGroup, ids, counts)
		return r.prefetchContacts(ctx, members, sel.child("contacts"))
	case sel.has("contactCount"):
		m, err := r.Store.ContactCountByGroup(ctx, ids)
		prime(l.ContactCountByGroup, ids, m)
		return err
	}
	return nil
}

// prime fills a loader's cache for every key, with the zero value where m has none.
func prime[V any](l interface{ Prime(uint, V) bool }, keys []uint, m map[uint]V) {
	if m == nil {
		return
	}
	for _, k := range keys {
		l.Prime(k, m[k])
	}
}

// prefetchAlerts loads the selected deliveries of the given alerts, with their attempts and contacts.
func (r *Resolver) prefetchAlerts(ctx context.Context, ids []uint, sel selection) error {
	if len(ids) == 0 || !sel.has("deliveries") {
		return nil
	}
	l := loadersFor(ctx)
	m, err := r.Outbox.DeliveriesByAlert(ctx, ids)
	if err != nil {
		return err
	}
	prime(l.DeliveriesByAlert, ids, m)
	var deliveries, contacts []uint
	seen := map[uint]bool{}
	for _, list := range m {
		for _, d := range list {
			deliveries = append(deliveries, d.ID)
			for _, c := range d.ContactIDs {
				if !seen[c] {
					seen[c] = true
					contacts = append(contacts, c)
				}
			}
		}
	}
	dsel := sel.child("deliveries")
	g, gctx := errgroup.WithContext(ctx)
	if dsel.has("attempts") && len(deliveries) > 0 {
		g.Go(func() error {
			m, err := r.Outbox.AttemptsByDelivery(gctx, deliveries)
			prime(l.AttemptsByDelivery, deliveries, m)
			return err
		})
	}
	if dsel.has("contacts") && len(contacts) > 0 {
		g.Go(func() error {
			m, err := r.Store.ContactsByID(gctx, contacts)
			if err != nil {
				return err
			}
			prime(l.ContactByID, contacts, m)
			return r.prefetchContacts(gctx, contacts, dsel.child("contacts"))
		})
	}
	return g.Wait()
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

// prefetchMemberships loads the lists selected below the contacts and groups of a page of
// memberships.
func (r *Resolver) prefetchMemberships(ctx context.Context, rows []*models.MembershipRow, sel selection) error {
	var contacts, groups []uint
	seenC, seenG := map[uint]bool{}, map[uint]bool{}
	for _, m := range rows {
		if !seenC[m.ContactID] {
			seenC[m.ContactID] = true
			contacts = append(contacts, m.ContactID)
		}
		if !seenG[m.GroupID] {
			seenG[m.GroupID] = true
			groups = append(groups, m.GroupID)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	if sel.has("contact") && len(contacts) > 0 {
		g.Go(func() error { return r.prefetchContacts(gctx, contacts, sel.child("contact")) })
	}
	if sel.has("group") && len(groups) > 0 {
		g.Go(func() error { return r.prefetchGroups(gctx, groups, sel.child("group")) })
	}
	return g.Wait()
}

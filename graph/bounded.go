package graph

import (
	"context"
	"errors"
	"strconv"

	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/graph/model"
	"github.com/heraldhq/herald/models"
)

// The bounded nested lists: a group's members and an alert's deliveries a page at a time.

// members is a page of a group's members. The first page below a page of contacts or groups was
// read for all of them by prefetching; any other page is read here, as the contacts list reads it.
func (r *Resolver) members(ctx context.Context, g *models.Group, first *int, after, search *string) (*model.Connection[*models.Contact], error) {
	l := loadersFor(ctx)
	size := defaultMembersPage
	if first != nil {
		size = *first
	}
	// Without a search the total is the group's count, which prefetching loads with the page.
	count := func(ctx context.Context) (int, error) { return l.ContactCountByGroup.Load(ctx, g.ID) }
	if after == nil && search == nil {
		if list, ok := l.MembersByGroup.get(size, g.ID); ok {
			return model.NewConnection(models.FirstPage(list, size), count), nil
		}
	}
	groupID := strconv.FormatUint(uint64(g.ID), 10)
	f := models.ContactFilter{Search: deref(search), GroupID: &groupID}
	page, err := r.Store.Contacts(ctx, f, models.PageArgs{First: size, After: deref(after)})
	var invalid *models.Error
	if errors.As(err, &invalid) && invalid.Field == "filter.search" {
		// The contacts list's filter is this field's own argument.
		invalid.Field = "search"
	}
	if err != nil {
		return nil, err
	}
	if search != nil {
		count = func(ctx context.Context) (int, error) { return r.Store.CountContacts(ctx, f) }
	}
	return model.NewConnection(page, count), contactLevel.prefetch(ctx, contactIDs(page.Items), selectionOf(ctx).connectionNodes())
}

// defaultMembersPage is the schema's default page of ContactGroup.members.
var defaultMembersPage = defaultFirst(parsedSchema.Types["ContactGroup"].Fields.ForName("members"))

// deliveryPageKey is one set of Alert.deliveries arguments, validated; the zero key asks for all.
type deliveryPageKey struct {
	first  int
	after  uint
	status delivery.DeliveryStatus
}

func (k deliveryPageKey) page() delivery.DeliveryPage {
	p := delivery.DeliveryPage{First: k.first, After: k.after}
	if k.status != "" {
		p.Status = &k.status
	}
	return p
}

// deliveryPageOf validates Alert.deliveries' arguments.
func deliveryPageOf(first *int, after *string, status *delivery.DeliveryStatus) (deliveryPageKey, error) {
	var k deliveryPageKey
	if first != nil {
		if *first < 1 || *first > models.MaxPageSize {
			return k, models.Invalid("first", "first must be between 1 and %d, got %d", models.MaxPageSize, *first)
		}
		k.first = *first
	}
	if after != nil {
		id, ok := models.ParseID(*after)
		if !ok {
			return k, models.Invalid("after", "after must be the id of a delivery, got %q", *after)
		}
		k.after = id
	}
	if status != nil {
		k.status = *status
	}
	return k, nil
}

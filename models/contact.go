package models

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// ContactInput creates or changes a contact. On update a nil field is left unchanged; non-nil
// Webhooks and GroupIDs replace the whole list.
type ContactInput struct {
	Name  *string
	Phone *string
	// User ids on the platforms; "" removes one.
	DingTalkUserID *string
	WeComUserID    *string
	LarkUserID     *string
	Webhooks       []WebhookInput
	GroupIDs       []string
}

// ContactFilter narrows a contact list.
type ContactFilter struct {
	Search  string
	GroupID *string
}

// CreatedContact is a new contact with the webhooks and groups it was stored with, so that the
// answer to a create needs no second read.
type CreatedContact struct {
	*Contact
	Webhooks []*Webhook // in position order
	Groups   []*Group   // in name order
}

// CreateContact validates and stores a new contact with its webhooks and groups.
func (s *Store) CreateContact(ctx context.Context, in ContactInput) (*CreatedContact, error) {
	c := &Contact{}
	var err error
	if in.Name == nil {
		return nil, Invalid("name", "name is required")
	}
	if c.Name, c.NameKey, err = CleanName("name", *in.Name); err != nil {
		return nil, err
	}
	if in.Phone != nil {
		if c.Phone, err = CleanPhone("phone", *in.Phone); err != nil {
			return nil, err
		}
	}
	if err := applyUserIDs(c, in); err != nil {
		return nil, err
	}
	hooks, err := s.cleanWebhooks(in.Webhooks, nil)
	if err != nil {
		return nil, err
	}
	groupIDs, positions, err := parseContactGroups(in.GroupIDs)
	if err != nil {
		return nil, err
	}
	var groups []*Group
	err = s.mutate(ctx, "createContact", func(tx *gorm.DB) ([]uint, error) {
		var err error
		if groups, err = requireGroups(tx, "groupIds", groupIDs, positions); err != nil {
			return nil, err
		}
		if err := tx.Create(c).Error; err != nil {
			return nil, wrapWrite("insert contact", "name", "contact", c.Name, err)
		}
		if err := saveWebhooks(tx, c.ID, true, hooks); err != nil {
			return nil, err
		}
		return []uint{c.ID}, addMemberships(tx, membershipsOfContact(c.ID, groupIDs))
	})
	if err != nil {
		return nil, wrapWrite("create contact", "name", "contact", c.Name, err)
	}
	created := &CreatedContact{Contact: c, Webhooks: make([]*Webhook, len(hooks)), Groups: groups}
	for i := range hooks {
		created.Webhooks[i] = &hooks[i]
	}
	return created, nil
}

// UpdateContact changes the given fields of a contact.
func (s *Store) UpdateContact(ctx context.Context, id string, in ContactInput) (*Contact, error) {
	cid, ok := ParseID(id)
	if !ok {
		return nil, NotFound("id", "contact", id)
	}
	var c Contact
	err := s.mutate(ctx, "updateContact", func(tx *gorm.DB) ([]uint, error) {
		return []uint{cid}, s.updateContact(tx, &c, cid, id, in)
	})
	if err != nil {
		return nil, wrapWrite("update contact", "name", "contact", c.Name, err)
	}
	return &c, nil
}

// updateContact applies in to the contact cid inside tx, loading it into c.
func (s *Store) updateContact(tx *gorm.DB, c *Contact, cid uint, id string, in ContactInput) error {
	if err := tx.First(c, cid).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return NotFound("id", "contact", id)
		}
		return fmt.Errorf("load contact: %w", err)
	}
	var err error
	if in.Name != nil {
		if c.Name, c.NameKey, err = CleanName("name", *in.Name); err != nil {
			return err
		}
	}
	if in.Phone != nil {
		if c.Phone, err = CleanPhone("phone", *in.Phone); err != nil {
			return err
		}
	}
	if err := applyUserIDs(c, in); err != nil {
		return err
	}
	if in.Webhooks != nil {
		var current []Webhook
		if err := tx.Where("contact_id = ?", cid).Find(&current).Error; err != nil {
			return fmt.Errorf("load webhooks: %w", err)
		}
		hooks, err := s.cleanWebhooks(in.Webhooks, current)
		if err != nil {
			return err
		}
		if err := saveWebhooks(tx, cid, false, hooks); err != nil {
			return err
		}
	}
	if in.GroupIDs != nil {
		groupIDs, positions, err := parseContactGroups(in.GroupIDs)
		if err != nil {
			return err
		}
		if err := requireAll(tx, &Group{}, "groupIds", "group", groupIDs, positions); err != nil {
			return err
		}
		if err := replaceContactGroups(tx, cid, groupIDs); err != nil {
			return err
		}
	}
	// Save always bumps updated_at: a webhook or group change is a change of the contact.
	return tx.Save(c).Error
}

// DeleteContact deletes a contact; its webhooks and memberships go with it.
func (s *Store) DeleteContact(ctx context.Context, id string) error {
	cid, ok := ParseID(id)
	if !ok {
		return NotFound("id", "contact", id)
	}
	return s.mutate(ctx, "deleteContact", func(tx *gorm.DB) ([]uint, error) {
		return []uint{cid}, deleteOne(tx, &Contact{}, cid, "contact", id)
	})
}

// deleteOne deletes one row by id, or reports NOT_FOUND on the id argument.
func deleteOne(tx *gorm.DB, model any, id uint, what, raw string) error {
	res := tx.Delete(model, id)
	if res.Error != nil {
		return fmt.Errorf("delete %s: %w", what, res.Error)
	}
	if res.RowsAffected == 0 {
		return NotFound("id", what, raw)
	}
	return nil
}

// BatchDeleteResult says which of the requested ids were deleted and which did not exist,
// each in the order first given.
type BatchDeleteResult struct {
	Deleted  []string
	NotFound []string
}

// BatchDeleteContacts deletes every existing contact among ids in one transaction.
func (s *Store) BatchDeleteContacts(ctx context.Context, ids []string) (BatchDeleteResult, error) {
	if len(ids) > MaxIDsPerRequest {
		return BatchDeleteResult{}, Invalid("ids", "at most %d ids are allowed, got %d", MaxIDsPerRequest, len(ids))
	}
	res := BatchDeleteResult{Deleted: []string{}, NotFound: []string{}}
	seen := make(map[string]bool, len(ids))
	var parsed []uint
	order := make([]string, 0, len(ids))
	for _, raw := range ids {
		if seen[raw] {
			continue
		}
		seen[raw] = true
		order = append(order, raw)
		if id, ok := ParseID(raw); ok {
			parsed = append(parsed, id)
		}
	}
	var found map[uint]bool
	err := s.mutate(ctx, "batchDeleteContacts", func(tx *gorm.DB) ([]uint, error) {
		var err error
		if found, err = existingIDs(tx, &Contact{}, parsed); err != nil {
			return nil, fmt.Errorf("look up contacts: %w", err)
		}
		existing := make([]uint, 0, len(found))
		for _, id := range parsed {
			if found[id] {
				existing = append(existing, id)
			}
		}
		if len(existing) == 0 {
			return nil, nil
		}
		return existing, tx.Where("id IN ?", existing).Delete(&Contact{}).Error
	})
	if err != nil {
		return BatchDeleteResult{}, fmt.Errorf("batch delete contacts: %w", err)
	}
	for _, raw := range order {
		if id, ok := ParseID(raw); ok && found[id] {
			res.Deleted = append(res.Deleted, raw)
		} else {
			res.NotFound = append(res.NotFound, raw)
		}
	}
	return res, nil
}

// Contact returns one contact, or a NOT_FOUND error.
func (s *Store) Contact(ctx context.Context, id string) (*Contact, error) {
	cid, ok := ParseID(id)
	if !ok {
		return nil, NotFound("id", "contact", id)
	}
	var c Contact
	if err := s.db.WithContext(ctx).First(&c, cid).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, NotFound("id", "contact", id)
		}
		return nil, fmt.Errorf("load contact: %w", err)
	}
	return &c, nil
}

// contactQuery is nameListQuery's shape with the contacts' own search, which the name search index
// serves (search.go) when the term has a trigram. Given the page about to be read, and no group, the
// index also picks the page's rows: it walks the term's rows in name order from the cursor and stops
// at the page, where the contacts alone would be read in name order until enough names matched.
func (s *Store) contactQuery(ctx context.Context, f ContactFilter, page *PageArgs) (*gorm.DB, bool, error) {
	key, pattern, err := cleanSearch("filter.search", f.Search)
	if err != nil {
		return nil, false, err
	}
	q, ok, err := s.nameListQuery(ctx, &Contact{}, "", "contact_id", f.GroupID, "group_id")
	if err != nil || !ok || key == "" {
		return q, ok, err
	}
	// The LIKE on name_key repeats the index's on its copy of the key: a row the index still held
	// for a name since changed could add a candidate, never a match.
	q = q.Where("name_key LIKE ? ESCAPE '!'", pattern)
	search, indexed := newNameSearch(key, pattern)
	if !indexed {
		return q, true, nil
	}
	var ns uint
	if n := NamespaceOf(ctx); n != nil {
		ns = n.ID
	}
	rows := search.rows(s.db.Table(contactNameTrigrams).Select("contact_id"), ns)
	if page != nil && f.GroupID == nil && ns != 0 && page.Check() == nil {
		var c nameCursor
		// A bad cursor is pageByName's to refuse; without one the page reads from the start.
		if has, err := page.DecodeCursor(&c); err == nil {
			var at []any
			if has {
				at = []any{c.Key}
			}
			// The same order, cursor and size as the page: the rows it walks are the page's.
			// MySQL takes no LIMIT in an IN subquery, but does in a derived table.
			rows = s.db.Table("(?) AS page", Keyset{Columns: []string{"contact_key"}}.Seek(rows, *page, at)).Select("contact_id")
		}
	}
	return q.Where("id IN (?)", rows), true, nil
}

// Contacts lists contacts ordered by name key (unique, so ties cannot occur).
func (s *Store) Contacts(ctx context.Context, f ContactFilter, page PageArgs) (Page[*Contact], error) {
	q, ok, err := s.contactQuery(ctx, f, &page)
	if err != nil || !ok {
		return Page[*Contact]{}, err
	}
	return pageByName(q, page, "contacts", func(c *Contact) string { return c.NameKey })
}

// CountContacts counts the contacts matching f. A search of a namespace's contacts the index
// serves is counted on the index alone, which holds the keys.
func (s *Store) CountContacts(ctx context.Context, f ContactFilter) (int, error) {
	if key, pattern, err := cleanSearch("filter.search", f.Search); err == nil && f.GroupID == nil {
		if search, indexed := newNameSearch(key, pattern); indexed {
			if ns := NamespaceOf(ctx); ns != nil {
				return CountRows(search.rows(s.db.WithContext(ctx).Table(contactNameTrigrams), ns.ID), "contacts")
			}
		}
	}
	q, ok, err := s.contactQuery(ctx, f, nil)
	if err != nil || !ok {
		return 0, err
	}
	return CountRows(q, "contacts")
}

// nameListQuery is the one shape of the contact and the group list: a search on the name key and,
// when memberOf is set, the rows whose id is the idCol of a membership with memberOfCol = memberOf.
// It answers false when memberOf is not an id at all: nothing is a member of it, so the list is
// empty, not an error, and needs no statement to say so.
func (s *Store) nameListQuery(ctx context.Context, model any, search, idCol string, memberOf *string, memberOfCol string) (*gorm.DB, bool, error) {
	q := s.db.WithContext(ctx).Model(model)
	_, pattern, err := cleanSearch("filter.search", search)
	if err != nil {
		return nil, false, err
	}
	if pattern != "" {
		q = q.Where("name_key LIKE ? ESCAPE '!'", pattern)
	}
	if memberOf != nil {
		id, ok := ParseID(*memberOf)
		if !ok {
			return nil, false, nil
		}
		q = q.Where("id IN (?)", s.db.Model(&Membership{}).Select(idCol).Where(memberOfCol+" = ?", id))
	}
	return q, true, nil
}

// byName is the order of the contact and the group list: the unique name key alone. "ORDER BY
// name_key" lets MySQL walk the unique index with a limit, where "ORDER BY name_key, id" made it
// sort the whole table.
var byName = Keyset{Columns: []string{"name_key"}}

// pageByName reads one page of a list ordered by its unique name key.
func pageByName[T any](q *gorm.DB, page PageArgs, what string, key func(T) string) (Page[T], error) {
	if err := page.Check(); err != nil {
		return Page[T]{}, err
	}
	var c nameCursor
	has, err := page.DecodeCursor(&c)
	if err != nil {
		return Page[T]{}, err
	}
	var at []any
	if has {
		at = []any{c.Key}
	}
	var rows []T
	if err := byName.Seek(q, page, at).Find(&rows).Error; err != nil {
		return Page[T]{}, fmt.Errorf("list %s: %w", what, err)
	}
	return CutPage(rows, page, func(r T) any { return nameCursor{Key: key(r)} }), nil
}

// applyUserIDs sets the platform user ids the input names.
func applyUserIDs(c *Contact, in ContactInput) error {
	for _, f := range []struct {
		field string
		in    *string
		dst   **string
	}{
		{"dingtalkUserId", in.DingTalkUserID, &c.DingTalkUserID},
		{"wecomUserId", in.WeComUserID, &c.WeComUserID},
		{"larkUserId", in.LarkUserID, &c.LarkUserID},
	} {
		if f.in == nil {
			continue
		}
		id, err := CleanUserID(f.field, *f.in)
		if err != nil {
			return err
		}
		*f.dst = id
	}
	return nil
}

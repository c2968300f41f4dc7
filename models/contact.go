package models

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/heraldhq/herald/senders"
	"gorm.io/gorm"
)

// WebhookInput is one webhook as a client sends it. A nil Secret or Keyword on update keeps the
// stored value of the same URL; an empty string clears it.
type WebhookInput struct {
	URL      string
	Platform senders.Platform
	Secret   *string
	Keyword  *string
}

// ContactInput creates or changes a contact. On update a nil field is left unchanged; non-nil
// Webhooks and GroupIDs replace the whole list.
type ContactInput struct {
	Name     *string
	Phone    *string
	Webhooks []WebhookInput
	GroupIDs []string
}

// ContactFilter narrows a contact list.
type ContactFilter struct {
	Search  string
	GroupID *string
}

func urlHash(u string) string {
	sum := sha256.Sum256([]byte(u))
	return hex.EncodeToString(sum[:])
}

// cleanWebhooks validates a webhook list and merges it with the contact's current webhooks, so
// that an entry for a URL the contact already has keeps its id and, unless given, its secret and keyword.
func (s *Store) cleanWebhooks(in []WebhookInput, current []Webhook) ([]Webhook, error) {
	if len(in) == 0 || len(in) > MaxWebhooksPerContact {
		return nil, Invalid("webhooks", "a contact needs 1 to %d webhooks, got %d", MaxWebhooksPerContact, len(in))
	}
	byURL := make(map[string]Webhook, len(current))
	for _, w := range current {
		byURL[w.URL] = w
	}
	out := make([]Webhook, 0, len(in))
	seen := make(map[string]int, len(in))
	for i, w := range in {
		field := indexed("webhooks", i)
		u := strings.TrimSpace(w.URL)
		if first, dup := seen[u]; dup {
			return nil, Invalid(field+".url", "the same URL is already webhooks[%d]", first)
		}
		seen[u] = i
		platform, err := s.checkWebhook(u, w.Platform)
		if err != nil {
			return nil, Invalid(field+".url", "%s", err.Error())
		}
		hook := byURL[u] // zero value for a new URL
		hook.URL, hook.URLHash, hook.Platform, hook.Position = u, urlHash(u), platform, i
		if w.Secret != nil {
			plain, err := cleanSecret(field+".secret", *w.Secret)
			if err != nil {
				return nil, err
			}
			if hook.Secret, err = s.sealSecret(field+".secret", plain); err != nil {
				return nil, err
			}
		}
		if w.Keyword != nil {
			if hook.Keyword, err = cleanKeyword(field+".keyword", *w.Keyword); err != nil {
				return nil, err
			}
		}
		out = append(out, hook)
	}
	return out, nil
}

// saveWebhooks writes the contact's new webhook list: kept rows are updated in place, new ones
// inserted, and rows whose URL is gone deleted.
func saveWebhooks(tx *gorm.DB, contactID uint, created bool, hooks []Webhook) error {
	keep := make([]uint, 0, len(hooks))
	for _, h := range hooks {
		if h.ID != 0 {
			keep = append(keep, h.ID)
		}
	}
	if !created {
		// Skipped for a new contact: deleting from an empty range of the index takes a gap lock that
		// deadlocks concurrent creates on MySQL.
		del := tx.Where("contact_id = ?", contactID)
		if len(keep) > 0 {
			del = del.Where("id NOT IN ?", keep)
		}
		if err := del.Delete(&Webhook{}).Error; err != nil {
			return fmt.Errorf("delete webhooks: %w", err)
		}
	}
	var fresh []Webhook
	var freshAt []int
	for i := range hooks {
		hooks[i].ContactID = contactID
		if hooks[i].ID == 0 {
			fresh, freshAt = append(fresh, hooks[i]), append(freshAt, i)
			continue
		}
		if err := tx.Omit("Contact", "CreatedAt").Save(&hooks[i]).Error; err != nil {
			return fmt.Errorf("update webhook: %w", err)
		}
	}
	if len(fresh) > 0 {
		if err := tx.Omit("Contact").Create(&fresh).Error; err != nil {
			return fmt.Errorf("insert webhooks: %w", err)
		}
		for k, i := range freshAt {
			hooks[i] = fresh[k] // with its new id and timestamps
		}
	}
	return nil
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
	if c.Name, c.NameKey, err = cleanName("name", *in.Name); err != nil {
		return nil, err
	}
	if in.Phone != nil {
		if c.Phone, err = cleanPhone("phone", *in.Phone); err != nil {
			return nil, err
		}
	}
	hooks, err := s.cleanWebhooks(in.Webhooks, nil)
	if err != nil {
		return nil, err
	}
	groupIDs, positions, err := parseIDList("groupIds", "group", in.GroupIDs)
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
		if c.Name, c.NameKey, err = cleanName("name", *in.Name); err != nil {
			return err
		}
	}
	if in.Phone != nil {
		if c.Phone, err = cleanPhone("phone", *in.Phone); err != nil {
			return err
		}
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
		groupIDs, positions, err := parseIDList("groupIds", "group", in.GroupIDs)
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

func (s *Store) contactQuery(ctx context.Context, f ContactFilter) (*gorm.DB, bool, error) {
	q := s.db.WithContext(ctx).Model(&Contact{})
	pattern, err := cleanSearch("filter.search", f.Search)
	if err != nil {
		return nil, false, err
	}
	if pattern != "" {
		q = q.Where("name_key LIKE ? ESCAPE '!'", pattern)
	}
	if f.GroupID != nil {
		gid, ok := ParseID(*f.GroupID)
		if !ok {
			return nil, false, nil
		}
		q = q.Where("id IN (?)", s.db.Model(&Membership{}).Select("contact_id").Where("group_id = ?", gid))
	}
	return q, true, nil
}

// Contacts lists contacts ordered by name key (unique, so ties cannot occur).
func (s *Store) Contacts(ctx context.Context, f ContactFilter, page PageArgs) (Page[*Contact], error) {
	q, ok, err := s.contactQuery(ctx, f)
	if err != nil || !ok {
		return Page[*Contact]{}, err
	}
	return pageByName(q, page, "contacts", func(c *Contact) string { return c.NameKey })
}

// CountContacts counts the contacts matching f.
func (s *Store) CountContacts(ctx context.Context, f ContactFilter) (int, error) {
	q, ok, err := s.contactQuery(ctx, f)
	if err != nil || !ok {
		return 0, err
	}
	return CountRows(q, "contacts")
}

// pageByName reads one page of a list ordered by its unique name key.
func pageByName[T any](q *gorm.DB, page PageArgs, what string, key func(T) string) (Page[T], error) {
	if err := CheckFirst(page.First); err != nil {
		return Page[T]{}, err
	}
	q, err := afterName(q, "", page.After)
	if err != nil {
		return Page[T]{}, err
	}
	var rows []T
	if err := q.Order("name_key").Limit(page.First + 1).Find(&rows).Error; err != nil {
		return Page[T]{}, fmt.Errorf("list %s: %w", what, err)
	}
	return CutPage(rows, page.First, func(r T) any { return nameCursor{Key: key(r)} }), nil
}

// afterName restricts q to rows after a name cursor; prefix qualifies the column. The name key is
// unique, so it alone orders a list completely: "ORDER BY name_key" lets MySQL walk the unique
// index with a limit, where "ORDER BY name_key, id" made it sort the whole table.
func afterName(q *gorm.DB, prefix, after string) (*gorm.DB, error) {
	if after == "" {
		return q, nil
	}
	var c nameCursor
	if err := DecodeCursor("after", after, &c); err != nil {
		return nil, err
	}
	return q.Where(prefix+"name_key > ?", c.Key), nil
}

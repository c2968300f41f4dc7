package models

import (
	"context"
	"fmt"
)

// The batch reads below serve the per-request dataloaders: one statement for any number of keys,
// so the cost of a nested page does not grow with its size.

// WebhooksByContact returns the webhooks of each contact, in their saved order.
func (s *Store) WebhooksByContact(ctx context.Context, contactIDs []uint) (map[uint][]*Webhook, error) {
	var rows []*Webhook
	if err := s.db.WithContext(ctx).Where("contact_id IN ?", contactIDs).Order("contact_id, position, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load webhooks: %w", err)
	}
	out := make(map[uint][]*Webhook, len(contactIDs))
	for _, w := range rows {
		out[w.ContactID] = append(out[w.ContactID], w)
	}
	return out, nil
}

type groupOfContact struct {
	Group     `gorm:"embedded"`
	ContactID uint
}

// GroupsByContact returns the groups of each contact, ordered by name.
func (s *Store) GroupsByContact(ctx context.Context, contactIDs []uint) (map[uint][]*Group, error) {
	var rows []groupOfContact
	err := s.db.WithContext(ctx).Table("contact_groups AS g").
		Select("g.*, m.contact_id").
		Joins("JOIN memberships AS m ON m.group_id = g.id").
		Where("m.contact_id IN ?", contactIDs).
		Order("g.name_key, g.id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("load groups of contacts: %w", err)
	}
	out := make(map[uint][]*Group, len(contactIDs))
	for i := range rows {
		out[rows[i].ContactID] = append(out[rows[i].ContactID], &rows[i].Group)
	}
	return out, nil
}

type contactInGroup struct {
	Contact `gorm:"embedded"`
	GroupID uint
}

// ContactsByGroup returns the members of each group, ordered by name.
func (s *Store) ContactsByGroup(ctx context.Context, groupIDs []uint) (map[uint][]*Contact, error) {
	var rows []contactInGroup
	err := s.db.WithContext(ctx).Table("contacts AS c").
		Select("c.*, m.group_id").
		Joins("JOIN memberships AS m ON m.contact_id = c.id").
		Where("m.group_id IN ?", groupIDs).
		Order("c.name_key, c.id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("load contacts of groups: %w", err)
	}
	out := make(map[uint][]*Contact, len(groupIDs))
	for i := range rows {
		out[rows[i].GroupID] = append(out[rows[i].GroupID], &rows[i].Contact)
	}
	return out, nil
}

// ContactCountByGroup returns the number of members of each group.
func (s *Store) ContactCountByGroup(ctx context.Context, groupIDs []uint) (map[uint]int, error) {
	var rows []struct {
		GroupID uint
		N       int
	}
	err := s.db.WithContext(ctx).Model(&Membership{}).Select("group_id, COUNT(*) AS n").
		Where("group_id IN ?", groupIDs).Group("group_id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("count members: %w", err)
	}
	out := make(map[uint]int, len(groupIDs))
	for _, r := range rows {
		out[r.GroupID] = r.N
	}
	return out, nil
}

// ContactsByID returns the contacts with the given ids that exist.
func (s *Store) ContactsByID(ctx context.Context, ids []uint) (map[uint]*Contact, error) {
	var rows []*Contact
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load contacts: %w", err)
	}
	out := make(map[uint]*Contact, len(rows))
	for _, c := range rows {
		out[c.ID] = c
	}
	return out, nil
}

// GroupsByID returns the groups with the given ids that exist.
func (s *Store) GroupsByID(ctx context.Context, ids []uint) (map[uint]*Group, error) {
	var rows []*Group
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load groups: %w", err)
	}
	out := make(map[uint]*Group, len(rows))
	for _, g := range rows {
		out[g.ID] = g
	}
	return out, nil
}

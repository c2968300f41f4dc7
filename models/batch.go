package models

import (
	"context"
	"encoding/json"
	"fmt"

	"gorm.io/gorm"
)

// The batch reads below serve the per-request dataloaders: one statement for any number of keys,
// so the cost of a nested page does not grow with its size.

// ListsByParent reads the rows of T whose parent column is one of parents, in one statement, as
// a list per parent in the given order (which starts with the parent column; "" for none).
func ListsByParent[T any](ctx context.Context, db *gorm.DB, what, parentCol, order string, parents []uint, parent func(*T) uint) (map[uint][]*T, error) {
	var rows []*T
	q := db.WithContext(ctx).Where(parentCol+" IN ?", parents)
	if order != "" {
		q = q.Order(order)
	}
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load %s: %w", what, err)
	}
	out := make(map[uint][]*T, len(parents))
	for _, r := range rows {
		out[parent(r)] = append(out[parent(r)], r)
	}
	return out, nil
}

// WebhooksByContact returns the webhooks of each contact, in their saved order.
func (s *Store) WebhooksByContact(ctx context.Context, contactIDs []uint) (map[uint][]*Webhook, error) {
	return ListsByParent(ctx, s.db, "webhooks", "contact_id", "contact_id, position, id", contactIDs,
		func(w *Webhook) uint { return w.ContactID })
}

// GroupsByContact returns the groups of each contact, ordered by name.
func (s *Store) GroupsByContact(ctx context.Context, contactIDs []uint) (map[uint][]*Group, error) {
	rows, err := s.db.WithContext(ctx).Table("contact_groups AS g").
		Select("g.id, g.namespace_id, g.name, g.name_key, g.description, g.quiet_hours, g.quiet_policy, g.created_at, g.updated_at, m.contact_id").
		Joins("JOIN memberships AS m ON m.group_id = g.id").
		Where("m.contact_id IN ?", contactIDs).
		Scopes(inNamespace(ctx, "g")).
		Order("g.name_key").Rows()
	if err != nil {
		return nil, fmt.Errorf("load groups of contacts: %w", err)
	}
	defer rows.Close()
	out := make(map[uint][]*Group, len(contactIDs))
	for rows.Next() {
		var g Group
		var contactID uint
		var quiet []byte
		if err := rows.Scan(&g.ID, &g.NamespaceID, &g.Name, &g.NameKey, &g.Description, &quiet, &g.QuietPolicy, &g.CreatedAt, &g.UpdatedAt, &contactID); err != nil {
			return nil, fmt.Errorf("read groups of contacts: %w", err)
		}
		// The column is written by GORM's json serializer; a group without quiet hours may hold NULL.
		if len(quiet) > 0 && string(quiet) != "null" {
			if err := json.Unmarshal(quiet, &g.QuietHours); err != nil {
				return nil, fmt.Errorf("read the quiet hours of group %d: %w", g.ID, err)
			}
		}
		out[contactID] = append(out[contactID], &g)
	}
	return out, rows.Err()
}

// contactColumns are what a contact list reads, scanned by contactsByParent.
const contactColumns = "c.id, c.name, c.name_key, c.phone, c.dingtalk_user_id, c.wecom_user_id, c.lark_user_id, c.created_at, c.updated_at"

// groupMembers joins the members of groupIDs (of the request's namespace) with their memberships.
func (s *Store) groupMembers(ctx context.Context, groupIDs []uint) *gorm.DB {
	return s.db.WithContext(ctx).Table("contacts AS c").
		Joins("JOIN memberships AS m ON m.contact_id = c.id").
		Where("m.group_id IN ?", groupIDs).
		Scopes(inNamespace(ctx, "c"))
}

// contactsByParent runs q, which selects contactColumns and then a parent's id, and lists the
// contacts by parent in q's order. A page's groups can hold tens of thousands of members between
// them, so the rows are scanned by hand: GORM's reflection-based scan cost a fifth of the nested
// page query's CPU.
func contactsByParent(q *gorm.DB, what string, parents int) (map[uint][]*Contact, error) {
	rows, err := q.Rows()
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", what, err)
	}
	defer rows.Close()
	out := make(map[uint][]*Contact, parents)
	for rows.Next() {
		var c Contact
		var parent uint
		if err := rows.Scan(&c.ID, &c.Name, &c.NameKey, &c.Phone, &c.DingTalkUserID, &c.WeComUserID, &c.LarkUserID, &c.CreatedAt, &c.UpdatedAt, &parent); err != nil {
			return nil, fmt.Errorf("read %s: %w", what, err)
		}
		out[parent] = append(out[parent], &c)
	}
	return out, rows.Err()
}

// FirstMembersByGroup returns the first n members of each group, ordered by name, in one
// statement: the first page of every group below a page of contacts or groups. Reading every member
// to show ten is what made the nested page return 90,000 objects. Up to maxUnionGroups groups, each
// group's page is a range of ix_memberships_group_key (memberkeys.go); past it, one window numbers
// every member.
func (s *Store) FirstMembersByGroup(ctx context.Context, groupIDs []uint, n int) (map[uint][]*Contact, error) {
	if len(groupIDs) <= maxUnionGroups {
		var ns *uint
		if namespace := NamespaceOf(ctx); namespace != nil {
			ns = &namespace.ID
		}
		sql, args := firstMembersUnion(ns, groupIDs, n)
		return contactsByParent(s.db.WithContext(ctx).Raw(sql, args...), "the first members of groups", len(groupIDs))
	}
	numbered := s.groupMembers(ctx, groupIDs).
		Select(contactColumns + ", m.group_id AS parent_id, ROW_NUMBER() OVER (PARTITION BY m.group_id ORDER BY c.name_key) AS rn")
	q := s.db.WithContext(ctx).Table("(?) AS c", numbered).
		Select(contactColumns+", c.parent_id").Where("c.rn <= ?", n).Order("c.parent_id, c.name_key")
	return contactsByParent(q, "the first members of groups", len(groupIDs))
}

// FirstPage is the first page of a name-ordered list read with one row more than size, as
// FirstMembersByGroup reads each group's.
func FirstPage(rows []*Contact, size int) Page[*Contact] {
	return CutPage(rows, PageArgs{First: size}, func(c *Contact) any { return nameCursor{Key: c.NameKey} })
}

// ContactsByGroup returns the members of each group, ordered by name.
func (s *Store) ContactsByGroup(ctx context.Context, groupIDs []uint) (map[uint][]*Contact, error) {
	q := s.groupMembers(ctx, groupIDs).Select(contactColumns + ", m.group_id").Order("c.name_key")
	return contactsByParent(q, "contacts of groups", len(groupIDs))
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

// byID reads the rows of T with the given ids that still exist (the rows of the request's
// namespace), for a loader; what names them in errors.
func byID[T any](ctx context.Context, s *Store, ids []uint, what string, id func(*T) uint) (map[uint]*T, error) {
	var rows []*T
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load %s: %w", what, err)
	}
	out := make(map[uint]*T, len(rows))
	for _, r := range rows {
		out[id(r)] = r
	}
	return out, nil
}

// ContactsByID returns the contacts with the given ids that exist.
func (s *Store) ContactsByID(ctx context.Context, ids []uint) (map[uint]*Contact, error) {
	return byID(ctx, s, ids, "contacts", func(c *Contact) uint { return c.ID })
}

// GroupsByID returns the groups with the given ids that exist.
func (s *Store) GroupsByID(ctx context.Context, ids []uint) (map[uint]*Group, error) {
	return byID(ctx, s, ids, "groups", func(g *Group) uint { return g.ID })
}

package models

import (
	"context"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// MaxGroupsPerContact bounds a contact's groups, so that Contact.groups can stay a plain list that
// a page of 100 contacts reads whole.
const MaxGroupsPerContact = 200

// parseContactGroups reads a contact's groupIds (the exact set it is to be in), refusing more than
// MaxGroupsPerContact.
func parseContactGroups(raw []string) (groupIDs []uint, positions []int, err error) {
	groupIDs, positions, err = parseIDList("groupIds", "group", raw)
	if err == nil && len(groupIDs) > MaxGroupsPerContact {
		err = Invalid("groupIds", "a contact may be in at most %d groups, got %d", MaxGroupsPerContact, len(groupIDs))
	}
	return groupIDs, positions, err
}

// checkGroupsPerContact refuses, inside the writing transaction and after the rows were added, a
// change that put one of contactIDs (at positions in the input) in more than MaxGroupsPerContact
// groups; the transaction rolls back.
func checkGroupsPerContact(tx *gorm.DB, field string, contactIDs []uint, positions []int) error {
	if len(contactIDs) == 0 {
		return nil
	}
	var over []uint
	err := tx.Model(&Membership{}).Select("contact_id").Where("contact_id IN ?", contactIDs).
		Group("contact_id").Having("COUNT(*) > ?", MaxGroupsPerContact).Limit(1).Pluck("contact_id", &over).Error
	if err != nil {
		return fmt.Errorf("count the groups of contacts: %w", err)
	}
	if len(over) == 0 {
		return nil
	}
	at := field
	if i := slices.Index(contactIDs, over[0]); i >= 0 && i < len(positions) {
		at = fmt.Sprintf("%s[%d]", field, positions[i])
	}
	return Invalid(at, "contact %d is already in %d groups, the most a contact may be in", over[0], MaxGroupsPerContact)
}

// addMemberships inserts join rows, leaving existing ones alone, in one statement per chunk.
// Join rows are written directly: GORM's Association API would upsert the other table.
func addMemberships(tx *gorm.DB, rows []Membership) error {
	if len(rows) == 0 {
		return nil
	}
	now := tx.NowFunc()
	for i := range rows {
		rows[i].CreatedAt = now
	}
	return tx.Omit(clause.Associations).Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 500).Error
}

func membershipsOfContact(contactID uint, groupIDs []uint) []Membership {
	rows := make([]Membership, len(groupIDs))
	for i, g := range groupIDs {
		rows[i] = Membership{ContactID: contactID, GroupID: g}
	}
	return rows
}

func membershipsOfGroup(groupID uint, contactIDs []uint) []Membership {
	rows := make([]Membership, len(contactIDs))
	for i, c := range contactIDs {
		rows[i] = Membership{ContactID: c, GroupID: groupID}
	}
	return rows
}

// replaceContactGroups makes groupIDs the exact group set of a contact.
func replaceContactGroups(tx *gorm.DB, contactID uint, groupIDs []uint) error {
	q := tx.Where("contact_id = ?", contactID)
	if len(groupIDs) > 0 {
		q = q.Where("group_id NOT IN ?", groupIDs)
	}
	if err := q.Delete(&Membership{}).Error; err != nil {
		return fmt.Errorf("remove memberships: %w", err)
	}
	if err := addMemberships(tx, membershipsOfContact(contactID, groupIDs)); err != nil {
		return fmt.Errorf("add memberships: %w", err)
	}
	return nil
}

// replaceGroupContacts makes contactIDs the exact member set of a group.
func replaceGroupContacts(tx *gorm.DB, groupID uint, contactIDs []uint) error {
	q := tx.Where("group_id = ?", groupID)
	if len(contactIDs) > 0 {
		q = q.Where("contact_id NOT IN ?", contactIDs)
	}
	if err := q.Delete(&Membership{}).Error; err != nil {
		return fmt.Errorf("remove memberships: %w", err)
	}
	if err := addMemberships(tx, membershipsOfGroup(groupID, contactIDs)); err != nil {
		return fmt.Errorf("add memberships: %w", err)
	}
	return nil
}

// MembershipFilter narrows the membership list to one contact, one group, or both.
type MembershipFilter struct {
	ContactID *string
	GroupID   *string
}

// MembershipRow is one membership with both of its sides, read in the same statement: a page of
// memberships needs the contact and the group anyway, for their names as sort keys.
type MembershipRow struct {
	ContactID uint
	GroupID   uint
	CreatedAt time.Time
	Contact   *Contact
	Group     *Group
}

func (s *Store) membershipQuery(ctx context.Context, f MembershipFilter) (*gorm.DB, bool) {
	q := s.db.WithContext(ctx).Table("memberships AS m").
		Joins("JOIN contacts AS c ON c.id = m.contact_id").
		Joins("JOIN contact_groups AS g ON g.id = m.group_id")
	q = q.Scopes(inNamespace(ctx, "c"), inNamespace(ctx, "g"))
	if f.ContactID != nil {
		id, ok := ParseID(*f.ContactID)
		if !ok {
			return nil, false
		}
		q = q.Where("m.contact_id = ?", id)
	}
	if f.GroupID != nil {
		id, ok := ParseID(*f.GroupID)
		if !ok {
			return nil, false
		}
		q = q.Where("m.group_id = ?", id)
	}
	return q, true
}

// byMembership orders memberships by contact name, then group name (both unique).
var byMembership = Keyset{Columns: []string{"c.name_key", "g.name_key"}}

// Memberships lists memberships ordered by contact name, then group name (both unique).
func (s *Store) Memberships(ctx context.Context, f MembershipFilter, page PageArgs) (Page[*MembershipRow], error) {
	if err := page.Check(); err != nil {
		return Page[*MembershipRow]{}, err
	}
	var c membershipCursor
	has, err := page.DecodeCursor(&c)
	if err != nil {
		return Page[*MembershipRow]{}, err
	}
	q, ok := s.membershipQuery(ctx, f)
	if !ok {
		return Page[*MembershipRow]{}, nil
	}
	var at []any
	if has {
		at = []any{c.ContactKey, c.GroupKey}
	}
	rows, err := byMembership.Seek(q, page, at).Select(`m.contact_id, m.group_id, m.created_at,
		c.id, c.name, c.name_key, c.phone, c.dingtalk_user_id, c.wecom_user_id, c.lark_user_id, c.created_at, c.updated_at,
		g.id, g.name, g.name_key, g.description, g.created_at, g.updated_at`).Rows()
	if err != nil {
		return Page[*MembershipRow]{}, fmt.Errorf("list memberships: %w", err)
	}
	defer rows.Close()
	var list []*MembershipRow
	for rows.Next() {
		m := &MembershipRow{Contact: &Contact{}, Group: &Group{}}
		c, g := m.Contact, m.Group
		if err := rows.Scan(&m.ContactID, &m.GroupID, &m.CreatedAt,
			&c.ID, &c.Name, &c.NameKey, &c.Phone, &c.DingTalkUserID, &c.WeComUserID, &c.LarkUserID, &c.CreatedAt, &c.UpdatedAt,
			&g.ID, &g.Name, &g.NameKey, &g.Description, &g.CreatedAt, &g.UpdatedAt); err != nil {
			return Page[*MembershipRow]{}, fmt.Errorf("read memberships: %w", err)
		}
		list = append(list, m)
	}
	if err := rows.Err(); err != nil {
		return Page[*MembershipRow]{}, fmt.Errorf("read memberships: %w", err)
	}
	return CutPage(list, page, func(r *MembershipRow) any {
		return membershipCursor{ContactKey: r.Contact.NameKey, GroupKey: r.Group.NameKey}
	}), nil
}

// CountMemberships counts the memberships matching f.
func (s *Store) CountMemberships(ctx context.Context, f MembershipFilter) (int, error) {
	q, ok := s.membershipQuery(ctx, f)
	if !ok {
		return 0, nil
	}
	return CountRows(q, "memberships")
}

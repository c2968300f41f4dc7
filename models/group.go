package models

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// GroupInput creates or changes a group. On update a nil field is left unchanged; a non-nil
// ContactIDs replaces the member set.
type GroupInput struct {
	Name        *string
	Description *string
	ContactIDs  []string
	// QuietHours, when not nil, replaces the group's windows (empty: none).
	QuietHours  []TimeWindow
	QuietPolicy *QuietPolicy
}

// QuietPolicy is what happens to the deliveries a group's quiet hours held, when the hours end; the
// values match the GraphQL enum.
type QuietPolicy string

const (
	// QuietDigest sends them as one message per robot.
	QuietDigest QuietPolicy = "DIGEST"
	// QuietDrop records them as dropped, sending nothing.
	QuietDrop QuietPolicy = "DROP"
)

// applyQuiet validates the quiet-hours fields of in onto g.
func applyQuiet(g *Group, in GroupInput) error {
	if in.QuietHours != nil {
		q, err := CleanQuietHours("quietHours", in.QuietHours)
		if err != nil {
			return err
		}
		g.QuietHours = q
	}
	if g.QuietHours == nil {
		g.QuietHours = QuietHours{}
	}
	if in.QuietPolicy != nil {
		switch *in.QuietPolicy {
		case QuietDigest, QuietDrop:
			g.QuietPolicy = *in.QuietPolicy
		default:
			return Invalid("quietPolicy", "unknown quiet policy %q: want DIGEST or DROP", string(*in.QuietPolicy))
		}
	}
	if g.QuietPolicy == "" {
		g.QuietPolicy = QuietDigest
	}
	return nil
}

// GroupFilter narrows a group list.
type GroupFilter struct {
	Search    string
	ContactID *string
}

// CreateGroup validates and stores a new group with its members.
func (s *Store) CreateGroup(ctx context.Context, in GroupInput) (*Group, error) {
	g := &Group{}
	var err error
	if in.Name == nil {
		return nil, Invalid("name", "name is required")
	}
	if g.Name, g.NameKey, err = CleanName("name", *in.Name); err != nil {
		return nil, err
	}
	if in.Description != nil {
		if g.Description, err = CleanDescription("description", *in.Description); err != nil {
			return nil, err
		}
	}
	if err := applyQuiet(g, in); err != nil {
		return nil, err
	}
	contactIDs, positions, err := parseIDList("contactIds", "contact", in.ContactIDs)
	if err != nil {
		return nil, err
	}
	err = s.mutate(ctx, "createContactGroup", func(tx *gorm.DB) ([]uint, error) {
		if err := requireAll(tx, &Contact{}, "contactIds", "contact", contactIDs, positions); err != nil {
			return nil, err
		}
		if err := tx.Create(g).Error; err != nil {
			return nil, wrapWrite("insert group", "name", "group", g.Name, err)
		}
		if err := addMemberships(tx, membershipsOfGroup(g.ID, contactIDs)); err != nil {
			return nil, err
		}
		return []uint{g.ID}, checkGroupsPerContact(tx, "contactIds", contactIDs, positions)
	})
	if err != nil {
		return nil, wrapWrite("create group", "name", "group", g.Name, err)
	}
	return g, nil
}

// loadGroup reads a group inside tx, mapping a missing row to NOT_FOUND on field.
func loadGroup(tx *gorm.DB, field, id string) (*Group, error) {
	gid, ok := ParseID(id)
	if !ok {
		return nil, NotFound(field, "group", id)
	}
	var g Group
	if err := tx.First(&g, gid).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, NotFound(field, "group", id)
		}
		return nil, fmt.Errorf("load group: %w", err)
	}
	return &g, nil
}

// UpdateGroup changes the given fields of a group.
func (s *Store) UpdateGroup(ctx context.Context, id string, in GroupInput) (*Group, error) {
	var g *Group
	err := s.mutate(ctx, "updateContactGroup", func(tx *gorm.DB) ([]uint, error) {
		var err error
		if g, err = loadGroup(tx, "id", id); err != nil {
			return nil, err
		}
		return []uint{g.ID}, updateGroup(tx, g, in)
	})
	if err != nil {
		name := ""
		if g != nil {
			name = g.Name
		}
		return nil, wrapWrite("update group", "name", "group", name, err)
	}
	return g, nil
}

// updateGroup applies in to the loaded group g inside tx.
func updateGroup(tx *gorm.DB, g *Group, in GroupInput) error {
	var err error
	if in.Name != nil {
		if g.Name, g.NameKey, err = CleanName("name", *in.Name); err != nil {
			return err
		}
	}
	if in.Description != nil {
		if g.Description, err = CleanDescription("description", *in.Description); err != nil {
			return err
		}
	}
	if err := applyQuiet(g, in); err != nil {
		return err
	}
	if in.ContactIDs != nil {
		contactIDs, positions, err := parseIDList("contactIds", "contact", in.ContactIDs)
		if err != nil {
			return err
		}
		if err := requireAll(tx, &Contact{}, "contactIds", "contact", contactIDs, positions); err != nil {
			return err
		}
		if err := replaceGroupContacts(tx, g.ID, contactIDs); err != nil {
			return err
		}
		if err := checkGroupsPerContact(tx, "contactIds", contactIDs, positions); err != nil {
			return err
		}
	}
	return tx.Save(g).Error
}

// DeleteGroup deletes a group and its memberships; the contacts stay.
func (s *Store) DeleteGroup(ctx context.Context, id string) error {
	gid, ok := ParseID(id)
	if !ok {
		return NotFound("id", "group", id)
	}
	return s.mutate(ctx, "deleteContactGroup", func(tx *gorm.DB) ([]uint, error) {
		return []uint{gid}, deleteOne(tx, &Group{}, gid, "group", id)
	})
}

// AddContactsToGroup adds members; contacts already in the group are left as they are.
func (s *Store) AddContactsToGroup(ctx context.Context, groupID string, contactIDs []string) (*Group, error) {
	return s.changeMembers(ctx, "addContactsToGroup", groupID, contactIDs, func(tx *gorm.DB, gid uint, ids []uint, positions []int) error {
		if err := addMemberships(tx, membershipsOfGroup(gid, ids)); err != nil {
			return err
		}
		return checkGroupsPerContact(tx, "contactIds", ids, positions)
	})
}

// RemoveContactsFromGroup removes members; contacts not in the group are ignored.
func (s *Store) RemoveContactsFromGroup(ctx context.Context, groupID string, contactIDs []string) (*Group, error) {
	return s.changeMembers(ctx, "removeContactsFromGroup", groupID, contactIDs, func(tx *gorm.DB, gid uint, ids []uint, _ []int) error {
		if len(ids) == 0 {
			return nil
		}
		return tx.Where("group_id = ? AND contact_id IN ?", gid, ids).Delete(&Membership{}).Error
	})
}

func (s *Store) changeMembers(ctx context.Context, operation, groupID string, rawIDs []string, change func(tx *gorm.DB, gid uint, ids []uint, positions []int) error) (*Group, error) {
	ids, positions, err := parseIDList("contactIds", "contact", rawIDs)
	if err != nil {
		return nil, err
	}
	var g *Group
	err = s.mutate(ctx, operation, func(tx *gorm.DB) ([]uint, error) {
		var err error
		if g, err = loadGroup(tx, "groupId", groupID); err != nil {
			return nil, err
		}
		if err := requireAll(tx, &Contact{}, "contactIds", "contact", ids, positions); err != nil {
			return nil, err
		}
		if err := change(tx, g.ID, ids, positions); err != nil {
			return nil, fmt.Errorf("change members: %w", err)
		}
		return append([]uint{g.ID}, ids...), tx.Save(g).Error
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// Group returns one group, or a NOT_FOUND error.
func (s *Store) Group(ctx context.Context, id string) (*Group, error) {
	return loadGroup(s.db.WithContext(ctx), "id", id)
}

func (s *Store) groupQuery(ctx context.Context, f GroupFilter) (*gorm.DB, bool, error) {
	return s.nameListQuery(ctx, &Group{}, f.Search, "group_id", f.ContactID, "contact_id")
}

// Groups lists groups ordered by name key (unique).
func (s *Store) Groups(ctx context.Context, f GroupFilter, page PageArgs) (Page[*Group], error) {
	q, ok, err := s.groupQuery(ctx, f)
	if err != nil || !ok {
		return Page[*Group]{}, err
	}
	return pageByName(q, page, "groups", func(g *Group) string { return g.NameKey })
}

// CountGroups counts the groups matching f.
func (s *Store) CountGroups(ctx context.Context, f GroupFilter) (int, error) {
	q, ok, err := s.groupQuery(ctx, f)
	if err != nil || !ok {
		return 0, err
	}
	return CountRows(q, "groups")
}

package models

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"gorm.io/gorm"
)

// RecipientQuery names the recipients of an alert: the union of the named contacts and the members
// of the named groups.
type RecipientQuery struct {
	ContactIDs   []string
	GroupIDs     []string
	ContactNames []string
	GroupNames   []string
	// Known says the ids are Herald's own (an integration's recipients), not a caller's: one
	// deleted since they were read is left out instead of being NOT_FOUND, and checking that the
	// groups exist costs no statement.
	Known bool
}

// Check bounds the query's name lists without reading anything, so that a caller can refuse an
// oversize request before it looks anything up (the id lists are bounded as they are parsed).
func (q RecipientQuery) Check() error {
	for field, list := range map[string][]string{"contactNames": q.ContactNames, "groupNames": q.GroupNames} {
		if len(list) > MaxIDsPerRequest {
			return Invalid(field, "at most %d names are allowed, got %d", MaxIDsPerRequest, len(list))
		}
	}
	return nil
}

// Recipient is a contact with its webhooks, as the alert pipeline plans deliveries from it.
type Recipient struct {
	Contact
	// Webhooks are in id order: when contacts share a URL, the oldest configuration of it wins.
	Webhooks []*Webhook
	// Direct says the contact was named itself; Via are the named groups it was reached through,
	// with their quiet hours, in id order.
	Direct bool
	Via    []*Group
}

// ResolveRecipients returns the recipients q names, ordered by name key then id, inside tx so that
// the caller can store what it plans from them in the same transaction. An unknown id or name is
// NOT_FOUND at its position; no recipient at all is BAD_USER_INPUT.
func ResolveRecipients(tx *gorm.DB, q RecipientQuery) ([]Recipient, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	contacts, paths, err := resolveContacts(tx, q)
	if err != nil {
		return nil, err
	}
	out, err := withWebhooks(tx, contacts)
	if err != nil {
		return nil, err
	}
	for i := range out {
		p := paths[out[i].ID]
		out[i].Direct, out[i].Via = p.direct, p.via
	}
	return out, nil
}

// path is how a contact was reached: named itself, or through groups.
type path struct {
	direct bool
	via    []*Group
}

// ContactRecipient returns one contact with its webhooks, in id order, or NOT_FOUND on the id
// argument.
func ContactRecipient(tx *gorm.DB, contactID string) (Recipient, error) {
	cid, ok := ParseID(contactID)
	var c Contact
	if ok {
		if err := tx.First(&c, cid).Error; err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return Recipient{}, fmt.Errorf("load contact: %w", err)
		}
	}
	if c.ID == 0 {
		return Recipient{}, NotFound("id", "contact", contactID)
	}
	rs, err := withWebhooks(tx, []Contact{c})
	if err != nil {
		return Recipient{}, err
	}
	rs[0].Direct = true
	return rs[0], nil
}

// withWebhooks loads the webhooks of contacts, a bounded chunk of contacts per statement.
func withWebhooks(tx *gorm.DB, contacts []Contact) ([]Recipient, error) {
	ids := make([]uint, len(contacts))
	for i, c := range contacts {
		ids[i] = c.ID
	}
	byContact := make(map[uint][]*Webhook, len(contacts))
	for chunk := range slices.Chunk(ids, MaxIDsPerRequest) {
		// Unordered: sorting here rather than in the statement spares MySQL a sort of every row of
		// a large fan-out.
		part, err := ListsByParent(tx.Statement.Context, tx, "webhooks", "contact_id", "", chunk, func(w *Webhook) uint { return w.ContactID })
		if err != nil {
			return nil, err
		}
		maps.Copy(byContact, part)
	}
	out := make([]Recipient, len(contacts))
	for i, c := range contacts {
		hooks := byContact[c.ID]
		slices.SortFunc(hooks, func(a, b *Webhook) int { return cmp.Compare(a.ID, b.ID) })
		out[i] = Recipient{Contact: c, Webhooks: hooks}
	}
	return out, nil
}

// resolveContacts returns the targeted contacts, ordered by name key then id, and how each was
// reached.
func resolveContacts(tx *gorm.DB, q RecipientQuery) ([]Contact, map[uint]*path, error) {
	// Herald's own lists (the routes' recipients together) are not a caller's request: unbounded,
	// and read a chunk at a time.
	limit := MaxIDsPerRequest
	if q.Known {
		limit = 0
	}
	contactIDs, contactPos, err := parseIDs("contactIds", "contact", q.ContactIDs, limit)
	if err != nil {
		return nil, nil, err
	}
	groupIDs, groupPos, err := parseIDs("groupIds", "group", q.GroupIDs, limit)
	if err != nil {
		return nil, nil, err
	}
	byID := map[uint]Contact{}
	paths := map[uint]*path{}
	reach := func(c Contact, via *Group) {
		byID[c.ID] = c
		p := paths[c.ID]
		if p == nil {
			p = &path{}
			paths[c.ID] = p
		}
		if via == nil {
			p.direct = true
		} else {
			p.via = append(p.via, via)
		}
	}
	var direct []Contact
	for chunk := range slices.Chunk(contactIDs, MaxIDsPerRequest) {
		var part []Contact
		if err := tx.Where("id IN ?", chunk).Find(&part).Error; err != nil {
			return nil, nil, fmt.Errorf("load contacts: %w", err)
		}
		direct = append(direct, part...)
	}
	for _, c := range direct {
		reach(c, nil)
	}
	for i, id := range contactIDs {
		if _, ok := byID[id]; !ok && !q.Known {
			return nil, nil, NotFound(indexed("contactIds", contactPos[i]), "contact", FormatID(id))
		}
	}
	named, err := byNames[Contact](tx, "contactNames", "contact", q.ContactNames, func(c Contact) string { return c.NameKey })
	if err != nil {
		return nil, nil, err
	}
	for _, c := range named {
		reach(c, nil)
	}
	if len(groupIDs) > 0 && !q.Known {
		if err := requireAll(tx, &Group{}, "groupIds", "group", groupIDs, groupPos); err != nil {
			return nil, nil, err
		}
	}
	groups, err := byNames[Group](tx, "groupNames", "group", q.GroupNames, func(g Group) string { return g.NameKey })
	if err != nil {
		return nil, nil, err
	}
	for _, g := range groups {
		groupIDs = append(groupIDs, g.ID)
	}
	slices.Sort(groupIDs)
	groupIDs = slices.Compact(groupIDs)
	for chunk := range slices.Chunk(groupIDs, MaxIDsPerRequest) {
		// Each member row brings its group's quiet hours, which decide whether its deliveries wait.
		var members []struct {
			Contact        Contact `gorm:"embedded"`
			ViaID          uint
			ViaName        string
			ViaQuietHours  QuietHours `gorm:"serializer:json"`
			ViaQuietPolicy QuietPolicy
		}
		err := tx.Table("contacts AS c").
			Select("c.*, m.group_id AS via_id, g.name AS via_name, g.quiet_hours AS via_quiet_hours, g.quiet_policy AS via_quiet_policy").
			Joins("JOIN memberships AS m ON m.contact_id = c.id").Joins("JOIN contact_groups AS g ON g.id = m.group_id").
			Where("m.group_id IN ?", chunk).Scopes(inNamespace(tx.Statement.Context, "c")).Scan(&members).Error
		if err != nil {
			return nil, nil, fmt.Errorf("load group members: %w", err)
		}
		byGroup := map[uint]*Group{}
		for _, m := range members {
			g := byGroup[m.ViaID]
			if g == nil {
				g = &Group{ID: m.ViaID, Name: m.ViaName, QuietHours: m.ViaQuietHours, QuietPolicy: m.ViaQuietPolicy}
				byGroup[m.ViaID] = g
			}
			reach(m.Contact, g)
		}
	}
	if len(byID) == 0 {
		return nil, nil, Invalid("", "the alert has no recipients: name at least one contact, or a group that has members")
	}
	out := make([]Contact, 0, len(byID))
	for _, c := range byID {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Contact) int {
		if c := strings.Compare(a.NameKey, b.NameKey); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, paths, nil
}

// byNames loads rows of T by name, reporting the first unknown name as NOT_FOUND at its index.
func byNames[T any](tx *gorm.DB, field, what string, names []string, key func(T) string) ([]T, error) {
	if len(names) == 0 {
		return nil, nil
	}
	keys := make([]string, len(names))
	for i, n := range names {
		keys[i] = NameKey(strings.TrimSpace(n))
	}
	var rows []T
	if err := tx.Where("name_key IN ?", keys).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("look up %ss by name: %w", what, err)
	}
	found := make(map[string]bool, len(rows))
	for _, r := range rows {
		found[key(r)] = true
	}
	for i, k := range keys {
		if !found[k] {
			return nil, NotFound(indexed(field, i), what, names[i])
		}
	}
	return rows, nil
}

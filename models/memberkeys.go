package models

import (
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"
)

// A group's first members by name are what every page of contacts or groups shows of each group.
// Ordered by the contacts' name key, they needed every member of every group read and sorted
// (30,000 rows for a page whose groups hold 300 members each). memberships.contact_key copies the
// key so that (group_id, contact_key) orders each group's members: the first page of a group is
// the first rows of its range.
//
// Triggers keep the copy, whoever writes (Herald, an older replica during a rolling upgrade, a
// bulk load), at no statement of Herald's own: a new membership takes its contact's key, and a
// renamed contact's memberships take the new one. A membership whose copy is empty (written before
// the triggers) is filled at start.

// memberKeyTriggers are the triggers on each database, by name.
var memberKeyTriggers = map[bool][]struct{ name, sql string }{
	// MySQL: a BEFORE trigger sets the row as it is written.
	true: {
		{"memberships_contact_key_insert", `CREATE TRIGGER memberships_contact_key_insert BEFORE INSERT ON memberships FOR EACH ROW
  SET NEW.contact_key = COALESCE((SELECT name_key FROM contacts WHERE id = NEW.contact_id), '')`},
		// Compared as bytes: utf8mb4_bin pads with spaces, and would call "a" and "a " the same key.
		{"contacts_membership_keys_update", `CREATE TRIGGER contacts_membership_keys_update AFTER UPDATE ON contacts FOR EACH ROW
BEGIN
  IF CAST(OLD.name_key AS BINARY) <> CAST(NEW.name_key AS BINARY) THEN
    UPDATE memberships SET contact_key = NEW.name_key WHERE contact_id = NEW.id;
  END IF;
END`},
	},
	// SQLite: a trigger cannot change the row being written, so it updates it once written.
	false: {
		{"memberships_contact_key_insert", `CREATE TRIGGER memberships_contact_key_insert AFTER INSERT ON memberships
WHEN NEW.contact_key = '' BEGIN
  UPDATE memberships SET contact_key = COALESCE((SELECT name_key FROM contacts WHERE id = NEW.contact_id), '')
    WHERE contact_id = NEW.contact_id AND group_id = NEW.group_id;
END`},
		{"contacts_membership_keys_update", `CREATE TRIGGER contacts_membership_keys_update AFTER UPDATE OF name_key ON contacts
WHEN OLD.name_key IS NOT NEW.name_key BEGIN
  UPDATE memberships SET contact_key = NEW.name_key WHERE contact_id = NEW.id;
END`},
	},
}

// migrateMemberKeys creates the triggers that are missing and then fills the copies still empty:
// a membership written between the column and its trigger is filled by the one or the other. It
// runs on every start; once done, it costs a look at the trigger list and at one index.
func migrateMemberKeys(db *gorm.DB) error {
	mysql := IsMySQL(db)
	var have []string
	list := "SELECT name FROM sqlite_master WHERE type = 'trigger'"
	if mysql {
		list = "SELECT trigger_name FROM information_schema.triggers WHERE trigger_schema = DATABASE()"
	}
	if err := db.Raw(list).Scan(&have).Error; err != nil {
		return fmt.Errorf("member keys: list the triggers: %w", err)
	}
	for _, t := range memberKeyTriggers[mysql] {
		if slices.Contains(have, t.name) {
			continue
		}
		if err := db.Exec(t.sql).Error; err != nil {
			return fmt.Errorf("member keys: create trigger %s (a MySQL user needs the TRIGGER privilege): %w", t.name, err)
		}
	}
	var empty []int
	if err := db.Raw("SELECT 1 FROM memberships WHERE contact_key = '' LIMIT 1").Scan(&empty).Error; err != nil {
		return fmt.Errorf("member keys: look for empty ones: %w", err)
	}
	if len(empty) == 0 {
		return nil
	}
	if err := db.Exec("UPDATE memberships SET contact_key = COALESCE((SELECT name_key FROM contacts WHERE contacts.id = memberships.contact_id), '') " +
		"WHERE contact_key = ''").Error; err != nil {
		return fmt.Errorf("member keys: fill them: %w", err)
	}
	return nil
}

// maxUnionGroups is how many groups' first members one UNION ALL reads, each group a range of
// ix_memberships_group_key: SQLite allows 500 parts in a compound SELECT. A page whose contacts
// are in more groups than that between them reads all their members in one window instead.
var maxUnionGroups = 500

// firstMembersUnion is the statement of FirstMembersByGroup for a few hundred groups: for each, its
// first n memberships in key order, a range of the index alone, and then their contacts, by group
// and name. Joining the contacts once, outside the parts, keeps each part a one-table range: a part
// with its own join cost five times as much to plan and run.
func firstMembersUnion(ns *uint, groupIDs []uint, n int) (string, []any) {
	var b strings.Builder
	args := make([]any, 0, 2*len(groupIDs)+1)
	fmt.Fprintf(&b, "SELECT %s, u.group_id FROM (", contactColumns)
	for i, g := range groupIDs {
		if i > 0 {
			b.WriteString(" UNION ALL ")
		}
		// Each part in a derived table: SQLite takes no ORDER BY or LIMIT on a compound's parts.
		fmt.Fprintf(&b, "SELECT * FROM (SELECT group_id, contact_id, contact_key FROM memberships WHERE group_id = ? "+
			"ORDER BY contact_key LIMIT ?) AS g%d", i)
		args = append(args, g, n)
	}
	b.WriteString(") AS u JOIN contacts AS c ON c.id = u.contact_id")
	if ns != nil {
		b.WriteString(" WHERE c.namespace_id = ?")
		args = append(args, *ns)
	}
	b.WriteString(" ORDER BY u.group_id, u.contact_key")
	return b.String(), args
}

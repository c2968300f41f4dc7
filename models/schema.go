package models

import (
	"fmt"
	"time"

	"github.com/heraldhq/herald/secrets"
	"github.com/heraldhq/herald/senders"
	"gorm.io/gorm"
)

// Contact is one recipient of notifications.
type Contact struct {
	ID uint `gorm:"primaryKey"`
	// NamespaceID leads the name index: every list is read within one namespace. Rows written
	// before namespaces existed belong to the default namespace.
	NamespaceID uint   `gorm:"not null;default:1;uniqueIndex:ux_contacts_namespace_name,priority:1"`
	Name        string `gorm:"size:64;not null"`
	// NameKey is NameKey(Name): unique within the namespace, and the sort key of every contact list.
	NameKey string  `gorm:"size:256;not null;uniqueIndex:ux_contacts_namespace_name,priority:2"`
	Phone   *string `gorm:"size:20"`
	// The contact's account on each platform, mentioned by id where its robot can (DingTalk userId,
	// WeCom userid, Lark open_id); the phone is the fallback.
	DingTalkUserID *string `gorm:"column:dingtalk_user_id;size:64"`
	WeComUserID    *string `gorm:"column:wecom_user_id;size:64"`
	LarkUserID     *string `gorm:"column:lark_user_id;size:64"`
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// UserID is the contact's user id on a platform, or nil.
func (c *Contact) UserID(p senders.Platform) *string {
	switch p {
	case senders.DingTalk:
		return c.DingTalkUserID
	case senders.WeCom:
		return c.WeComUserID
	case senders.Lark:
		return c.LarkUserID
	}
	return nil
}

// Webhook is one robot URL of a contact. Secret is write-only at the API.
type Webhook struct {
	ID        uint `gorm:"primaryKey"`
	ContactID uint `gorm:"not null;uniqueIndex:ux_webhooks_contact_url,priority:1"`
	// RobotKey identifies the robot the URL reaches (RobotKey(URL)); it, not the URL, is indexed:
	// a URL may be 2048 bytes, too long for a MySQL index.
	RobotKey  string           `gorm:"column:url_hash;size:64;not null;uniqueIndex:ux_webhooks_contact_url,priority:2"`
	URL       string           `gorm:"size:2048;not null"`
	Platform  senders.Platform `gorm:"size:16;not null"`
	Secret    *secrets.Sealed  `gorm:"size:1024"`
	Keyword   *string          `gorm:"size:64"`
	Position  int              `gorm:"not null"`
	CreatedAt time.Time
	UpdatedAt time.Time

	Contact *Contact `gorm:"constraint:OnDelete:CASCADE" json:"-"`
}

// HasSecret tells the API whether a signing secret is stored, without revealing it.
func (w *Webhook) HasSecret() bool { return w.Secret != nil && *w.Secret != "" }

// Group is a named set of contacts.
type Group struct {
	ID          uint   `gorm:"primaryKey"`
	NamespaceID uint   `gorm:"not null;default:1;uniqueIndex:ux_contact_groups_namespace_name,priority:1"`
	Name        string `gorm:"size:64;not null"`
	NameKey     string `gorm:"size:256;not null;uniqueIndex:ux_contact_groups_namespace_name,priority:2"`
	Description string `gorm:"size:512;not null;default:''"`
	// QuietHours hold the group's deliveries of alerts below CRITICAL while they last; QuietPolicy
	// says what happens to them when the hours end.
	QuietHours  QuietHours  `gorm:"serializer:json;size:65536"`
	QuietPolicy QuietPolicy `gorm:"size:8;not null;default:'DIGEST'"`
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// TableName keeps "groups", a reserved word in MySQL 8, out of SQL.
func (Group) TableName() string { return "contact_groups" }

// Membership joins a contact and a group. Both foreign keys cascade, so deleting either side removes
// the membership and never the other side.
type Membership struct {
	ContactID uint `gorm:"primaryKey;autoIncrement:false;index:ix_memberships_group_contact,priority:2"`
	GroupID   uint `gorm:"primaryKey;autoIncrement:false;index:ix_memberships_group_contact,priority:1;index:ix_memberships_group_key,priority:1"`
	// ContactKey is the contact's name key, kept by triggers (memberkeys.go): a group's members in
	// name order are then a range of ix_memberships_group_key, and a group's first page reads only
	// the page.
	ContactKey string `gorm:"size:256;not null;default:'';index:ix_memberships_group_key,priority:2"`
	CreatedAt  time.Time

	Contact *Contact `gorm:"constraint:OnDelete:CASCADE" json:"-"`
	Group   *Group   `gorm:"constraint:OnDelete:CASCADE" json:"-"`
}

// Migrate creates or updates the address book's tables (namespaces, contacts, groups,
// memberships, tokens, audit, integrations). It is safe to run on every start; a database of a version before
// namespaces moves into the default namespace, with nothing lost.
func Migrate(db *gorm.DB) error {
	// Namespaces and their default row first, before any row can be written into it.
	if err := AutoMigrate(db, &Namespace{}, &AuditEntry{}); err != nil {
		return fmt.Errorf("migrate address book: %w", err)
	}
	if err := migrateNamespaces(db); err != nil {
		return fmt.Errorf("migrate address book: %w", err)
	}
	if err := AutoMigrate(db, &Contact{}, &Group{}, &Webhook{}, &Membership{}, &APIToken{},
		&MessageTemplate{}, &Integration{}, &IntegrationGroup{}, &IntegrationContact{},
		&Route{}, &RouteGroup{}, &RouteContact{}, &Silence{}); err != nil {
		return fmt.Errorf("migrate address book: %w", err)
	}
	if err := migrateNameSearch(db); err != nil {
		return fmt.Errorf("migrate address book: %w", err)
	}
	if err := migrateMemberKeys(db); err != nil {
		return fmt.Errorf("migrate address book: %w", err)
	}
	return dropPreNamespaceIndexes(db)
}

// AutoMigrate creates or updates tables with the options every Herald table has on MySQL.
func AutoMigrate(db *gorm.DB, tables ...any) error {
	if IsMySQL(db) {
		// Binary collation: the name key, not the collation, decides which names are equal.
		db = db.Set("gorm:table_options", "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin")
	}
	return db.AutoMigrate(tables...)
}

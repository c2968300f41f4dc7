package models

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/secrets"
	"gorm.io/gorm"
)

// IntegrationKind is the payload shape an integration's hook takes; the values match the GraphQL enum.
type IntegrationKind string

const (
	IntegrationAlertmanager IntegrationKind = "ALERTMANAGER"
	IntegrationGrafana      IntegrationKind = "GRAFANA"
	IntegrationGeneric      IntegrationKind = "GENERIC"
)

// Valid reports whether k is one of the kinds.
func (k IntegrationKind) Valid() bool {
	switch k {
	case IntegrationAlertmanager, IntegrationGrafana, IntegrationGeneric:
		return true
	}
	return false
}

// Integration is an alert source (an Alertmanager, a Grafana, a script) posting to its own hook
// URL, and the groups and contacts its alerts go to.
type Integration struct {
	ID          uint            `gorm:"primaryKey"`
	NamespaceID uint            `gorm:"not null;default:1;uniqueIndex:ux_integrations_namespace_name,priority:1"`
	Name        string          `gorm:"size:64;not null"`
	NameKey     string          `gorm:"size:256;not null;uniqueIndex:ux_integrations_namespace_name,priority:2"`
	Kind        IntegrationKind `gorm:"size:16;not null"`
	// SendResolved false drops all-resolved notifications and the resolved alerts of mixed ones.
	SendResolved    bool `gorm:"not null"`
	MentionContacts bool `gorm:"not null"`
	// RouteByLabels routes its alerts by their labels; its own recipients get those no route matches.
	RouteByLabels bool `gorm:"not null;default:false"`
	// TimeZone is the IANA zone the messages show times in.
	TimeZone string `gorm:"size:64;not null;default:'UTC'"`
	// TemplateID is the message template its alerts are rendered with; nil: the kind's built-in.
	TemplateID *uint `gorm:"index:ix_integrations_template"`
	// SigningSecret is Grafana's HMAC secret, sealed; the column is named like every sealed
	// secret's, so start-up checks and key rotation cover it.
	SigningSecret *secrets.Sealed `gorm:"column:secret;size:1024" json:"-"`
	// TokenHash is the SHA-256 of the hook's bearer token; the token is shown once.
	TokenHash      string `gorm:"size:64;not null;uniqueIndex:ux_integrations_token_hash" json:"-"`
	CreatedAt      time.Time
	UpdatedAt      time.Time
	LastReceivedAt *time.Time

	// GroupIDs and ContactIDs are the recipients, filled by IntegrationForHook.
	GroupIDs   []uint `gorm:"-"`
	ContactIDs []uint `gorm:"-"`
}

// HasSigningSecret tells the API whether a signing secret is stored, without revealing it.
func (i *Integration) HasSigningSecret() bool {
	return i.SigningSecret != nil && *i.SigningSecret != ""
}

// IntegrationGroup makes a group a recipient of an integration; deleting either side removes it.
type IntegrationGroup struct {
	IntegrationID uint `gorm:"primaryKey;autoIncrement:false"`
	GroupID       uint `gorm:"primaryKey;autoIncrement:false;index:ix_integration_groups_group"`

	Integration *Integration `gorm:"constraint:OnDelete:CASCADE" json:"-"`
	Group       *Group       `gorm:"constraint:OnDelete:CASCADE" json:"-"`
}

// IntegrationContact makes a contact a recipient of an integration; deleting either side removes it.
type IntegrationContact struct {
	IntegrationID uint `gorm:"primaryKey;autoIncrement:false"`
	ContactID     uint `gorm:"primaryKey;autoIncrement:false;index:ix_integration_contacts_contact"`

	Integration *Integration `gorm:"constraint:OnDelete:CASCADE" json:"-"`
	Contact     *Contact     `gorm:"constraint:OnDelete:CASCADE" json:"-"`
}

// Integration input limits.
const (
	MaxTimeZoneLength = 64
	// receivedEvery throttles lastReceivedAt like a token's lastUsedAt: a write per notification
	// would double the statements of the busiest path.
	receivedEvery = time.Minute
)

// IntegrationInput creates or changes an integration. On update a nil field is left unchanged; a
// non-nil GroupIDs or ContactIDs replaces that list; an empty SigningSecret removes the secret.
type IntegrationInput struct {
	Name            *string
	Kind            IntegrationKind
	GroupIDs        []string
	ContactIDs      []string
	SendResolved    *bool
	MentionContacts *bool
	RouteByLabels   *bool
	SigningSecret   *string
	TimeZone        *string
	// TemplateID names a message template of the namespace; "" returns to the kind's built-in.
	TemplateID *string
}

// CleanTimeZone accepts an IANA zone name; "Local" is refused, since it means whatever the
// server's machine says.
func CleanTimeZone(field, raw string) (string, error) {
	tz := strings.TrimSpace(raw)
	if tz == "" {
		return "UTC", nil
	}
	if utf8.RuneCountInString(tz) > MaxTimeZoneLength || tz == "Local" {
		return "", Invalid(field, "%q is not an IANA time zone such as Asia/Shanghai or UTC", tz)
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return "", Invalid(field, "%q is not an IANA time zone such as Asia/Shanghai or UTC", tz)
	}
	return tz, nil
}

// integrationSettings are the columns updateIntegration writes.
var integrationSettings = []string{"name", "name_key", "send_resolved", "mention_contacts", "route_by_labels", "time_zone", "secret", "template_id", "updated_at"}

// applyIntegration validates in onto i (inside tx, so that recipients are checked against committed rows)
// and replaces the recipient lists it names.
func (s *Store) applyIntegration(tx *gorm.DB, i *Integration, in IntegrationInput, creating bool) error {
	var err error
	if in.Name != nil {
		if i.Name, i.NameKey, err = CleanName("name", *in.Name); err != nil {
			return err
		}
	}
	if in.SendResolved != nil {
		i.SendResolved = *in.SendResolved
	}
	if in.MentionContacts != nil {
		i.MentionContacts = *in.MentionContacts
	}
	if in.RouteByLabels != nil {
		i.RouteByLabels = *in.RouteByLabels
	}
	if in.TimeZone != nil {
		if i.TimeZone, err = CleanTimeZone("timeZone", *in.TimeZone); err != nil {
			return err
		}
	}
	if in.SigningSecret != nil {
		secret, err := CleanSecret("signingSecret", *in.SigningSecret)
		if err != nil {
			return err
		}
		if secret != nil && i.Kind != IntegrationGrafana {
			return Invalid("signingSecret", "only GRAFANA integrations verify a signature; %s sources authenticate with the token alone", i.Kind)
		}
		if i.SigningSecret, err = s.sealSecret("signingSecret", secret); err != nil {
			return err
		}
	}
	if in.TemplateID != nil {
		i.TemplateID = nil
		if *in.TemplateID != "" {
			// Locked like deleteMessageTemplate locks it, so that the template cannot go meanwhile.
			t, err := loadTemplate(tx, "templateId", *in.TemplateID, true)
			if err != nil {
				return err
			}
			i.TemplateID = &t.ID
		}
	}
	groups, groupPos, err := parseIDList("groupIds", "group", in.GroupIDs)
	if err != nil {
		return err
	}
	contacts, contactPos, err := parseIDList("contactIds", "contact", in.ContactIDs)
	if err != nil {
		return err
	}
	if err := requireAll(tx, &Group{}, "groupIds", "group", groups, groupPos); err != nil {
		return err
	}
	if err := requireAll(tx, &Contact{}, "contactIds", "contact", contacts, contactPos); err != nil {
		return err
	}
	if creating {
		if err := tx.Create(i).Error; err != nil {
			return wrapWrite("insert integration", "name", "integration", i.Name, err)
		}
	} else if err := tx.Model(i).Select(integrationSettings).Updates(i).Error; err != nil {
		// Only what an update may change: a token rotated meanwhile, or the time of the last
		// notification, must not be written back from the row as it was read.
		return wrapWrite("update integration", "name", "integration", i.Name, err)
	}
	if in.GroupIDs != nil {
		if err := replaceJoined(tx, "integration_id", i.ID, groups, func(id uint) IntegrationGroup {
			return IntegrationGroup{IntegrationID: i.ID, GroupID: id}
		}); err != nil {
			return err
		}
	}
	if in.ContactIDs != nil {
		if err := replaceJoined(tx, "integration_id", i.ID, contacts, func(id uint) IntegrationContact {
			return IntegrationContact{IntegrationID: i.ID, ContactID: id}
		}); err != nil {
			return err
		}
	}
	if i.RouteByLabels {
		return nil // its routes find the recipients; its own are only the fallback
	}
	return requireRecipients(tx, i.ID)
}

// replaceJoined makes ids the whole list of the owner (whose id is in column owner) in the join
// table of T.
func replaceJoined[T any](tx *gorm.DB, owner string, ownerID uint, ids []uint, row func(uint) T) error {
	if err := tx.Where(owner+" = ?", ownerID).Delete(new(T)).Error; err != nil {
		return fmt.Errorf("replace recipients: %w", err)
	}
	if len(ids) == 0 {
		return nil
	}
	rows := make([]T, len(ids))
	for k, id := range ids {
		rows[k] = row(id)
	}
	if err := tx.CreateInBatches(rows, 500).Error; err != nil {
		return fmt.Errorf("add recipients: %w", err)
	}
	return nil
}

// requireRecipients refuses an integration that would reach no one: its alerts would be refused
// at every notification, long after the mistake was made.
func requireRecipients(tx *gorm.DB, integrationID uint) error {
	var n int64
	if err := tx.Model(&IntegrationGroup{}).Where("integration_id = ?", integrationID).Count(&n).Error; err != nil {
		return fmt.Errorf("count integration groups: %w", err)
	}
	if n > 0 {
		return nil
	}
	if err := tx.Model(&IntegrationContact{}).Where("integration_id = ?", integrationID).Count(&n).Error; err != nil {
		return fmt.Errorf("count integration contacts: %w", err)
	}
	if n == 0 {
		return Invalid("groupIds", "an integration needs at least one group or contact to send its alerts to")
	}
	return nil
}

// CreateIntegration stores a new integration whose hook token has the hash tokenHash.
func (s *Store) CreateIntegration(ctx context.Context, in IntegrationInput, tokenHash string) (*Integration, error) {
	if in.Name == nil {
		return nil, Invalid("name", "name is required")
	}
	if !in.Kind.Valid() {
		return nil, Invalid("kind", "unknown kind %q", string(in.Kind))
	}
	if in.SendResolved == nil {
		yes := true
		in.SendResolved = &yes
	}
	i := &Integration{Kind: in.Kind, TimeZone: "UTC", TokenHash: tokenHash}
	err := s.mutate(ctx, "createIntegration", func(tx *gorm.DB) ([]uint, error) {
		if err := s.applyIntegration(tx, i, in, true); err != nil {
			return nil, err
		}
		return []uint{i.ID}, nil
	})
	if err != nil {
		return nil, wrapWrite("create integration", "name", "integration", i.Name, err)
	}
	return i, nil
}

// loadIntegration reads an integration inside tx, mapping a missing row to NOT_FOUND on id.
func loadIntegration(tx *gorm.DB, id string) (*Integration, error) {
	iid, ok := ParseID(id)
	if !ok {
		return nil, NotFound("id", "integration", id)
	}
	var i Integration
	if err := tx.First(&i, iid).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, NotFound("id", "integration", id)
		}
		return nil, fmt.Errorf("load integration: %w", err)
	}
	return &i, nil
}

// UpdateIntegration changes the given fields of an integration; its kind and token stay.
func (s *Store) UpdateIntegration(ctx context.Context, id string, in IntegrationInput) (*Integration, error) {
	var i *Integration
	err := s.mutate(ctx, "updateIntegration", func(tx *gorm.DB) ([]uint, error) {
		var err error
		if i, err = loadIntegration(tx, id); err != nil {
			return nil, err
		}
		return []uint{i.ID}, s.applyIntegration(tx, i, in, false)
	})
	if err != nil {
		name := ""
		if i != nil {
			name = i.Name
		}
		return nil, wrapWrite("update integration", "name", "integration", name, err)
	}
	return i, nil
}

// RotateIntegrationToken replaces the hook token's hash: the old token fails from the next
// notification on, on every replica, since each notification looks its integration up.
func (s *Store) RotateIntegrationToken(ctx context.Context, id string, tokenHash string) (*Integration, error) {
	var i *Integration
	err := s.mutate(ctx, "rotateIntegrationToken", func(tx *gorm.DB) ([]uint, error) {
		var err error
		if i, err = loadIntegration(tx, id); err != nil {
			return nil, err
		}
		i.TokenHash = tokenHash
		if err := tx.Model(i).Update("token_hash", tokenHash).Error; err != nil {
			return nil, fmt.Errorf("rotate integration token: %w", err)
		}
		return []uint{i.ID}, nil
	})
	if err != nil {
		return nil, err
	}
	return i, nil
}

// DeleteIntegration deletes an integration; its alerts stay in the history, without a source.
func (s *Store) DeleteIntegration(ctx context.Context, id string) error {
	iid, ok := ParseID(id)
	if !ok {
		return NotFound("id", "integration", id)
	}
	return s.mutate(ctx, "deleteIntegration", func(tx *gorm.DB) ([]uint, error) {
		return []uint{iid}, deleteOne(tx, &Integration{}, iid, "integration", id)
	})
}

// Integration returns one integration of the request's namespace, or NOT_FOUND.
func (s *Store) Integration(ctx context.Context, id string) (*Integration, error) {
	return loadIntegration(s.db.WithContext(ctx), id)
}

// Integrations lists the namespace's integrations ordered by name key (unique).
func (s *Store) Integrations(ctx context.Context, page PageArgs) (Page[*Integration], error) {
	return pageByName(s.db.WithContext(ctx).Model(&Integration{}), page, "integrations", func(i *Integration) string { return i.NameKey })
}

// CountIntegrations counts the namespace's integrations.
func (s *Store) CountIntegrations(ctx context.Context) (int, error) {
	return CountRows(s.db.WithContext(ctx).Model(&Integration{}), "integrations")
}

// IntegrationsByID returns the integrations with the given ids that still exist.
func (s *Store) IntegrationsByID(ctx context.Context, ids []uint) (map[uint]*Integration, error) {
	return byID(ctx, s, ids, "integrations", func(i *Integration) uint { return i.ID })
}

// GroupsByIntegration returns the groups of each integration, ordered by name.
func (s *Store) GroupsByIntegration(ctx context.Context, ids []uint) (map[uint][]*Group, error) {
	return joinedRows[Group](ctx, s, "contact_groups", "integration_groups", "group_id", "integration_id", ids)
}

// ContactsByIntegration returns the contacts an integration names directly, ordered by name.
func (s *Store) ContactsByIntegration(ctx context.Context, ids []uint) (map[uint][]*Contact, error) {
	return joinedRows[Contact](ctx, s, "contacts", "integration_contacts", "contact_id", "integration_id", ids)
}

// joinedRows reads the rows of table (contacts or groups, ordered by name) that the join table
// gives each owner id, within the request's namespace.
func joinedRows[T any](ctx context.Context, s *Store, table, join, column, owner string, ids []uint) (map[uint][]*T, error) {
	var rows []struct {
		Row     T `gorm:"embedded"`
		OwnerID uint
	}
	err := s.db.WithContext(ctx).Table(table+" AS t").
		Select("t.*, j."+owner+" AS owner_id").
		Joins("JOIN "+join+" AS j ON j."+column+" = t.id").
		Where("j."+owner+" IN ?", ids).
		Scopes(inNamespace(ctx, "t")).
		Order("t.name_key").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("load %s of %s: %w", table, join, err)
	}
	out := make(map[uint][]*T, len(ids))
	for _, r := range rows {
		row := r.Row
		out[r.OwnerID] = append(out[r.OwnerID], &row)
	}
	return out, nil
}

// ErrHookRefused is IntegrationForHook's one answer for an unknown integration and a wrong token
// alike, so that a caller cannot tell which integrations exist.
var ErrHookRefused = errors.New("unknown integration or wrong token")

// IntegrationWithRecipients returns one integration of the request's namespace with GroupIDs and
// ContactIDs filled, as its hook reads it; NOT_FOUND at id when none has it.
func (s *Store) IntegrationWithRecipients(ctx context.Context, id string) (*Integration, error) {
	i, err := s.Integration(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := fillRecipients(s.db.WithContext(ctx), i); err != nil {
		return nil, err
	}
	return i, nil
}

// fillRecipients reads the integration's groups and contacts into GroupIDs and ContactIDs.
func fillRecipients(db *gorm.DB, i *Integration) error {
	var recipients []struct {
		Kind string
		ID   uint
	}
	err := db.Raw("SELECT 'g' AS kind, group_id AS id FROM integration_groups WHERE integration_id = ? "+
		"UNION ALL SELECT 'c' AS kind, contact_id AS id FROM integration_contacts WHERE integration_id = ?", i.ID, i.ID).
		Scan(&recipients).Error
	if err != nil {
		return fmt.Errorf("look up integration recipients: %w", err)
	}
	for _, r := range recipients {
		if r.Kind == "g" {
			i.GroupIDs = append(i.GroupIDs, r.ID)
		} else {
			i.ContactIDs = append(i.ContactIDs, r.ID)
		}
	}
	return nil
}

// IntegrationForHook returns the integration a hook URL names, with its recipients, if tokenHash
// is its token's; whatever the request's namespace, since a hook request names none: the
// integration's namespace is the alert's. The comparison takes constant time.
func (s *Store) IntegrationForHook(ctx context.Context, id string, tokenHash string) (*Integration, error) {
	iid, ok := ParseID(id)
	if !ok {
		return nil, ErrHookRefused
	}
	db := s.db.WithContext(withoutNamespace(ctx))
	var rows []*Integration
	if err := db.Where("id = ?", iid).Limit(1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("look up integration: %w", err)
	}
	if len(rows) == 0 || subtle.ConstantTimeCompare([]byte(rows[0].TokenHash), []byte(tokenHash)) != 1 {
		return nil, ErrHookRefused
	}
	i := rows[0]
	if err := fillRecipients(db, i); err != nil {
		return nil, err
	}
	return i, nil
}

// NoteReceived records that the integration's hook was called, at most once a minute.
func (s *Store) NoteReceived(ctx context.Context, i *Integration, at time.Time) error {
	if i.LastReceivedAt != nil && at.Sub(*i.LastReceivedAt) < receivedEvery {
		return nil
	}
	err := s.db.WithContext(withoutNamespace(ctx)).Model(&Integration{}).Where("id = ?", i.ID).
		UpdateColumn("last_received_at", at).Error
	if err != nil {
		return fmt.Errorf("note integration use: %w", err)
	}
	return nil
}

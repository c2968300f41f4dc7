package models

import (
	"context"
	"errors"
	"fmt"

	"github.com/heraldhq/herald/secrets"
	"github.com/heraldhq/herald/senders"
	"gorm.io/gorm"
)

// WebhookChecker validates a webhook URL and returns its platform: the explicit one when given,
// otherwise the one recognised from the URL. It also applies the outbound-request guard, so that
// a URL that could never be sent to is refused when it is saved.
type WebhookChecker func(rawURL string, explicit senders.Platform) (senders.Platform, error)

// Store is the address book: the queries and transactions over contacts, groups, memberships,
// API tokens and the audit log, and the key ring that seals webhook secrets.
type Store struct {
	db           *gorm.DB
	checkWebhook WebhookChecker
	keyring      *secrets.Keyring
	namespaces   namespaceCache
}

// NewStore returns a store over db that saves a webhook only if check accepts its URL.
func NewStore(db *gorm.DB, check WebhookChecker) *Store {
	if check == nil {
		panic("models.NewStore needs a webhook checker")
	}
	scopeToNamespace(db)
	return &Store{db: db, checkWebhook: check}
}

// DB exposes the connection for packages that keep their own tables beside these (the outbox).
func (s *Store) DB() *gorm.DB { return s.db }

// transaction runs fn in one transaction: either all of a mutation's changes land or none does.
func (s *Store) transaction(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.db.WithContext(ctx).Transaction(fn)
}

// wrapWrite turns a unique-index violation on a name into CONFLICT and gives other errors context.
func wrapWrite(op, field, what, name string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := AsError(err); ok {
		return err
	}
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return conflict(field, "a %s named %q already exists", what, name)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// existingIDs returns which of ids exist in the table of model, as a set.
func existingIDs(tx *gorm.DB, model any, ids []uint) (map[uint]bool, error) {
	found := make(map[uint]bool, len(ids))
	if len(ids) == 0 {
		return found, nil
	}
	var rows []uint
	if err := tx.Model(model).Where("id IN ?", ids).Pluck("id", &rows).Error; err != nil {
		return nil, err
	}
	for _, id := range rows {
		found[id] = true
	}
	return found, nil
}

// requireAll checks that every id exists, reporting the first missing one at its input position.
func requireAll(tx *gorm.DB, model any, field, what string, ids []uint, positions []int) error {
	found, err := existingIDs(tx, model, ids)
	if err != nil {
		return fmt.Errorf("look up %ss: %w", what, err)
	}
	return firstMissing(found, field, what, ids, positions)
}

// requireGroups loads the groups with the given ids in name order, the order of a contact's groups,
// reporting the first missing one at its input position.
func requireGroups(tx *gorm.DB, field string, ids []uint, positions []int) ([]*Group, error) {
	groups := []*Group{}
	if len(ids) == 0 {
		return groups, nil
	}
	if err := tx.Where("id IN ?", ids).Order("name_key").Find(&groups).Error; err != nil {
		return nil, fmt.Errorf("look up groups: %w", err)
	}
	found := make(map[uint]bool, len(groups))
	for _, g := range groups {
		found[g.ID] = true
	}
	return groups, firstMissing(found, field, "group", ids, positions)
}

func firstMissing(found map[uint]bool, field, what string, ids []uint, positions []int) error {
	for i, id := range ids {
		if !found[id] {
			return NotFound(indexed(field, positions[i]), what, FormatID(id))
		}
	}
	return nil
}

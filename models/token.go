package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// APIToken is a bearer token's stored form: its hash, never the token itself.
type APIToken struct {
	ID   uint   `gorm:"primaryKey"`
	Name string `gorm:"size:64;not null"`
	Role Role   `gorm:"size:16;not null"`
	// NamespaceID is the one namespace the token's role holds in; nil: every namespace.
	NamespaceID *uint `gorm:"index:ix_api_tokens_namespace"`
	// Hash is the SHA-256 of the token. Tokens are 32 random bytes, so a fast hash is enough:
	// there is nothing to brute-force.
	Hash       string `gorm:"size:64;not null;uniqueIndex:ux_api_tokens_hash" json:"-"`
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

// CreateAPIToken stores a new token's hash under a name and role, bound to ns (nil: every
// namespace). It is audited in the token's namespace, or with none for a token of all.
func (s *Store) CreateAPIToken(ctx context.Context, name string, role Role, hash string, ns *Namespace) (*APIToken, error) {
	clean, _, err := CleanName("name", name)
	if err != nil {
		return nil, err
	}
	t := &APIToken{Name: clean, Role: role, Hash: hash}
	auditIn := withoutNamespace(ctx)
	if ns != nil {
		id := ns.ID
		t.NamespaceID, auditIn = &id, WithNamespace(ctx, ns)
	}
	err = s.mutate(auditIn, "createApiToken", func(tx *gorm.DB) ([]uint, error) {
		if err := tx.Create(t).Error; err != nil {
			return nil, fmt.Errorf("insert token: %w", err)
		}
		return []uint{t.ID}, nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// APITokens lists the stored tokens, oldest first: all, or those bound to the namespace with id
// only when it is set.
func (s *Store) APITokens(ctx context.Context, only *uint) ([]*APIToken, error) {
	var out []*APIToken
	q := s.db.WithContext(ctx).Order("id")
	if only != nil {
		q = q.Where("namespace_id = ?", *only)
	}
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// RevokeAPIToken deletes a token; every replica refuses it from the next request on, since each
// request looks its token up. A token bound to another namespace than only (when set) is
// NOT_FOUND. The revocation is audited where the token held its role, like its creation.
func (s *Store) RevokeAPIToken(ctx context.Context, id string, only *uint) error {
	tid, ok := ParseID(id)
	if !ok {
		return NotFound("id", "token", id)
	}
	var t APIToken
	q := s.db.WithContext(ctx).Where("id = ?", tid)
	if only != nil {
		q = q.Where("namespace_id = ?", *only)
	}
	if err := q.Limit(1).Find(&t).Error; err != nil {
		return fmt.Errorf("look up token: %w", err)
	}
	if t.ID == 0 {
		return NotFound("id", "token", id)
	}
	auditIn := withoutNamespace(ctx)
	if t.NamespaceID != nil {
		ns, err := s.NamespaceByID(ctx, *t.NamespaceID)
		if err != nil {
			return err
		}
		auditIn = WithNamespace(ctx, ns)
	}
	return s.mutate(auditIn, "revokeApiToken", func(tx *gorm.DB) ([]uint, error) {
		return []uint{tid}, deleteOne(tx, &APIToken{}, tid, "token", id)
	})
}

// TokenByHash returns the token with this hash, or nil.
func (s *Store) TokenByHash(ctx context.Context, hash string) (*APIToken, error) {
	var t APIToken
	err := s.db.WithContext(ctx).Where("hash = ?", hash).Take(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up token: %w", err)
	}
	return &t, nil
}

// TouchAPIToken records a use of a token. Callers throttle it: a write per request would make
// every read a write.
func (s *Store) TouchAPIToken(ctx context.Context, id uint, at time.Time) error {
	if err := s.db.WithContext(ctx).Model(&APIToken{}).Where("id = ?", id).Update("last_used_at", at).Error; err != nil {
		return fmt.Errorf("touch token: %w", err)
	}
	return nil
}

// HasAPITokens reports whether any token is stored.
func (s *Store) HasAPITokens(ctx context.Context) (bool, error) {
	var ids []uint
	if err := s.db.WithContext(ctx).Model(&APIToken{}).Limit(1).Pluck("id", &ids).Error; err != nil {
		return false, fmt.Errorf("look for tokens: %w", err)
	}
	return len(ids) > 0, nil
}

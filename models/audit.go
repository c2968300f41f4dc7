package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// AuditEntry records one successful mutation: when, by which token, which operation, which ids.
// It is written in the transaction of the change it records, so the log and the data never disagree.
type AuditEntry struct {
	ID        uint      `gorm:"primaryKey"`
	At        time.Time `gorm:"precision:6;not null;index:ix_audit_entries_at,priority:1"`
	TokenName string    `gorm:"size:64;not null"`
	TokenRole Role      `gorm:"size:16;not null"`
	Operation string    `gorm:"size:64;not null"`
	// NamespaceID is the namespace the mutation ran in; nil for changes to namespaces themselves.
	NamespaceID *uint `gorm:"index:ix_audit_entries_namespace"`
	// ObjectIDs are the ids the operation created, changed or deleted. There is no foreign key:
	// an entry outlives what it names.
	ObjectIDs []string `gorm:"serializer:json;size:16777215;not null"`
}

// Actor is who performs a mutation, as the audit log names it.
type Actor struct {
	Name string
	Role Role
}

// systemActor stands for work Herald does on its own behalf (the demo's sample data, migrations).
var systemActor = Actor{Name: "system", Role: RoleAdmin}

type actorKey struct{}

// WithActor tells the store who performs the mutations made with ctx.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

func actorOf(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return systemActor
}

// mutate runs fn in one transaction and records it in the audit log in the same transaction. fn
// returns the ids to record.
func (s *Store) mutate(ctx context.Context, operation string, fn func(tx *gorm.DB) ([]uint, error)) error {
	return s.transaction(ctx, func(tx *gorm.DB) error {
		ids, err := fn(tx)
		if err != nil {
			return err
		}
		return audit(ctx, tx, operation, FormatIDs(ids))
	})
}

// audit writes one entry inside tx.
func audit(ctx context.Context, tx *gorm.DB, operation string, ids []string) error {
	a := actorOf(ctx)
	if ids == nil {
		ids = []string{}
	}
	e := AuditEntry{At: tx.NowFunc(), TokenName: a.Name, TokenRole: a.Role, Operation: operation, ObjectIDs: ids}
	if ns := NamespaceOf(ctx); ns != nil {
		id := ns.ID // not a pointer into the shared, cached namespace
		e.NamespaceID = &id
	}
	if err := tx.Create(&e).Error; err != nil {
		return fmt.Errorf("write audit entry: %w", err)
	}
	return nil
}

// Audit records an operation made outside the address book (the outbox's retries) in tx, the
// transaction of the change, as every mutation of the store is.
func Audit(ctx context.Context, tx *gorm.DB, operation string, ids []string) error {
	return audit(ctx, tx, operation, ids)
}

// FormatIDs is FormatID of each id.
func FormatIDs(ids []uint) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = FormatID(id)
	}
	return out
}

// newestID orders a list newest first by id alone: ids only grow.
var newestID = Keyset{Columns: []string{"id"}, Descending: true}

// AuditLog lists the request namespace's audit entries newest first, withGlobal also those of
// changes to namespaces.
func (s *Store) AuditLog(ctx context.Context, page PageArgs, withGlobal bool) (Page[*AuditEntry], error) {
	if err := page.Check(); err != nil {
		return Page[*AuditEntry]{}, err
	}
	var c idCursor
	has, err := page.DecodeCursor(&c)
	if err != nil {
		return Page[*AuditEntry]{}, err
	}
	var at []any
	if has {
		at = []any{c.ID}
	}
	var rows []*AuditEntry
	if err := newestID.Seek(s.auditQuery(ctx, withGlobal), page, at).Find(&rows).Error; err != nil {
		return Page[*AuditEntry]{}, fmt.Errorf("list audit log: %w", err)
	}
	return CutPage(rows, page, func(e *AuditEntry) any { return idCursor{ID: e.ID} }), nil
}

// CountAuditEntries counts the audit log.
func (s *Store) CountAuditEntries(ctx context.Context, withGlobal bool) (int, error) {
	return CountRows(s.auditQuery(ctx, withGlobal), "audit log")
}

// auditQuery is the request namespace's entries and, withGlobal, the changes to namespaces
// themselves, which belong to none.
func (s *Store) auditQuery(ctx context.Context, withGlobal bool) *gorm.DB {
	q := s.db.WithContext(ctx).Model(&AuditEntry{})
	ns := NamespaceOf(ctx)
	switch {
	case ns == nil:
	case withGlobal:
		q = q.Where("namespace_id = ? OR namespace_id IS NULL", ns.ID)
	default:
		q = q.Where("namespace_id = ?", ns.ID)
	}
	return q
}

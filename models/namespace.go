package models

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Namespace is one team's part of Herald: its contacts, groups, alerts, audit entries and tokens.
type Namespace struct {
	ID          uint   `gorm:"primaryKey"`
	Name        string `gorm:"size:63;not null;uniqueIndex:ux_namespaces_name"`
	Description string `gorm:"size:512;not null;default:''"`
	CreatedAt   time.Time
}

// DefaultNamespace is the namespace a request without a Herald-Namespace header runs in. It is the
// first row of the table, created by Migrate, and every row written before namespaces existed
// belongs to it: the namespace_id columns default to its id.
const (
	DefaultNamespace   = "default"
	DefaultNamespaceID = 1
)

// namespaceName: namespace names appear in URLs and headers.
var namespaceName = regexp.MustCompile(`^[a-z0-9-]{1,63}$`)

// CleanNamespaceName folds a name to lower case (names are case-insensitive) and checks its form.
func CleanNamespaceName(field, name string) (string, error) {
	clean := strings.ToLower(strings.TrimSpace(name))
	if !namespaceName.MatchString(clean) {
		return "", Invalid(field, "a namespace name is 1-63 characters from a-z, 0-9 and -, got %q", name)
	}
	return clean, nil
}

type namespaceKey struct{}

// WithNamespace makes every query of the store made with ctx see only namespace id's rows, and
// every row it creates belong to it.
func WithNamespace(ctx context.Context, ns *Namespace) context.Context {
	return context.WithValue(ctx, namespaceKey{}, ns)
}

// NamespaceOf is the namespace ctx runs in; nil for Herald's own work across namespaces (the
// dispatcher), which sees every row.
func NamespaceOf(ctx context.Context) *Namespace {
	ns, _ := ctx.Value(namespaceKey{}).(*Namespace)
	return ns
}

// namespaceField is the field every namespaced table has. Tokens and audit entries have a
// nullable one (null: every namespace), which the scope leaves to their own queries.
const namespaceField = "NamespaceID"

// scopeToNamespace registers the callbacks that keep a request inside its namespace: a query,
// update or delete of a namespaced table gets "namespace_id = ?", and a create sets it. One
// place instead of a condition in every query, so that no query can forget it.
func scopeToNamespace(db *gorm.DB) {
	if db.Callback().Query().Get("herald:namespace") != nil {
		return
	}
	filter := func(tx *gorm.DB) {
		ns := NamespaceOf(tx.Statement.Context)
		if ns == nil || !namespaced(tx) {
			return
		}
		eq := clause.Eq{Column: clause.Column{Table: clause.CurrentTable, Name: "namespace_id"}, Value: ns.ID}
		// The conditions so far are bracketed, so that one joined with Or cannot escape the scope.
		where := clause.Where{Exprs: []clause.Expression{eq}}
		if c, ok := tx.Statement.Clauses["WHERE"]; ok {
			if w, ok := c.Expression.(clause.Where); ok && len(w.Exprs) > 0 {
				where.Exprs = []clause.Expression{clause.AndConditions{Exprs: w.Exprs}, eq}
			}
			c.Expression = where
			tx.Statement.Clauses["WHERE"] = c
			return
		}
		tx.Statement.AddClause(where)
	}
	set := func(tx *gorm.DB) {
		ns := NamespaceOf(tx.Statement.Context)
		if ns == nil || !namespaced(tx) {
			return
		}
		if c, ok := tx.Statement.Clauses["ON CONFLICT"]; ok {
			if oc, ok := c.Expression.(clause.OnConflict); ok && !oc.DoNothing {
				// An upsert (what Save falls back to when its UPDATE matched nothing) would move a row
				// of another namespace into this one.
				_ = tx.AddError(errors.New("models: an upsert of a namespaced row; load it in its namespace first"))
				return
			}
		}
		if ns.ID != DefaultNamespaceID && !namespaceStillThere(tx, ns.ID) {
			return
		}
		tx.Statement.SetColumn(namespaceField, ns.ID, true)
	}
	cb := db.Callback()
	errs := []error{
		cb.Query().Before("gorm:query").Register("herald:namespace", filter),
		cb.Row().Before("gorm:row").Register("herald:namespace", filter),
		cb.Update().Before("gorm:update").Register("herald:namespace", filter),
		cb.Delete().Before("gorm:delete").Register("herald:namespace", filter),
		cb.Create().Before("gorm:create").Register("herald:namespace", set),
	}
	if err := errors.Join(errs...); err != nil {
		panic(fmt.Sprintf("models: register namespace scope: %v", err)) // only a programming error fails here
	}
}

// inNamespace is the scope by hand, for queries over a raw Table(...) that the callbacks cannot
// see into: alias's rows must be in the request's namespace. The parent ids these queries take
// were read in it already; this keeps them right even if a membership ever crossed namespaces.
func inNamespace(ctx context.Context, alias string) func(*gorm.DB) *gorm.DB {
	return func(q *gorm.DB) *gorm.DB {
		if ns := NamespaceOf(ctx); ns != nil {
			return q.Where(alias+".namespace_id = ?", ns.ID)
		}
		return q
	}
}

// namespaceStillThere checks, in the writing transaction, that the namespace a row is created in
// still exists, holding a shared lock on it until the transaction ends: deleteNamespace, which
// locks the row exclusively before it counts what the namespace holds, then either waits for this
// row and refuses, or has deleted the namespace and this create fails. Without it a replica whose
// cache still held a just-deleted namespace would write rows nobody could see again. The default
// namespace cannot be deleted, so its writes, most of them, skip the statement.
func namespaceStillThere(tx *gorm.DB, id uint) bool {
	query := "SELECT id FROM namespaces WHERE id = ?"
	if IsMySQL(tx) {
		query += " LOCK IN SHARE MODE"
	}
	var found []uint
	// A new statement on the same connection, so that it runs inside the writing transaction.
	if err := tx.Session(&gorm.Session{NewDB: true}).Raw(query, id).Scan(&found).Error; err != nil {
		_ = tx.AddError(fmt.Errorf("check the namespace: %w", err))
		return false
	}
	if len(found) == 0 {
		_ = tx.AddError(NotFound(NamespaceHeader, "namespace", FormatID(id)))
		return false
	}
	return true
}

// NamespaceHeader is the HTTP header naming the namespace a request runs in, and the field its
// errors are reported at.
const NamespaceHeader = "Herald-Namespace"

// namespaced reports whether the statement's table has a non-null namespace_id.
func namespaced(tx *gorm.DB) bool {
	if tx.Statement.Schema == nil {
		return false
	}
	f := tx.Statement.Schema.LookUpField(namespaceField)
	return f != nil && f.FieldType.Kind() == reflect.Uint
}

// NamespaceInput is what createNamespace and updateNamespace accept; nil leaves a field as it is.
type NamespaceInput struct {
	Name        *string
	Description *string
}

// namespaceCache maps names to namespaces, so that resolving a request's Herald-Namespace header
// costs no statement. A name not found is looked up (another replica may have created it); an
// entry older than namespaceTTL is looked up again, which bounds how long a namespace renamed or
// deleted on another replica is still found here.
type namespaceCache struct {
	mu     sync.Mutex
	byName map[string]cachedNamespace
	byID   map[uint]cachedNamespace
	// gen counts forgets: a lookup that began before one does not put what it read, which may
	// predate the change that caused it.
	gen uint64
}

type cachedNamespace struct {
	ns *Namespace
	at time.Time
}

// namespaceTTL bounds how long another replica's rename or delete goes unseen here. It is short:
// one statement per name and replica every few seconds is nothing, and a name reused after a
// rename must not lead to the old namespace for long.
const namespaceTTL = 5 * time.Second

func (c *namespaceCache) get(name string, id uint, now time.Time) (*Namespace, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byName[name]
	if name == "" {
		e, ok = c.byID[id]
	}
	if !ok || now.Sub(e.at) > namespaceTTL {
		return nil, c.gen, false
	}
	return e.ns, c.gen, true
}

func (c *namespaceCache) put(ns *Namespace, now time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.byName == nil {
		c.byName, c.byID = map[string]cachedNamespace{}, map[uint]cachedNamespace{}
	}
	c.byName[ns.Name] = cachedNamespace{ns: ns, at: now}
	c.byID[ns.ID] = cachedNamespace{ns: ns, at: now}
}

// generation is the current count of forgets, for a lookup about to begin.
func (c *namespaceCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *namespaceCache) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byName, c.byID = nil, nil
	c.gen++
}

// NamespaceByName resolves a name (already cleaned) to its namespace, NOT_FOUND when none has it.
func (s *Store) NamespaceByName(ctx context.Context, name string) (*Namespace, error) {
	return s.cachedNamespace(ctx, name, 0)
}

// NamespaceByID resolves an id to its namespace (for naming a token's or an entry's namespace).
func (s *Store) NamespaceByID(ctx context.Context, id uint) (*Namespace, error) {
	return s.cachedNamespace(ctx, "", id)
}

func (s *Store) cachedNamespace(ctx context.Context, name string, id uint) (*Namespace, error) {
	now := time.Now()
	ns, gen, ok := s.namespaces.get(name, id, now)
	if ok {
		return ns, nil
	}
	ns = &Namespace{}
	q := s.db.WithContext(ctx)
	if name != "" {
		q = q.Where("name = ?", name)
	} else {
		q = q.Where("id = ?", id)
	}
	err := q.Take(ns).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		if name == "" {
			name = FormatID(id)
		}
		return nil, NotFound("namespace", "namespace", name)
	}
	if err != nil {
		return nil, fmt.Errorf("look up namespace: %w", err)
	}
	s.namespaces.put(ns, now, gen)
	return ns, nil
}

// WarmNamespaces loads every namespace into the cache, so that the first requests cost no lookup.
func (s *Store) WarmNamespaces(ctx context.Context) error {
	gen := s.namespaces.generation()
	all, err := s.Namespaces(ctx, nil)
	if err != nil {
		return err
	}
	now := time.Now()
	for _, ns := range all {
		s.namespaces.put(ns, now, gen)
	}
	return nil
}

// Namespaces lists namespaces by name: every one, or only the one with id only when it is set.
func (s *Store) Namespaces(ctx context.Context, only *uint) ([]*Namespace, error) {
	q := s.db.WithContext(ctx).Order("name")
	if only != nil {
		q = q.Where("id = ?", *only)
	}
	var out []*Namespace
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list namespaces: %w", err)
	}
	return out, nil
}

// CreateNamespace adds a namespace; CONFLICT when the name is taken.
func (s *Store) CreateNamespace(ctx context.Context, in NamespaceInput) (*Namespace, error) {
	if in.Name == nil {
		return nil, Invalid("name", "a namespace needs a name")
	}
	ns := &Namespace{}
	if err := applyNamespaceInput(ns, in); err != nil {
		return nil, err
	}
	// Namespaces are global objects: their changes are audited outside any namespace.
	err := s.mutate(withoutNamespace(ctx), "createNamespace", func(tx *gorm.DB) ([]uint, error) {
		if err := tx.Create(ns).Error; err != nil {
			return nil, wrapWrite("insert namespace", "name", "namespace", ns.Name, err)
		}
		return []uint{ns.ID}, nil
	})
	s.namespaces.forget()
	return ns, err
}

// UpdateNamespace renames a namespace or changes its description. The default namespace keeps
// its name: it is what a request without the header runs in.
func (s *Store) UpdateNamespace(ctx context.Context, id string, in NamespaceInput) (*Namespace, error) {
	var ns Namespace
	err := s.mutate(withoutNamespace(ctx), "updateNamespace", func(tx *gorm.DB) ([]uint, error) {
		if err := loadNamespace(tx, id, &ns); err != nil {
			return nil, err
		}
		if in.Name != nil && ns.ID == DefaultNamespaceID {
			if clean, err := CleanNamespaceName("name", *in.Name); err != nil || clean != DefaultNamespace {
				return nil, Invalid("name", "the default namespace cannot be renamed: requests without Herald-Namespace run in it")
			}
		}
		if err := applyNamespaceInput(&ns, in); err != nil {
			return nil, err
		}
		if err := tx.Save(&ns).Error; err != nil {
			return nil, wrapWrite("update namespace", "name", "namespace", ns.Name, err)
		}
		return []uint{ns.ID}, nil
	})
	s.namespaces.forget()
	return &ns, err
}

// DeleteNamespace deletes an empty namespace: CONFLICT while it holds contacts, groups or tokens,
// and always for the default namespace.
func (s *Store) DeleteNamespace(ctx context.Context, id string) error {
	err := s.mutate(withoutNamespace(ctx), "deleteNamespace", func(tx *gorm.DB) ([]uint, error) {
		var ns Namespace
		locked := tx
		if IsMySQL(tx) {
			// Exclusive until commit: a create in the namespace holds it shared (namespaceStillThere).
			locked = tx.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := loadNamespace(locked, id, &ns); err != nil {
			return nil, err
		}
		if ns.ID == DefaultNamespaceID {
			return nil, conflict("id", "the default namespace cannot be deleted: requests without Herald-Namespace run in it")
		}
		for _, held := range []struct {
			model any
			what  string
		}{{&Contact{}, "contacts"}, {&Group{}, "groups"}, {&APIToken{}, "tokens"}, {&Integration{}, "integrations"}, {&MessageTemplate{}, "message templates"}, {&Route{}, "routes"}} {
			var n int64
			if err := tx.Model(held.model).Where("namespace_id = ?", ns.ID).Count(&n).Error; err != nil {
				return nil, fmt.Errorf("count %s: %w", held.what, err)
			}
			if n > 0 {
				return nil, conflict("id", "namespace %q still holds %d %s: delete or move them first", ns.Name, n, held.what)
			}
		}
		// Silences that have ended are history that cannot be deleted one by one: they go with the
		// namespace. Live ones are refused like everything else it holds.
		now, err := DBNow(tx)
		if err != nil {
			return nil, err
		}
		var live int64
		if err := tx.Model(&Silence{}).Where("namespace_id = ? AND ends_at > ?", ns.ID, now).Count(&live).Error; err != nil {
			return nil, fmt.Errorf("count silences: %w", err)
		}
		if live > 0 {
			return nil, conflict("id", "namespace %q still holds %d silences that have not ended: expire them first", ns.Name, live)
		}
		if err := tx.Where("namespace_id = ?", ns.ID).Delete(&Silence{}).Error; err != nil {
			return nil, fmt.Errorf("delete ended silences: %w", err)
		}
		if err := tx.Delete(&Namespace{}, ns.ID).Error; err != nil {
			return nil, fmt.Errorf("delete namespace: %w", err)
		}
		return []uint{ns.ID}, nil
	})
	s.namespaces.forget()
	return err
}

// withoutNamespace is ctx for work across namespaces, or about one other than the request's.
func withoutNamespace(ctx context.Context) context.Context {
	return context.WithValue(ctx, namespaceKey{}, (*Namespace)(nil))
}

func loadNamespace(tx *gorm.DB, id string, into *Namespace) error {
	nid, ok := ParseID(id)
	if !ok {
		return NotFound("id", "namespace", id)
	}
	err := tx.Take(into, nid).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return NotFound("id", "namespace", id)
	}
	if err != nil {
		return fmt.Errorf("load namespace: %w", err)
	}
	return nil
}

func applyNamespaceInput(ns *Namespace, in NamespaceInput) error {
	if in.Name != nil {
		clean, err := CleanNamespaceName("name", *in.Name)
		if err != nil {
			return err
		}
		ns.Name = clean
	}
	if in.Description != nil {
		d := strings.TrimSpace(*in.Description)
		if len(d) > 512 {
			return Invalid("description", "a description is at most 512 bytes, got %d", len(d))
		}
		ns.Description = d
	}
	return nil
}

// CountContactsIn counts the contacts of the namespace with id, whichever the request runs in.
func (s *Store) CountContactsIn(ctx context.Context, id uint) (int, error) {
	return CountRows(s.db.WithContext(withoutNamespace(ctx)).Model(&Contact{}).Where("namespace_id = ?", id), "contacts")
}

// CountGroupsIn counts the groups of the namespace with id, whichever the request runs in.
func (s *Store) CountGroupsIn(ctx context.Context, id uint) (int, error) {
	return CountRows(s.db.WithContext(withoutNamespace(ctx)).Model(&Group{}).Where("namespace_id = ?", id), "groups")
}

// migrateNamespaces creates the default namespace on the first start with namespaces, and moves
// the audit entries written before into it, in one transaction.
func migrateNamespaces(db *gorm.DB) error {
	return db.Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&Namespace{}).Where("id = ?", DefaultNamespaceID).Count(&n).Error; err != nil || n > 0 {
			return err
		}
		if err := tx.Create(&Namespace{ID: DefaultNamespaceID, Name: DefaultNamespace}).Error; err != nil {
			return fmt.Errorf("create the default namespace: %w", err)
		}
		// The first start with namespaces: every change audited so far was made in what is now the
		// default namespace. (From now on a null namespace marks changes to namespaces themselves.)
		if err := tx.Model(&AuditEntry{}).Where("namespace_id IS NULL").Update("namespace_id", DefaultNamespaceID).Error; err != nil {
			return fmt.Errorf("move earlier audit entries into the default namespace: %w", err)
		}
		return nil
	})
}

// dropPreNamespaceIndexes drops the name indexes of before namespaces, when names were unique
// across all rows; the composite ones that replace them lead with the namespace.
func dropPreNamespaceIndexes(db *gorm.DB) error {
	if err := DropIndexIfExists(db, &Contact{}, "ux_contacts_name_key"); err != nil {
		return err
	}
	return DropIndexIfExists(db, &Group{}, "ux_contact_groups_name_key")
}

// DropIndexIfExists drops an index a model's table had in an earlier version; a second start
// finds it gone and does nothing.
func DropIndexIfExists(db *gorm.DB, model any, index string) error {
	if m := db.Migrator(); m.HasIndex(model, index) {
		if err := m.DropIndex(model, index); err != nil {
			return fmt.Errorf("drop %s: %w", index, err)
		}
	}
	return nil
}

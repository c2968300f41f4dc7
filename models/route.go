package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Route sends alerts whose labels match to its groups and contacts. Routes are tried in position
// order; the first that matches ends the search unless it says Continue.
type Route struct {
	ID          uint   `gorm:"primaryKey"`
	NamespaceID uint   `gorm:"not null;default:1;uniqueIndex:ux_routes_namespace_name,priority:1;index:ix_routes_namespace_position,priority:1"`
	Name        string `gorm:"size:64;not null"`
	NameKey     string `gorm:"size:256;not null;uniqueIndex:ux_routes_namespace_name,priority:2"`
	// Position is 1 for the first route and dense: every change renumbers the namespace's routes.
	Position int      `gorm:"not null;index:ix_routes_namespace_position,priority:2"`
	Matchers Matchers `gorm:"serializer:json;size:65536;not null"`
	// Continue lets the routes after it be tried too. CONTINUE is a reserved word of MySQL.
	Continue bool `gorm:"column:continue_matching;not null"`
	// TemplateID renders the alerts it routes when the alert names no template of its own.
	TemplateID *uint `gorm:"index:ix_routes_template"`
	CreatedAt  time.Time
	UpdatedAt  time.Time

	// GroupIDs and ContactIDs are its recipients, filled by MatchingRoutes.
	GroupIDs   []uint `gorm:"-"`
	ContactIDs []uint `gorm:"-"`
}

// RouteGroup makes a group a recipient of a route; deleting either side removes it.
type RouteGroup struct {
	RouteID uint `gorm:"primaryKey;autoIncrement:false"`
	GroupID uint `gorm:"primaryKey;autoIncrement:false;index:ix_route_groups_group"`

	Route *Route `gorm:"constraint:OnDelete:CASCADE" json:"-"`
	Group *Group `gorm:"constraint:OnDelete:CASCADE" json:"-"`
}

// RouteContact makes a contact a recipient of a route; deleting either side removes it.
type RouteContact struct {
	RouteID   uint `gorm:"primaryKey;autoIncrement:false"`
	ContactID uint `gorm:"primaryKey;autoIncrement:false;index:ix_route_contacts_contact"`

	Route   *Route   `gorm:"constraint:OnDelete:CASCADE" json:"-"`
	Contact *Contact `gorm:"constraint:OnDelete:CASCADE" json:"-"`
}

// MaxRoutes bounds a namespace's routes: every alert without targets is tested against all of them.
const MaxRoutes = 500

// RouteInput is a whole route: updateRoute replaces every field but the position, which stays
// when Position is nil.
type RouteInput struct {
	Name       string
	Matchers   []Matcher
	GroupIDs   []string
	ContactIDs []string
	Continue   bool
	// TemplateID names a message template of the namespace; nil or "": none.
	TemplateID *string
	// Position is where the route goes, 1 first; beyond the last, last. nil: last when created.
	Position *int
}

// routeSettings are the columns updateRoute writes.
var routeSettings = []string{"name", "name_key", "matchers", "continue_matching", "template_id", "updated_at"}

// CreateRoute stores a new route at its position, moving the routes from there on down.
func (s *Store) CreateRoute(ctx context.Context, in RouteInput) (*Route, error) {
	r := &Route{}
	err := s.mutate(ctx, "createRoute", func(tx *gorm.DB) ([]uint, error) {
		order, err := lockRoutes(tx)
		if err != nil {
			return nil, err
		}
		if len(order) >= MaxRoutes {
			return nil, Invalid("", "a namespace has at most %d routes", MaxRoutes)
		}
		r.Position = len(order) + 1
		if err := s.applyRoute(tx, r, in, true); err != nil {
			return nil, err
		}
		return []uint{r.ID}, placeRoute(tx, append(order, r.ID), r, in.Position)
	})
	if err != nil {
		return nil, wrapWrite("create route", "name", "route", r.Name, err)
	}
	return r, nil
}

// UpdateRoute replaces a route's fields, and moves it when the input gives a position.
func (s *Store) UpdateRoute(ctx context.Context, id string, in RouteInput) (*Route, error) {
	var r *Route
	err := s.mutate(ctx, "updateRoute", func(tx *gorm.DB) ([]uint, error) {
		order, err := lockRoutes(tx)
		if err != nil {
			return nil, err
		}
		if r, err = loadRoute(tx, id); err != nil {
			return nil, err
		}
		if err := s.applyRoute(tx, r, in, false); err != nil {
			return nil, err
		}
		return []uint{r.ID}, placeRoute(tx, order, r, in.Position)
	})
	if err != nil {
		name := in.Name
		if r != nil {
			name = r.Name
		}
		return nil, wrapWrite("update route", "name", "route", name, err)
	}
	return r, nil
}

// MoveRoute puts a route at position (clamped to the list) and returns every route in order.
func (s *Store) MoveRoute(ctx context.Context, id string, position int) ([]*Route, error) {
	err := s.mutate(ctx, "moveRoute", func(tx *gorm.DB) ([]uint, error) {
		order, err := lockRoutes(tx)
		if err != nil {
			return nil, err
		}
		r, err := loadRoute(tx, id)
		if err != nil {
			return nil, err
		}
		return []uint{r.ID}, placeRoute(tx, order, r, &position)
	})
	if err != nil {
		return nil, err
	}
	return s.Routes(ctx)
}

// DeleteRoute deletes a route and closes the gap it leaves.
func (s *Store) DeleteRoute(ctx context.Context, id string) error {
	rid, ok := ParseID(id)
	if !ok {
		return NotFound("id", "route", id)
	}
	return s.mutate(ctx, "deleteRoute", func(tx *gorm.DB) ([]uint, error) {
		order, err := lockRoutes(tx)
		if err != nil {
			return nil, err
		}
		if err := deleteOne(tx, &Route{}, rid, "route", id); err != nil {
			return nil, err
		}
		rest := make([]uint, 0, len(order))
		for _, o := range order {
			if o != rid {
				rest = append(rest, o)
			}
		}
		return []uint{rid}, renumberRoutes(tx, rest)
	})
}

// lockRoutes returns the namespace's route ids in order. On MySQL it first locks the namespace's
// row, so that two changes of the order run one after the other (SQLite has one writer anyway):
// locking the routes alone would leave two first routes of a namespace to take the same gap lock
// and deadlock on their inserts.
func lockRoutes(tx *gorm.DB) ([]uint, error) {
	q := tx.Model(&Route{})
	if IsMySQL(tx) {
		id := uint(DefaultNamespaceID)
		if ns := NamespaceOf(tx.Statement.Context); ns != nil {
			id = ns.ID
		}
		var locked []uint
		if err := tx.Session(&gorm.Session{NewDB: true}).Raw("SELECT id FROM namespaces WHERE id = ? FOR UPDATE", id).Scan(&locked).Error; err != nil {
			return nil, fmt.Errorf("lock the namespace's routes: %w", err)
		}
	}
	var ids []uint
	if err := q.Order("position, id").Pluck("id", &ids).Error; err != nil {
		return nil, fmt.Errorf("lock routes: %w", err)
	}
	return ids, nil
}

// placeRoute moves r within order (which holds it) to position, then renumbers.
func placeRoute(tx *gorm.DB, order []uint, r *Route, position *int) error {
	if position == nil {
		return renumberRoutes(tx, order)
	}
	rest := make([]uint, 0, len(order))
	for _, id := range order {
		if id != r.ID {
			rest = append(rest, id)
		}
	}
	at := min(max(*position, 1), len(rest)+1) - 1
	moved := append(append(append(make([]uint, 0, len(order)), rest[:at]...), r.ID), rest[at:]...)
	r.Position = at + 1
	return renumberRoutes(tx, moved)
}

// renumberRoutes gives the routes positions 1, 2, ... in the order given, writing only those that
// change.
func renumberRoutes(tx *gorm.DB, order []uint) error {
	var current []Route
	if err := tx.Select("id", "position").Where("id IN ?", order).Find(&current).Error; err != nil {
		return fmt.Errorf("read route positions: %w", err)
	}
	at := make(map[uint]int, len(current))
	for _, r := range current {
		at[r.ID] = r.Position
	}
	for i, id := range order {
		if at[id] == i+1 {
			continue
		}
		if err := tx.Model(&Route{}).Where("id = ?", id).UpdateColumns(map[string]any{"position": i + 1, "updated_at": tx.NowFunc()}).Error; err != nil {
			return fmt.Errorf("move route: %w", err)
		}
	}
	return nil
}

// applyRoute validates in onto r and writes it with its recipients.
func (s *Store) applyRoute(tx *gorm.DB, r *Route, in RouteInput, creating bool) error {
	var err error
	if r.Name, r.NameKey, err = CleanName("name", in.Name); err != nil {
		return err
	}
	if r.Matchers, err = CleanMatchers("matchers", in.Matchers); err != nil {
		return err
	}
	if err := checkRegexBudget(tx, r.Matchers, r.ID); err != nil {
		return err
	}
	r.Continue = in.Continue
	r.TemplateID = nil
	if in.TemplateID != nil && *in.TemplateID != "" {
		// Locked like deleteMessageTemplate locks it, so that the template cannot go meanwhile.
		t, err := loadTemplate(tx, "templateId", *in.TemplateID, true)
		if err != nil {
			return err
		}
		r.TemplateID = &t.ID
	}
	groups, groupPos, err := parseIDList("groupIds", "group", in.GroupIDs)
	if err != nil {
		return err
	}
	contacts, contactPos, err := parseIDList("contactIds", "contact", in.ContactIDs)
	if err != nil {
		return err
	}
	if len(groups) == 0 && len(contacts) == 0 {
		return Invalid("groupIds", "a route needs at least one group or contact to send to")
	}
	if err := requireAll(tx, &Group{}, "groupIds", "group", groups, groupPos); err != nil {
		return err
	}
	if err := requireAll(tx, &Contact{}, "contactIds", "contact", contacts, contactPos); err != nil {
		return err
	}
	if creating {
		if err := tx.Create(r).Error; err != nil {
			return wrapWrite("insert route", "name", "route", r.Name, err)
		}
	} else if err := tx.Model(r).Select(routeSettings).Updates(r).Error; err != nil {
		return wrapWrite("update route", "name", "route", r.Name, err)
	}
	if err := replaceJoined(tx, "route_id", r.ID, groups, func(id uint) RouteGroup { return RouteGroup{RouteID: r.ID, GroupID: id} }); err != nil {
		return err
	}
	r.GroupIDs, r.ContactIDs = groups, contacts
	return replaceJoined(tx, "route_id", r.ID, contacts, func(id uint) RouteContact { return RouteContact{RouteID: r.ID, ContactID: id} })
}

// loadRoute reads a route of the namespace inside tx, mapping a missing row to NOT_FOUND on id.
func loadRoute(tx *gorm.DB, id string) (*Route, error) {
	rid, ok := ParseID(id)
	if !ok {
		return nil, NotFound("id", "route", id)
	}
	var r Route
	if err := tx.First(&r, rid).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, NotFound("id", "route", id)
		}
		return nil, fmt.Errorf("load route: %w", err)
	}
	return &r, nil
}

// Routes lists the namespace's routes in position order.
func (s *Store) Routes(ctx context.Context) ([]*Route, error) {
	return routesOf(s.db.WithContext(ctx))
}

func routesOf(tx *gorm.DB) ([]*Route, error) {
	var rows []*Route
	if err := tx.Order("position, id").Limit(MaxRoutes).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	return rows, nil
}

// Route returns one route of the request's namespace, or NOT_FOUND.
func (s *Store) Route(ctx context.Context, id string) (*Route, error) {
	return loadRoute(s.db.WithContext(ctx), id)
}

// RoutesByID returns the routes with the given ids that still exist.
func (s *Store) RoutesByID(ctx context.Context, ids []uint) (map[uint]*Route, error) {
	return byID(ctx, s, ids, "routes", func(r *Route) uint { return r.ID })
}

// GroupsByRoute returns the groups of each route, ordered by name.
func (s *Store) GroupsByRoute(ctx context.Context, ids []uint) (map[uint][]*Group, error) {
	return joinedRows[Group](ctx, s, "contact_groups", "route_groups", "group_id", "route_id", ids)
}

// ContactsByRoute returns the contacts each route names directly, ordered by name.
func (s *Store) ContactsByRoute(ctx context.Context, ids []uint) (map[uint][]*Contact, error) {
	return joinedRows[Contact](ctx, s, "contacts", "route_contacts", "contact_id", "route_id", ids)
}

// MatchingRoutes returns, inside tx, the routes the labels meet in the order they were tried: the
// first match, and after each match that continues, the next; each with its recipients' ids. A
// route left without recipients (its groups and contacts deleted) is passed over, as if it did not
// match: it must not take alerts it cannot deliver from the routes after it, or from a fallback.
func MatchingRoutes(tx *gorm.DB, labels map[string]string) ([]*Route, error) {
	routes, err := routesOf(tx)
	if err != nil {
		return nil, err
	}
	var matched []*Route
	for _, r := range routes {
		if r.Matchers.Matches(labels) {
			matched = append(matched, r)
		}
	}
	if len(matched) == 0 {
		return nil, nil
	}
	ids := make([]uint, len(matched))
	byRoute := make(map[uint]*Route, len(matched))
	for i, r := range matched {
		ids[i] = r.ID
		byRoute[r.ID] = r
	}
	var targets []struct {
		Kind    string
		RouteID uint
		ID      uint
	}
	err = tx.Raw("SELECT 'g' AS kind, route_id, group_id AS id FROM route_groups WHERE route_id IN ? "+
		"UNION ALL SELECT 'c' AS kind, route_id, contact_id AS id FROM route_contacts WHERE route_id IN ?", ids, ids).
		Scan(&targets).Error
	if err != nil {
		return nil, fmt.Errorf("look up route recipients: %w", err)
	}
	for _, t := range targets {
		r := byRoute[t.RouteID]
		if t.Kind == "g" {
			r.GroupIDs = append(r.GroupIDs, t.ID)
		} else {
			r.ContactIDs = append(r.ContactIDs, t.ID)
		}
	}
	var tried []*Route
	for _, r := range matched {
		if len(r.GroupIDs)+len(r.ContactIDs) == 0 {
			continue
		}
		tried = append(tried, r)
		if !r.Continue {
			break
		}
	}
	return tried, nil
}

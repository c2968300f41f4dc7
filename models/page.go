package models

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"
)

// PageArgs are the pagination arguments of a list query: the First rows after After, or, paging
// Backward, the Last rows before Before (or before the list's end).
type PageArgs struct {
	First    int
	After    string
	Backward bool
	Last     int
	Before   string
}

// Size is the number of rows asked for.
func (p PageArgs) Size() int {
	if p.Backward {
		return p.Last
	}
	return p.First
}

// Check validates the page size.
func (p PageArgs) Check() error {
	arg, n := "first", p.First
	if p.Backward {
		arg, n = "last", p.Last
	}
	if n < 1 || n > MaxPageSize {
		return Invalid(arg, "%s must be between 1 and %d, got %d", arg, MaxPageSize, n)
	}
	return nil
}

// DecodeCursor reads the page's cursor (After, or Before paging backward) into into, and reports
// whether there was one.
func (p PageArgs) DecodeCursor(into any) (bool, error) {
	arg, cursor := "after", p.After
	if p.Backward {
		arg, cursor = "before", p.Before
	}
	if cursor == "" {
		return false, nil
	}
	return true, DecodeCursor(arg, cursor, into)
}

// Page is one page of a keyset-paginated list, in the list's order whichever way it was read.
// Cursors[i] is Items[i]'s position: after it reads on, before it reads back.
type Page[T any] struct {
	Items   []T
	Cursors []string
	HasNext bool
	// HasPrevious: rows come before the page. Read backward, it is exact; read forward, it is
	// whether the page started after a cursor (the rows before may since have been deleted), which
	// saves a statement per page, as the Relay specification allows.
	HasPrevious bool
}

// Keyset is a list's order: columns whose values together identify a row, all ascending or, for
// a newest-first list, all descending.
type Keyset struct {
	Columns    []string
	Descending bool
}

// Seek restricts q to the rows beyond the cursor values at (nil: no cursor) in the page's direction,
// orders it from the cursor outwards and reads one row more than the page, which says whether
// another page follows. CutPage turns what it reads into the page.
func (k Keyset) Seek(q *gorm.DB, page PageArgs, at []any) *gorm.DB {
	if at != nil && len(at) != len(k.Columns) {
		panic(fmt.Sprintf("models: a cursor of %d values for a keyset of %d columns", len(at), len(k.Columns)))
	}
	op, dir := ">", ""
	if page.Backward != k.Descending {
		op, dir = "<", " DESC"
	}
	if at != nil {
		// (c1 op v1) OR (c1 = v1 AND c2 op v2) OR ...: the row order, as comparisons.
		var alternatives []string
		var args []any
		for i, col := range k.Columns {
			var terms []string
			for j := range i {
				terms = append(terms, k.Columns[j]+" = ?")
				args = append(args, at[j])
			}
			terms = append(terms, col+" "+op+" ?")
			args = append(args, at[i])
			alternatives = append(alternatives, strings.Join(terms, " AND "))
		}
		where := alternatives[0]
		if len(alternatives) > 1 {
			where = "(" + strings.Join(alternatives, ") OR (") + ")"
		}
		q = q.Where(where, args...)
	}
	order := make([]string, len(k.Columns))
	for i, col := range k.Columns {
		order[i] = col + dir
	}
	return q.Order(strings.Join(order, ", ")).Limit(page.Size() + 1)
}

// nameCursor is the position after a row of a list ordered by its unique name key. A keyset
// position rather than an offset keeps pages correct while rows are inserted or deleted between
// requests.
type nameCursor struct {
	Key string `json:"k"`
}

// idCursor is the position in a list ordered by id alone (newest first: ids only grow).
type idCursor struct {
	ID uint `json:"i"`
}

// membershipCursor is the position in the membership list, ordered by contact then group.
type membershipCursor struct {
	ContactKey string `json:"ck"`
	GroupKey   string `json:"gk"`
}

func encodeCursor(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // the cursor types are plain structs; this cannot fail
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads an opaque cursor; anything that is not one of ours is BAD_USER_INPUT.
func DecodeCursor(field, s string, into any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 1024 {
		return Invalid(field, "not a cursor returned by this API")
	}
	if err := json.Unmarshal(b, into); err != nil {
		return Invalid(field, "not a cursor returned by this API")
	}
	return nil
}

// CutPage turns the rows a Keyset.Seek read (up to one more than the page) into the page.
func CutPage[T any](rows []T, page PageArgs, cursor func(T) any) Page[T] {
	more := len(rows) > page.Size()
	if more {
		rows = rows[:page.Size()]
	}
	p := Page[T]{HasNext: more, HasPrevious: page.After != ""}
	if page.Backward {
		slices.Reverse(rows) // read from the cursor back: put them in the list's order
		p.HasNext, p.HasPrevious = page.Before != "", more
	}
	p.Items = rows
	p.Cursors = make([]string, len(rows))
	for i, r := range rows {
		p.Cursors[i] = encodeCursor(cursor(r))
	}
	return p
}

// CountRows counts the rows q matches; what names them in an error.
func CountRows(q *gorm.DB, what string) (int, error) {
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count %s: %w", what, err)
	}
	return int(n), nil
}

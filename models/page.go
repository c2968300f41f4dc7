package models

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	"gorm.io/gorm"
)

// PageArgs are the pagination arguments of a list query.
type PageArgs struct {
	First int
	After string
}

// Page is one page of a keyset-paginated list. Cursors[i] points just after Items[i].
type Page[T any] struct {
	Items   []T
	Cursors []string
	HasNext bool
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

// CheckFirst validates the page size.
func CheckFirst(first int) error {
	if first < 1 || first > MaxPageSize {
		return Invalid("first", "first must be between 1 and %d, got %d", MaxPageSize, first)
	}
	return nil
}

// CutPage turns up to first+1 fetched rows into a page.
func CutPage[T any](rows []T, first int, cursor func(T) any) Page[T] {
	p := Page[T]{HasNext: len(rows) > first}
	if p.HasNext {
		rows = rows[:first]
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

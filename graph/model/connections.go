// Package model holds the GraphQL-only types: connections written by hand so that totalCount is
// counted only when a query asks for it, and the types gqlgen generates.
package model

import (
	"context"

	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/models"
)

// Counter counts the rows of a list; it runs only when totalCount is selected.
type Counter func(ctx context.Context) (int, error)

// PageCounter is the counter of one page of a list. A page read from the start of the list that has
// no next page holds every row, so its length is the count and no statement runs for it.
func PageCounter(rows int, after string, hasNext bool, count Counter) Counter {
	if after == "" && !hasNext {
		return func(context.Context) (int, error) { return rows, nil }
	}
	return count
}

type ContactEdge struct {
	Cursor string
	Node   *models.Contact
}

type ContactConnection struct {
	Edges    []*ContactEdge
	PageInfo *PageInfo
	Count    Counter
}

func (c *ContactConnection) TotalCount(ctx context.Context) (int, error) { return c.Count(ctx) }

type ContactGroupEdge struct {
	Cursor string
	Node   *models.Group
}

type ContactGroupConnection struct {
	Edges    []*ContactGroupEdge
	PageInfo *PageInfo
	Count    Counter
}

func (c *ContactGroupConnection) TotalCount(ctx context.Context) (int, error) { return c.Count(ctx) }

type MembershipEdge struct {
	Cursor string
	Node   *models.MembershipRow
}

type MembershipConnection struct {
	Edges    []*MembershipEdge
	PageInfo *PageInfo
	Count    Counter
}

func (c *MembershipConnection) TotalCount(ctx context.Context) (int, error) { return c.Count(ctx) }

// NewPageInfo describes a page by its last cursor.
func NewPageInfo(cursors []string, hasNext bool) *PageInfo {
	p := &PageInfo{HasNextPage: hasNext}
	if n := len(cursors); n > 0 {
		p.EndCursor = &cursors[n-1]
	}
	return p
}

type AlertEdge struct {
	Cursor string
	Node   *delivery.Alert
}

type AlertConnection struct {
	Edges    []*AlertEdge
	PageInfo *PageInfo
	Count    Counter
}

func (c *AlertConnection) TotalCount(ctx context.Context) (int, error) { return c.Count(ctx) }

type AuditEntryEdge struct {
	Cursor string
	Node   *models.AuditEntry
}

type AuditEntryConnection struct {
	Edges    []*AuditEntryEdge
	PageInfo *PageInfo
	Count    Counter
}

func (c *AuditEntryConnection) TotalCount(ctx context.Context) (int, error) { return c.Count(ctx) }

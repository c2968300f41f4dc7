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

// Edge is one node of a connection with the cursor just after it.
type Edge[N any] struct {
	Cursor string
	Node   N
}

// Connection is one page of a list, the same shape for every list of the API.
type Connection[N any] struct {
	Edges    []*Edge[N]
	PageInfo *PageInfo
	Count    Counter
}

func (c *Connection[N]) TotalCount(ctx context.Context) (int, error) { return c.Count(ctx) }

// NewConnection is a page as a connection. count runs only if totalCount is selected, and not even
// then for a page with nothing before or after it: it holds every row, so its length is the count.
func NewConnection[N any](page models.Page[N], count Counter) *Connection[N] {
	c := &Connection[N]{
		Edges:    make([]*Edge[N], len(page.Items)),
		PageInfo: &PageInfo{HasNextPage: page.HasNext, HasPreviousPage: page.HasPrevious},
		Count:    count,
	}
	for i, n := range page.Items {
		c.Edges[i] = &Edge[N]{Cursor: page.Cursors[i], Node: n}
	}
	if n := len(page.Cursors); n > 0 {
		c.PageInfo.StartCursor, c.PageInfo.EndCursor = &page.Cursors[0], &page.Cursors[n-1]
	}
	if !page.HasPrevious && !page.HasNext {
		rows := len(page.Items)
		c.Count = func(context.Context) (int, error) { return rows, nil }
	}
	return c
}

// The connections of the schema, each bound in gqlgen.yml.
type (
	ContactConnection         = Connection[*models.Contact]
	ContactEdge               = Edge[*models.Contact]
	ContactGroupConnection    = Connection[*models.Group]
	ContactGroupEdge          = Edge[*models.Group]
	MembershipConnection      = Connection[*models.MembershipRow]
	MembershipEdge            = Edge[*models.MembershipRow]
	AlertConnection           = Connection[*delivery.Alert]
	AlertEdge                 = Edge[*delivery.Alert]
	AuditEntryConnection      = Connection[*models.AuditEntry]
	AuditEntryEdge            = Edge[*models.AuditEntry]
	IntegrationConnection     = Connection[*models.Integration]
	IntegrationEdge           = Edge[*models.Integration]
	SilenceConnection         = Connection[*models.Silence]
	SilenceEdge               = Edge[*models.Silence]
	MessageTemplateConnection = Connection[*models.MessageTemplate]
	MessageTemplateEdge       = Edge[*models.MessageTemplate]
)

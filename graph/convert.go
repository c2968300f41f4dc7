package graph

import (
	"context"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/graph/model"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/senders"
	"github.com/vektah/gqlparser/v2/ast"
)

// Small conversions between GraphQL arguments and models types, shared by the resolvers.

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// pageArgs reads a list's paging arguments. The default page size is the schema's (first: Int = 20):
// gqlgen fills it in when first is omitted, and a first given as null takes it too.
func pageArgs(ctx context.Context, first *int, after *string) models.PageArgs {
	p := models.PageArgs{After: deref(after)}
	if first != nil {
		p.First = *first
		return p
	}
	p.First = defaultFirst(graphql.GetFieldContext(ctx).Field.Definition)
	return p
}

// defaultFirst is the schema's default of a list field's first argument.
func defaultFirst(field *ast.FieldDefinition) int {
	if field == nil {
		return 0
	}
	arg := field.Arguments.ForName("first")
	if arg == nil || arg.DefaultValue == nil {
		return 0
	}
	n, _ := strconv.Atoi(arg.DefaultValue.Raw)
	return n
}

func webhookInputs(in []*model.WebhookInput) []models.WebhookInput {
	if in == nil {
		return nil
	}
	out := make([]models.WebhookInput, len(in))
	for i, w := range in {
		var p senders.Platform
		if w.Platform != nil {
			p = *w.Platform
		}
		out[i] = models.WebhookInput{URL: w.URL, Platform: p, Secret: w.Secret, Keyword: w.Keyword}
	}
	return out
}

// nullIfNotFound makes a single-object query answer null for a missing id, as GraphQL clients expect.
func nullIfNotFound[T any](v *T, err error) (*T, error) {
	if models.IsNotFound(err) {
		return nil, nil
	}
	return v, err
}

// argOf names the argument an update error belongs to: a missing row is the id argument's fault,
// everything else the input's.
func argOf(err error, input string) string {
	if e, ok := models.AsError(err); ok && e.Kind == models.KindNotFound && e.Field == "id" {
		return ""
	}
	return input
}

func alertInput(in model.SendAlertInput) delivery.AlertInput {
	out := delivery.AlertInput{
		Title: in.Title, Content: in.Content,
		Recipients: models.RecipientQuery{
			ContactIDs: in.ContactIds, GroupIDs: in.GroupIds, ContactNames: in.ContactNames, GroupNames: in.GroupNames,
		},
		IdempotencyKey: in.IdempotencyKey,
	}
	if in.Severity != nil {
		out.Severity = *in.Severity
	}
	if in.Format != nil {
		out.Format = *in.Format
	}
	if in.MentionAll != nil {
		out.MentionAll = *in.MentionAll
	}
	if in.MentionContacts != nil {
		out.MentionContacts = *in.MentionContacts
	}
	return out
}

package graph

import (
	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/graph/model"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/senders"
)

// Small conversions between GraphQL arguments and models types, shared by the resolvers.

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func pageArgs(first *int, def int, after *string) models.PageArgs {
	p := models.PageArgs{First: def, After: deref(after)}
	if first != nil {
		p.First = *first
	}
	return p
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

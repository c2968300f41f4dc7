package graph

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/graph/model"
	"github.com/heraldhq/herald/inbound"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/templates"
	"github.com/vektah/gqlparser/v2/ast"
)

// Small conversions between GraphQL arguments and models types, shared by the resolvers.

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// orDefault is *p, or def for an explicit null (gqlgen fills in an omitted argument's default).
func orDefault[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// alertFilter reads the alert list's status and filter arguments.
func alertFilter(status *delivery.AlertStatus, in *model.AlertFilter) delivery.AlertFilter {
	f := delivery.AlertFilter{Status: status}
	if in == nil {
		return f
	}
	f.Severity, f.Search, f.From, f.To = in.Severity, deref(in.Search), in.From, in.To
	f.Direct = orDefault(in.Direct, false)
	f.Labels = labelInputs(in.Labels)
	if in.SourceID != nil {
		id, ok := models.ParseID(*in.SourceID)
		if !ok {
			id = 0 // names no integration: the list is empty, as for an unknown id
		}
		f.SourceID = &id
	}
	return f
}

// pageArgs reads a list's paging arguments: first/after forward, or last/before backward. The
// default page size is the schema's (first: Int = 20): gqlgen fills it in when first is omitted, so
// whether first was given is read from the query itself; a first or last given as null is absent.
// Mixing the two directions is refused, rather than guessing which one the client meant.
func pageArgs(ctx context.Context, first *int, after *string, last *int, before *string) (models.PageArgs, error) {
	fc := graphql.GetFieldContext(ctx)
	def := defaultFirst(fc.Field.Definition)
	p := models.PageArgs{First: def, After: deref(after), Before: deref(before)}
	if first != nil {
		p.First = *first
	}
	if last == nil && p.Before == "" {
		return p, nil
	}
	forward := ""
	switch {
	case p.After != "":
		forward = "after"
	case first != nil && givenArg(ctx, fc.Field.Arguments, "first"):
		forward = "first"
	}
	if forward != "" {
		backward := "before"
		if last != nil {
			backward = "last"
		}
		return p, models.Invalid(backward, "%s cannot be combined with %s: page forward with first and after, or backward with last and before", backward, forward)
	}
	p.First, p.Backward, p.Last = 0, true, def
	if last != nil {
		p.Last = *last
	}
	return p, nil
}

// givenArg reports whether the query gave the argument name a value, as a literal or as a
// variable the request set, rather than leaving it to the schema's default.
func givenArg(ctx context.Context, args ast.ArgumentList, name string) bool {
	arg := args.ForName(name)
	if arg == nil {
		return false
	}
	if arg.Value.Kind != ast.Variable {
		return true
	}
	v, ok := graphql.GetOperationContext(ctx).Variables[arg.Value.Raw]
	return ok && v != nil
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
		Labels:         labelInputs(in.Labels),
		TemplateID:     in.TemplateID,
		Links:          linkInputs(in.Links),
	}
	if in.Resolved != nil {
		out.Resolved = *in.Resolved
	}
	out.Severity = senders.Warning // the schema's default, for an explicit null too (testRoute reads it so)
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

func labelInputs(in []*model.LabelInput) delivery.Labels {
	if in == nil {
		return nil
	}
	out := make(delivery.Labels, len(in))
	for i, l := range in {
		out[i] = delivery.Label{Name: l.Name, Value: l.Value}
	}
	return out
}

func createIntegrationInput(in model.CreateIntegrationInput) models.IntegrationInput {
	return models.IntegrationInput{
		Name: &in.Name, Kind: in.Kind, GroupIDs: in.GroupIds, ContactIDs: in.ContactIds,
		SendResolved: in.SendResolved, MentionContacts: in.MentionContacts, SigningSecret: in.SigningSecret,
		TimeZone: in.TimeZone, TemplateID: in.TemplateID, RouteByLabels: in.RouteByLabels,
	}
}

func updateIntegrationInput(in model.UpdateIntegrationInput) models.IntegrationInput {
	return models.IntegrationInput{
		Name: in.Name, GroupIDs: in.GroupIds, ContactIDs: in.ContactIds, SendResolved: in.SendResolved,
		MentionContacts: in.MentionContacts, SigningSecret: in.SigningSecret, TimeZone: in.TimeZone,
		TemplateID: in.TemplateID, RouteByLabels: in.RouteByLabels,
	}
}

// values turns a list of input objects into values; nil stays nil (an omitted list).
func values[T any](in []*T) []T {
	if in == nil {
		return nil
	}
	out := make([]T, len(in))
	for i, v := range in {
		out[i] = *v
	}
	return out
}

// pointers is the API's view of a list of values.
func pointers[T any](in []T) []*T {
	out := make([]*T, len(in))
	for i := range in {
		out[i] = &in[i]
	}
	return out
}

func routeInput(in model.RouteInput) models.RouteInput {
	return models.RouteInput{
		Name: in.Name, Matchers: values(in.Matchers), GroupIDs: in.GroupIds, ContactIDs: in.ContactIds,
		Continue: in.Continue != nil && *in.Continue, TemplateID: in.TemplateID, Position: in.Position,
	}
}

// hookURL is the URL an integration's source posts to.
func (r *Resolver) hookURL(i *models.Integration) string {
	return r.PublicURL + "/hooks/" + models.FormatID(i.ID)
}

func linkInputs(in []*model.LinkInput) []senders.Link {
	if in == nil {
		return nil
	}
	out := make([]senders.Link, len(in))
	for i, l := range in {
		out[i] = senders.Link{Text: strings.TrimSpace(l.Text), URL: strings.TrimSpace(l.URL)}
	}
	return out
}

func templateInput(in model.MessageTemplateInput) models.MessageTemplateInput {
	out := models.MessageTemplateInput{Name: in.Name, Title: in.Title, Body: in.Body, Format: senders.Markdown}
	if in.Format != nil {
		out.Format = *in.Format
	}
	return out
}

// builtinTemplate is a built-in template as the API shows it; built-in ones have no row, and their
// times are the server's start.
func builtinTemplate(id string) (*models.MessageTemplate, bool) {
	b, ok := templates.BuiltinByID(id)
	if !ok {
		return nil, false
	}
	return &models.MessageTemplate{
		BuiltinID: b.ID, Name: b.Name, Title: b.Title, Body: b.Body, Format: b.Format,
		CreatedAt: serverStart, UpdatedAt: serverStart,
	}, true
}

var serverStart = time.Now().UTC()

// renderedMessage is one platform's request as previews show it.
func renderedMessage(ctx context.Context, p senders.Platform, req senders.Request, format senders.Format, note string, contacts []*models.Contact) *model.RenderedMessage {
	m := &model.RenderedMessage{Platform: p, URL: visibleURL(ctx, req.URL), Body: string(req.Body), Contacts: contacts, Format: format}
	if req.Companion != nil {
		body := string(req.Companion.Body)
		m.CompanionBody = &body
	}
	if note != "" {
		m.Note = &note
	}
	return m
}

// templatePreview turns previewTemplate's input into the alert to render and a robot per platform.
func (r *Resolver) templatePreview(in model.PreviewTemplateInput) (delivery.AlertInput, []senders.Robot, error) {
	kind := models.IntegrationAlertmanager
	if in.Kind != nil {
		kind = *in.Kind
	}
	if !kind.Valid() {
		return delivery.AlertInput{}, nil, models.Invalid("input.kind", "unknown kind %q", string(kind))
	}
	payload := inbound.Sample(kind)
	if in.Payload != nil {
		if len(*in.Payload) > inbound.MaxBodyBytes {
			return delivery.AlertInput{}, nil, models.Invalid("input.payload", "the payload is larger than %d bytes", inbound.MaxBodyBytes)
		}
		payload = []byte(*in.Payload)
	}
	tz := ""
	if in.TimeZone != nil {
		tz = *in.TimeZone
	}
	zone, err := models.CleanTimeZone("input.timeZone", tz)
	if err != nil {
		return delivery.AlertInput{}, nil, err
	}
	alert, err := inbound.PreviewAlert(kind, payload, zone, "input.payload")
	if err != nil {
		return delivery.AlertInput{}, nil, err
	}
	switch {
	case in.TemplateID != nil:
		alert.TemplateID = in.TemplateID
	case in.Body != nil:
		title := "{{ .Title }}"
		if in.Title != nil {
			title = *in.Title
		}
		parsed, err := models.ParseTemplate(title, *in.Body)
		if err != nil {
			return delivery.AlertInput{}, nil, inputError("input", err)
		}
		format := senders.Markdown
		if in.Format != nil {
			format = *in.Format
		}
		alert.Inline = &delivery.InlineTemplate{Template: parsed, Format: format}
	}
	platforms := in.Platforms
	if platforms == nil {
		for _, d := range r.Notifier.Platforms().All() {
			platforms = append(platforms, d.Platform)
		}
	}
	var robots []senders.Robot
	for _, p := range platforms {
		d, ok := r.Notifier.Platforms().Lookup(p)
		if !ok {
			return delivery.AlertInput{}, nil, models.Invalid("input.platforms", "unknown platform %q", string(p))
		}
		if slices.ContainsFunc(robots, func(x senders.Robot) bool { return x.Platform == p }) {
			continue
		}
		robots = append(robots, senders.Robot{Platform: p, URL: d.PlaceholderURL()})
	}
	return alert, robots, nil
}

// existing loads the rows with the ids in one batch, in the order given, leaving out those that
// no longer exist.
func existing[T any](ctx context.Context, l *loader[*T], ids []uint) ([]*T, error) {
	rows, err := l.LoadAll(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]*T, 0, len(rows))
	for _, r := range rows {
		if r != nil {
			out = append(out, r)
		}
	}
	return out, nil
}

func uniqueIDs(ids []uint) []uint {
	slices.Sort(ids)
	return slices.Compact(ids)
}

// routeDecision is testRoute's answer: the decision, its recipients read through the request's
// loaders, and the groups among them in their quiet hours at the decision's moment.
func routeDecision(ctx context.Context, d delivery.Decision, severity senders.Severity) (*model.RouteDecision, error) {
	out := &model.RouteDecision{
		Labels: pointers(d.Labels), Routes: d.Routes, Matched: len(d.Routes) > 0, SilencedBy: d.Silence,
		Silences: d.Silences, Quiet: []*model.QuietHold{},
	}
	if out.Routes == nil {
		out.Routes = []*models.Route{}
	}
	if out.Silences == nil {
		out.Silences = []*models.Silence{}
	}
	var groupIDs, contactIDs []uint
	for _, r := range d.Routes {
		groupIDs = append(groupIDs, r.GroupIDs...)
		contactIDs = append(contactIDs, r.ContactIDs...)
	}
	l := loadersFor(ctx)
	var err error
	if out.Groups, err = existing(ctx, l.GroupByID, uniqueIDs(groupIDs)); err != nil {
		return nil, err
	}
	if out.Contacts, err = existing(ctx, l.ContactByID, uniqueIDs(contactIDs)); err != nil {
		return nil, err
	}
	for _, g := range out.Groups {
		if until, quiet := g.QuietHours.Until(d.Now); quiet && severity != senders.Critical {
			out.Quiet = append(out.Quiet, &model.QuietHold{Group: g, Until: until, Policy: g.QuietPolicy})
		}
	}
	slices.SortFunc(out.Groups, func(a, b *models.Group) int { return strings.Compare(a.NameKey, b.NameKey) })
	slices.SortFunc(out.Quiet, func(a, b *model.QuietHold) int { return strings.Compare(a.Group.NameKey, b.Group.NameKey) })
	slices.SortFunc(out.Contacts, func(a, b *models.Contact) int { return strings.Compare(a.NameKey, b.NameKey) })
	return out, nil
}

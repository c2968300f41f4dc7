package delivery

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/templates"
)

// MaxLinkTextLength bounds a link's text in characters; the number of links is senders.MaxLinks.
const MaxLinkTextLength = 64

// checkLinks refuses links no platform can show: each has a text and an http(s) URL.
func checkLinks(links []senders.Link) error {
	if len(links) > senders.MaxLinks {
		return models.Invalid("links", "at most %d links are allowed, got %d", senders.MaxLinks, len(links))
	}
	for i, l := range links {
		field := fmt.Sprintf("links[%d]", i)
		if n := utf8.RuneCountInString(strings.TrimSpace(l.Text)); n == 0 || n > MaxLinkTextLength || hasControlExceptTab(l.Text) {
			return models.Invalid(field+".text", "a link's text is 1 to %d characters without control characters", MaxLinkTextLength)
		}
		if !senders.UsableURL(l.URL) {
			return models.Invalid(field+".url", "a link's url is an http or https URL of at most %d bytes, without spaces", senders.MaxURLBytes)
		}
	}
	return nil
}

// compose renders the alert's title and content from its template, or from the default layout of
// its kind. A template that fails (a bound, a missing key, a deleted template at a hook) never
// loses the alert: the default layout is sent, headed by a one-line note, and the note is kept on
// the alert for every attempt to show.
func (o *Outbox) compose(ctx context.Context, in AlertInput) (AlertInput, error) {
	if in.TemplateID == nil && in.Inline == nil && in.Default == nil {
		return in, nil
	}
	data := in.Data
	if data == nil {
		data = dataOf(ctx, in)
	}
	if custom, name, format, err := o.custom(ctx, &in); err != nil {
		e, ok := models.AsError(err)
		if !ok || in.SourceID == nil {
			// sendAlert or a preview named it: the caller's mistake, told at once; and Herald's
			// own trouble (the database) is retried by the source rather than sent without it.
			return in, err
		}
		// The integration's template is gone, or no longer parses (a function it used is gone):
		// the notification still goes out.
		in.templateError = note(e.Message)
	} else if custom != nil {
		out, rerr := custom.Render(data, MaxAlertContentBytes)
		if rerr == nil {
			in.Title, in.Content, in.Format = titleOf(out.Title, in.Title), out.Body, format
			return in, nil
		}
		in.templateError = note(fmt.Sprintf("message template %q failed (%v)", name, rerr))
	}
	if in.Default != nil {
		out, err := in.Default.Render(data, MaxAlertContentBytes)
		if err != nil {
			// The built-in layouts are tested and cut what does not fit; this is a bug, and the
			// alert still goes out, with what the source said in its title.
			out.Body = strings.TrimSpace(in.Title + "\n\n" + in.Content)
			if in.templateError == nil {
				in.templateError = note(fmt.Sprintf("the default layout failed (%v)", err))
			}
		}
		in.Title, in.Content, in.Format = titleOf(out.Title, in.Title), out.Body, in.Default.Format
	}
	if in.templateError != nil {
		line := "⚠ " + *in.templateError + "; sent in the default layout."
		if in.Format != senders.Text && in.Format != "" {
			line = "_" + line + "_"
		}
		in.Content, _ = senders.Truncate(line+"\n\n"+in.Content, MaxAlertContentBytes)
	}
	return in, nil
}

func note(s string) *string {
	s = senders.OneLine(s)
	if utf8.RuneCountInString(s) > 900 {
		s = string([]rune(s)[:899]) + "…"
	}
	return &s
}

// titleOf makes a rendered title one line within the title limit; an empty one keeps fallback.
func titleOf(rendered, fallback string) string {
	t := senders.OneLine(rendered)
	if t == "" {
		t = fallback
	}
	if utf8.RuneCountInString(t) > MaxAlertTitleLength {
		t = string([]rune(t)[:MaxAlertTitleLength-1]) + "…"
	}
	return t
}

// dataOf is the template data of a sendAlert: one alert made from the message, so that a
// template written for Alertmanager's data renders it too.
func dataOf(ctx context.Context, in AlertInput) *templates.Data {
	status := "firing"
	if in.Resolved {
		status = "resolved"
	}
	labels := templates.KV{}
	for _, l := range in.Labels {
		labels[l.Name] = l.Value
	}
	if _, ok := labels["alertname"]; !ok {
		labels["alertname"] = in.Title
	}
	annotations := templates.KV{"summary": in.Title, "description": in.Content}
	now := time.Now().UTC()
	d := &templates.Data{
		Status: status, Alerts: templates.Alerts{{Status: status, Labels: labels, Annotations: annotations, StartsAt: now}},
		GroupLabels: templates.KV{}, CommonLabels: labels, CommonAnnotations: annotations,
		Title: in.Title, Content: in.Content, Severity: string(in.Severity), Resolved: in.Resolved,
		Kind: "SEND_ALERT", TimeZone: "UTC",
	}
	if d.Severity == "" {
		d.Severity = string(senders.Info)
	}
	if in.Resolved {
		d.Alerts[0].EndsAt = now
	}
	for _, l := range in.Links {
		d.Links = append(d.Links, templates.Link{Text: l.Text, URL: l.URL})
	}
	if ns := models.NamespaceOf(ctx); ns != nil {
		d.Namespace = ns.Name
	}
	return d
}

// InlineTemplate is a template not saved (previewTemplate's editor content).
type InlineTemplate struct {
	Template *templates.Template
	Format   senders.Format
}

// custom is the template the input names, if any: inline, built-in or saved. A saved one is read
// in the request's namespace and parsed once per revision.
func (o *Outbox) custom(ctx context.Context, in *AlertInput) (*templates.Template, string, senders.Format, error) {
	switch {
	case in.Inline != nil:
		return in.Inline.Template, "(unsaved)", in.Inline.Format, nil
	case in.TemplateID == nil:
		return nil, "", "", nil
	}
	if b, ok := templates.BuiltinByID(*in.TemplateID); ok {
		return b.Template, b.Name, b.Format, nil
	}
	t, err := o.book.MessageTemplate(ctx, "templateId", *in.TemplateID)
	if err != nil {
		return nil, "", "", err
	}
	parsed, err := o.parsed.get(t)
	if err != nil {
		return nil, "", "", err
	}
	in.templateID = &t.ID
	return parsed, t.Name, t.Format, nil
}

// PreviewRobots renders an alert for each robot without recipients: exactly the message a robot
// of each platform would receive (a template's preview). Nothing is stored or sent.
func (o *Outbox) PreviewRobots(ctx context.Context, in AlertInput, robots []senders.Robot) ([]Preview, error) {
	in, err := o.compose(ctx, in)
	if err != nil {
		return nil, err
	}
	if in, err = cleanMessage(in); err != nil {
		return nil, err
	}
	m := messageOf(in.alert(), &Delivery{})
	out := make([]Preview, 0, len(robots))
	for _, r := range robots {
		req, err := o.notifier.Render(r, m)
		if err != nil {
			return nil, fmt.Errorf("render %s message: %w", r.Platform, err)
		}
		format, note := previewNote(PlannedDelivery{Message: m, TemplateError: in.templateError}, req)
		out = append(out, Preview{Platform: r.Platform, Request: req, Format: format, Note: note})
	}
	return out, nil
}

// templateCache keeps parsed templates: parsing costs more than rendering, and a busy integration
// renders the same template for every notification.
type templateCache struct {
	mu      sync.Mutex
	entries map[templateRevision]*templates.Template
}

type templateRevision struct {
	id      uint
	updated time.Time
}

// maxCachedTemplates bounds the cache; it starts over when full, as revisions only accumulate.
const maxCachedTemplates = 512

func (c *templateCache) get(t *models.MessageTemplate) (*templates.Template, error) {
	key := templateRevision{t.ID, t.UpdatedAt}
	c.mu.Lock()
	parsed, ok := c.entries[key]
	c.mu.Unlock()
	if ok {
		return parsed, nil
	}
	parsed, err := models.ParseTemplate(t.Title, t.Body)
	if err != nil {
		msg := err.Error()
		if e, ok := models.AsError(err); ok {
			msg = e.Message
		}
		return nil, models.Invalid("templateId", "message template %q no longer parses: %s", t.Name, msg)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= maxCachedTemplates {
		c.entries = map[templateRevision]*templates.Template{}
	}
	c.entries[key] = parsed
	return parsed, nil
}

package delivery

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/secrets"
	"github.com/heraldhq/herald/senders"
)

// PlannedDelivery is one message an alert would send: previewAlert renders these, Accept stores
// their rows.
type PlannedDelivery struct {
	// Delivery is the row to store, without its alert and queue state.
	Delivery Delivery
	Message  senders.Message
	// TemplateError says why the alert's template failed and the default layout is used.
	TemplateError *string
	// Silence is the active silence that would mute the alert: nothing would be sent.
	Silence *models.Silence
}

// planDeliveries turns recipients into one delivery per distinct robot URL. When contacts share a
// URL but differ in secret or keyword, the webhook with the lowest id wins (the oldest
// configuration), so the choice is deterministic; deliveries are ordered by that webhook's id.
// With hold, a delivery that quiet hours hold is planned HELD (see holdOf).
func planDeliveries(recipients []models.Recipient, in AlertInput, hold *holdOf) []PlannedDelivery {
	// Recipients come in name order; each robot keeps its contacts as positions in that order, so
	// that its snapshot is in name order too without scanning every contact for every robot.
	type use struct {
		webhook   *models.Webhook
		recipient int
	}
	var uses []use
	for i, r := range recipients {
		for _, w := range r.Webhooks {
			uses = append(uses, use{webhook: w, recipient: i})
		}
	}
	slices.SortFunc(uses, func(a, b use) int { return cmp.Compare(a.webhook.ID, b.webhook.ID) })
	type planned struct {
		webhook *models.Webhook
		seen    map[int]bool
		order   []int
	}
	var urls []string
	byURL := map[string]*planned{}
	for _, u := range uses {
		p := byURL[u.webhook.URL]
		if p == nil {
			p = &planned{webhook: u.webhook, seen: map[int]bool{}}
			byURL[u.webhook.URL] = p
			urls = append(urls, u.webhook.URL)
		}
		if !p.seen[u.recipient] {
			p.seen[u.recipient] = true
			p.order = append(p.order, u.recipient)
		}
	}
	out := make([]PlannedDelivery, 0, len(urls))
	for _, url := range urls {
		p := byURL[url]
		w := p.webhook
		pd := PlannedDelivery{
			Delivery: Delivery{Platform: w.Platform, URL: w.URL, RobotKey: w.RobotKey, Secret: nonEmpty(w.Secret), Keyword: nonEmpty(w.Keyword)},
		}
		slices.Sort(p.order)
		if hold != nil {
			behind := make([]*models.Recipient, len(p.order))
			for k, i := range p.order {
				behind[k] = &recipients[i]
			}
			if policy, until, by := hold.of(in.Severity, behind); policy != HoldNone {
				names := heldByText(by)
				pd.Delivery.Status, pd.Delivery.Hold, pd.Delivery.HeldBy = DeliveryHeld, policy, &names
				pd.Delivery.HeldUntil, pd.Delivery.NextAttemptAt = &until, &until
			}
		}
		for _, i := range p.order {
			c := recipients[i].Contact
			pd.Delivery.ContactIDs = append(pd.Delivery.ContactIDs, c.ID)
			pd.Delivery.ContactNames = append(pd.Delivery.ContactNames, c.Name)
			if !in.MentionContacts {
				continue
			}
			// An account pings its owner wherever they are; a phone only highlights a member of
			// the chat, so it is the fallback.
			if id := c.UserID(w.Platform); id != nil && *id != "" {
				if !slices.Contains(pd.Delivery.MentionUserIDs, *id) {
					pd.Delivery.MentionUserIDs = append(pd.Delivery.MentionUserIDs, *id)
				}
			} else if c.Phone != nil && !slices.Contains(pd.Delivery.MentionPhones, *c.Phone) {
				pd.Delivery.MentionPhones = append(pd.Delivery.MentionPhones, *c.Phone)
			}
		}
		pd.Message = messageOf(in.alert(), &pd.Delivery)
		pd.TemplateError = in.templateError
		out = append(out, pd)
	}
	return out
}

// maxHeldBy bounds the names of the groups that held a delivery, in bytes (its column's size).
const maxHeldBy = 1024

// heldByText joins the names of the groups that held a delivery within maxHeldBy bytes, those that
// do not fit shown as one "…".
func heldByText(names []string) string {
	if all := strings.Join(names, ", "); len(all) <= maxHeldBy {
		return all
	}
	var kept []string
	size := len("…")
	for _, name := range names {
		if size+len(name)+len(", ") > maxHeldBy {
			break
		}
		kept = append(kept, name)
		size += len(name) + len(", ")
	}
	return strings.Join(append(kept, "…"), ", ")
}

// nonEmpty is nil for an absent or empty value: rows of earlier versions may hold "".
func nonEmpty[T ~string](v *T) *T {
	if v == nil || *v == "" {
		return nil
	}
	return v
}

// Preview is exactly what one robot would receive for an alert, with signature values redacted.
type Preview struct {
	Platform   senders.Platform
	Request    senders.Request
	ContactIDs []uint
	// Format is the format the platform gets; Note what the reader should know (see previewNote).
	Format senders.Format
	Note   string
}

// Opener opens a sealed signing secret; models.Store is one.
type Opener interface {
	OpenSecret(*secrets.Sealed) (string, error)
}

// Preview renders an alert for each robot it would reach, sending nothing.
func (o *Outbox) Preview(ctx context.Context, in AlertInput) ([]Preview, error) {
	plan, err := o.Plan(ctx, in)
	if err != nil {
		return nil, err
	}
	out := make([]Preview, 0, len(plan))
	for _, p := range plan {
		opened, err := p.Delivery.robot().open(o.book)
		if err != nil {
			return nil, err
		}
		req, err := o.notifier.Render(opened, p.Message)
		if err != nil {
			return nil, fmt.Errorf("render %s message: %w", p.Delivery.Platform, err)
		}
		format, note := previewNote(p, req)
		out = append(out, Preview{Platform: p.Delivery.Platform, Request: req, ContactIDs: p.Delivery.ContactIDs, Format: format, Note: note})
	}
	return out, nil
}

// open is the robot as the notifier sends to it, its secret opened: only rendering needs the
// plaintext, and it never leaves the call.
func (r robot) open(opener Opener) (senders.Robot, error) {
	opened := senders.Robot{URL: r.url, Platform: r.platform, Keyword: r.keyword}
	if r.secret == "" {
		return opened, nil
	}
	plain, err := opener.OpenSecret(&r.secret)
	if err != nil {
		return senders.Robot{}, fmt.Errorf("the webhook's signing secret cannot be opened: %w", err)
	}
	opened.Secret = plain
	return opened, nil
}

// previewNote is the format a rendered message goes in and what its reader should know: the
// silence that would mute it, the quiet hours that would hold it, the template that failed, the
// card sent as markdown.
func previewNote(p PlannedDelivery, req senders.Request) (senders.Format, string) {
	format := p.Message.Format
	var notes []string
	if s := p.Silence; s != nil {
		notes = append(notes, fmt.Sprintf("silence %d (%s) mutes this alert until %s: nothing would be sent",
			s.ID, senders.OneLine(s.Comment), s.EndsAt.UTC().Format(time.RFC3339)))
	} else if note := p.Delivery.holdNote(); note != "" {
		notes = append(notes, note)
	}
	if p.TemplateError != nil {
		notes = append(notes, *p.TemplateError+"; the default layout is shown")
	}
	if req.Fallback != "" {
		format = senders.Markdown
		notes = append(notes, "card sent as markdown: "+req.Fallback)
	}
	return format, strings.Join(notes, "; ")
}

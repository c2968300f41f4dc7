package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/templates"
)

// contactWithIDs creates a contact with the given webhooks and platform user ids.
func (e *env) contactWithIDs(name, phone string, ids map[senders.Platform]string, urls ...string) {
	e.t.Helper()
	in := models.ContactInput{Name: &name, Phone: &phone}
	for p, id := range ids {
		id := id
		switch p {
		case senders.DingTalk:
			in.DingTalkUserID = &id
		case senders.WeCom:
			in.WeComUserID = &id
		case senders.Lark:
			in.LarkUserID = &id
		}
	}
	for _, u := range urls {
		in.Webhooks = append(in.Webhooks, models.WebhookInput{URL: u})
	}
	if _, err := e.store.CreateContact(context.Background(), in); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) template(name, title, body string, format senders.Format) string {
	e.t.Helper()
	t, err := e.store.CreateMessageTemplate(context.Background(), models.MessageTemplateInput{Name: name, Title: title, Body: body, Format: format})
	if err != nil {
		e.t.Fatal(err)
	}
	return models.FormatID(t.ID)
}

func TestTemplatedCardsReachEachPlatformAsPreviewed(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		tokens := map[senders.Platform]string{}
		var robots []senders.Robot
		var urls []string
		for _, p := range []senders.Platform{senders.DingTalk, senders.WeCom, senders.Lark} {
			tok, u := e.robot(p)
			tokens[p] = tok
			urls = append(urls, u)
			robots = append(robots, senders.Robot{Platform: p, URL: u})
		}
		e.contact("ops", "", urls...)
		id := e.template("short card", `{{ .Severity }}: {{ .Title }}`, `{{ .Content | upper }}`, senders.Card)
		in := AlertInput{
			Title: "disk", Content: "db1 full", Severity: senders.Critical, TemplateID: &id,
			Links:      []senders.Link{{Text: "Dashboard", URL: "https://grafana.example/d/1"}, {Text: "Runbook", URL: "https://wiki.example/disk"}},
			Labels:     Labels{{Name: "env", Value: "prod"}},
			Recipients: models.RecipientQuery{ContactNames: []string{"ops"}},
		}
		outbox := NewOutbox(e.store, e.notifier)
		previews, err := outbox.PreviewRobots(context.Background(), in, robots)
		if err != nil {
			t.Fatal(err)
		}
		a := e.alert(in)
		if a.Title != "CRITICAL: disk" || a.Content != "DB1 FULL" || a.Format != senders.Card || a.TemplateError != nil {
			t.Fatalf("alert %+v", a)
		}
		e.start(fastConfig())
		if got, _ := e.waitFinal(a, 10*time.Second); got.Status != AlertDelivered {
			t.Fatalf("alert is %s", got.Status)
		}
		wantType := map[senders.Platform]string{senders.DingTalk: "actionCard", senders.WeCom: "template_card", senders.Lark: "interactive"}
		for _, p := range previews {
			got := e.fake.Received(tokens[p.Platform])
			if len(got) != 1 {
				t.Fatalf("%s received %d messages", p.Platform, len(got))
			}
			if string(got[0].Body) != string(p.Request.Body) {
				t.Errorf("%s received\n%s\nthe preview showed\n%s", p.Platform, got[0].Body, p.Request.Body)
			}
			if got[0].MsgType != wantType[p.Platform] || !slices.Contains(got[0].Links, "https://grafana.example/d/1") {
				t.Errorf("%s: a %s with links %v", p.Platform, got[0].MsgType, got[0].Links)
			}
		}
	})
}

func TestFailingTemplateStillDeliversTheAlertInTheDefaultLayout(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		tok, u := e.robot(senders.DingTalk)
		e.contact("ops", "", u)
		cases := map[string]string{
			"loops forever": `{{ range 2000000000 }}{{ range 2000000000 }}{{ end }}{{ end }}`,
			"writes 10 MB":  `{{ range 10000000 }}xxxxxxxxxx{{ end }}`,
			"missing key":   `{{ index .Alerts 7 }}`,
		}
		var alerts []*Alert
		for name, body := range cases {
			id := e.template(name, "{{ .Title }}", body, senders.Markdown)
			start := time.Now()
			alerts = append(alerts, e.alert(AlertInput{
				Title: "kept " + name, Content: "the original content", TemplateID: &id,
				Recipients: models.RecipientQuery{ContactNames: []string{"ops"}},
			}))
			if elapsed := time.Since(start); elapsed > time.Second {
				t.Errorf("%s: accepting took %s", name, elapsed)
			}
		}
		e.start(fastConfig())
		for _, a := range alerts {
			got, deliveries := e.waitFinal(a, 10*time.Second)
			if got.Status != AlertDelivered || got.TemplateError == nil ||
				!strings.Contains(got.Content, "the original content") || !strings.Contains(got.Content, "default layout") {
				t.Errorf("%q: %s, template error %v, content %q", a.Title, got.Status, got.TemplateError, got.Content)
				continue
			}
			attempts := e.attempts(deliveries[0].ID)
			if len(attempts) != 1 || attempts[0].Note == nil || !strings.Contains(*attempts[0].Note, *got.TemplateError) {
				t.Errorf("%q: the attempt does not record the failure: %+v", a.Title, attempts)
			}
		}
		if n := len(e.fake.Received(tok)); n != len(cases) {
			t.Errorf("%d messages, want %d", n, len(cases))
		}
	})
}

func TestMentionsByUserIDOnEachPlatformWithCompanionsWithinTheBudget(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		tokens := map[senders.Platform]string{}
		var urls []string
		for _, p := range []senders.Platform{senders.DingTalk, senders.WeCom, senders.Lark} {
			tok, u := e.robot(p)
			tokens[p] = tok
			urls = append(urls, u)
		}
		e.contactWithIDs("alice", "13800000001", map[senders.Platform]string{
			senders.DingTalk: "ding-alice", senders.WeCom: "wecom.alice", senders.Lark: "ou_alice"}, urls...)
		e.contactWithIDs("bob", "13800000002", nil, urls...)
		e.start(fastConfig())
		for _, format := range []senders.Format{senders.Text, senders.Card} {
			a := e.alert(AlertInput{
				Title: "db down " + string(format), Content: strings.Repeat("long content ", 3000), Format: format, MentionContacts: true,
				Links:      []senders.Link{{Text: "Source", URL: "https://prom.example/graph"}},
				Recipients: models.RecipientQuery{ContactNames: []string{"alice", "bob"}},
			})
			if got, _ := e.waitFinal(a, 10*time.Second); got.Status != AlertDelivered {
				t.Fatalf("%s alert is %s", format, got.Status)
			}
		}
		for p, tok := range tokens {
			msgs := e.fake.Received(tok)
			var ids, phones []string
			for _, m := range msgs {
				ids = append(ids, m.UserIDs...)
				phones = append(phones, m.Mobiles...)
			}
			wantID := map[senders.Platform]string{senders.DingTalk: "ding-alice", senders.WeCom: "wecom.alice", senders.Lark: "ou_alice"}[p]
			// TEXT mentions in the message; CARD on DingTalk in a companion, on Lark in the card. The
			// content is far beyond a WeCom card's 112 characters: the card goes as text, which mentions.
			wantMsgs := map[senders.Platform]int{senders.DingTalk: 3, senders.WeCom: 2, senders.Lark: 2}[p]
			if len(msgs) != wantMsgs {
				t.Errorf("%s: %d messages, want %d", p, len(msgs), wantMsgs)
			}
			if n := countOf(ids, wantID); n != 2 {
				t.Errorf("%s: alice's id mentioned %d times in %v, want twice (once per alert)", p, n, ids)
			}
			if slices.Contains(phones, "13800000001") {
				t.Errorf("%s: alice is mentioned by phone too: %v", p, phones)
			}
			if p != senders.Lark && countOf(phones, "13800000002") != 2 {
				t.Errorf("%s: bob, without an id, is not mentioned by phone in each alert: %v", p, phones)
			}
		}
		for i, want := range []int64{3, 2} {
			var sends int64
			e.db.Gorm.Model(&RobotSend{}).Where("url_hash = ?", models.RobotKey(urls[i])).Count(&sends)
			if sends != want {
				// DingTalk's card has a companion, which counts; WeCom's went as text, which has none.
				t.Errorf("robot %d's budget counts %d sends, want %d", i, sends, want)
			}
		}
	})
}

func countOf(list []string, v string) int {
	n := 0
	for _, x := range list {
		if x == v {
			n++
		}
	}
	return n
}

func TestCoalescedCardsKeepOneSectionPerAlert(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		tok, u := e.robot(senders.Lark)
		e.contactWithIDs("ops", "13800000003", map[senders.Platform]string{senders.Lark: "ou_ops"}, u)
		cfg := fastConfig()
		cfg.Budgets = map[senders.Platform][]senders.Window{senders.Lark: {{Limit: 4, Span: time.Minute, Reserve: 3}}}
		var alerts []*Alert
		for i := range 6 {
			alerts = append(alerts, e.alert(AlertInput{
				Title: fmt.Sprintf("card %d", i), Content: fmt.Sprintf("body-%d", i), Format: senders.Card, MentionContacts: true,
				Links:      []senders.Link{{Text: "Open", URL: fmt.Sprintf("https://x.example/%d", i)}},
				Recipients: models.RecipientQuery{ContactNames: []string{"ops"}},
			}))
		}
		e.start(cfg)
		for _, a := range alerts {
			if got, _ := e.waitFinal(a, 10*time.Second); got.Status != AlertDelivered {
				t.Fatalf("alert is %s", got.Status)
			}
		}
		combined := false
		for _, m := range e.fake.Received(tok) {
			var body struct {
				Card struct {
					Body struct {
						Elements []struct{ Tag, Content string }
					}
				}
			}
			if err := json.Unmarshal(m.Body, &body); err != nil {
				t.Fatal(err)
			}
			var sections, rules int
			for _, el := range body.Card.Body.Elements {
				if el.Tag == "markdown" && strings.Contains(el.Content, "body-") {
					sections++
				}
				if el.Tag == "hr" {
					rules++
				}
			}
			if m.MsgType != "interactive" {
				t.Errorf("a %s, not a card", m.MsgType)
			}
			if !slices.Equal(m.UserIDs, []string{"ou_ops"}) {
				t.Errorf("a card with %d sections mentions %v, want ou_ops once", sections, m.UserIDs)
			}
			if sections > 1 {
				combined = true
				if rules != sections-1 {
					t.Errorf("%d sections with %d rules between them", sections, rules)
				}
			}
		}
		if !combined {
			t.Error("no coalesced card had a section per alert")
		}
	})
}

func TestBuiltinLayoutIsTheFallbackOfAHookTemplate(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		_, u := e.robot(senders.Lark)
		e.contact("ops", "", u)
		b, _ := templates.BuiltinByID(templates.BuiltinAlertmanager)
		id := e.template("broken at send", "{{ .Title }}", `{{ .Nope.Deeper }}`, senders.Text)
		sourceID := uint(1)
		a := e.alert(AlertInput{
			Title: "[FIRING:1] X", Content: "-", TemplateID: &id, Default: &b, SourceID: &sourceID,
			Data: &templates.Data{Status: "firing", Title: "[FIRING:1] X", Alerts: templates.Alerts{{Status: "firing",
				Labels: templates.KV{"alertname": "X"}, Annotations: templates.KV{"summary": "x happened"}}}},
			Recipients: models.RecipientQuery{ContactNames: []string{"ops"}},
		})
		if a.Format != senders.Card || !strings.Contains(a.Content, "**x happened**") || a.TemplateError == nil ||
			!strings.Contains(*a.TemplateError, "broken at send") {
			t.Errorf("alert %+v", a)
		}
	})
}

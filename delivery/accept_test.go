package delivery_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modelstest"
	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/senders/notify"
	"github.com/heraldhq/herald/senders/platforms"
)

// alertEnv is a store whose webhooks may point anywhere a test likes: only the platform is checked.
type alertEnv struct {
	t      *testing.T
	store  *models.Store
	outbox *delivery.Outbox
	db     modelstest.DB
}

func eachAlertDB(t *testing.T, fn func(t *testing.T, e alertEnv)) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		if err := delivery.Migrate(db.Gorm); err != nil {
			t.Fatal(err)
		}
		store := modelstest.Store(t, db)
		notifier, err := notify.New(notify.Config{Platforms: platforms.Registry})
		if err != nil {
			t.Fatal(err)
		}
		fn(t, alertEnv{t: t, store: store, outbox: delivery.NewOutbox(store, notifier), db: db})
	})
}

func dingURL(tok string) string { return "https://oapi.dingtalk.com/robot/send?access_token=" + tok }

func (e alertEnv) contact(name, phone string, hooks ...models.WebhookInput) string {
	e.t.Helper()
	in := models.ContactInput{Name: &name, Webhooks: hooks}
	if phone != "" {
		in.Phone = &phone
	}
	c, err := e.store.CreateContact(context.Background(), in)
	if err != nil {
		e.t.Fatal(err)
	}
	return models.FormatID(c.ID)
}

func (e alertEnv) group(name string, members ...string) string {
	e.t.Helper()
	g, err := e.store.CreateGroup(context.Background(), models.GroupInput{Name: &name, ContactIDs: members})
	if err != nil {
		e.t.Fatal(err)
	}
	return models.FormatID(g.ID)
}

func hook(u string) models.WebhookInput { return models.WebhookInput{URL: u} }

func msg(in delivery.AlertInput) delivery.AlertInput {
	if in.Title == "" {
		in.Title = "disk full"
	}
	if in.Content == "" {
		in.Content = "db-1 at 99%"
	}
	return in
}

func TestAlertHasOneDeliveryPerDistinctURL(t *testing.T) {
	eachAlertDB(t, func(t *testing.T, e alertEnv) {
		secret, other := "SECfirst", "SECsecond"
		alice := e.contact("Alice", "13800000001", models.WebhookInput{URL: dingURL("shared"), Secret: &secret}, hook(dingURL("alice")))
		bob := e.contact("Bob", "13800000002", models.WebhookInput{URL: dingURL("shared"), Secret: &other})
		carol := e.contact("Carol", "", hook(dingURL("shared")), hook("https://open.feishu.cn/open-apis/bot/v2/hook/carol"))
		ops := e.group("ops", bob, carol)
		e.group("empty")
		a, created, err := e.outbox.Accept(context.Background(), msg(delivery.AlertInput{
			MentionContacts: true, Recipients: models.RecipientQuery{ContactIDs: []string{alice}, ContactNames: []string{"alice"}, GroupIDs: []string{ops}, GroupNames: []string{"EMPTY"}}}))
		if err != nil || !created {
			t.Fatal(created, err)
		}
		if a.Status != delivery.AlertPending || a.Severity != senders.Info || a.Format != senders.Text {
			t.Fatalf("new alert = %+v", a)
		}
		ds, err := e.outbox.DeliveriesByAlert(context.Background(), []uint{a.ID})
		if err != nil {
			t.Fatal(err)
		}
		byURL := map[string]*delivery.Delivery{}
		for _, d := range ds[a.ID] {
			if byURL[d.URL] != nil {
				t.Fatalf("two deliveries to %s", d.URL)
			}
			byURL[d.URL] = d
		}
		if len(byURL) != 3 {
			t.Fatalf("%d deliveries, want 3 (shared, alice, carol's lark)", len(byURL))
		}
		shared := byURL[dingURL("shared")]
		if strings.Join(shared.ContactNames, ",") != "Alice,Bob,Carol" || len(shared.ContactIDs) != 3 {
			t.Errorf("shared delivery is for %v %v", shared.ContactNames, shared.ContactIDs)
		}
		// Alice's webhook is the oldest of the shared URL's, so its secret is the one used.
		// The delivery keeps the secret sealed, as the webhook does.
		opened, err := e.store.OpenSecret(shared.Secret)
		if err != nil || opened != secret || string(*shared.Secret) == secret || shared.Status != delivery.DeliveryPending || shared.NextAttemptAt == nil {
			t.Errorf("shared delivery = %+v (secret %q, %v)", shared, opened, err)
		}
		if strings.Join(shared.MentionPhones, ",") != "13800000001,13800000002" {
			t.Errorf("shared delivery mentions %v, want the phones of Alice and Bob", shared.MentionPhones)
		}
		if lk := byURL["https://open.feishu.cn/open-apis/bot/v2/hook/carol"]; lk.Platform != senders.Lark || len(lk.MentionPhones) != 0 {
			t.Errorf("lark delivery = %+v", lk)
		}
		var robots int64
		e.db.Gorm.Model(&delivery.RobotState{}).Count(&robots)
		if robots != 3 {
			t.Errorf("%d robot rows, want 3", robots)
		}
	})
}

func TestAlertWithoutRecipientsIsBadUserInput(t *testing.T) {
	eachAlertDB(t, func(t *testing.T, e alertEnv) {
		empty := e.group("empty")
		for name, in := range map[string]delivery.AlertInput{
			"no targets":  {},
			"empty group": {Recipients: models.RecipientQuery{GroupIDs: []string{empty}}},
		} {
			_, _, err := e.outbox.Accept(context.Background(), msg(in))
			if me, ok := models.AsError(err); !ok || me.Kind != models.KindInvalid {
				t.Errorf("%s: %v, want BAD_USER_INPUT", name, err)
			}
		}
	})
}

func TestUnknownRecipientIsNotFoundAtItsIndex(t *testing.T) {
	eachAlertDB(t, func(t *testing.T, e alertEnv) {
		alice := e.contact("alice", "", hook(dingURL("a")))
		for field, in := range map[string]delivery.AlertInput{
			"contactIds[1]":   {Recipients: models.RecipientQuery{ContactIDs: []string{alice, "999"}}},
			"contactIds[0]":   {Recipients: models.RecipientQuery{ContactIDs: []string{"x"}}},
			"groupIds[0]":     {Recipients: models.RecipientQuery{ContactIDs: []string{alice}, GroupIDs: []string{"999"}}},
			"contactNames[1]": {Recipients: models.RecipientQuery{ContactNames: []string{"Alice", "nobody"}}},
			"groupNames[0]":   {Recipients: models.RecipientQuery{ContactIDs: []string{alice}, GroupNames: []string{"nogroup"}}},
		} {
			_, _, err := e.outbox.Accept(context.Background(), msg(in))
			if me, ok := models.AsError(err); !ok || me.Kind != models.KindNotFound || me.Field != field {
				t.Errorf("%s: %v, want NOT_FOUND there", field, err)
			}
		}
	})
}

func TestAlertInputLimitsNameTheField(t *testing.T) {
	eachAlertDB(t, func(t *testing.T, e alertEnv) {
		e.contact("alice", "", hook(dingURL("a")))
		long := strings.Repeat("k", delivery.MaxIdempotencyKeyLength+1)
		many := make([]string, models.MaxIDsPerRequest+1)
		for field, in := range map[string]delivery.AlertInput{
			"title":          {Title: " ", Content: "x"},
			"content":        {Title: "t", Content: strings.Repeat("x", delivery.MaxAlertContentBytes+1)},
			"severity":       {Severity: "LOUD"},
			"format":         {Format: "HTML"},
			"idempotencyKey": {IdempotencyKey: &long},
			"contactIds":     {Recipients: models.RecipientQuery{ContactIDs: many}},
			"groupNames":     {Recipients: models.RecipientQuery{GroupNames: many}},
		} {
			in.Recipients.ContactNames = []string{"alice"}
			_, _, err := e.outbox.Accept(context.Background(), msg(in))
			if me, ok := models.AsError(err); !ok || me.Kind != models.KindInvalid || me.Field != field {
				t.Errorf("%s: %v, want BAD_USER_INPUT on that field", field, err)
			}
		}
		// The limits are inclusive: 256 characters of title, 64 KiB of content.
		_, _, err := e.outbox.Accept(context.Background(), delivery.AlertInput{
			Title: strings.Repeat("告", delivery.MaxAlertTitleLength), Content: strings.Repeat("x", delivery.MaxAlertContentBytes), Recipients: models.RecipientQuery{ContactNames: []string{"alice"}}})
		if err != nil {
			t.Fatalf("alert at the limits: %v", err)
		}
	})
}

func TestRepeatedIdempotencyKeyReturnsTheFirstAlert(t *testing.T) {
	eachAlertDB(t, func(t *testing.T, e alertEnv) {
		e.contact("alice", "", hook(dingURL("a")))
		key := "deploy-42"
		in := msg(delivery.AlertInput{IdempotencyKey: &key, Recipients: models.RecipientQuery{ContactNames: []string{"alice"}}})
		first, created, err := e.outbox.Accept(context.Background(), in)
		if err != nil || !created {
			t.Fatal(created, err)
		}
		again, created, err := e.outbox.Accept(context.Background(), in)
		if err != nil || created || again.ID != first.ID {
			t.Fatalf("replay = %v created=%v %v, want alert %d", again, created, err, first.ID)
		}
		// Two concurrent sends with a fresh key both get one alert.
		key2 := "deploy-43"
		in.IdempotencyKey = &key2
		var wg sync.WaitGroup
		ids := make([]uint, 8)
		errs := make([]error, 8)
		for i := range ids {
			wg.Go(func() {
				a, _, err := e.outbox.Accept(context.Background(), in)
				if err == nil {
					ids[i] = a.ID
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for i := range ids {
			if errs[i] != nil || ids[i] != ids[0] {
				t.Fatalf("concurrent sends got %v (errors %v), want one alert", ids, errs)
			}
		}
		var deliveries int64
		e.db.Gorm.Model(&delivery.Delivery{}).Count(&deliveries)
		if deliveries != 2 {
			t.Fatalf("%d deliveries for two keys, want 2", deliveries)
		}
	})
}

func TestDeliveryHistorySurvivesDeletingTheContact(t *testing.T) {
	eachAlertDB(t, func(t *testing.T, e alertEnv) {
		alice := e.contact("alice", "13800000001", hook(dingURL("a")))
		a, _, err := e.outbox.Accept(context.Background(), msg(delivery.AlertInput{MentionContacts: true, Recipients: models.RecipientQuery{ContactIDs: []string{alice}}}))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.store.DeleteContact(context.Background(), alice); err != nil {
			t.Fatal(err)
		}
		ds, err := e.outbox.DeliveriesByAlert(context.Background(), []uint{a.ID})
		if err != nil || len(ds[a.ID]) != 1 {
			t.Fatalf("deliveries after delete: %v %v", ds, err)
		}
		d := ds[a.ID][0]
		if d.URL != dingURL("a") || d.Platform != senders.DingTalk || strings.Join(d.ContactNames, ",") != "alice" || strings.Join(d.MentionPhones, ",") != "13800000001" {
			t.Fatalf("delivery lost its snapshot: %+v", d)
		}
		if len(d.ContactIDs) != 1 || models.FormatID(d.ContactIDs[0]) != alice {
			t.Fatalf("contact ids = %v", d.ContactIDs)
		}
	})
}

func TestAlertsAreListedNewestFirstAcrossPages(t *testing.T) {
	eachAlertDB(t, func(t *testing.T, e alertEnv) {
		e.contact("alice", "", hook(dingURL("a")))
		var want []uint
		for i := range 7 {
			a, _, err := e.outbox.Accept(context.Background(), msg(delivery.AlertInput{Title: fmt.Sprint("a", i), Recipients: models.RecipientQuery{ContactNames: []string{"alice"}}}))
			if err != nil {
				t.Fatal(err)
			}
			want = append([]uint{a.ID}, want...)
		}
		var got []uint
		after := ""
		for {
			p, err := e.outbox.Alerts(context.Background(), delivery.AlertFilter{}, models.PageArgs{First: 3, After: after})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range p.Items {
				got = append(got, a.ID)
			}
			if !p.HasNext {
				break
			}
			after = p.Cursors[len(p.Cursors)-1]
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("pages gave %v, want %v", got, want)
		}
		pending := delivery.AlertPending
		if n, err := e.outbox.CountAlerts(context.Background(), delivery.AlertFilter{Status: &pending}); err != nil || n != 7 {
			t.Fatalf("CountAlerts(PENDING) = %d, %v", n, err)
		}
		delivered := delivery.AlertDelivered
		if p, err := e.outbox.Alerts(context.Background(), delivery.AlertFilter{Status: &delivered}, models.PageArgs{First: 1}); err != nil || len(p.Items) != 0 {
			t.Fatalf("Alerts(DELIVERED) = %d alerts, %v; want none", len(p.Items), err)
		}
		if _, err := e.outbox.Alert(context.Background(), "12345"); !models.IsNotFound(err) {
			t.Fatalf("missing alert: %v, want NOT_FOUND", err)
		}
	})
}

func TestTestAlertGoesToEachWebhookOfTheContact(t *testing.T) {
	eachAlertDB(t, func(t *testing.T, e alertEnv) {
		alice := e.contact("alice", "", hook(dingURL("a1")), hook("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=a2"))
		a, err := e.outbox.AcceptTest(context.Background(), alice)
		if err != nil {
			t.Fatal(err)
		}
		if a.Title != delivery.TestAlertTitle || !a.Test || a.Severity != senders.Info || !strings.Contains(a.Content, `"alice"`) {
			t.Fatalf("test alert = %+v", a)
		}
		if strings.Contains(a.Content, "key=a2") {
			t.Errorf("test content shows a webhook key: %s", a.Content)
		}
		ds, _ := e.outbox.DeliveriesByAlert(context.Background(), []uint{a.ID})
		if len(ds[a.ID]) != 2 {
			t.Fatalf("%d deliveries, want one per webhook", len(ds[a.ID]))
		}
		if _, err := e.outbox.AcceptTest(context.Background(), "999"); !models.IsNotFound(err) {
			t.Fatalf("unknown contact: %v", err)
		}
	})
}

func TestPreviewPlansWithoutWriting(t *testing.T) {
	eachAlertDB(t, func(t *testing.T, e alertEnv) {
		e.contact("alice", "13800000001", hook(dingURL("a")))
		plan, err := e.outbox.Plan(context.Background(), msg(delivery.AlertInput{MentionContacts: true, Severity: senders.Critical, Recipients: models.RecipientQuery{ContactNames: []string{"alice"}}}))
		if err != nil || len(plan) != 1 {
			t.Fatalf("plan = %+v, %v", plan, err)
		}
		p := plan[0]
		if p.Delivery.Platform != senders.DingTalk || p.Message.Severity != senders.Critical || len(p.Message.MentionPhones) != 1 || len(p.Delivery.ContactIDs) != 1 {
			t.Fatalf("planned = %+v", p)
		}
		if n, _ := e.outbox.CountAlerts(context.Background(), delivery.AlertFilter{}); n != 0 {
			t.Fatalf("preview stored %d alerts", n)
		}
	})
}

package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/senders/fakeplatform"
)

// demoPlatforms is `herald --demo`: fake DingTalk, WeCom and Lark robots on loopback, with sample
// contacts and groups pointing at them, so a newcomer sees a whole send cycle without a real robot.
type demoPlatforms struct {
	fake   *fakeplatform.Server
	robots map[string]demoRobot
	logger *slog.Logger
}

type demoRobot struct {
	robot fakeplatform.Robot
	url   string
}

// startDemo starts the fakes and adjusts cfg: an in-memory database (the fakes' port changes on
// every run, so stored robot URLs would not outlive it) and loopback allowed for webhooks.
func startDemo(cfg *config, logger *slog.Logger) (*demoPlatforms, error) {
	d := &demoPlatforms{fake: fakeplatform.New(), robots: map[string]demoRobot{}, logger: logger}
	d.fake.OnAccept = func(m fakeplatform.Received) {
		logger.Info("demo robot received a message", "platform", m.Platform, "robot", m.Token, "type", m.MsgType, "text", m.Text)
	}
	if err := d.fake.Start(); err != nil {
		return nil, fmt.Errorf("demo: start fake platforms: %w", err)
	}
	for name, r := range map[string]fakeplatform.Robot{
		"ops-dingtalk": {Platform: senders.DingTalk, Token: "demo-ding-ops", Secret: "SECdemo-ops", Keywords: []string{"SchedulerX"}},
		"dev-wecom":    {Platform: senders.WeCom, Token: "demo-wecom-dev"},
		"sre-lark":     {Platform: senders.Lark, Token: "demo-lark-sre", Secret: "demo-lark-secret", Keywords: []string{"SchedulerX"}},
	} {
		d.robots[name] = demoRobot{robot: r, url: d.fake.AddRobot(r)}
	}
	db, err := models.ParseDatabaseURL("sqlite://:memory:")
	if err != nil {
		return nil, err
	}
	cfg.Database = db
	cfg.Webhooks.AllowedHosts = append(cfg.Webhooks.AllowedHosts, "127.0.0.1")
	logger.Info("demo: fake DingTalk, WeCom and Lark robots listening", "url", d.fake.URL, "database", "sqlite://:memory:")
	return d, nil
}

func (d *demoPlatforms) hook(name string) models.WebhookInput {
	r := d.robots[name]
	in := models.WebhookInput{URL: r.url, Platform: r.robot.Platform}
	if r.robot.Secret != "" {
		in.Secret = &r.robot.Secret
	}
	if r.robot.Platform == senders.Lark && len(r.robot.Keywords) > 0 {
		in.Keyword = &r.robot.Keywords[0] // Lark robots get their keyword per webhook; DingTalk's is global
	}
	return in
}

// seed creates the sample contacts and groups.
func (d *demoPlatforms) seed(ctx context.Context, store *models.Store) error {
	def, err := store.NamespaceByName(ctx, models.DefaultNamespace)
	if err != nil {
		return err
	}
	ctx = models.WithNamespace(ctx, def) // the samples, and their audit entries, are default's
	str := func(s string) *string { return &s }
	contacts := []models.ContactInput{
		{Name: str("Alice (on call)"), Phone: str("+8613800000001"), Webhooks: []models.WebhookInput{d.hook("ops-dingtalk")}},
		{Name: str("Bob"), Webhooks: []models.WebhookInput{d.hook("dev-wecom")}},
		{Name: str("Carol"), Phone: str("+8613800000003"), Webhooks: []models.WebhookInput{d.hook("sre-lark"), d.hook("ops-dingtalk")}},
	}
	var ids []string
	for _, c := range contacts {
		created, err := store.CreateContact(ctx, c)
		if err != nil {
			return fmt.Errorf("demo: create contact %s: %w", *c.Name, err)
		}
		ids = append(ids, models.FormatID(created.ID))
	}
	for name, members := range map[string][]string{"On-call": {ids[0], ids[2]}, "Everyone": ids} {
		if _, err := store.CreateGroup(ctx, models.GroupInput{Name: str(name), Description: str("demo group"), ContactIDs: members}); err != nil {
			return fmt.Errorf("demo: create group %s: %w", name, err)
		}
	}
	d.logger.Info(`demo: sample contacts and groups created; try in the playground: mutation { sendAlert(input: {title: "Disk almost full", content: "**/var** is at 91%", severity: CRITICAL, groupNames: ["Everyone"]}) { id status } }`)
	return nil
}

// Close stops the fakes.
func (d *demoPlatforms) Close() { d.fake.Close() }

package inbound

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modelstest"
)

// An integration that routes by labels sends each notification where its labels (with the
// integration's name) lead, falls back to its own groups when no route matches, and answers 202
// for an alert a silence mutes, which is stored SILENCED and sends nothing.
func TestIntegrationRoutesByLabelsFallsBackAndIsSilenced(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		e := newHookEnv(t, db, time.Hour)
		ctx := context.Background()
		dba, err := e.store.CreateContact(ctx, models.ContactInput{Name: ptr("dba"), Webhooks: []models.WebhookInput{
			{URL: "https://oapi.dingtalk.com/robot/send?access_token=dba"},
		}})
		if err != nil {
			t.Fatal(err)
		}
		dbaGroup, err := e.store.CreateGroup(ctx, models.GroupInput{Name: ptr("dba"), ContactIDs: []string{models.FormatID(dba.ID)}})
		if err != nil {
			t.Fatal(err)
		}
		route, err := e.store.CreateRoute(ctx, models.RouteInput{Name: "disks to the DBAs", GroupIDs: []string{models.FormatID(dbaGroup.ID)},
			Matchers: []models.Matcher{{Label: "alertname", Op: models.MatchRegexp, Value: "Disk.*"}, {Label: "integration", Op: models.MatchEqual, Value: "prom"}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.CreateSilence(ctx, models.SilenceInput{Matchers: []models.Matcher{{Label: "alertname", Op: models.MatchEqual, Value: "MemLeak"}},
			EndsAt: time.Now().Add(time.Hour), Comment: "known leak, fix deploying"}); err != nil {
			t.Fatal(err)
		}
		id, token := e.integration(models.IntegrationAlertmanager, func(in *models.IntegrationInput) {
			in.Name, in.RouteByLabels = ptr("prom"), ptr(true)
		})
		urls := func(a *delivery.Alert) []string {
			var ds []delivery.Delivery
			if err := db.Gorm.Where("alert_id = ?", a.ID).Order("id").Find(&ds).Error; err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, d := range ds {
				out = append(out, d.URL[strings.Index(d.URL, "=")+1:])
			}
			return out
		}

		e.post(e.srv.URL, id, token, "application/json", diskFull).expect(t, http.StatusAccepted, "alertId")
		cpu := strings.ReplaceAll(diskFull, "DiskFull", "CPUHot")
		e.post(e.srv.URL, id, token, "application/json", cpu).expect(t, http.StatusAccepted, "alertId")
		leak := e.post(e.srv.URL, id, token, "application/json", strings.ReplaceAll(diskFull, "DiskFull", "MemLeak"))
		leak.expect(t, http.StatusAccepted, "alertId")

		alerts := e.alerts()
		if len(alerts) != 3 {
			t.Fatalf("%d alerts, want 3", len(alerts))
		}
		if got := urls(alerts[0]); len(got) != 1 || got[0] != "dba" || len(alerts[0].RoutedBy) != 1 || alerts[0].RoutedBy[0] != route.ID {
			t.Errorf("DiskFull went to %v routed by %v; want the DBAs' robot by route %d", got, alerts[0].RoutedBy, route.ID)
		}
		if got := urls(alerts[1]); len(got) != 1 || got[0] != "team" || len(alerts[1].RoutedBy) != 0 {
			t.Errorf("CPUHot went to %v routed by %v; want the integration's own group", got, alerts[1].RoutedBy)
		}
		if alerts[2].Status != delivery.AlertSilenced || alerts[2].SilencedByID == nil || len(urls(alerts[2])) != 0 {
			t.Errorf("MemLeak: status %s silenced by %v, %d deliveries; want SILENCED with none", alerts[2].Status, alerts[2].SilencedByID, len(urls(alerts[2])))
		}
		if leak.body["status"] != "SILENCED" {
			t.Errorf("the hook answered %v for a silenced alert", leak.body)
		}
	})
}

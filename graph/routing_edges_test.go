package graph_test

import (
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modelstest"
)

// Silences cannot be deleted one by one, so ended ones do not keep their namespace from being
// deleted: they go with it.
func TestEndedSilencesDoNotPinTheirNamespace(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a, _ := newSecuredAPI(t, db)
		id := a.createNamespace("team-b")
		admin := a.as(bootstrapAdmin)
		b := admin.in("team-b")
		s := b.createSilence(map[string]any{"matchers": []any{matcher("job", "EQ", "backup")},
			"endsAt": ts(time.Now().Add(time.Hour)), "comment": "maintenance"})
		if got := b.expireSilence(s.ID); got.State != "EXPIRED" {
			t.Fatalf("expired silence is %s", got.State)
		}
		res := admin.do(`mutation($id: ID!) { deleteNamespace(id: $id) }`, map[string]any{"id": id})
		if len(res.Errors) > 0 {
			t.Fatalf("deleteNamespace of a namespace holding only an expired silence (which no mutation can delete): %s", res.Errors[0].Message)
		}
	})
}

// A route whose only group was deleted (route_groups cascade) is passed over: it must not end the
// search and refuse an alert a later route takes (or, for an integration, its fallback).
func TestARouteLeftWithoutRecipientsIsPassedOver(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		gone := a.createGroup("gone")
		a.createContact("Gina", gone.ID)
		rest := a.createGroup("rest")
		a.createContact("Rob", rest.ID)
		a.createRoute(map[string]any{"name": "db", "matchers": []any{matcher("team", "EQ", "db")}, "groupIds": []string{gone.ID}})
		a.createRoute(map[string]any{"name": "catch-all", "groupIds": []string{rest.ID}})
		res := a.do(`mutation($id: ID!) { deleteContactGroup(id: $id) }`, map[string]any{"id": gone.ID})
		if len(res.Errors) > 0 {
			return // refusing to leave a route without recipients would be fine
		}
		if got := a.sendByLabels(labelList("team", "db"), nil); len(got.Errors) > 0 {
			t.Fatalf("after its group was deleted, route \"db\" (no recipients left) still matches and the alert is refused: %+v", got.Errors)
		}
	})
}

// The schema: a day given twice is counted once, and a day outside 1..7 is BAD_USER_INPUT at
// ...weekdays.
func TestQuietWeekdaysAreMergedAndBounded(t *testing.T) {
	db := modelstest.SQLite(t)
	a := newAPI(t, db)
	create := `mutation($in: CreateContactGroupInput!) { createContactGroup(input: $in) { id quietHours { weekdays } } }`
	window := func(name string, days ...int) map[string]any {
		return map[string]any{"in": map[string]any{"name": name, "contactIds": []string{},
			"quietHours": []any{map[string]any{"weekdays": days, "start": "22:00", "end": "07:00"}}}}
	}
	res := a.do(create, window("dup", 2, 1, 1))
	if len(res.Errors) != 0 || !strings.Contains(string(res.Data), `"weekdays":[1,2]`) {
		t.Fatalf("weekdays [2, 1, 1]: want [1, 2], got %+v %s", res.Errors, res.Data)
	}
	res = a.do(create, window("eight", 1, 8))
	if len(res.Errors) != 1 || res.Errors[0].Extensions.Code != "BAD_USER_INPUT" || res.Errors[0].Extensions.Field != "input.quietHours[0].weekdays" {
		t.Fatalf("weekdays [1, 8]: want BAD_USER_INPUT at input.quietHours[0].weekdays, got %+v %s", res.Errors, res.Data)
	}
}

// Two continuing routes whose groups together exceed MaxIDsPerRequest still deliver: the limit is
// a caller's, not the routes'.
func TestRoutesWithManyGroupsTogetherStillDeliver(t *testing.T) {
	db := modelstest.SQLite(t)
	a := newAPI(t, db)
	modelstest.Seed(t, db.Gorm, 20, models.MaxIDsPerRequest+2)
	var ids []uint
	if err := db.Gorm.Model(&models.Group{}).Order("id").Pluck("id", &ids).Error; err != nil {
		t.Fatal(err)
	}
	half := len(ids) / 2
	a.createRoute(map[string]any{"name": "first", "groupIds": models.FormatIDs(ids[:half]), "continue": true})
	a.createRoute(map[string]any{"name": "second", "groupIds": models.FormatIDs(ids[half:])})
	res := a.sendByLabels(labelList("team", "db"), nil)
	if len(res.Errors) > 0 {
		e := res.Errors[0]
		t.Fatalf("an alert routed to %d groups by two routes is refused: %s at %s: %s", len(ids), e.Extensions.Code, e.Extensions.Field, e.Message)
	}
}

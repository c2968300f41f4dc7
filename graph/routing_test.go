package graph_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modelstest"
)

// Routes, silences and quiet hours through the API: the order of routes, how an alert's labels
// choose its recipients, what silences mute and when, and that testRoute predicts what sendAlert
// then does.

const routeFields = `id name position continue templateId matchers { label op value } groups { id name } contacts { id name }
	template { id name } createdAt updatedAt`

type matcherJSON struct{ Label, Op, Value string }

type namedJSON struct{ ID, Name string }

type routeJSON struct {
	ID, Name             string
	Position             int
	Continue             bool
	TemplateID           *string
	Matchers             []matcherJSON
	Groups, Contacts     []namedJSON
	Template             *namedJSON
	CreatedAt, UpdatedAt string
}

const silenceFields = `id matchers { label op value } startsAt endsAt comment createdBy state createdAt`

type silenceJSON struct {
	ID                          string
	Matchers                    []matcherJSON
	StartsAt, EndsAt, CreatedAt string
	Comment, CreatedBy, State   string
}

const routedAlertFields = `id title status labels { name value } routedBy { id name } silencedBy { id }
	deliveries { url status heldBy nextAttemptAt contacts { id name } }`

type routedDeliveryJSON struct {
	URL, Status   string
	HeldBy        *string
	NextAttemptAt *string
	Contacts      []namedJSON
}

type routedAlertJSON struct {
	ID, Title, Status string
	Labels            []struct{ Name, Value string }
	RoutedBy          []namedJSON
	SilencedBy        *struct{ ID string }
	Deliveries        []routedDeliveryJSON
}

// on returns a client of the same server that reports to t (a subtest's).
func (a *api) on(t *testing.T) *api {
	b := *a
	b.t = t
	return &b
}

func matcher(label, op, value string) map[string]any {
	return map[string]any{"label": label, "op": op, "value": value}
}

// labelList turns name, value pairs into LabelInputs.
func labelList(kv ...string) []map[string]any {
	out := []map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, map[string]any{"name": kv[i], "value": kv[i+1]})
	}
	return out
}

// routeIn is a RouteInput with matchers defaulting to none.
func routeIn(in map[string]any) map[string]any {
	if _, ok := in["matchers"]; !ok {
		in["matchers"] = []any{}
	}
	return in
}

func (a *api) createRoute(in map[string]any) routeJSON {
	a.t.Helper()
	var out struct{ CreateRoute routeJSON }
	a.must(`mutation($in: RouteInput!) { createRoute(input: $in) { `+routeFields+` } }`, map[string]any{"in": routeIn(in)}, &out)
	return out.CreateRoute
}

func (a *api) updateRoute(id string, in map[string]any) routeJSON {
	a.t.Helper()
	var out struct{ UpdateRoute routeJSON }
	a.must(`mutation($id: ID!, $in: RouteInput!) { updateRoute(id: $id, input: $in) { `+routeFields+` } }`,
		map[string]any{"id": id, "in": routeIn(in)}, &out)
	return out.UpdateRoute
}

func (a *api) listRoutes() []routeJSON {
	a.t.Helper()
	var out struct{ Routes []routeJSON }
	a.must(`{ routes { `+routeFields+` } }`, nil, &out)
	return out.Routes
}

func (a *api) routeByID(id string) *routeJSON {
	a.t.Helper()
	var out struct{ Route *routeJSON }
	a.must(`query($id: ID!) { route(id: $id) { `+routeFields+` } }`, map[string]any{"id": id}, &out)
	return out.Route
}

// routeOrder writes routes as "name:position ..." in the order given.
func routeOrder(rs []routeJSON) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("%s:%d", r.Name, r.Position)
	}
	return strings.Join(parts, " ")
}

func names(list []namedJSON) string {
	out := make([]string, len(list))
	for i, n := range list {
		out[i] = n.Name
	}
	return strings.Join(out, ",")
}

func (a *api) createSilence(in map[string]any) silenceJSON {
	a.t.Helper()
	var out struct{ CreateSilence silenceJSON }
	a.must(`mutation($in: SilenceInput!) { createSilence(input: $in) { `+silenceFields+` } }`, map[string]any{"in": in}, &out)
	return out.CreateSilence
}

func (a *api) expireSilence(id string) silenceJSON {
	a.t.Helper()
	var out struct{ ExpireSilence silenceJSON }
	a.must(`mutation($id: ID!) { expireSilence(id: $id) { `+silenceFields+` } }`, map[string]any{"id": id}, &out)
	return out.ExpireSilence
}

func (a *api) silenceByID(id string) *silenceJSON {
	a.t.Helper()
	var out struct{ Silence *silenceJSON }
	a.must(`query($id: ID!) { silence(id: $id) { `+silenceFields+` } }`, map[string]any{"id": id}, &out)
	return out.Silence
}

// silenceList returns the ids of the silences in state ("" for all), newest first, and totalCount.
func (a *api) silenceList(state string) (string, int) {
	a.t.Helper()
	var out struct {
		Silences struct {
			TotalCount int
			Edges      []struct{ Node silenceJSON }
		}
	}
	vars := map[string]any{"s": nil}
	if state != "" {
		vars["s"] = state
	}
	a.must(`query($s: SilenceState) { silences(state: $s) { totalCount edges { node { id state } } } }`, vars, &out)
	ids := make([]string, len(out.Silences.Edges))
	for i, e := range out.Silences.Edges {
		ids[i] = e.Node.ID
		if state != "" && e.Node.State != state {
			a.t.Errorf("silences(state: %s) lists %s, which is %s", state, e.Node.ID, e.Node.State)
		}
	}
	return strings.Join(ids, ","), out.Silences.TotalCount
}

// sendByLabels sends an alert naming no recipients, so that its labels route it.
func (a *api) sendByLabels(labels []map[string]any, extra map[string]any) gqlResponse {
	a.t.Helper()
	in := map[string]any{"title": "disk", "content": "full", "labels": labels}
	for k, v := range extra {
		in[k] = v
	}
	return a.do(`mutation($in: SendAlertInput!) { sendAlert(input: $in) { `+routedAlertFields+` } }`, map[string]any{"in": in})
}

func (a *api) mustSendByLabels(labels []map[string]any, extra map[string]any) routedAlertJSON {
	a.t.Helper()
	res := a.sendByLabels(labels, extra)
	if len(res.Errors) > 0 {
		a.t.Fatalf("sendAlert %v: %+v", labels, res.Errors)
	}
	var out struct{ SendAlert routedAlertJSON }
	if err := json.Unmarshal(res.Data, &out); err != nil {
		a.t.Fatal(err)
	}
	return out.SendAlert
}

func (a *api) countAlerts(status string) int {
	a.t.Helper()
	var out struct{ Alerts struct{ TotalCount int } }
	vars := map[string]any{"s": nil}
	if status != "" {
		vars["s"] = status
	}
	a.must(`query($s: AlertStatus) { alerts(status: $s) { totalCount } }`, vars, &out)
	return out.Alerts.TotalCount
}

// deliveredTo writes an alert's deliveries as "contact:status" sorted, each delivery's contacts joined by +.
func deliveredTo(a routedAlertJSON) string {
	parts := make([]string, len(a.Deliveries))
	for i, d := range a.Deliveries {
		parts[i] = strings.ReplaceAll(names(d.Contacts), ",", "+") + ":" + d.Status
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func parseTS(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return v
}

func dbNow(t *testing.T, db modelstest.DB) time.Time {
	t.Helper()
	now, err := models.DBNow(db.Gorm)
	if err != nil {
		t.Fatal(err)
	}
	return now
}

// shiftClock moves the database clock the server sees, undoing it when the test ends.
func shiftClock(t *testing.T, db modelstest.DB, d time.Duration) {
	models.ShiftClock(db.Gorm, d)
	t.Cleanup(func() { models.ShiftClock(db.Gorm, 0) })
}

// refusal runs an operation that should fail and returns its first error's code and field ("" when none).
func (a *api) refusal(query string, vars map[string]any) (code, field, message string) {
	a.t.Helper()
	res := a.do(query, vars)
	if len(res.Errors) == 0 {
		return "", "", "succeeded: " + string(res.Data)
	}
	e := res.Errors[0]
	return e.Extensions.Code, e.Extensions.Field, e.Message
}

func TestRoutesAreKeptInADenseOrder(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		g := a.createGroup("SRE")
		alice := a.createContact("Alice", g.ID)
		grp := []string{g.ID}
		wantOrder := func(step, want string) {
			t.Helper()
			if got := routeOrder(a.listRoutes()); got != want {
				t.Fatalf("%s: routes %q, want %q", step, got, want)
			}
		}
		ids := map[string]string{}
		for i, name := range []string{"one", "two", "three"} {
			r := a.createRoute(map[string]any{"name": name, "groupIds": grp})
			if r.Position != i+1 || r.Name != name || names(r.Groups) != "SRE" || len(r.Contacts) != 0 || r.Continue ||
				len(r.Matchers) != 0 || r.TemplateID != nil || r.Template != nil {
				t.Errorf("created %+v", r)
			}
			ids[name] = r.ID
		}
		wantOrder("created three", "one:1 two:2 three:3")
		zero := a.createRoute(map[string]any{"name": "zero", "groupIds": grp, "position": 1})
		if zero.Position != 1 {
			t.Errorf("created at 1, answered position %d", zero.Position)
		}
		ids["zero"] = zero.ID
		wantOrder("created zero at 1", "zero:1 one:2 two:3 three:4")

		move := `mutation($id: ID!, $p: Int!) { moveRoute(id: $id, position: $p) { id name position } }`
		for _, c := range []struct {
			name string
			to   int
			want string
		}{
			{"zero", 4, "one:1 two:2 three:3 zero:4"},
			{"three", 0, "three:1 one:2 two:3 zero:4"},
			{"zero", -5, "zero:1 three:2 one:3 two:4"},
			{"zero", 99, "three:1 one:2 two:3 zero:4"},
			{"two", 2, "three:1 two:2 one:3 zero:4"},
			{"two", 2, "three:1 two:2 one:3 zero:4"}, // where it is already
		} {
			var out struct{ MoveRoute []routeJSON }
			a.must(move, map[string]any{"id": ids[c.name], "p": c.to}, &out)
			if got := routeOrder(out.MoveRoute); got != c.want {
				t.Fatalf("moveRoute(%s, %d) answered %q, want %q", c.name, c.to, got, c.want)
			}
			wantOrder(fmt.Sprintf("after moveRoute(%s, %d)", c.name, c.to), c.want)
		}
		a.fail(move, map[string]any{"id": "999999", "p": 1}, "NOT_FOUND", "id")

		var del struct{ DeleteRoute string }
		a.must(`mutation($id: ID!) { deleteRoute(id: $id) }`, map[string]any{"id": ids["two"]}, &del)
		if del.DeleteRoute != ids["two"] {
			t.Errorf("deleteRoute answered %q", del.DeleteRoute)
		}
		wantOrder("after deleting two", "three:1 one:2 zero:3")
		a.fail(`mutation($id: ID!) { deleteRoute(id: $id) }`, map[string]any{"id": ids["two"]}, "NOT_FOUND", "id")
		if a.routeByID(ids["two"]) != nil {
			t.Error("route(id) finds a deleted route")
		}

		// updateRoute replaces every field and keeps the position unless given one.
		up := a.updateRoute(ids["one"], map[string]any{"name": "One", "matchers": []any{matcher("team", "EQ", "db")}, "contactIds": []string{alice.ID}, "continue": true})
		if up.Position != 2 || up.Name != "One" || !up.Continue || len(up.Groups) != 0 || names(up.Contacts) != "Alice" ||
			len(up.Matchers) != 1 || up.Matchers[0] != (matcherJSON{"team", "EQ", "db"}) {
			t.Errorf("updated without a position: %+v", up)
		}
		wantOrder("after updating One", "three:1 One:2 zero:3")
		up = a.updateRoute(ids["one"], map[string]any{"name": "One", "groupIds": grp, "position": 1})
		if up.Position != 1 || up.Continue || len(up.Contacts) != 0 || names(up.Groups) != "SRE" || len(up.Matchers) != 0 {
			t.Errorf("updated with position 1 (continue and matchers omitted): %+v", up)
		}
		wantOrder("after updating One to 1", "One:1 three:2 zero:3")
		a.fail(`mutation { updateRoute(id: "999999", input: {name: "x", matchers: [], groupIds: ["1"]}) { id } }`, nil, "NOT_FOUND", "id")

		// Refusals name their field and store nothing.
		create := `mutation($in: RouteInput!) { createRoute(input: $in) { id } }`
		tooMany := make([]any, models.MaxMatchers+1)
		for i := range tooMany {
			tooMany[i] = matcher(fmt.Sprintf("l%d", i), "EQ", "v")
		}
		for _, c := range []struct {
			in          map[string]any
			code, field string
		}{
			{map[string]any{"name": "ZERO", "groupIds": grp}, "CONFLICT", "input.name"},
			{map[string]any{"name": "  ", "groupIds": grp}, "BAD_USER_INPUT", "input.name"},
			{map[string]any{"name": "lonely", "groupIds": []string{}}, "BAD_USER_INPUT", "input.groupIds"},
			{map[string]any{"name": "lonely"}, "BAD_USER_INPUT", "input.groupIds"},
			{map[string]any{"name": "ghost", "groupIds": []string{"999999"}}, "NOT_FOUND", "input.groupIds[0]"},
			{map[string]any{"name": "ghost", "groupIds": grp, "contactIds": []string{alice.ID, "999999"}}, "NOT_FOUND", "input.contactIds[1]"},
			{map[string]any{"name": "ghost", "groupIds": grp, "templateId": "999999"}, "NOT_FOUND", "input.templateId"},
			{map[string]any{"name": "bad-re", "groupIds": grp, "matchers": []any{matcher("team", "EQ", "db"), matcher("team", "REGEX", "(")}},
				"BAD_USER_INPUT", "input.matchers[1].value"},
			{map[string]any{"name": "bad-re", "groupIds": grp, "matchers": []any{matcher("team", "NOT_REGEX", "a**")}}, "BAD_USER_INPUT", "input.matchers[0].value"},
			{map[string]any{"name": "bad-label", "groupIds": grp, "matchers": []any{matcher("has space", "EQ", "x")}}, "BAD_USER_INPUT", "input.matchers[0].label"},
			{map[string]any{"name": "long", "groupIds": grp, "matchers": []any{matcher("team", "EQ", strings.Repeat("x", models.MaxMatcherValue+1))}},
				"BAD_USER_INPUT", "input.matchers[0].value"},
			{map[string]any{"name": "many", "groupIds": grp, "matchers": tooMany}, "BAD_USER_INPUT", "input.matchers"},
		} {
			if code, field, msg := a.refusal(create, map[string]any{"in": routeIn(c.in)}); code != c.code || field != c.field {
				t.Errorf("createRoute %v: %s at %q (%s), want %s at %q", c.in, code, field, msg, c.code, c.field)
			}
		}
		wantOrder("after refused creates", "One:1 three:2 zero:3")
		update := `mutation($id: ID!, $in: RouteInput!) { updateRoute(id: $id, input: $in) { id } }`
		a.fail(update, map[string]any{"id": ids["one"], "in": routeIn(map[string]any{"name": " three ", "groupIds": grp})}, "CONFLICT", "input.name")
		a.fail(update, map[string]any{"id": ids["one"], "in": routeIn(map[string]any{"name": "One", "groupIds": grp, "position": 3,
			"matchers": []any{matcher("a", "EQ", "b"), matcher("team", "REGEX", "(")}})}, "BAD_USER_INPUT", "input.matchers[1].value")
		a.fail(update, map[string]any{"id": ids["one"], "in": routeIn(map[string]any{"name": "One", "position": 3})}, "BAD_USER_INPUT", "input.groupIds")
		wantOrder("after refused updates", "One:1 three:2 zero:3")
		if r := a.routeByID(ids["one"]); r == nil || len(r.Matchers) != 0 || names(r.Groups) != "SRE" {
			t.Errorf("a refused update changed the route: %+v", r)
		}

		// Deleting a group removes it from the routes that send to it.
		dba := a.createGroup("DBA")
		a.createContact("Bob", dba.ID)
		pair := a.createRoute(map[string]any{"name": "pair", "groupIds": []string{g.ID, dba.ID}, "position": 99})
		if names(pair.Groups) != "DBA,SRE" || pair.Position != 4 {
			t.Errorf("route with two groups: %+v", pair)
		}
		a.must(`mutation($id: ID!) { deleteContactGroup(id: $id) }`, map[string]any{"id": dba.ID}, nil)
		if r := a.routeByID(pair.ID); r == nil || names(r.Groups) != "SRE" {
			t.Errorf("after deleting DBA, the route sends to %+v", r)
		}

		// A template a route uses cannot be deleted.
		tpl := a.createTemplate(map[string]any{"name": "routed", "title": "[routed] {{ .Title }}", "body": "{{ .Content }}"})
		withTpl := a.updateRoute(pair.ID, map[string]any{"name": "pair", "groupIds": grp, "templateId": tpl.ID})
		if withTpl.TemplateID == nil || *withTpl.TemplateID != tpl.ID || withTpl.Template == nil || withTpl.Template.Name != "routed" {
			t.Errorf("route's template: %+v", withTpl)
		}
		e := a.fail(`mutation($id: ID!) { deleteMessageTemplate(id: $id) }`, map[string]any{"id": tpl.ID}, "CONFLICT", "id")
		if !strings.Contains(e.Message, `"pair"`) {
			t.Errorf("the conflict does not name the route: %s", e.Message)
		}
		if r := a.updateRoute(pair.ID, map[string]any{"name": "pair", "groupIds": grp}); r.TemplateID != nil || r.Template != nil {
			t.Errorf("an update without templateId kept the template: %+v", r)
		}
		a.must(`mutation($id: ID!) { deleteMessageTemplate(id: $id) }`, map[string]any{"id": tpl.ID}, nil)
	})
}

// A route moved has its updatedAt changed; a route whose position a move leaves alone does not.
func TestMovingARouteChangesUpdatedAtOfTheRoutesWhosePositionChanged(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		g := a.createGroup("SRE")
		a.createContact("Alice", g.ID)
		for _, name := range []string{"a", "b", "c", "d"} {
			a.createRoute(map[string]any{"name": name, "groupIds": []string{g.ID}})
		}
		before := map[string]string{}
		for _, r := range a.listRoutes() {
			before[r.Name] = r.UpdatedAt
		}
		shiftClock(t, db, time.Hour)
		var out struct{ MoveRoute []routeJSON }
		a.must(`mutation($id: ID!) { moveRoute(id: $id, position: 2) { id name position updatedAt } }`,
			map[string]any{"id": a.listRoutes()[2].ID}, &out) // c to 2: b moves to 3
		if got := routeOrder(out.MoveRoute); got != "a:1 c:2 b:3 d:4" {
			t.Fatalf("order %q", got)
		}
		for _, r := range a.listRoutes() {
			changed := r.UpdatedAt != before[r.Name]
			if want := r.Name == "b" || r.Name == "c"; changed != want {
				t.Errorf("route %s at %d: updatedAt %s → %s; changed %v, want %v", r.Name, r.Position, before[r.Name], r.UpdatedAt, changed, want)
			}
		}
	})
}

func TestAlertsWithoutRecipientsAreRoutedByTheirLabels(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		dbGroup := a.createGroup("DB")
		webGroup := a.createGroup("Web")
		contacts := map[string]contactJSON{}
		for name, group := range map[string]string{"Dana": dbGroup.ID, "Walt": webGroup.ID, "Crit": "", "Nora": "", "Pete": ""} {
			if group != "" {
				contacts[name] = a.createContact(name, group)
			} else {
				contacts[name] = a.createContact(name)
			}
		}
		webTpl := a.createTemplate(map[string]any{"name": "web", "title": "[web] {{ .Title }}", "body": "{{ .Content }}"})
		ownTpl := a.createTemplate(map[string]any{"name": "own", "title": "[own] {{ .Title }}", "body": "{{ .Content }}"})
		for _, r := range []map[string]any{
			{"name": "crit", "matchers": []any{matcher("severity", "EQ", "critical")}, "contactIds": []string{contacts["Crit"].ID}},
			{"name": "db", "matchers": []any{matcher("team", "REGEX", "db")}, "groupIds": []string{dbGroup.ID}, "continue": true},
			{"name": "dbweb", "matchers": []any{matcher("team", "REGEX", "db|web")}, "groupIds": []string{webGroup.ID}, "templateId": webTpl.ID},
			{"name": "noenv", "matchers": []any{matcher("team", "EQ", "ops"), matcher("env", "EQ", "")}, "contactIds": []string{contacts["Nora"].ID}},
			{"name": "notprod", "matchers": []any{matcher("team", "EQ", "ops"), matcher("env", "NEQ", "prod"), matcher("region", "NOT_REGEX", "eu-.*")},
				"contactIds": []string{contacts["Pete"].ID}},
		} {
			a.createRoute(r)
		}
		for _, c := range []struct {
			name   string
			labels []map[string]any
			extra  map[string]any
			routes string // "" means refused: no route matches
			to     string
			title  string
		}{
			{"continue adds the next match", labelList("team", "db"), nil, "db,dbweb", "Dana:PENDING Walt:PENDING", "[web] disk"},
			{"an alternative of a regex", labelList("team", "web"), nil, "dbweb", "Walt:PENDING", "[web] disk"},
			{"the alert's own template wins", labelList("team", "web"), map[string]any{"templateId": ownTpl.ID}, "dbweb", "Walt:PENDING", "[own] disk"},
			{"a regex is anchored at the start", labelList("team", "mydb"), nil, "", "", ""},
			{"a regex is anchored at the end", labelList("team", "db2"), nil, "", "", ""},
			{"a missing label reads as empty", labelList("team", "ops"), nil, "noenv", "Nora:PENDING", "disk"},
			{"NEQ and NOT_REGEX hold", labelList("team", "ops", "env", "stage", "region", "us-1"), nil, "notprod", "Pete:PENDING", "disk"},
			{"NOT_REGEX fails", labelList("team", "ops", "env", "stage", "region", "eu-west"), nil, "", "", ""},
			{"NEQ fails", labelList("team", "ops", "env", "prod"), nil, "", "", ""},
			{"the severity label from the input, first match wins", labelList("team", "db"), map[string]any{"severity": "CRITICAL"}, "crit", "Crit:PENDING", "disk"},
			{"a severity label of the alert's own wins", labelList("team", "db", "severity", "warning"), map[string]any{"severity": "CRITICAL"},
				"db,dbweb", "Dana:PENDING Walt:PENDING", "[web] disk"},
			{"no labels", nil, nil, "", "", ""},
		} {
			t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
				a := a.on(t)
				before := a.countAlerts("")
				if c.routes == "" {
					res := a.sendByLabels(c.labels, c.extra)
					if len(res.Errors) != 1 || res.Errors[0].Extensions.Code != "BAD_USER_INPUT" || res.Errors[0].Extensions.Field != "input.labels" ||
						!strings.Contains(res.Errors[0].Message, "no route matches") {
						t.Fatalf("want BAD_USER_INPUT at input.labels saying no route matches, got %+v (data %s)", res.Errors, res.Data)
					}
					if n := a.countAlerts(""); n != before {
						t.Errorf("a refused alert was stored: %d alerts, %d before", n, before)
					}
					return
				}
				got := a.mustSendByLabels(c.labels, c.extra)
				if names(got.RoutedBy) != c.routes || deliveredTo(got) != c.to || got.Title != c.title || got.Status != "PENDING" || got.SilencedBy != nil {
					t.Errorf("routedBy %q to %q title %q status %s; want %q to %q title %q", names(got.RoutedBy), deliveredTo(got), got.Title, got.Status,
						c.routes, c.to, c.title)
				}
				for _, d := range got.Deliveries {
					if len(d.Contacts) == 1 && d.URL != contacts[d.Contacts[0].Name].Webhooks[0].URL {
						t.Errorf("delivery to %s goes to %s, not its webhook", d.Contacts[0].Name, d.URL)
					}
				}
				if n := a.countAlerts(""); n != before+1 {
					t.Errorf("%d alerts after one more, %d before", n, before)
				}
			})
		}
		// Named recipients are not routed.
		alert := a.mustSendByLabels(labelList("team", "db"), map[string]any{"contactIds": []string{contacts["Nora"].ID}})
		if len(alert.RoutedBy) != 0 || deliveredTo(alert) != "Nora:PENDING" {
			t.Errorf("an alert naming its contact: routedBy %q to %q", names(alert.RoutedBy), deliveredTo(alert))
		}
	})
}

func TestSilencesMuteMatchingAlertsWhileActive(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a, tk := newSecuredAPI(t, db)
		admin, sender, viewer := a.as(tk.tokenAdmin), a.as(tk.sender), a.as(tk.viewer)
		g := admin.createGroup("SRE")
		admin.createContact("Alice", g.ID)
		admin.createRoute(map[string]any{"name": "everything", "groupIds": []string{g.ID}})
		start := time.Now().UTC().Truncate(time.Second)

		// Roles: a sender may silence, a viewer may only look; routes need an admin.
		viewer.fail(`mutation($e: Time!) { createSilence(input: {matchers: [{label: "a", op: EQ, value: "b"}], endsAt: $e, comment: "c"}) { id } }`,
			map[string]any{"e": ts(start.Add(time.Hour))}, "FORBIDDEN", "")
		sender.fail(`mutation($g: ID!) { createRoute(input: {name: "s", matchers: [], groupIds: [$g]}) { id } }`, map[string]any{"g": g.ID}, "FORBIDDEN", "")

		// Started in the past: it starts now.
		now0 := dbNow(t, db)
		batch := sender.createSilence(map[string]any{"matchers": []any{matcher("service", "EQ", "batch")}, "startsAt": ts(start.Add(-time.Hour)),
			"endsAt": ts(start.Add(time.Hour)), "comment": "nightly batch"})
		if st := parseTS(t, batch.StartsAt); batch.State != "ACTIVE" || st.Before(now0.Add(-time.Second)) || st.After(dbNow(t, db)) || batch.CreatedBy != "ci" {
			t.Errorf("a silence starting in the past: %+v (now %s)", batch, now0)
		}
		viewer.fail(`mutation($id: ID!) { expireSilence(id: $id) { id } }`, map[string]any{"id": batch.ID}, "FORBIDDEN", "")
		muted := sender.mustSendByLabels(labelList("service", "batch"), nil)
		if muted.Status != "SILENCED" || muted.SilencedBy == nil || muted.SilencedBy.ID != batch.ID || len(muted.Deliveries) != 0 || names(muted.RoutedBy) != "everything" {
			t.Errorf("an alert an active silence matches: %+v", muted)
		}

		// Pending: it mutes nothing yet.
		api := sender.createSilence(map[string]any{"matchers": []any{matcher("service", "EQ", "api"), matcher("env", "REGEX", ".*")},
			"startsAt": ts(start.Add(time.Hour)), "endsAt": ts(start.Add(3 * time.Hour)), "comment": "  deploy  "})
		if api.State != "PENDING" || !parseTS(t, api.StartsAt).Equal(start.Add(time.Hour)) || !parseTS(t, api.EndsAt).Equal(start.Add(3*time.Hour)) ||
			api.Comment != "deploy" || api.CreatedBy != "ci" || len(api.Matchers) != 2 || api.Matchers[1] != (matcherJSON{"env", "REGEX", ".*"}) {
			t.Errorf("a pending silence: %+v", api)
		}
		if s := viewer.silenceByID(api.ID); s == nil || s.State != "PENDING" {
			t.Errorf("silence(id) as a viewer: %+v", s)
		}
		if d := viewer.testRoute(labelList("service", "api"), ""); !d.Matched || d.SilencedBy != nil || len(d.Silences) != 1 || d.Silences[0].ID != api.ID {
			t.Errorf("testRoute as a viewer, a pending silence: %+v", d)
		}
		sent := sender.mustSendByLabels(labelList("service", "api"), nil)
		if sent.Status != "PENDING" || sent.SilencedBy != nil || deliveredTo(sent) != "Alice:PENDING" {
			t.Errorf("an alert a pending silence matches: %+v", sent)
		}

		// 90 minutes on: the api silence is active, the batch one has ended.
		shiftClock(t, db, 90*time.Minute)
		if s := viewer.silenceByID(api.ID); s == nil || s.State != "ACTIVE" {
			t.Fatalf("after its start: %+v", s)
		}
		if s := viewer.silenceByID(batch.ID); s == nil || s.State != "EXPIRED" {
			t.Errorf("after its end: %+v", s)
		}
		later := admin.createSilence(map[string]any{"matchers": []any{matcher("service", "EQ", "api")}, "startsAt": ts(start.Add(10 * time.Hour)),
			"endsAt": ts(start.Add(20 * time.Hour)), "comment": "later"})
		if later.State != "PENDING" || later.CreatedBy != "ops" {
			t.Errorf("a silence an admin token made: %+v", later)
		}
		silenced := sender.mustSendByLabels(labelList("service", "api", "env", "prod"), nil)
		if silenced.Status != "SILENCED" || silenced.SilencedBy == nil || silenced.SilencedBy.ID != api.ID || len(silenced.Deliveries) != 0 {
			t.Errorf("an alert an active silence matches: %+v", silenced)
		}
		var list struct {
			Alerts struct {
				TotalCount int
				Edges      []struct{ Node routedAlertJSON }
			}
		}
		viewer.must(`{ alerts(status: SILENCED) { totalCount edges { node { id status silencedBy { id } } } } }`, nil, &list)
		if list.Alerts.TotalCount != 2 || len(list.Alerts.Edges) != 2 || list.Alerts.Edges[0].Node.ID != silenced.ID || list.Alerts.Edges[1].Node.ID != muted.ID {
			t.Errorf("alerts(status: SILENCED): %+v", list.Alerts)
		}
		if n := viewer.countAlerts("PENDING"); n != 1 {
			t.Errorf("%d PENDING alerts, want the one sent before the silence started", n)
		}
		for _, c := range []struct{ state, want string }{
			{"", later.ID + "," + api.ID + "," + batch.ID}, {"ACTIVE", api.ID}, {"PENDING", later.ID}, {"EXPIRED", batch.ID},
		} {
			if got, n := viewer.silenceList(c.state); got != c.want || n != strings.Count(c.want, ",")+1 {
				t.Errorf("silences(state: %q) = %s (totalCount %d), want %s", c.state, got, n, c.want)
			}
		}

		// Expired early: it ends now, and alerts are sent again.
		before := dbNow(t, db)
		expired := sender.expireSilence(api.ID)
		after := dbNow(t, db)
		end := parseTS(t, expired.EndsAt)
		if expired.State != "EXPIRED" || end.Before(before.Add(-time.Millisecond)) || end.After(after.Add(time.Millisecond)) ||
			!parseTS(t, expired.StartsAt).Equal(start.Add(time.Hour)) {
			t.Errorf("expired %+v, want endsAt between %s and %s", expired, before, after)
		}
		again := sender.expireSilence(api.ID)
		if !parseTS(t, again.EndsAt).Equal(end) || again.State != "EXPIRED" {
			t.Errorf("expiring again changed it: %+v, was %+v", again, expired)
		}
		resent := sender.mustSendByLabels(labelList("service", "api", "env", "prod"), nil)
		if resent.Status != "PENDING" || resent.SilencedBy != nil || deliveredTo(resent) != "Alice:PENDING" {
			t.Errorf("an alert after the silence was expired: %+v", resent)
		}
		for _, c := range []struct{ state, want string }{
			{"ACTIVE", ""}, {"PENDING", later.ID}, {"EXPIRED", api.ID + "," + batch.ID},
		} {
			if got, _ := viewer.silenceList(c.state); got != c.want {
				t.Errorf("after expiring: silences(state: %q) = %s, want %s", c.state, got, c.want)
			}
		}
		// A pending silence expired never starts.
		if s := admin.expireSilence(later.ID); s.State != "EXPIRED" || parseTS(t, s.StartsAt).After(parseTS(t, s.EndsAt)) {
			t.Errorf("a pending silence expired: %+v", s)
		}
		shiftClock(t, db, 11*time.Hour)
		if s := viewer.silenceByID(later.ID); s == nil || s.State != "EXPIRED" {
			t.Errorf("an expired pending silence after its original start: %+v", s)
		}
		if got := sender.mustSendByLabels(labelList("service", "api"), nil); got.Status == "SILENCED" {
			t.Errorf("an expired pending silence muted an alert after its original start: %+v", got)
		}
		sender.fail(`mutation { expireSilence(id: "999999") { id } }`, nil, "NOT_FOUND", "id")
		if s := viewer.silenceByID("999999"); s != nil {
			t.Errorf("silence(999999) = %+v", s)
		}
	})
}

func TestSilenceInputIsChecked(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		now := time.Now().UTC().Truncate(time.Second)
		ok := []any{matcher("service", "EQ", "api")}
		for _, c := range []struct {
			name  string
			in    map[string]any
			field string
		}{
			{"no matchers", map[string]any{"matchers": []any{}}, "input.matchers"},
			{"only a matcher of the empty string", map[string]any{"matchers": []any{matcher("env", "REGEX", ".*")}}, "input.matchers"},
			{"only matchers an empty value meets", map[string]any{"matchers": []any{matcher("env", "NEQ", "prod"), matcher("team", "EQ", ""), matcher("x", "NOT_REGEX", "y")}}, "input.matchers"},
			{"ends before now", map[string]any{"endsAt": ts(now.Add(-time.Hour))}, "input.endsAt"},
			{"ends before its start", map[string]any{"startsAt": ts(now.Add(2 * time.Hour)), "endsAt": ts(now.Add(time.Hour))}, "input.endsAt"},
			{"ends at its start", map[string]any{"startsAt": ts(now.Add(2 * time.Hour)), "endsAt": ts(now.Add(2 * time.Hour))}, "input.endsAt"},
			{"lasts too long", map[string]any{"startsAt": ts(now.Add(time.Hour)), "endsAt": ts(now.Add(time.Hour + models.MaxSilenceDuration + time.Second))}, "input.endsAt"},
			{"an empty comment", map[string]any{"comment": ""}, "input.comment"},
			{"a blank comment", map[string]any{"comment": "   "}, "input.comment"},
			{"a long comment", map[string]any{"comment": strings.Repeat("x", models.MaxSilenceComment+1)}, "input.comment"},
			{"an invalid regex", map[string]any{"matchers": []any{matcher("service", "EQ", "api"), matcher("env", "REGEX", "(")}}, "input.matchers[1].value"},
			{"a bad label", map[string]any{"matchers": []any{matcher("has space", "EQ", "api")}}, "input.matchers[0].label"},
		} {
			in := map[string]any{"matchers": ok, "endsAt": ts(now.Add(time.Hour)), "comment": "why"}
			for k, v := range c.in {
				in[k] = v
			}
			code, field, msg := a.refusal(`mutation($in: SilenceInput!) { createSilence(input: $in) { id } }`, map[string]any{"in": in})
			if code != "BAD_USER_INPUT" || field != c.field {
				t.Errorf("%s: %s at %q (%s), want BAD_USER_INPUT at %q", c.name, code, field, msg, c.field)
			}
		}
		if got, n := a.silenceList(""); got != "" || n != 0 {
			t.Errorf("refused silences were stored: %s", got)
		}
		// The longest allowed, and one that mixes a matcher of the empty string with one that is not.
		s := a.createSilence(map[string]any{"matchers": []any{matcher("env", "REGEX", ".*"), matcher("service", "NEQ", "")},
			"endsAt": ts(now.Add(models.MaxSilenceDuration - time.Minute)), "comment": "long"})
		if s.State != "ACTIVE" {
			t.Errorf("created %+v", s)
		}

		// Pages of silences, newest first.
		ids := []string{s.ID}
		for i := range 2 {
			ids = append(ids, a.createSilence(map[string]any{"matchers": ok, "endsAt": ts(now.Add(time.Hour)), "comment": fmt.Sprint("page ", i)}).ID)
		}
		slices.Reverse(ids)
		page := `query($after: String) { silences(first: 2, after: $after) { totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }`
		var got []string
		var after any
		for range 3 {
			var out struct {
				Silences struct {
					TotalCount int
					Edges      []struct{ Node struct{ ID string } }
					PageInfo   struct {
						HasNextPage bool
						EndCursor   *string
					}
				}
			}
			a.must(page, map[string]any{"after": after}, &out)
			if out.Silences.TotalCount != 3 {
				t.Errorf("totalCount %d, want 3", out.Silences.TotalCount)
			}
			for _, e := range out.Silences.Edges {
				got = append(got, e.Node.ID)
			}
			if !out.Silences.PageInfo.HasNextPage {
				break
			}
			after = *out.Silences.PageInfo.EndCursor
		}
		if !slices.Equal(got, ids) {
			t.Errorf("paged silences %v, want %v", got, ids)
		}
		for _, first := range []int{0, 101} {
			a.fail(`query($n: Int) { silences(first: $n) { totalCount } }`, map[string]any{"n": first}, "BAD_USER_INPUT", "first")
		}
	})
}

// The schema: createdBy is "open mode" with authentication off, as the audit log names such a caller.
func TestSilenceCreatedByIsOpenModeWithAuthenticationOff(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		s := a.createSilence(map[string]any{"matchers": []any{matcher("service", "EQ", "api")}, "endsAt": ts(time.Now().Add(time.Hour)), "comment": "open"})
		if s.CreatedBy != "open mode" {
			t.Errorf("createdBy = %q in open mode, want \"open mode\"", s.CreatedBy)
		}
	})
}

type decisionJSON struct {
	Labels     []struct{ Name, Value string }
	Matched    bool
	Routes     []namedJSON
	Groups     []namedJSON
	Contacts   []namedJSON
	SilencedBy *struct{ ID string }
	Silences   []struct{ ID string }
	Quiet      []struct {
		Group  namedJSON
		Until  string
		Policy string
	}
}

func (a *api) testRoute(labels []map[string]any, severity string) decisionJSON {
	a.t.Helper()
	vars := map[string]any{"l": labels, "s": nil}
	if severity != "" {
		vars["s"] = severity
	}
	var out struct{ TestRoute decisionJSON }
	a.must(`query($l: [LabelInput!]!, $s: Severity) { testRoute(labels: $l, severity: $s) { labels { name value } matched
		routes { id name } groups { id name } contacts { id name } silencedBy { id } silences { id }
		quiet { group { id name } until policy } } }`, vars, &out)
	return out.TestRoute
}

// quietWindow is a window of quiet hours in UTC around now, from two hours before to two after
// (crossing midnight is fine: an end before the start ends the next day), and the instant it ends.
func quietWindow() (start, end string, until time.Time) {
	now := time.Now().UTC()
	until = now.Add(2 * time.Hour).Truncate(time.Minute)
	return now.Add(-2 * time.Hour).Format("15:04"), until.Format("15:04"), until
}

func TestTestRouteAgreesWithWhatSendAlertDoes(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		start, end, until := quietWindow()
		var qg struct {
			CreateContactGroup struct {
				ID, QuietPolicy string
				QuietUntil      *string
				QuietHours      []struct {
					Weekdays             []int
					Start, End, TimeZone string
				}
			}
		}
		a.must(`mutation($in: CreateContactGroupInput!) { createContactGroup(input: $in) { id quietPolicy quietUntil quietHours { weekdays start end timeZone } } }`,
			map[string]any{"in": map[string]any{"name": "Quiet", "quietHours": []any{map[string]any{"weekdays": []int{}, "start": start, "end": end}}}}, &qg)
		quiet := qg.CreateContactGroup
		if quiet.QuietPolicy != "DIGEST" || len(quiet.QuietHours) != 1 || quiet.QuietHours[0].TimeZone != "UTC" || quiet.QuietUntil == nil ||
			!parseTS(t, *quiet.QuietUntil).Equal(until) {
			t.Fatalf("a group in its quiet hours %s-%s: %+v, want quietUntil %s", start, end, quiet, until)
		}
		day := a.createGroup("Day")
		a.createContact("Dana", day.ID)
		quinn := a.createContact("Quinn", quiet.ID)
		direct := a.createContact("Direct")
		members := map[string]string{"Day": "Dana", "Quiet": "Quinn"}
		routes := map[string]string{}
		for _, r := range []map[string]any{
			{"name": "db", "matchers": []any{matcher("team", "EQ", "db")}, "groupIds": []string{day.ID}, "continue": true},
			{"name": "dbq", "matchers": []any{matcher("team", "REGEX", "db|quiet")}, "groupIds": []string{quiet.ID}},
			{"name": "direct", "matchers": []any{matcher("team", "EQ", "direct")}, "contactIds": []string{direct.ID}},
			{"name": "both", "matchers": []any{matcher("team", "EQ", "both")}, "groupIds": []string{quiet.ID}, "contactIds": []string{quinn.ID}},
			{"name": "muted", "matchers": []any{matcher("team", "EQ", "muted")}, "groupIds": []string{day.ID}},
		} {
			routes[r["name"].(string)] = a.createRoute(r).ID
		}
		now := time.Now().UTC()
		mute := a.createSilence(map[string]any{"matchers": []any{matcher("team", "EQ", "muted")}, "endsAt": ts(now.Add(time.Hour)), "comment": "muted"})
		// Of two active silences, the one ending last mutes.
		muteLong := a.createSilence(map[string]any{"matchers": []any{matcher("team", "REGEX", "mut.*")}, "endsAt": ts(now.Add(3 * time.Hour)), "comment": "longer"})
		muteShort := a.createSilence(map[string]any{"matchers": []any{matcher("team", "EQ", "muted")}, "endsAt": ts(now.Add(2 * time.Hour)), "comment": "shorter"})
		pending := a.createSilence(map[string]any{"matchers": []any{matcher("team", "EQ", "db")}, "startsAt": ts(now.Add(time.Hour)),
			"endsAt": ts(now.Add(2 * time.Hour)), "comment": "later"})

		for _, c := range []struct {
			name             string
			labels           []map[string]any
			severity         string
			routes           string
			groups, contacts string
			quiet            string
			silencedBy       string
			silences         string
			to               string // the deliveries, "" when none
		}{
			{"one route, a direct contact", labelList("team", "direct"), "", "direct", "", "Direct", "", "", "", "Direct:PENDING"},
			{"two routes, one group quiet", labelList("team", "db"), "", "db,dbq", "Day,Quiet", "", "Quiet", "", pending.ID, "Dana:PENDING Quinn:HELD"},
			{"critical is never held", labelList("team", "quiet"), "CRITICAL", "dbq", "Quiet", "", "", "", "", "Quinn:PENDING"},
			{"a member also named directly", labelList("team", "both"), "INFO", "both", "Quiet", "Quinn", "Quiet", "", "", "Quinn:PENDING"},
			{"no route but a silence", labelList("team", "mutedx"), "", "", "", "", "", muteLong.ID, muteLong.ID, ""},
			{"silenced by the one ending last", labelList("team", "muted"), "", "muted", "Day", "", "", muteLong.ID,
				muteLong.ID + "," + muteShort.ID + "," + mute.ID, ""},
			{"no route", labelList("team", "nobody"), "", "", "", "", "", "", "", ""},
		} {
			t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
				a := a.on(t)
				d := a.testRoute(c.labels, c.severity)
				sev := strings.ToLower(c.severity)
				if sev == "" {
					sev = "warning"
				}
				if len(d.Labels) != 2 || d.Labels[0].Name != "severity" || d.Labels[0].Value != sev || d.Labels[1].Name != "team" {
					t.Errorf("labels %+v, want severity=%s added", d.Labels, sev)
				}
				var quietNames []string
				for _, q := range d.Quiet {
					quietNames = append(quietNames, q.Group.Name)
					if !parseTS(t, q.Until).Equal(until) || q.Policy != "DIGEST" {
						t.Errorf("quiet %+v, want until %s", q, until)
					}
				}
				silenced := ""
				if d.SilencedBy != nil {
					silenced = d.SilencedBy.ID
				}
				var silences []string
				for _, s := range d.Silences {
					silences = append(silences, s.ID)
				}
				if names(d.Routes) != c.routes || d.Matched != (c.routes != "") || names(d.Groups) != c.groups || names(d.Contacts) != c.contacts ||
					strings.Join(quietNames, ",") != c.quiet || silenced != c.silencedBy || strings.Join(silences, ",") != c.silences {
					t.Errorf("testRoute: routes %q matched %v groups %q contacts %q quiet %q silencedBy %q silences %q; want %q %q %q %q %q %q",
						names(d.Routes), d.Matched, names(d.Groups), names(d.Contacts), quietNames, silenced, silences,
						c.routes, c.groups, c.contacts, c.quiet, c.silencedBy, c.silences)
				}

				extra := map[string]any{}
				if c.severity != "" {
					extra["severity"] = c.severity
				}
				res := a.sendByLabels(c.labels, extra)
				if !d.Matched {
					if len(res.Errors) != 1 || res.Errors[0].Extensions.Field != "input.labels" {
						t.Errorf("testRoute matched nothing, sendAlert answered %+v %s", res.Errors, res.Data)
					}
					return
				}
				if len(res.Errors) > 0 {
					t.Fatalf("sendAlert: %+v", res.Errors)
				}
				var out struct{ SendAlert routedAlertJSON }
				if err := json.Unmarshal(res.Data, &out); err != nil {
					t.Fatal(err)
				}
				alert := out.SendAlert
				if names(alert.RoutedBy) != names(d.Routes) {
					t.Errorf("routedBy %q, testRoute said %q", names(alert.RoutedBy), names(d.Routes))
				}
				alertSilenced := ""
				if alert.SilencedBy != nil {
					alertSilenced = alert.SilencedBy.ID
				}
				if alertSilenced != silenced || (silenced != "") != (alert.Status == "SILENCED") {
					t.Errorf("alert %s silencedBy %q, testRoute said %q", alert.Status, alertSilenced, silenced)
				}
				// The deliveries reach the decision's groups' members and contacts (none when silenced).
				var want []string
				if silenced == "" {
					for _, g := range d.Groups {
						want = append(want, members[g.Name])
					}
					for _, c := range d.Contacts {
						want = append(want, c.Name)
					}
				}
				slices.Sort(want)
				want = slices.Compact(want)
				var got []string
				for _, dl := range alert.Deliveries {
					for _, c := range dl.Contacts {
						got = append(got, c.Name)
					}
				}
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("delivered to %v, testRoute's decision reaches %v", got, want)
				}
				if deliveredTo(alert) != c.to {
					t.Errorf("deliveries %q, want %q", deliveredTo(alert), c.to)
				}
				for _, dl := range alert.Deliveries {
					if dl.Status != "HELD" {
						if dl.HeldBy != nil {
							t.Errorf("a %s delivery has heldBy %q", dl.Status, *dl.HeldBy)
						}
						continue
					}
					if len(d.Quiet) != 1 || dl.HeldBy == nil || *dl.HeldBy != d.Quiet[0].Group.Name || dl.NextAttemptAt == nil ||
						!parseTS(t, *dl.NextAttemptAt).Equal(parseTS(t, d.Quiet[0].Until)) {
						t.Errorf("held delivery %+v, testRoute's quiet %+v", dl, d.Quiet)
					}
				}
			})
		}
	})
}

func TestTestRouteChecksLabelsAsSendAlertDoes(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		q := `query($l: [LabelInput!]!) { testRoute(labels: $l) { matched } }`
		for _, c := range []struct {
			labels []map[string]any
			field  string
		}{
			{labelList("has space", "x"), "labels[0].name"},
			{labelList("a", "1", "a", "2"), "labels[1].name"},
			{labelList("a", strings.Repeat("x", 1025)), "labels[0].value"},
		} {
			if code, field, msg := a.refusal(q, map[string]any{"l": c.labels}); code != "BAD_USER_INPUT" || field != c.field {
				t.Errorf("testRoute %v: %s at %q (%s), want BAD_USER_INPUT at %q", c.labels, code, field, msg, c.field)
			}
			if code, field, _ := a.refusal(`mutation($l: [LabelInput!]) { sendAlert(input: {title: "t", content: "c", labels: $l}) { id } }`,
				map[string]any{"l": c.labels}); code != "BAD_USER_INPUT" || field != "input."+c.field {
				t.Errorf("sendAlert %v: %s at %q, want BAD_USER_INPUT at %q", c.labels, code, field, "input."+c.field)
			}
		}
	})
}

// testRoute(severity: null) and sendAlert(severity: null) read the severity alike, so that the
// routes testRoute names are the ones the alert meets.
func TestAnExplicitNullSeverityIsRoutedAsTestRouteSays(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		g := a.createGroup("SRE")
		a.createContact("Alice", g.ID)
		for _, sev := range []string{"info", "warning"} {
			a.createRoute(map[string]any{"name": sev, "matchers": []any{matcher("severity", "EQ", sev)}, "groupIds": []string{g.ID}})
		}
		d := a.testRoute(labelList("team", "db"), "") // severity: null
		var out struct {
			SendAlert struct {
				Severity string
				RoutedBy []namedJSON
			}
		}
		a.must(`mutation($l: [LabelInput!]) { sendAlert(input: {title: "t", content: "c", labels: $l, severity: null}) { severity routedBy { id name } } }`,
			map[string]any{"l": labelList("team", "db")}, &out)
		if names(out.SendAlert.RoutedBy) != names(d.Routes) {
			t.Errorf("severity null: sendAlert is routed by %q (stored as %s), testRoute says %q", names(out.SendAlert.RoutedBy), out.SendAlert.Severity, names(d.Routes))
		}
	})
}

func TestRoutesAndSilencesBelongToTheirNamespace(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a, _ := newSecuredAPI(t, db)
		a.createNamespace("team-b")
		home := a.as(bootstrapAdmin)
		b := home.in("team-b")
		bg := b.createGroup("B-SRE")
		b.createContact("Bea", bg.ID)
		br := b.createRoute(map[string]any{"name": "shared-name", "groupIds": []string{bg.ID}})
		bs := b.createSilence(map[string]any{"matchers": []any{matcher("service", "EQ", "api")}, "endsAt": ts(time.Now().Add(time.Hour)), "comment": "b's"})
		if br.Position != 1 {
			t.Errorf("team-b's first route at %d", br.Position)
		}

		if rs := home.listRoutes(); len(rs) != 0 {
			t.Errorf("default sees routes %q", routeOrder(rs))
		}
		if home.routeByID(br.ID) != nil || home.silenceByID(bs.ID) != nil {
			t.Error("default reads team-b's route or silence by id")
		}
		if got, n := home.silenceList(""); got != "" || n != 0 {
			t.Errorf("default sees silences %s", got)
		}
		if d := home.testRoute(labelList("service", "api"), ""); d.Matched || len(d.Routes) != 0 || len(d.Silences) != 0 || d.SilencedBy != nil {
			t.Errorf("default's testRoute meets team-b's route or silence: %+v", d)
		}
		if res := home.sendByLabels(labelList("service", "api"), nil); len(res.Errors) != 1 || res.Errors[0].Extensions.Field != "input.labels" {
			t.Errorf("default's alert was routed by team-b's route: %+v %s", res.Errors, res.Data)
		}
		for _, q := range []struct{ query, field string }{
			{`mutation($r: ID!) { deleteRoute(id: $r) }`, "id"},
			{`mutation($r: ID!) { moveRoute(id: $r, position: 1) { id } }`, "id"},
			{`mutation($r: ID!, $g: ID!) { updateRoute(id: $r, input: {name: "x", matchers: [], groupIds: [$g]}) { id } }`, "id"},
			{`mutation($s: ID!) { expireSilence(id: $s) { id } }`, "id"},
			{`mutation($g: ID!) { createRoute(input: {name: "x", matchers: [], groupIds: [$g]}) { id } }`, "input.groupIds[0]"},
		} {
			vars := map[string]any{}
			for k, v := range map[string]string{"r": br.ID, "s": bs.ID, "g": bg.ID} {
				if strings.Contains(q.query, "$"+k+":") {
					vars[k] = v
				}
			}
			if strings.Contains(q.query, "updateRoute") {
				vars["g"] = home.createGroup(fmt.Sprintf("home-%d", hookSeq.Add(1))).ID
			}
			home.fail(q.query, vars, "NOT_FOUND", q.field)
		}

		// The same name in default, its own order and its own silences.
		hg := home.createGroup("SRE")
		home.createContact("Hal", hg.ID)
		hr := home.createRoute(map[string]any{"name": "SHARED-NAME", "groupIds": []string{hg.ID}})
		if hr.Position != 1 {
			t.Errorf("default's first route at %d", hr.Position)
		}
		home.createRoute(map[string]any{"name": "second", "groupIds": []string{hg.ID}, "position": 1})
		if got := routeOrder(home.listRoutes()); got != "second:1 SHARED-NAME:2" {
			t.Errorf("default's routes %q", got)
		}
		alert := home.mustSendByLabels(labelList("service", "api"), nil)
		if alert.Status != "PENDING" || alert.SilencedBy != nil || names(alert.RoutedBy) != "second" {
			t.Errorf("default's alert: %+v", alert)
		}
		if got := routeOrder(b.listRoutes()); got != "shared-name:1" {
			t.Errorf("team-b's routes after default's: %q", got)
		}
		if got := b.mustSendByLabels(labelList("service", "api"), nil); got.Status != "SILENCED" || got.SilencedBy == nil || got.SilencedBy.ID != bs.ID {
			t.Errorf("team-b's alert: %+v", got)
		}
		if got, n := b.silenceList(""); got != bs.ID || n != 1 {
			t.Errorf("team-b's silences %s", got)
		}
	})
}

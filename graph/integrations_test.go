package graph_test

import (
	"context"
	"strings"
	"testing"

	"github.com/heraldhq/herald/auth"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modelstest"
)

const integrationFields = `id name kind sendResolved mentionContacts hasSigningSecret timeZone url lastReceivedAt
	groups { id name } contacts { id name }`

type integrationJSON struct {
	ID, Name, Kind, TimeZone, URL string
	SendResolved, MentionContacts bool
	HasSigningSecret              bool
	LastReceivedAt                *string
	Groups, Contacts              []struct{ ID, Name string }
}

func (a *api) createIntegration(in map[string]any) (integrationJSON, string) {
	a.t.Helper()
	var out struct {
		CreateIntegration struct {
			Integration integrationJSON
			Token       string
		}
	}
	a.must(`mutation($in: CreateIntegrationInput!) { createIntegration(input: $in) { token integration { `+integrationFields+` } } }`,
		map[string]any{"in": in}, &out)
	return out.CreateIntegration.Integration, out.CreateIntegration.Token
}

func (a *api) countIntegrations() int {
	a.t.Helper()
	var out struct{ Integrations struct{ TotalCount int } }
	a.must(`{ integrations { totalCount } }`, nil, &out)
	return out.Integrations.TotalCount
}

func TestIntegrationsAreCreatedListedChangedAndDeleted(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		g := a.createGroup("SRE")
		alice := a.createContact("Alice", g.ID)
		bob := a.createContact("Bob")
		i, token := a.createIntegration(map[string]any{"name": "prod-am", "kind": "ALERTMANAGER", "groupIds": []string{g.ID},
			"contactIds": []string{bob.ID}, "timeZone": "Asia/Shanghai"})
		if !strings.HasPrefix(token, auth.HookTokenPrefix) || !strings.HasSuffix(i.URL, "/hooks/"+i.ID) {
			t.Errorf("token %q url %q", token, i.URL)
		}
		if !i.SendResolved || i.MentionContacts || i.HasSigningSecret || i.TimeZone != "Asia/Shanghai" || i.LastReceivedAt != nil ||
			len(i.Groups) != 1 || i.Groups[0].Name != "SRE" || len(i.Contacts) != 1 || i.Contacts[0].Name != "Bob" {
			t.Errorf("created %+v", i)
		}
		stored, err := a.store.IntegrationForHook(context.Background(), i.ID, auth.HashToken(token))
		if err != nil || len(stored.GroupIDs) != 1 || len(stored.ContactIDs) != 1 {
			t.Fatalf("the token does not open its hook: %v %+v", err, stored)
		}

		// Every refusal names its field and changes nothing.
		for _, c := range []struct {
			in          map[string]any
			code, field string
		}{
			{map[string]any{"name": "x", "kind": "ALERTMANAGER"}, "BAD_USER_INPUT", "input.groupIds"},
			{map[string]any{"name": "x", "kind": "ALERTMANAGER", "groupIds": []string{"999999"}}, "NOT_FOUND", "input.groupIds[0]"},
			{map[string]any{"name": "x", "kind": "GENERIC", "contactIds": []string{alice.ID, "abc"}}, "NOT_FOUND", "input.contactIds[1]"},
			{map[string]any{"name": "x", "kind": "ALERTMANAGER", "groupIds": []string{g.ID}, "timeZone": "Mars/Olympus"}, "BAD_USER_INPUT", "input.timeZone"},
			{map[string]any{"name": "x", "kind": "ALERTMANAGER", "groupIds": []string{g.ID}, "signingSecret": "s"}, "BAD_USER_INPUT", "input.signingSecret"},
			{map[string]any{"name": "PROD-AM", "kind": "GRAFANA", "groupIds": []string{g.ID}}, "CONFLICT", "input.name"},
			{map[string]any{"name": "  ", "kind": "GRAFANA", "groupIds": []string{g.ID}}, "BAD_USER_INPUT", "input.name"},
		} {
			a.fail(`mutation($in: CreateIntegrationInput!) { createIntegration(input: $in) { token } }`, map[string]any{"in": c.in}, c.code, c.field)
		}
		if n := a.countIntegrations(); n != 1 {
			t.Fatalf("%d integrations after refused creates", n)
		}

		// Updates replace lists; the last recipient cannot go.
		var up struct{ UpdateIntegration integrationJSON }
		a.must(`mutation($id: ID!) { updateIntegration(id: $id, input: {contactIds: [], sendResolved: false, mentionContacts: true}) { `+integrationFields+` } }`,
			map[string]any{"id": i.ID}, &up)
		if len(up.UpdateIntegration.Contacts) != 0 || len(up.UpdateIntegration.Groups) != 1 || up.UpdateIntegration.SendResolved || !up.UpdateIntegration.MentionContacts {
			t.Errorf("updated %+v", up.UpdateIntegration)
		}
		a.fail(`mutation($id: ID!) { updateIntegration(id: $id, input: {groupIds: [], name: "renamed"}) { id } }`, map[string]any{"id": i.ID}, "BAD_USER_INPUT", "input.groupIds")
		a.fail(`mutation { updateIntegration(id: "999999", input: {name: "x"}) { id } }`, nil, "NOT_FOUND", "id")
		var one struct{ Integration *integrationJSON }
		a.must(`query($id: ID!) { integration(id: $id) { `+integrationFields+` } }`, map[string]any{"id": i.ID}, &one)
		if one.Integration == nil || one.Integration.Name != "prod-am" || len(one.Integration.Groups) != 1 {
			t.Fatalf("a refused update changed the integration: %+v", one.Integration)
		}

		// Grafana's secret is write-only.
		gi, _ := a.createIntegration(map[string]any{"name": "grafana", "kind": "GRAFANA", "contactIds": []string{alice.ID}, "signingSecret": "hmac"})
		if !gi.HasSigningSecret {
			t.Error("hasSigningSecret is false after setting one")
		}
		var cleared struct{ UpdateIntegration integrationJSON }
		a.must(`mutation($id: ID!) { updateIntegration(id: $id, input: {signingSecret: ""}) { hasSigningSecret } }`, map[string]any{"id": gi.ID}, &cleared)
		if cleared.UpdateIntegration.HasSigningSecret {
			t.Error("an empty signingSecret did not remove it")
		}

		// Deleting a recipient removes it from the integration; the integration stays.
		a.must(`mutation($id: ID!) { deleteContact(id: $id) }`, map[string]any{"id": alice.ID}, nil)
		a.must(`query($id: ID!) { integration(id: $id) { `+integrationFields+` } }`, map[string]any{"id": gi.ID}, &one)
		if one.Integration == nil || len(one.Integration.Contacts) != 0 {
			t.Errorf("a deleted contact is still a recipient: %+v", one.Integration)
		}

		// Rotation: the old token stops opening the hook.
		var rot struct{ RotateIntegrationToken struct{ Token string } }
		a.must(`mutation($id: ID!) { rotateIntegrationToken(id: $id) { token integration { id } } }`, map[string]any{"id": i.ID}, &rot)
		if rot.RotateIntegrationToken.Token == token || !strings.HasPrefix(rot.RotateIntegrationToken.Token, auth.HookTokenPrefix) {
			t.Fatalf("rotated token %q", rot.RotateIntegrationToken.Token)
		}
		if _, err := a.store.IntegrationForHook(context.Background(), i.ID, auth.HashToken(token)); err != models.ErrHookRefused {
			t.Errorf("the old token still opens the hook: %v", err)
		}
		// An update after the rotation leaves the new token as it is.
		a.must(`mutation($id: ID!) { updateIntegration(id: $id, input: {name: "prod-am"}) { id } }`, map[string]any{"id": i.ID}, nil)
		if _, err := a.store.IntegrationForHook(context.Background(), i.ID, auth.HashToken(rot.RotateIntegrationToken.Token)); err != nil {
			t.Errorf("an update undid the rotation: %v", err)
		}

		var list struct {
			Integrations struct {
				Edges []struct{ Node integrationJSON }
			}
		}
		a.must(`{ integrations { edges { node { name groups { name } contacts { name } } } } }`, nil, &list)
		if len(list.Integrations.Edges) != 2 || list.Integrations.Edges[0].Node.Name != "grafana" || list.Integrations.Edges[1].Node.Name != "prod-am" {
			t.Errorf("list %+v", list)
		}
		a.must(`mutation($id: ID!) { deleteIntegration(id: $id) }`, map[string]any{"id": i.ID}, nil)
		a.fail(`mutation($id: ID!) { deleteIntegration(id: $id) }`, map[string]any{"id": i.ID}, "NOT_FOUND", "id")
		if n := a.countIntegrations(); n != 1 {
			t.Errorf("%d integrations after a delete", n)
		}
	})
}

func TestIntegrationListCostsTheSameStatementsForAnyPageSize(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		g := a.createGroup("SRE")
		c := a.createContact("Carol", g.ID)
		query := `query($n: Int) { integrations(first: $n) { edges { node { name groups { name contacts { name } } contacts { name groups { name } } } } } }`
		counts := map[int]int64{}
		for n := range 6 {
			a.createIntegration(map[string]any{"name": "source-" + string(rune('a'+n)), "kind": "GENERIC", "groupIds": []string{g.ID}, "contactIds": []string{c.ID}})
			if n == 0 || n == 5 {
				a.must(query, map[string]any{"n": n + 1}, nil)
				counts[n+1] = a.lastStatements.Load().Load()
			}
		}
		if counts[1] != counts[6] {
			t.Errorf("statements: %d for one integration, %d for six", counts[1], counts[6])
		}
	})
}

func TestIntegrationsBelongToTheirNamespace(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a, _ := newSecuredAPI(t, db)
		a.createNamespace("team-b")
		b := a.as(bootstrapAdmin).in("team-b")
		g := b.createGroup("B-SRE")
		i, _ := b.createIntegration(map[string]any{"name": "b-am", "kind": "ALERTMANAGER", "groupIds": []string{g.ID}})
		def := a.as(bootstrapAdmin)
		var one struct{ Integration *integrationJSON }
		def.must(`query($id: ID!) { integration(id: $id) { id } }`, map[string]any{"id": i.ID}, &one)
		if one.Integration != nil || def.countIntegrations() != 0 {
			t.Errorf("default sees team-b's integration: %+v", one.Integration)
		}
		def.fail(`mutation($id: ID!) { deleteIntegration(id: $id) }`, map[string]any{"id": i.ID}, "NOT_FOUND", "id")
		// A group of another namespace cannot be a recipient.
		def.fail(`mutation($g: ID!) { createIntegration(input: {name: "x", kind: GENERIC, groupIds: [$g]}) { token } }`, map[string]any{"g": g.ID}, "NOT_FOUND", "input.groupIds[0]")
		if b.countIntegrations() != 1 {
			t.Error("team-b lost its integration")
		}
		// Emptied of contacts and groups, the namespace still holds its integration.
		b.must(`mutation($id: ID!) { deleteContactGroup(id: $id) }`, map[string]any{"id": g.ID}, nil)
		var nss struct{ Namespaces []struct{ ID, Name string } }
		def.must(`{ namespaces { id name } }`, nil, &nss)
		for _, ns := range nss.Namespaces {
			if ns.Name == "team-b" {
				def.fail(`mutation($id: ID!) { deleteNamespace(id: $id) }`, map[string]any{"id": ns.ID}, "CONFLICT", "id")
			}
		}
	})
}

func TestSendAlertKeepsLabelsAndResolved(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		g := a.createGroup("SRE")
		a.createContact("Dave", g.ID)
		var out struct {
			SendAlert struct {
				Resolved bool
				Labels   []struct{ Name, Value string }
				Source   *struct{ ID string }
			}
		}
		a.must(`mutation($g: ID!) { sendAlert(input: {title: "t", content: "c", groupIds: [$g], resolved: true,
			labels: [{name: "job", value: "nightly"}, {name: "env", value: "prod"}]}) { resolved labels { name value } source { id } } }`,
			map[string]any{"g": g.ID}, &out)
		if !out.SendAlert.Resolved || out.SendAlert.Source != nil || len(out.SendAlert.Labels) != 2 ||
			out.SendAlert.Labels[0].Name != "env" || out.SendAlert.Labels[1].Value != "nightly" {
			t.Errorf("alert %+v", out.SendAlert)
		}
		a.fail(`mutation($g: ID!) { sendAlert(input: {title: "t", content: "c", groupIds: [$g], labels: [{name: "a", value: "1"}, {name: "a", value: "2"}]}) { id } }`,
			map[string]any{"g": g.ID}, "BAD_USER_INPUT", "input.labels[1].name")
		a.fail(`mutation($g: ID!) { sendAlert(input: {title: "t", content: "c", groupIds: [$g], labels: [{name: "has space", value: "1"}]}) { id } }`,
			map[string]any{"g": g.ID}, "BAD_USER_INPUT", "input.labels[0].name")
	})
}

func TestASampleNotificationIsSentAsTheHookWouldTakeIt(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		dave := a.createContact("Dave")
		am, _ := a.createIntegration(map[string]any{"name": "prod-am", "kind": "ALERTMANAGER", "contactIds": []string{dave.ID}})
		var ids []string
		for range 2 {
			var out struct {
				SendSampleNotification struct {
					ID, Title string
					Source    struct{ ID string }
					Labels    []struct{ Name, Value string }
				}
			}
			a.must(`mutation($id: ID!) { sendSampleNotification(id: $id) { id title source { id } labels { name value } } }`, map[string]any{"id": am.ID}, &out)
			s := out.SendSampleNotification
			if s.Source.ID != am.ID || s.Title == "" || len(s.Labels) == 0 {
				t.Fatalf("sample alert %+v", s)
			}
			ids = append(ids, s.ID)
		}
		if ids[0] == ids[1] {
			t.Fatalf("the second sample was taken as a duplicate of the first (%s)", ids[0])
		}
		var after struct {
			Integration struct{ LastReceivedAt *string }
		}
		a.must(`query($id: ID!) { integration(id: $id) { lastReceivedAt } }`, map[string]any{"id": am.ID}, &after)
		if after.Integration.LastReceivedAt != nil {
			t.Fatalf("a sample counted as received from the source: %s", *after.Integration.LastReceivedAt)
		}
		// Its only contact deleted, an integration reaches no one.
		erin := a.createContact("Erin")
		lonely, _ := a.createIntegration(map[string]any{"name": "nobody", "kind": "GRAFANA", "contactIds": []string{erin.ID}})
		a.must(`mutation($id: ID!) { deleteContact(id: $id) }`, map[string]any{"id": erin.ID}, nil)
		a.fail(`mutation($id: ID!) { sendSampleNotification(id: $id) { id } }`, map[string]any{"id": lonely.ID}, "BAD_USER_INPUT", "id")
		a.fail(`mutation { sendSampleNotification(id: "424242") { id } }`, nil, "NOT_FOUND", "id")
	})
}

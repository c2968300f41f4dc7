package graph_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/heraldhq/herald/models/modelstest"
)

const templateFields = `id name title body format builtin createdAt updatedAt`

type templateJSON struct {
	ID, Name, Title, Body, Format string
	Builtin                       bool
}

func (a *api) createTemplate(in map[string]any) templateJSON {
	a.t.Helper()
	var out struct{ CreateMessageTemplate templateJSON }
	a.must(`mutation($in: MessageTemplateInput!) { createMessageTemplate(input: $in) { `+templateFields+` } }`, map[string]any{"in": in}, &out)
	return out.CreateMessageTemplate
}

func TestMessageTemplatesAreCheckedListedChangedAndDeleted(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		tpl := a.createTemplate(map[string]any{"name": "Short", "title": "{{ .Title }}", "body": "{{ .Content | upper }}", "format": "CARD"})
		if tpl.Builtin || tpl.Format != "CARD" || tpl.Name != "Short" {
			t.Errorf("created %+v", tpl)
		}
		create := `mutation($in: MessageTemplateInput!) { createMessageTemplate(input: $in) { id } }`
		e := a.fail(create, map[string]any{"in": map[string]any{"name": "bad", "title": "t", "body": "ok\n  {{ nope .Title }}"}}, "BAD_USER_INPUT", "input.body")
		if !strings.Contains(e.Message, "line 2, column 6") || !strings.Contains(e.Message, `"nope"`) {
			t.Errorf("the parse error does not say where: %s", e.Message)
		}
		a.fail(create, map[string]any{"in": map[string]any{"name": "bad", "title": "{{ .Title", "body": "b"}}, "BAD_USER_INPUT", "input.title")
		a.fail(create, map[string]any{"in": map[string]any{"name": "SHORT", "title": "t", "body": "b"}}, "CONFLICT", "input.name")
		a.fail(create, map[string]any{"in": map[string]any{"name": "big", "title": "t", "body": strings.Repeat("x", 64<<10+1)}}, "BAD_USER_INPUT", "input.body")

		var list struct {
			MessageTemplates struct {
				TotalCount int
				Edges      []struct{ Node templateJSON }
			}
			BuiltinMessageTemplates []templateJSON
		}
		a.must(`{ messageTemplates { totalCount edges { node { `+templateFields+` } } } builtinMessageTemplates { `+templateFields+` } }`, nil, &list)
		if list.MessageTemplates.TotalCount != 1 || list.MessageTemplates.Edges[0].Node.ID != tpl.ID {
			t.Errorf("list %+v: refused creates stored something", list.MessageTemplates)
		}
		if len(list.BuiltinMessageTemplates) != 3 || !list.BuiltinMessageTemplates[0].Builtin ||
			list.BuiltinMessageTemplates[0].ID != "builtin:alertmanager" || list.BuiltinMessageTemplates[0].Format != "CARD" {
			t.Errorf("built-ins %+v", list.BuiltinMessageTemplates)
		}

		update := `mutation($id: ID!, $in: MessageTemplateInput!) { updateMessageTemplate(id: $id, input: $in) { ` + templateFields + ` } }`
		a.fail(update, map[string]any{"id": tpl.ID, "in": map[string]any{"name": "Short", "title": "t", "body": "{{ end }}"}}, "BAD_USER_INPUT", "input.body")
		var up struct{ UpdateMessageTemplate templateJSON }
		a.must(update, map[string]any{"id": tpl.ID, "in": map[string]any{"name": "Short", "title": "{{ .Title }}!", "body": "{{ .Content }}"}}, &up)
		if up.UpdateMessageTemplate.Title != "{{ .Title }}!" || up.UpdateMessageTemplate.Format != "MARKDOWN" {
			t.Errorf("updated %+v", up.UpdateMessageTemplate)
		}
		a.fail(update, map[string]any{"id": "builtin:generic", "in": map[string]any{"name": "x", "title": "t", "body": "b"}}, "NOT_FOUND", "id")

		// An integration using it keeps it; the integration can return to its built-in.
		g := a.createGroup("SRE")
		a.createContact("Alice", g.ID)
		i, _ := a.createIntegration(map[string]any{"name": "am", "kind": "ALERTMANAGER", "groupIds": []string{g.ID}, "templateId": tpl.ID})
		a.fail(`mutation($in: CreateIntegrationInput!) { createIntegration(input: $in) { token } }`,
			map[string]any{"in": map[string]any{"name": "am2", "kind": "ALERTMANAGER", "groupIds": []string{g.ID}, "templateId": "999999"}}, "NOT_FOUND", "input.templateId")
		var it struct {
			Integration struct {
				TemplateID *string
				Template   *templateJSON
			}
		}
		a.must(`query($id: ID!) { integration(id: $id) { templateId template { id name } } }`, map[string]any{"id": i.ID}, &it)
		if it.Integration.Template == nil || it.Integration.Template.ID != tpl.ID || it.Integration.TemplateID == nil || *it.Integration.TemplateID != tpl.ID {
			t.Errorf("integration's template %+v", it.Integration)
		}
		e = a.fail(`mutation($id: ID!) { deleteMessageTemplate(id: $id) }`, map[string]any{"id": tpl.ID}, "CONFLICT", "id")
		if !strings.Contains(e.Message, `"am"`) {
			t.Errorf("the conflict does not name the integration: %s", e.Message)
		}
		a.must(`mutation($id: ID!) { updateIntegration(id: $id, input: {templateId: ""}) { id } }`, map[string]any{"id": i.ID}, nil)
		a.must(`mutation($id: ID!) { deleteMessageTemplate(id: $id) }`, map[string]any{"id": tpl.ID}, nil)
		a.fail(`mutation($id: ID!) { deleteMessageTemplate(id: $id) }`, map[string]any{"id": tpl.ID}, "NOT_FOUND", "id")
	})
}

type renderedJSON struct {
	Platform, Body, Format string
	CompanionBody, Note    *string
}

func (a *api) previewTemplate(in map[string]any) []renderedJSON {
	a.t.Helper()
	var out struct{ PreviewTemplate []renderedJSON }
	a.must(`query($in: PreviewTemplateInput!) { previewTemplate(input: $in) { platform body format companionBody note } }`, map[string]any{"in": in}, &out)
	return out.PreviewTemplate
}

func TestPreviewTemplateRendersSamplesAndPastedPayloadsPerPlatform(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		for _, kind := range []string{"ALERTMANAGER", "GRAFANA", "GENERIC"} {
			got := a.previewTemplate(map[string]any{"kind": kind})
			if len(got) != 3 {
				t.Fatalf("%s: %d messages, want one per platform", kind, len(got))
			}
			for _, m := range got {
				if !json.Valid([]byte(m.Body)) || m.Body == "" {
					t.Errorf("%s %s: body %q", kind, m.Platform, m.Body)
				}
			}
			if kind != "GENERIC" && !strings.Contains(got[2].Body, `"interactive"`) {
				t.Errorf("%s: the built-in is not a Lark card: %s", kind, got[2].Body)
			}
		}
		// The editor's unsaved template over a pasted payload, for one platform.
		payload := `{"version":"4","status":"firing","groupKey":"g","receiver":"r","groupLabels":{"alertname":"Pasted"},"commonLabels":{"alertname":"Pasted"},
			"alerts":[{"status":"firing","labels":{"alertname":"Pasted","instance":"i-7"},"annotations":{},"startsAt":"2026-12-01T08:00:00Z"}]}`
		got := a.previewTemplate(map[string]any{"title": `{{ .CommonLabels.alertname }}`, "body": `{{ range .Alerts }}on {{ .Labels.instance }}{{ end }}`,
			"format": "MARKDOWN", "payload": payload, "platforms": []string{"WECOM"}})
		if len(got) != 1 || got[0].Platform != "WECOM" || !strings.Contains(got[0].Body, "on i-7") || !strings.Contains(got[0].Body, "Pasted") {
			t.Errorf("pasted preview %+v", got)
		}
		// A WeCom card that cannot hold the content says so.
		got = a.previewTemplate(map[string]any{"templateId": "builtin:alertmanager", "platforms": []string{"WECOM"}})
		if got[0].Format != "MARKDOWN" || got[0].Note == nil || !strings.Contains(*got[0].Note, "card sent as markdown") {
			t.Errorf("WeCom fallback %+v", got[0])
		}
		// A template that fails at render shows the default layout and why.
		got = a.previewTemplate(map[string]any{"body": `{{ range 2000000000 }}{{ range 9 }}{{ end }}{{ end }}`, "kind": "GENERIC", "platforms": []string{"LARK"}})
		if got[0].Note == nil || !strings.Contains(*got[0].Note, "execution bound") || !strings.Contains(got[0].Body, "backup-db") {
			t.Errorf("failed render %+v", got[0])
		}
		query := `query($in: PreviewTemplateInput!) { previewTemplate(input: $in) { body } }`
		a.fail(query, map[string]any{"in": map[string]any{"body": "{{ if }}"}}, "BAD_USER_INPUT", "input.body")
		a.fail(query, map[string]any{"in": map[string]any{"payload": `{"version":"4"}`}}, "BAD_USER_INPUT", "input.payload")
		a.fail(query, map[string]any{"in": map[string]any{"templateId": "424242"}}, "NOT_FOUND", "input.templateId")
		a.fail(query, map[string]any{"in": map[string]any{"timeZone": "Mars/Base"}}, "BAD_USER_INPUT", "input.timeZone")
	})
}

func TestContactsKeepTheirPlatformUserIDs(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		var c struct {
			CreateContact struct{ ID, DingtalkUserID, LarkUserID string }
		}
		a.must(`mutation($u: String!) { createContact(input: {name: "alice", dingtalkUserId: " ding01 ", larkUserId: "ou_abc", webhooks: [{url: $u}]}) { id dingtalkUserId larkUserId } }`,
			map[string]any{"u": dingURL()}, &c)
		if c.CreateContact.DingtalkUserID != "ding01" || c.CreateContact.LarkUserID != "ou_abc" {
			t.Errorf("created %+v", c.CreateContact)
		}
		for field, bad := range map[string]string{"dingtalkUserId": "a b", "wecomUserId": "<@x>", "larkUserId": "all"} {
			a.fail(`mutation($id: ID!, $in: UpdateContactInput!) { updateContact(id: $id, input: $in) { id } }`,
				map[string]any{"id": c.CreateContact.ID, "in": map[string]any{field: bad}}, "BAD_USER_INPUT", "input."+field)
		}
		var up struct {
			UpdateContact struct {
				DingtalkUserID, WecomUserID *string
				LarkUserID                  string
			}
		}
		a.must(`mutation($id: ID!) { updateContact(id: $id, input: {dingtalkUserId: "", wecomUserId: "zhang.san"}) { dingtalkUserId wecomUserId larkUserId } }`,
			map[string]any{"id": c.CreateContact.ID}, &up)
		if up.UpdateContact.DingtalkUserID != nil || up.UpdateContact.WecomUserID == nil || *up.UpdateContact.WecomUserID != "zhang.san" || up.UpdateContact.LarkUserID != "ou_abc" {
			t.Errorf("updated %+v", up.UpdateContact)
		}
		// Listed through the hand-scanned batch reads too (a group's members).
		var g struct{ CreateContactGroup struct{ ID string } }
		a.must(`mutation($c: [ID!]) { createContactGroup(input: {name: "g", contactIds: $c}) { id } }`, map[string]any{"c": []string{c.CreateContact.ID}}, &g)
		var groups struct {
			Groups struct {
				Edges []struct {
					Node struct{ Contacts []struct{ LarkUserID string } }
				}
			}
		}
		a.must(`{ groups { edges { node { contacts { larkUserId } } } } }`, nil, &groups)
		if groups.Groups.Edges[0].Node.Contacts[0].LarkUserID != "ou_abc" {
			t.Errorf("a group's member lost its id: %+v", groups)
		}
	})
}

func TestSendAlertNamesATemplateAndLinks(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		a.createContact("ops")
		tpl := a.createTemplate(map[string]any{"name": "t", "title": "{{ .Severity }} {{ .Title }}", "body": "{{ .Content }} ({{ len .Links }} links)", "format": "CARD"})
		var sent struct {
			SendAlert struct {
				Title, Content, Format string
				Links                  []struct{ Text, URL string }
				TemplateError          *string
			}
		}
		a.must(`mutation($t: ID!) { sendAlert(input: {title: "disk", content: "full", severity: WARNING, contactNames: ["ops"], templateId: $t,
			links: [{text: "Runbook", url: "https://wiki.example/disk"}]}) { title content format links { text url } templateError } }`,
			map[string]any{"t": tpl.ID}, &sent)
		s := sent.SendAlert
		if s.Title != "WARNING disk" || s.Content != "full (1 links)" || s.Format != "CARD" || len(s.Links) != 1 || s.Links[0].URL != "https://wiki.example/disk" || s.TemplateError != nil {
			t.Errorf("sent %+v", s)
		}
		send := `mutation($in: SendAlertInput!) { sendAlert(input: $in) { id } }`
		base := func(extra map[string]any) map[string]any {
			in := map[string]any{"title": "t", "content": "c", "contactNames": []string{"ops"}}
			for k, v := range extra {
				in[k] = v
			}
			return map[string]any{"in": in}
		}
		a.fail(send, base(map[string]any{"templateId": "777"}), "NOT_FOUND", "input.templateId")
		a.fail(send, base(map[string]any{"links": []map[string]any{{"text": "x", "url": "javascript:alert(1)"}}}), "BAD_USER_INPUT", "input.links[0].url")
		a.fail(send, base(map[string]any{"links": []map[string]any{{"text": " ", "url": "https://x.example"}}}), "BAD_USER_INPUT", "input.links[0].text")
	})
}

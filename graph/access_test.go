package graph_test

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald/graph"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modelstest"
)

// tokens of every kind, created through the API by the bootstrap admin.
type tokens struct {
	admin, viewer, sender, tokenAdmin, revoked string
}

const bootstrapAdmin = "bootstrap-admin-token-for-tests"

func newSecuredAPI(t *testing.T, db modelstest.DB) (*api, tokens) {
	t.Helper()
	a := newAPIWith(t, db, bootstrapAdmin, false, graph.Options{Introspection: true})
	tk := tokens{admin: bootstrapAdmin}
	create := func(name, role string) (string, string) {
		var out struct {
			CreateAPIToken struct {
				Token    string
				APIToken struct{ ID string }
			}
		}
		a.as(bootstrapAdmin).must(`mutation($n: String!, $r: Role!) { createApiToken(name: $n, role: $r) { token apiToken { id } } }`,
			map[string]any{"n": name, "r": role}, &out)
		return out.CreateAPIToken.Token, out.CreateAPIToken.APIToken.ID
	}
	tk.viewer, _ = create("dashboard", "VIEWER")
	tk.sender, _ = create("ci", "SENDER")
	tk.tokenAdmin, _ = create("ops", "ADMIN")
	var revokedID string
	tk.revoked, revokedID = create("old", "ADMIN")
	a.as(bootstrapAdmin).must(`mutation($id: ID!) { revokeApiToken(id: $id) }`, map[string]any{"id": revokedID}, nil)
	return a, tk
}

func TestTokensAreRandomPrefixedAndStoredOnlyAsHashes(t *testing.T) {
	db := modelstest.SQLite(t)
	_, tk := newSecuredAPI(t, db)
	for _, tok := range []string{tk.viewer, tk.sender, tk.tokenAdmin} {
		if !strings.HasPrefix(tok, "hrld_") || len(tok) < 5+43 {
			t.Fatalf("token %q lacks the prefix or 32 bytes of randomness", tok)
		}
	}
	var stored []models.APIToken
	db.Gorm.Find(&stored)
	for _, s := range stored {
		for _, tok := range []string{tk.viewer, tk.sender, tk.tokenAdmin} {
			if s.Hash == tok || strings.Contains(s.Hash, tok[5:]) {
				t.Fatal("a token is stored in the clear")
			}
		}
	}
}

// operation is one query or mutation of the API and the least role it needs.
type operation struct {
	name  string
	query string
	need  models.Role
}

func roleMatrix(contactID, groupID string) []operation {
	return []operation{
		{"contacts", `{ contacts { totalCount } }`, models.RoleViewer},
		{"contact", `{ contact(id: "` + contactID + `") { id } }`, models.RoleViewer},
		{"groups", `{ groups { totalCount } }`, models.RoleViewer},
		{"group", `{ group(id: "` + groupID + `") { id } }`, models.RoleViewer},
		{"memberships", `{ memberships { totalCount } }`, models.RoleViewer},
		{"alerts", `{ alerts { totalCount } }`, models.RoleViewer},
		{"alert", `{ alert(id: "1") { id } }`, models.RoleViewer},
		{"me", `{ me { role } }`, models.RoleViewer},
		{"previewAlert", `{ previewAlert(input: {title: "t", content: "c", groupIds: ["` + groupID + `"]}) { url } }`, models.RoleViewer},
		{"sendAlert", `mutation { sendAlert(input: {title: "t", content: "c", groupIds: ["` + groupID + `"]}) { id } }`, models.RoleSender},
		{"testContact", `mutation { testContact(id: "` + contactID + `") { id } }`, models.RoleSender},
		{"apiTokens", `{ apiTokens { name } }`, models.RoleAdmin},
		{"auditLog", `{ auditLog { totalCount } }`, models.RoleAdmin},
		{"createContact", `mutation { createContact(input: {name: "new-contact", webhooks: [{url: "https://oapi.dingtalk.com/robot/send?access_token=m1"}]}) { id } }`, models.RoleAdmin},
		{"updateContact", `mutation { updateContact(id: "` + contactID + `", input: {phone: "123456"}) { id } }`, models.RoleAdmin},
		{"createContactGroup", `mutation { createContactGroup(input: {name: "new-group"}) { id } }`, models.RoleAdmin},
		{"updateContactGroup", `mutation { updateContactGroup(id: "` + groupID + `", input: {description: "d"}) { id } }`, models.RoleAdmin},
		{"addContactsToGroup", `mutation { addContactsToGroup(groupId: "` + groupID + `", contactIds: ["` + contactID + `"]) { id } }`, models.RoleAdmin},
		{"removeContactsFromGroup", `mutation { removeContactsFromGroup(groupId: "` + groupID + `", contactIds: []) { id } }`, models.RoleAdmin},
		{"batchDeleteContacts", `mutation { batchDeleteContacts(ids: ["999999"]) { notFoundIds } }`, models.RoleAdmin},
		{"createApiToken", `mutation { createApiToken(name: "x", role: VIEWER) { token } }`, models.RoleAdmin},
		{"revokeApiToken", `mutation { revokeApiToken(id: "999999") }`, models.RoleAdmin},
		{"deleteContactGroup", `mutation { deleteContactGroup(id: "999999") }`, models.RoleAdmin},
		{"deleteContact", `mutation { deleteContact(id: "999999") }`, models.RoleAdmin},
		{"namespaces", `{ namespaces { name } }`, models.RoleViewer},
		{"namespace", `{ namespace { name } }`, models.RoleViewer},
		{"createNamespace", `mutation { createNamespace(input: {name: "matrix-team"}) { id } }`, models.RoleAdmin},
		{"updateNamespace", `mutation { updateNamespace(id: "999999", input: {description: "d"}) { id } }`, models.RoleAdmin},
		{"deleteNamespace", `mutation { deleteNamespace(id: "999999") }`, models.RoleAdmin},
		{"integrations", `{ integrations { totalCount } }`, models.RoleViewer},
		{"integration", `{ integration(id: "1") { id } }`, models.RoleViewer},
		{"createIntegration", `mutation { createIntegration(input: {name: "matrix-am", kind: ALERTMANAGER, groupIds: ["` + groupID + `"]}) { token } }`, models.RoleAdmin},
		{"updateIntegration", `mutation { updateIntegration(id: "999999", input: {sendResolved: false}) { id } }`, models.RoleAdmin},
		{"deleteIntegration", `mutation { deleteIntegration(id: "999999") }`, models.RoleAdmin},
		{"rotateIntegrationToken", `mutation { rotateIntegrationToken(id: "999999") { token } }`, models.RoleAdmin},
		{"messageTemplates", `{ messageTemplates { totalCount } }`, models.RoleViewer},
		{"messageTemplate", `{ messageTemplate(id: "builtin:generic") { id } }`, models.RoleViewer},
		{"builtinMessageTemplates", `{ builtinMessageTemplates { id } }`, models.RoleViewer},
		{"previewTemplate", `{ previewTemplate(input: {kind: GENERIC}) { body } }`, models.RoleViewer},
		{"createMessageTemplate", `mutation { createMessageTemplate(input: {name: "matrix-t", title: "{{ .Title }}", body: "{{ .Content }}"}) { id } }`, models.RoleAdmin},
		{"updateMessageTemplate", `mutation { updateMessageTemplate(id: "999999", input: {name: "x", title: "t", body: "b"}) { id } }`, models.RoleAdmin},
		{"deleteMessageTemplate", `mutation { deleteMessageTemplate(id: "999999") }`, models.RoleAdmin},
		{"checkWebhooks", `{ checkWebhooks(webhooks: [{url: "https://oapi.dingtalk.com/robot/send?access_token=m1"}]) { platform } }`, models.RoleAdmin},
	}
}

// everyNamespaceOnly are the operations only a token of every namespace may run: an admin bound
// to one namespace is FORBIDDEN them (createApiToken without a namespace makes a token of all).
var everyNamespaceOnly = map[string]bool{"createNamespace": true, "updateNamespace": true, "deleteNamespace": true, "createApiToken": true}

func TestRoleMatrix(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a, tk := newSecuredAPI(t, db)
		var g struct{ CreateContactGroup struct{ ID string } }
		a.as(tk.admin).must(`mutation { createContactGroup(input: {name: "matrix"}) { id } }`, nil, &g)
		var c struct{ CreateContact struct{ ID string } }
		a.as(tk.admin).must(`mutation($g: [ID!]) { createContact(input: {name: "target", webhooks: [{url: "https://oapi.dingtalk.com/robot/send?access_token=matrix"}], groupIds: $g}) { id } }`,
			map[string]any{"g": []string{g.CreateContactGroup.ID}}, &c)
		callers := []struct {
			name  string
			token string
			role  models.Role // "" means not authenticated
			bound bool        // bound to the namespace the matrix runs in (default)
		}{
			{"no token", "", "", false}, {"garbage", "not-a-token", "", false}, {"revoked", tk.revoked, "", false},
			{"viewer", tk.viewer, models.RoleViewer, false}, {"sender", tk.sender, models.RoleSender, false},
			{"admin token", tk.tokenAdmin, models.RoleAdmin, false},
			{"default's viewer", a.tokenIn("default", "VIEWER"), models.RoleViewer, true},
			{"default's sender", a.tokenIn("default", "SENDER"), models.RoleSender, true},
			{"default's admin", a.tokenIn("default", "ADMIN"), models.RoleAdmin, true},
		}
		for _, op := range roleMatrix(c.CreateContact.ID, g.CreateContactGroup.ID) {
			for _, caller := range callers {
				res := a.as(caller.token).do(op.query, nil)
				code := ""
				if len(res.Errors) > 0 {
					code = res.Errors[0].Extensions.Code
				}
				want := ""
				switch {
				case caller.role == "":
					want = "UNAUTHENTICATED"
				case !caller.role.Allows(op.need), caller.bound && everyNamespaceOnly[op.name]:
					want = "FORBIDDEN"
				}
				// An allowed call may still fail on its own terms (a missing id): it just must not be refused.
				refused := code == "UNAUTHENTICATED" || code == "FORBIDDEN"
				if (want == "" && refused) || (want != "" && code != want) {
					t.Errorf("%s as %s: got %q (%+v), want %q", op.name, caller.name, code, res.Errors, want)
				}
				if want == "FORBIDDEN" && strings.Contains(string(res.Data), "target") {
					t.Errorf("%s as %s: a refused call returned data %s", op.name, caller.name, res.Data)
				}
			}
		}
	})
}

func TestForbiddenDoesNotRevealWhetherTheResourceExists(t *testing.T) {
	db := modelstest.SQLite(t)
	a, tk := newSecuredAPI(t, db)
	var c struct{ CreateContact struct{ ID string } }
	a.as(tk.admin).must(`mutation { createContact(input: {name: "exists", webhooks: [{url: "https://oapi.dingtalk.com/robot/send?access_token=e"}]}) { id } }`, nil, &c)
	existing := a.as(tk.viewer).fail(`mutation($id: ID!) { deleteContact(id: $id) }`, map[string]any{"id": c.CreateContact.ID}, "FORBIDDEN", "")
	missing := a.as(tk.viewer).fail(`mutation { deleteContact(id: "424242") }`, nil, "FORBIDDEN", "")
	if existing.Message != missing.Message {
		t.Fatalf("messages differ: %q vs %q", existing.Message, missing.Message)
	}
}

func TestViewersSeeMaskedURLsAdminsSeeFullOnes(t *testing.T) {
	db := modelstest.SQLite(t)
	a, tk := newSecuredAPI(t, db)
	const secretToken = "0123456789abcdefSECRETPART"
	a.as(tk.admin).must(`mutation($u: String!) { createContact(input: {name: "masked", webhooks: [{url: $u}]}) { id } }`,
		map[string]any{"u": "https://oapi.dingtalk.com/robot/send?access_token=" + secretToken}, nil)
	query := `{ contacts { edges { node { webhooks { url } } } } }`
	for _, tok := range []string{tk.viewer, tk.sender} {
		res := a.as(tok).do(query, nil)
		if strings.Contains(string(res.Data), "SECRETPART") || !strings.Contains(string(res.Data), "0123") {
			t.Fatalf("non-admin sees %s", res.Data)
		}
	}
	if res := a.as(tk.tokenAdmin).do(query, nil); !strings.Contains(string(res.Data), secretToken) {
		t.Fatalf("admin sees %s", res.Data)
	}
}

func TestEverySuccessfulMutationIsAudited(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a, tk := newSecuredAPI(t, db)
		ops := a.as(tk.tokenAdmin)
		var c struct{ CreateContact struct{ ID string } }
		ops.must(`mutation { createContact(input: {name: "audited", webhooks: [{url: "https://oapi.dingtalk.com/robot/send?access_token=a"}]}) { id } }`, nil, &c)
		ops.must(`mutation($id: ID!) { deleteContact(id: $id) }`, map[string]any{"id": c.CreateContact.ID}, nil)
		ops.fail(`mutation { deleteContact(id: "999999") }`, nil, "NOT_FOUND", "id") // failed: not audited
		var out struct {
			AuditLog struct {
				TotalCount int
				Edges      []struct {
					Node struct {
						TokenName, TokenRole, Operation string
						Ids                             []string
					}
				}
			}
		}
		ops.must(`{ auditLog(first: 2) { totalCount edges { node { tokenName tokenRole operation ids } } } }`, nil, &out)
		// createApiToken ×4 and revokeApiToken by the bootstrap admin, then the two above.
		if out.AuditLog.TotalCount != 7 {
			t.Fatalf("audit entries = %d, want 7", out.AuditLog.TotalCount)
		}
		latest, before := out.AuditLog.Edges[0].Node, out.AuditLog.Edges[1].Node
		if latest.Operation != "deleteContact" || latest.TokenName != "ops" || latest.TokenRole != "ADMIN" || joined(latest.Ids) != c.CreateContact.ID {
			t.Fatalf("latest entry = %+v", latest)
		}
		if before.Operation != "createContact" || joined(before.Ids) != c.CreateContact.ID {
			t.Fatalf("entry before = %+v", before)
		}
	})
}

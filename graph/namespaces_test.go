package graph_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/heraldhq/herald/models/modelstest"
)

// createNamespace creates a namespace as the bootstrap admin and returns its id.
func (a *api) createNamespace(name string) string {
	a.t.Helper()
	var out struct{ CreateNamespace struct{ ID string } }
	a.as(bootstrapAdmin).must(`mutation($n: String!) { createNamespace(input: {name: $n, description: "team"}) { id } }`, map[string]any{"n": name}, &out)
	return out.CreateNamespace.ID
}

// tokenIn creates a token of role bound to the namespace ns (or every namespace for "").
func (a *api) tokenIn(ns, role string) string {
	a.t.Helper()
	var out struct{ CreateAPIToken struct{ Token string } }
	vars := map[string]any{"r": role, "ns": nil}
	if ns != "" {
		vars["ns"] = ns
	}
	a.as(bootstrapAdmin).must(`mutation($r: Role!, $ns: String) { createApiToken(name: "t", role: $r, namespace: $ns) { token } }`, vars, &out)
	return out.CreateAPIToken.Token
}

func TestTheSameNamesLiveInTwoNamespaces(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a, _ := newSecuredAPI(t, db)
		a.createNamespace("team-b")
		admin := a.as(bootstrapAdmin)
		for _, ns := range []string{"default", "team-b"} {
			in := admin.in(ns)
			g := in.createGroup("Ops")
			in.createContact("Alice", g.ID)
			in.createContact("Bob")
		}
		for _, ns := range []string{"default", "TEAM-B"} { // header names are case-insensitive
			if got := joined(admin.in(ns).contactNames(10, nil)); got != "Alice,Bob" {
				t.Fatalf("%s: contacts %s", ns, got)
			}
		}
		admin.in("team-b").createContact("Carol")
		if got := joined(admin.contactNames(10, nil)); got != "Alice,Bob" {
			t.Fatalf("default after team-b's Carol: %s", got)
		}
		// Names are still unique within one namespace.
		admin.in("team-b").fail(`mutation { createContact(input: {name: "alice", webhooks: [{url: "`+dingURL()+`"}]}) { id } }`, nil, "CONFLICT", "input.name")
		var ns struct {
			Namespaces []struct {
				Name                     string
				ContactCount, GroupCount int
			}
		}
		admin.must(`{ namespaces { name contactCount groupCount } }`, nil, &ns)
		if fmt.Sprint(ns.Namespaces) != "[{default 2 1} {team-b 3 1}]" {
			t.Fatalf("namespaces = %v", ns.Namespaces)
		}
	})
}

// An id of namespace A asked for in B is NOT_FOUND, for every query and mutation that takes one.
func TestAnIDOfAnotherNamespaceIsNotFound(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a, _ := newSecuredAPI(t, db)
		a.createNamespace("team-b")
		home := a.as(bootstrapAdmin)
		g := home.createGroup("Ops")
		c := home.createContact("Alice", g.ID)
		var sent struct{ SendAlert struct{ ID string } }
		home.must(`mutation($g: ID!) { sendAlert(input: {title: "t", content: "c", groupIds: [$g]}) { id } }`, map[string]any{"g": g.ID}, &sent)
		other := home.in("team-b")
		bg := other.createGroup("Theirs")
		ids := map[string]any{"c": c.ID, "g": g.ID, "a": sent.SendAlert.ID, "bg": bg.ID}
		for _, q := range []struct{ query, field string }{
			{`query($c: ID!) { contact(id: $c) { id } }`, "null"},
			{`query($g: ID!) { group(id: $g) { id } }`, "null"},
			{`query($a: ID!) { alert(id: $a) { id } }`, "null"},
			{`mutation($c: ID!) { updateContact(id: $c, input: {name: "x"}) { id } }`, "id"},
			{`mutation($c: ID!) { deleteContact(id: $c) }`, "id"},
			{`mutation($c: ID!) { testContact(id: $c) { id } }`, "id"},
			{`mutation($g: ID!) { updateContactGroup(id: $g, input: {name: "x"}) { id } }`, "id"},
			{`mutation($g: ID!) { deleteContactGroup(id: $g) }`, "id"},
			{`mutation($g: ID!, $c: ID!) { addContactsToGroup(groupId: $g, contactIds: [$c]) { id } }`, "groupId"},
			{`mutation($g: ID!, $c: ID!) { removeContactsFromGroup(groupId: $g, contactIds: [$c]) { id } }`, "groupId"},
			{`mutation($bg: ID!, $c: ID!) { addContactsToGroup(groupId: $bg, contactIds: [$c]) { id } }`, "contactIds[0]"},
			{`mutation { createContact(input: {name: "n", webhooks: [{url: "` + dingURL() + `"}], groupIds: []}) { id } }`, ""},
			{`mutation($g: ID!) { createContact(input: {name: "m", webhooks: [{url: "` + dingURL() + `"}], groupIds: [$g]}) { id } }`, "input.groupIds[0]"},
			{`mutation($g: ID!) { sendAlert(input: {title: "t", content: "c", groupIds: [$g]}) { id } }`, "input.groupIds[0]"},
			{`mutation($c: ID!) { sendAlert(input: {title: "t", content: "c", contactIds: [$c]}) { id } }`, "input.contactIds[0]"},
			{`query($c: ID!) { previewAlert(input: {title: "t", content: "c", contactIds: [$c]}) { body } }`, "input.contactIds[0]"},
		} {
			vars := map[string]any{}
			for k, v := range ids {
				if strings.Contains(q.query, "$"+k+":") {
					vars[k] = v
				}
			}
			switch q.field {
			case "null":
				res := other.do(q.query, vars)
				if len(res.Errors) > 0 || !strings.HasSuffix(string(res.Data), ":null}") {
					t.Fatalf("%s from team-b: %s %+v", q.query, res.Data, res.Errors)
				}
			case "":
				other.must(q.query, vars, nil) // a contact of team-b's own, for contrast
			default:
				other.fail(q.query, vars, "NOT_FOUND", q.field)
			}
		}
		var batch struct {
			BatchDeleteContacts struct{ DeletedIds, NotFoundIds []string }
		}
		other.must(`mutation($c: ID!) { batchDeleteContacts(ids: [$c]) { deletedIds notFoundIds } }`, map[string]any{"c": c.ID}, &batch)
		if len(batch.BatchDeleteContacts.DeletedIds) != 0 || fmt.Sprint(batch.BatchDeleteContacts.NotFoundIds) != "["+c.ID+"]" {
			t.Fatalf("batch delete from team-b: %+v", batch)
		}
		for _, q := range []string{
			`query($g: ID!) { contacts(filter: {groupId: $g}) { totalCount } }`,
			`query($c: ID!) { groups(filter: {contactId: $c}) { totalCount } }`,
			`query($c: ID!) { memberships(contactId: $c) { totalCount } }`,
		} {
			if res := other.do(q, map[string]any{"g": g.ID, "c": c.ID}); len(res.Errors) > 0 || !strings.Contains(string(res.Data), `"totalCount":0`) {
				t.Fatalf("%s from team-b: %s %+v", q, res.Data, res.Errors)
			}
		}
		// Nothing of A changed.
		if got := home.contact(c.ID); got == nil || got.Name != "Alice" || len(got.Groups) != 1 {
			t.Fatalf("Alice after team-b's attempts: %+v", got)
		}
	})
}

func TestNamespacedTokensStayInTheirNamespace(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a, _ := newSecuredAPI(t, db)
		a.createNamespace("team-a")
		a.createNamespace("team-b")
		adminA := a.tokenIn("team-a", "ADMIN")
		senderA := a.tokenIn("team-a", "SENDER")
		viewer := a.tokenIn("", "VIEWER")
		for _, tok := range []string{adminA, senderA} {
			for _, ns := range []string{"team-b", "default", "no-such-team"} {
				a.as(tok).in(ns).fail(`{ contacts { totalCount } }`, nil, "FORBIDDEN", "Herald-Namespace")
			}
		}
		a.as(viewer).in("no-such-team").fail(`{ me { role } }`, nil, "NOT_FOUND", "Herald-Namespace")
		// Without the header a bound token runs in its own namespace.
		var where struct{ Namespace struct{ Name string } }
		a.as(senderA).must(`{ namespace { name } }`, nil, &where)
		if where.Namespace.Name != "team-a" {
			t.Fatalf("a team-a token without the header runs in %q", where.Namespace.Name)
		}
		a.as(viewer).in("Not_A_Name!").fail(`{ me { role } }`, nil, "BAD_USER_INPUT", "Herald-Namespace")

		var me struct {
			Me struct{ Role, Namespace string }
		}
		a.as(adminA).in("team-a").must(`{ me { role namespace } }`, nil, &me)
		if me.Me.Role != "ADMIN" || me.Me.Namespace != "team-a" {
			t.Fatalf("me = %+v", me.Me)
		}
		var list struct{ Namespaces []struct{ Name string } }
		a.as(senderA).in("team-a").must(`{ namespaces { name } }`, nil, &list)
		if fmt.Sprint(list.Namespaces) != "[{team-a}]" {
			t.Fatalf("a team-a token lists %v", list.Namespaces)
		}
		a.as(viewer).in("team-b").must(`{ namespaces { name } }`, nil, &list)
		if fmt.Sprint(list.Namespaces) != "[{default} {team-a} {team-b}]" {
			t.Fatalf("a global token lists %v", list.Namespaces)
		}
		// The role matrix within a namespace: a team's admin runs its team, and only its team.
		inA := a.as(adminA).in("team-a")
		g := inA.createGroup("Ops")
		inA.createContact("Dora", g.ID)
		a.as(senderA).in("team-a").must(`mutation($g: ID!) { sendAlert(input: {title: "t", content: "c", groupIds: [$g]}) { id } }`, map[string]any{"g": g.ID}, nil)
		a.as(senderA).in("team-a").fail(`mutation { createContactGroup(input: {name: "x"}) { id } }`, nil, "FORBIDDEN", "")
		inA.fail(`mutation { createNamespace(input: {name: "team-c"}) { id } }`, nil, "FORBIDDEN", "")
		inA.fail(`mutation { createApiToken(name: "g", role: VIEWER) { token } }`, nil, "FORBIDDEN", "namespace")
		inA.fail(`mutation { createApiToken(name: "g", role: VIEWER, namespace: "team-b") { token } }`, nil, "FORBIDDEN", "namespace")
		// Whether another namespace exists is not for a team's admin to learn.
		inA.fail(`mutation { createApiToken(name: "g", role: VIEWER, namespace: "no-such-team") { token } }`, nil, "FORBIDDEN", "namespace")
		inA.must(`mutation { createApiToken(name: "mine", role: VIEWER, namespace: "team-a") { token } }`, nil, nil)
		var tokensA struct {
			APITokens []struct{ Name, Namespace string }
		}
		inA.must(`{ apiTokens { name namespace } }`, nil, &tokensA)
		for _, tk := range tokensA.APITokens {
			if tk.Namespace != "team-a" {
				t.Fatalf("team-a's admin lists %+v", tokensA.APITokens)
			}
		}
		if len(tokensA.APITokens) != 3 {
			t.Fatalf("team-a's admin lists %d tokens, want its 3", len(tokensA.APITokens))
		}
		var audit struct {
			AuditLog struct {
				Edges []struct {
					Node struct{ Operation, Namespace string }
				}
			}
		}
		inA.must(`{ auditLog(first: 100) { edges { node { operation namespace } } } }`, nil, &audit)
		issued := 0
		for _, e := range audit.AuditLog.Edges {
			if e.Node.Namespace != "team-a" {
				t.Fatalf("team-a's audit log shows %+v", e.Node)
			}
			if e.Node.Operation == "createApiToken" {
				issued++
			}
		}
		if issued != 3 { // two by the bootstrap admin, one by team-a's own: each in the token's namespace
			t.Fatalf("team-a's audit log shows %d tokens issued, want 3", issued)
		}
		// A revocation is audited where the token held its role too, whoever revokes it from where.
		var minted struct {
			CreateAPIToken struct{ APIToken struct{ ID string } }
		}
		inA.must(`mutation { createApiToken(name: "short-lived", role: VIEWER, namespace: "team-a") { apiToken { id } } }`, nil, &minted)
		a.as(bootstrapAdmin).must(`mutation($id: ID!) { revokeApiToken(id: $id) }`, map[string]any{"id": minted.CreateAPIToken.APIToken.ID}, nil)
		inA.must(`{ auditLog(first: 1) { edges { node { operation namespace } } } }`, nil, &audit)
		if len(audit.AuditLog.Edges) != 1 || audit.AuditLog.Edges[0].Node.Operation != "revokeApiToken" {
			t.Fatalf("team-a's newest audit entry is %+v, want the revocation", audit.AuditLog.Edges)
		}
	})
}

func TestDeletingANonEmptyNamespaceIsAConflict(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a, _ := newSecuredAPI(t, db)
		id := a.createNamespace("team-b")
		admin := a.as(bootstrapAdmin)
		c := admin.in("team-b").createContact("Alice")
		admin.fail(`mutation($id: ID!) { deleteNamespace(id: $id) }`, map[string]any{"id": id}, "CONFLICT", "id")
		if got := admin.in("team-b").contact(c.ID); got == nil {
			t.Fatal("the refused delete lost Alice")
		}
		admin.fail(`mutation { deleteNamespace(id: "1") }`, nil, "CONFLICT", "id")
		admin.fail(`mutation { updateNamespace(id: "1", input: {name: "main"}) { id } }`, nil, "BAD_USER_INPUT", "input.name")
		admin.fail(`mutation { createNamespace(input: {name: "Team-B"}) { id } }`, nil, "CONFLICT", "input.name")
		admin.fail(`mutation { createNamespace(input: {name: "team_b"}) { id } }`, nil, "BAD_USER_INPUT", "input.name")
		admin.in("team-b").must(`mutation($id: ID!) { deleteContact(id: $id) }`, map[string]any{"id": c.ID}, nil)
		var out struct{ DeleteNamespace string }
		admin.must(`mutation($id: ID!) { deleteNamespace(id: $id) }`, map[string]any{"id": id}, &out)
		if out.DeleteNamespace != id {
			t.Fatalf("deleteNamespace = %q", out.DeleteNamespace)
		}
		admin.in("team-b").fail(`{ me { role } }`, nil, "NOT_FOUND", "Herald-Namespace")
	})
}

// In open mode the first token may not be one of a single namespace: it would end open mode and
// leave nobody to manage namespaces.
func TestOpenModeEndsOnlyWithATokenOfEveryNamespace(t *testing.T) {
	a := newAPI(t, modelstest.SQLite(t))
	a.must(`mutation { createNamespace(input: {name: "team-a"}) { id } }`, nil, nil)
	a.fail(`mutation { createApiToken(name: "t", role: ADMIN, namespace: "team-a") { token } }`, nil, "BAD_USER_INPUT", "namespace")
	a.must(`mutation { createApiToken(name: "root", role: ADMIN) { token } }`, nil, nil)
}

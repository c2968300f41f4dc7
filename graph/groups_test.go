package graph_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/heraldhq/herald/models/modelstest"
)

func TestDeletingContactRemovesItFromEveryGroup(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		g1, g2 := a.createGroup("G1"), a.createGroup("G2")
		c := a.createContact("Leaver", g1.ID, g2.ID)
		stay := a.createContact("Stayer", g1.ID)
		a.must(`mutation($id: ID!) { deleteContact(id: $id) }`, map[string]any{"id": c.ID}, nil)
		if got := a.group(g1.ID); got.ContactCount != 1 || got.Contacts[0].ID != stay.ID {
			t.Fatalf("g1 = %+v", got)
		}
		if got := a.group(g2.ID); got.ContactCount != 0 || len(got.Contacts) != 0 {
			t.Fatalf("g2 = %+v", got)
		}
		var m struct{ Memberships struct{ TotalCount int } }
		a.must(`{ memberships { totalCount } }`, nil, &m)
		if m.Memberships.TotalCount != 1 {
			t.Fatalf("memberships left: %d", m.Memberships.TotalCount)
		}
	})
}

func TestDeletingGroupKeepsContacts(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		g, other := a.createGroup("Doomed"), a.createGroup("Other")
		c := a.createContact("Survivor", g.ID, other.ID)
		a.must(`mutation($id: ID!) { deleteContactGroup(id: $id) }`, map[string]any{"id": g.ID}, nil)
		got := a.contact(c.ID)
		if got == nil || len(got.Groups) != 1 || got.Groups[0].ID != other.ID || len(got.Webhooks) != 1 {
			t.Fatalf("contact after group deletion: %+v", got)
		}
		if a.group(g.ID) != nil {
			t.Fatal("group still there")
		}
	})
}

func TestGroupMembershipMutations(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		c1, c2, c3 := a.createContact("C1"), a.createContact("C2"), a.createContact("C3")
		g := a.createGroup("Crew", c1.ID)
		add := `mutation($g: ID!, $c: [ID!]!) { addContactsToGroup(groupId: $g, contactIds: $c) { contactCount contacts { id } } }`
		var out struct{ AddContactsToGroup groupJSON }
		for range 2 { // idempotent
			a.must(add, map[string]any{"g": g.ID, "c": []string{c2.ID, c1.ID, c2.ID}}, &out)
			if out.AddContactsToGroup.ContactCount != 2 {
				t.Fatalf("after add: %+v", out.AddContactsToGroup)
			}
		}
		remove := `mutation($g: ID!, $c: [ID!]!) { removeContactsFromGroup(groupId: $g, contactIds: $c) { contactCount } }`
		var rm struct{ RemoveContactsFromGroup groupJSON }
		for range 2 {
			a.must(remove, map[string]any{"g": g.ID, "c": []string{c1.ID, c3.ID}}, &rm)
			if rm.RemoveContactsFromGroup.ContactCount != 1 {
				t.Fatalf("after remove: %+v", rm.RemoveContactsFromGroup)
			}
		}
		// contactIds on update replaces the set; description is bounded.
		var upd struct{ UpdateContactGroup groupJSON }
		a.must(`mutation($id: ID!, $in: UpdateContactGroupInput!) { updateContactGroup(id: $id, input: $in) { name description contactCount contacts { name } } }`,
			map[string]any{"id": g.ID, "in": map[string]any{"contactIds": []string{c3.ID, c1.ID}, "description": "on call"}}, &upd)
		if upd.UpdateContactGroup.ContactCount != 2 || upd.UpdateContactGroup.Contacts[0].Name != "C1" || upd.UpdateContactGroup.Description != "on call" || upd.UpdateContactGroup.Name != "Crew" {
			t.Fatalf("after replace: %+v", upd.UpdateContactGroup)
		}
		a.fail(`mutation($id: ID!, $d: String) { updateContactGroup(id: $id, input: {description: $d}) { id } }`,
			map[string]any{"id": g.ID, "d": strings.Repeat("d", 513)}, "BAD_USER_INPUT", "input.description")
		// updateContact's groupIds replaces the contact's groups.
		other := a.createGroup("Other")
		var uc struct{ UpdateContact contactJSON }
		a.must(updateContact, map[string]any{"id": c1.ID, "in": map[string]any{"groupIds": []string{other.ID}}}, &uc)
		if len(uc.UpdateContact.Groups) != 1 || uc.UpdateContact.Groups[0].ID != other.ID {
			t.Fatalf("contact groups after replace: %+v", uc.UpdateContact.Groups)
		}
		if got := a.group(g.ID); got.ContactCount != 1 {
			t.Fatalf("group kept a replaced membership: %+v", got)
		}
	})
}

func TestListsAreOrderedByNameThenID(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		for _, n := range []string{"delta", "Bravo", "alpha", "Charlie", "échelle", "Zulu", "陈"} {
			a.createContact(n)
		}
		want := "alpha,Bravo,Charlie,delta,Zulu,échelle,陈"
		for _, size := range []int{1, 2, 3, 100} {
			if got := joined(a.contactNames(size, nil)); got != want {
				t.Fatalf("page size %d: %s, want %s", size, got, want)
			}
		}
		for _, n := range []string{"b", "A", "c"} {
			a.createGroup(n)
		}
		var out struct {
			Groups struct {
				TotalCount int
				Edges      []struct{ Node struct{ Name string } }
			}
		}
		a.must(`{ groups(first: 2) { totalCount edges { node { name } } } }`, nil, &out)
		if out.Groups.TotalCount != 3 || out.Groups.Edges[0].Node.Name != "A" || out.Groups.Edges[1].Node.Name != "b" {
			t.Fatalf("groups = %+v", out.Groups)
		}
	})
}

func TestCursorsStayCorrectWhileRowsChange(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		ids := map[string]string{}
		for _, n := range []string{"a1", "a2", "a3", "a4", "a5", "a6"} {
			ids[n] = a.createContact(n).ID
		}
		page := func(after *string) ([]string, *string) {
			var out struct {
				Contacts struct {
					Edges    []struct{ Node struct{ Name string } }
					PageInfo struct{ EndCursor *string }
				}
			}
			a.must(`query($after: String) { contacts(first: 2, after: $after) { edges { node { name } } pageInfo { endCursor } } }`, map[string]any{"after": after}, &out)
			var names []string
			for _, e := range out.Contacts.Edges {
				names = append(names, e.Node.Name)
			}
			return names, out.Contacts.PageInfo.EndCursor
		}
		first, cur := page(nil)
		if joined(first) != "a1,a2" {
			t.Fatalf("first page %v", first)
		}
		// Delete the last row seen and one ahead; insert one behind and one ahead.
		a.must(`mutation($ids: [ID!]!) { batchDeleteContacts(ids: $ids) { deletedIds } }`, map[string]any{"ids": []string{ids["a2"], ids["a3"]}}, nil)
		a.createContact("a0")
		a.createContact("a45")
		second, cur := page(cur)
		if joined(second) != "a4,a45" {
			t.Fatalf("second page %v", second)
		}
		third, _ := page(cur)
		if joined(third) != "a5,a6" {
			t.Fatalf("third page %v", third)
		}
	})
}

func TestPageArgumentsAreValidated(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		a.createContact("x")
		for _, first := range []int{0, -1, 101, 1 << 30} {
			a.fail(`query($n: Int) { contacts(first: $n) { totalCount } }`, map[string]any{"n": first}, "BAD_USER_INPUT", "first")
		}
		a.fail(`{ groups(first: 1000) { totalCount } }`, nil, "BAD_USER_INPUT", "first")
		a.fail(`{ memberships(first: 101) { totalCount } }`, nil, "BAD_USER_INPUT", "first")
		for _, bad := range []string{"!!!", "eyJrIjo", "bm90IGpzb24", strings.Repeat("QUFB", 1000)} {
			a.fail(`query($c: String) { contacts(after: $c) { totalCount } }`, map[string]any{"c": bad}, "BAD_USER_INPUT", "after")
		}
	})
}

func TestFiltersByGroupAndContact(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		g1, g2 := a.createGroup("Blue"), a.createGroup("Green")
		c1 := a.createContact("Ann", g1.ID)
		a.createContact("Ben", g1.ID, g2.ID)
		a.createContact("Cid")
		if got := joined(a.contactNames(1, map[string]any{"groupId": g1.ID})); got != "Ann,Ben" {
			t.Fatalf("contacts in g1 = %s", got)
		}
		if got := joined(a.contactNames(5, map[string]any{"groupId": g2.ID, "search": "b"})); got != "Ben" {
			t.Fatalf("contacts in g2 matching b = %s", got)
		}
		if got := a.contactNames(5, map[string]any{"groupId": "nope"}); len(got) != 0 {
			t.Fatalf("unknown group filter = %v", got)
		}
		var out struct {
			Groups struct {
				TotalCount int
				Edges      []struct{ Node struct{ Name string } }
			}
		}
		a.must(`query($c: ID) { groups(filter: {contactId: $c}) { totalCount edges { node { name } } } }`, map[string]any{"c": c1.ID}, &out)
		if out.Groups.TotalCount != 1 || out.Groups.Edges[0].Node.Name != "Blue" {
			t.Fatalf("groups of Ann = %+v", out.Groups)
		}
	})
}

func TestMembershipsAreListedAndPaginated(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		g1, g2 := a.createGroup("g-b"), a.createGroup("g-a")
		a.createContact("zed", g1.ID)
		ann := a.createContact("ann", g1.ID, g2.ID)
		var seen []string
		var after *string
		for {
			var out struct {
				Memberships struct {
					TotalCount int
					Edges      []struct {
						Node struct {
							Contact   struct{ Name string }
							Group     struct{ Name string }
							CreatedAt string
						}
					}
					PageInfo struct {
						HasNextPage bool
						EndCursor   *string
					}
				}
			}
			a.must(`query($after: String) { memberships(first: 1, after: $after) { totalCount edges { node { contact { name } group { name } createdAt } } pageInfo { hasNextPage endCursor } } }`, map[string]any{"after": after}, &out)
			if out.Memberships.TotalCount != 3 {
				t.Fatalf("totalCount = %d", out.Memberships.TotalCount)
			}
			for _, e := range out.Memberships.Edges {
				if e.Node.CreatedAt == "" {
					t.Fatal("membership without createdAt")
				}
				seen = append(seen, e.Node.Contact.Name+"/"+e.Node.Group.Name)
			}
			if !out.Memberships.PageInfo.HasNextPage {
				break
			}
			after = out.Memberships.PageInfo.EndCursor
		}
		if got := joined(seen); got != "ann/g-a,ann/g-b,zed/g-b" {
			t.Fatalf("memberships = %s", got)
		}
		var byContact struct {
			Memberships struct{ TotalCount int }
		}
		a.must(`query($c: ID) { memberships(contactId: $c) { totalCount } }`, map[string]any{"c": ann.ID}, &byContact)
		if byContact.Memberships.TotalCount != 2 {
			t.Fatalf("memberships of ann = %d", byContact.Memberships.TotalCount)
		}
	})
}

// nestedPage is the console's heaviest read: a page of contacts with their webhooks and groups,
// and each group's count and first 10 members. Its statements: authentication, the page, webhooks,
// groups, their counts, their first members.
const nestedPage = `query($n: Int) { contacts(first: $n) { edges { cursor node { id name phone
	webhooks { id url platform hasSecret } groups { id name contactCount members(first: 10) { edges { node { id name } } } } } } pageInfo { hasNextPage endCursor } } }`

func TestNestedPageQueryCostsConstantStatements(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		var groups []string
		for i := range 12 {
			groups = append(groups, a.createGroup(fmt.Sprintf("grp%02d", i)).ID)
		}
		for i := range 120 {
			a.createContact(fmt.Sprintf("c%03d", i), groups[i%12], groups[(i+5)%12])
		}
		counts := map[int]int64{}
		for _, n := range []int{10, 100} {
			var out struct {
				Contacts struct {
					Edges []struct{ Node contactJSON }
				}
			}
			a.must(nestedPage, map[string]any{"n": n}, &out)
			if len(out.Contacts.Edges) != n || len(out.Contacts.Edges[0].Node.Groups) != 2 {
				t.Fatalf("page of %d: got %d edges", n, len(out.Contacts.Edges))
			}
			counts[n] = a.lastStatements.Load().Load()
		}
		if counts[10] != counts[100] || counts[10] == 0 || counts[10] > 6 {
			t.Fatalf("SQL statements: page 10 = %d, page 100 = %d; want equal and small", counts[10], counts[100])
		}
		t.Logf("nested page query: %d SQL statements at page sizes 10 and 100", counts[10])
	})
}

func TestInternalErrorsRevealNoDetails(t *testing.T) {
	db := modelstest.SQLite(t)
	a := newAPI(t, db)
	a.createContact("x")
	sqlDB, _ := db.Gorm.DB()
	sqlDB.Close()
	res := a.do(`{ contacts { edges { node { name } } } }`, nil)
	if len(res.Errors) != 1 || res.Errors[0].Extensions.Code != "INTERNAL_SERVER_ERROR" || res.Errors[0].Message != "internal server error" {
		t.Fatalf("errors = %+v", res.Errors)
	}
}

// A membership page reads both sides of each membership in its own statement, and the total of a
// page that holds the whole list is its length: only a list longer than the page is counted.
func TestMembershipPageStatementsAndTotals(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		g1, g2, g3 := a.createGroup("g1"), a.createGroup("g2"), a.createGroup("g3")
		c := a.createContact("carol", g1.ID, g2.ID, g3.ID)
		const q = `query($id: ID!, $n: Int!, $after: String) { memberships(contactId: $id, first: $n, after: $after) {
			totalCount edges { node { contact { id name } group { id name } } } pageInfo { hasNextPage endCursor } } }`
		type page struct {
			Memberships struct {
				TotalCount int
				Edges      []struct {
					Node struct {
						Contact struct{ ID, Name string }
						Group   struct{ ID, Name string }
					}
				}
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
			}
		}
		read := func(n int, after any) (page, int64) {
			var out page
			a.must(q, map[string]any{"id": c.ID, "n": n, "after": after}, &out)
			return out, a.lastStatements.Load().Load()
		}
		whole, wholeStatements := read(10, nil)
		m := whole.Memberships
		if m.TotalCount != 3 || len(m.Edges) != 3 || m.PageInfo.HasNextPage {
			t.Fatalf("whole list: %+v", m)
		}
		if e := m.Edges[2].Node; e.Contact.Name != "carol" || e.Contact.ID != c.ID || e.Group.Name != "g3" || e.Group.ID != g3.ID {
			t.Fatalf("third membership: %+v", e)
		}
		first, firstStatements := read(2, nil)
		if first.Memberships.TotalCount != 3 || len(first.Memberships.Edges) != 2 || !first.Memberships.PageInfo.HasNextPage {
			t.Fatalf("first of two pages: %+v", first.Memberships)
		}
		rest, restStatements := read(2, first.Memberships.PageInfo.EndCursor)
		if rest.Memberships.TotalCount != 3 || len(rest.Memberships.Edges) != 1 || rest.Memberships.Edges[0].Node.Group.Name != "g3" {
			t.Fatalf("second page: %+v", rest.Memberships)
		}
		// The request's token lookup, the page; a count only when the page is not the whole list.
		if wholeStatements != 2 || firstStatements != 3 || restStatements != 3 {
			t.Fatalf("SQL statements: whole list %d, first page %d, last page %d; want 2, 3, 3",
				wholeStatements, firstStatements, restStatements)
		}
	})
}

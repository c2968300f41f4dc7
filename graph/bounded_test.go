package graph_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modelstest"
)

type memberPage struct {
	TotalCount int
	PageInfo   struct {
		HasNextPage bool
		EndCursor   string
	}
	Edges []struct{ Node struct{ Name string } }
}

func (p memberPage) names() []string {
	out := make([]string, len(p.Edges))
	for i, e := range p.Edges {
		out[i] = e.Node.Name
	}
	return out
}

// A group's members page like the contacts list: below a page of contacts each group's first page is
// the first names in name order, the cursor continues it, and search narrows it.
func TestGroupMembersArePagedLikeTheContactsList(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		big, small := a.createGroup("Big"), a.createGroup("Small")
		var names []string
		for i := range 25 {
			name := fmt.Sprintf("%c-member %02d", 'a'+rune(i%3), i)
			if i%2 == 0 {
				name = strings.ToUpper(name[:1]) + name[1:]
			}
			groups := []string{big.ID}
			if i < 3 {
				groups = append(groups, small.ID)
			}
			a.createContact(name, groups...)
			names = append(names, name)
		}
		slices.SortFunc(names, func(x, y string) int { return strings.Compare(strings.ToLower(x), strings.ToLower(y)) })

		var page struct {
			Contacts struct {
				Edges []struct {
					Node struct {
						Groups []struct {
							Name    string
							Members memberPage
						}
					}
				}
			}
		}
		a.must(`{ contacts(first: 100) { edges { node { groups { name members(first: 10) { totalCount pageInfo { hasNextPage endCursor } edges { node { name } } } } } } } }`, nil, &page)
		var first memberPage
		for _, e := range page.Contacts.Edges {
			for _, g := range e.Node.Groups {
				switch g.Name {
				case "Big":
					if !slices.Equal(g.Members.names(), names[:10]) || !g.Members.PageInfo.HasNextPage || g.Members.TotalCount != 25 {
						t.Fatalf("Big's first page = %v (next %v, total %d), want %v", g.Members.names(), g.Members.PageInfo.HasNextPage, g.Members.TotalCount, names[:10])
					}
					first = g.Members
				case "Small":
					if len(g.Members.Edges) != 3 || g.Members.PageInfo.HasNextPage || g.Members.TotalCount != 3 {
						t.Fatalf("Small's page = %+v", g.Members)
					}
				}
			}
		}
		var next struct{ Group struct{ Members memberPage } }
		a.must(`query($id: ID!, $after: String) { group(id: $id) { members(first: 10, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { name } } } } }`,
			map[string]any{"id": big.ID, "after": first.PageInfo.EndCursor}, &next)
		if !slices.Equal(next.Group.Members.names(), names[10:20]) || !next.Group.Members.PageInfo.HasNextPage {
			t.Fatalf("Big's second page = %v, want %v", next.Group.Members.names(), names[10:20])
		}
		var found struct{ Group struct{ Members memberPage } }
		a.must(`query($id: ID!) { group(id: $id) { members(search: "B-MEMBER") { totalCount edges { node { name } } } } }`, map[string]any{"id": big.ID}, &found)
		for _, n := range found.Group.Members.names() {
			if !strings.Contains(strings.ToLower(n), "b-member") {
				t.Fatalf("search found %q", n)
			}
		}
		if len(found.Group.Members.Edges) == 0 || found.Group.Members.TotalCount != len(found.Group.Members.Edges) {
			t.Fatalf("search page = %+v", found.Group.Members)
		}
		a.fail(`query($id: ID!) { group(id: $id) { members(first: 0) { totalCount } } }`, map[string]any{"id": big.ID}, "BAD_USER_INPUT", "first")
		a.fail(`query($id: ID!) { group(id: $id) { members(search: "`+strings.Repeat("x", 65)+`") { totalCount } } }`, map[string]any{"id": big.ID}, "BAD_USER_INPUT", "search")
	})
}

// A contact may be in at most MaxGroupsPerContact groups, whichever side the membership is added
// from, and a refused change leaves the memberships as they were.
func TestAContactIsInAtMost200Groups(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		var groups []string
		for i := range models.MaxGroupsPerContact + 1 {
			groups = append(groups, a.createGroup(fmt.Sprintf("G%03d", i)).ID)
		}
		a.fail(`mutation($in: CreateContactInput!) { createContact(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"name": "Everywhere", "webhooks": []any{map[string]any{"url": dingURL()}}, "groupIds": groups}},
			"BAD_USER_INPUT", "input.groupIds")
		c := a.createContact("Busy", groups[:models.MaxGroupsPerContact]...)
		a.fail(`mutation($g: ID!, $c: [ID!]!) { addContactsToGroup(groupId: $g, contactIds: $c) { id } }`,
			map[string]any{"g": groups[models.MaxGroupsPerContact], "c": []string{a.createContact("Free").ID, c.ID}}, "BAD_USER_INPUT", "contactIds[1]")
		var m struct{ Memberships struct{ TotalCount int } }
		a.must(`query($id: ID!) { memberships(contactId: $id) { totalCount } }`, map[string]any{"id": c.ID}, &m)
		if m.Memberships.TotalCount != models.MaxGroupsPerContact {
			t.Fatalf("memberships = %d after the refused add, want %d", m.Memberships.TotalCount, models.MaxGroupsPerContact)
		}
		var g struct{ Group struct{ ContactCount int } }
		a.must(`query($id: ID!) { group(id: $id) { contactCount } }`, map[string]any{"id": groups[models.MaxGroupsPerContact]}, &g)
		if g.Group.ContactCount != 0 {
			t.Fatalf("the refused add kept %d members", g.Group.ContactCount)
		}
	})
}

// An alert's deliveries are read a page at a time and counted by status without loading them.
func TestAlertDeliveriesPageAndCounts(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		g := a.createGroup("Robots")
		for i := range 7 {
			a.createContact(fmt.Sprintf("R%d", i), g.ID)
		}
		var sent struct{ SendAlert struct{ ID string } }
		a.must(`mutation($g: [ID!]) { sendAlert(input: {title: "t", content: "c SchedulerX", groupIds: $g}) { id } }`, map[string]any{"g": []string{g.ID}}, &sent)
		type deliveries struct {
			Alert struct {
				All            []struct{ ID, Status string }
				Page           []struct{ ID string }
				Rest           []struct{ ID string }
				Sent           []struct{ ID string }
				DeliveryCounts struct{ Total, Pending, Sent, Failed, Held, Dropped int }
			}
		}
		var out deliveries
		a.must(`query($id: ID!) { alert(id: $id) { all: deliveries { id status } page: deliveries(first: 3) { id } sent: deliveries(status: SENT) { id } deliveryCounts { total pending sent failed held dropped } } }`,
			map[string]any{"id": sent.SendAlert.ID}, &out)
		al := out.Alert
		if len(al.All) != 7 || len(al.Page) != 3 || al.Page[2].ID != al.All[2].ID {
			t.Fatalf("all %d, page %+v", len(al.All), al.Page)
		}
		pending := 0
		for _, d := range al.All {
			if d.Status == "PENDING" {
				pending++
			}
		}
		if c := al.DeliveryCounts; c.Total != 7 || c.Pending != pending || c.Pending+c.Sent+c.Failed+c.Held+c.Dropped != 7 || len(al.Sent) != c.Sent {
			t.Fatalf("counts %+v, sent %d, pending %d", c, len(al.Sent), pending)
		}
		a.must(`query($id: ID!, $after: ID) { alert(id: $id) { rest: deliveries(first: 100, after: $after) { id } } }`,
			map[string]any{"id": sent.SendAlert.ID, "after": al.Page[2].ID}, &out)
		if len(out.Alert.Rest) != 4 || out.Alert.Rest[0].ID != al.All[3].ID {
			t.Fatalf("rest = %+v", out.Alert.Rest)
		}
		// A page of alerts reads each alert's first deliveries in one statement.
		var list struct {
			Alerts struct {
				Edges []struct {
					Node struct {
						Deliveries     []struct{ ID string }
						DeliveryCounts struct{ Total int }
					}
				}
			}
		}
		a.must(`{ alerts(first: 10) { edges { node { deliveries(first: 2) { id } deliveryCounts { total } } } } }`, nil, &list)
		if n := list.Alerts.Edges[0].Node; len(n.Deliveries) != 2 || n.DeliveryCounts.Total != 7 {
			t.Fatalf("alerts page = %+v", list.Alerts.Edges)
		}
		a.fail(`query($id: ID!) { alert(id: $id) { deliveries(first: 101) { id } } }`, map[string]any{"id": sent.SendAlert.ID}, "BAD_USER_INPUT", "first")
		a.fail(`query($id: ID!) { alert(id: $id) { deliveries(after: "x") { id } } }`, map[string]any{"id": sent.SendAlert.ID}, "BAD_USER_INPUT", "after")
	})
}

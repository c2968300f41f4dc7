package graph_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modelstest"
)

type pageJSON struct {
	Edges []struct {
		Cursor string
		Node   struct{ ID, Name string }
	}
	PageInfo struct {
		HasNextPage, HasPreviousPage bool
		StartCursor, EndCursor       *string
	}
}

func (p pageJSON) names() []string {
	out := make([]string, len(p.Edges))
	for i, e := range p.Edges {
		out[i] = e.Node.Name
	}
	return out
}

// contactsPage reads one page of contacts with the given paging arguments.
func (a *api) contactsPage(args map[string]any) pageJSON {
	a.t.Helper()
	var out struct{ Contacts pageJSON }
	a.must(`query($first: Int, $after: String, $last: Int, $before: String) {
		contacts(first: $first, after: $after, last: $last, before: $before) {
			edges { cursor node { id name } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`, args, &out)
	return out.Contacts
}

// A Relay client walking back from the end, while rows are inserted and deleted behind, ahead of
// and inside the part already read, sees every row that existed throughout exactly once, in order.
func TestBackwardWalkReturnsEachRowOnceWhileRowsChange(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		const n = 1000
		now := time.Now().UTC()
		contacts := make([]models.Contact, n)
		for i := range contacts {
			name := fmt.Sprintf("c%04d", i*2) // even numbers: odd ones are free for inserts
			contacts[i] = models.Contact{Name: name, NameKey: models.NameKey(name), CreatedAt: now, UpdatedAt: now}
		}
		if err := db.Gorm.CreateInBatches(contacts, 500).Error; err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		deleted, inserted := map[string]bool{}, map[string]bool{}
		var seen []string
		var before *string
		pages := 0
		for {
			p := a.contactsPage(map[string]any{"last": 37, "before": before})
			pages++
			if len(p.Edges) > 0 && (*p.PageInfo.StartCursor != p.Edges[0].Cursor || *p.PageInfo.EndCursor != p.Edges[len(p.Edges)-1].Cursor) {
				t.Fatalf("page %d: start/end cursors are not the first and last edges'", pages)
			}
			if before != nil && !p.PageInfo.HasNextPage {
				t.Fatalf("page %d read before a cursor says nothing follows it", pages)
			}
			names := p.names()
			if !slices.IsSorted(names) {
				t.Fatalf("page %d is not in list order: %v", pages, names)
			}
			seen = append(names, seen...)
			if !p.PageInfo.HasPreviousPage {
				break
			}
			before = p.PageInfo.StartCursor
			// Between pages: insert two rows and delete two, anywhere: in the part already read, in
			// the part still to come, or at the page's edge.
			for range 2 {
				if name := fmt.Sprintf("c%04d", 2*rng.IntN(n)+1); !inserted[name] {
					inserted[name] = true
					a.createContact(name)
				}
			}
			for range 2 {
				victim := contacts[rng.IntN(n)]
				if !deleted[victim.Name] {
					deleted[victim.Name] = true
					a.must(`mutation($id: ID!) { deleteContact(id: $id) }`, map[string]any{"id": models.FormatID(victim.ID)}, nil)
				}
			}
		}
		counts := map[string]int{}
		for _, name := range seen {
			counts[name]++
		}
		for _, c := range contacts {
			if got := counts[c.Name]; got != 1 && !deleted[c.Name] {
				t.Fatalf("%s, never deleted, was returned %d times", c.Name, got)
			}
		}
		for name, k := range counts {
			if k != 1 {
				t.Fatalf("%s returned %d times", name, k)
			}
		}
		if !slices.IsSorted(seen) {
			t.Fatal("the walk is not in list order")
		}
		if pages < n/37 {
			t.Fatalf("%d pages for %d rows of 37", pages, n)
		}
	})
}

// Forward and backward pages are the same pages, and each says what lies on either side.
func TestBackwardPagesMirrorForwardPages(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		for _, name := range []string{"e", "B", "a", "d", "C"} {
			a.createContact(name)
		}
		first := a.contactsPage(map[string]any{"first": 2})
		if joined(first.names()) != "a,B" || first.PageInfo.HasPreviousPage || !first.PageInfo.HasNextPage {
			t.Fatalf("first page %v %+v", first.names(), first.PageInfo)
		}
		second := a.contactsPage(map[string]any{"first": 2, "after": first.PageInfo.EndCursor})
		if joined(second.names()) != "C,d" || !second.PageInfo.HasPreviousPage || !second.PageInfo.HasNextPage {
			t.Fatalf("second page %v %+v", second.names(), second.PageInfo)
		}
		back := a.contactsPage(map[string]any{"last": 2, "before": second.PageInfo.StartCursor})
		if joined(back.names()) != "a,B" || back.PageInfo.HasPreviousPage || !back.PageInfo.HasNextPage {
			t.Fatalf("back from the second page %v %+v", back.names(), back.PageInfo)
		}
		end := a.contactsPage(map[string]any{"last": 2})
		if joined(end.names()) != "d,e" || !end.PageInfo.HasPreviousPage || end.PageInfo.HasNextPage {
			t.Fatalf("the last two %v %+v", end.names(), end.PageInfo)
		}
		// before alone pages back by the default size.
		if all := a.contactsPage(map[string]any{"before": end.PageInfo.EndCursor}); joined(all.names()) != "a,B,C,d" {
			t.Fatalf("before the last row %v", all.names())
		}
		// totalCount still needs no count when one page holds everything, read either way.
		var whole struct {
			Contacts struct{ TotalCount int }
		}
		a.must(`{ contacts(last: 10) { totalCount } }`, nil, &whole)
		if whole.Contacts.TotalCount != 5 || a.lastStatements.Load().Load() != 2 {
			t.Fatalf("totalCount of one backward page = %d in %d statements", whole.Contacts.TotalCount, a.lastStatements.Load().Load())
		}
	})
}

// Every connection pages backward in its own order.
func TestEveryConnectionPagesBackward(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		g1, g2 := a.createGroup("g1"), a.createGroup("g2")
		for _, name := range []string{"x", "y", "z"} {
			a.createContact(name, g1.ID, g2.ID)
		}
		for i := range 3 {
			a.must(`mutation($i: SendAlertInput!) { sendAlert(input: $i) { id } }`,
				map[string]any{"i": map[string]any{"title": fmt.Sprint("alert ", i), "content": "c", "groupIds": []string{g1.ID}}}, nil)
		}
		// Each case selects edges { node { label } } where label names the node, and pageInfo.
		cases := []struct{ field, args, node, want string }{
			{"groups", "last: 1", "name", "g2"},
			{"memberships", "last: 2", "contact { name } group { name }", "z/g1,z/g2"},
			{"alerts", "last: 1", "title", "alert 0"},
			{"auditLog", "last: 1", "operation", "createContactGroup"},
		}
		for _, c := range cases {
			var out map[string]struct {
				Edges []struct {
					Node struct {
						Name, Title, Operation string
						Contact, Group         struct{ Name string }
					}
				}
				PageInfo struct{ HasPreviousPage, HasNextPage bool }
			}
			q := fmt.Sprintf("{ %s(%s) { edges { node { %s } } pageInfo { hasPreviousPage hasNextPage } } }", c.field, c.args, c.node)
			a.must(q, nil, &out)
			conn := out[c.field]
			var got []string
			for _, e := range conn.Edges {
				n := e.Node
				label := n.Name + n.Title + n.Operation
				if n.Contact.Name != "" {
					label = n.Contact.Name + "/" + n.Group.Name
				}
				got = append(got, label)
			}
			if joined(got) != c.want || !conn.PageInfo.HasPreviousPage || conn.PageInfo.HasNextPage {
				t.Fatalf("%s = %v %+v, want %s with pages before and none after", q, got, conn.PageInfo, c.want)
			}
		}
	})
}

func TestMixedPagingDirectionsAreRefused(t *testing.T) {
	a := newAPI(t, modelstest.SQLite(t))
	a.createContact("x")
	cursor := *a.contactsPage(map[string]any{"first": 1}).PageInfo.EndCursor
	a.fail(`query($c: String) { contacts(first: 5, last: 5, before: $c) { totalCount } }`, map[string]any{"c": cursor}, "BAD_USER_INPUT", "last")
	a.fail(`query($c: String) { contacts(after: $c, before: $c) { totalCount } }`, map[string]any{"c": cursor}, "BAD_USER_INPUT", "before")
	for _, last := range []int{0, -1, 101} {
		a.fail(`query($n: Int) { groups(last: $n) { totalCount } }`, map[string]any{"n": last}, "BAD_USER_INPUT", "last")
	}
	a.fail(`{ contacts(before: "!!!") { totalCount } }`, nil, "BAD_USER_INPUT", "before")
	// first given as null, or as its default, beside last: last decides.
	if p := a.contactsPage(map[string]any{"first": nil, "last": 1}); joined(p.names()) != "x" {
		t.Fatalf("first: null, last: 1 = %v", p.names())
	}
}

package graph_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald/graph"
	"github.com/heraldhq/herald/models/modelstest"
)

func TestAbusiveRequestsAreRefusedAndTheServerKeepsServing(t *testing.T) {
	db := modelstest.SQLite(t)
	a := newAPI(t, db)
	a.createContact("still-here")
	deep := `{ contacts { edges { node { groups { contacts { groups { contacts { groups { id } } } } } } } } }`
	a.fail(deep, nil, "BAD_USER_INPUT", "")
	var aliases strings.Builder
	aliases.WriteString("{")
	for i := range 40 {
		fmt.Fprintf(&aliases, " a%d: me { role }", i)
	}
	aliases.WriteString(" }")
	a.fail(aliases.String(), nil, "BAD_USER_INPUT", "")
	var flood strings.Builder
	flood.WriteString("{")
	for i := range 25 {
		fmt.Fprintf(&flood, " c%d: contacts(first: 100) { edges { node { webhooks { url } groups { contacts { name } } } } }", i)
	}
	flood.WriteString(" }")
	a.fail(flood.String(), nil, "COMPLEXITY_LIMIT_EXCEEDED", "")
	a.fail(`{ contacts(first: 100000) { totalCount } }`, nil, "BAD_USER_INPUT", "first")
	ids := make([]string, 1001)
	for i := range ids {
		ids[i] = fmt.Sprint(i + 1)
	}
	a.fail(`mutation($ids: [ID!]!) { batchDeleteContacts(ids: $ids) { deletedIds } }`, map[string]any{"ids": ids}, "BAD_USER_INPUT", "ids")
	// A body over 1 MiB is refused before it is parsed.
	big := `{"query":"{ me { role } }","variables":{"pad":"` + strings.Repeat("x", 1<<20) + `"}}`
	resp, err := http.Post(a.url, "application/json", bytes.NewReader([]byte(big)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversize body: HTTP %d", resp.StatusCode)
	}
	// The parser's token limit stops directive overloading.
	a.fail(`{ me { role `+strings.Repeat("@a ", 20_000)+` } }`, nil, "GRAPHQL_PARSE_FAILED", "")
	if names := a.contactNames(10, nil); joined(names) != "still-here" {
		t.Fatalf("after the abuse: %v", names)
	}
}

func TestEveryDocumentedQueryFitsTheLimits(t *testing.T) {
	db := modelstest.SQLite(t)
	a := newAPI(t, db)
	a.createContact("x")
	for _, q := range []string{
		nestedPage,
		`{ alerts(first: 100) { totalCount edges { node { id status deliveries { platform url status lastError attempts { at durationMs httpStatus platformCode error } contacts { name } contactNames } } } } }`,
		`{ groups(first: 100) { edges { node { name description contactCount contacts { id name phone webhooks { url platform } } } } } }`,
		`{ memberships(first: 100) { edges { node { contact { name } group { name } createdAt } } } }`,
	} {
		res := a.do(q, map[string]any{"n": 100})
		if len(res.Errors) > 0 {
			t.Errorf("refused: %s: %+v", q, res.Errors)
		}
	}
}

// Complexity counts a nested list once whatever its length, so a short query over a big group could
// ask for hundreds of thousands of objects through the deprecated ContactGroup.contacts; it is charged
// by the groups' real sizes, and the operation is refused with one error pointing at members.
func TestReadingBigGroupsWholeIsRefusedForItsRealCost(t *testing.T) {
	db := modelstest.SQLite(t)
	modelstest.Seed(t, db.Gorm, 1500, 1) // one group holding every contact
	a := newAPI(t, db)
	// 100 contacts × (1 group + 1,500 members × (1 + 1 group each)) ≈ 300,000 items.
	res := a.do(`{ contacts(first: 100) { edges { node { groups { contacts { groups { id } } } } } } }`, nil)
	if len(res.Errors) != 1 || res.Errors[0].Extensions.Code != "BAD_USER_INPUT" ||
		!strings.Contains(res.Errors[0].Message, fmt.Sprint(graph.MaxComplexity)) || !strings.Contains(res.Errors[0].Message, "ContactGroup.members") {
		t.Fatalf("got %d errors, the first %+v; want one BAD_USER_INPUT naming the limit and members", len(res.Errors), res.Errors[0])
	}
	if string(res.Data) != "" && string(res.Data) != "null" {
		t.Fatalf("data = %.200s, want none", res.Data)
	}
	// The same group's 1,500 members on their own are well inside the limit.
	var out struct {
		Contacts struct {
			Edges []struct {
				Node struct {
					Groups []struct{ Contacts []struct{ ID string } }
				}
			}
		}
	}
	a.must(`{ contacts(first: 1) { edges { node { groups { contacts { id } } } } } }`, nil, &out)
	if n := len(out.Contacts.Edges[0].Node.Groups[0].Contacts); n != 1500 {
		t.Fatalf("members = %d, want 1500", n)
	}
}

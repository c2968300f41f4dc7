package graph_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/heraldhq/herald/graph"
	"github.com/heraldhq/herald/models/modelstest"
)

// The reads the console and the benchmark send, whose data the root resolvers prefetch.
const (
	leanNestedPage = `query { contacts(first: 100) { totalCount edges { cursor node { id name phone webhooks { id url platform hasSecret }
		groups { id name contactCount quietHours { start } members(first: 10) { edges { node { id name } } } } } } pageInfo { hasNextPage endCursor } } }`
	leanGroup       = `query($id: ID!) { group(id: $id) { id name contactCount members(first: 50) { totalCount edges { cursor node { id name phone } } pageInfo { hasNextPage endCursor } } } }`
	leanMemberships = `query($id: ID!) { memberships(contactId: $id, first: 100) { totalCount edges { node { createdAt contact { id name } group { id name } } } } }`
	leanAlerts      = `query { alerts(first: 50) { totalCount edges { node { id title status labels { name value } deliveryCounts { total pending sent }
		deliveries(first: 20) { id status url platform contactNames attempts { at httpStatus } contacts { name } } } } } }`
	leanAlert = `query($id: ID!) { alert(id: $id) { id status deliveryCounts { total pending } deliveries(first: 50) { id status url heldBy } } }`
)

// A read whose data is prefetched starts no goroutine for its lists and fields, and answers byte
// for byte what gqlgen's concurrent executor answers; one selecting a field the prefetch does not load
// keeps the concurrent executor.
func TestLoadedReadsRunInline(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		groups := []groupJSON{a.createGroup("Ops"), a.createGroup("Dev"), a.createGroup("Empty")}
		var first contactJSON
		for i := range 12 {
			c := a.createContact(fmt.Sprintf("Member %02d", i), groups[0].ID, groups[i%2].ID)
			if i == 0 {
				first = c
			}
		}
		var sent struct{ SendAlert struct{ ID string } }
		a.must(`mutation($g: [ID!]) { sendAlert(input: {title: "t", content: "c SchedulerX", groupIds: $g, labels: [{name: "team", value: "ops"}]}) { id } }`,
			map[string]any{"g": []string{groups[0].ID}}, &sent)
		a.must(`mutation($g: [ID!]) { sendAlert(input: {title: "u", content: "d SchedulerX", groupIds: $g}) { id } }`,
			map[string]any{"g": []string{groups[1].ID}}, nil)
		defer graph.SetLean(true)

		answer := func(lean bool, query string, vars map[string]any) ([]byte, int64) {
			t.Helper()
			graph.SetLean(lean)
			before := graph.Handoffs()
			res := a.do(query, vars)
			if len(res.Errors) > 0 {
				t.Fatalf("errors: %+v\nquery: %s", res.Errors, query)
			}
			return res.Data, graph.Handoffs() - before
		}
		for _, read := range []struct {
			name, query string
			vars        map[string]any
		}{
			{"nested page", leanNestedPage, nil},
			{"group", leanGroup, map[string]any{"id": groups[0].ID}},
			{"memberships", leanMemberships, map[string]any{"id": first.ID}},
			{"alerts page", leanAlerts, nil},
			{"alert", leanAlert, map[string]any{"id": sent.SendAlert.ID}},
		} {
			lean, handedOff := answer(true, read.query, read.vars)
			if handedOff != 0 {
				t.Errorf("%s: %d lists or fields went to the concurrent executor", read.name, handedOff)
			}
			concurrent, handedOff := answer(false, read.query, read.vars)
			if handedOff == 0 {
				t.Errorf("%s: the concurrent executor was not used with the lean one off", read.name)
			}
			if !bytes.Equal(lean, concurrent) {
				t.Errorf("%s: the lean answer differs\nlean:       %s\nconcurrent: %s", read.name, lean, concurrent)
			}
		}

		// Fields the prefetch does not load, one per group of a page: they must wait together.
		for _, query := range []string{
			`query { contacts(first: 20) { edges { node { groups { quietUntil } } } } }`,
			`query { groups(first: 20) { edges { node { members(first: 5, search: "member") { totalCount } } } } }`,
			`query { alerts(first: 20) { edges { node { deliveries(first: 5) { id } source { id } } } } }`,
		} {
			if _, handedOff := answer(true, query, nil); handedOff == 0 {
				t.Errorf("ran inline although a field below a list loads: %s", query)
			}
		}
	})
}

// No response carries a deferred payload, so @defer and @stream are refused rather than answered
// with the deferred fields null.
func TestDeferAndStreamAreRefused(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		a.createContact("Someone")
		for _, query := range []string{
			`query { contacts(first: 5) { edges { node { name ... @defer { webhooks { url } } } } } }`,
			`query { contacts(first: 5) { edges { node { ...Hooks @defer(label: "hooks") } } } } fragment Hooks on Contact { webhooks { url } }`,
			`query { contacts(first: 5) { edges { node { name ... on Contact { ... @defer { id } } } } } }`,
		} {
			e := a.fail(query, nil, "BAD_USER_INPUT", "")
			if e.Message != "@defer is not supported: Herald answers every operation in one response" {
				t.Errorf("%s: %q", query, e.Message)
			}
		}
	})
}

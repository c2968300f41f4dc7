package main

import (
	"fmt"
	"slices"
	"strings"
)

// The operations, as a console or an integration would send them.
const (
	// qNestedPage is the console's heaviest read (graph/groups_test.go's nestedPage), with a cursor:
	// each group of the page's contacts with its member count and its first ten members.
	qNestedPage = `query NestedPage($n: Int!, $after: String) { contacts(first: $n, after: $after) { totalCount edges { cursor node { id name phone
	webhooks { id url platform hasSecret } groups { id name contactCount members(first: 10) { edges { node { id name } } } } } }
	pageInfo { hasNextPage endCursor } } }`
	// qGroupMembers is the console's read of one group: its first page of members.
	qGroupMembers = `query GroupMembers($id: ID!, $n: Int!) { group(id: $id) { id name description contactCount members(first: $n) { totalCount
	edges { cursor node { id name phone } } pageInfo { hasNextPage endCursor } } } }`
	qMemberships = `query ContactMemberships($id: ID!) { memberships(contactId: $id, first: 100) { totalCount edges { cursor node { createdAt
	contact { id name } group { id name } } } pageInfo { hasNextPage endCursor } } }`
	qSearch = `query SearchContacts($q: String!) { contacts(filter: {search: $q}, first: 20) { totalCount edges { cursor node { id name phone
	webhooks { id url platform } } } pageInfo { hasNextPage endCursor } } }`
	qCreateContact = `mutation CreateContact($input: CreateContactInput!) { createContact(input: $input) { id name webhooks { id } groups { id } } }`
	qUpdateGroup   = `mutation UpdateGroupMembers($id: ID!, $ids: [ID!]!) { updateContactGroup(id: $id, input: {contactIds: $ids}) { id contactCount } }`
	qBatchDelete   = `mutation BatchDelete($ids: [ID!]!) { batchDeleteContacts(ids: $ids) { deletedIds notFoundIds } }`
	qSendAlert     = `mutation SendAlert($group: ID!, $title: String!) { sendAlert(input: {title: $title, content: "**disk** almost full on db-1 (herald-bench)",
	severity: WARNING, format: MARKDOWN, groupIds: [$group]}) { id status } }`
	qAlertStatus = `query AlertStatus($id: ID!) { alert(id: $id) { status } }`
	// qSendOne is what a scheduler or a CI job sends: one alert to one contact, whose one robot
	// gets it.
	qSendOne = `mutation SendOne($contact: ID!, $title: String!) { sendAlert(input: {title: $title, content: "job **nightly** failed (herald-bench)",
	severity: WARNING, format: MARKDOWN, contactIds: [$contact]}) { id status } }`
	// qAlertsPage is the history's first page: each alert with its delivery counts and labels.
	qAlertsPage = `query AlertsPage($n: Int!) { alerts(first: $n) { edges { node { id title status severity createdAt
	deliveryCounts { total pending sent failed held dropped } labels { name value } } } pageInfo { hasNextPage endCursor } } }`
	// qAlertDeliveries opens one large alert in the history: its counts and its first deliveries,
	// with the scalar fields the console's history shows (console/static/documents.js, ALERTS).
	qAlertDeliveries = `query AlertDeliveries($id: ID!, $n: Int!) { alert(id: $id) { id status deliveryCounts { total pending sent failed held dropped }
	deliveries(first: $n) { id platform url status lastError nextAttemptAt contactNames heldBy } } }`
)

// opSpec is one measured operation.
type opSpec struct {
	Name        string
	Description string
	Read        bool // reads are measured against the floor as well
	// Serial operations run at concurrency 1 for a fixed number of iterations: each changes a large
	// part of the data (1,000 rows), so parallel copies would measure lock queues, not the operation.
	Serial bool
}

var allOps = []opSpec{
	{Name: "page", Read: true, Description: "nested page: 100 contacts with webhooks and groups, each group with contactCount and its first 10 members, and totalCount"},
	{Name: "deepPage", Read: true, Description: "the nested page after a cursor 90% down the list"},
	{Name: "search", Read: true, Description: "name search (substring of a last name, ~2% of names): first 20 with webhooks, and totalCount"},
	{Name: "groupMembers", Read: true, Description: "the console's read of one group (~300 members): contactCount and the first 50 members with cursors, totalCount and pageInfo"},
	{Name: "memberships", Read: true, Description: "one contact's memberships (1-5) with contact and group, and totalCount"},
	{Name: "alertsPage", Read: true, Description: "the alert history's first page: 50 alerts (~10 deliveries each) with deliveryCounts and labels"},
	{Name: "alertDeliveries", Read: true, Description: "one alert of 1,000 deliveries: status, deliveryCounts and its first 50 deliveries"},
	{Name: "createContact", Description: "createContact with 3 webhooks in 3 groups"},
	{Name: "updateContactGroup", Serial: true, Description: "updateContactGroup replacing the members with 1,000 contacts"},
	{Name: "batchDelete", Serial: true, Description: "batchDeleteContacts of 1,000 ids (each with 1-3 webhooks and 1-5 memberships; recreated between iterations, untimed)"},
	{Name: "sendAlert", Serial: true, Description: "sendAlert to a group of 1,000 contacts (mutation latency; delivery to the fake platforms timed separately)"},
	// Last: the backlog it leaves for its robots' budgets would slow sendAlert's deliveries.
	{Name: "inbound", Description: "Alertmanager notifications (5 alerts each, a new group each) posted to one integration's hook, whose group has 5 robots; with the dispatcher's claim latency by quarter"},
	// After inbound: the backlog its robot's budget leaves would slow the claims inbound measures.
	{Name: "sendOne", Description: "sendAlert of one alert to one contact with one robot (what a scheduler or a CI job sends), accepted per second; the deliveries follow through the robot's budget"},
}

// opNames lists every operation name, for flags and errors.
func opNames() []string {
	out := make([]string, len(allOps))
	for i, o := range allOps {
		out[i] = o.Name
	}
	return out
}

// selectOps picks operations by name ("" is all), keeping the canonical order: reads before writes,
// so that no read is measured on data a write has changed.
func selectOps(list string) ([]opSpec, error) {
	if strings.TrimSpace(list) == "" {
		return allOps, nil
	}
	want := map[string]bool{}
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		if !slices.Contains(opNames(), n) {
			return nil, fmt.Errorf("unknown operation %q; known: %s", n, strings.Join(opNames(), ", "))
		}
		want[n] = true
	}
	var out []opSpec
	for _, o := range allOps {
		if want[o.Name] {
			out = append(out, o)
		}
	}
	return out, nil
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/heraldhq/herald/models/modelstest"
	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/senders/fakeplatform"
)

// These tests hold the live API and what acting on failures needs: subscriptions over a real
// WebSocket (graphql-transport-ws) reporting changes another replica made, the token checked at
// connection_init, at subscribe and while events flow, origins and the per-token bound; a failed
// delivery retried and then SENT; and deliveryStats agreeing with the alert list.

const liveAdmin = "live-admin-token"

// wsClient speaks graphql-transport-ws.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
	// held are messages read while waiting for another subscription's.
	held []wsMessage
}

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// dialLive opens a socket to base and sends connection_init with payload; it returns the client and
// the first answer (connection_ack, or the refusal).
func dialLive(t *testing.T, base string, header http.Header, payload map[string]any) (*wsClient, wsMessage, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/query", &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: header,
	})
	if err != nil {
		if resp != nil {
			return nil, wsMessage{}, fmt.Errorf("HTTP %d: %w", resp.StatusCode, err)
		}
		return nil, wsMessage{}, err
	}
	c := &wsClient{t: t, conn: conn}
	t.Cleanup(func() { _ = conn.CloseNow() })
	p, _ := json.Marshal(payload)
	if err := wsjson.Write(ctx, conn, wsMessage{Type: "connection_init", Payload: p}); err != nil {
		return nil, wsMessage{}, err
	}
	first, err := c.next(10 * time.Second)
	return c, first, err
}

func (c *wsClient) subscribe(id, query string, vars map[string]any) {
	c.t.Helper()
	p, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err := wsjson.Write(context.Background(), c.conn, wsMessage{ID: id, Type: "subscribe", Payload: p}); err != nil {
		c.t.Fatal(err)
	}
}

// next returns the next message that is not a ping or pong.
func (c *wsClient) next(timeout time.Duration) (wsMessage, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		var m wsMessage
		if err := wsjson.Read(ctx, c.conn, &m); err != nil {
			return m, err
		}
		if m.Type == "ping" {
			_ = wsjson.Write(ctx, c.conn, wsMessage{Type: "pong"})
			continue
		}
		if m.Type != "pong" && m.Type != "ka" {
			return m, nil
		}
	}
}

// waitNext waits for the subscription id's next event (or error) that satisfies ok.
func (c *wsClient) waitNext(id string, timeout time.Duration, ok func(data json.RawMessage) bool) wsMessage {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var m wsMessage
		if i := slices.IndexFunc(c.held, func(h wsMessage) bool { return h.ID == id }); i >= 0 {
			m = c.held[i]
			c.held = slices.Delete(c.held, i, i+1)
		} else {
			var err error
			if m, err = c.next(time.Until(deadline)); err != nil {
				c.t.Fatalf("waiting on subscription %s: %v", id, err)
			}
		}
		if m.ID != id {
			c.held = append(c.held, m)
			continue
		}
		if m.Type == "error" {
			return m
		}
		var p struct {
			Data   json.RawMessage
			Errors []json.RawMessage
		}
		_ = json.Unmarshal(m.Payload, &p)
		if m.Type == "next" && (len(p.Errors) > 0 || ok(p.Data)) {
			return m
		}
	}
}

// gqlToken posts an operation with a token and decodes its data; it fails on any error.
func gqlToken(t *testing.T, base, token, query string, vars map[string]any, out any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, base+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res struct {
		Data   json.RawMessage
		Errors []json.RawMessage
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || len(res.Errors) > 0 {
		t.Fatalf("%s: %s (%v)", query, res.Errors, err)
	}
	if out != nil {
		if err := json.Unmarshal(res.Data, out); err != nil {
			t.Fatal(err)
		}
	}
}

const (
	watchAlerts     = `subscription { alertChanged { id status deliveryCounts { total sent failed pending } } }`
	watchDeliveries = `subscription($a: ID!) { deliveryChanged(alertId: $a) { id alertId status attempts { httpStatus platformCode } retriedAt } }`
)

func TestLiveChangesAcrossReplicasAndARetriedDelivery(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		fake := startFake(t, 0)
		env := deliveryEnv(db, "HERALD_ADMIN_TOKEN="+liveAdmin, "HERALD_LIVE_POLL=100ms", "HERALD_SUBSCRIPTIONS_PER_TOKEN=3",
			"HERALD_CORS_ORIGINS=https://console.example.com")
		a := launch(t, env...).base
		b := a
		if db.Name != "sqlite" {
			b = launch(t, env...).base // a replica of its own on the shared database
		}

		// A robot whose keyword security wants a word Herald's messages lack refuses them for good.
		robot := fakeplatform.Robot{Platform: senders.DingTalk, Token: "live-robot", Keywords: []string{"Maintenance"}}
		url := fake.AddRobot(robot)
		var contact struct{ CreateContact struct{ ID string } }
		gqlToken(t, a, liveAdmin, `mutation($u: String!) { createContact(input: {name: "oncall", webhooks: [{url: $u}]}) { id } }`,
			map[string]any{"u": url}, &contact)

		ws, ack, err := dialLive(t, b, nil, map[string]any{"Authorization": "Bearer " + liveAdmin})
		if err != nil || ack.Type != "connection_ack" {
			t.Fatalf("connection_init: %+v, %v", ack, err)
		}
		ws.subscribe("alerts", watchAlerts, nil)
		time.Sleep(300 * time.Millisecond) // the feed's first poll records the state before the send

		var sent struct{ SendAlert struct{ ID string } }
		gqlToken(t, a, liveAdmin, `mutation($c: [ID!]) { sendAlert(input: {title: "disk full", content: "on db-1", contactIds: $c, severity: CRITICAL, labels: [{name: "team", value: "db"}]}) { id } }`,
			map[string]any{"c": []string{contact.CreateContact.ID}}, &sent)
		alertID := sent.SendAlert.ID
		failed := ws.waitNext("alerts", 20*time.Second, func(d json.RawMessage) bool {
			return bytes.Contains(d, []byte(`"id":"`+alertID+`"`)) && bytes.Contains(d, []byte(`"status":"FAILED"`))
		})
		if failed.Type != "next" {
			t.Fatalf("alertChanged: %s", failed.Payload)
		}

		// Fixed robot: the retry is a new attempt of the same delivery, and the change reaches the
		// other replica's subscriber.
		var alert struct {
			Alert struct {
				Deliveries []struct{ ID, Status string }
			}
		}
		gqlToken(t, a, liveAdmin, `query($id: ID!) { alert(id: $id) { deliveries { id status } } }`, map[string]any{"id": alertID}, &alert)
		if len(alert.Alert.Deliveries) != 1 || alert.Alert.Deliveries[0].Status != "FAILED" {
			t.Fatalf("deliveries before the retry: %+v", alert.Alert.Deliveries)
		}
		deliveryID := alert.Alert.Deliveries[0].ID
		ws.subscribe("deliveries", watchDeliveries, map[string]any{"a": alertID})
		time.Sleep(300 * time.Millisecond)
		robot.Keywords = []string{"SchedulerX"}
		fake.AddRobot(robot)
		var retried struct{ RetryDelivery struct{ Status string } }
		gqlToken(t, a, liveAdmin, `mutation($id: ID!) { retryDelivery(id: $id) { status } }`, map[string]any{"id": deliveryID}, &retried)
		if retried.RetryDelivery.Status != "PENDING" {
			t.Fatalf("retryDelivery answered %s, want PENDING", retried.RetryDelivery.Status)
		}
		sentMsg := ws.waitNext("deliveries", 20*time.Second, func(d json.RawMessage) bool { return bytes.Contains(d, []byte(`"status":"SENT"`)) })
		var ev struct {
			Data struct {
				DeliveryChanged struct {
					ID, AlertID, Status string
					Attempts            []struct{ HTTPStatus *int }
					RetriedAt           *string
				}
			}
		}
		if err := json.Unmarshal(sentMsg.Payload, &ev); err != nil {
			t.Fatal(err)
		}
		if d := ev.Data.DeliveryChanged; d.ID != deliveryID || d.AlertID != alertID || len(d.Attempts) != 2 || d.RetriedAt == nil {
			t.Fatalf("deliveryChanged after the retry: %s", sentMsg.Payload)
		}
		if got := len(fake.Received("live-robot")); got != 1 {
			t.Fatalf("the fixed robot got %d messages, want 1", got)
		}
		delivered := ws.waitNext("alerts", 20*time.Second, func(d json.RawMessage) bool {
			return bytes.Contains(d, []byte(`"id":"`+alertID+`"`)) && bytes.Contains(d, []byte(`"status":"DELIVERED"`))
		})
		if delivered.Type != "next" {
			t.Fatalf("alertChanged after the retry: %s", delivered.Payload)
		}
		// Retrying what is not FAILED changes nothing and says why.
		if answer := gqlAs(t, a, liveAdmin, `mutation($id: ID!) { retryDelivery(id: $id) { id } }`, map[string]any{"id": deliveryID}); !strings.Contains(answer, `"BAD_USER_INPUT"`) {
			t.Fatalf("retrying a SENT delivery: %s", answer)
		}
		if answer := gqlAs(t, a, liveAdmin, `mutation($id: ID!) { retryFailedDeliveries(alertId: $id) { id } }`, map[string]any{"id": alertID}); !strings.Contains(answer, `"field":"alertId"`) {
			t.Fatalf("retrying an alert without failures: %s", answer)
		}

		// The overview's figures are the alert list's.
		from := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
		to := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		var stats struct {
			DeliveryStats struct {
				Alerts  int
				Totals  struct{ Total, Sent, Failed int }
				Buckets []struct{ Counts struct{ Total int } }
				Latency []struct {
					Platform string
					Attempts int
					P95Ms    int
				}
				FailingRobots  []struct{ Failed int }
				AlertsBySource []struct {
					SourceID *string
					Alerts   int
				}
			}
		}
		gqlToken(t, b, liveAdmin, `query($f: Time!, $t: Time!) { deliveryStats(from: $f, to: $t) {
			alerts totals { total sent failed } buckets { counts { total } } latency { platform attempts p95Ms }
			failingRobots { failed } alertsBySource { sourceId alerts } } }`, map[string]any{"f": from, "t": to}, &stats)
		var listed struct {
			Alerts struct {
				TotalCount int
				Edges      []struct {
					Node struct{ DeliveryCounts struct{ Total, Sent int } }
				}
			}
		}
		gqlToken(t, b, liveAdmin, `query($f: Time!, $t: Time!) { alerts(first: 100, filter: {from: $f, to: $t, severity: CRITICAL, labels: [{name: "team", value: "db"}], search: "DISK"}) {
			totalCount edges { node { deliveryCounts { total sent } } } } }`, map[string]any{"f": from, "t": to}, &listed)
		s := stats.DeliveryStats
		inBuckets := 0
		for _, b := range s.Buckets {
			inBuckets += b.Counts.Total
		}
		// From and to are rounded out to whole hours: two hours apart, so two or three buckets.
		if s.Alerts != listed.Alerts.TotalCount || s.Alerts != 1 || s.Totals.Total != 1 || s.Totals.Sent != 1 ||
			len(s.Buckets) < 2 || len(s.Buckets) > 3 || inBuckets != 1 {
			t.Fatalf("deliveryStats %+v, the list %+v", s, listed.Alerts)
		}
		if len(s.Latency) != 1 || s.Latency[0].Platform != "DINGTALK" || s.Latency[0].Attempts != 2 || len(s.FailingRobots) != 0 ||
			len(s.AlertsBySource) != 1 || s.AlertsBySource[0].SourceID != nil || s.AlertsBySource[0].Alerts != 1 {
			t.Fatalf("deliveryStats %+v", s)
		}
		var none struct{ Alerts struct{ TotalCount int } }
		gqlToken(t, b, liveAdmin, `{ alerts(filter: {labels: [{name: "team", value: "web"}]}) { totalCount } }`, nil, &none)
		if none.Alerts.TotalCount != 0 {
			t.Fatalf("a label no alert has matched %d alerts", none.Alerts.TotalCount)
		}

		// One more subscription fits the token's three; the fourth is refused.
		ws.subscribe("third", watchAlerts, nil)
		ws.subscribe("fourth", watchAlerts, nil)
		// The two subscribes run concurrently: either may be the one past the bound.
		for refused := false; !refused; {
			m, err := ws.next(10 * time.Second)
			if err != nil {
				t.Fatalf("no subscription was refused: %v", err)
			}
			refused = (m.ID == "third" || m.ID == "fourth") && bytes.Contains(m.Payload, []byte("HERALD_SUBSCRIPTIONS_PER_TOKEN"))
		}
	})
}

func TestLiveSocketsCheckTheTokenAndTheOrigin(t *testing.T) {
	base := launch(t, deliveryEnv(modelstest.SQLite(t), "HERALD_ADMIN_TOKEN="+liveAdmin, "HERALD_LIVE_POLL=100ms",
		"HERALD_CORS_ORIGINS=https://console.example.com")...).base

	if _, m, err := dialLive(t, base, nil, map[string]any{}); err == nil && m.Type == "connection_ack" {
		t.Fatal("a socket without a token was acknowledged")
	}
	if _, m, err := dialLive(t, base, nil, map[string]any{"Authorization": "Bearer hrld_nottherealtoken"}); err == nil && m.Type == "connection_ack" {
		t.Fatal("a socket with an unknown token was acknowledged")
	}
	if _, _, err := dialLive(t, base, http.Header{"Origin": {"https://evil.example.net"}}, map[string]any{"Authorization": "Bearer " + liveAdmin}); err == nil || !strings.Contains(err.Error(), "HTTP 403") {
		t.Fatalf("a socket from a foreign origin: %v", err)
	}
	if _, m, err := dialLive(t, base, http.Header{"Origin": {"https://console.example.com"}}, map[string]any{"Authorization": "Bearer " + liveAdmin}); err != nil || m.Type != "connection_ack" {
		t.Fatalf("a socket from HERALD_CORS_ORIGINS: %+v %v", m, err)
	}

	// A viewer's socket stops with UNAUTHENTICATED once its token is revoked and something changes.
	var created struct {
		CreateApiToken struct {
			Token    string
			APIToken struct{ ID string } `json:"apiToken"`
		}
	}
	gqlToken(t, base, liveAdmin, `mutation { createApiToken(name: "wallboard", role: VIEWER) { token apiToken { id } } }`, nil, &created)
	ws, ack, err := dialLive(t, base, nil, map[string]any{"Authorization": "Bearer " + created.CreateApiToken.Token})
	if err != nil || ack.Type != "connection_ack" {
		t.Fatalf("viewer's connection_init: %+v %v", ack, err)
	}
	ws.subscribe("alerts", watchAlerts, nil)
	time.Sleep(300 * time.Millisecond)
	gqlToken(t, base, liveAdmin, `mutation($id: ID!) { revokeApiToken(id: $id) }`, map[string]any{"id": created.CreateApiToken.APIToken.ID}, nil)
	gqlToken(t, base, liveAdmin, `mutation { createContact(input: {name: "x", webhooks: [{url: "http://127.0.0.1:1/robot/send?access_token=x"}]}) { id } }`, nil, nil)
	gqlToken(t, base, liveAdmin, `mutation { sendAlert(input: {title: "after the revocation", content: "c", contactNames: ["x"]}) { id } }`, nil, nil)
	m := ws.waitNext("alerts", 10*time.Second, func(json.RawMessage) bool { return true })
	if !bytes.Contains(m.Payload, []byte("UNAUTHENTICATED")) {
		t.Fatalf("a revoked token's subscription got %s %s", m.Type, m.Payload)
	}
	// A new subscribe on the same socket is refused too.
	ws.subscribe("again", watchAlerts, nil)
	if m := ws.waitNext("again", 10*time.Second, func(json.RawMessage) bool { return true }); !bytes.Contains(m.Payload, []byte("UNAUTHENTICATED")) {
		t.Fatalf("subscribing with a revoked token: %s %s", m.Type, m.Payload)
	}
}

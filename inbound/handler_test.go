package inbound

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/auth"
	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modelstest"
	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/senders/notify"
	"github.com/heraldhq/herald/senders/platforms"
)

// lockedBuffer collects a handler's log lines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type countingWaker struct{ n atomic.Int64 }

func (w *countingWaker) Wake() { w.n.Add(1) }

// hookEnv is one database with a group of one contact, and the hook endpoint on a real HTTP server.
type hookEnv struct {
	t       *testing.T
	db      modelstest.DB
	store   *models.Store
	outbox  *delivery.Outbox
	handler *Handler
	srv     *httptest.Server
	logs    *lockedBuffer
	waker   *countingWaker
	groupID string
}

func newHookEnv(t *testing.T, db modelstest.DB, repeat time.Duration) *hookEnv {
	t.Helper()
	if err := delivery.Migrate(db.Gorm); err != nil {
		t.Fatal(err)
	}
	e := &hookEnv{t: t, db: db, store: modelstest.Store(t, db), logs: &lockedBuffer{}, waker: &countingWaker{}}
	e.outbox, e.handler, e.srv = e.replica(db, e.store, repeat)
	ctx := context.Background()
	name := "oncall"
	c, err := e.store.CreateContact(ctx, models.ContactInput{Name: &name, Webhooks: []models.WebhookInput{
		{URL: "https://oapi.dingtalk.com/robot/send?access_token=team"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	g, err := e.store.CreateGroup(ctx, models.GroupInput{Name: ptr("sre"), ContactIDs: []string{models.FormatID(c.ID)}})
	if err != nil {
		t.Fatal(err)
	}
	e.groupID = models.FormatID(g.ID)
	return e
}

// replica is another Herald process's view: its own outbox and hook endpoint over store.
func (e *hookEnv) replica(db modelstest.DB, store *models.Store, repeat time.Duration) (*delivery.Outbox, *Handler, *httptest.Server) {
	n, err := notify.New(notify.Config{Platforms: platforms.Registry})
	if err != nil {
		e.t.Fatal(err)
	}
	outbox := delivery.NewOutbox(store, n)
	h := New(Config{Store: store, Outbox: outbox, Waker: e.waker, RepeatWindow: repeat,
		Logger: slog.New(slog.NewTextHandler(e.logs, nil))})
	mux := http.NewServeMux()
	mux.Handle(Route, h)
	srv := httptest.NewServer(mux)
	e.t.Cleanup(srv.Close)
	return outbox, h, srv
}

func ptr[T any](v T) *T { return &v }

// integration creates one and returns its id and token.
func (e *hookEnv) integration(kind models.IntegrationKind, mod func(*models.IntegrationInput)) (string, string) {
	e.t.Helper()
	token, hash, err := auth.NewHookToken()
	if err != nil {
		e.t.Fatal(err)
	}
	in := models.IntegrationInput{Name: ptr(strings.ToLower(string(kind)) + strconv.Itoa(int(time.Now().UnixNano()%1e6))), Kind: kind, GroupIDs: []string{e.groupID}}
	if mod != nil {
		mod(&in)
	}
	i, err := e.store.CreateIntegration(context.Background(), in, hash)
	if err != nil {
		e.t.Fatal(err)
	}
	return models.FormatID(i.ID), token
}

type hookAnswer struct {
	status int
	header http.Header
	body   map[string]any
}

func (e *hookEnv) post(base, id, token, contentType, body string, headers ...string) hookAnswer {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/hooks/"+id, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := hookAnswer{status: resp.StatusCode, header: resp.Header}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		e.t.Fatalf("answer %d is not JSON: %q", resp.StatusCode, raw)
	}
	return a
}

func (e *hookEnv) alerts() []*delivery.Alert {
	e.t.Helper()
	var out []*delivery.Alert
	if err := e.db.Gorm.Order("id").Find(&out).Error; err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (a hookAnswer) expect(t *testing.T, status int, key string) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d %v, want %d", a.status, a.body, status)
	}
	if _, ok := a.body[key]; !ok {
		t.Fatalf("answer %v has no %q", a.body, key)
	}
}

func TestAlertmanagerNotificationBecomesOneAlertAndItsRepeatsNone(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		e := newHookEnv(t, db, time.Hour)
		id, token := e.integration(models.IntegrationAlertmanager, nil)
		first := e.post(e.srv.URL, id, token, "application/json", diskFull)
		first.expect(t, http.StatusAccepted, "alertId")
		if first.body["status"] != "PENDING" {
			t.Errorf("answer %v", first.body)
		}
		for range 3 { // Alertmanager's retry after a timeout, its repeat, the HA twin
			again := e.post(e.srv.URL, id, token, "application/json", diskFull)
			again.expect(t, http.StatusOK, "duplicate")
			if again.body["alertId"] != first.body["alertId"] {
				t.Errorf("duplicate names alert %v, want %v", again.body["alertId"], first.body["alertId"])
			}
		}
		alerts := e.alerts()
		if len(alerts) != 1 {
			t.Fatalf("%d alerts, want 1", len(alerts))
		}
		a := alerts[0]
		if a.Title != "[FIRING:2] DiskFull" || a.Resolved || a.SourceID == nil || models.FormatID(*a.SourceID) != id ||
			a.Labels.Get("alertname") != "DiskFull" || a.Format != senders.Card || len(a.Links) != 2 {
			t.Errorf("alert %+v", a)
		}
		if e.waker.n.Load() != 1 {
			t.Errorf("dispatcher woken %d times, want once", e.waker.n.Load())
		}
		resolvedBody := strings.ReplaceAll(strings.ReplaceAll(diskFull, `"status":"firing"`, `"status":"resolved"`),
			`"endsAt":"0001-01-01T00:00:00Z"`, `"endsAt":"2026-12-01T09:00:00Z"`)
		e.post(e.srv.URL, id, token, "application/json", resolvedBody).expect(t, http.StatusAccepted, "alertId")
		alerts = e.alerts()
		if len(alerts) != 2 || !alerts[1].Resolved || alerts[1].Title != "[RESOLVED] DiskFull" {
			t.Fatalf("after the resolve: %d alerts, last %+v", len(alerts), alerts[len(alerts)-1])
		}
		var deliveries int64
		db.Gorm.Model(&delivery.Delivery{}).Count(&deliveries)
		if deliveries != 2 {
			t.Errorf("%d deliveries, want one per alert to the group's robot", deliveries)
		}
	})
}

func TestRepeatAfterTheWindowIsSentAgainAsAReminder(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		window := 400 * time.Millisecond
		e := newHookEnv(t, db, window)
		id, token := e.integration(models.IntegrationAlertmanager, nil)
		e.post(e.srv.URL, id, token, "application/json", diskFull).expect(t, http.StatusAccepted, "alertId")
		e.post(e.srv.URL, id, token, "application/json", diskFull).expect(t, http.StatusOK, "duplicate")
		time.Sleep(window + 100*time.Millisecond)
		e.post(e.srv.URL, id, token, "application/json", diskFull).expect(t, http.StatusAccepted, "alertId")
		e.post(e.srv.URL, id, token, "application/json", diskFull).expect(t, http.StatusOK, "duplicate")
		alerts := e.alerts()
		if len(alerts) != 2 {
			t.Fatalf("%d alerts, want the first and one reminder", len(alerts))
		}
		if !strings.HasSuffix(*alerts[0].IdempotencyKey, "#1") || !strings.HasSuffix(*alerts[1].IdempotencyKey, "#2") {
			t.Errorf("keys %s, %s", *alerts[0].IdempotencyKey, *alerts[1].IdempotencyKey)
		}
	})
}

func TestTwoReplicasTakingTheSameNotificationMakeOneAlert(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		e := newHookEnv(t, db, time.Hour)
		id, token := e.integration(models.IntegrationAlertmanager, nil)
		twin := models.NewStore(modelstest.OtherPool(t, db), platforms.Registry.Recognize)
		_, _, twinSrv := e.replica(db, twin, time.Hour)
		for round := range 5 {
			body := strings.ReplaceAll(diskFull, `"truncatedAlerts":0`, `"truncatedAlerts":0,"x":`+strconv.Itoa(round))
			body = strings.ReplaceAll(body, "3d8fc23df68d2038", fmt.Sprintf("round%d", round))
			var wg sync.WaitGroup
			answers := make([]hookAnswer, 2)
			for i, base := range []string{e.srv.URL, twinSrv.URL} {
				wg.Go(func() { answers[i] = e.post(base, id, token, "application/json", body) })
			}
			wg.Wait()
			statuses := []int{answers[0].status, answers[1].status}
			if !(statuses[0] == 202 && statuses[1] == 200) && !(statuses[0] == 200 && statuses[1] == 202) {
				t.Fatalf("round %d: answers %v %v, want one 202 and one 200 duplicate", round, answers[0].body, answers[1].body)
			}
			if answers[0].body["alertId"] != answers[1].body["alertId"] {
				t.Fatalf("round %d: the replicas name alerts %v and %v", round, answers[0].body["alertId"], answers[1].body["alertId"])
			}
		}
		if n := len(e.alerts()); n != 5 {
			t.Fatalf("%d alerts, want one per notification", n)
		}
	})
}

func TestEveryAnswerCode(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		e := newHookEnv(t, db, time.Hour)
		id, token := e.integration(models.IntegrationAlertmanager, nil)
		otherID, otherToken := e.integration(models.IntegrationGeneric, nil)
		quiet, quietToken := e.integration(models.IntegrationAlertmanager, func(in *models.IntegrationInput) { in.SendResolved = ptr(false) })
		json := "application/json"

		for name, c := range map[string]struct {
			id, token, contentType, body string
			status                       int
		}{
			"no token":                 {id, "", json, diskFull, 401},
			"wrong token":              {id, "hrldh_" + strings.Repeat("A", 43), json, diskFull, 401},
			"another integration's":    {id, otherToken, json, diskFull, 401},
			"unknown integration":      {"999999", token, json, diskFull, 401},
			"malformed id":             {"abc", token, json, diskFull, 401},
			"an API token":             {otherID, "hrld_" + strings.Repeat("B", 43), json, `{"title":"x"}`, 401},
			"form body":                {id, token, "application/x-www-form-urlencoded", diskFull, 415},
			"no content type":          {id, token, "", diskFull, 415},
			"not JSON":                 {id, token, json, "{", 400},
			"wrong shape":              {id, token, json, `{"version":"4","status":"firing","groupKey":"k","alerts":"many"}`, 400},
			"over 1 MiB":               {id, token, json, `{"x":"` + strings.Repeat("a", MaxBodyBytes) + `"}`, 413},
			"generic without title":    {otherID, otherToken, json, `{"content":"x"}`, 400},
			"generic title not string": {otherID, otherToken, json, `{"title":5}`, 400},
			"generic bad severity":     {otherID, otherToken, json, `{"title":"t","severity":"urgent"}`, 400},
			"generic title too long":   {otherID, otherToken, json, `{"title":"` + strings.Repeat("t", 300) + `"}`, 400},
			"generic bad label":        {otherID, otherToken, json, `{"title":"t","labels":{"a b":"c"}}`, 400},
			"vendor json content type": {otherID, otherToken, "application/vnd.herald+json; charset=utf-8", `{"title":"vendor"}`, 202},
		} {
			t.Run(name, func(t *testing.T) {
				before := len(e.alerts())
				a := e.post(e.srv.URL, c.id, c.token, c.contentType, c.body)
				if a.status != c.status {
					t.Fatalf("status %d %v, want %d", a.status, a.body, c.status)
				}
				if a.status >= 400 && a.body["error"] == "" {
					t.Errorf("refusal without an error: %v", a.body)
				}
				if a.status == 401 && a.header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
				if want := before + map[bool]int{true: 1}[c.status == 202]; len(e.alerts()) != want {
					t.Errorf("%d alerts, want %d", len(e.alerts()), want)
				}
			})
		}

		resolvedBody := strings.ReplaceAll(strings.ReplaceAll(diskFull, `"status":"firing"`, `"status":"resolved"`),
			`"endsAt":"0001-01-01T00:00:00Z"`, `"endsAt":"2026-12-01T09:00:00Z"`)
		skipped := e.post(e.srv.URL, quiet, quietToken, json, resolvedBody)
		if skipped.status != 200 || skipped.body["skipped"] != "resolved" {
			t.Errorf("all-resolved with sendResolved false: %d %v", skipped.status, skipped.body)
		}

		// A group emptied after the integration was made: the operator's to fix, not a retry's.
		var members []models.Membership
		db.Gorm.Find(&members)
		db.Gorm.Where("1 = 1").Delete(&models.Membership{})
		if a := e.post(e.srv.URL, id, token, json, strings.ReplaceAll(diskFull, "db1 95%", "db1 99%")); a.status != 422 {
			t.Errorf("no recipients: %d %v, want 422", a.status, a.body)
		}
		db.Gorm.Create(&members)

		// Query-string token, for sources that only take a URL; never in a log line.
		a := e.post(e.srv.URL, otherID+"?token="+otherToken, "", json, `{"title":"from a URL-only source"}`)
		a.expect(t, 202, "alertId")
		e.post(e.srv.URL, otherID+"?token="+otherToken+"x", "", json, `{"title":"wrong"}`).expect(t, 401, "error")
		for _, secret := range []string{token, otherToken, quietToken} {
			if strings.Contains(e.logs.String(), secret) || strings.Contains(e.logs.String(), secret[6:]) {
				t.Fatalf("a token is in the log:\n%s", e.logs.String())
			}
		}
		if !strings.Contains(e.logs.String(), "hook refused") {
			t.Errorf("refusals are not logged:\n%s", e.logs.String())
		}

		// Draining on SIGTERM, then the database gone: 503 with Retry-After, nothing accepted.
		e.handler.Drain()
		d := e.post(e.srv.URL, id, token, json, strings.ReplaceAll(diskFull, "db1 95%", "db1 98%"))
		if d.status != 503 || d.header.Get("Retry-After") == "" {
			t.Errorf("draining: %d %v Retry-After %q", d.status, d.body, d.header.Get("Retry-After"))
		}
		e.handler.draining.Store(false)
		sqlDB, _ := db.Gorm.DB()
		sqlDB.Close()
		down := e.post(e.srv.URL, id, token, json, strings.ReplaceAll(diskFull, "db1 95%", "db1 97%"))
		if down.status != 503 || down.header.Get("Retry-After") == "" {
			t.Errorf("database closed: %d %v Retry-After %q", down.status, down.body, down.header.Get("Retry-After"))
		}
	})
}

func TestGrafanaSignedUnsignedAndWronglySigned(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		e := newHookEnv(t, db, time.Hour)
		signed, signedToken := e.integration(models.IntegrationGrafana, func(in *models.IntegrationInput) { in.SigningSecret = ptr("herald-hmac-secret") })
		open, openToken := e.integration(models.IntegrationGrafana, nil)
		body := strings.ReplaceAll(diskFull, `"version":"4"`, `"version":"1","title":"[FIRING:2] DiskFull","state":"alerting","message":"**Firing**"`)
		now := strconv.FormatInt(time.Now().Unix(), 10)
		stale := strconv.FormatInt(time.Now().Add(-10*time.Minute).Unix(), 10)

		e.post(e.srv.URL, open, openToken, "application/json", body).expect(t, 202, "alertId")
		e.post(e.srv.URL, signed, signedToken, "application/json", body).expect(t, 401, "error")
		e.post(e.srv.URL, signed, signedToken, "application/json", body, SignatureHeader, strings.Repeat("0", 64)).expect(t, 401, "error")
		e.post(e.srv.URL, signed, signedToken, "application/json", body,
			SignatureHeader, Sign("herald-hmac-secret", stale, []byte(body)), TimestampHeader, stale).expect(t, 401, "error")
		e.post(e.srv.URL, signed, signedToken, "application/json", body,
			SignatureHeader, Sign("herald-hmac-secret", now, []byte(body)), TimestampHeader, now).expect(t, 202, "alertId")
		untimed := strings.ReplaceAll(body, "3d8fc23df68d2038", "0000000000000001")
		e.post(e.srv.URL, signed, signedToken, "application/json", untimed,
			SignatureHeader, Sign("herald-hmac-secret", "", []byte(untimed))).expect(t, 202, "alertId")
		if n := len(e.alerts()); n != 3 {
			t.Errorf("%d alerts, want 3", n)
		}
		if e.alerts()[0].Title != "[FIRING:2] DiskFull" {
			t.Errorf("Grafana's title was not kept: %q", e.alerts()[0].Title)
		}
	})
}

func TestGenericPayloadAsCurlSendsIt(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		e := newHookEnv(t, db, time.Hour)
		id, token := e.integration(models.IntegrationGeneric, nil)
		body := `{"title":"Nightly backup failed","content":"exit code 2","severity":"critical","labels":{"job":"nightly"},"idempotencyKey":"backup-2026-12-01","unknown":{"ignored":true}}`
		first := e.post(e.srv.URL, id, token, "application/json", body)
		first.expect(t, 202, "alertId")
		e.post(e.srv.URL, id, token, "application/json", body).expect(t, 200, "duplicate")
		e.post(e.srv.URL, id, token, "application/json", `{"title":"Nightly backup ok","status":"resolved","labels":{"job":"nightly"}}`).expect(t, 202, "alertId")
		alerts := e.alerts()
		if len(alerts) != 2 {
			t.Fatalf("%d alerts", len(alerts))
		}
		a := alerts[0]
		if a.Title != "Nightly backup failed" || a.Content != "exit code 2" || a.Severity != senders.Critical ||
			a.Labels.Get("job") != "nightly" || *a.IdempotencyKey != "hook:"+id+":key:backup-2026-12-01" || a.Resolved {
			t.Errorf("alert %+v", a)
		}
		if !alerts[1].Resolved || alerts[1].Severity != senders.Info {
			t.Errorf("resolved alert %+v", alerts[1])
		}
		// Keys are the integration's own: another source's "backup-2026-12-01" is another alert.
		other, otherToken := e.integration(models.IntegrationGeneric, nil)
		e.post(e.srv.URL, other, otherToken, "application/json", body).expect(t, 202, "alertId")
		// A source sending basic auth of its own still gets in with its URL token.
		e.post(e.srv.URL, other+"?token="+otherToken, "", "application/json", `{"title":"with basic auth"}`,
			"Authorization", "Basic dXNlcjpwYXNz").expect(t, 202, "alertId")
		// sendAlert's keys cannot reach into an integration's.
		_, _, err := e.outbox.Accept(context.Background(), delivery.AlertInput{Title: "t", Content: "c",
			Recipients: models.RecipientQuery{GroupIDs: []string{e.groupID}}, IdempotencyKey: ptr("hook:" + id + ":key:x")})
		if ae, ok := models.AsError(err); !ok || ae.Field != "idempotencyKey" {
			t.Errorf("a sendAlert key in the hooks' range: %v", err)
		}
	})
}

func TestSourceTextCannotBreakTheMessageLayout(t *testing.T) {
	body := strings.NewReplacer(`"summary":"db1 95%"`, `"summary":"db1\n# HEADING\n**x","description":"before\n`+"```"+`\nswallow"`,
		`"instance":"db1:9100"`, `"instance":"db1:9100","team":"a\n- fake item"`,
		`"generatorURL":"http://prom:9090/graph"`, `"generatorURL":"http://prom:9090/graph?g0.expr=rate(x[5m]) > 1"`,
		`"generatorURL":""`, `"generatorURL":"javascript:alert(1)"`).Replace(diskFull)
	n := mustParse(t, body, alertmanagerVersion)
	r := render(n, n.Alerts, "UTC", false)
	for _, bad := range []string{"\n# HEADING", "\n- fake item", "rate(x[5m]) > 1)", "javascript:", "\n```"} {
		if strings.Contains(r.body(t), bad) {
			t.Errorf("content carries %q:\n%s", bad, r.body(t))
		}
	}
	for _, want := range []string{"**db1 # HEADING **x**", "- team: a - fake item", "rate%28x[5m]%29%20>%201)"} {
		if !strings.Contains(r.body(t), want) {
			t.Errorf("content lacks %q:\n%s", want, r.body(t))
		}
	}
	huge := strings.ReplaceAll(diskFull, `"version":"4"`, `"version":"1","title":"t","message":"`+strings.Repeat("m", 200_000)+`"`)
	g := mustParse(t, huge, grafanaVersion)
	if r := render(g, g.Alerts, "UTC", true); len(r.body(t)) > delivery.MaxAlertContentBytes || !strings.Contains(r.body(t), "db2 97%") {
		t.Errorf("a huge Grafana message: %d bytes, alerts kept: %v", len(r.body(t)), strings.Contains(r.body(t), "db2 97%"))
	}
}

func TestSlowBodiesAreRefusedBeforeTheyAreRead(t *testing.T) {
	e := newHookEnv(t, modelstest.SQLite(t), time.Hour)
	id, token := e.integration(models.IntegrationAlertmanager, nil)
	addr := strings.TrimPrefix(e.srv.URL, "http://")
	for name, c := range map[string]struct {
		auth string
		want string
	}{
		"no token":                {"", "HTTP/1.1 401"},
		"a wrong token":           {"Authorization: Bearer hrldh_wrong\r\n", "HTTP/1.1 401"},
		"a declared body too big": {"Authorization: Bearer " + token + "\r\n", "HTTP/1.1 413"},
	} {
		t.Run(name, func(t *testing.T) {
			conn, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			length := 1000
			if strings.Contains(name, "too big") {
				length = MaxBodyBytes + 1
			}
			// Headers, then only the first bytes of the body: a client dribbling it, or gone.
			fmt.Fprintf(conn, "POST /hooks/%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n\r\n{\"vers",
				id, c.auth, length)
			_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
			status, err := bufio.NewReader(conn).ReadString('\n')
			if err != nil || !strings.HasPrefix(status, c.want) {
				t.Fatalf("got %q (%v), want %s without waiting for the body", status, err, c.want)
			}
		})
	}
}

func TestIntegrationRendersWithItsTemplateAndFallsBackToTheBuiltin(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		e := newHookEnv(t, db, time.Hour)
		ctx := context.Background()
		mine, err := e.store.CreateMessageTemplate(ctx, models.MessageTemplateInput{Name: "mine", Format: senders.Text,
			Title: `{{ .Status | toUpper }} {{ .CommonLabels.alertname }}`,
			Body:  `{{ range .Alerts.Firing }}{{ .Labels.instance }}: {{ .Annotations.summary }}{{ "\n" }}{{ end }}`})
		if err != nil {
			t.Fatal(err)
		}
		id, token := e.integration(models.IntegrationAlertmanager, func(in *models.IntegrationInput) {
			in.TemplateID = ptr(models.FormatID(mine.ID))
		})
		e.post(e.srv.URL, id, token, "application/json", diskFull).expect(t, http.StatusAccepted, "alertId")
		a := e.alerts()[0]
		if a.Title != "FIRING DiskFull" || a.Content != "db1:9100: db1 95%\ndb2:9100: db2 97%\n" || a.Format != senders.Text ||
			a.TemplateID == nil || *a.TemplateID != mine.ID {
			t.Errorf("alert %q %q %s", a.Title, a.Content, a.Format)
		}
		// Broken at send time (a field the data lacks): the built-in card, with a note.
		if _, err := e.store.UpdateMessageTemplate(ctx, models.FormatID(mine.ID), models.MessageTemplateInput{
			Name: "mine", Format: senders.Text, Title: "{{ .Title }}", Body: "{{ .NoSuchField }}"}); err != nil {
			t.Fatal(err)
		}
		resolved := strings.ReplaceAll(strings.ReplaceAll(diskFull, `"status":"firing"`, `"status":"resolved"`),
			`"endsAt":"0001-01-01T00:00:00Z"`, `"endsAt":"2026-12-01T09:00:00Z"`)
		e.post(e.srv.URL, id, token, "application/json", resolved).expect(t, http.StatusAccepted, "alertId")
		b := e.alerts()[1]
		if b.Format != senders.Card || b.TemplateError == nil || !strings.Contains(*b.TemplateError, "mine") ||
			!strings.Contains(b.Content, "**Resolved: 2**") {
			t.Errorf("fallback alert %s %v %q", b.Format, b.TemplateError, b.Content)
		}
	})
}

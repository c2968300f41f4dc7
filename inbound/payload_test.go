package inbound

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/senders"
)

// The example of ../shared/inbound.md, as Alertmanager 0.25 sends it.
const diskFull = `{"receiver":"herald","status":"firing","alerts":[
 {"status":"firing","labels":{"alertname":"DiskFull","instance":"db1:9100"},"annotations":{"summary":"db1 95%"},"startsAt":"2026-12-01T08:00:00.12Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prom:9090/graph","fingerprint":"3d8fc23df68d2038"},
 {"status":"firing","labels":{"alertname":"DiskFull","instance":"db2:9100"},"annotations":{"summary":"db2 97%"},"startsAt":"2026-12-01T08:00:30Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"ecc62d79a7b35645"}],
 "groupLabels":{"alertname":"DiskFull"},"commonLabels":{"alertname":"DiskFull"},"commonAnnotations":{},
 "externalURL":"http://am:9093","version":"4","groupKey":"{}:{alertname=\"DiskFull\"}","truncatedAlerts":0}`

func mustParse(t *testing.T, body, version string) *notification {
	t.Helper()
	n, err := parseNotification([]byte(body), version)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return n
}

func TestGrafanaSignatureMatchesTheTestVectors(t *testing.T) {
	body := []byte(`{"receiver":"herald","status":"firing"}`)
	if got := Sign("herald-hmac-secret", "", body); got != "fc08a27112a60b4e2c6f61afe789e0cf61d2212a38f2aab5e065bd2f4d439c9b" {
		t.Errorf("without a timestamp: %s", got)
	}
	if got := Sign("herald-hmac-secret", "1700000000", body); got != "5635e77d09219bb83bf162a14f2b6aed46a2e6ffab44fd3cbf3fe50a055675e9" {
		t.Errorf("with a timestamp: %s", got)
	}
	at := time.Unix(1700000000, 0)
	h := http.Header{}
	h.Set(SignatureHeader, "5635e77d09219bb83bf162a14f2b6aed46a2e6ffab44fd3cbf3fe50a055675e9")
	h.Set(TimestampHeader, "1700000000")
	if why := verifySignature(h, "herald-hmac-secret", body, at.Add(4*time.Minute)); why != "" {
		t.Errorf("a fresh, correct signature was refused: %s", why)
	}
	if why := verifySignature(h, "herald-hmac-secret", body, at.Add(6*time.Minute)); why == "" {
		t.Error("a signature six minutes old was accepted")
	}
	if why := verifySignature(h, "another-secret", body, at); why == "" {
		t.Error("a signature made with another secret was accepted")
	}
	h.Del(TimestampHeader)
	if why := verifySignature(h, "herald-hmac-secret", body, at); why == "" {
		t.Error("a timestamped signature verified without its timestamp")
	}
	h.Del(SignatureHeader)
	if why := verifySignature(h, "herald-hmac-secret", body, at); why == "" {
		t.Error("an unsigned request was accepted")
	}
}

func TestDedupeKeyTellsRepeatsFromChanges(t *testing.T) {
	n := mustParse(t, diskFull, alertmanagerVersion)
	key := dedupeKey(7, n, n.Alerts)
	reordered := mustParse(t, diskFull, alertmanagerVersion)
	reordered.Alerts[0], reordered.Alerts[1] = reordered.Alerts[1], reordered.Alerts[0]
	reordered.Alerts[0].Annotations = map[string]string{"summary": "an annotation changed"}
	if got := dedupeKey(7, reordered, reordered.Alerts); got != key {
		t.Errorf("the same alert set in another order is a new key: %s vs %s", got, key)
	}
	if dedupeKey(8, n, n.Alerts) == key {
		t.Error("another integration shares the key")
	}
	one := mustParse(t, diskFull, alertmanagerVersion)
	if dedupeKey(7, one, one.Alerts[:1]) == key {
		t.Error("a changed alert set keeps the key")
	}
	resolved := mustParse(t, diskFull, alertmanagerVersion)
	resolved.Status = "resolved"
	for i := range resolved.Alerts {
		resolved.Alerts[i].Status, resolved.Alerts[i].EndsAt = "resolved", time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	}
	if dedupeKey(7, resolved, resolved.Alerts) == key {
		t.Error("the resolve keeps the firing key")
	}
	if len(key) > delivery.MaxIdempotencyKeyLength-8 {
		t.Errorf("key of %d characters leaves no room for the repeat generation", len(key))
	}
}

func TestAlertmanagerTitleSeverityAndContent(t *testing.T) {
	body := strings.NewReplacer(`"groupLabels":{"alertname":"DiskFull"}`, `"groupLabels":{"alertname":"DiskFull","env":"prod","job":"api"}`,
		`"instance":"db2:9100"}`, `"instance":"db2:9100","severity":"warning"}`,
		`"instance":"db1:9100"}`, `"instance":"db1:9100","severity":"critical"}`,
		`"truncatedAlerts":0`, `"truncatedAlerts":3`).Replace(diskFull)
	n := mustParse(t, body, alertmanagerVersion)
	r := render(n, n.Alerts, "Asia/Shanghai", false)
	if r.title != "[FIRING:2] DiskFull (prod, api)" {
		t.Errorf("title %q", r.title)
	}
	if r.severity != senders.Critical {
		t.Errorf("severity %s, want the highest of the alerts", r.severity)
	}
	for _, want := range []string{
		"**db1 95%**", "**db2 97%**", "instance: db1:9100",
		"started: 2026-12-01 16:00:00 CST", // 08:00 UTC in the integration's zone
		"[Source](http://prom:9090/graph)",
		"3 more alerts were left out by the source",
	} {
		if !strings.Contains(r.body(t), want) {
			t.Errorf("content lacks %q:\n%s", want, r.body(t))
		}
	}
	if strings.Contains(r.body(t), "alertname:") {
		t.Errorf("the group's labels are repeated per alert:\n%s", r.body(t))
	}
	if r.labels.Get("alertname") != "DiskFull" {
		t.Errorf("labels %v lack alertname", r.labels)
	}
	wantLinks := []senders.Link{
		{Text: "Source", URL: "http://prom:9090/graph"},
		{Text: "Silence", URL: "http://am:9093/#/silences/new?filter=%7Balertname%3D%22DiskFull%22%7D"},
	}
	if !slices.Equal(r.links, wantLinks) {
		t.Errorf("links %v, want %v", r.links, wantLinks)
	}
}

// body is the content the kind's built-in layout makes of a rendered notification.
func (r rendered) body(t testing.TB) string {
	t.Helper()
	kind := models.IntegrationAlertmanager
	if r.data.Kind == "GRAFANA" {
		kind = models.IntegrationGrafana
	}
	out, err := defaultLayout(kind).Render(r.data, delivery.MaxAlertContentBytes)
	if err != nil {
		t.Fatalf("built-in layout: %v", err)
	}
	return out.Body
}

func TestSilenceLinkIsTheOneAlertmanagersUIBuilds(t *testing.T) {
	got := silenceURL("http://am:9093/", map[string]string{"alertname": "DiskFull", "job": "node"})
	want := "http://am:9093/#/silences/new?filter=%7Balertname%3D%22DiskFull%22%2C%20job%3D%22node%22%7D"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestResolvedNotificationReadsResolved(t *testing.T) {
	body := strings.ReplaceAll(strings.ReplaceAll(diskFull, `"status":"firing"`, `"status":"resolved"`),
		`"endsAt":"0001-01-01T00:00:00Z"`, `"endsAt":"2026-12-01T09:00:00Z"`)
	n := mustParse(t, body, alertmanagerVersion)
	r := render(n, n.Alerts, "UTC", false)
	if r.title != "[RESOLVED] DiskFull" {
		t.Errorf("title %q", r.title)
	}
	if !strings.Contains(r.body(t), "**Resolved: 2**") || !strings.Contains(r.body(t), "ended: 2026-12-01 09:00:00 UTC") {
		t.Errorf("content:\n%s", r.body(t))
	}
	if slices.ContainsFunc(r.links, func(l senders.Link) bool { return l.Text == "Silence" }) {
		t.Error("a resolved group offers a silence")
	}
}

func TestHugeGroupFitsTheAlertContentAndSaysWhatItLeftOut(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"version":"4","status":"firing","groupKey":"{}:{}","groupLabels":{},"commonLabels":{},"alerts":[`)
	for i := range 3000 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"status":"firing","labels":{"alertname":"Big","instance":"host-` + strings.Repeat("x", 20) + `"},"annotations":{"summary":"` + strings.Repeat("s", 40) + `"},"startsAt":"2026-12-01T08:00:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"f"}`)
	}
	b.WriteString("]}")
	n := mustParse(t, b.String(), alertmanagerVersion)
	r := render(n, n.Alerts, "UTC", false)
	if len(r.body(t)) > delivery.MaxAlertContentBytes {
		t.Fatalf("content of %d bytes", len(r.body(t)))
	}
	if !strings.Contains(r.body(t), "more alerts are not shown here") {
		t.Error("the cut is not said")
	}
	if r.title != "[FIRING:3000] Big" {
		t.Errorf("title %q", r.title)
	}
}

func TestGrafanaKeepsItsTitleAndLinksAndATemplatedMessage(t *testing.T) {
	body := `{"receiver":"herald","status":"firing","orgId":1,"title":"[FIRING:1] HighCPU (web)","state":"alerting",
	 "message":"CPU is high on web","version":"1","groupKey":"{}/{}:{alertname=\"HighCPU\"}","truncatedAlerts":0,
	 "groupLabels":{"alertname":"HighCPU"},"commonLabels":{"alertname":"HighCPU","severity":"warning"},"commonAnnotations":{},"externalURL":"http://grafana:3000/",
	 "alerts":[{"status":"firing","labels":{"alertname":"HighCPU","severity":"warning","host":"web"},"annotations":{"summary":"CPU 93%"},
	  "startsAt":"2026-12-01T08:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://grafana:3000/alerting/grafana/abc/view",
	  "fingerprint":"aa11","silenceURL":"http://grafana:3000/alerting/silence/new?alertmanager=grafana&matcher=__alert_rule_uid__%3Dabc",
	  "dashboardURL":"http://grafana:3000/d/dash","panelURL":"http://grafana:3000/d/dash?viewPanel=2","values":{"B":93.2,"A":1},"imageURL":"http://grafana:3000/img.png"}]}`
	n := mustParse(t, body, grafanaVersion)
	r := render(n, n.Alerts, "UTC", true)
	if r.title != "[FIRING:1] HighCPU (web)" || r.severity != senders.Warning {
		t.Errorf("title %q severity %s", r.title, r.severity)
	}
	for _, want := range []string{"CPU is high on web", "[Dashboard](http://grafana:3000/d/dash)", "[Panel](http://grafana:3000/d/dash?viewPanel=2)",
		"[Silence](http://grafana:3000/alerting/silence/new?", "values: A=1, B=93.2", "![image](http://grafana:3000/img.png)", "host: web"} {
		if !strings.Contains(r.body(t), want) {
			t.Errorf("content lacks %q:\n%s", want, r.body(t))
		}
	}
	n.Message = "**Firing**\n\nValue: B=93.2\nLabels: ..."
	if r := render(n, n.Alerts, "UTC", true); strings.Contains(r.body(t), "Value: B=93.2") {
		t.Errorf("Grafana's default message is repeated:\n%s", r.body(t))
	}
}

func TestMalformedNotificationsAreRefusedNamingTheProblem(t *testing.T) {
	for _, c := range []struct{ body, version, want string }{
		{`not json`, alertmanagerVersion, "not JSON"},
		{`[1,2]`, alertmanagerVersion, "must be a JSON object"},
		{`{"version":4}`, alertmanagerVersion, "version must be a string"},
		{`{"version":"4","status":"firing","groupKey":"k","alerts":{}}`, alertmanagerVersion, "alerts must be an array"},
		{`{"version":"4","status":"firing","groupKey":"k","alerts":[{"status":"firing","startsAt":"yesterday"}]}`, alertmanagerVersion, "RFC 3339"},
		{`{"version":"1","status":"firing","groupKey":"k","alerts":[{"status":"firing"}]}`, alertmanagerVersion, "create a GRAFANA integration"},
		{`{"version":"4","status":"firing","groupKey":"k","alerts":[{"status":"firing"}]}`, grafanaVersion, "create an ALERTMANAGER integration"},
		{`{"version":"4","status":"burning","groupKey":"k","alerts":[{"status":"firing"}]}`, alertmanagerVersion, "status is \"burning\""},
		{`{"version":"4","status":"firing","alerts":[{"status":"firing"}]}`, alertmanagerVersion, "groupKey is missing"},
		{`{"version":"4","status":"firing","groupKey":"k","alerts":[]}`, alertmanagerVersion, "alerts is empty"},
	} {
		_, err := parseNotification([]byte(c.body), c.version)
		var bad badRequest
		if err == nil || !strings.Contains(err.Error(), c.want) || !asBadRequest(err, &bad) {
			t.Errorf("%s: got %v, want a bad request saying %q", c.body, err, c.want)
		}
	}
}

func asBadRequest(err error, into *badRequest) bool {
	b, ok := err.(badRequest)
	*into = b
	return ok
}

func TestALinkNoPlatformCanShowIsLeftToTheContent(t *testing.T) {
	long := "http://prom:9090/graph?g0.expr=" + strings.Repeat("x", 3000)
	n := mustParse(t, strings.Replace(diskFull, `"generatorURL":"http://prom:9090/graph"`, `"generatorURL":"`+long+`"`, 1), alertmanagerVersion)
	r := render(n, n.Alerts, "UTC", false)
	if slices.ContainsFunc(r.links, func(l senders.Link) bool { return l.Text == "Source" }) {
		t.Errorf("a %d-byte source URL became a button", len(long))
	}
	if !strings.Contains(r.body(t), "[Source]("+long+")") {
		t.Error("the content lost the long source link")
	}
}

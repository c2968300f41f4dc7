package delivery

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/senders/notify"
	"github.com/heraldhq/herald/senders/platforms"
)

// A platform Herald does not ship, defined only here: its descriptor is all the pipeline learns of
// it, and its fake server behaves as a platform does (it checks the token and the signature,
// refuses past its rate limit with 429 and its own error code, and answers JSON).
const acme senders.Platform = "ACME"

var acmeDescriptor = senders.Descriptor{
	Platform: acme, Name: "Acme Chat", Label: "Acme",
	WebhookPath: "/acme/hook", TokenParam: "token",
	Windows:      []senders.Window{{Limit: 2, Span: time.Minute}},
	MaxBodyBytes: 8000,
	Mentions:     "none",
	NewBuilder:   func(senders.Options) senders.Builder { return acmeBuilder{} },
}

type acmeMessage struct {
	Text string `json:"text"`
	TS   int64  `json:"ts"`
	Sign string `json:"sign,omitempty"`
}

func acmeSign(secret string, ts int64) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(ts, 10)))
	return hex.EncodeToString(mac.Sum(nil))
}

type acmeBuilder struct{}

func (acmeBuilder) Build(t senders.Robot, m senders.Message, now time.Time) (senders.Request, error) {
	msg := acmeMessage{Text: senders.Heading(m) + "\n" + m.Content, TS: now.Unix()}
	if t.Secret != "" {
		msg.Sign = acmeSign(t.Secret, msg.TS)
	}
	body, err := senders.EncodeJSON(msg)
	return senders.Request{URL: t.URL, Body: body}, err
}

func (acmeBuilder) Classify(status int, body []byte) senders.Result {
	var ans struct {
		Code *int   `json:"code"`
		Msg  string `json:"msg"`
	}
	parsed := json.Unmarshal(body, &ans) == nil && ans.Code != nil
	return senders.Verdict("Acme Chat", status, senders.Answer{Parsed: parsed, Code: ans.Code, Message: ans.Msg},
		func(code int, _ string) (senders.Outcome, time.Duration) {
			if code == 429 {
				return senders.Retryable, time.Minute
			}
			return senders.Permanent, 0
		})
}

// acmeServer is Acme's fake: one robot, its token and secret, two messages a minute.
type acmeServer struct {
	token, secret string
	mu            sync.Mutex
	accepted      []acmeMessage
	refused       int
}

func (s *acmeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	answer := func(status, code int, msg string) {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"code":`+strconv.Itoa(code)+`,"msg":"`+msg+`"}`)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var m acmeMessage
	body, _ := io.ReadAll(r.Body)
	switch {
	case r.URL.Path != "/acme/hook" || r.URL.Query().Get("token") != s.token:
		answer(404, 404, "no such robot")
	case json.Unmarshal(body, &m) != nil || m.Sign != acmeSign(s.secret, m.TS):
		s.refused++
		answer(403, 403, "bad signature")
	case len(s.accepted) >= 2:
		s.refused++
		answer(429, 429, "rate limited")
	default:
		s.accepted = append(s.accepted, m)
		answer(200, 0, "ok")
	}
}

func TestAPlatformDefinedOnlyByItsDescriptorIsRecognisedRateLimitedAndDelivered(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		reg, err := senders.NewRegistry(append(platforms.All(), acmeDescriptor)...)
		if err != nil {
			t.Fatal(err)
		}
		if e.guard, err = notify.NewGuard(reg, []string{"127.0.0.1"}); err != nil {
			t.Fatal(err)
		}
		if e.notifier, err = notify.New(notify.Config{Platforms: reg, Guard: e.guard, Timeout: 2 * time.Second}); err != nil {
			t.Fatal(err)
		}
		e.store = e.storeOn(e.db.Gorm)
		fake := &acmeServer{token: "tok-acme", secret: "acme-secret"}
		srv := httptest.NewServer(fake)
		t.Cleanup(srv.Close)

		secret := fake.secret
		name := "ops"
		c, err := e.store.CreateContact(t.Context(), models.ContactInput{Name: &name,
			Webhooks: []models.WebhookInput{{URL: srv.URL + "/acme/hook?token=" + fake.token, Secret: &secret}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Webhooks[0].Platform; got != acme {
			t.Fatalf("the webhook was recognised as %q, want %q", got, acme)
		}
		var alerts []*Alert
		for i := range 5 {
			alerts = append(alerts, e.alert(AlertInput{Title: "acme " + strconv.Itoa(i), Recipients: models.RecipientQuery{ContactNames: []string{name}}}))
		}
		cfg := fastConfig()
		cfg.Budgets = nil // the descriptor's window, as in production
		e.start(cfg)
		for _, a := range alerts {
			if got, _ := e.waitFinal(a, 10*time.Second); got.Status != AlertDelivered {
				t.Fatalf("alert %d is %s, want DELIVERED", got.ID, got.Status)
			}
		}
		fake.mu.Lock()
		defer fake.mu.Unlock()
		if len(fake.accepted) != 2 || fake.refused != 0 {
			t.Fatalf("Acme accepted %d messages and refused %d; want the 5 alerts in 2 messages, none refused",
				len(fake.accepted), fake.refused)
		}
	})
}

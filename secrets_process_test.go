package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modelstest"
	"github.com/heraldhq/herald/secrets"
	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/senders/fakeplatform"
)

// gqlAs posts one operation with a bearer token and returns the raw response body.
func gqlAs(t testing.TB, base, token, query string, vars map[string]any) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, base+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	_, answer := send(t, req, token)
	return answer
}

func newKey(t testing.TB) string {
	t.Helper()
	k, err := secrets.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func storedSecrets(t testing.TB, dbURL string) []string {
	t.Helper()
	cfg, err := models.ParseDatabaseURL(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	db, err := models.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { sqlDB, _ := db.DB(); sqlDB.Close() }()
	var out []string
	db.Raw("SELECT secret FROM webhooks WHERE secret IS NOT NULL UNION ALL SELECT secret FROM deliveries WHERE secret IS NOT NULL").Scan(&out)
	return out
}

func TestSecretsAreSealedAtRestWithAKeyFileBesideTheDatabase(t *testing.T) {
	dir := t.TempDir()
	dbURL := "sqlite://" + filepath.Join(dir, "herald.db")
	p := launch(t, "HERALD_DATABASE="+dbURL)
	const secret = "SECplain-secret-0042"
	res := gqlAs(t, p.base, "", `mutation($s: String!) { createContact(input: {name: "sealed", webhooks: [{url: "https://oapi.dingtalk.com/robot/send?access_token=abc", secret: $s}]}) { webhooks { hasSecret } } }`,
		map[string]any{"s": secret})
	if !strings.Contains(res, `"hasSecret":true`) || strings.Contains(res, secret) {
		t.Fatalf("create: %s", res)
	}
	p.stop()
	info, err := os.Stat(filepath.Join(dir, "herald.db.key"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", info, err)
	}
	if n := strings.Count(p.logs.String(), "created a key file"); n != 1 {
		t.Fatalf("the key file was announced %d times:\n%s", n, p.logs)
	}
	stored := storedSecrets(t, dbURL)
	if len(stored) != 1 || strings.Contains(stored[0], secret) || !secrets.IsEncrypted(stored[0]) {
		t.Fatalf("stored secret: %q", stored)
	}
	// A second start reuses the key without announcing a new one.
	again := launch(t, "HERALD_DATABASE="+dbURL)
	again.stop()
	if strings.Contains(again.logs.String(), "created a key file") {
		t.Fatal("a second start created another key")
	}
}

func TestWrongKeyStopsHeraldAtStartup(t *testing.T) {
	dir := t.TempDir()
	dbURL := "sqlite://" + filepath.Join(dir, "herald.db")
	right := newKey(t)
	p := launch(t, "HERALD_DATABASE="+dbURL, "HERALD_SECRET_KEY="+right)
	gqlAs(t, p.base, "", `mutation { createContact(input: {name: "k", webhooks: [{url: "https://oapi.dingtalk.com/robot/send?access_token=k", secret: "SECk"}]}) { id } }`, nil)
	p.stop()
	out, err := runToExit(t, heraldCommand(t, "HERALD_DATABASE="+dbURL, "HERALD_SECRET_KEY="+newKey(t), "HERALD_ADDR=127.0.0.1:0"))
	if err == nil || !strings.Contains(string(out), "HERALD_SECRET_KEY_FILE") || !strings.Contains(string(out), "key") {
		t.Fatalf("started with the wrong key: %v\n%s", err, out)
	}
	if strings.Contains(string(out), right) {
		t.Fatal("the error shows a key")
	}
}

func TestMySQLWithoutAKeyRefusesSecretsOnly(t *testing.T) {
	db, ok := modelstest.MySQL(t)
	if !ok {
		t.Skip("needs MySQL")
	}
	p := launch(t, "HERALD_DATABASE="+db.URL)
	res := gqlAs(t, p.base, "", `mutation { createContact(input: {name: "nokey", webhooks: [{url: "https://oapi.dingtalk.com/robot/send?access_token=n", secret: "SECn"}]}) { id } }`, nil)
	if !strings.Contains(res, "HERALD_SECRET_KEY_FILE") || !strings.Contains(res, "input.webhooks[0].secret") {
		t.Fatalf("secret without a key: %s", res)
	}
	res = gqlAs(t, p.base, "", `mutation { createContact(input: {name: "plain", webhooks: [{url: "https://oapi.dingtalk.com/robot/send?access_token=p"}]}) { id } }`, nil)
	if strings.Contains(res, "errors") {
		t.Fatalf("a contact without a secret was refused: %s", res)
	}
}

func TestRotateKeyReSealsEverySecretAndSendsStillSign(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		fake := startFake(t, 0)
		robot := fakeplatform.Robot{Platform: senders.DingTalk, Token: "rotating", Secret: "SECrotate", Keywords: []string{"SchedulerX"}}
		keyFile := filepath.Join(t.TempDir(), "keys")
		oldKey, newerKey := newKey(t), newKey(t)
		write := func(keys ...string) {
			if err := os.WriteFile(keyFile, []byte(strings.Join(keys, "\n")+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		env := deliveryEnv(db, "HERALD_SECRET_KEY_FILE="+keyFile)
		write(oldKey)
		p := launch(t, env...)
		gqlAs(t, p.base, "", `mutation($u: String!) { createContact(input: {name: "rot", webhooks: [{url: $u, secret: "SECrotate"}]}) { id } }`,
			map[string]any{"u": fake.AddRobot(robot)})
		p.stop()
		write(newerKey, oldKey)
		rotate := heraldCommand(t, append(env, "HERALD_ADDR=127.0.0.1:0")...)
		rotate.Args = append(rotate.Args, "rotate-key")
		if out, err := runToExit(t, rotate); err != nil || !strings.Contains(string(out), "count=1") {
			t.Fatalf("rotate-key: %v\n%s", err, out)
		}
		write(newerKey) // the old key is gone: everything must open with the new one
		p = launch(t, env...)
		var out struct{ SendAlert struct{ ID string } }
		gql(t, p.base, `mutation { sendAlert(input: {title: "after rotation", content: "signed", contactNames: ["rot"]}) { id } }`, nil, &out)
		if status := waitForAlert(t, p.base, out.SendAlert.ID, 30*time.Second); status != "DELIVERED" {
			t.Fatalf("send after rotation: %s", status)
		}
	})
}

func TestLogsOfAFullRunHoldNoSecret(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		fake := startFake(t, 0)
		const adminToken = "admin-token-7f3a9c0e5b2d"
		key := newKey(t)
		signed := fakeplatform.Robot{Platform: senders.DingTalk, Token: "tok-ding-5a8e1f", Secret: "SECding-9b7c", Keywords: []string{"SchedulerX"}}
		wrong := fakeplatform.Robot{Platform: senders.Lark, Token: "tok-lark-3c6d2b", Secret: "lark-secret-4e1f"}
		// Hex only: the password goes into a URL unescaped.
		dbPassword := "db-password-" + hex.EncodeToString([]byte(key[:6]))
		if db.Name == "mysql" {
			db = withPasswordUser(t, db, dbPassword)
		}
		p := launch(t, deliveryEnv(db, "HERALD_LOG_FORMAT=json", "HERALD_ADMIN_TOKEN="+adminToken, "HERALD_SECRET_KEY="+key)...)
		larkURL := fake.AddRobot(wrong)
		res := gqlAs(t, p.base, adminToken, `mutation($d: String!, $l: String!) { createContact(input: {name: "leaky", webhooks: [
			{url: $d, secret: "SECding-9b7c"}, {url: $l, secret: "not-the-lark-secret-8d2a"}]}) { id } }`,
			map[string]any{"d": fake.AddRobot(signed), "l": larkURL})
		if strings.Contains(res, "errors") {
			t.Fatal(res)
		}
		var created struct {
			Data struct {
				CreateAPIToken struct{ Token string }
			}
		}
		_ = json.Unmarshal([]byte(gqlAs(t, p.base, adminToken, `mutation { createApiToken(name: "ci", role: SENDER) { token } }`, nil)), &created)
		apiToken := created.Data.CreateAPIToken.Token
		if apiToken == "" {
			t.Fatal("no token created")
		}
		var sent struct {
			Data struct{ SendAlert struct{ ID string } }
		}
		_ = json.Unmarshal([]byte(gqlAs(t, p.base, apiToken, `mutation { sendAlert(input: {title: "leak check", content: "c", contactNames: ["leaky"]}) { id } }`, nil)), &sent)
		if status := waitForAlertAs(t, p.base, adminToken, sent.Data.SendAlert.ID, 30*time.Second); status != "PARTIALLY_DELIVERED" {
			t.Fatalf("alert ended %s; want one signed send accepted and one refused", status)
		}
		gqlAs(t, p.base, "hrld_wrongwrongwrongwrongwrongwrongwrongwrongwro", `{ me { role } }`, nil)
		gqlAs(t, p.base, apiToken, `{ contacts { edges { node { webhooks { url } } } } }`, nil)
		p.stop()
		logs := p.logs.String()
		if !strings.Contains(logs, `"delivery attempt"`) {
			t.Fatalf("the run logged no delivery attempt:\n%s", logs)
		}
		for _, secret := range []string{adminToken, apiToken, key, dbPassword, "SECding-9b7c", "not-the-lark-secret-8d2a", "lark-secret-4e1f", signed.Token, wrong.Token, "5a8e1f", "3c6d2b"} {
			if strings.Contains(logs, secret) {
				t.Errorf("the logs contain %q", secret)
			}
		}
		if alert := gqlAs(t, launch(t, deliveryEnv(db, "HERALD_ADMIN_TOKEN="+adminToken, "HERALD_SECRET_KEY="+key)...).base, apiToken,
			`{ alerts { edges { node { deliveries { url lastError attempts { error } } } } } }`, nil); strings.Contains(alert, wrong.Token) || strings.Contains(alert, "SECding") {
			t.Errorf("a sender sees a secret in the history: %s", alert)
		}
	})
}

// waitForAlertAs polls an alert with a token until it is final.
func waitForAlertAs(t testing.TB, base, token, id string, timeout time.Duration) string {
	t.Helper()
	for deadline := time.Now().Add(timeout); ; {
		var out struct {
			Data struct{ Alert struct{ Status string } }
		}
		_ = json.Unmarshal([]byte(gqlAs(t, base, token, `query($id: ID!) { alert(id: $id) { status } }`, map[string]any{"id": id})), &out)
		if out.Data.Alert.Status != "PENDING" || time.Now().After(deadline) {
			return out.Data.Alert.Status
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// withPasswordUser gives a MySQL test database a user with a password, so that a test can check
// that the password never shows.
func withPasswordUser(t testing.TB, db modelstest.DB, password string) modelstest.DB {
	t.Helper()
	name := "herald_u" + strings.ReplaceAll(db.Config.MySQL.DBName[len(db.Config.MySQL.DBName)-6:], "_", "")
	for _, stmt := range []string{
		"CREATE USER '" + name + "'@'%' IDENTIFIED BY '" + password + "'",
		"GRANT ALL ON `" + db.Config.MySQL.DBName + "`.* TO '" + name + "'@'%'",
	} {
		if err := db.Gorm.Exec(stmt).Error; err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { db.Gorm.Exec("DROP USER IF EXISTS '" + name + "'@'%'") })
	db.URL = strings.Replace(db.URL, "mysql://root@", "mysql://"+name+":"+password+"@", 1)
	return db
}

func TestPlaintextSecretsFromEarlierVersionsAreSealedAtStartup(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		// An earlier Herald stored secrets as they came.
		c := models.Contact{Name: "legacy", NameKey: "legacy"}
		if err := db.Gorm.Create(&c).Error; err != nil {
			t.Fatal(err)
		}
		plain := "SEClegacy-plaintext"
		legacy := secrets.Sealed(plain) // what an earlier version stored in the column
		hook := models.Webhook{ContactID: c.ID, URL: "https://oapi.dingtalk.com/robot/send?access_token=legacy", RobotKey: "legacy",
			Platform: senders.DingTalk, Secret: &legacy}
		if err := db.Gorm.Omit("Contact").Create(&hook).Error; err != nil {
			t.Fatal(err)
		}
		p := launch(t, "HERALD_DATABASE="+db.URL, "HERALD_SECRET_KEY="+testSecretKey)
		p.stop()
		stored := storedSecrets(t, db.URL)
		if len(stored) != 1 || !secrets.IsEncrypted(stored[0]) || strings.Contains(stored[0], plain) {
			t.Fatalf("after start-up the secret is stored as %q", stored)
		}
		k, _ := secrets.FromBase64(testSecretKey)
		if opened, err := k.Decrypt(secrets.Sealed(stored[0])); err != nil || opened != plain {
			t.Fatalf("sealed secret opens to %q, %v", opened, err)
		}
	})
}

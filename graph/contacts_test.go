package graph_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/heraldhq/herald/models/modelstest"
)

const createContact = `mutation($in: CreateContactInput!) { createContact(input: $in) { ` + contactFields + ` } }`
const updateContact = `mutation($id: ID!, $in: UpdateContactInput!) { updateContact(id: $id, input: $in) { ` + contactFields + ` } }`

func hook(url string) map[string]any { return map[string]any{"url": url} }

func TestNamesAreUniqueIgnoringCaseOnly(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		alice := a.createContact("  Alice ")
		if alice.Name != "Alice" {
			t.Fatalf("name not trimmed: %q", alice.Name)
		}
		for _, dup := range []string{"alice", "ALICE", "Alice ", "\tAlice"} {
			e := a.fail(createContact, map[string]any{"in": map[string]any{"name": dup, "webhooks": []any{hook(dingURL())}}}, "CONFLICT", "input.name")
			if !strings.Contains(e.Message, "already exists") {
				t.Errorf("conflict message does not say so in words: %q", e.Message)
			}
		}
		// Accents are not case: both names live side by side, on MySQL too.
		a.createContact("José")
		a.createContact("Jose")
		a.createContact("张三")
		a.fail(createContact, map[string]any{"in": map[string]any{"name": "JOSÉ", "webhooks": []any{hook(dingURL())}}}, "CONFLICT", "input.name")
		a.createGroup("Ops")
		a.fail(`mutation { createContactGroup(input: {name: "OPS"}) { id } }`, nil, "CONFLICT", "input.name")
		// Renaming into a taken name conflicts too, and changes nothing.
		bob := a.createContact("Bob")
		a.fail(updateContact, map[string]any{"id": bob.ID, "in": map[string]any{"name": "jose"}}, "CONFLICT", "input.name")
		if got := a.contact(bob.ID).Name; got != "Bob" {
			t.Fatalf("failed rename changed the name to %q", got)
		}
		if names := joined(a.contactNames(100, nil)); names != "Alice,Bob,Jose,José,张三" {
			t.Fatalf("contacts = %s", names)
		}
	})
}

func TestNameRules(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		for _, bad := range []string{"", "   ", strings.Repeat("名", 65), "a\x00b", "line\nbreak"} {
			a.fail(createContact, map[string]any{"in": map[string]any{"name": bad, "webhooks": []any{hook(dingURL())}}}, "BAD_USER_INPUT", "input.name")
		}
		a.createContact(strings.Repeat("名", 64))
	})
}

func TestConcurrentCreatesOfOneNameGiveOneSuccess(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		const n = 20
		codes := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res := a.do(createContact, map[string]any{"in": map[string]any{"name": "Racer", "webhooks": []any{hook(dingURL())}}})
				if len(res.Errors) == 0 {
					codes[i] = "OK"
				} else {
					codes[i] = res.Errors[0].Extensions.Code
				}
			}()
		}
		wg.Wait()
		count := map[string]int{}
		for _, c := range codes {
			count[c]++
		}
		if count["OK"] != 1 || count["CONFLICT"] != n-1 {
			t.Fatalf("want 1 success and %d CONFLICT, got %v", n-1, count)
		}
	})
}

func TestContactNeedsOneToTenWebhooks(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		a.fail(createContact, map[string]any{"in": map[string]any{"name": "None", "webhooks": []any{}}}, "BAD_USER_INPUT", "input.webhooks")
		var eleven []any
		for range 11 {
			eleven = append(eleven, hook(dingURL()))
		}
		a.fail(createContact, map[string]any{"in": map[string]any{"name": "Many", "webhooks": eleven}}, "BAD_USER_INPUT", "input.webhooks")
		var out struct{ CreateContact contactJSON }
		a.must(createContact, map[string]any{"in": map[string]any{"name": "Ten", "webhooks": eleven[:10]}}, &out)
		if len(out.CreateContact.Webhooks) != 10 {
			t.Fatalf("got %d webhooks", len(out.CreateContact.Webhooks))
		}
		c := a.createContact("Keeper")
		a.fail(updateContact, map[string]any{"id": c.ID, "in": map[string]any{"webhooks": []any{}}}, "BAD_USER_INPUT", "input.webhooks")
		if got := a.contact(c.ID); len(got.Webhooks) != 1 {
			t.Fatalf("failed update lost webhooks: %+v", got.Webhooks)
		}
	})
}

func TestWebhookPlatformIsRecognisedOrRefused(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		var out struct{ CreateContact contactJSON }
		a.must(createContact, map[string]any{"in": map[string]any{"name": "Multi", "webhooks": []any{
			hook("https://oapi.dingtalk.com/robot/send?access_token=aaa"),
			hook("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=bbb"),
			hook("https://open.feishu.cn/open-apis/bot/v2/hook/ccc"),
			hook("https://open.larksuite.com/open-apis/bot/v2/hook/ddd"),
		}}}, &out)
		var platforms []string
		for _, w := range out.CreateContact.Webhooks {
			platforms = append(platforms, w.Platform)
		}
		if got := joined(platforms); got != "DINGTALK,WECOM,LARK,LARK" {
			t.Fatalf("platforms in saved order = %s", got)
		}
		a.fail(createContact, map[string]any{"in": map[string]any{"name": "Unknown", "webhooks": []any{
			hook(dingURL()), hook("https://example.com/somewhere"),
		}}}, "BAD_USER_INPUT", "input.webhooks[1].url")
		a.fail(createContact, map[string]any{"in": map[string]any{"name": "Scheme", "webhooks": []any{hook("ftp://oapi.dingtalk.com/robot/send?access_token=x")}}}, "BAD_USER_INPUT", "input.webhooks[0].url")
		long := "https://oapi.dingtalk.com/robot/send?access_token=" + strings.Repeat("x", 2049)
		a.fail(createContact, map[string]any{"in": map[string]any{"name": "Long", "webhooks": []any{hook(long)}}}, "BAD_USER_INPUT", "input.webhooks[0].url")
		// An explicit platform wins over the URL.
		a.must(createContact, map[string]any{"in": map[string]any{"name": "Explicit", "webhooks": []any{
			map[string]any{"url": "https://open.feishu.cn/open-apis/bot/v2/hook/eee", "platform": "WECOM"},
		}}}, &out)
		if p := out.CreateContact.Webhooks[0].Platform; p != "WECOM" {
			t.Fatalf("explicit platform ignored: %s", p)
		}
		if got := a.contactNames(100, nil); joined(got) != "Explicit,Multi" {
			t.Fatalf("a refused contact was stored: %v", got)
		}
	})
}

func TestSameURLTwiceInOneContactIsRefusedButSharedAcrossContacts(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		u := dingURL()
		a.fail(createContact, map[string]any{"in": map[string]any{"name": "Twice", "webhooks": []any{hook(u), hook(u)}}}, "BAD_USER_INPUT", "input.webhooks[1].url")
		a.must(createContact, map[string]any{"in": map[string]any{"name": "First", "webhooks": []any{hook(u)}}}, nil)
		a.must(createContact, map[string]any{"in": map[string]any{"name": "Second", "webhooks": []any{hook(u)}}}, nil)
	})
}

func TestSecretIsWriteOnlyAndKeptAcrossUpdates(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		u1, u2, u3 := dingURL(), dingURL(), dingURL()
		var out struct{ CreateContact contactJSON }
		a.must(createContact, map[string]any{"in": map[string]any{"name": "Signed", "webhooks": []any{
			map[string]any{"url": u1, "secret": "SECalpha", "keyword": "SchedulerX"},
			map[string]any{"url": u2, "secret": "SECbeta"},
		}}}, &out)
		c := out.CreateContact
		if !c.Webhooks[0].HasSecret || !c.Webhooks[1].HasSecret || c.Webhooks[0].Keyword == nil {
			t.Fatalf("secrets or keyword not stored: %+v", c.Webhooks)
		}
		raw := a.do(`query($id: ID!) { contact(id: $id) { webhooks { url hasSecret } } }`, map[string]any{"id": c.ID})
		if strings.Contains(string(raw.Data), "SECalpha") {
			t.Fatalf("a secret came back from the API: %s", raw.Data)
		}
		if res := a.do(`query($id: ID!) { contact(id: $id) { webhooks { secret } } }`, map[string]any{"id": c.ID}); len(res.Errors) == 0 {
			t.Fatal("the schema exposes a secret field")
		}
		// u1 omitted secret: kept. u2 secret "": cleared. u3 new: none. Order follows the input.
		var upd struct{ UpdateContact contactJSON }
		a.must(updateContact, map[string]any{"id": c.ID, "in": map[string]any{"webhooks": []any{
			map[string]any{"url": u3}, map[string]any{"url": u2, "secret": ""}, map[string]any{"url": u1},
		}}}, &upd)
		w := upd.UpdateContact.Webhooks
		if len(w) != 3 || w[0].URL != u3 || w[0].HasSecret || w[1].URL != u2 || w[1].HasSecret || w[2].URL != u1 || !w[2].HasSecret {
			t.Fatalf("after update: %+v", w)
		}
		if w[2].ID != c.Webhooks[0].ID || w[2].Keyword == nil || *w[2].Keyword != "SchedulerX" {
			t.Fatalf("a kept URL lost its id or keyword: %+v vs %+v", w[2], c.Webhooks[0])
		}
		if upd.UpdateContact.UpdatedAt == c.UpdatedAt {
			t.Errorf("updatedAt did not move")
		}
		// Replacing the list drops URLs that are not in it.
		a.must(updateContact, map[string]any{"id": c.ID, "in": map[string]any{"webhooks": []any{map[string]any{"url": u1}}}}, &upd)
		if len(upd.UpdateContact.Webhooks) != 1 || !upd.UpdateContact.Webhooks[0].HasSecret {
			t.Fatalf("after replace: %+v", upd.UpdateContact.Webhooks)
		}
	})
}

func TestPhoneRules(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		for _, bad := range []string{"1234", "+", "12-345678", "123456789012345678901", "abcdef"} {
			a.fail(createContact, map[string]any{"in": map[string]any{"name": "P" + bad, "phone": bad, "webhooks": []any{hook(dingURL())}}}, "BAD_USER_INPUT", "input.phone")
		}
		var out struct{ CreateContact contactJSON }
		a.must(createContact, map[string]any{"in": map[string]any{"name": "Phoned", "phone": "+8613800138000", "webhooks": []any{hook(dingURL())}}}, &out)
		if out.CreateContact.Phone == nil || *out.CreateContact.Phone != "+8613800138000" {
			t.Fatalf("phone = %v", out.CreateContact.Phone)
		}
		var upd struct{ UpdateContact contactJSON }
		a.must(updateContact, map[string]any{"id": out.CreateContact.ID, "in": map[string]any{"name": "Renamed"}}, &upd)
		if upd.UpdateContact.Phone == nil {
			t.Fatal("an update without phone cleared it")
		}
		a.must(updateContact, map[string]any{"id": out.CreateContact.ID, "in": map[string]any{"phone": ""}}, &upd)
		if upd.UpdateContact.Phone != nil {
			t.Fatal(`phone "" did not clear it`)
		}
	})
}

func TestUnknownIDsAreNotFoundAndChangeNothing(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		g := a.createGroup("Real")
		a.fail(createContact, map[string]any{"in": map[string]any{"name": "Orphan", "webhooks": []any{hook(dingURL())}, "groupIds": []string{g.ID, "999999"}}}, "NOT_FOUND", "input.groupIds[1]")
		a.fail(createContact, map[string]any{"in": map[string]any{"name": "Orphan", "webhooks": []any{hook(dingURL())}, "groupIds": []string{"not-an-id"}}}, "NOT_FOUND", "input.groupIds[0]")
		if names := a.contactNames(10, nil); len(names) != 0 {
			t.Fatalf("a failed create left %v", names)
		}
		c := a.createContact("Member", g.ID)
		a.fail(updateContact, map[string]any{"id": c.ID, "in": map[string]any{"name": "Changed", "groupIds": []string{"424242"}}}, "NOT_FOUND", "input.groupIds[0]")
		got := a.contact(c.ID)
		if got.Name != "Member" || len(got.Groups) != 1 {
			t.Fatalf("a failed update changed the contact: %+v", got)
		}
		a.fail(updateContact, map[string]any{"id": "777777", "in": map[string]any{"name": "X"}}, "NOT_FOUND", "id")
		a.fail(`mutation { deleteContact(id: "777777") }`, nil, "NOT_FOUND", "id")
		a.fail(`mutation { deleteContactGroup(id: "x") }`, nil, "NOT_FOUND", "id")
		a.fail(`mutation($c: [ID!]!) { addContactsToGroup(groupId: "888888", contactIds: $c) { id } }`, map[string]any{"c": []string{c.ID}}, "NOT_FOUND", "groupId")
		a.fail(`mutation($g: ID!) { addContactsToGroup(groupId: $g, contactIds: ["1", "888888"]) { id } }`, map[string]any{"g": g.ID}, "NOT_FOUND", "contactIds[1]")
		if a.contact("777777") != nil || a.group("abc") != nil {
			t.Fatal("a missing id did not answer null")
		}
	})
}

func TestBatchDeleteReportsDeletedAndNotFound(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		c1, c2, c3 := a.createContact("One"), a.createContact("Two"), a.createContact("Three")
		g := a.createGroup("G", c1.ID, c2.ID, c3.ID)
		var out struct {
			BatchDeleteContacts struct{ DeletedIds, NotFoundIds []string }
		}
		a.must(`mutation($ids: [ID!]!) { batchDeleteContacts(ids: $ids) { deletedIds notFoundIds } }`,
			map[string]any{"ids": []string{c1.ID, "999999", c3.ID, "bogus", c1.ID}}, &out)
		if joined(out.BatchDeleteContacts.DeletedIds) != c1.ID+","+c3.ID || joined(out.BatchDeleteContacts.NotFoundIds) != "999999,bogus" {
			t.Fatalf("batch delete = %+v", out.BatchDeleteContacts)
		}
		if names := joined(a.contactNames(10, nil)); names != "Two" {
			t.Fatalf("left: %s", names)
		}
		if got := a.group(g.ID); got.ContactCount != 1 || got.Contacts[0].ID != c2.ID {
			t.Fatalf("group after batch delete: %+v", got)
		}
		ids := make([]string, 1001)
		for i := range ids {
			ids[i] = c2.ID
		}
		a.fail(`mutation($ids: [ID!]!) { batchDeleteContacts(ids: $ids) { deletedIds } }`, map[string]any{"ids": ids}, "BAD_USER_INPUT", "ids")
		if a.contact(c2.ID) == nil {
			t.Fatal("a refused batch deleted something")
		}
	})
}

func TestDeletedNameCanBeReusedAtOnce(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		c := a.createContact("Phoenix")
		a.must(`mutation($id: ID!) { deleteContact(id: $id) }`, map[string]any{"id": c.ID}, nil)
		again := a.createContact("phoenix")
		if again.ID == c.ID {
			t.Fatal("a deleted id was reused")
		}
		g := a.createGroup("Team")
		a.must(`mutation($id: ID!) { deleteContactGroup(id: $id) }`, map[string]any{"id": g.ID}, nil)
		a.createGroup("TEAM")
	})
}

func TestSearchIsCaseInsensitiveSubstring(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		for _, n := range []string{"Alice Smith", "bob smithers", "Carol", "100% uptime", "snake_case", "Ünal"} {
			a.createContact(n)
		}
		cases := map[string]string{
			"SMITH": "Alice Smith,bob smithers",
			"ol":    "Carol",
			"%":     "100% uptime",
			"_":     "snake_case",
			"ünal":  "Ünal",
			"zzz":   "",
		}
		for q, want := range cases {
			if got := joined(a.contactNames(100, map[string]any{"search": q})); got != want {
				t.Errorf("search %q = %q, want %q", q, got, want)
			}
		}
		a.fail(`query($s: String) { contacts(filter: {search: $s}) { totalCount } }`, map[string]any{"s": strings.Repeat("a", 65)}, "BAD_USER_INPUT", "filter.search")
	})
}

// createContact answers with the webhooks and groups it has just written, as a later read shows
// them, without reading them back.
func TestCreateContactAnswersWithoutReadingBack(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		a := newAPI(t, db)
		zeta, alpha := a.createGroup("zeta"), a.createGroup("Alpha")
		const create = `mutation($name: String!, $groups: [ID!]) { createContact(input: {name: $name, groupIds: $groups, webhooks: [
			{url: "https://oapi.dingtalk.com/robot/send?access_token=one", secret: "SEC1", keyword: "kw"},
			{url: "https://open.feishu.cn/open-apis/bot/v2/hook/two"}]}) { id %s } }`
		const lists = `webhooks { id url platform hasSecret keyword } groups { id name }`
		vars := func(name string) map[string]any {
			return map[string]any{"name": name, "groups": []string{zeta.ID, alpha.ID}}
		}
		a.must(fmt.Sprintf(create, ""), vars("bare"), nil)
		bare := a.lastStatements.Load().Load()
		var out struct{ CreateContact json.RawMessage }
		a.must(fmt.Sprintf(create, lists), vars("full"), &out)
		if full := a.lastStatements.Load().Load(); full != bare {
			t.Errorf("SQL statements: %d selecting the lists, %d without; want equal", full, bare)
		}
		var id struct{ ID string }
		if err := json.Unmarshal(out.CreateContact, &id); err != nil {
			t.Fatal(err)
		}
		var again struct{ Contact json.RawMessage }
		a.must(`query($id: ID!) { contact(id: $id) { id `+lists+` } }`, map[string]any{"id": id.ID}, &again)
		if string(again.Contact) != string(out.CreateContact) {
			t.Fatalf("created:\n%s\nread back:\n%s", out.CreateContact, again.Contact)
		}
	})
}

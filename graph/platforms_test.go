package graph_test

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald/graph"
	"github.com/heraldhq/herald/models/modelstest"
	"github.com/heraldhq/herald/senders/platforms"
)

func TestPlatformsDescribeEachPlatformFromItsDescriptor(t *testing.T) {
	a := newAPI(t, modelstest.SQLite(t))
	var out struct {
		Platforms []struct {
			Platform, Name, Label, WebhookPath, Mentions string
			OfficialHosts                                []string
			TokenParam                                   *string
			MaxMessageBytes                              int
			RateLimits                                   []struct {
				Messages int
				Seconds  float64
			}
		}
	}
	a.must(`{ platforms { platform name label officialHosts webhookPath tokenParam maxMessageBytes mentions
		rateLimits { messages seconds } } }`, nil, &out)
	if len(out.Platforms) != 3 {
		t.Fatalf("platforms = %+v, want DingTalk, WeCom and Lark", out.Platforms)
	}
	ding, lark := out.Platforms[0], out.Platforms[2]
	if ding.Platform != "DINGTALK" || ding.Label != "DingTalk" || ding.TokenParam == nil || *ding.TokenParam != "access_token" ||
		len(ding.OfficialHosts) != 1 || ding.OfficialHosts[0] != "oapi.dingtalk.com" || ding.MaxMessageBytes != 20000 ||
		len(ding.RateLimits) != 1 || ding.RateLimits[0].Messages != 20 || ding.RateLimits[0].Seconds != 62 {
		t.Errorf("DingTalk = %+v", ding)
	}
	if lark.Platform != "LARK" || lark.TokenParam != nil || lark.WebhookPath != "/open-apis/bot/v2/hook/" ||
		len(lark.OfficialHosts) != 2 || len(lark.RateLimits) != 2 || lark.RateLimits[0].Seconds != 1.25 {
		t.Errorf("Lark = %+v", lark)
	}
}

// TestThePlatformEnumIsTheRegisteredPlatforms keeps the schema's Platform enum, which clients send in
// WebhookInput.platform, equal to package platforms' list.
func TestThePlatformEnumIsTheRegisteredPlatforms(t *testing.T) {
	var enum, registered []string
	for _, v := range graph.NewExecutableSchema(graph.Config{}).Schema().Types["Platform"].EnumValues {
		enum = append(enum, v.Name)
	}
	for _, d := range platforms.All() {
		registered = append(registered, string(d.Platform))
	}
	if strings.Join(enum, ",") != strings.Join(registered, ",") {
		t.Fatalf("enum Platform is %v; package platforms registers %v", enum, registered)
	}
}

func TestCheckWebhooksJudgesEachURLAsSavingAContactWouldAndSavesNothing(t *testing.T) {
	a := newAPI(t, modelstest.SQLite(t))
	var out struct {
		CheckWebhooks []struct{ Platform, Error *string }
	}
	a.must(`query($w: [WebhookInput!]!) { checkWebhooks(webhooks: $w) { platform error } }`, map[string]any{"w": []map[string]any{
		{"url": " https://oapi.dingtalk.com/robot/send?access_token=a "},
		{"url": "https://example.com/hook"},
		{"url": "https://example.com/hook", "platform": "WECOM"},
	}}, &out)
	got := out.CheckWebhooks
	if len(got) != 3 || got[0].Platform == nil || *got[0].Platform != "DINGTALK" || got[0].Error != nil ||
		got[1].Platform != nil || got[1].Error == nil || *got[1].Error == "" ||
		got[2].Platform == nil || *got[2].Platform != "WECOM" {
		t.Fatalf("checkWebhooks = %+v", got)
	}
	res := a.do(`mutation { createContact(input: {name: "c", webhooks: [{url: "https://example.com/hook"}]}) { id } }`, nil)
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, *got[1].Error) {
		t.Errorf("createContact says %+v; checkWebhooks said %q", res.Errors, *got[1].Error)
	}
	var count struct{ Contacts struct{ TotalCount int } }
	a.must(`{ contacts { totalCount } }`, nil, &count)
	if count.Contacts.TotalCount != 0 {
		t.Errorf("checkWebhooks or the refused create saved %d contacts", count.Contacts.TotalCount)
	}

	many := make([]map[string]any, 1001)
	for i := range many {
		many[i] = map[string]any{"url": "https://oapi.dingtalk.com/robot/send?access_token=a"}
	}
	res = a.do(`query($w: [WebhookInput!]!) { checkWebhooks(webhooks: $w) { platform } }`, map[string]any{"w": many})
	if len(res.Errors) != 1 || res.Errors[0].Extensions.Code != "BAD_USER_INPUT" || res.Errors[0].Extensions.Field != "webhooks" {
		t.Errorf("1,001 webhooks: %+v", res.Errors)
	}
}

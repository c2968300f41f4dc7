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

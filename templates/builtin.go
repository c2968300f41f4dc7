package templates

import (
	"embed"
	"net/url"
	"strings"

	"github.com/heraldhq/herald/senders"
)

//go:embed builtin/*.tmpl
var builtinFiles embed.FS

// Builtin is a template that ships with Herald: the default of a kind of source.
type Builtin struct {
	// ID is how the API names it ("builtin:alertmanager").
	ID       string
	Name     string
	Title    string
	Body     string
	Format   senders.Format
	Template *Template
}

// The built-in templates' ids.
const (
	BuiltinAlertmanager = "builtin:alertmanager"
	BuiltinGrafana      = "builtin:grafana"
	BuiltinGeneric      = "builtin:generic"
)

// Builtins are the built-in templates, in the order the API lists them.
var Builtins = loadBuiltins()

func loadBuiltins() []Builtin {
	notification, err := builtinFiles.ReadFile("builtin/notification.md.tmpl")
	if err != nil {
		panic(err)
	}
	list := []Builtin{
		{ID: BuiltinAlertmanager, Name: "Alertmanager (built-in)", Title: "{{ .Title }}", Body: string(notification), Format: senders.Card},
		{ID: BuiltinGrafana, Name: "Grafana (built-in)", Title: "{{ .Title }}", Body: string(notification), Format: senders.Card},
		{ID: BuiltinGeneric, Name: "Message as sent (built-in)", Title: "{{ .Title }}", Body: "{{ .Content }}", Format: senders.Markdown},
	}
	for i := range list {
		list[i].Template = MustParse(list[i].Title, list[i].Body)
	}
	return list
}

// BuiltinByID finds a built-in template.
func BuiltinByID(id string) (Builtin, bool) {
	for _, b := range Builtins {
		if b.ID == id {
			return b, true
		}
	}
	return Builtin{}, false
}

// Herald's markdown helpers are in the function library (oneLine, fenceless, linkTarget), so that
// the built-in layout and users' templates defuse a source's text the same way: what could break a
// layout is changed, and nothing else of the text.

// Fenceless breaks code fences in free text: an unclosed one would swallow everything after it.
func Fenceless(s string) string { return strings.ReplaceAll(s, "```", "`\u200b``") }

// LinkTarget is u as a markdown link target, or "" when it is not an http(s) URL: the parentheses
// and spaces that would end the target early are percent-encoded.
func LinkTarget(u string) string {
	parsed, err := url.Parse(strings.TrimSpace(u))
	if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
		return ""
	}
	return targetEscapes.Replace(parsed.String())
}

var targetEscapes = strings.NewReplacer("(", "%28", ")", "%29", " ", "%20")

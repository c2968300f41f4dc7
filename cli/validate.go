package cli

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/templates"
)

// The checks here catch, before anything changes, what the server would refuse half-way through an
// apply, and say where in the file. The server checks everything again; what it refuses is mapped
// back to the file's line through the error's field.

var (
	enumPlatform    = []string{"DINGTALK", "WECOM", "LARK"}
	enumQuietPolicy = []string{"DIGEST", "DROP"}
	enumFormat      = []string{"TEXT", "MARKDOWN", "CARD"}
	enumKind        = []string{"ALERTMANAGER", "GRAFANA", "GENERIC"}
	enumOp          = []string{"EQ", "NEQ", "REGEX", "NOT_REGEX"}
	phoneRE         = regexp.MustCompile(`^\+?[0-9]{5,20}$`)
	userIDRE        = regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,64}$`)
	clockRE         = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$`)
	namespaceRE     = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

// builtinPrefix marks a reference to one of the templates that ship with Herald.
const builtinPrefix = "builtin:"

// check normalises the file (trims names, upper-cases enums, fills defaults) and reports what is
// wrong with it, each problem at its line.
func (d *document) check() {
	f := &d.root
	if len(f.Namespaces) == 0 {
		d.at("", "%s", errNoNamespaces)
	}
	namespaces := names{}
	for i := range f.Namespaces {
		ns := &f.Namespaces[i]
		p := fmt.Sprintf("namespaces[%d]", i)
		ns.Name = strings.ToLower(strings.TrimSpace(ns.Name))
		if !namespaceRE.MatchString(ns.Name) {
			d.at(p+".name", "namespace name %q must be 1-63 characters of a-z, 0-9 and -", ns.Name)
		}
		namespaces.add(d, p+".name", "namespace", ns.Name)
		d.checkNamespace(ns, p)
	}
}

// names finds objects given twice, by the key the server compares names with.
type names map[string]bool

func (n names) add(d *document, path, what, name string) {
	key := models.NameKey(name)
	if n[key] {
		d.at(path, "%s %q is given twice (names are compared ignoring letter case)", what, name)
	}
	n[key] = true
}

func (d *document) name(path, what string, name *string) {
	*name = strings.TrimSpace(*name)
	switch n := utf8.RuneCountInString(*name); {
	case n == 0:
		d.at(path, "%s needs a name", what)
	case n > 64:
		d.at(path, "%s name %q is over 64 characters", what, *name)
	}
}

func (d *document) enum(path string, value *string, allowed []string, fallback string) {
	*value = strings.ToUpper(strings.TrimSpace(*value))
	if *value == "" {
		*value = fallback
		return
	}
	for _, a := range allowed {
		if *value == a {
			return
		}
	}
	d.at(path, "%s must be one of %s, not %q", fieldName(path), strings.Join(allowed, ", "), *value)
}

func (d *document) zone(path string, zone *string, fallback string) {
	*zone = strings.TrimSpace(*zone)
	if *zone == "" {
		*zone = fallback
		return
	}
	if _, err := time.LoadLocation(*zone); err != nil {
		d.at(path, "%q is not an IANA time zone such as Asia/Shanghai", *zone)
	}
}

// refs checks that each name refers to an object of the namespace.
func (d *document) refs(path, what string, list []string, known names) {
	seen := names{}
	for i := range list {
		list[i] = strings.TrimSpace(list[i])
		p := fmt.Sprintf("%s[%d]", path, i)
		if !known[models.NameKey(list[i])] {
			d.at(p, "no %s %q in this namespace", what, list[i])
		}
		seen.add(d, p, what, list[i])
	}
}

func (d *document) checkNamespace(ns *Namespace, p string) {
	contacts, groups, templatesByName, integrations, routes := names{}, names{}, names{}, names{}, names{}
	for i := range ns.Contacts {
		c := &ns.Contacts[i]
		cp := fmt.Sprintf("%s.contacts[%d]", p, i)
		d.name(cp+".name", "a contact", &c.Name)
		contacts.add(d, cp+".name", "contact", c.Name)
		c.Phone = strings.TrimSpace(c.Phone)
		if c.Phone != "" && !phoneRE.MatchString(c.Phone) {
			d.at(cp+".phone", "phone %q must be 5-20 digits with an optional leading +", c.Phone)
		}
		for field, id := range map[string]*string{"dingtalkUserId": &c.DingtalkUserID, "wecomUserId": &c.WecomUserID, "larkUserId": &c.LarkUserID} {
			*id = strings.TrimSpace(*id)
			if *id != "" && !userIDRE.MatchString(*id) {
				d.at(cp+"."+field, "%s %q must be 1-64 ASCII letters, digits, '_', '-', '.' or '@'", field, *id)
			}
		}
		if n := len(c.Webhooks); n < 1 || n > 10 {
			d.at(cp+".webhooks", "contact %q needs 1-10 webhooks, not %d", c.Name, n)
		}
		urls := map[string]bool{}
		for j := range c.Webhooks {
			w := &c.Webhooks[j]
			wp := fmt.Sprintf("%s.webhooks[%d]", cp, j)
			w.URL, w.Secret, w.Keyword = strings.TrimSpace(w.URL), strings.TrimSpace(w.Secret), strings.TrimSpace(w.Keyword)
			if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				d.at(wp+".url", "webhook url %q must be an http(s) URL", senders.RedactURL(w.URL))
			}
			if urls[w.URL] {
				d.at(wp+".url", "the contact has this webhook url twice")
			}
			urls[w.URL] = true
			if w.Platform != "" {
				d.enum(wp+".platform", &w.Platform, enumPlatform, "")
			}
		}
	}
	for i := range ns.Templates {
		t := &ns.Templates[i]
		tp := fmt.Sprintf("%s.templates[%d]", p, i)
		d.name(tp+".name", "a template", &t.Name)
		if strings.HasPrefix(t.Name, builtinPrefix) {
			d.at(tp+".name", "a template's name may not start with %s: those are Herald's own", builtinPrefix)
		}
		templatesByName.add(d, tp+".name", "template", t.Name)
		d.enum(tp+".format", &t.Format, enumFormat, "MARKDOWN")
		if _, err := templates.Parse(t.Title, t.Body); err != nil {
			d.at(tp+".body", "template %q does not parse: %v", t.Name, err)
		}
	}
	templateRef := func(path string, ref *string) {
		*ref = strings.TrimSpace(*ref)
		if *ref != "" && !strings.HasPrefix(*ref, builtinPrefix) && !templatesByName[models.NameKey(*ref)] {
			d.at(path, "no template %q in this namespace", *ref)
		}
	}
	for i := range ns.Groups {
		g := &ns.Groups[i]
		gp := fmt.Sprintf("%s.groups[%d]", p, i)
		d.name(gp+".name", "a group", &g.Name)
		groups.add(d, gp+".name", "group", g.Name)
		g.Description = strings.TrimSpace(g.Description)
		d.refs(gp+".members", "contact", g.Members, contacts)
		d.enum(gp+".quietPolicy", &g.QuietPolicy, enumQuietPolicy, "DIGEST")
		for j := range g.QuietHours {
			w := &g.QuietHours[j]
			wp := fmt.Sprintf("%s.quietHours[%d]", gp, j)
			for k, day := range w.Weekdays {
				if day < 1 || day > 7 {
					d.at(fmt.Sprintf("%s.weekdays[%d]", wp, k), "a weekday is 1 (Monday) to 7 (Sunday), not %d", day)
				}
			}
			if !clockRE.MatchString(w.Start) || w.Start == "24:00" {
				d.at(wp+".start", "start %q must be HH:MM, 00:00-23:59", w.Start)
			}
			if !clockRE.MatchString(w.End) {
				d.at(wp+".end", "end %q must be HH:MM, 00:00-24:00", w.End)
			}
			d.zone(wp+".timeZone", &w.TimeZone, "UTC")
		}
	}
	for i := range ns.Integrations {
		in := &ns.Integrations[i]
		ip := fmt.Sprintf("%s.integrations[%d]", p, i)
		d.name(ip+".name", "an integration", &in.Name)
		integrations.add(d, ip+".name", "integration", in.Name)
		d.enum(ip+".kind", &in.Kind, enumKind, "")
		if in.Kind == "" {
			d.at(ip, "integration %q needs a kind (%s)", in.Name, strings.Join(enumKind, ", "))
		}
		d.refs(ip+".groups", "group", in.Groups, groups)
		d.refs(ip+".contacts", "contact", in.Contacts, contacts)
		if len(in.Groups)+len(in.Contacts) == 0 && !in.RouteByLabels {
			d.at(ip, "integration %q needs groups or contacts, or routeByLabels: true", in.Name)
		}
		if in.SendResolved == nil {
			yes := true
			in.SendResolved = &yes
		}
		if in.SigningSecret != "" && in.Kind != "GRAFANA" {
			d.at(ip+".signingSecret", "only GRAFANA integrations verify a signature")
		}
		d.zone(ip+".timeZone", &in.TimeZone, "UTC")
		templateRef(ip+".template", &in.Template)
	}
	for i := range ns.Routes {
		r := &ns.Routes[i]
		rp := fmt.Sprintf("%s.routes[%d]", p, i)
		d.name(rp+".name", "a route", &r.Name)
		routes.add(d, rp+".name", "route", r.Name)
		d.refs(rp+".groups", "group", r.Groups, groups)
		d.refs(rp+".contacts", "contact", r.Contacts, contacts)
		if len(r.Groups)+len(r.Contacts) == 0 {
			d.at(rp, "route %q needs groups or contacts", r.Name)
		}
		d.matchers(rp+".matchers", r.Matchers)
		templateRef(rp+".template", &r.Template)
	}
	for i := range ns.Silences {
		s := &ns.Silences[i]
		sp := fmt.Sprintf("%s.silences[%d]", p, i)
		s.Comment = strings.TrimSpace(s.Comment)
		if s.Comment == "" {
			d.at(sp, "a silence needs a comment")
		}
		if len(s.Matchers) == 0 {
			d.at(sp, "a silence needs matchers")
		}
		d.matchers(sp+".matchers", s.Matchers)
		if s.EndsAt.IsZero() {
			d.at(sp, "a silence needs endsAt")
		} else if s.StartsAt != nil && !s.EndsAt.After(*s.StartsAt) {
			d.at(sp+".endsAt", "endsAt must be after startsAt")
		}
	}
}

func (d *document) matchers(path string, list []Matcher) {
	for i := range list {
		m := &list[i]
		mp := fmt.Sprintf("%s[%d]", path, i)
		m.Label = strings.TrimSpace(m.Label)
		if m.Label == "" || strings.ContainsAny(m.Label, " \t") {
			d.at(mp+".label", "a matcher needs a label name without spaces")
		}
		d.enum(mp+".op", &m.Op, enumOp, "")
		if m.Op == "" {
			d.at(mp, "a matcher needs an op (%s)", strings.Join(enumOp, ", "))
		}
		if m.Op == "REGEX" || m.Op == "NOT_REGEX" {
			if _, err := regexp.Compile("^(?:" + m.Value + ")$"); err != nil {
				d.at(mp+".value", "%q is not a regular expression: %v", m.Value, err)
			}
		}
	}
}

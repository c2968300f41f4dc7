package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/senders/platforms"
)

// The checks here catch, before anything changes, what the server would refuse half-way through an
// apply, and say where in the file. They are the server's own rules (models' Clean functions, the
// platforms' recognition of webhook URLs, the template parser) run on the file. Its allow-list of
// webhook hosts is the server's alone: apply asks it (checkWebhooks) before changing anything. The
// server checks everything again; what it alone can know at that moment (a name another client took
// meanwhile) it refuses with the error's field, which refused maps back to the line.

// builtinPrefix marks a reference to one of the templates that ship with Herald.
const builtinPrefix = "builtin:"

// check normalises the file as the server would store it (trims names, upper-cases enums, fills
// defaults, sorts weekdays) and reports what is wrong with it, each problem at its line. now is when
// the silences' spans are measured from.
func (d *document) check(now time.Time) {
	f := &d.root
	if len(f.Namespaces) == 0 {
		d.at("", "%s", errNoNamespaces)
	}
	namespaces := names{}
	for i := range f.Namespaces {
		ns := &f.Namespaces[i]
		p := fmt.Sprintf("namespaces[%d]", i)
		ns.Name = strings.ToLower(strings.TrimSpace(ns.Name))
		_, err := models.CleanNamespaceName("name", ns.Name)
		d.rule(p, err)
		namespaces.add(d, p+".name", "namespace", ns.Name)
		ns.Description = d.description(p, ns.Description)
		d.checkNamespace(ns, p, now)
	}
}

// rule records what one of the server's rules refused, at the field it names below path.
func (d *document) rule(path string, err error) {
	if err == nil {
		return
	}
	if e, ok := models.AsError(err); ok {
		if e.Field != "" {
			path = join(path, e.Field)
		}
		d.at(path, "%s", e.Message)
		return
	}
	d.at(path, "%v", err)
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

// name checks the name of the object at path.
func (d *document) name(path string, name *string) {
	*name = strings.TrimSpace(*name)
	_, _, err := models.CleanName("name", *name)
	d.rule(path, err)
}

func (d *document) description(path, description string) string {
	clean, err := models.CleanDescription("description", description)
	d.rule(path, err)
	return clean
}

// enum reads an enum value of the schema in any letter case; "" becomes fallback.
func enum[E ~string](d *document, path string, value *string, allowed []E, fallback E) {
	*value = strings.ToUpper(strings.TrimSpace(*value))
	if *value == "" {
		*value = string(fallback)
		return
	}
	for _, a := range allowed {
		if *value == string(a) {
			return
		}
	}
	d.at(path, "%s must be one of %s, not %q", fieldName(path), enumNames(allowed), *value)
}

func enumNames[E ~string](all []E) string {
	names := make([]string, len(all))
	for i, e := range all {
		names[i] = string(e)
	}
	return strings.Join(names, ", ")
}

// zone checks the time zone at path.field; "" becomes UTC, as the server stores it.
func (d *document) zone(path, field string, zone *string) {
	clean, err := models.CleanTimeZone(field, *zone)
	if err != nil {
		d.rule(path, err)
		return
	}
	*zone = clean
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

func (d *document) checkNamespace(ns *Namespace, p string, now time.Time) {
	contacts, groups, templatesByName, integrations, routes := names{}, names{}, names{}, names{}, names{}
	for i := range ns.Contacts {
		d.checkContact(&ns.Contacts[i], fmt.Sprintf("%s.contacts[%d]", p, i))
		contacts.add(d, fmt.Sprintf("%s.contacts[%d].name", p, i), "contact", ns.Contacts[i].Name)
	}
	for i := range ns.Templates {
		t := &ns.Templates[i]
		tp := fmt.Sprintf("%s.templates[%d]", p, i)
		d.name(tp, &t.Name)
		if strings.HasPrefix(t.Name, builtinPrefix) {
			d.at(tp+".name", "a template's name may not start with %s: those are Herald's own", builtinPrefix)
		}
		templatesByName.add(d, tp+".name", "template", t.Name)
		enum(d, tp+".format", &t.Format, client.AllMessageFormat, client.MessageFormatMarkdown)
		_, err := models.ParseTemplate(t.Title, t.Body)
		d.rule(tp, err)
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
		d.name(gp, &g.Name)
		groups.add(d, gp+".name", "group", g.Name)
		g.Description = d.description(gp, g.Description)
		d.refs(gp+".members", "contact", g.Members, contacts)
		enum(d, gp+".quietPolicy", &g.QuietPolicy, client.AllQuietPolicy, client.QuietPolicyDigest)
		d.quietHours(gp, g)
	}
	for i := range ns.Integrations {
		in := &ns.Integrations[i]
		ip := fmt.Sprintf("%s.integrations[%d]", p, i)
		d.name(ip, &in.Name)
		integrations.add(d, ip+".name", "integration", in.Name)
		enum(d, ip+".kind", &in.Kind, client.AllIntegrationKind, "")
		if in.Kind == "" {
			d.at(ip, "integration %q needs a kind (%s)", in.Name, enumNames(client.AllIntegrationKind))
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
		if secret, err := models.CleanSecret("signingSecret", in.SigningSecret); err != nil {
			d.rule(ip, err)
		} else if secret != nil && in.Kind != string(client.IntegrationKindGrafana) {
			d.at(ip+".signingSecret", "only GRAFANA integrations verify a signature")
		}
		d.zone(ip, "timeZone", &in.TimeZone)
		templateRef(ip+".template", &in.Template)
	}
	for i := range ns.Routes {
		r := &ns.Routes[i]
		rp := fmt.Sprintf("%s.routes[%d]", p, i)
		d.name(rp, &r.Name)
		routes.add(d, rp+".name", "route", r.Name)
		d.refs(rp+".groups", "group", r.Groups, groups)
		d.refs(rp+".contacts", "contact", r.Contacts, contacts)
		if len(r.Groups)+len(r.Contacts) == 0 {
			d.at(rp, "route %q needs groups or contacts", r.Name)
		}
		_, err := models.CleanMatchers("matchers", matchers(r.Matchers))
		d.rule(rp, err)
		templateRef(rp+".template", &r.Template)
	}
	for i := range ns.Silences {
		d.checkSilence(&ns.Silences[i], fmt.Sprintf("%s.silences[%d]", p, i), now)
	}
}

func (d *document) checkContact(c *Contact, cp string) {
	d.name(cp, &c.Name)
	c.Phone = strings.TrimSpace(c.Phone)
	_, err := models.CleanPhone("phone", c.Phone)
	d.rule(cp, err)
	for _, id := range []struct {
		field string
		value *string
	}{{"dingtalkUserId", &c.DingtalkUserID}, {"wecomUserId", &c.WecomUserID}, {"larkUserId", &c.LarkUserID}} {
		*id.value = strings.TrimSpace(*id.value)
		_, err := models.CleanUserID(id.field, *id.value)
		d.rule(cp, err)
	}
	if n := len(c.Webhooks); n < 1 || n > models.MaxWebhooksPerContact {
		d.at(cp+".webhooks", "contact %q needs 1-%d webhooks, not %d", c.Name, models.MaxWebhooksPerContact, n)
	}
	urls := map[string]bool{}
	for j := range c.Webhooks {
		w := &c.Webhooks[j]
		wp := fmt.Sprintf("%s.webhooks[%d]", cp, j)
		w.URL, w.Secret, w.Keyword = strings.TrimSpace(w.URL), strings.TrimSpace(w.Secret), strings.TrimSpace(w.Keyword)
		problems := len(d.problems)
		enum(d, wp+".platform", &w.Platform, client.AllPlatform, "")
		if len(d.problems) == problems {
			// The URL's form and platform, as the server checks them; its allow-list is asked in apply.
			if _, err := platforms.Registry.Recognize(w.URL, senders.Platform(w.Platform)); err != nil {
				d.at(wp+".url", "webhook url %s: %v", senders.RedactURL(w.URL), err)
			}
		}
		if urls[w.URL] {
			d.at(wp+".url", "the contact has this webhook url twice")
		}
		urls[w.URL] = true
		_, err := models.CleanSecret("secret", w.Secret)
		d.rule(wp, err)
		_, err = models.CleanKeyword("keyword", w.Keyword)
		d.rule(wp, err)
	}
}

// quietHours checks a group's windows by the server's rule, and writes them back as it stores them
// (weekdays sorted and once each, UTC for no zone), so that a second apply finds nothing to change.
func (d *document) quietHours(gp string, g *Group) {
	windows := make([]models.TimeWindow, len(g.QuietHours))
	for i, w := range g.QuietHours {
		windows[i] = models.TimeWindow{Weekdays: w.Weekdays, Start: strings.TrimSpace(w.Start), End: strings.TrimSpace(w.End), TimeZone: w.TimeZone}
	}
	clean, err := models.CleanQuietHours("quietHours", windows)
	if err != nil {
		d.rule(gp, err)
		return
	}
	for i, w := range clean {
		g.QuietHours[i] = TimeWindow{Weekdays: w.Weekdays, Start: w.Start, End: w.End, TimeZone: w.TimeZone}
		if len(w.Weekdays) == 0 {
			g.QuietHours[i].Weekdays = nil
		}
	}
}

func (d *document) checkSilence(s *Silence, sp string, now time.Time) {
	s.Comment = strings.TrimSpace(s.Comment)
	_, _, err := models.CleanSilence(models.SilenceInput{Matchers: matchers(s.Matchers), Comment: s.Comment})
	d.rule(sp, err)
	switch {
	case s.EndsAt.IsZero():
		d.at(sp, "a silence needs endsAt")
	case s.StartsAt != nil && !s.EndsAt.After(*s.StartsAt):
		d.at(sp+".endsAt", "endsAt must be after startsAt")
	case s.EndsAt.After(now):
		// One that has ended is skipped; one that has not is measured from when it would start.
		start := now
		if s.StartsAt != nil && s.StartsAt.After(now) {
			start = *s.StartsAt
		}
		d.rule(sp, models.CheckSilenceSpan(start, s.EndsAt))
	}
}

// matchers upper-cases the ops (a file may write them in any case) and gives the matchers in the
// server's type, for its rules to judge.
func matchers(list []Matcher) []models.Matcher {
	out := make([]models.Matcher, len(list))
	for i := range list {
		m := &list[i]
		m.Label, m.Op = strings.TrimSpace(m.Label), strings.ToUpper(strings.TrimSpace(m.Op))
		out[i] = models.Matcher{Label: m.Label, Op: models.MatchOp(m.Op), Value: m.Value}
	}
	return out
}

package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/Khan/genqlient/graphql"
	"github.com/heraldhq/herald/client"
)

type action int

const (
	unchanged action = iota
	create
	update
	remove
	// kept: on the server, not in the file, and left there because --prune was not given.
	kept
	// skipped: in the file, but nothing to do (a silence that has ended).
	skipped
)

var actionMarks = map[action]string{unchanged: "=", create: "+", update: "~", remove: "-", kept: "?", skipped: "."}

// change is one object's line of the diff, and what applying it does.
type change struct {
	namespace, kind, name string
	action                action
	// detail says what differs (update), or why (kept, skipped).
	detail string
	// path is the object's place in the file, for the server's refusals.
	path string
	// webhooks are what a contact's change would save, for the server to judge before anything runs.
	webhooks []client.WebhookInput
	run      func(ctx context.Context) error
}

// plan is the changes that make the server match the file, in the order they are applied:
// namespaces, templates, contacts, groups, integrations, routes, silences, then (with --prune)
// deletions in the reverse order of dependence.
type plan struct {
	changes []*change
	// problems found while comparing (an integration whose kind changed): nothing is applied.
	problems []Problem
}

// ids is what a namespace's objects are called on the server, updated as creations run so that
// later steps refer to what earlier ones made.
type ids struct {
	contacts, groups, templates map[string]string
}

// idsOf is the ids of the named objects, from one of ids' maps.
func idsOf(m map[string]string, names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, m[key(n)])
	}
	return out
}

// templateID is the id a file's template reference names: a built-in's id as written, else the
// namespace's template of that name; nil for none.
func (ids *ids) templateID(ref string) *string {
	if ref == "" {
		return nil
	}
	if strings.HasPrefix(ref, builtinPrefix) {
		return &ref
	}
	id := ids.templates[key(ref)]
	return &id
}

type planner struct {
	d           *document
	conn        connection
	prune       bool
	resetSecret bool
	now         time.Time
	p           *plan
	out         io.Writer
}

func (pl *planner) add(c *change) { pl.p.changes = append(pl.p.changes, c) }

func (pl *planner) namespace(index int, want *Namespace, have *remote) {
	path := fmt.Sprintf("namespaces[%d]", index)
	c := pl.conn.client(want.Name)
	ns := want.Name
	if have == nil {
		have = &remote{contactIDs: map[string]string{}, groupIDs: map[string]string{}, templateIDs: map[string]string{},
			integrations: map[string]remoteIntegration{}, secretStored: map[string]bool{}}
		description := want.Description
		pl.add(&change{namespace: ns, kind: "namespace", name: ns, action: create, path: path, run: func(ctx context.Context) error {
			_, err := client.CreateNamespace(ctx, pl.conn.client(""), client.CreateNamespaceInput{Name: ns, Description: &description})
			return err
		}})
	} else if strings.TrimSpace(want.Description) != have.Description {
		id, description := have.id, want.Description
		pl.add(&change{namespace: ns, kind: "namespace", name: ns, action: update, detail: "description", path: path, run: func(ctx context.Context) error {
			_, err := client.UpdateNamespace(ctx, pl.conn.client(""), id, client.UpdateNamespaceInput{Description: &description})
			return err
		}})
	} else {
		pl.add(&change{namespace: ns, kind: "namespace", name: ns, action: unchanged, path: path})
	}
	known := &ids{contacts: have.contactIDs, groups: have.groupIDs, templates: have.templateIDs}
	var deletions []*change
	deletions = append(deletions, pl.templates(c, ns, path, want, have, known)...)
	deletions = append(deletions, pl.contacts(c, ns, path, want, have, known)...)
	deletions = append(deletions, pl.groups(c, ns, path, want, have, known)...)
	deletions = append(deletions, pl.integrations(c, ns, path, want, have, known)...)
	pl.routes(c, ns, path, want, have, known)
	pl.silences(c, ns, path, want, have)
	// Deletions run last, users before what they use: integrations, groups, contacts, templates.
	slices.Reverse(deletions)
	for _, del := range deletions {
		pl.add(del)
	}
}

// leftover is a server object the file lacks: deleted with --prune, else kept and said so.
func (pl *planner) leftover(ns, kind, name string, run func(ctx context.Context) error) *change {
	if !pl.prune {
		return &change{namespace: ns, kind: kind, name: name, action: kept, detail: "not in the file (--prune deletes it)"}
	}
	return &change{namespace: ns, kind: kind, name: name, action: remove, run: run}
}

// differences names the fields that differ, in order.
type differences []string

func (d *differences) check(field string, same bool) {
	if !same {
		*d = append(*d, field)
	}
}

func (d differences) action() action {
	if len(d) == 0 {
		return unchanged
	}
	return update
}

func sameNames(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	for i := range x {
		x[i] = key(x[i])
	}
	for i := range y {
		y[i] = key(y[i])
	}
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

func ptr[T any](v T) *T { return &v }

func (pl *planner) templates(c graphql.Client, ns, nsPath string, want *Namespace, have *remote, known *ids) []*change {
	existing := map[string]Template{}
	for _, t := range have.Templates {
		existing[key(t.Name)] = t
	}
	for i := range want.Templates {
		t := want.Templates[i]
		path := fmt.Sprintf("%s.templates[%d]", nsPath, i)
		input := client.MessageTemplateInput{Name: t.Name, Title: t.Title, Body: t.Body, Format: ptr(client.MessageFormat(t.Format))}
		old, ok := existing[key(t.Name)]
		if !ok {
			pl.add(&change{namespace: ns, kind: "template", name: t.Name, action: create, path: path, run: func(ctx context.Context) error {
				resp, err := client.CreateTemplate(ctx, c, input)
				if err == nil {
					known.templates[key(t.Name)] = resp.CreateMessageTemplate.Id
				}
				return err
			}})
			continue
		}
		delete(existing, key(t.Name))
		var diff differences
		diff.check("name", old.Name == t.Name)
		diff.check("format", old.Format == t.Format)
		diff.check("title", old.Title == strings.TrimSpace(t.Title) || old.Title == t.Title)
		diff.check("body", old.Body == t.Body)
		id := known.templates[key(t.Name)]
		pl.add(&change{namespace: ns, kind: "template", name: t.Name, action: diff.action(), detail: strings.Join(diff, ", "), path: path, run: func(ctx context.Context) error {
			_, err := client.UpdateTemplate(ctx, c, id, input)
			return err
		}})
	}
	var deletions []*change
	for _, t := range have.Templates {
		if _, left := existing[key(t.Name)]; left {
			id := have.templateIDs[key(t.Name)]
			deletions = append(deletions, pl.leftover(ns, "template", t.Name, func(ctx context.Context) error {
				_, err := client.DeleteTemplate(ctx, c, id)
				return err
			}))
		}
	}
	return deletions
}

func (pl *planner) contacts(c graphql.Client, ns, nsPath string, want *Namespace, have *remote, known *ids) []*change {
	existing := map[string]Contact{}
	for _, ct := range have.Contacts {
		existing[key(ct.Name)] = ct
	}
	for i := range want.Contacts {
		ct := want.Contacts[i]
		path := fmt.Sprintf("%s.contacts[%d]", nsPath, i)
		old, ok := existing[key(ct.Name)]
		hooks := make([]client.WebhookInput, len(ct.Webhooks))
		var diff differences
		sameHooks := ok && len(old.Webhooks) == len(ct.Webhooks)
		for j, w := range ct.Webhooks {
			in := client.WebhookInput{Url: w.URL, Keyword: ptr(w.Keyword)}
			if w.Platform != "" {
				in.Platform = ptr(client.Platform(w.Platform))
			}
			stored := ok && have.secretStored[webhookKey(old.Name, w.URL)]
			switch {
			case w.Secret != "" && (!stored || pl.resetSecret):
				in.Secret = ptr(w.Secret)
				sameHooks = sameHooks && stored && !pl.resetSecret
			case w.Secret == "" && stored:
				in.Secret = ptr("")
				sameHooks = false
			}
			if sameHooks {
				o := old.Webhooks[j]
				sameHooks = o.URL == w.URL && o.Keyword == w.Keyword && (w.Platform == "" || o.Platform == w.Platform)
			}
			hooks[j] = in
		}
		if !ok {
			input := client.CreateContactInput{Name: ct.Name, Phone: ptr(ct.Phone), DingtalkUserId: ptr(ct.DingtalkUserID),
				WecomUserId: ptr(ct.WecomUserID), LarkUserId: ptr(ct.LarkUserID), Webhooks: hooks}
			pl.add(&change{namespace: ns, kind: "contact", name: ct.Name, action: create, path: path, webhooks: hooks, run: func(ctx context.Context) error {
				resp, err := client.CreateContact(ctx, c, input)
				if err == nil {
					known.contacts[key(ct.Name)] = resp.CreateContact.Id
				}
				return err
			}})
			continue
		}
		delete(existing, key(ct.Name))
		diff.check("name", old.Name == ct.Name)
		diff.check("phone", old.Phone == ct.Phone)
		diff.check("dingtalkUserId", old.DingtalkUserID == ct.DingtalkUserID)
		diff.check("wecomUserId", old.WecomUserID == ct.WecomUserID)
		diff.check("larkUserId", old.LarkUserID == ct.LarkUserID)
		diff.check("webhooks", sameHooks)
		input := client.UpdateContactInput{Name: ptr(ct.Name), Phone: ptr(ct.Phone), DingtalkUserId: ptr(ct.DingtalkUserID),
			WecomUserId: ptr(ct.WecomUserID), LarkUserId: ptr(ct.LarkUserID), Webhooks: hooks}
		id := known.contacts[key(ct.Name)]
		pl.add(&change{namespace: ns, kind: "contact", name: ct.Name, action: diff.action(), detail: strings.Join(diff, ", "), path: path, webhooks: hooks, run: func(ctx context.Context) error {
			_, err := client.UpdateContact(ctx, c, id, input)
			return err
		}})
	}
	// Contacts go in one batch: a thousand deletions are one statement's work on the server.
	var names, gone []string
	for _, ct := range have.Contacts {
		if _, left := existing[key(ct.Name)]; left {
			names = append(names, ct.Name)
			gone = append(gone, have.contactIDs[key(ct.Name)])
		}
	}
	var deletions []*change
	// Each batch's deletion runs with its first name's line; the others only report.
	for start := 0; start < len(gone); start += 1000 {
		batch := gone[start:min(start+1000, len(gone))]
		for i, name := range names[start:min(start+1000, len(names))] {
			var run func(ctx context.Context) error
			if i == 0 {
				run = func(ctx context.Context) error {
					_, err := client.DeleteContacts(ctx, c, batch)
					return err
				}
			}
			deletions = append(deletions, pl.leftover(ns, "contact", name, run))
		}
	}
	return deletions
}

func windows(list []TimeWindow) []client.TimeWindowInput {
	out := make([]client.TimeWindowInput, 0, len(list))
	for _, w := range list {
		out = append(out, client.TimeWindowInput{Weekdays: w.Weekdays, Start: w.Start, End: w.End, TimeZone: ptr(w.TimeZone)})
	}
	return out
}

// sameWindows compares windows as check and the server normalise them.
func sameWindows(a, b []TimeWindow) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Start != y.Start || x.End != y.End || x.TimeZone != y.TimeZone || !slices.Equal(x.Weekdays, y.Weekdays) {
			return false
		}
	}
	return true
}

func (pl *planner) groups(c graphql.Client, ns, nsPath string, want *Namespace, have *remote, known *ids) []*change {
	existing := map[string]Group{}
	for _, g := range have.Groups {
		existing[key(g.Name)] = g
	}
	for i := range want.Groups {
		g := want.Groups[i]
		path := fmt.Sprintf("%s.groups[%d]", nsPath, i)
		old, ok := existing[key(g.Name)]
		if !ok {
			pl.add(&change{namespace: ns, kind: "group", name: g.Name, action: create, path: path, run: func(ctx context.Context) error {
				resp, err := client.CreateGroup(ctx, c, client.CreateContactGroupInput{Name: g.Name, Description: ptr(g.Description),
					ContactIds: idsOf(known.contacts, g.Members), QuietHours: windows(g.QuietHours), QuietPolicy: ptr(client.QuietPolicy(g.QuietPolicy))})
				if err == nil {
					known.groups[key(g.Name)] = resp.CreateContactGroup.Id
				}
				return err
			}})
			continue
		}
		delete(existing, key(g.Name))
		var diff differences
		diff.check("name", old.Name == g.Name)
		diff.check("description", old.Description == g.Description)
		diff.check("members", sameNames(old.Members, g.Members))
		diff.check("quietHours", sameWindows(old.QuietHours, g.QuietHours))
		diff.check("quietPolicy", old.QuietPolicy == g.QuietPolicy)
		id := known.groups[key(g.Name)]
		pl.add(&change{namespace: ns, kind: "group", name: g.Name, action: diff.action(), detail: strings.Join(diff, ", "), path: path, run: func(ctx context.Context) error {
			_, err := client.UpdateGroup(ctx, c, id, client.UpdateContactGroupInput{Name: ptr(g.Name), Description: ptr(g.Description),
				ContactIds: idsOf(known.contacts, g.Members), QuietHours: windows(g.QuietHours), QuietPolicy: ptr(client.QuietPolicy(g.QuietPolicy))})
			return err
		}})
	}
	var deletions []*change
	for _, g := range have.Groups {
		if _, left := existing[key(g.Name)]; left {
			id := have.groupIDs[key(g.Name)]
			deletions = append(deletions, pl.leftover(ns, "group", g.Name, func(ctx context.Context) error {
				_, err := client.DeleteGroup(ctx, c, id)
				return err
			}))
		}
	}
	return deletions
}

func (pl *planner) integrations(c graphql.Client, ns, nsPath string, want *Namespace, have *remote, known *ids) []*change {
	existing := map[string]Integration{}
	for _, in := range have.Integrations {
		existing[key(in.Name)] = in
	}
	for i := range want.Integrations {
		in := want.Integrations[i]
		path := fmt.Sprintf("%s.integrations[%d]", nsPath, i)
		old, ok := existing[key(in.Name)]
		if !ok {
			pl.add(&change{namespace: ns, kind: "integration", name: in.Name, action: create, path: path, run: func(ctx context.Context) error {
				input := client.CreateIntegrationInput{Name: in.Name, Kind: client.IntegrationKind(in.Kind),
					GroupIds: idsOf(known.groups, in.Groups), ContactIds: idsOf(known.contacts, in.Contacts),
					RouteByLabels: ptr(in.RouteByLabels), SendResolved: in.SendResolved, MentionContacts: ptr(in.MentionContacts),
					TimeZone: ptr(in.TimeZone), TemplateId: known.templateID(in.Template)}
				if in.SigningSecret != "" {
					input.SigningSecret = ptr(in.SigningSecret)
				}
				resp, err := client.CreateIntegration(ctx, c, input)
				if err == nil {
					// The token is shown once, by the server and so here: a source needs it to post.
					made := resp.CreateIntegration
					fmt.Fprintf(pl.out, "    integration %s: hook %s, token %s (shown once: give both to the source)\n", in.Name, made.Integration.Url, made.Token)
				}
				return err
			}})
			continue
		}
		delete(existing, key(in.Name))
		remoteIn := have.integrations[key(in.Name)]
		if old.Kind != in.Kind {
			pl.p.problems = append(pl.p.problems, pl.problemAt(path+".kind", "integration %q is %s on the server: a kind cannot change (rename it to make a new one)", in.Name, old.Kind))
			continue
		}
		var diff differences
		diff.check("name", old.Name == in.Name)
		diff.check("groups", sameNames(old.Groups, in.Groups))
		diff.check("contacts", sameNames(old.Contacts, in.Contacts))
		diff.check("sendResolved", *old.SendResolved == *in.SendResolved)
		diff.check("mentionContacts", old.MentionContacts == in.MentionContacts)
		diff.check("routeByLabels", old.RouteByLabels == in.RouteByLabels)
		diff.check("timeZone", old.TimeZone == in.TimeZone)
		diff.check("template", key(old.Template) == key(in.Template))
		var secret *string
		switch {
		case in.SigningSecret != "" && (!remoteIn.hasSigningSecret || pl.resetSecret):
			secret = ptr(in.SigningSecret)
		case in.SigningSecret == "" && remoteIn.hasSigningSecret:
			secret = ptr("")
		}
		diff.check("signingSecret", secret == nil)
		pl.add(&change{namespace: ns, kind: "integration", name: in.Name, action: diff.action(), detail: strings.Join(diff, ", "), path: path, run: func(ctx context.Context) error {
			template := known.templateID(in.Template)
			if template == nil {
				template = ptr("") // back to the kind's built-in
			}
			_, err := client.UpdateIntegration(ctx, c, remoteIn.id, client.UpdateIntegrationInput{Name: ptr(in.Name),
				GroupIds: idsOf(known.groups, in.Groups), ContactIds: idsOf(known.contacts, in.Contacts),
				SendResolved: in.SendResolved, MentionContacts: ptr(in.MentionContacts), RouteByLabels: ptr(in.RouteByLabels),
				SigningSecret: secret, TimeZone: ptr(in.TimeZone), TemplateId: template})
			return err
		}})
	}
	var deletions []*change
	for _, in := range have.Integrations {
		if _, left := existing[key(in.Name)]; left {
			id := have.integrations[key(in.Name)].id
			deletions = append(deletions, pl.leftover(ns, "integration", in.Name, func(ctx context.Context) error {
				_, err := client.DeleteIntegration(ctx, c, id)
				return err
			}))
		}
	}
	return deletions
}

func matcherInputs(list []Matcher) []client.MatcherInput {
	out := make([]client.MatcherInput, 0, len(list))
	for _, m := range list {
		out = append(out, client.MatcherInput{Label: m.Label, Op: client.MatchOp(m.Op), Value: m.Value})
	}
	return out
}

// routes keeps the file's order: the server is told each route's position, and the plan follows
// the order the server will have after each step, so an apply that changes nothing moves nothing.
func (pl *planner) routes(c graphql.Client, ns, nsPath string, want *Namespace, have *remote, known *ids) {
	wanted := map[string]bool{}
	for _, r := range want.Routes {
		wanted[key(r.Name)] = true
	}
	type placed struct {
		route Route
		id    string
	}
	var order []placed
	for i, r := range have.Routes {
		if wanted[key(r.Name)] {
			order = append(order, placed{r, have.routeIDs[i]})
			continue
		}
		id := have.routeIDs[i]
		del := pl.leftover(ns, "route", r.Name, func(ctx context.Context) error {
			_, err := client.DeleteRoute(ctx, c, id)
			return err
		})
		if del.action == kept {
			order = append(order, placed{r, id})
		}
		pl.add(del)
	}
	for i := range want.Routes {
		r := want.Routes[i]
		path := fmt.Sprintf("%s.routes[%d]", nsPath, i)
		input := func() client.RouteInput {
			return client.RouteInput{Name: r.Name, Matchers: matcherInputs(r.Matchers), GroupIds: idsOf(known.groups, r.Groups),
				ContactIds: idsOf(known.contacts, r.Contacts), Continue: ptr(r.Continue), TemplateId: known.templateID(r.Template), Position: ptr(i + 1)}
		}
		at := slices.IndexFunc(order, func(p placed) bool { return key(p.route.Name) == key(r.Name) })
		if at < 0 {
			order = slices.Insert(order, min(i, len(order)), placed{route: r})
			pl.add(&change{namespace: ns, kind: "route", name: r.Name, action: create, path: path, run: func(ctx context.Context) error {
				_, err := client.CreateRoute(ctx, c, input())
				return err
			}})
			continue
		}
		old := order[at]
		var diff differences
		diff.check("name", old.route.Name == r.Name)
		diff.check("matchers", slices.Equal(old.route.Matchers, r.Matchers))
		diff.check("groups", sameNames(old.route.Groups, r.Groups))
		diff.check("contacts", sameNames(old.route.Contacts, r.Contacts))
		diff.check("continue", old.route.Continue == r.Continue)
		diff.check("template", key(old.route.Template) == key(r.Template))
		diff.check("position", at == i)
		order = slices.Delete(order, at, at+1)
		order = slices.Insert(order, min(i, len(order)), old)
		pl.add(&change{namespace: ns, kind: "route", name: r.Name, action: diff.action(), detail: strings.Join(diff, ", "), path: path, run: func(ctx context.Context) error {
			_, err := client.UpdateRoute(ctx, c, old.id, input())
			return err
		}})
	}
}

func (pl *planner) silences(c graphql.Client, ns, nsPath string, want *Namespace, have *remote) {
	matched := make([]bool, len(have.Silences))
	for i := range want.Silences {
		s := want.Silences[i]
		path := fmt.Sprintf("%s.silences[%d]", nsPath, i)
		name := silenceName(s)
		if !s.EndsAt.After(pl.now) {
			pl.add(&change{namespace: ns, kind: "silence", name: name, action: skipped, detail: "it has ended", path: path})
			continue
		}
		found := -1
		for j, old := range have.Silences {
			if !matched[j] && sameSilence(old, s, pl.now) {
				found = j
				break
			}
		}
		if found >= 0 {
			matched[found] = true
			pl.add(&change{namespace: ns, kind: "silence", name: name, action: unchanged, path: path})
			continue
		}
		pl.add(&change{namespace: ns, kind: "silence", name: name, action: create, path: path, run: func(ctx context.Context) error {
			_, err := client.CreateSilence(ctx, c, client.SilenceInput{Matchers: matcherInputs(s.Matchers), StartsAt: s.StartsAt, EndsAt: s.EndsAt, Comment: s.Comment})
			return err
		}})
	}
	for j, old := range have.Silences {
		if matched[j] {
			continue
		}
		id := have.silenceIDs[j]
		del := pl.leftover(ns, "silence", silenceName(old), func(ctx context.Context) error {
			_, err := client.ExpireSilence(ctx, c, id)
			return err
		})
		if del.action == remove {
			del.detail = "expired now"
		}
		pl.add(del)
	}
}

// sameSilence: a silence is its matchers, end and comment; its start counts only while it is still
// ahead, since a silence created with a start in the past starts when it is created.
func sameSilence(have, want Silence, now time.Time) bool {
	if !slices.Equal(have.Matchers, want.Matchers) || have.Comment != want.Comment || !have.EndsAt.Truncate(time.Second).Equal(want.EndsAt.Truncate(time.Second)) {
		return false
	}
	if want.StartsAt != nil && want.StartsAt.After(now) {
		return have.StartsAt != nil && have.StartsAt.Truncate(time.Second).Equal(want.StartsAt.Truncate(time.Second))
	}
	return have.StartsAt == nil || !have.StartsAt.After(now)
}

// silenceName is how the diff names a silence: its matchers and its end.
func silenceName(s Silence) string {
	parts := make([]string, 0, len(s.Matchers))
	ops := map[string]string{"EQ": "=", "NEQ": "!=", "REGEX": "=~", "NOT_REGEX": "!~"}
	for _, m := range s.Matchers {
		parts = append(parts, fmt.Sprintf("%s%s%q", m.Label, ops[m.Op], m.Value))
	}
	return fmt.Sprintf("{%s} until %s", strings.Join(parts, ", "), s.EndsAt.UTC().Format(time.RFC3339))
}

func (pl *planner) problemAt(path, format string, args ...any) Problem {
	n := pl.d.node(path)
	p := Problem{Message: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	return p
}

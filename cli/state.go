package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/Khan/genqlient/graphql"
	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/models"
)

// remote is one namespace as the server has it: the file's shape (secrets left out) and, by each
// object's name key, what the file cannot say: ids, and which secrets are stored.
type remote struct {
	Namespace
	id           string
	contactIDs   map[string]string
	groupIDs     map[string]string
	templateIDs  map[string]string
	integrations map[string]remoteIntegration
	routeIDs     []string // in position order, as Routes
	silenceIDs   []string // as Silences
	// secretStored: contact key + "\n" + webhook URL → whether a signing secret is stored.
	secretStored map[string]bool
}

type remoteIntegration struct {
	id               string
	hasSigningSecret bool
}

func key(name string) string { return models.NameKey(strings.TrimSpace(name)) }

func webhookKey(contact, url string) string { return key(contact) + "\n" + url }

// readNamespace reads everything a file describes from one namespace, a page of 100 at a time.
func readNamespace(ctx context.Context, c graphql.Client, id, name, description string) (*remote, error) {
	r := &remote{
		Namespace:    Namespace{Name: name, Description: description},
		id:           id,
		contactIDs:   map[string]string{},
		groupIDs:     map[string]string{},
		templateIDs:  map[string]string{},
		integrations: map[string]remoteIntegration{},
		secretStored: map[string]bool{},
	}
	for _, read := range []func(context.Context, graphql.Client) error{r.readContacts, r.readGroups, r.readTemplates, r.readIntegrations, r.readRoutes, r.readSilences} {
		if err := read(ctx, c); err != nil {
			return nil, fmt.Errorf("read namespace %s: %w", name, err)
		}
	}
	return r, nil
}

func (r *remote) readContacts(ctx context.Context, c graphql.Client) error {
	var after *string
	for {
		page, err := client.ContactsPage(ctx, c, after)
		if err != nil {
			return err
		}
		for _, e := range page.Contacts.Edges {
			n := e.Node
			contact := Contact{Name: n.Name, Phone: deref(n.Phone), DingtalkUserID: deref(n.DingtalkUserId), WecomUserID: deref(n.WecomUserId), LarkUserID: deref(n.LarkUserId)}
			for _, w := range n.Webhooks {
				contact.Webhooks = append(contact.Webhooks, Webhook{URL: w.Url, Platform: string(w.Platform), Keyword: deref(w.Keyword)})
				r.secretStored[webhookKey(n.Name, w.Url)] = w.HasSecret
			}
			r.Contacts = append(r.Contacts, contact)
			r.contactIDs[key(n.Name)] = n.Id
		}
		if !page.Contacts.PageInfo.HasNextPage {
			return nil
		}
		after = page.Contacts.PageInfo.EndCursor
	}
}

func (r *remote) readGroups(ctx context.Context, c graphql.Client) error {
	byID := map[string]int{}
	var after *string
	for {
		page, err := client.GroupsPage(ctx, c, after)
		if err != nil {
			return err
		}
		for _, e := range page.Groups.Edges {
			n := e.Node
			g := Group{Name: n.Name, Description: n.Description, QuietPolicy: string(n.QuietPolicy)}
			for _, w := range n.QuietHours {
				g.QuietHours = append(g.QuietHours, TimeWindow{Weekdays: w.Weekdays, Start: w.Start, End: w.End, TimeZone: w.TimeZone})
			}
			byID[n.Id] = len(r.Groups)
			r.Groups = append(r.Groups, g)
			r.groupIDs[key(n.Name)] = n.Id
		}
		if !page.Groups.PageInfo.HasNextPage {
			break
		}
		after = page.Groups.PageInfo.EndCursor
	}
	// Memberships come ordered by contact, then group: one pass gives each group its members.
	after = nil
	for {
		page, err := client.MembershipsPage(ctx, c, after)
		if err != nil {
			return err
		}
		for _, e := range page.Memberships.Edges {
			if i, ok := byID[e.Node.Group.Id]; ok {
				r.Groups[i].Members = append(r.Groups[i].Members, e.Node.Contact.Name)
			}
		}
		if !page.Memberships.PageInfo.HasNextPage {
			break
		}
		after = page.Memberships.PageInfo.EndCursor
	}
	for i := range r.Groups {
		sortNames(r.Groups[i].Members)
	}
	return nil
}

func (r *remote) readTemplates(ctx context.Context, c graphql.Client) error {
	var after *string
	for {
		page, err := client.TemplatesPage(ctx, c, after)
		if err != nil {
			return err
		}
		for _, e := range page.MessageTemplates.Edges {
			n := e.Node
			r.Templates = append(r.Templates, Template{Name: n.Name, Format: string(n.Format), Title: n.Title, Body: n.Body})
			r.templateIDs[key(n.Name)] = n.Id
		}
		if !page.MessageTemplates.PageInfo.HasNextPage {
			return nil
		}
		after = page.MessageTemplates.PageInfo.EndCursor
	}
}

// templateName is how a file refers to a template: its name, or a built-in's id.
func templateName(id, name string, builtin bool) string {
	if builtin {
		return id
	}
	return name
}

func (r *remote) readIntegrations(ctx context.Context, c graphql.Client) error {
	var after *string
	for {
		page, err := client.IntegrationsPage(ctx, c, after)
		if err != nil {
			return err
		}
		for _, e := range page.Integrations.Edges {
			n := e.Node
			sendResolved := n.SendResolved
			in := Integration{Name: n.Name, Kind: string(n.Kind), SendResolved: &sendResolved, MentionContacts: n.MentionContacts,
				RouteByLabels: n.RouteByLabels, TimeZone: n.TimeZone}
			for _, g := range n.Groups {
				in.Groups = append(in.Groups, g.Name)
			}
			for _, ct := range n.Contacts {
				in.Contacts = append(in.Contacts, ct.Name)
			}
			if t := n.Template; t != nil {
				in.Template = templateName(t.Id, t.Name, t.Builtin)
			}
			r.Integrations = append(r.Integrations, in)
			r.integrations[key(n.Name)] = remoteIntegration{id: n.Id, hasSigningSecret: n.HasSigningSecret}
		}
		if !page.Integrations.PageInfo.HasNextPage {
			return nil
		}
		after = page.Integrations.PageInfo.EndCursor
	}
}

func (r *remote) readRoutes(ctx context.Context, c graphql.Client) error {
	resp, err := client.Routes(ctx, c)
	if err != nil {
		return err
	}
	for _, n := range resp.Routes {
		route := Route{Name: n.Name, Continue: n.Continue}
		for _, m := range n.Matchers {
			route.Matchers = append(route.Matchers, Matcher{Label: m.Label, Op: string(m.Op), Value: m.Value})
		}
		for _, g := range n.Groups {
			route.Groups = append(route.Groups, g.Name)
		}
		for _, ct := range n.Contacts {
			route.Contacts = append(route.Contacts, ct.Name)
		}
		if t := n.Template; t != nil {
			route.Template = templateName(t.Id, t.Name, t.Builtin)
		}
		r.Routes = append(r.Routes, route)
		r.routeIDs = append(r.routeIDs, n.Id)
	}
	return nil
}

// readSilences reads the silences that have not ended, oldest first, as a file lists them.
func (r *remote) readSilences(ctx context.Context, c graphql.Client) error {
	var silences []Silence
	var ids []string
	for _, state := range []client.SilenceState{client.SilenceStateActive, client.SilenceStatePending} {
		var after *string
		for {
			page, err := client.SilencesPage(ctx, c, state, after)
			if err != nil {
				return err
			}
			for _, e := range page.Silences.Edges {
				n := e.Node
				startsAt := n.StartsAt.UTC()
				s := Silence{StartsAt: &startsAt, EndsAt: n.EndsAt.UTC(), Comment: n.Comment}
				for _, m := range n.Matchers {
					s.Matchers = append(s.Matchers, Matcher{Label: m.Label, Op: string(m.Op), Value: m.Value})
				}
				silences = append(silences, s)
				ids = append(ids, n.Id)
			}
			if !page.Silences.PageInfo.HasNextPage {
				break
			}
			after = page.Silences.PageInfo.EndCursor
		}
	}
	order := make([]int, len(silences))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return silences[order[a]].StartsAt.Before(*silences[order[b]].StartsAt) })
	for _, i := range order {
		r.Silences = append(r.Silences, silences[i])
		r.silenceIDs = append(r.silenceIDs, ids[i])
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// sortNames orders names as the server lists them: ignoring letter case.
func sortNames(list []string) {
	sort.SliceStable(list, func(i, j int) bool { return key(list[i]) < key(list[j]) })
}

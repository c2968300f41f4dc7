package cli

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"

	"github.com/Khan/genqlient/graphql"
	"github.com/heraldhq/herald/client"
	"gopkg.in/yaml.v3"
)

// readServer reads the namespaces the token may use (only, when it is not empty) in the file's shape.
func readServer(ctx context.Context, conn connection, only string) ([]*remote, error) {
	list, err := client.Namespaces(ctx, conn.client(""))
	if err != nil {
		return nil, err
	}
	var out []*remote
	for _, ns := range list.Namespaces {
		if only != "" && !strings.EqualFold(ns.Name, only) {
			continue
		}
		r, err := readNamespace(ctx, conn.client(ns.Name), ns.Id, ns.Name, ns.Description)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if only != "" && len(out) == 0 {
		return nil, fmt.Errorf("no namespace %q among those the token may use", only)
	}
	return out, nil
}

// credentials knows where each platform keeps a robot's token in its webhook URL.
type credentials map[string]client.PlatformsPlatformsPlatformInfo

func readCredentials(ctx context.Context, c graphql.Client) (credentials, error) {
	resp, err := client.Platforms(ctx, c)
	if err != nil {
		return nil, err
	}
	creds := credentials{}
	for _, p := range resp.Platforms {
		creds[string(p.Platform)] = p
	}
	return creds, nil
}

// withReference writes rawURL with its robot token replaced by ${name}; ok is false when the URL
// shows no token where its platform keeps one.
func (c credentials) withReference(platform, rawURL, name string) (string, bool) {
	p, known := c[platform]
	if !known {
		return rawURL, false
	}
	ref := "${" + name + "}"
	if p.TokenParam != nil {
		base, query, found := strings.Cut(rawURL, "?")
		if !found {
			return rawURL, false
		}
		parts := strings.Split(query, "&")
		replaced := false
		for i, part := range parts {
			if k, _, _ := strings.Cut(part, "="); k == *p.TokenParam {
				parts[i] = k + "=" + ref
				replaced = true
			}
		}
		return base + "?" + strings.Join(parts, "&"), replaced
	}
	i := strings.Index(rawURL, p.WebhookPath)
	if i < 0 {
		return rawURL, false
	}
	token := strings.TrimLeft(rawURL[i+len(p.WebhookPath):], "/")
	start := len(rawURL) - len(token)
	end := start + strings.IndexAny(token+"?", "/?#")
	if end == start {
		return rawURL, false
	}
	return rawURL[:start] + ref + rawURL[end:], true
}

// envName makes an environment variable's name of parts: upper-case ASCII letters and digits, each
// other run of characters one _.
func envName(parts ...string) string {
	var b strings.Builder
	underscore := true
	for _, part := range parts {
		for _, r := range strings.ToUpper(part) {
			if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
				b.WriteRune(r)
				underscore = false
			} else if !underscore {
				b.WriteByte('_')
				underscore = true
			}
		}
		if !underscore {
			b.WriteByte('_')
			underscore = true
		}
	}
	return strings.TrimSuffix(b.String(), "_")
}

// nameForEnv is an object's name as a variable name's part; a name without ASCII letters or digits
// (张三) is replaced by its kind and place (contact 3).
func nameForEnv(name, kind string, index int) string {
	if envName(name) == "" {
		return fmt.Sprintf("%s %d", kind, index+1)
	}
	return name
}

// secretNames hands out unique variable names, in a stable order, so that exporting the same
// setup twice writes the same file.
type secretNames struct {
	used  map[string]bool
	names []string
}

func (s *secretNames) take(parts ...string) string {
	return s.reserve(s.unique(parts...))
}

// unique is the name parts make, numbered when another object has it already; reserve claims it.
func (s *secretNames) unique(parts ...string) string {
	name := envName(parts...)
	unique := name
	for n := 2; s.used[unique]; n++ {
		unique = fmt.Sprintf("%s_%d", name, n)
	}
	return unique
}

func (s *secretNames) reserve(name string) string {
	s.used[name] = true
	s.names = append(s.names, name)
	return name
}

// exportFile turns the server's namespaces into a file whose credentials are ${ENV} references:
// robot tokens in webhook URLs and every stored signing secret (which the server never returns).
func exportFile(namespaces []*remote, creds credentials) (File, []string) {
	names := &secretNames{used: map[string]bool{}}
	var f File
	for _, r := range namespaces {
		ns := r.Namespace
		escapeDollars(reflect.ValueOf(&ns).Elem())
		for i := range ns.Contacts {
			c := &ns.Contacts[i]
			for j := range c.Webhooks {
				w := &c.Webhooks[j]
				remoteURL := r.Contacts[i].Webhooks[j].URL
				contact := nameForEnv(c.Name, "contact", i)
				tokenName := names.unique(ns.Name, contact, "webhook", fmt.Sprint(j+1), "token")
				if withRef, ok := creds.withReference(w.Platform, w.URL, tokenName); ok {
					w.URL = withRef
					names.reserve(tokenName)
				}
				if r.secretStored[webhookKey(c.Name, remoteURL)] {
					w.Secret = "${" + names.take(ns.Name, contact, "webhook", fmt.Sprint(j+1), "secret") + "}"
				}
			}
		}
		for i := range ns.Integrations {
			in := &ns.Integrations[i]
			if r.integrations[key(in.Name)].hasSigningSecret {
				in.SigningSecret = "${" + names.take(ns.Name, nameForEnv(in.Name, "integration", i), "signing secret") + "}"
			}
		}
		f.Namespaces = append(f.Namespaces, ns)
	}
	return f, names.names
}

// escapeDollars doubles every $ in the strings v holds, so that apply reads them back as written
// and not as ${ENV} references.
func escapeDollars(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if strings.Contains(v.String(), "$") {
			v.SetString(strings.ReplaceAll(v.String(), "$", "$$"))
		}
	case reflect.Pointer:
		if !v.IsNil() {
			escapeDollars(v.Elem())
		}
	case reflect.Slice:
		for i := range v.Len() {
			escapeDollars(v.Index(i))
		}
	case reflect.Struct:
		if v.Type() == timeType {
			return
		}
		for i := range v.NumField() {
			escapeDollars(v.Field(i))
		}
	}
}

// writeFile writes f as YAML, headed by what it is and the variables apply will need.
func writeFile(w io.Writer, f File, server string, variables []string, now time.Time) error {
	var doc yaml.Node
	if err := doc.Encode(f); err != nil {
		return fmt.Errorf("encode the export: %w", err)
	}
	head := []string{
		fmt.Sprintf("Herald setup exported from %s at %s by herald export.", server, now.UTC().Format(time.RFC3339)),
		"Apply it with: herald apply -f FILE (see the README's \"Setup as code\").",
	}
	if len(variables) > 0 {
		head = append(head, "Credentials are not written: herald apply reads them from these environment variables:")
		for _, v := range variables {
			head = append(head, "  "+v)
		}
	}
	doc.HeadComment = strings.Join(head, "\n")
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return fmt.Errorf("write the export: %w", err)
	}
	return enc.Close()
}

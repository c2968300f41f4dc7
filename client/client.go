package client

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Khan/genqlient/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// operations names every operation of operations.graphql; the server trusts them (Documents), and
// TestEveryOperationIsTrusted keeps this list equal to what genqlient generated.
var operations = map[string]string{
	"AlertOutcome":      AlertOutcome_Operation,
	"CheckWebhooks":     CheckWebhooks_Operation,
	"ContactsPage":      ContactsPage_Operation,
	"CreateContact":     CreateContact_Operation,
	"CreateGroup":       CreateGroup_Operation,
	"CreateIntegration": CreateIntegration_Operation,
	"CreateNamespace":   CreateNamespace_Operation,
	"CreateRoute":       CreateRoute_Operation,
	"CreateSilence":     CreateSilence_Operation,
	"CreateTemplate":    CreateTemplate_Operation,
	"DeleteContacts":    DeleteContacts_Operation,
	"DeleteGroup":       DeleteGroup_Operation,
	"DeleteIntegration": DeleteIntegration_Operation,
	"DeleteRoute":       DeleteRoute_Operation,
	"DeleteTemplate":    DeleteTemplate_Operation,
	"ExpireSilence":     ExpireSilence_Operation,
	"GroupsPage":        GroupsPage_Operation,
	"IntegrationsPage":  IntegrationsPage_Operation,
	"MembershipsPage":   MembershipsPage_Operation,
	"Namespaces":        Namespaces_Operation,
	"Platforms":         Platforms_Operation,
	"Routes":            Routes_Operation,
	"SendAlert":         SendAlert_Operation,
	"SilencesPage":      SilencesPage_Operation,
	"TemplatesPage":     TemplatesPage_Operation,
	"UpdateContact":     UpdateContact_Operation,
	"UpdateGroup":       UpdateGroup_Operation,
	"UpdateIntegration": UpdateIntegration_Operation,
	"UpdateNamespace":   UpdateNamespace_Operation,
	"UpdateRoute":       UpdateRoute_Operation,
	"UpdateTemplate":    UpdateTemplate_Operation,
	"Viewer":            Viewer_Operation,
}

// Documents are the command line's operations keyed by the sha256 of their text, the shape
// graph.LoadTrustedDocuments takes: a server bound to trusted documents still serves herald send,
// export and apply.
func Documents() map[string]string {
	docs := make(map[string]string, len(operations))
	for _, doc := range operations {
		sum := sha256.Sum256([]byte(doc))
		docs[hex.EncodeToString(sum[:])] = doc
	}
	return docs
}

// New is a client of the Herald at server (its base URL, e.g. https://herald.example.com) that
// authenticates with token (none in open mode) and works in namespace (the token's or default when
// empty).
func New(server, token, namespace string) (graphql.Client, error) {
	endpoint, err := Endpoint(server)
	if err != nil {
		return nil, err
	}
	return graphql.NewClient(endpoint, &authenticated{
		token: token, namespace: namespace,
		doer: &http.Client{Timeout: 60 * time.Second},
	}), nil
}

// Endpoint is the GraphQL endpoint of a server given as its base URL; a URL that already ends in
// /query is taken as it is.
func Endpoint(server string) (string, error) {
	if server == "" {
		return "", errors.New("no server: give --server or set HERALD_SERVER (e.g. http://127.0.0.1:8080)")
	}
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("server %q is not an http(s) URL such as http://127.0.0.1:8080", server)
	}
	if !strings.HasSuffix(u.Path, "/query") {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/query"
	}
	return u.String(), nil
}

type authenticated struct {
	token, namespace string
	doer             graphql.Doer
}

func (a *authenticated) Do(req *http.Request) (*http.Response, error) {
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	if a.namespace != "" {
		req.Header.Set("Herald-Namespace", a.namespace)
	}
	req.Header.Set("User-Agent", "herald-cli")
	return a.doer.Do(req)
}

// Kind sorts a failed request by whose move it is next, which is what a script's exit code says.
type Kind int

const (
	// Input: the request was refused for what it asked (BAD_USER_INPUT, NOT_FOUND, CONFLICT, an
	// invalid document).
	Input Kind = iota + 1
	// Access: the token is missing, unknown or revoked, or its role or namespace does not allow it.
	Access
	// Unavailable: Herald could not be reached or could not answer (its database is away, it failed).
	Unavailable
)

// Classify says what kind of failure err is, from the GraphQL errors' extensions.code, else the HTTP
// status, else (no answer at all) Unavailable.
func Classify(err error) Kind {
	if code := Code(err); code != "" {
		switch code {
		case "UNAUTHENTICATED", "FORBIDDEN", "HOST_NOT_ALLOWED", "PERSISTED_QUERY_NOT_FOUND":
			return Access
		case "SERVICE_UNAVAILABLE", "INTERNAL_SERVER_ERROR":
			return Unavailable
		default:
			return Input
		}
	}
	var httpErr *graphql.HTTPError
	if errors.As(err, &httpErr) {
		switch {
		case httpErr.StatusCode == http.StatusUnauthorized || httpErr.StatusCode == http.StatusForbidden:
			return Access
		case httpErr.StatusCode >= 500 || httpErr.StatusCode == http.StatusTooManyRequests:
			return Unavailable
		default:
			return Input
		}
	}
	return Unavailable
}

// Code is the first GraphQL error's extensions.code, or "" when err carries none.
func Code(err error) string {
	for _, e := range graphQLErrors(err) {
		if code, _ := e.Extensions["code"].(string); code != "" {
			return code
		}
	}
	return ""
}

// Field is the first GraphQL error's extensions.field (the input path it names), or "".
func Field(err error) string {
	for _, e := range graphQLErrors(err) {
		if field, _ := e.Extensions["field"].(string); field != "" {
			return field
		}
	}
	return ""
}

// Message is what the server said, without genqlient's wrapping: the GraphQL errors' messages (with
// the field each names), else err's own text.
func Message(err error) string {
	list := graphQLErrors(err)
	if len(list) == 0 {
		return err.Error()
	}
	parts := make([]string, 0, len(list))
	for _, e := range list {
		msg := e.Message
		if field, _ := e.Extensions["field"].(string); field != "" && !strings.Contains(msg, field) {
			msg = field + ": " + msg
		}
		parts = append(parts, msg)
	}
	return strings.Join(parts, "; ")
}

func graphQLErrors(err error) gqlerror.List {
	var list gqlerror.List
	if errors.As(err, &list) {
		return list
	}
	var httpErr *graphql.HTTPError
	if errors.As(err, &httpErr) {
		return httpErr.Response.Errors
	}
	var one *gqlerror.Error
	if errors.As(err, &one) {
		return gqlerror.List{one}
	}
	return nil
}

package graph

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/heraldhq/herald/auth"
	"github.com/heraldhq/herald/models"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// CodePersistedQueryNotFound: trusted documents are on and the operation is not one of them.
const CodePersistedQueryNotFound = "PERSISTED_QUERY_NOT_FOUND"

// TrustedDocuments are the operations Herald runs for tokens below ADMIN (for every caller when
// Strict): a production front end's queries are known when it is built, so anything else is an
// attacker's, or a bug's. Documents are keyed by the sha256 of their text, as Relay's and
// graphql-codegen's persisted-document outputs write them.
type TrustedDocuments struct {
	byHash map[string]string
	// Strict refuses free-form operations from admins (and the playground) too.
	Strict bool
}

// NewTrustedDocuments checks that every key is the sha256 of its document.
func NewTrustedDocuments(docs map[string]string, strict bool) (*TrustedDocuments, error) {
	t := &TrustedDocuments{byHash: make(map[string]string, len(docs)), Strict: strict}
	for key, doc := range docs {
		hash := strings.TrimPrefix(strings.ToLower(key), "sha256:")
		if hash != documentHash(doc) {
			return nil, fmt.Errorf("%q is not the sha256 of its document (Relay hashes with MD5 unless persistConfig sets algorithm SHA256)", key)
		}
		t.byHash[hash] = doc
	}
	return t, nil
}

// LoadTrustedDocuments reads a JSON object of sha256 → document and adds extra (the console's own).
func LoadTrustedDocuments(path string, strict bool, extra map[string]string) (*TrustedDocuments, error) {
	docs := maps.Clone(extra)
	if docs == nil {
		docs = map[string]string{}
	}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		var fromFile map[string]string
		if err := json.Unmarshal(b, &fromFile); err != nil {
			return nil, fmt.Errorf("%s: not a JSON object of sha256 → document: %w", path, err)
		}
		maps.Copy(docs, fromFile)
	}
	return NewTrustedDocuments(docs, strict)
}

// Len is the number of trusted documents.
func (t *TrustedDocuments) Len() int { return len(t.byHash) }

func documentHash(doc string) string {
	sum := sha256.Sum256([]byte(doc))
	return hex.EncodeToString(sum[:])
}

func notTrusted(hash string, role models.Role) *gqlerror.Error {
	return &gqlerror.Error{
		Message: fmt.Sprintf("this server runs only its trusted documents for the %s role, and sha256:%s is not one of them; "+
			"add the operation to HERALD_TRUSTED_DOCUMENTS", role, hash),
		Extensions: map[string]any{"code": CodePersistedQueryNotFound},
	}
}

func unknownDocumentID(id string) string {
	return fmt.Sprintf("no trusted document has the id sha256:%s", id)
}

// binds reports whether the caller may run only trusted documents.
func (t *TrustedDocuments) binds(ctx context.Context) (models.Role, bool) {
	p, _ := auth.FromContext(ctx)
	return p.Role, t.Strict || p.Role != models.RoleAdmin
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = (*TrustedDocuments)(nil)

func (*TrustedDocuments) ExtensionName() string                   { return "TrustedDocuments" }
func (*TrustedDocuments) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters runs before automatic persisted queries: a bound caller's operation
// must be trusted, sent as its text or, Apollo-style, as extensions.persistedQuery's hash alone.
func (t *TrustedDocuments) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	role, bound := t.binds(ctx)
	if !bound {
		return nil
	}
	if params.Query == "" {
		pq, _ := params.Extensions["persistedQuery"].(map[string]any)
		hash, _ := pq["sha256Hash"].(string)
		if hash == "" {
			return nil // no operation at all: gqlgen says so, and nothing runs
		}
		hash = strings.ToLower(hash)
		doc, ok := t.byHash[hash]
		if !ok {
			return notTrusted(hash, role)
		}
		params.Query = doc
		pq["sha256Hash"] = hash // APQ, next, compares it with the document's hash as written
		return nil
	}
	if hash := documentHash(params.Query); t.byHash[hash] == "" {
		return notTrusted(hash, role)
	}
	return nil
}

// resolveDocumentIDs lets clients send a trusted document by id instead of text, as
// graphql-codegen ({"documentId": "sha256:…"}) and Relay ({"doc_id": "…"}) do, in a POST body or
// a GET query string. The id becomes the document's text before gqlgen reads the request, so
// everything after (limits, the trust check above) sees an ordinary operation.
func (t *TrustedDocuments) resolveDocumentIDs(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// lookup answers an unknown id itself, and says whether to go on.
		lookup := func(id string) (string, bool) {
			doc, ok := t.byHash[id]
			if !ok {
				auth.WriteError(w, http.StatusOK, CodePersistedQueryNotFound, unknownDocumentID(id))
			}
			return doc, ok
		}
		switch r.Method {
		case http.MethodGet:
			q := r.URL.Query()
			if id := documentIDOf(q.Get("documentId"), q.Get("doc_id")); id != "" {
				doc, ok := lookup(id)
				if !ok {
					return
				}
				q.Del("documentId")
				q.Del("doc_id")
				q.Set("query", doc)
				r.URL.RawQuery = q.Encode()
			}
		case http.MethodPost:
			body, _ := io.ReadAll(r.Body) // limitRequest has read and bounded it already
			var request map[string]json.RawMessage
			// Decoded as gqlgen decodes: the first JSON value, whatever follows it.
			if (bytes.Contains(body, []byte(`"documentId"`)) || bytes.Contains(body, []byte(`"doc_id"`))) &&
				json.NewDecoder(bytes.NewReader(body)).Decode(&request) == nil {
				var documentID, docID string
				_ = json.Unmarshal(request["documentId"], &documentID)
				_ = json.Unmarshal(request["doc_id"], &docID)
				if id := documentIDOf(documentID, docID); id != "" {
					doc, ok := lookup(id)
					if !ok {
						return
					}
					delete(request, "documentId")
					delete(request, "doc_id")
					request["query"], _ = json.Marshal(doc)
					body, _ = json.Marshal(request)
				}
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		next.ServeHTTP(w, r)
	})
}

// documentIDOf is the first id given, without its sha256: prefix.
func documentIDOf(ids ...string) string {
	for _, id := range ids {
		if id != "" {
			return strings.TrimPrefix(strings.ToLower(id), "sha256:")
		}
	}
	return ""
}

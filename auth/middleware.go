package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/heraldhq/herald/models"
)

// touchEvery throttles the last-used timestamp: one write per token per minute, not per request.
const touchEvery = time.Minute

// Authenticator resolves a request's principal.
type Authenticator struct {
	store *models.Store
	// adminToken is HERALD_ADMIN_TOKEN: any string the operator chose, not necessarily hrld_.
	adminToken string
	// open serves requests without a token as admin while no token is stored; server.go allows it
	// only on a loopback address.
	open bool
	now  func() time.Time
}

// New returns an authenticator. adminToken may be empty; open enables open mode.
func New(store *models.Store, adminToken string, open bool) *Authenticator {
	return &Authenticator{store: store, adminToken: adminToken, open: open, now: time.Now}
}

// Open reports whether this authenticator may serve open mode (while no token is stored).
func (a *Authenticator) Open() bool { return a.open }

// ErrUnknownToken is the answer for a token that is not (or no longer) valid.
var ErrUnknownToken = errors.New("unknown or revoked token")

// Authenticate returns the principal of r, or an error that is safe to show.
func (a *Authenticator) Authenticate(r *http.Request) (Principal, error) {
	return a.authenticate(r.Context(), r.Header.Get("Authorization"))
}

// authenticate resolves an Authorization value: a header's, or a WebSocket's connection_init's.
func (a *Authenticator) authenticate(ctx context.Context, authorization string) (Principal, error) {
	token, err := ParseBearer(authorization)
	if errors.Is(err, ErrNoToken) && a.open {
		has, herr := a.store.HasAPITokens(ctx)
		if herr != nil {
			return Principal{}, herr
		}
		if !has {
			return Principal{Name: openModeName, Role: models.RoleAdmin}, nil
		}
	}
	if err != nil {
		return Principal{}, err
	}
	if a.adminToken != "" && sameToken(token, a.adminToken) {
		return Principal{Name: "admin", Role: models.RoleAdmin}, nil
	}
	if !wellFormed(token) {
		return Principal{}, ErrUnknownToken
	}
	t, err := a.store.TokenByHash(ctx, HashToken(token))
	if err != nil {
		return Principal{}, err
	}
	if t == nil || !t.Role.Valid() {
		return Principal{}, ErrUnknownToken
	}
	if now := a.now().UTC(); t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > touchEvery {
		if err := a.store.TouchAPIToken(ctx, t.ID, now); err != nil {
			slog.WarnContext(ctx, "record token use", "token", t.Name, "error", err)
		}
	}
	return Principal{Name: t.Name, Role: t.Role, TokenID: t.ID, NamespaceID: t.NamespaceID}, nil
}

// namespace resolves the namespace r asks for (Herald-Namespace; without it default, or a bound
// token's own). A token bound to one namespace asking for another is FORBIDDEN whether or not the
// other exists, so that a token cannot probe for names.
func (a *Authenticator) namespace(ctx context.Context, name string, p Principal) (*models.Namespace, error) {
	name = strings.TrimSpace(name)
	if p.NamespaceID != nil {
		// A bound token runs where it holds its role; without the header too, so that a client
		// holding only the token can ask namespace or me where that is. Another name is compared,
		// never looked up.
		own, err := a.store.NamespaceByID(ctx, *p.NamespaceID)
		if err != nil || name == "" {
			return own, err
		}
		clean, err := models.CleanNamespaceName(models.NamespaceHeader, name)
		if err != nil {
			return nil, err
		}
		if clean != own.Name {
			return nil, &models.Error{Kind: models.KindForbidden, Field: models.NamespaceHeader,
				Message: fmt.Sprintf("the token %q holds its role in one namespace only, not in %q", p.Name, name)}
		}
		return own, nil
	}
	if name == "" {
		name = models.DefaultNamespace
	}
	clean, err := models.CleanNamespaceName(models.NamespaceHeader, name)
	if err != nil {
		return nil, err
	}
	ns, err := a.store.NamespaceByName(ctx, clean)
	if e, missing := models.AsError(err); missing {
		return nil, &models.Error{Kind: e.Kind, Field: models.NamespaceHeader, Message: e.Message}
	}
	return ns, err
}

// Middleware authenticates every request to the GraphQL endpoint before it reaches next; an
// unauthenticated request gets a GraphQL error UNAUTHENTICATED and never reaches a resolver. The
// answer is HTTP 200, as GraphQL over HTTP answers application/json requests, so that a browser
// client sees a GraphQL error to act on rather than a failed request.
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return a.guard(next, http.StatusOK, true)
}

// Require is Middleware for endpoints that are not GraphQL (/metrics): it answers 401.
func (a *Authenticator) Require(next http.Handler) http.Handler {
	return a.guard(next, http.StatusUnauthorized, false)
}

// guard authenticates; scoped requests also run in the namespace they name (Herald-Namespace).
func (a *Authenticator) guard(next http.Handler, refusal int, scoped bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			next.ServeHTTP(w, r) // CORS preflights carry no credentials
			return
		}
		if scoped && IsWebSocket(r) {
			// A browser cannot give a WebSocket headers: its token and namespace come in
			// connection_init, which the GraphQL endpoint checks with Establish before anything runs.
			next.ServeHTTP(w, r)
			return
		}
		p, err := a.Authenticate(r)
		switch {
		case IsUnauthenticated(err):
			w.Header().Set("WWW-Authenticate", `Bearer realm="herald"`)
			WriteError(w, refusal, "UNAUTHENTICATED", err.Error())
			return
		case err != nil:
			writeFailure(w, r, "authenticate", err)
			return
		}
		ctx := withCaller(r.Context(), p)
		if scoped {
			ns, err := a.namespace(ctx, r.Header.Get(models.NamespaceHeader), p)
			if e, ok := models.AsError(err); ok {
				writeError(w, http.StatusOK, NamespaceCode(e), e.Field, e.Message)
				return
			}
			if err != nil {
				writeFailure(w, r, "resolve namespace", err)
				return
			}
			ctx = models.WithNamespace(ctx, ns)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// IsWebSocket reports whether r asks to become a WebSocket.
func IsWebSocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// IsUnauthenticated reports whether err refuses the caller's token (none, malformed, unknown or
// revoked) rather than failing for Herald's own reasons.
func IsUnauthenticated(err error) bool {
	return errors.Is(err, ErrNoToken) || errors.Is(err, ErrMalformedToken) || errors.Is(err, ErrUnknownToken)
}

// NamespaceCode is the extensions.code of a refused namespace.
func NamespaceCode(e *models.Error) string {
	switch e.Kind {
	case models.KindForbidden:
		return "FORBIDDEN"
	case models.KindNotFound:
		return "NOT_FOUND"
	}
	return "BAD_USER_INPUT"
}

func withCaller(ctx context.Context, p Principal) context.Context {
	ctx = WithPrincipal(ctx, p)
	return models.WithActor(ctx, models.Actor{Name: p.Name, Role: p.Role})
}

// Establish authenticates what a WebSocket's connection_init carries (its Authorization value and
// namespace name) as a request's headers would be, and returns ctx with the caller and the
// namespace. Its errors are those of Authenticate, and models errors for the namespace.
func (a *Authenticator) Establish(ctx context.Context, authorization, namespace string) (context.Context, error) {
	p, err := a.authenticate(ctx, authorization)
	if err != nil {
		return ctx, err
	}
	ctx = withCaller(ctx, p)
	ns, err := a.namespace(ctx, namespace, p)
	if err != nil {
		return ctx, err
	}
	return models.WithNamespace(ctx, ns), nil
}

// writeFailure answers a lookup that failed for Herald's own reasons: SERVICE_UNAVAILABLE while
// the database is away (the dispatcher logs the outage once), otherwise a logged internal error.
func writeFailure(w http.ResponseWriter, r *http.Request, what string, err error) {
	if models.IsUnavailable(err) {
		WriteError(w, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE", models.UnavailableMessage)
		return
	}
	slog.ErrorContext(r.Context(), what, "error", err)
	WriteError(w, http.StatusServiceUnavailable, "INTERNAL_SERVER_ERROR", "internal server error")
}

// WriteError answers with a GraphQL error response outside the GraphQL executor.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	writeError(w, status, code, "", message)
}

// writeError is WriteError with extensions.field, when field is not empty.
func writeError(w http.ResponseWriter, status int, code, field, message string) {
	ext := map[string]any{"code": code}
	if field != "" {
		ext["field"] = field
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []any{map[string]any{"message": message, "extensions": ext}},
		"data":   nil,
	})
}

// Forbidden is the message of a FORBIDDEN error: it names the role needed and nothing about the
// resource, so it cannot reveal whether the resource exists.
func Forbidden(have, need models.Role) string {
	return fmt.Sprintf("this operation needs the %s role; the token has %s", need, have)
}

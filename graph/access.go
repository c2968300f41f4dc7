package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/heraldhq/herald/auth"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/senders"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// hasRole is the @hasRole directive. It runs before the field's resolver, so a refusal never
// depends on, or reveals, whether the requested resource exists.
func hasRole(ctx context.Context, _ any, next graphql.Resolver, role models.Role) (any, error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return nil, &gqlerror.Error{Message: auth.ErrNoToken.Error(), Extensions: map[string]any{"code": CodeUnauthenticated}}
	}
	if !p.Role.Allows(role) {
		return nil, &gqlerror.Error{Message: auth.Forbidden(p.Role, role), Extensions: map[string]any{"code": CodeForbidden}}
	}
	return next(ctx)
}

// visibleURL is a webhook URL as the caller may see it: whole for admins; for everyone else with
// its token masked, since the URL alone is enough to post into the chat.
func visibleURL(ctx context.Context, url string) string {
	if p, ok := auth.FromContext(ctx); ok && p.Role.Allows(models.RoleAdmin) {
		return url
	}
	return senders.RedactURL(url)
}

// requireEveryNamespace refuses callers whose token is bound to one namespace: only a token of
// every namespace manages namespaces and tokens of every namespace.
func requireEveryNamespace(ctx context.Context) error {
	if p, _ := auth.FromContext(ctx); p.NamespaceID != nil {
		return &models.Error{Kind: models.KindForbidden, Message: "this needs a token of every namespace; the token holds its role in one"}
	}
	return nil
}

// tokenNamespace is the namespace a caller's token is bound to; nil: every namespace.
func tokenNamespace(ctx context.Context) *uint {
	p, _ := auth.FromContext(ctx)
	return p.NamespaceID
}

// namespaceName names the namespace with id; nil for nil (every namespace, or none).
func (r *Resolver) namespaceName(ctx context.Context, id *uint) (*string, error) {
	if id == nil {
		return nil, nil
	}
	ns, err := r.Store.NamespaceByID(ctx, *id)
	if _, missing := models.AsError(err); missing {
		gone := "(deleted)"
		return &gone, nil
	}
	if err != nil {
		return nil, err
	}
	return &ns.Name, nil
}

// newTokenNamespace is the namespace a token createApiToken makes holds in (nil: every one). An
// admin of one namespace makes tokens of that namespace only, and is refused before any lookup,
// so that it cannot probe for other names. In open mode the first token must be of every
// namespace: it ends open mode, and without such a token nobody could manage namespaces.
func (r *Resolver) newTokenNamespace(ctx context.Context, name *string) (*models.Namespace, error) {
	forbidden := &models.Error{Kind: models.KindForbidden, Field: "namespace",
		Message: "an admin of one namespace creates tokens of that namespace only: give namespace as its name"}
	p, _ := auth.FromContext(ctx)
	if name == nil {
		if p.NamespaceID != nil {
			return nil, forbidden
		}
		return nil, nil
	}
	clean, err := models.CleanNamespaceName("namespace", *name)
	if err != nil {
		return nil, err
	}
	if p.OpenMode() {
		has, err := r.Store.HasAPITokens(ctx)
		if err != nil {
			return nil, err
		}
		if !has {
			return nil, models.Invalid("namespace", "the first token ends open mode: create an ADMIN token of every namespace (no namespace) first")
		}
	}
	if p.NamespaceID != nil {
		own, err := r.Store.NamespaceByID(ctx, *p.NamespaceID)
		if err != nil {
			return nil, err
		}
		if own.Name != clean {
			return nil, forbidden
		}
		return own, nil
	}
	return r.Store.NamespaceByName(ctx, clean)
}

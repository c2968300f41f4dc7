package graph

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/heraldhq/herald/models"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Error codes in extensions.code.
const (
	CodeBadUserInput = "BAD_USER_INPUT"
	CodeNotFound     = "NOT_FOUND"
	CodeConflict     = "CONFLICT"
	CodeInternal     = "INTERNAL_SERVER_ERROR"
	// CodeBadRequest: the HTTP request is not one GraphQL request (a batch, or a body that is not
	// a JSON object); nothing was executed.
	CodeBadRequest = "BAD_REQUEST"
	// CodeUnavailable: the server was too busy to start the operation within the request timeout,
	// or the database is unavailable; the same request may succeed later.
	CodeUnavailable = "SERVICE_UNAVAILABLE"
	// CodeUnauthenticated: no token, or one that is unknown or revoked.
	CodeUnauthenticated = "UNAUTHENTICATED"
	// CodeForbidden: the token's role may not do this.
	CodeForbidden = "FORBIDDEN"
)

// inputError places a models error under the argument it came from: "name" in the argument
// "input" becomes "input.name".
func inputError(arg string, err error) error {
	if e, ok := models.AsError(err); ok && arg != "" {
		field := arg
		if e.Field != "" {
			field = arg + "." + e.Field
		}
		return &models.Error{Kind: e.Kind, Field: field, Message: e.Message}
	}
	return err
}

// presentError is the one place where errors become what a client sees. Client errors keep their
// message and gain a code and a field; anything else is logged and replaced by a fixed message, so
// that no SQL, DSN or stack reaches a client.
func presentError(ctx context.Context, err error) *gqlerror.Error {
	var gqlErr *gqlerror.Error
	if errors.As(err, &gqlErr) && gqlErr.Err == nil {
		if strings.HasPrefix(gqlErr.Message, undecodableBody) {
			// gqlgen's message goes on to echo the whole body back and, for a field of the wrong
			// type, names its Go types: a syntax error's reason is all a client needs.
			reason, _, _ := strings.Cut(strings.TrimPrefix(gqlErr.Message, undecodableBody), " body:")
			msg := "the request body is not valid JSON: " + reason
			if strings.Contains(reason, "cannot unmarshal") {
				msg = "the request body's fields have the wrong types: query and operationName are strings, variables and extensions objects"
			}
			return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": CodeBadRequest}}
		}
		// Parse and validation errors from gqlgen itself, already shaped for clients.
		return gqlErr
	}
	out := &gqlerror.Error{Path: graphql.GetPath(ctx)}
	if e, ok := models.AsError(err); ok {
		out.Message = e.Message
		out.Extensions = map[string]any{"code": codeOf(e.Kind)}
		if e.Field != "" {
			out.Extensions["field"] = e.Field
		}
		return out
	}
	if models.IsUnavailable(err) {
		// Expected while the database is away; the dispatcher logs the outage once.
		out.Message = models.UnavailableMessage
		out.Extensions = map[string]any{"code": CodeUnavailable}
		return out
	}
	ns := ""
	if n := models.NamespaceOf(ctx); n != nil {
		ns = n.Name
	}
	slog.ErrorContext(ctx, "request failed", "path", out.Path.String(), "namespace", ns, "error", err.Error())
	out.Message = "internal server error"
	out.Extensions = map[string]any{"code": CodeInternal}
	return out
}

// undecodableBody starts gqlgen's POST transport's message for a body it cannot decode.
const undecodableBody = "json request body could not be decoded: "

// suggestion is the "Did you mean ...?" sentence gqlparser's validation adds to a misspelt name.
var suggestion = regexp.MustCompile(` ?Did you mean [^?]*\?`)

// withoutSuggestions drops suggestions from validation errors (gqlgen's SetDisableSuggestion covers
// only unknown fields). With introspection off they would hand out the schema a name at a time
// (the OWASP GraphQL cheat sheet's advice). Resolver errors, which may quote user data, are left
// as they are.
func withoutSuggestions(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp != nil {
		for _, e := range resp.Errors {
			if e.Extensions["code"] == errcode.ValidationFailed {
				e.Message = suggestion.ReplaceAllString(e.Message, "")
			}
		}
	}
	return resp
}

func codeOf(k models.Kind) string {
	switch k {
	case models.KindNotFound:
		return CodeNotFound
	case models.KindConflict:
		return CodeConflict
	case models.KindForbidden:
		return CodeForbidden
	default:
		return CodeBadUserInput
	}
}

// recoverPanic turns a resolver panic into an internal error instead of a dropped connection.
func recoverPanic(ctx context.Context, p any) error {
	slog.ErrorContext(ctx, "resolver panic", "panic", p)
	return errors.New("internal server error: panic")
}

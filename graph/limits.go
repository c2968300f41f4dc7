package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/heraldhq/herald/auth"
	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/graph/model"
	"github.com/heraldhq/herald/models"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"golang.org/x/sync/semaphore"
)

// Request limits. Every query the console and the README use stays well inside them; what they
// refuse is refused before any resolver, and so before any SQL, runs.
const (
	// MaxBodyBytes bounds a request body: gqlgen's POST transport reads it whole.
	MaxBodyBytes = 1 << 20
	// MaxParserTokens bounds the lexer's work, the defence against directive- and alias-overloading.
	MaxParserTokens = 10_000
	// MaxDepth is the deepest field nesting allowed: contacts { edges { node { groups { members
	// { edges { node { name } } } } } } }, a page of contacts with each group's first members, is 8
	// deep; one more level is refused.
	MaxDepth = 8
	// MaxAliases bounds aliased fields, each of which can repeat a whole subtree.
	MaxAliases = 30
	// MaxComplexity is gqlgen's cost estimate limit, where a connection costs its children times first.
	MaxComplexity = 5_000
	// RequestTimeout bounds one request's work, waiting for capacity included.
	RequestTimeout = 30 * time.Second
	// MaxListItems bounds the items all nested lists (a contact's groups, a group's contacts, ...)
	// return in one operation. Complexity counts such a list once, whatever its length, so
	// groups { contacts { groups { id } } } below a page of 100 could otherwise build millions of
	// objects; the heaviest page the console or the benchmark sends returns about 90,000.
	MaxListItems = 200_000
)

// listItems counts the nested-list items of one operation against MaxListItems, and its complexity
// with each deprecated ContactGroup.contacts at its real size against MaxComplexity.
type listItems struct {
	n    atomic.Int64
	cost atomic.Int64
	// refused is the one error that replaces the response, the first limit passed.
	refused atomic.Pointer[string]
}

type listItemsKey struct{}

// refuse fails the operation with msg, unless another limit already has.
func (items *listItems) refuse(msg string) error {
	items.refused.CompareAndSwap(nil, &msg)
	// A new error each time: gqlgen writes the field's path into the error it is given.
	return limitError(msg)
}

// nestedList is what every nested-list resolver returns: never null, and counted. Once the
// operation's lists pass MaxListItems, the rest fail and the whole response is replaced by one
// error (see refuseOversizedResponse).
func nestedList[T any](ctx context.Context, list []T, err error) ([]T, error) {
	if err != nil {
		return nil, err
	}
	if list == nil {
		return []T{}, nil
	}
	if items, ok := ctx.Value(listItemsKey{}).(*listItems); ok && items.n.Add(int64(len(list))) > MaxListItems {
		return nil, items.refuse(fmt.Sprintf("the operation's nested lists return more than %d items; select fewer nested lists, or page "+
			"through a group's members with ContactGroup.members", MaxListItems))
	}
	return list, nil
}

// sizedList is nestedList for a list that complexity counts as one element but that may hold a
// group's every member (the deprecated ContactGroup.contacts): the other elements are charged once
// loaded, each as many points as fields are selected below it, so that a query that reads big groups
// whole is refused for its real cost, pointing at the paged field.
func sizedList[T any](ctx context.Context, list []T, err error) ([]T, error) {
	list, err = nestedList(ctx, list, err)
	items, ok := ctx.Value(listItemsKey{}).(*listItems)
	if err != nil || len(list) <= 1 || !ok {
		return list, err
	}
	fc := graphql.GetFieldContext(ctx)
	each := max(fieldsBelow(graphql.GetOperationContext(ctx), fc.Field.Selections), 1)
	if items.cost.Add(int64(len(list)-1)*int64(each)) > MaxComplexity {
		return nil, items.refuse(fmt.Sprintf("the operation costs more than %d with %s.%s counted by the groups' real sizes; "+
			"read a group's members a page at a time with ContactGroup.members", MaxComplexity, fc.Object, fc.Field.Name))
	}
	return list, nil
}

// fieldsBelow counts the fields selected in set and below it, fragments included.
func fieldsBelow(op *graphql.OperationContext, set ast.SelectionSet) int {
	n := 0
	for _, f := range graphql.CollectFields(op, set, nil) {
		n += 1 + fieldsBelow(op, f.Selections)
	}
	return n
}

// refuseOversizedResponse counts an operation's nested-list items and real cost and, when one was
// too much, answers one clear error instead of a partial response with an error per refused list.
func refuseOversizedResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	items := &listItems{}
	if graphql.HasOperationContext(ctx) {
		if stats := extension.GetComplexityStats(ctx); stats != nil {
			items.cost.Store(int64(stats.Complexity))
		}
	}
	resp := next(context.WithValue(ctx, listItemsKey{}, items))
	if msg := items.refused.Load(); msg != nil {
		return &graphql.Response{Errors: gqlerror.List{limitError(*msg)}}
	}
	return resp
}

// executionBudget bounds the complexity executing at once to MaxComplexity per CPU. A large read
// holds its whole response tree in memory while it runs, so running more of them than the CPUs
// can serve only adds memory (and collector work) without finishing any sooner; past the budget,
// operations wait in arrival order. Light ones, a few points each, rarely notice it.
type executionBudget struct {
	sem    *semaphore.Weighted
	points int64
}

func newExecutionBudget(points int64) *executionBudget {
	return &executionBudget{sem: semaphore.NewWeighted(points), points: points}
}

// around runs an operation's execution inside the budget, weighed by its complexity.
func (b *executionBudget) around(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) || isSubscription(ctx) {
		// A request refused before it became an operation (an undecodable body): nothing executes.
		// A subscription's response waits for its next event, which must not hold capacity.
		return next(ctx)
	}
	weight := int64(1)
	if stats := extension.GetComplexityStats(ctx); stats != nil {
		if stats.ComplexityLimit > 0 && stats.Complexity > stats.ComplexityLimit {
			// Refused for its complexity: nothing executes, only its error response passes here.
			return next(ctx)
		}
		weight = min(max(int64(stats.Complexity), 1), b.points)
	}
	if err := b.sem.Acquire(ctx, weight); err != nil {
		return &graphql.Response{Errors: gqlerror.List{{
			Message:    fmt.Sprintf("the server is busy: the operation waited %s for capacity", RequestTimeout),
			Extensions: map[string]any{"code": CodeUnavailable},
		}}}
	}
	defer b.sem.Release(weight)
	return next(ctx)
}

// complexity makes a connection cost what it can return: its children times first. A first sent
// as null takes the schema's default, as the resolver does.
func complexity() ComplexityRoot {
	var c ComplexityRoot
	query := parsedSchema.Query
	times := func(field string) func(child int, first, last *int) int {
		def := defaultFirst(query.Fields.ForName(field))
		return func(child int, first, last *int) int {
			// gqlgen has filled in first's default even when last is given: the larger of the two
			// is what the page can return at most.
			n, given := 0, false
			for _, size := range []*int{first, last} {
				if size != nil {
					// An out-of-range size is the resolver's to refuse, with an error naming the argument.
					n, given = max(n, min(max(*size, 1), models.MaxPageSize)), true
				}
			}
			if !given {
				n = def
			}
			return 1 + child*n
		}
	}
	contacts, groups, memberships, alerts, auditLog := times("contacts"), times("groups"), times("memberships"), times("alerts"), times("auditLog")
	c.Query.Contacts = func(child int, _ *model.ContactFilter, first *int, _ *string, last *int, _ *string) int {
		return contacts(child, first, last)
	}
	c.Query.Groups = func(child int, _ *model.GroupFilter, first *int, _ *string, last *int, _ *string) int {
		return groups(child, first, last)
	}
	c.Query.Memberships = func(child int, _, _ *string, first *int, _ *string, last *int, _ *string) int {
		return memberships(child, first, last)
	}
	c.Query.Alerts = func(child int, _ *delivery.AlertStatus, first *int, _ *string, last *int, _ *string, _ *model.AlertFilter) int {
		return alerts(child, first, last)
	}
	c.Query.AuditLog = func(child int, first *int, _ *string, last *int, _ *string) int { return auditLog(child, first, last) }
	return c
}

// shapeLimit refuses operations nested deeper than MaxDepth or with more than MaxAliases aliases,
// and @defer and @stream.
type shapeLimit struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = shapeLimit{}

func (shapeLimit) ExtensionName() string                   { return "ShapeLimit" }
func (shapeLimit) Validate(graphql.ExecutableSchema) error { return nil }
func (shapeLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	shape := measure(oc.Operation.SelectionSet, 0)
	switch {
	case shape.depth > MaxDepth:
		return limitError(fmt.Sprintf("the query is nested %d fields deep; at most %d are allowed", shape.depth, MaxDepth))
	case shape.aliases > MaxAliases:
		return limitError(fmt.Sprintf("the query uses %d aliases; at most %d are allowed", shape.aliases, MaxAliases))
	case shape.incremental != "":
		// Each request gets one response (no multipart transport), and the lean executor builds a
		// deferred group only for an object that asks for one: a deferred field would be null.
		return limitError(fmt.Sprintf("@%s is not supported: Herald answers every operation in one response", shape.incremental))
	}
	return nil
}

// queryShape is what shapeLimit checks of an operation: its deepest field nesting, its aliased
// fields, and the first @defer or @stream in it ("" for none).
type queryShape struct {
	depth, aliases int
	incremental    string
}

// measure walks set at depth once. Fragments count where they are spread; validation has already
// refused fragment cycles.
func measure(set ast.SelectionSet, depth int) queryShape {
	shape := queryShape{depth: depth}
	for _, sel := range set {
		var below queryShape
		var dirs ast.DirectiveList
		switch s := sel.(type) {
		case *ast.Field:
			if s.Alias != "" && s.Alias != s.Name {
				shape.aliases++
			}
			dirs, below = s.Directives, measure(s.SelectionSet, depth+1)
		case *ast.InlineFragment:
			dirs, below = s.Directives, measure(s.SelectionSet, depth)
		case *ast.FragmentSpread:
			dirs = s.Directives
			if s.Definition != nil {
				below = measure(s.Definition.SelectionSet, depth)
			}
		}
		shape.depth, shape.aliases = max(shape.depth, below.depth), shape.aliases+below.aliases
		for _, name := range []string{directiveIn(dirs, "defer", "stream"), below.incremental} {
			if shape.incremental == "" {
				shape.incremental = name
			}
		}
	}
	return shape
}

// directiveIn is the first of names that dirs holds, or "".
func directiveIn(dirs ast.DirectiveList, names ...string) string {
	for _, name := range names {
		if dirs.ForName(name) != nil {
			return name
		}
	}
	return ""
}

func limitError(msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": CodeBadUserInput}}
}

// limitRequest bounds a request's body and time before gqlgen sees it. A POST body is read here,
// whole: gqlgen reads it whole anyway, and only so can a chunked body (which declares no length)
// over the limit get the same 413 as a declared one.
func limitRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tooLarge := func() {
			auth.WriteError(w, http.StatusRequestEntityTooLarge, CodeBadUserInput,
				fmt.Sprintf("the request body is larger than %d bytes, the most accepted", MaxBodyBytes))
		}
		if r.ContentLength > MaxBodyBytes {
			tooLarge()
			return
		}
		if r.Method == http.MethodPost {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
			var overLimit *http.MaxBytesError
			switch {
			case errors.As(err, &overLimit):
				tooLarge()
				return
			case err != nil:
				auth.WriteError(w, http.StatusBadRequest, CodeBadRequest, "the request body could not be read: "+err.Error())
				return
			}
			if mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mediaType == "application/json" {
				if msg := refusedBodyShape(body); msg != "" {
					auth.WriteError(w, http.StatusBadRequest, CodeBadRequest, msg)
					return
				}
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		if auth.IsWebSocket(r) {
			next.ServeHTTP(w, r) // a socket lives on; each of its operations gets the timeout
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), RequestTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// refusedBodyShape looks at a JSON body's first character. A JSON array is a batch of operations,
// which Herald does not run: every limit here (complexity, list items, time, the execution budget)
// is per operation, so a batch would multiply them, and no client of Herald needs one. gqlgen's
// POST transport would not run one either, but would answer it as an internal error; this says
// what is wrong. Anything but an object is not a GraphQL request at all.
func refusedBodyShape(body []byte) string {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return "" // gqlgen answers an empty body
	case trimmed[0] == '[':
		return "one operation per request; batching is not supported"
	case trimmed[0] != '{':
		return `the request body must be a JSON object such as {"query": "{ me { role } }"}`
	}
	return ""
}

// introspectionOff refuses __schema and __type with a clear error when introspection is disabled;
// without it gqlgen fails those fields with an error that looks internal.
type introspectionOff struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = introspectionOff{}

func (introspectionOff) ExtensionName() string                   { return "IntrospectionOff" }
func (introspectionOff) Validate(graphql.ExecutableSchema) error { return nil }
func (introspectionOff) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if asksIntrospection(oc.Operation.SelectionSet) {
		return limitError("introspection is disabled on this server (HERALD_INTROSPECTION=false)")
	}
	return nil
}

// asksIntrospection reports whether a root selection set, fragments included, selects __schema or __type.
func asksIntrospection(set ast.SelectionSet) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				return true
			}
		case *ast.InlineFragment:
			if asksIntrospection(s.SelectionSet) {
				return true
			}
		case *ast.FragmentSpread:
			if s.Definition != nil && asksIntrospection(s.Definition.SelectionSet) {
				return true
			}
		}
	}
	return false
}

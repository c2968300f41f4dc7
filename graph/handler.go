package graph

import (
	"context"
	"net/http"
	"runtime"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/heraldhq/herald/models"
	"github.com/vektah/gqlparser/v2/ast"
)

// Options change how the endpoint behaves beyond the resolvers.
type Options struct {
	// ReportSQLStatements adds extensions.sqlStatements to every response: the number of SQL
	// statements the request ran. The benchmark harness reads it; it reveals nothing secret.
	ReportSQLStatements bool
	// ObserveRequest, when set, is told each operation's root field and outcome ("ok" or the first
	// error's code), for metrics.
	ObserveRequest func(operation, namespace, outcome string)
	// Introspection allows schema introspection (the playground needs it).
	Introspection bool
	// ExecutionBudget is the total complexity allowed to execute at once; 0 is MaxComplexity per CPU.
	ExecutionBudget int64
	// TrustedDocuments, when set, are the only operations run for tokens below ADMIN (everyone's,
	// when strict).
	TrustedDocuments *TrustedDocuments
	// Live, when set, serves subscriptions over a WebSocket at the same path.
	Live *LiveOptions
}

// NewHandler builds the GraphQL endpoint: explicit transports (gqlgen's NewDefaultServer is not for
// production), bounded caches, request limits, our error presenter and per-request loaders.
func NewHandler(r *Resolver, opts Options) http.Handler {
	srv := handler.New(NewExecutableSchema(Config{Resolvers: r, Directives: DirectiveRoot{HasRole: hasRole}, Complexity: complexity()}))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{}) // no batching: one operation per request
	if opts.Live != nil {
		addWebsocket(srv, r, *opts.Live)
	}
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetParserTokenLimit(MaxParserTokens)
	if opts.Introspection {
		srv.Use(extension.Introspection{})
	} else {
		srv.Use(introspectionOff{})
		srv.SetDisableSuggestion(true)
		srv.AroundResponses(withoutSuggestions)
	}
	if opts.TrustedDocuments != nil {
		srv.Use(opts.TrustedDocuments) // before APQ, whose cache a bound caller may not fill
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	srv.Use(extension.FixedComplexityLimit(MaxComplexity))
	srv.Use(shapeLimit{})
	srv.SetErrorPresenter(presentError)
	srv.SetRecoverFunc(recoverPanic)
	if opts.ReportSQLStatements {
		srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
			resp := next(ctx)
			if n := models.StatementCount(ctx); resp != nil && n >= 0 {
				if resp.Extensions == nil {
					resp.Extensions = map[string]any{}
				}
				resp.Extensions["sqlStatements"] = n
			}
			return resp
		})
	}
	if opts.ObserveRequest != nil {
		srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
			resp := next(ctx)
			ns := ""
			if n := models.NamespaceOf(ctx); n != nil {
				ns = n.Name
			}
			opts.ObserveRequest(rootField(ctx), ns, outcomeOf(resp))
			return resp
		})
	}
	budget := opts.ExecutionBudget
	if budget <= 0 {
		budget = int64(runtime.GOMAXPROCS(0)) * MaxComplexity
	}
	srv.AroundResponses(newExecutionBudget(max(budget, MaxComplexity)).around)
	srv.AroundResponses(refuseOversizedResponse)
	var h http.Handler = perRequest(r, opts, srv)
	if opts.TrustedDocuments != nil {
		h = opts.TrustedDocuments.resolveDocumentIDs(h)
	}
	return clearDeadlines(limitRequest(h))
}

// rootField names an operation by its first root field: a schema name, so a metric label built
// from it stays a bounded set whatever clients call their operations.
func rootField(ctx context.Context) string {
	if !graphql.HasOperationContext(ctx) {
		return "invalid"
	}
	op := graphql.GetOperationContext(ctx).Operation
	if op == nil {
		return "invalid"
	}
	for _, sel := range op.SelectionSet {
		if f, ok := sel.(*ast.Field); ok {
			return f.Name
		}
	}
	return "unknown"
}

func outcomeOf(resp *graphql.Response) string {
	if resp == nil || len(resp.Errors) == 0 {
		return "ok"
	}
	if code, ok := resp.Errors[0].Extensions["code"].(string); ok {
		return code
	}
	return "error"
}

// perRequest gives each request its own loaders and, when asked, its own statement counter.
func perRequest(r *Resolver, opts Options, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ctx := context.WithValue(req.Context(), loadersKey{}, NewLoaders(r.Store, r.Outbox))
		if opts.ReportSQLStatements {
			ctx, _ = models.WithStatementCounter(ctx)
		}
		next.ServeHTTP(w, req.WithContext(ctx))
	})
}

// SchemaSDL is the schema as written in schema.graphqls, descriptions included: what
// GET /schema.graphql and `herald schema` give code generators and linters.
func SchemaSDL() string {
	var b strings.Builder
	for _, s := range sources {
		b.WriteString(s.Input)
	}
	return b.String()
}

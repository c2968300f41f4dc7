package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/heraldhq/herald/auth"
	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/models"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Subscriptions run over a WebSocket at /query. Its upgrade request carries no token (a browser
// cannot give a WebSocket headers); connection_init does, and nothing runs before it is checked.
// The token is checked again at every subscribe and, while events flow, before each batch and at
// least every liveRecheck, so that a revoked token stops receiving within that time.

// LiveOptions configure subscriptions.
type LiveOptions struct {
	// Authenticator checks the token and namespace connection_init carries.
	Authenticator *auth.Authenticator
	// Origins are the origins besides the server's own a browser may open the socket from
	// (HERALD_CORS_ORIGINS).
	Origins []string
}

// liveRecheck is how often an idle subscription checks its token.
const liveRecheck = 30 * time.Second

// initTimeout is how long a socket may stay open without connection_init.
const initTimeout = 10 * time.Second

// liveSession is a socket's connection_init, kept to check the token again.
type liveSession struct {
	authn         *auth.Authenticator
	authorization string
	namespace     string
}

type liveSessionKey struct{}

// check authenticates the session's token again and returns a context with the caller as it is now.
func (s *liveSession) check(ctx context.Context) (context.Context, error) {
	ctx, err := s.authn.Establish(ctx, s.authorization, s.namespace)
	if err == nil {
		return ctx, nil
	}
	if auth.IsUnauthenticated(err) {
		return ctx, &gqlerror.Error{Message: err.Error(), Extensions: map[string]any{"code": CodeUnauthenticated}}
	}
	if _, refused := models.AsError(err); refused { // the namespace: gone, malformed or not the token's
		return ctx, presentError(ctx, err)
	}
	return ctx, err // Herald's own failure: no refusal
}

// addWebsocket serves subscriptions (and any operation) over graphql-transport-ws and graphql-ws.
func addWebsocket(srv *handler.Server, r *Resolver, opts LiveOptions) {
	srv.AddTransport(transport.Websocket{
		Implementation: transport.CoderWebsocketImplementation{AcceptOptions: websocket.AcceptOptions{OriginPatterns: opts.Origins}},
		InitTimeout:    initTimeout,
		// Keep-alives keep proxies from closing an idle socket; a client that stops answering pings
		// is dropped, and its subscriptions with it.
		KeepAlivePingInterval: 15 * time.Second,
		PingPongInterval:      15 * time.Second,
		PayloadReadLimit:      ptr(int64(MaxBodyBytes)),
		InitFunc: func(ctx context.Context, init transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			s := &liveSession{authn: opts.Authenticator, authorization: init.Authorization(), namespace: init.GetString(models.NamespaceHeader)}
			ctx, err := s.check(ctx)
			if err != nil {
				// The socket closes with this message: the client's own refusal, or the fixed text
				// of Herald's failures, never a database's.
				return ctx, nil, errors.New(asGQLError(ctx, err).Message)
			}
			return context.WithValue(ctx, liveSessionKey{}, s), nil, nil
		},
	})
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		s, ok := ctx.Value(liveSessionKey{}).(*liveSession)
		if !ok {
			return next(ctx)
		}
		ctx, err := s.check(ctx)
		if err != nil {
			return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{asGQLError(ctx, err)}})
		}
		// The socket's loaders would cache for as long as it is open: each read of an operation
		// on it, and each event, reads afresh.
		ctx = context.WithValue(ctx, loadersKey{}, freshLoaders{r.Store, r.Outbox})
		if isSubscription(ctx) {
			return next(ctx)
		}
		// Anything else has the time a request over HTTP has.
		ctx, cancel := context.WithTimeout(ctx, RequestTimeout)
		respond := next(ctx)
		return func(ctx context.Context) *graphql.Response {
			defer cancel()
			return respond(ctx)
		}
	})
}

// asGQLError is a refusal as check made it, or any other failure as every response shows it
// (SERVICE_UNAVAILABLE while the database is away).
func asGQLError(ctx context.Context, err error) *gqlerror.Error {
	var g *gqlerror.Error
	if errors.As(err, &g) {
		return g
	}
	return presentError(ctx, err)
}

func ptr[T any](v T) *T { return &v }

// freshLoaders in a context makes every loadersFor new loaders: nothing read is kept.
type freshLoaders struct {
	store  *models.Store
	outbox *delivery.Outbox
}

// isSubscription reports whether ctx runs a subscription, whose responses wait for events.
func isSubscription(ctx context.Context) bool {
	if !graphql.HasOperationContext(ctx) {
		return false
	}
	op := graphql.GetOperationContext(ctx).Operation
	return op != nil && op.Operation == ast.Subscription
}

// clearDeadlines lets a WebSocket outlive the server's read and write timeouts, which would
// otherwise stay on its connection after the upgrade.
func clearDeadlines(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if auth.IsWebSocket(r) {
			rc := http.NewResponseController(w)
			_ = rc.SetReadDeadline(time.Time{})
			_ = rc.SetWriteDeadline(time.Time{})
		}
		next.ServeHTTP(w, r)
	})
}

// liveSlots counts each token's subscriptions.
type liveSlots struct {
	mu    sync.Mutex
	count map[string]int
}

// take holds one of the caller's subscriptions until ctx ends.
func (l *liveSlots) take(ctx context.Context, limit int) error {
	p, _ := auth.FromContext(ctx)
	key := fmt.Sprintf("%d/%s", p.TokenID, p.Name)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.count == nil {
		l.count = map[string]int{}
	}
	if l.count[key] >= limit {
		return models.Invalid("", "the token %q already holds %d subscriptions, the most allowed (HERALD_SUBSCRIPTIONS_PER_TOKEN)", p.Name, limit)
	}
	l.count[key]++
	context.AfterFunc(ctx, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.count[key]--; l.count[key] <= 0 {
			delete(l.count, key)
		}
	})
	return nil
}

// stream sends what load makes of each batch of changes until ctx ends or the token is refused.
// load's nil results (deleted meanwhile, or outside the namespace) are skipped.
func stream[T any](ctx context.Context, changes *delivery.Changes, load func(ctx context.Context, ids []uint) ([]*T, error)) <-chan *T {
	out := make(chan *T)
	session, _ := ctx.Value(liveSessionKey{}).(*liveSession)
	go func() {
		defer close(out)
		recheck := time.NewTicker(liveRecheck)
		defer recheck.Stop()
		// Only a refusal ends the subscription: while the database is away the token cannot be
		// checked, and the subscription waits for it as the feed does.
		refused := func() bool {
			if session == nil {
				return false
			}
			_, err := session.check(ctx)
			var g *gqlerror.Error
			if errors.As(err, &g) {
				transport.AddSubscriptionError(ctx, g)
				return true
			}
			return false
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-recheck.C:
				if refused() {
					return
				}
				continue
			case <-changes.Ready:
			}
			if refused() {
				return
			}
			items, err := load(ctx, changes.Take())
			if err != nil {
				transport.AddSubscriptionError(ctx, presentError(ctx, err))
				return
			}
			for _, item := range items {
				if item == nil {
					continue
				}
				select {
				case out <- item:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}

// alertChanges serves alertChanged.
func (r *Resolver) alertChanges(ctx context.Context, namespace *string) (<-chan *delivery.Alert, error) {
	ns := models.NamespaceOf(ctx)
	if ns == nil {
		return nil, errors.New("alertChanged without a namespace")
	}
	if namespace != nil {
		name, err := models.CleanNamespaceName("namespace", *namespace)
		if err != nil {
			return nil, err
		}
		if name != ns.Name {
			return nil, &models.Error{Kind: models.KindForbidden, Field: "namespace",
				Message: fmt.Sprintf("this connection runs in the namespace %q: open another with Herald-Namespace %q", ns.Name, name)}
		}
	}
	if err := r.live.take(ctx, r.SubscriptionsPerToken); err != nil {
		return nil, err
	}
	return stream(ctx, r.Feed.WatchAlerts(ctx, ns.ID), r.Outbox.AlertsByIDs), nil
}

// deliveryChanges serves deliveryChanged.
func (r *Resolver) deliveryChanges(ctx context.Context, alertID string) (<-chan *delivery.Delivery, error) {
	a, err := r.Outbox.Alert(ctx, alertID)
	if err != nil {
		return nil, models.AtField("alertId", err)
	}
	if err := r.live.take(ctx, r.SubscriptionsPerToken); err != nil {
		return nil, err
	}
	return stream(ctx, r.Feed.WatchDeliveries(ctx, a.ID), r.Outbox.DeliveriesByIDs), nil
}

// Command herald keeps notification contacts and contact groups and delivers alerts to them through
// DingTalk, WeCom and Lark chat-bot webhooks, behind a GraphQL API.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/heraldhq/herald/cli"

	"github.com/heraldhq/herald/auth"
	"github.com/heraldhq/herald/console"
	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/graph"
	"github.com/heraldhq/herald/inbound"
	"github.com/heraldhq/herald/metrics"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/senders/notify"
	"github.com/heraldhq/herald/senders/platforms"
	"gorm.io/gorm"
)

// version is reported in the webhook User-Agent; release builds set it with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	args := os.Args[1:]
	if len(args) > 0 && slices.Contains(cli.Commands, args[0]) {
		// The client commands talk to a Herald through its API; they read none of the server's configuration.
		cli.RunMain(args)
	}
	command := "serve"
	if len(args) > 0 && (args[0] == "rotate-key" || args[0] == "schema") {
		command, args = args[0], args[1:]
	}
	if command == "schema" {
		// Needs no configuration: codegen tools and linters read the schema without a server.
		fmt.Print(graph.SchemaSDL())
		return
	}
	cfg, err := loadConfig(args, os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "herald:", err)
		os.Exit(2)
	}
	logger := newLogger(cfg.LogFormat, os.Stderr)
	slog.SetDefault(logger)
	tuneGC(os.LookupEnv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if command == "rotate-key" {
		err = rotateKey(ctx, cfg, logger)
	} else {
		err = run(ctx, cfg, logger)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "herald:", err)
		os.Exit(1)
	}
}

// Herald's live heap is a few MB, while one large read allocates tens of MB of short-lived
// response objects: with Go's default GOGC=100 the collector runs several times per such request.
// GOGC=400 collects a quarter as often, and the soft memory limit keeps that from growing the heap
// without bound under load. The standard GOGC and GOMEMLIMIT variables override either.
const (
	defaultGCPercent   = 400
	defaultMemoryLimit = 512 << 20
)

func tuneGC(lookupEnv func(string) (string, bool)) {
	if _, set := lookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
	if _, set := lookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// newNotifier builds the webhook client with every platform Herald speaks (package platforms
// lists them).
func newNotifier(cfg webhookConfig) (*notify.Notifier, error) {
	guard, err := notify.NewGuard(platforms.Registry, cfg.AllowedHosts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", setAllowed.env, err)
	}
	n, err := notify.New(notify.Config{
		Platforms: platforms.Registry, Options: senders.Options{Keyword: cfg.DingTalkKeyword},
		Guard: guard, Timeout: cfg.Timeout, ProxyURL: cfg.Proxy, Version: version,
	})
	if errors.Is(err, notify.ErrBadProxy) {
		return nil, fmt.Errorf("%s: %w", setProxy.env, err)
	}
	if err != nil {
		return nil, fmt.Errorf("webhook client: %w", err)
	}
	return n, nil
}

// run serves until ctx ends, then stops taking requests, lets the dispatcher finish or release
// what it holds, and returns.
func run(ctx context.Context, cfg config, logger *slog.Logger) error {
	var demo *demoPlatforms
	if cfg.Demo {
		var err error
		if demo, err = startDemo(&cfg, logger); err != nil {
			return err
		}
		defer demo.Close()
	}
	db, store, notifier, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	if sqlDB, err := db.DB(); err == nil {
		defer sqlDB.Close()
	}
	outbox := delivery.NewOutbox(store, notifier)
	prom := metrics.New(outbox.CountDeliveries)
	dispatcher := delivery.New(store, notifier, delivery.Config{
		Metrics:      prom,
		Workers:      cfg.Delivery.Workers,
		PollInterval: cfg.Delivery.PollInterval,
		Lease:        cfg.Delivery.Lease,
		MaxAge:       cfg.Delivery.MaxAge,
		Logger:       logger,
	})
	if demo != nil {
		if err := demo.seed(ctx, store); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("%s: %w", setAddr.env, err)
	}
	authn, err := newAuthenticator(ctx, cfg, store, ln, logger)
	if err != nil {
		ln.Close()
		return err
	}
	hosts, err := auth.NewHostPolicy(authn.Open(), ln.Addr(), cfg.Security.AllowedHosts)
	if err != nil {
		ln.Close()
		return fmt.Errorf("%s: %w", setHosts.env, err)
	}
	trusted, err := loadTrustedDocuments(cfg.Security, logger)
	if err != nil {
		ln.Close()
		return err
	}
	hooks := inbound.New(inbound.Config{
		Store: store, Outbox: outbox, Waker: dispatcher, RepeatWindow: cfg.Inbound.RepeatWindow,
		Observe: prom.InboundNotification, Logger: logger, ReportSQLStatements: cfg.ReportSQLStatements,
	})
	feed := delivery.NewFeed(db, cfg.Live.Poll)
	srv := &http.Server{
		Handler: newMux(endpoints{
			db: db,
			resolver: &graph.Resolver{Store: store, Outbox: outbox, Notifier: notifier, Dispatcher: dispatcher,
				PublicURL: publicURL(cfg.Inbound.PublicURL, ln.Addr()), Feed: feed, SubscriptionsPerToken: cfg.Live.PerToken},
			hooks:    hooks,
			metrics:  prom,
			authn:    authn,
			hosts:    hosts,
			security: cfg.Security,
			graph: graph.Options{
				ReportSQLStatements: cfg.ReportSQLStatements,
				ObserveRequest:      prom.GraphQLRequest,
				Introspection:       cfg.Security.Introspection,
				TrustedDocuments:    trusted,
				Live:                &graph.LiveOptions{Authenticator: authn, Origins: cfg.Security.CORSOrigins},
			},
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	dispatchCtx, stopDispatch := context.WithCancel(context.WithoutCancel(ctx))
	defer stopDispatch()
	dispatched := make(chan error, 1)
	go func() { dispatched <- dispatcher.Run(dispatchCtx) }()
	retention := delivery.NewRetention(store, delivery.RetentionConfig{Keep: cfg.Delivery.Retention, Metrics: prom, Logger: logger})
	retained := make(chan struct{})
	go func() { defer close(retained); retention.Run(dispatchCtx) }()
	go feed.Run(dispatchCtx)
	logger.Info("herald listening", "addr", ln.Addr().String(), "database", cfg.Database.String(),
		"console", "http://"+ln.Addr().String()+"/")
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		stopDispatch()
		<-dispatched
		<-retained
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	// Sources get 503 from now on and retry elsewhere or later; what is in flight completes.
	hooks.Drain()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	shutdownErr := srv.Shutdown(shutdownCtx)
	// The API is closed: nothing new can be accepted, so the dispatcher may drain now.
	stopDispatch()
	<-retained
	if err := <-dispatched; err != nil {
		return fmt.Errorf("dispatcher: %w", err)
	}
	if shutdownErr != nil {
		return fmt.Errorf("shutdown: %w", shutdownErr)
	}
	return nil
}

// openStore opens and migrates the database, loads the secret key ring and checks it against the
// stored secrets, and builds the webhook client the store validates URLs with.
func openStore(ctx context.Context, cfg config, logger *slog.Logger) (*gorm.DB, *models.Store, *notify.Notifier, error) {
	keyring, err := loadKeyring(cfg, logger)
	if err != nil {
		return nil, nil, nil, err
	}
	db, err := models.Open(cfg.Database)
	if err != nil {
		return nil, nil, nil, err
	}
	if cfg.ClockShift != 0 {
		models.ShiftClock(db, cfg.ClockShift)
		logger.Warn("the database clock is shifted", "env", envClockShift, "shift", cfg.ClockShift.String())
	}
	fail := func(err error) (*gorm.DB, *models.Store, *notify.Notifier, error) {
		if sqlDB, derr := db.DB(); derr == nil {
			sqlDB.Close()
		}
		return nil, nil, nil, err
	}
	if err := migrate(db); err != nil {
		return fail(err)
	}
	if err := models.PrepareSecrets(ctx, db, keyring, secretTables()); err != nil {
		return fail(fmt.Errorf("%s: %w", setKeyFile.env, err))
	}
	notifier, err := newNotifier(cfg.Webhooks)
	if err != nil {
		return fail(err)
	}
	store := models.NewStore(db, notifier.Guard().CheckWebhook)
	store.UseKeyring(keyring)
	if err := store.WarmNamespaces(ctx); err != nil {
		return fail(err)
	}
	return db, store, notifier, nil
}

// migrate creates or updates every table: the address book's, then the outbox's.
func migrate(db *gorm.DB) error {
	if err := models.Migrate(db); err != nil {
		return err
	}
	return delivery.Migrate(db)
}

// secretTables are every table that holds sealed signing secrets.
func secretTables() []string {
	return append(slices.Clone(models.SecretTables), delivery.SecretTables...)
}

// rotateKey is `herald rotate-key`: it re-seals every stored secret under the current key (the
// first in HERALD_SECRET_KEY_FILE), while servers keep running with the old key still listed.
func rotateKey(ctx context.Context, cfg config, logger *slog.Logger) error {
	db, store, _, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	if sqlDB, err := db.DB(); err == nil {
		defer sqlDB.Close()
	}
	n, err := store.RotateSecrets(ctx, secretTables())
	if err != nil {
		return err
	}
	logger.Info("secrets re-sealed under the current key", "count", n)
	return nil
}

// endpoints is what the HTTP routes are built from.
type endpoints struct {
	db       *gorm.DB
	resolver *graph.Resolver
	metrics  *metrics.Metrics
	authn    *auth.Authenticator
	hosts    *auth.HostPolicy // nil: any Host
	security securityConfig
	graph    graph.Options
	hooks    http.Handler
}

// newMux wires the HTTP endpoints. /healthz and /readyz need no token and answer any Host, as do
// the hooks (POST /hooks/{id}), which need their integration's token; /query
// and /schema.graphql (served with introspection) always need a token, and /metrics unless
// HERALD_METRICS_PUBLIC is set. Everything else is
// served only to the Host names the host policy allows.
func newMux(e endpoints) http.Handler {
	api := withCORS(e.security.CORSOrigins, e.authn.Middleware(graph.NewHandler(e.resolver, e.graph)))
	mux := http.NewServeMux()
	mux.Handle("GET /query", api)
	mux.Handle("POST /query", api)
	mux.Handle("OPTIONS /query", api)
	if e.security.MetricsPublic {
		mux.Handle("GET /metrics", e.metrics.Handler())
	} else {
		mux.Handle("GET /metrics", e.authn.Require(e.metrics.Handler()))
	}
	ui := console.Handler()
	if e.security.Introspection {
		mux.Handle("GET "+console.PlaygroundPath, ui)
		mux.Handle("GET /schema.graphql", e.authn.Require(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = io.WriteString(w, graph.SchemaSDL())
		})))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := models.Ping(ctx, e.db); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	mux.Handle("GET /{$}", ui)
	mux.Handle("GET "+console.AssetPrefix, ui)
	// Hooks authenticate by their own token and carry no ambient credential a rebinding page could
	// use, and sources often reach Herald by an IP or a proxy's name: they answer any Host.
	mux.Handle(inbound.Route, e.hooks)
	return e.hosts.Middleware(mux, "/healthz", "/readyz", "/hooks/")
}

// publicURL is the base of hook URLs: HERALD_PUBLIC_URL, or the listen address.
func publicURL(configured string, listen net.Addr) string {
	if configured != "" {
		return configured
	}
	if tcp, ok := listen.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		// 0.0.0.0 reaches nothing from another machine; the host name usually does.
		if host, err := os.Hostname(); err == nil && host != "" {
			return "http://" + net.JoinHostPort(host, strconv.Itoa(tcp.Port))
		}
	}
	return "http://" + listen.String()
}

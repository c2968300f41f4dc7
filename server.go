// Command herald serves the Herald GraphQL API for notification contacts and contact groups.
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
	"syscall"
	"time"

	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/heraldhq/herald/graph"
	"github.com/heraldhq/herald/models"
	"gorm.io/gorm"
)

// config is every setting Herald reads, read once here and passed down.
type config struct {
	Addr     string
	Database models.DatabaseConfig
}

// setting is a command-line flag whose default comes from an environment variable.
type setting struct {
	flag, env, def, usage string
}

var settings = struct{ addr, database setting }{
	addr:     setting{"addr", "HERALD_ADDR", "127.0.0.1:8080", "address to listen on"},
	database: setting{"database", "HERALD_DATABASE", "sqlite://herald.db", "sqlite://PATH or mysql://USER:PASSWORD@HOST:PORT/DBNAME?params"},
}

func (s setting) register(fs *flag.FlagSet, getenv func(string) string) *string {
	def := s.def
	if v := getenv(s.env); v != "" {
		def = v
	}
	return fs.String(s.flag, def, fmt.Sprintf("%s (env %s, default %q)", s.usage, s.env, s.def))
}

// loadConfig reads flags over environment variables over defaults. Errors name the setting.
func loadConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("herald", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := settings.addr.register(fs, getenv)
	database := settings.database.register(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	cfg := config{Addr: *addr}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return config{}, fmt.Errorf("%s: %q is not host:port", settings.addr.env, cfg.Addr)
	}
	db, err := models.ParseDatabaseURL(*database)
	if err != nil {
		return config{}, fmt.Errorf("%s: %w", settings.database.env, err)
	}
	cfg.Database = db
	return cfg, nil
}

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	slog.SetDefault(logger)
	cfg, err := loadConfig(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "herald:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, logger); err != nil {
		fmt.Fprintln(os.Stderr, "herald:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then shuts down gracefully.
func run(ctx context.Context, cfg config, logger *slog.Logger) error {
	db, err := models.Open(cfg.Database)
	if err != nil {
		return err
	}
	if sqlDB, err := db.DB(); err == nil {
		defer sqlDB.Close()
	}
	if err := models.Migrate(db); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("%s: %w", settings.addr.env, err)
	}
	srv := &http.Server{
		Handler:           newMux(db),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	logger.Info("herald listening", "addr", ln.Addr().String(), "database", cfg.Database.String(),
		"playground", "http://"+ln.Addr().String()+"/playground")
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// newMux wires the HTTP endpoints.
func newMux(db *gorm.DB) *http.ServeMux {
	store := models.NewStore(db, nil)
	api := graph.NewHandler(&graph.Resolver{Store: store})
	mux := http.NewServeMux()
	mux.Handle("GET /query", api)
	mux.Handle("POST /query", api)
	mux.Handle("OPTIONS /query", api)
	mux.Handle("GET /playground", playground.Handler("Herald", "/query"))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := models.Ping(ctx, db); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/playground", http.StatusFound)
	})
	return mux
}

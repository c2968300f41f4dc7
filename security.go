package main

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"

	"github.com/heraldhq/herald/auth"
	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/console"
	"github.com/heraldhq/herald/graph"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/secrets"
	"github.com/rs/cors"
)

// loadKeyring finds the key ring that seals webhook secrets: the key file, else the key in the
// environment, else, for a SQLite file, a key file created beside the database. On MySQL without
// a key it returns nil: Herald still serves, and refuses only what needs a secret.
func loadKeyring(cfg config, logger *slog.Logger) (*secrets.Keyring, error) {
	sec := cfg.Security
	switch {
	case sec.SecretKeyFile != "":
		k, err := secrets.LoadFile(sec.SecretKeyFile)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", setKeyFile.env, err)
		}
		if warning := secrets.FileModeWarning(sec.SecretKeyFile); warning != "" {
			logger.Warn(warning)
		}
		return k, nil
	case sec.SecretKey != "":
		k, err := secrets.FromBase64(sec.SecretKey)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", envSecretKey, err)
		}
		return k, nil
	case cfg.Database.Backend == models.SQLite && cfg.Database.SQLitePath == ":memory:":
		// Nothing outlives the process, so neither may its key.
		key, err := secrets.GenerateKey()
		if err != nil {
			return nil, err
		}
		return secrets.FromBase64(key)
	case cfg.Database.Backend == models.SQLite:
		path := cfg.Database.SQLitePath + ".key"
		k, created, err := secrets.LoadOrCreateFile(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", setKeyFile.env, err)
		}
		if created {
			logger.Warn("created a key file for webhook secrets beside the database; back it up with the database, or set HERALD_SECRET_KEY_FILE", "path", path)
		}
		return k, nil
	}
	return nil, nil
}

// newAuthenticator decides how requests are authenticated. Without an admin token and without any
// stored token, everyone is served as admin, but only on a loopback address, where "everyone" is
// this machine; anywhere else Herald refuses to start.
func newAuthenticator(ctx context.Context, cfg config, store *models.Store, ln net.Listener, logger *slog.Logger) (*auth.Authenticator, error) {
	loopback := isLoopback(ln.Addr())
	if cfg.Security.AdminToken == "" {
		has, err := store.HasAPITokens(ctx)
		if err != nil {
			return nil, err
		}
		if !has && !loopback {
			return nil, fmt.Errorf("%s: no admin token is set and no API token exists, so every caller would be an admin on %s; set %s, or listen on a loopback address",
				envAdminToken, ln.Addr(), envAdminToken)
		}
		if !has {
			logger.Warn("open mode: no HERALD_ADMIN_TOKEN and no API tokens, so every local caller is an admin; create a token or set HERALD_ADMIN_TOKEN to end it")
		}
	}
	return auth.New(store, cfg.Security.AdminToken, cfg.Security.AdminToken == "" && loopback), nil
}

// loadTrustedDocuments reads HERALD_TRUSTED_DOCUMENTS, with the console's and the command line's own
// documents, when it
// or HERALD_TRUSTED_DOCUMENTS_STRICT is set; otherwise every operation may run.
func loadTrustedDocuments(sec securityConfig, logger *slog.Logger) (*graph.TrustedDocuments, error) {
	if sec.TrustedDocuments == "" && !sec.TrustedDocumentsStrict {
		return nil, nil
	}
	own := console.Documents()
	maps.Copy(own, client.Documents())
	docs, err := graph.LoadTrustedDocuments(sec.TrustedDocuments, sec.TrustedDocumentsStrict, own)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", setTrusted.env, err)
	}
	who := "tokens below ADMIN"
	if sec.TrustedDocumentsStrict {
		who = "every caller"
	}
	logger.Info("trusted documents: "+who+" may run only these", "documents", docs.Len(), "file", sec.TrustedDocuments)
	return docs, nil
}

func isLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// withCORS lets the listed origins call h from a browser. With none listed there are no CORS
// headers at all: rs/cors treats an empty list as "allow every origin".
func withCORS(origins []string, h http.Handler) http.Handler {
	if len(origins) == 0 {
		return h
	}
	return cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost},
		AllowedHeaders: []string{"Authorization", "Content-Type", models.NamespaceHeader},
		MaxAge:         600,
	}).Handler(h)
}

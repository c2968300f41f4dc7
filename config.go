package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/models"
)

// config is every setting Herald reads, read once here and passed down.
type config struct {
	Addr      string
	Database  models.DatabaseConfig
	LogFormat string
	Demo      bool
	// ReportSQLStatements adds each response's SQL statement count to its extensions (for benchmarks).
	ReportSQLStatements bool

	Webhooks webhookConfig
	Delivery deliveryConfig
	Security securityConfig
	Inbound  inboundConfig
	Live     liveConfig
	// ClockShift moves the database clock as Herald reads it (HERALD_CLOCK_SHIFT).
	ClockShift time.Duration
}

type liveConfig struct {
	// Poll is HERALD_LIVE_POLL: how often the change feed polls while subscriptions are open.
	Poll time.Duration
	// PerToken is HERALD_SUBSCRIPTIONS_PER_TOKEN.
	PerToken int
}

type inboundConfig struct {
	// PublicURL is HERALD_PUBLIC_URL without a trailing slash: the base of the hook URLs the API
	// shows; empty means http:// and the listen address.
	PublicURL string
	// RepeatWindow is how long a repeated notification stays a duplicate.
	RepeatWindow time.Duration
}

type securityConfig struct {
	// AdminToken bootstraps an admin; read from the environment only, never a flag (process lists
	// show flags).
	AdminToken    string
	MetricsPublic bool
	CORSOrigins   []string
	// AllowedHosts is HERALD_ALLOWED_HOSTS: the Host names served (see auth.HostPolicy).
	AllowedHosts []string
	// TrustedDocuments is the file of HERALD_TRUSTED_DOCUMENTS; with it or TrustedDocumentsStrict,
	// callers below ADMIN (or everyone, strict) run only trusted documents.
	TrustedDocuments       string
	TrustedDocumentsStrict bool
	Introspection          bool
	// SecretKeyFile and SecretKey give the key ring that seals webhook secrets.
	SecretKeyFile string
	SecretKey     string
}

type webhookConfig struct {
	AllowedHosts    []string
	Proxy           string
	DingTalkKeyword string
	Timeout         time.Duration
}

type deliveryConfig struct {
	Workers      int
	MaxAge       time.Duration
	PollInterval time.Duration
	Lease        time.Duration
	// Retention is how long finished history is kept (HERALD_RETENTION); zero keeps it forever.
	Retention time.Duration
}

// setting is one command-line flag whose default comes from an environment variable.
type setting struct {
	flag, env, def, usage string
}

var (
	setAddr      = setting{"addr", "HERALD_ADDR", "127.0.0.1:8080", "address to listen on"}
	setDatabase  = setting{"database", "HERALD_DATABASE", "sqlite://herald.db", "sqlite://PATH or mysql://USER:PASSWORD@HOST:PORT/DBNAME?params"}
	setLogFormat = setting{"log-format", "HERALD_LOG_FORMAT", "text", "log format: text or json"}
	setAllowed   = setting{"webhook-allowed-hosts", "HERALD_WEBHOOK_ALLOWED_HOSTS", "", "comma-separated host names, IPs or CIDRs that webhooks may reach besides the official platform hosts"}
	setProxy     = setting{"webhook-proxy", "HERALD_WEBHOOK_PROXY", "", "http(s) proxy URL for all webhook traffic"}
	setKeyword   = setting{"dingtalk-keyword", "HERALD_DINGTALK_KEYWORD", "SchedulerX", "keyword every DingTalk message carries"}
	setTimeout   = setting{"webhook-timeout", "HERALD_WEBHOOK_TIMEOUT", "10s", "whole-request timeout of one webhook call"}
	setWorkers   = setting{"delivery-workers", "HERALD_DELIVERY_WORKERS", "32", "robots served at once"}
	setMaxAge    = setting{"delivery-max-age", "HERALD_DELIVERY_MAX_AGE", "1h", "how long a delivery is retried before it fails"}
	setPoll      = setting{"delivery-poll", "HERALD_DELIVERY_POLL", "1s", "how often the queue is polled for retries and other replicas' work"}
	setLease     = setting{"delivery-lease", "HERALD_DELIVERY_LEASE", "8s", "how long a crashed worker's claim holds its deliveries; live workers renew theirs"}
	setSQLCount  = setting{"report-sql-statements", "HERALD_REPORT_SQL_STATEMENTS", "false", "add each response's SQL statement count to extensions.sqlStatements"}
	setMetrics   = setting{"metrics-public", "HERALD_METRICS_PUBLIC", "false", "serve /metrics without a token"}
	setCORS      = setting{"cors-origins", "HERALD_CORS_ORIGINS", "", "comma-separated origins allowed to call /query from a browser"}
	setIntro     = setting{"introspection", "HERALD_INTROSPECTION", "true", "allow schema introspection and serve the playground"}
	setHosts     = setting{"allowed-hosts", "HERALD_ALLOWED_HOSTS", "", "comma-separated Host names the HTTP endpoints answer to (name, name:port, *.domain, or * for any); empty: any, except in open mode, which answers loopback names only"}
	setTrusted   = setting{"trusted-documents", "HERALD_TRUSTED_DOCUMENTS", "", "JSON file of sha256 → GraphQL document: the only operations run for tokens below ADMIN (the console's are always trusted)"}
	setStrict    = setting{"trusted-documents-strict", "HERALD_TRUSTED_DOCUMENTS_STRICT", "false", "run only trusted documents for admins and the playground too"}
	setPublicURL = setting{"public-url", "HERALD_PUBLIC_URL", "", "the URL sources reach Herald at (e.g. https://herald.example.com), the base of integrations' hook URLs; default: http:// and the listen address"}
	setRepeat    = setting{"inbound-repeat-window", "HERALD_INBOUND_REPEAT_WINDOW", "24h", "how long a repeated Alertmanager or Grafana notification stays a duplicate before it is sent again as a reminder"}
	setRetention = setting{"retention", "HERALD_RETENTION", "90d", "how long finished history (alerts with their deliveries and attempts, the audit log) is kept: a duration such as 720h, days such as 90d, or off"}
	setLivePoll  = setting{"live-poll", "HERALD_LIVE_POLL", "1s", "how often each replica polls the database for the changes subscriptions report (only while some are open)"}
	setLiveSubs  = setting{"subscriptions-per-token", "HERALD_SUBSCRIPTIONS_PER_TOKEN", "20", "how many subscriptions one token may hold at once"}
	setKeyFile   = setting{"secret-key-file", "HERALD_SECRET_KEY_FILE", "", "file of base64 32-byte keys sealing webhook secrets, current key first (SQLite default: created beside the database)"}
)

// Settings read from the environment only: they are secrets, and flags show in process lists.
const (
	envAdminToken = "HERALD_ADMIN_TOKEN"
	envSecretKey  = "HERALD_SECRET_KEY"
	// envClockShift moves Herald's reading of the database clock (a duration such as -36h or
	// 90m), for rehearsing silences and quiet hours; every replica must be given the same. Not a
	// flag: it is for tests and demos, never for production.
	envClockShift = "HERALD_CLOCK_SHIFT"
)

func (s setting) register(fs *flag.FlagSet, getenv func(string) string) *string {
	def := s.def
	if v, ok := lookup(getenv, s.env); ok {
		def = v
	}
	return fs.String(s.flag, def, fmt.Sprintf("%s (env %s, default %q)", s.usage, s.env, s.def))
}

func lookup(getenv func(string) string, key string) (string, bool) {
	v := getenv(key)
	return v, v != ""
}

// loadConfig reads flags over environment variables over defaults. Errors name the setting.
func loadConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("herald", flag.ContinueOnError)
	fs.SetOutput(stderr)
	raw := map[setting]*string{}
	for _, s := range []setting{setAddr, setDatabase, setLogFormat, setAllowed, setProxy, setKeyword, setTimeout, setWorkers, setMaxAge, setPoll, setLease, setSQLCount, setMetrics, setCORS, setIntro, setHosts, setTrusted, setStrict, setKeyFile, setPublicURL, setRepeat, setRetention, setLivePoll, setLiveSubs} {
		raw[s] = s.register(fs, getenv)
	}
	demo := fs.Bool("demo", false, "start fake DingTalk, WeCom and Lark robots in-process with sample contacts, to watch a whole send cycle")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	cfg := config{Addr: *raw[setAddr], LogFormat: *raw[setLogFormat], Demo: *demo}
	var errs []error
	fail := func(s setting, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", s.env, fmt.Sprintf(format, a...)))
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		fail(setAddr, "%q is not host:port", cfg.Addr)
	}
	if db, err := models.ParseDatabaseURL(*raw[setDatabase]); err != nil {
		fail(setDatabase, "%v", err)
	} else {
		cfg.Database = db
	}
	if cfg.LogFormat != "text" && cfg.LogFormat != "json" {
		fail(setLogFormat, "%q is neither text nor json", cfg.LogFormat)
	}
	cfg.Webhooks.AllowedHosts = splitList(*raw[setAllowed])
	cfg.Webhooks.Proxy = *raw[setProxy]
	cfg.Webhooks.DingTalkKeyword = *raw[setKeyword]
	duration := func(s setting, into *time.Duration) {
		d, err := time.ParseDuration(*raw[s])
		if err != nil || d <= 0 {
			fail(s, "%q is not a positive duration such as 30s", *raw[s])
		}
		*into = d
	}
	duration(setTimeout, &cfg.Webhooks.Timeout)
	duration(setMaxAge, &cfg.Delivery.MaxAge)
	duration(setPoll, &cfg.Delivery.PollInterval)
	duration(setLease, &cfg.Delivery.Lease)
	duration(setRepeat, &cfg.Inbound.RepeatWindow)
	duration(setLivePoll, &cfg.Live.Poll)
	if n, err := strconv.Atoi(*raw[setLiveSubs]); err != nil || n < 1 || n > 10000 {
		fail(setLiveSubs, "%q is not a number from 1 to 10000", *raw[setLiveSubs])
	} else {
		cfg.Live.PerToken = n
	}
	if d, err := parseRetention(*raw[setRetention]); err != nil {
		fail(setRetention, "%q is not a duration such as 720h, days such as 90d, or off", *raw[setRetention])
	} else if d > 0 && d < cfg.Inbound.RepeatWindow {
		// Only a stored alert makes a repeated notification a duplicate.
		fail(setRetention, "%s is shorter than %s (%s): a repeated notification would be sent again once its alert is deleted",
			d, setRepeat.env, cfg.Inbound.RepeatWindow)
	} else {
		cfg.Delivery.Retention = d
	}
	if pub := strings.TrimRight(strings.TrimSpace(*raw[setPublicURL]), "/"); pub != "" {
		u, err := url.Parse(pub)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			fail(setPublicURL, "%q is not an http(s) URL such as https://herald.example.com", pub)
		}
		cfg.Inbound.PublicURL = pub
	}
	boolean := func(s setting, into *bool) {
		b, err := strconv.ParseBool(*raw[s])
		if err != nil {
			fail(s, "%q is neither true nor false", *raw[s])
		}
		*into = b
	}
	boolean(setSQLCount, &cfg.ReportSQLStatements)
	boolean(setMetrics, &cfg.Security.MetricsPublic)
	boolean(setIntro, &cfg.Security.Introspection)
	boolean(setStrict, &cfg.Security.TrustedDocumentsStrict)
	cfg.Security.TrustedDocuments = *raw[setTrusted]
	cfg.Security.CORSOrigins = splitList(*raw[setCORS])
	cfg.Security.AllowedHosts = splitList(*raw[setHosts])
	cfg.Security.SecretKeyFile = *raw[setKeyFile]
	cfg.Security.AdminToken, _ = lookup(getenv, envAdminToken)
	cfg.Security.SecretKey, _ = lookup(getenv, envSecretKey)
	if raw, ok := lookup(getenv, envClockShift); ok {
		d, err := time.ParseDuration(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not a duration such as -36h or 90m", envClockShift, raw))
		}
		cfg.ClockShift = d
	}
	if n, err := strconv.Atoi(*raw[setWorkers]); err != nil || n < 1 || n > 1024 {
		fail(setWorkers, "%q is not a number from 1 to 1024", *raw[setWorkers])
	} else {
		cfg.Delivery.Workers = n
	}
	if cfg.Delivery.Lease < time.Second && len(errs) == 0 {
		fail(setLease, "must be at least 1s: it is renewed every third of itself while a send is in flight")
	}
	if len(errs) > 0 {
		return config{}, errs[0]
	}
	return cfg, nil
}

// parseRetention reads HERALD_RETENTION: a Go duration or whole days ("90d"), which
// time.ParseDuration lacks; zero of either, or "off", keeps history forever.
func parseRetention(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if strings.EqualFold(v, "off") {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(v, "d"); ok {
		// 100 years bounds the product well inside a Duration.
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 36500 {
			return 0, fmt.Errorf("%q is not a number of days", v)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, err
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", v)
	}
	return d, nil
}

// splitList reads a comma-separated setting, dropping blanks.
func splitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

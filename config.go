package main

import (
	"flag"
	"fmt"
	"io"
	"net"
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
	setLease     = setting{"delivery-lease", "HERALD_DELIVERY_LEASE", "30s", "how long a claimed delivery is held before another worker may take it"}
	setSQLCount  = setting{"report-sql-statements", "HERALD_REPORT_SQL_STATEMENTS", "false", "add each response's SQL statement count to extensions.sqlStatements"}
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
	for _, s := range []setting{setAddr, setDatabase, setLogFormat, setAllowed, setProxy, setKeyword, setTimeout, setWorkers, setMaxAge, setPoll, setLease, setSQLCount} {
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
	for _, h := range strings.Split(*raw[setAllowed], ",") {
		if h = strings.TrimSpace(h); h != "" {
			cfg.Webhooks.AllowedHosts = append(cfg.Webhooks.AllowedHosts, h)
		}
	}
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
	if b, err := strconv.ParseBool(*raw[setSQLCount]); err != nil {
		fail(setSQLCount, "%q is neither true nor false", *raw[setSQLCount])
	} else {
		cfg.ReportSQLStatements = b
	}
	if n, err := strconv.Atoi(*raw[setWorkers]); err != nil || n < 1 || n > 1024 {
		fail(setWorkers, "%q is not a number from 1 to 1024", *raw[setWorkers])
	} else {
		cfg.Delivery.Workers = n
	}
	if cfg.Delivery.Lease <= cfg.Webhooks.Timeout && len(errs) == 0 {
		fail(setLease, "must be longer than %s (%s): a lease that ends mid-request lets another worker send again", setTimeout.env, cfg.Webhooks.Timeout)
	}
	if len(errs) > 0 {
		return config{}, errs[0]
	}
	return cfg, nil
}

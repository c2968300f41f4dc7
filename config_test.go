package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

// HERALD_RETENTION takes Go durations and days, 0 or off for forever, defaults to 90 days, and a
// value that is none of these, or shorter than the repeat window, stops Herald naming it.
func TestRetentionSetting(t *testing.T) {
	load := func(env map[string]string, args ...string) (config, error) {
		return loadConfig(args, func(k string) string { return env[k] }, io.Discard)
	}
	for value, want := range map[string]time.Duration{
		"":      90 * 24 * time.Hour,
		"90d":   90 * 24 * time.Hour,
		"1d":    24 * time.Hour,
		"720h":  720 * time.Hour,
		"36h":   36 * time.Hour,
		"off":   0,
		"OFF":   0,
		"0":     0,
		"0d":    0,
		" 30d ": 30 * 24 * time.Hour,
	} {
		cfg, err := load(map[string]string{"HERALD_RETENTION": value})
		if err != nil || cfg.Delivery.Retention != want {
			t.Errorf("HERALD_RETENTION=%q: %s, %v; want %s", value, cfg.Delivery.Retention, err, want)
		}
	}
	if cfg, err := load(nil, "-retention", "7d"); err != nil || cfg.Delivery.Retention != 7*24*time.Hour {
		t.Errorf("-retention 7d: %s, %v", cfg.Delivery.Retention, err)
	}
	for _, value := range []string{"forever", "90", "-1d", "-720h", "d", "1.5d", "90days", "99999999999d", "1h"} {
		_, err := load(map[string]string{"HERALD_RETENTION": value})
		if err == nil || !strings.HasPrefix(err.Error(), "HERALD_RETENTION: ") {
			t.Errorf("HERALD_RETENTION=%q: %v, want an error naming HERALD_RETENTION", value, err)
		}
	}
	// Shorter than the repeat window is allowed once the window is shorter too.
	if cfg, err := load(map[string]string{"HERALD_RETENTION": "1h", "HERALD_INBOUND_REPEAT_WINDOW": "30m"}); err != nil || cfg.Delivery.Retention != time.Hour {
		t.Errorf("1h with a 30m repeat window: %s, %v", cfg.Delivery.Retention, err)
	}
}

package console_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The console speaks English and Simplified Chinese from one catalogue each. These tests hold the
// two catalogues to the same keys, and every key the page and the modules name to a catalogue
// entry.

var (
	catalogueKey = regexp.MustCompile(`(?m)^\s*'([a-zA-Z0-9_.-]+)':`)
	// t('key' or t("key": a literal key; keys built at run time (t(`status.${s}`)) are left to the
	// browser tests, which fail on a key shown as itself.
	usedKey  = regexp.MustCompile(`\bt\(\s*['"]([a-zA-Z0-9_.-]+)['"]`)
	pageKey  = regexp.MustCompile(`data-i18n="([^"]+)"`)
	attrKeys = regexp.MustCompile(`data-i18n-attr="([^"]+)"`)
)

func catalogue(t *testing.T, lang string) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("static", "locales", lang+".js"))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, m := range catalogueKey.FindAllStringSubmatch(string(raw), -1) {
		keys = append(keys, m[1])
	}
	if len(keys) == 0 {
		t.Fatalf("locales/%s.js has no keys", lang)
	}
	sorted := slices.Sorted(slices.Values(keys))
	if dup := slices.Compact(slices.Clone(sorted)); len(dup) != len(sorted) {
		t.Errorf("locales/%s.js defines a key twice", lang)
	}
	return sorted
}

func TestTheCataloguesHaveTheSameKeys(t *testing.T) {
	en, zh := catalogue(t, "en"), catalogue(t, "zh")
	for _, k := range en {
		if _, found := slices.BinarySearch(zh, k); !found {
			t.Errorf("locales/zh.js lacks %q", k)
		}
	}
	for _, k := range zh {
		if _, found := slices.BinarySearch(en, k); !found {
			t.Errorf("locales/en.js lacks %q", k)
		}
	}
}

func TestEveryKeyTheConsoleNamesIsInTheCatalogue(t *testing.T) {
	en := catalogue(t, "en")
	files, _ := filepath.Glob(filepath.Join("static", "*.js"))
	files = append(files, filepath.Join("static", "index.html"))
	for _, f := range files {
		if filepath.Base(f) == "i18n.js" {
			continue // the catalogue's reader, whose comments show the syntax
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, m := range usedKey.FindAllStringSubmatch(string(raw), -1) {
			keys = append(keys, m[1])
		}
		for _, m := range pageKey.FindAllStringSubmatch(string(raw), -1) {
			keys = append(keys, m[1])
		}
		for _, m := range attrKeys.FindAllStringSubmatch(string(raw), -1) {
			for _, pair := range strings.Split(m[1], ";") {
				if _, key, ok := strings.Cut(pair, ":"); ok {
					keys = append(keys, strings.TrimSpace(key))
				}
			}
		}
		for _, k := range keys {
			if _, found := slices.BinarySearch(en, k); !found {
				t.Errorf("%s names %q, which locales/en.js lacks", f, k)
			}
		}
	}
}

package models

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func FuzzInputValidation(f *testing.F) {
	for _, s := range []string{"Alice", " Alice ", "", "\x00", "José", "张三", strings.Repeat("x", 65), "İstanbul", "ß", "\u212a", "+8613800000000", "12-34"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if name, key, err := CleanName("name", raw); err == nil {
			n := utf8.RuneCountInString(name)
			if n < 1 || n > MaxNameLength || name != strings.TrimSpace(name) || strings.IndexFunc(name, unicode.IsControl) >= 0 {
				t.Fatalf("accepted %q as %q", raw, name)
			}
			// Case-blind: the same name in upper or lower case has the same key.
			if key != NameKey(name) || NameKey(strings.ToUpper(name)) != key || NameKey(strings.ToLower(name)) != key {
				t.Fatalf("key of %q is not case-blind: %q", name, key)
			}
		} else if e, ok := AsError(err); !ok || e.Kind != KindInvalid || e.Field != "name" {
			t.Fatalf("refusal of %q is not a field error: %v", raw, err)
		}
		if phone, err := CleanPhone("phone", raw); err == nil && phone != nil {
			if len(*phone) < 5 || len(*phone) > 20 || strings.TrimLeft(strings.TrimPrefix(*phone, "+"), "0123456789") != "" {
				t.Fatalf("accepted phone %q", *phone)
			}
		}
		if _, err := CleanDescription("description", raw); err == nil && utf8.RuneCountInString(strings.TrimSpace(raw)) > MaxDescriptionLength {
			t.Fatalf("accepted a description of %d characters", utf8.RuneCountInString(raw))
		}
		if _, pattern, err := cleanSearch("search", raw); err == nil && pattern != "" && (!strings.HasPrefix(pattern, "%") || !strings.HasSuffix(pattern, "%")) {
			t.Fatalf("search %q became %q", raw, pattern)
		}
	})
}

func FuzzCursorDecoding(f *testing.F) {
	f.Add(encodeCursor(nameCursor{Key: "alice"}))
	f.Add(encodeCursor(membershipCursor{ContactKey: "a", GroupKey: "g"}))
	f.Add("")
	f.Add("!!!")
	f.Add("eyJrIjo")
	f.Add(strings.Repeat("QUFB", 400))
	f.Fuzz(func(t *testing.T, raw string) {
		var c nameCursor
		err := DecodeCursor("after", raw, &c)
		if err != nil {
			if e, ok := AsError(err); !ok || e.Kind != KindInvalid || e.Field != "after" {
				t.Fatalf("bad cursor %q gave %v", raw, err)
			}
			return
		}
		var again nameCursor
		if err := DecodeCursor("after", encodeCursor(c), &again); err != nil || again != c {
			t.Fatalf("cursor %+v does not survive a round trip", c)
		}
	})
}

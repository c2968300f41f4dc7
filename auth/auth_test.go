package auth

import (
	"strings"
	"testing"
)

func TestNewTokensAreDistinctAndWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok, hash, err := NewToken()
		if err != nil {
			t.Fatal(err)
		}
		if !wellFormed(tok) || seen[tok] || hash != HashToken(tok) || strings.Contains(hash, tok[len(TokenPrefix):]) {
			t.Fatalf("token %q hash %q", tok, hash)
		}
		seen[tok] = true
	}
}

func TestParseBearer(t *testing.T) {
	good := map[string]string{"Bearer abc": "abc", "bearer  abc ": "abc", "BEARER hrld_x": "hrld_x"}
	for in, want := range good {
		if got, err := ParseBearer(in); err != nil || got != want {
			t.Errorf("ParseBearer(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "abc", "Basic abc", "Bearer", "Bearer a b", "Bearer \x00", "Bearer " + strings.Repeat("a", 513)} {
		if _, err := ParseBearer(bad); err == nil {
			t.Errorf("ParseBearer(%q) accepted", bad)
		}
	}
}

func FuzzParseBearer(f *testing.F) {
	for _, s := range []string{"Bearer hrld_abc", "", "Bearer", "bearer x y", "Basic Zm9v", "Bearer \u00e9", "Bearer " + strings.Repeat("a", 600)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		tok, err := ParseBearer(header)
		if err != nil {
			if err != ErrNoToken && err != ErrMalformedToken {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if tok == "" || len(tok) > 512 || strings.ContainsFunc(tok, func(r rune) bool { return r <= ' ' || r > '~' }) {
			t.Fatalf("accepted token %q from %q", tok, header)
		}
		_ = wellFormed(tok) // must not panic on anything ParseBearer lets through
	})
}

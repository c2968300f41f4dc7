package client

import (
	"os"
	"regexp"
	"slices"
	"testing"
)

// TestEveryOperationIsTrusted keeps operations (what the server trusts) equal to the operations
// genqlient generated: a new one missing from the list would be refused by a server that runs
// trusted documents only.
func TestEveryOperationIsTrusted(t *testing.T) {
	src, err := os.ReadFile("generated.go")
	if err != nil {
		t.Fatal(err)
	}
	var generated []string
	for _, m := range regexp.MustCompile(`(?m)^const (\w+)_Operation = `).FindAllSubmatch(src, -1) {
		generated = append(generated, string(m[1]))
	}
	var listed []string
	for name := range operations {
		listed = append(listed, name)
	}
	slices.Sort(generated)
	slices.Sort(listed)
	if len(generated) == 0 || !slices.Equal(generated, listed) {
		t.Fatalf("generated operations %v, listed %v", generated, listed)
	}
	if len(Documents()) != len(generated) {
		t.Fatalf("Documents has %d entries for %d operations", len(Documents()), len(generated))
	}
}

func TestEndpointAddsQueryToABaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8080":            "http://127.0.0.1:8080/query",
		"https://herald.example.com/":      "https://herald.example.com/query",
		"https://example.com/herald/query": "https://example.com/herald/query",
	} {
		if got, err := Endpoint(in); err != nil || got != want {
			t.Errorf("Endpoint(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "127.0.0.1:8080", "ftp://x"} {
		if _, err := Endpoint(bad); err == nil {
			t.Errorf("Endpoint(%q) accepted", bad)
		}
	}
}

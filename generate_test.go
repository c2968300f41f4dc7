package main

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// generatedFiles are what `go generate ./graph ./client` writes: gqlgen's code, then graph/leanexec's
// rewrite of the executor and its table; genqlient's typed client.
var generatedFiles = []string{"graph/generated.go", "graph/model/models_gen.go", "graph/schema.resolvers.go", "graph/lean_gen.go", "client/generated.go"}

// TestGeneratedCodeIsCurrent regenerates the GraphQL code in a copy of the module and fails when
// the committed files differ, so a schema change cannot land without its generated code.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("regeneration takes a while; CI runs it without -short")
	}
	dir := t.TempDir()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "testdata", "bench-out":
				if path != "." {
					return filepath.SkipDir
				}
			}
			return os.MkdirAll(filepath.Join(dir, path), 0o755)
		}
		// Sources and what they embed (templates, sample payloads): the generator type-checks graph and its imports.
		if !strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, ".graphqls") && !strings.HasSuffix(path, ".yml") &&
			!strings.HasSuffix(path, ".graphql") && !strings.HasSuffix(path, ".yaml") &&
			!strings.HasSuffix(path, ".tmpl") && !strings.HasPrefix(path, "inbound/samples/") &&
			path != "go.mod" && path != "go.sum" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, path), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "generate", "./graph", "./client")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go generate ./graph ./client: %v\n%s", err, out)
	}
	for _, f := range generatedFiles {
		want, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run `go generate ./graph ./client` and commit the result", f)
		}
	}
}

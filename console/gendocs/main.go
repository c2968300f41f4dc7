// Command gendocs writes console/documents.json, the console's trusted-document list, from the
// operations console/static/documents.js exports. Run it as `go generate ./console`.
package main

import (
	"fmt"
	"os"

	"github.com/heraldhq/herald/console"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}

func run() error {
	src, err := os.ReadFile("static/documents.js")
	if err != nil {
		return err
	}
	docs, err := console.ParseDocuments(src)
	if err != nil {
		return fmt.Errorf("static/documents.js: %w", err)
	}
	out, err := console.DocumentsJSON(docs)
	if err != nil {
		return err
	}
	return os.WriteFile("documents.json", out, 0o644)
}

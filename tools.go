//go:build tools

// Pins the code generators (gqlgen for the server, genqlient for the typed client) in go.mod, so
// `go generate` runs them at the pinned versions.
package main

import (
	_ "github.com/99designs/gqlgen"
	_ "github.com/Khan/genqlient"
)

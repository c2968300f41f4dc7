//go:build tools

// Pins the gqlgen generator in go.mod so `go run github.com/99designs/gqlgen generate` works offline-cached.
package main

import _ "github.com/99designs/gqlgen"

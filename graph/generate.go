package graph

// `go generate ./graph` writes the generated code: gqlgen's executor, models and resolver stubs
// (gqlgen.yml), then the executor's lean rewrite (graph/leanexec, see lean.go).
// TestGeneratedCodeIsCurrent runs the same two steps and compares.

//go:generate go run github.com/99designs/gqlgen generate
//go:generate go run ./leanexec

// Command leanexec rewrites the executor gqlgen generates (graph/generated.go) so that a read whose
// data is already loaded runs without a goroutine per list element and per resolver field. It runs
// after gqlgen, from `go generate ./graph`, and graph's TestGeneratedCodeIsCurrent runs it too.
//
// gqlgen starts a goroutine for every element of an object list (graphql.MarshalSliceConcurrently)
// and for every resolver field but one of each object (FieldSet.Dispatch): right while resolvers
// wait on the network, and ~3 µs of scheduling per output object when they do not, which is every
// nested field once a root resolver has prefetched its page. The calls are redirected to graph's
// own marshalList, resolveField and newDeferredGroup (graph/lean.go), which run inline when the
// operation is one whose data is loaded and defer to gqlgen otherwise; the per-object @defer group
// is built only for an object that has a deferred field. It also writes graph/lean_gen.go: the
// fields of each type gqlgen resolves concurrently, which graph/lean.go checks a query against.
//
// Each rewrite must match: a gqlgen that generates something else stops the generation here
// rather than leaving a half-lean executor.
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"log"
	"os"
	"regexp"
	"slices"
	"strings"
)

// rewrites are exact texts of gqlgen v0.17's executor and what replaces them.
var rewrites = []struct{ from, to string }{
	{
		"graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, func(ctx context.Context, i int) graphql.Marshaler {",
		"marshalList(ctx, len(v), func(ctx context.Context, i int) graphql.Marshaler {",
	},
	{
		"out.ResolveConcurrently(ec.OperationContext, &deferred, i,",
		"resolveField(ctx, out, ec.OperationContext, &deferred, i, field,",
	},
	{
		"deferred := graphql.NewDeferredGroup(ctx)",
		"deferred := newDeferredGroup(ctx, fields)",
	},
}

// objectFunc is the start of the marshaller of one object type; fieldCase one field of it.
var (
	objectFunc = regexp.MustCompile(`^func \(ec \*executionContext\) _([A-Za-z][A-Za-z0-9]*)\(ctx context\.Context, sel ast\.SelectionSet, obj `)
	fieldCase  = regexp.MustCompile(`^\s*case "([A-Za-z_][A-Za-z0-9_]*)":$`)
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("leanexec: ")
	generated, table, schemaFile := "generated.go", "lean_gen.go", "../schema.graphqls"
	if len(os.Args) == 4 {
		generated, table, schemaFile = os.Args[1], os.Args[2], os.Args[3]
	} else if len(os.Args) != 1 {
		log.Fatal("usage: leanexec [generated.go lean_gen.go schema.graphqls]")
	}
	src, err := os.ReadFile(generated)
	if err != nil {
		log.Fatal(err)
	}
	schema, err := os.ReadFile(schemaFile)
	if err != nil {
		log.Fatal(err)
	}
	out, concurrent, err := rewrite(src, scalarTypes(schema))
	if err != nil {
		log.Fatalf("%s: %v", generated, err)
	}
	if err := os.WriteFile(generated, out, 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(table, concurrentTable(concurrent), 0o644); err != nil {
		log.Fatal(err)
	}
}

// rewrite applies the rewrites to gqlgen's executor and lists, per object type, the fields it
// resolves concurrently.
func rewrite(src []byte, scalars map[string]bool) ([]byte, map[string][]string, error) {
	if bytes.Contains(src, []byte("marshalList(ctx, len(v)")) {
		return nil, nil, fmt.Errorf("already rewritten: run gqlgen first")
	}
	// Read before rewriting: the field calls are recognised by gqlgen's own text.
	concurrent := map[string][]string{}
	var typ, field string
	for line := range strings.SplitSeq(string(src), "\n") {
		if m := objectFunc.FindStringSubmatch(line); m != nil {
			typ = m[1]
			continue
		}
		if strings.HasPrefix(line, "}") {
			typ = ""
			continue
		}
		if m := fieldCase.FindStringSubmatch(line); m != nil {
			field = m[1]
			continue
		}
		if typ != "" && !strings.HasPrefix(typ, "_") && strings.Contains(line, rewrites[1].from) {
			concurrent[typ] = append(concurrent[typ], field)
		}
	}
	src, leaves := leanLeaves(src, scalars)
	if leaves == 0 {
		return nil, nil, fmt.Errorf("found no plain scalar field to marshal directly: gqlgen's field resolution changed, and graph/leanexec must follow it")
	}
	for _, r := range rewrites {
		if n := bytes.Count(src, []byte(r.from)); n == 0 {
			return nil, nil, fmt.Errorf("found no %q: gqlgen's executor changed, and graph/leanexec must follow it", r.from)
		}
		src = bytes.ReplaceAll(src, []byte(r.from), []byte(r.to))
	}
	if bytes.Contains(src, []byte("MarshalSliceConcurrently")) || bytes.Contains(src, []byte(".ResolveConcurrently(")) ||
		bytes.Contains(src, []byte("NewDeferredGroup")) {
		return nil, nil, fmt.Errorf("a concurrent call in a form leanexec does not know is left")
	}
	out, err := format.Source(src)
	if err != nil {
		return nil, nil, fmt.Errorf("the rewritten executor does not parse: %w", err)
	}
	return out, concurrent, nil
}

// plainScalarField is gqlgen's resolution of a field read from its struct, with no resolver and no
// directive, whose value a marshaller turns into a scalar: the function's opening, the struct
// field, the marshaller and the GraphQL type it marshals.
var plainScalarField = regexp.MustCompile(`(?m)^(func \(ec \*executionContext\) _\w+_\w+\(ctx context\.Context, field graphql\.CollectedField, obj [^)]+\) \(ret graphql\.Marshaler\) \{\n)` +
	`(\treturn graphql\.ResolveField\(\n\t\tctx,\n\t\tec\.OperationContext,\n\t\tfield,\n` +
	`\t\tfunc\(ctx context\.Context, field graphql\.CollectedField\) \(\*graphql\.FieldContext, error\) \{\n\t\t\treturn ec\.fieldContext_\w+\(ctx, field\)\n\t\t\},\n` +
	`\t\tfunc\(ctx context\.Context\) \(any, error\) \{\n\t\t\treturn obj\.(\w+), nil\n\t\t\},\n` +
	`\t\tnil,\n` +
	`\t\tfunc\(ctx context\.Context, selections ast\.SelectionSet, v [^)]+\) graphql\.Marshaler \{\n\t\t\treturn ec\.(marshal[NO]([A-Za-z]+)2[^(]*)\(ctx, selections, v\)\n)`)

// leanLeaves gives each plain field of a scalar or enum type (scalars) a direct path: the struct
// field marshalled at once, without the field context, closures and middleware call gqlgen spends on
// every field, about half of what the executor allocates per object. It is taken while
// plainFieldsDirect allows it (graph/lean.go); the field context only names a field in an error, and
// these marshallers cannot fail. Lists (ᚕ) keep gqlgen's path. It returns how many it rewrote.
func leanLeaves(src []byte, scalars map[string]bool) ([]byte, int) {
	n := 0
	out := plainScalarField.ReplaceAllFunc(src, func(m []byte) []byte {
		g := plainScalarField.FindSubmatch(m)
		marshal, typ := string(g[4]), string(g[5])
		if !scalars[typ] || strings.Contains(marshal, "ᚕ") {
			return m
		}
		n++
		direct := fmt.Sprintf("\tif plainFieldsDirect() {\n\t\treturn ec.%s(ctx, field.Selections, obj.%s)\n\t}\n", marshal, g[3])
		return append(append(append([]byte{}, g[1]...), direct...), g[2]...)
	})
	return out, n
}

// scalarTypes are the types whose marshallers cannot fail: the built-in scalars but Time (whose zero
// value is null), and the schema's enums.
func scalarTypes(schema []byte) map[string]bool {
	out := map[string]bool{"String": true, "Int": true, "Boolean": true, "ID": true, "Float": true}
	for _, m := range regexp.MustCompile(`(?m)^enum (\w+)`).FindAllSubmatch(schema, -1) {
		out[string(m[1])] = true
	}
	return out
}

func concurrentTable(concurrent map[string][]string) []byte {
	var b bytes.Buffer
	b.WriteString("// Code generated by graph/leanexec from generated.go. DO NOT EDIT.\n\npackage graph\n\n")
	b.WriteString("// concurrentFields are, by object type, the fields gqlgen resolves concurrently: resolvers and\n")
	b.WriteString("// methods that take a context.\n")
	b.WriteString("var concurrentFields = map[string][]string{\n")
	types := make([]string, 0, len(concurrent))
	for t := range concurrent {
		types = append(types, t)
	}
	slices.Sort(types)
	for _, t := range types {
		fmt.Fprintf(&b, "\t%q: {%s},\n", t, quoted(concurrent[t]))
	}
	b.WriteString("}\n")
	out, err := format.Source(b.Bytes())
	if err != nil {
		panic(err) // built here from names matched by a pattern
	}
	return out
}

func quoted(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

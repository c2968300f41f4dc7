package graph_test

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestSchemaDocsCoverEveryElement keeps schema.graphqls documented for the front end: every type,
// field, argument, input field, enum value and directive the file defines has a description, and
// every @deprecated gives a reason. The schema is read from disk, so the check does not wait for
// gqlgen to regenerate the embedded copy.
func TestSchemaDocsCoverEveryElement(t *testing.T) {
	src, err := os.ReadFile("../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	schema, err := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphqls", Input: string(src)})
	if err != nil {
		t.Fatalf("schema.graphqls does not load: %v", err)
	}
	if gaps := undocumented(schema); len(gaps) > 0 {
		t.Errorf("schema.graphqls has %d undocumented elements; give each a description (\"...\" or \"\"\"...\"\"\"):\n  %s",
			len(gaps), strings.Join(gaps, "\n  "))
	}
}

// TestSchemaDocsCheckerFindsGaps shows that the check above can fail: on a schema with a gap of
// every kind it names each one, and nothing that is documented.
func TestSchemaDocsCheckerFindsGaps(t *testing.T) {
	const sdl = `
scalar Bare
"A directive." directive @marked("Why." why: String, bare: Int) on FIELD_DEFINITION
"Colours." enum Colour { "Red." RED GREEN "Blue." BLUE @deprecated }
enum Shade { DARK @deprecated(reason: "  ") "Light." LIGHT @deprecated(reason: "Use PALE.") }
input Filter { "Documented." name: String colour: Colour }
"Things." interface Thing { "The id." id: ID! }
union Any = Item
type Item implements Thing {
  "The id." id: ID!
  "A label." label(format: String, "Documented." upper: Boolean): String
  old: String @deprecated(reason: "Gone.")
}
"""
The root.
"""
type Query {
  "Items." items(filter: Filter, "Documented." first: Int): [Item!]!
}
extend type Query { any: Any, "Shade." shade: Shade, bare: Bare }
`
	schema, err := gqlparser.LoadSchema(&ast.Source{Name: "gaps.graphqls", Input: sdl})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"argument Item.label(format)",
		"argument Query.items(filter)",
		"argument @marked(bare)",
		"enum Shade",
		"enum value Colour.GREEN",
		"enum value Colour.BLUE: @deprecated without a reason",
		"enum value Shade.DARK",
		"enum value Shade.DARK: @deprecated without a reason",
		"field Item.old",
		"field Query.any",
		"field Query.bare",
		"input Filter",
		"input field Filter.colour",
		"object Item",
		"scalar Bare",
		"union Any",
	}
	sort.Strings(want)
	if got := undocumented(schema); !slices.Equal(got, want) {
		t.Errorf("undocumented elements:\n got  %q\n want %q", got, want)
	}
}

// undocumented lists, sorted, every element of the schema's own definitions (not the built-in
// scalars, directives and introspection types) that lacks a description, and every @deprecated
// without a reason.
func undocumented(schema *ast.Schema) []string {
	var gaps []string
	missing := func(desc string) bool { return strings.TrimSpace(desc) == "" }
	note := func(format string, args ...any) { gaps = append(gaps, fmt.Sprintf(format, args...)) }
	deprecation := func(element string, directives ast.DirectiveList) {
		d := directives.ForName("deprecated")
		if d == nil {
			return
		}
		if r := d.Arguments.ForName("reason"); r == nil || r.Value == nil || strings.TrimSpace(r.Value.Raw) == "" {
			note("%s: @deprecated without a reason", element)
		}
	}
	arguments := func(owner string, args ast.ArgumentDefinitionList) {
		for _, a := range args {
			element := fmt.Sprintf("argument %s(%s)", owner, a.Name)
			if missing(a.Description) {
				note("%s", element)
			}
			deprecation(element, a.Directives)
		}
	}
	for name, def := range schema.Types {
		if def.BuiltIn || strings.HasPrefix(name, "__") {
			continue
		}
		if missing(def.Description) {
			note("%s %s", kindOf(def.Kind), name)
		}
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue // __schema and __type, which gqlparser adds to Query
			}
			element := fmt.Sprintf("field %s.%s", name, f.Name)
			if def.Kind == ast.InputObject {
				element = fmt.Sprintf("input field %s.%s", name, f.Name)
			}
			if missing(f.Description) {
				note("%s", element)
			}
			deprecation(element, f.Directives)
			arguments(name+"."+f.Name, f.Arguments)
		}
		for _, v := range def.EnumValues {
			element := fmt.Sprintf("enum value %s.%s", name, v.Name)
			if missing(v.Description) {
				note("%s", element)
			}
			deprecation(element, v.Directives)
		}
	}
	for name, d := range schema.Directives {
		if d.Position == nil || d.Position.Src == nil || d.Position.Src.BuiltIn {
			continue
		}
		if missing(d.Description) {
			note("directive @%s", name)
		}
		arguments("@"+name, d.Arguments)
	}
	sort.Strings(gaps)
	return gaps
}

func kindOf(k ast.DefinitionKind) string {
	switch k {
	case ast.Object:
		return "object"
	case ast.InputObject:
		return "input"
	case ast.Enum:
		return "enum"
	case ast.Scalar:
		return "scalar"
	case ast.Interface:
		return "interface"
	case ast.Union:
		return "union"
	}
	return strings.ToLower(string(k))
}

package graph

import (
	"strings"
	"testing"
)

// TestNestedFieldsAreTheSchemas keeps the prefetch declarations true to the schema: each declared
// field exists on its type, and the level below it is the type the field holds.
func TestNestedFieldsAreTheSchemas(t *testing.T) {
	schema := NewExecutableSchema(Config{}).Schema()
	// A membership's two sides come with its row; prefetchMemberships names them.
	for field, holds := range map[string]string{"contact": contactLevel.typeName, "group": groupLevel.typeName} {
		if f := schema.Types["Membership"].Fields.ForName(field); f == nil || f.Type.Name() != holds {
			t.Errorf("Membership.%s is not a %s in the schema", field, holds)
		}
	}
	for _, lv := range allLevels {
		typ := schema.Types[lv.typeName]
		if typ == nil {
			t.Errorf("level %s: no such type in the schema", lv.typeName)
			continue
		}
		for name, f := range lv.fields {
			field := typ.Fields.ForName(name)
			if field == nil {
				t.Errorf("%s.%s: no such field in the schema", lv.typeName, name)
				continue
			}
			if want := f.child(); want != "" && field.Type.Name() != want {
				t.Errorf("%s.%s holds %s; its level below is %s", lv.typeName, name, field.Type.Name(), want)
			}
		}
		for covered, by := range lv.covered {
			if typ.Fields.ForName(covered) == nil || typ.Fields.ForName(by) == nil {
				t.Errorf("%s: covered field %s or %s is not in the schema", lv.typeName, covered, by)
			}
		}
	}
}

// The lean executor's tables name fields gqlgen resolves concurrently (lean_gen.go): a stale entry,
// a field since made plain or renamed, would be a check that no longer checks anything.
func TestLeanTablesNameConcurrentFields(t *testing.T) {
	for _, table := range []map[string]bool{pureFields, rowFields} {
		for key := range table {
			typ, field, _ := strings.Cut(key, ".")
			if !concurrent[typ][field] {
				t.Errorf("%s is not a field gqlgen resolves concurrently", key)
			}
		}
	}
	for _, lv := range allLevels {
		for name := range lv.fields {
			if !concurrent[lv.typeName][name] {
				t.Errorf("%s.%s is prefetched but not resolved concurrently: prefetching it primes nothing", lv.typeName, name)
			}
		}
	}
}

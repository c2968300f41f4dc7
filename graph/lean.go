package graph

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// The lean executor. gqlgen marshals every element of an object list in a goroutine of its own,
// and every resolver field but one of each object, so that resolvers waiting on the network wait
// together. Once a root resolver has prefetched its answer (prefetch.go) no nested resolver waits:
// the goroutines only cost scheduling, about ten times what encoding the object costs. graph/leanexec
// rewrites the generated executor to call marshalList, resolveField and newDeferredGroup, which run
// inline when the root field's answer is loaded (or the field is a pure conversion) and hand over
// to gqlgen's concurrent versions otherwise.
//
// A root resolver calls prefetched after its prefetch. It checks the whole selection against what
// the prefetch loads: a selected resolver field that would read the database (and wait up to
// loaderWait to batch it), one per element, serially, would cost far more than the goroutines.

// pureFields are resolver fields that only convert what their object holds: they never wait, so
// they run inline in every operation.
var pureFields = map[string]bool{
	"Webhook.url": true, "Delivery.url": true, "Alert.labels": true, "ContactGroup.quietHours": true,
	"Route.matchers": true, "Silence.matchers": true, "MessageTemplate.id": true, "MessageTemplate.builtin": true,
	"PlatformInfo.tokenParam": true, "PlatformInfo.rateLimits": true,
}

// rowFields are resolver fields that return what a page's rows carry (a membership page reads both
// sides in its statement); read any other way they load, so they are inline only in a lean answer.
var rowFields = map[string]bool{"Membership.contact": true, "Membership.group": true}

// handoffs counts the lists and fields handed to gqlgen's concurrent executor, and leanOff turns the
// lean executor off: tests check with them that a loaded read starts no goroutine and answers the
// same either way. An atomic add costs far less than the goroutine it counts.
var (
	handoffs atomic.Int64
	leanOff  atomic.Bool
)

// levels are the prefetch levels by object type, once prefetch.go's init has built them.
var levels = sync.OnceValue(func() map[string]*level {
	m := map[string]*level{}
	for _, lv := range allLevels {
		m[lv.typeName] = lv
	}
	return m
})

// concurrent is concurrentFields (lean_gen.go) as sets.
var concurrent = func() map[string]map[string]bool {
	m := map[string]map[string]bool{}
	for t, fields := range concurrentFields {
		m[t] = map[string]bool{}
		for _, f := range fields {
			m[t][f] = true
		}
	}
	return m
}()

// prefetched marks the root field being resolved as lean when its prefetch succeeded and loaded
// every field below it; it returns err.
func prefetched(ctx context.Context, err error) error {
	if err != nil {
		return err
	}
	op, fc, root := graphql.GetOperationContext(ctx), graphql.GetFieldContext(ctx), graphql.GetRootFieldContext(ctx)
	if op.Operation == nil || op.Operation.Operation != ast.Query || fc == nil || root == nil || fc.Field.Field != root.Field.Field {
		return nil
	}
	if loadedBelow(op, fc.Field.Definition.Type.Name(), fc.Field.Selections, false, false) {
		loadersFor(ctx).lean.Store(root.Field.Field, true)
	}
	return nil
}

// loadedBelow reports whether resolving set on objects of typeName waits for nothing: every
// concurrent field selected is pure, carried by the rows, or prefetched with the arguments given.
// Outside a list a connection's totalCount may still count: it runs once. countLoaded says the
// prefetch of the field above counted this connection too.
func loadedBelow(op *graphql.OperationContext, typeName string, set ast.SelectionSet, inList, countLoaded bool) bool {
	lv := levels()[typeName]
	for _, f := range graphql.CollectFields(op, set, nil) {
		if f.Definition == nil {
			continue // __typename
		}
		childCounted := false
		if concurrent[typeName][f.Name] {
			key := typeName + "." + f.Name
			switch fetch := lv.fieldFetcher(f.Name); {
			case pureFields[key] || rowFields[key]:
			case fetch != nil && fetch.loads(f.ArgumentMap(op.Variables)):
				childCounted = true
			case f.Name == "totalCount" && (countLoaded || !inList):
			default:
				return false
			}
		}
		below := inList || f.Definition.Type.Elem != nil
		if len(f.Selections) > 0 && !loadedBelow(op, f.Definition.Type.Name(), f.Selections, below, childCounted) {
			return false
		}
	}
	return true
}

func (lv *level) fieldFetcher(name string) fetcher {
	if lv == nil {
		return nil
	}
	return lv.fields[name]
}

// isLean reports whether ctx is below a root field whose answer is loaded.
func isLean(ctx context.Context) bool {
	root := graphql.GetRootFieldContext(ctx)
	if root == nil || leanOff.Load() || root.Field.Field == nil {
		return false
	}
	l, ok := ctx.Value(loadersKey{}).(*Loaders)
	if !ok {
		return false
	}
	_, lean := l.lean.Load(root.Field.Field)
	return lean
}

// marshalList replaces graphql.MarshalSliceConcurrently in the generated executor: inline, element
// by element, when the answer is loaded.
func marshalList(ctx context.Context, n int, marshal func(ctx context.Context, i int) graphql.Marshaler) graphql.Array {
	if n <= 1 {
		return graphql.MarshalSliceConcurrently(ctx, n, 0, false, marshal) // runs one inline
	}
	if !isLean(ctx) {
		handoffs.Add(1)
		return graphql.MarshalSliceConcurrently(ctx, n, 0, false, marshal)
	}
	ret := make(graphql.Array, n)
	for i := range n {
		// Each element has its own field context, as gqlgen gives it: errors' paths end in the index.
		elem := graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &i})
		func() {
			defer func() {
				if r := recover(); r != nil {
					graphql.AddError(elem, graphql.Recover(elem, r))
					ret[i] = graphql.Null
				}
			}()
			ret[i] = marshal(elem, i)
		}()
	}
	return ret
}

// resolveField replaces FieldSet.ResolveConcurrently in the generated executor: a pure field, or
// any field of a loaded answer, is resolved at once; a deferred one always goes to gqlgen, which
// sends it in a later payload.
func resolveField(ctx context.Context, out *graphql.FieldSet, oc *graphql.OperationContext, deferred *graphql.DeferredGroup, i int,
	field graphql.CollectedField, recoverFromPanic, nonNull bool, resolve func(ctx context.Context) graphql.Marshaler) {
	inline := !field.IsDeferred() && (field.ObjectDefinition != nil && pureFields[field.ObjectDefinition.Name+"."+field.Name] || isLean(ctx))
	if !inline {
		handoffs.Add(1)
		out.ResolveConcurrently(oc, deferred, i, recoverFromPanic, nonNull, resolve)
		return
	}
	res := func() (res graphql.Marshaler) {
		if recoverFromPanic {
			defer func() {
				if r := recover(); r != nil {
					oc.Error(ctx, oc.Recover(ctx, r))
					res = graphql.Null
				}
			}()
		}
		return resolve(ctx)
	}()
	out.Values[i] = res
	// What marks the object invalid, as gqlgen counts it: Null for a non-null field, RequiredNull
	// for a nullable one.
	if (nonNull && res == graphql.Null) || (!nonNull && res == graphql.RequiredNull) {
		atomic.AddUint32(&out.Invalids, 1)
	}
}

// plainFieldsDirect reports whether the plain scalar fields take their direct path (graph/leanexec's
// leanLeaves), which skips the field middleware: Herald registers none (NewHandler has no
// AroundFields), and one added would have to turn this off.
func plainFieldsDirect() bool { return !leanOff.Load() }

// newDeferredGroup replaces graphql.NewDeferredGroup in the generated executor: the group (its path,
// a field set and a map) is built only for an object with a deferred field, the only one that uses it.
func newDeferredGroup(ctx context.Context, fields []graphql.CollectedField) graphql.DeferredGroup {
	for _, f := range fields {
		if f.IsDeferred() {
			return graphql.NewDeferredGroup(ctx)
		}
	}
	return graphql.DeferredGroup{}
}

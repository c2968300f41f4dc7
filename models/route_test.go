package models_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modelstest"
)

// Routes created, moved and deleted at once by several callers keep positions 1..n, each once,
// even when the namespace had no route to lock yet.
func TestConcurrentRouteChangesKeepADenseOrder(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		s := modelstest.Store(t, db)
		ctx := context.Background()
		name := "ops"
		g, err := s.CreateGroup(ctx, models.GroupInput{Name: &name})
		if err != nil {
			t.Fatal(err)
		}
		const callers = 8
		var wg sync.WaitGroup
		errs := make(chan error, callers)
		for i := range callers {
			wg.Go(func() {
				first := 1
				_, err := s.CreateRoute(ctx, models.RouteInput{Name: fmt.Sprintf("r%d", i), GroupIDs: []string{models.FormatID(g.ID)}, Position: &first})
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("a concurrent createRoute failed: %v", err)
			}
		}
		dense := func(want int) []*models.Route {
			t.Helper()
			routes, err := s.Routes(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(routes) != want {
				t.Fatalf("%d routes, want %d", len(routes), want)
			}
			for i, r := range routes {
				if r.Position != i+1 {
					t.Fatalf("route %q at position %d, want %d (positions must stay dense)", r.Name, r.Position, i+1)
				}
			}
			return routes
		}
		routes := dense(callers)
		// Moves, deletes and creates at once.
		errs = make(chan error, callers)
		for i, r := range routes {
			wg.Go(func() {
				var err error
				switch i % 3 {
				case 0:
					err = s.DeleteRoute(ctx, models.FormatID(r.ID))
				case 1:
					_, err = s.MoveRoute(ctx, models.FormatID(r.ID), callers-i)
				default:
					_, err = s.CreateRoute(ctx, models.RouteInput{Name: fmt.Sprintf("late %d", i), GroupIDs: []string{models.FormatID(g.ID)}})
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("a concurrent change failed: %v", err)
			}
		}
		deleted, created := (callers+2)/3, callers/3 // i%3 == 0 and i%3 == 2 among 0..callers-1
		dense(callers - deleted + created)
	})
}

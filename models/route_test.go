package models_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

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

// A namespace's routes and live silences hold at most MaxRegexMatchers regular expressions: every
// alert may test them all.
func TestRegexMatchersAreBoundedPerNamespace(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		s := modelstest.Store(t, db)
		ctx := context.Background()
		name := "ops"
		g, err := s.CreateGroup(ctx, models.GroupInput{Name: &name})
		if err != nil {
			t.Fatal(err)
		}
		regexes := func(n int) []models.Matcher {
			ms := make([]models.Matcher, n)
			for i := range ms {
				ms[i] = models.Matcher{Label: fmt.Sprintf("l%d", i), Op: models.MatchRegexp, Value: "a|b"}
			}
			return ms
		}
		for i := range models.MaxRegexMatchers / models.MaxMatchers {
			if _, err := s.CreateRoute(ctx, models.RouteInput{Name: fmt.Sprintf("r%d", i), GroupIDs: []string{models.FormatID(g.ID)}, Matchers: regexes(models.MaxMatchers)}); err != nil {
				t.Fatal(err)
			}
		}
		left := models.MaxRegexMatchers % models.MaxMatchers
		_, err = s.CreateSilence(ctx, models.SilenceInput{Matchers: regexes(left + 1), EndsAt: time.Now().Add(time.Hour), Comment: "one too many"})
		if e, ok := models.AsError(err); !ok || e.Field != "matchers" {
			t.Fatalf("a silence past the namespace's regular expressions: %v, want BAD_USER_INPUT at matchers", err)
		}
		if _, err := s.CreateSilence(ctx, models.SilenceInput{Matchers: regexes(left), EndsAt: time.Now().Add(time.Hour), Comment: "just fits"}); err != nil {
			t.Fatalf("a silence within the bound: %v", err)
		}
	})
}

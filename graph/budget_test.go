package graph_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/graph"
	"github.com/heraldhq/herald/models/modelstest"
	"gorm.io/gorm"
)

// Two operations that together exceed the execution budget never execute at once: the second
// starts only when the first has finished, and both succeed.
func TestHeavyOperationsWaitForTheExecutionBudget(t *testing.T) {
	db := modelstest.SQLite(t)
	a := newAPIWith(t, db, "", true,
		graph.Options{ExecutionBudget: graph.MaxComplexity})
	a.createContact("ada")

	// Each page read announces itself on entered and, while the gate is armed, holds its
	// operation inside the budget until released.
	entered, release := make(chan struct{}, 4), make(chan struct{})
	var armed atomic.Bool
	armed.Store(true)
	err := db.Gorm.Callback().Query().Before("gorm:query").Register("test:gate", func(tx *gorm.DB) {
		if tx.Statement.Table == "contacts" && armed.Load() {
			entered <- struct{}{}
			<-release
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	// A page of 100 with this many fields weighs more than half of MaxComplexity.
	const heavy = `{ contacts(first: 100) { edges { cursor node { id name phone createdAt updatedAt n1: name n2: name n3: name
		n4: name n5: name n6: name n7: name n8: name webhooks { id url platform hasSecret keyword } groups { id name description contactCount } } } } }`
	results := make(chan gqlResponse, 2)
	send := func() {
		body, _ := json.Marshal(map[string]any{"query": heavy})
		resp, err := http.Post(a.url, "application/json", bytes.NewReader(body))
		var out gqlResponse
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
		}
		if err != nil {
			out.Errors = append(out.Errors, gqlError{Message: err.Error()})
		}
		results <- out
	}

	var released atomic.Bool
	open := func() {
		armed.Store(false)
		if !released.Swap(true) {
			close(release)
		}
	}
	t.Cleanup(open) // a failed test must not leave requests blocked, or closing the server hangs
	go send()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the first operation never reached its page read")
	}
	go send()
	select {
	case <-entered:
		t.Fatal("the second operation executed while the first held the budget")
	case <-time.After(300 * time.Millisecond):
	}
	open()
	for range 2 {
		select {
		case res := <-results:
			if len(res.Errors) > 0 {
				t.Fatalf("errors: %+v", res.Errors)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("an operation never finished")
		}
	}
}

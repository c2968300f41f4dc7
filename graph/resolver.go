package graph

import (
	"github.com/heraldhq/herald/models"
)

// Resolver is where the API's dependencies come in; server.go fills it.
type Resolver struct {
	Store *models.Store
}

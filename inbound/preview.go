package inbound

import (
	"embed"
	"fmt"
	"strings"

	"github.com/heraldhq/herald/delivery"
	"github.com/heraldhq/herald/models"
)

//go:embed samples/*.json
var sampleFiles embed.FS

// Sample is a notification of the kind as its source posts it: what previewTemplate renders when
// no payload is pasted.
func Sample(kind models.IntegrationKind) []byte {
	b, err := sampleFiles.ReadFile("samples/" + strings.ToLower(string(kind)) + ".json")
	if err != nil {
		panic(fmt.Sprintf("no sample for %s: %v", kind, err))
	}
	return b
}

// PreviewAlert reads a notification as a hook of the kind would, with resolved alerts kept: the
// alert a preview renders. A payload the hook would refuse is a BAD_USER_INPUT at field.
func PreviewAlert(kind models.IntegrationKind, body []byte, timeZone, field string) (delivery.AlertInput, error) {
	i := &models.Integration{Kind: kind, TimeZone: timeZone, SendResolved: true}
	in, _, err := (&Handler{}).alertFor(i, body)
	if bad, ok := err.(badRequest); ok {
		return in, models.Invalid(field, "%s", bad.msg)
	}
	in.SourceID, in.IdempotencyKey = nil, nil
	return in, err
}

// SampleAlert is the alert the integration's hook would make of its kind's sample, to its
// recipients and through its template and routes, but never a duplicate: sendSampleNotification
// lets a person try an integration before its source is wired up, as often as they like.
func SampleAlert(i *models.Integration) (delivery.AlertInput, error) {
	in, _, err := (&Handler{}).alertFor(i, Sample(i.Kind))
	in.IdempotencyKey, in.RepeatAfter = nil, 0
	if !i.SendResolved {
		in.Resolved = false
	}
	return in, err
}

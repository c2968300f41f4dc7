package senders

import (
	"bytes"
	"encoding/json"
)

// EncodeJSON encodes without HTML escaping, so the sizes a platform package
// measures are the sizes the platform measures, and markup such as <font> or
// <at> stays readable in previews.
func EncodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

package models

import (
	"strconv"
)

// ParseID reads an API id. A malformed id cannot name a row, so callers treat it as not found.
func ParseID(s string) (uint, bool) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil || id == 0 {
		return 0, false
	}
	return uint(id), true
}

// FormatID is the API form of a row id.
func FormatID(id uint) string { return strconv.FormatUint(uint64(id), 10) }

// parseIDList parses and de-duplicates a list of ids given for field, keeping the first position of
// each. A malformed id is reported as not found at its index. The list is bounded.
func parseIDList(field, what string, raw []string) ([]uint, []int, error) {
	return parseIDs(field, what, raw, MaxIDsPerRequest)
}

// parseIDs is parseIDList with its own bound (0: none, for ids Herald chose itself).
func parseIDs(field, what string, raw []string, limit int) ([]uint, []int, error) {
	if limit > 0 && len(raw) > limit {
		return nil, nil, Invalid(field, "at most %d ids are allowed, got %d", MaxIDsPerRequest, len(raw))
	}
	ids := make([]uint, 0, len(raw))
	positions := make([]int, 0, len(raw))
	seen := make(map[uint]bool, len(raw))
	for i, s := range raw {
		id, ok := ParseID(s)
		if !ok {
			return nil, nil, NotFound(indexed(field, i), what, s)
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		ids = append(ids, id)
		positions = append(positions, i)
	}
	return ids, positions, nil
}

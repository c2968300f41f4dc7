package models

import (
	"context"
	"fmt"
	"time"
)

// PruneAuditLog deletes up to limit audit entries written before before, the oldest first, and
// returns how many it deleted: 0 once none is left. The ids are read first and then deleted by
// primary key, so the delete locks only the rows it removes and a caller can work through a long
// backlog one short statement at a time.
func (s *Store) PruneAuditLog(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, fmt.Errorf("prune audit log: limit %d is not positive", limit)
	}
	// The log spans every namespace, whatever a caller's context carries.
	db := s.db.WithContext(withoutNamespace(ctx))
	var ids []uint
	// Ordered by the time index (which ends with the id), so the read stops at before instead of
	// walking the log's young end.
	if err := db.Model(&AuditEntry{}).Where("at < ?", before.UTC()).Order("at, id").Limit(limit).Pluck("id", &ids).Error; err != nil {
		return 0, fmt.Errorf("find old audit entries: %w", err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	res := db.Where("id IN ?", ids).Delete(&AuditEntry{})
	if res.Error != nil {
		return 0, fmt.Errorf("delete old audit entries: %w", res.Error)
	}
	return int(res.RowsAffected), nil
}

package models

import (
	"context"
	"fmt"
)

// PendingDeliveries counts the deliveries waiting to be sent, across all replicas.
func (s *Store) PendingDeliveries(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&Delivery{}).Where("status = ?", DeliveryPending).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count pending deliveries: %w", err)
	}
	return n, nil
}

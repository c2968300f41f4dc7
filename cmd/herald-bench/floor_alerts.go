package main

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

	"github.com/heraldhq/herald/models"
	"golang.org/x/sync/errgroup"
)

// The alert history's reads: the first page of alerts with their delivery counts, and one alert
// with its counts and first deliveries.

type fDeliveryCounts struct {
	Total   int `json:"total"`
	Pending int `json:"pending"`
	Sent    int `json:"sent"`
	Failed  int `json:"failed"`
	Held    int `json:"held"`
	Dropped int `json:"dropped"`
}

func (c *fDeliveryCounts) add(status string, n int) {
	c.Total += n
	switch status {
	case "PENDING":
		c.Pending += n
	case "SENT":
		c.Sent += n
	case "FAILED":
		c.Failed += n
	case "HELD":
		c.Held += n
	case "DROPPED":
		c.Dropped += n
	}
}

type fAlert struct {
	ID             string           `json:"id"`
	Title          string           `json:"title"`
	Status         string           `json:"status"`
	Severity       string           `json:"severity"`
	CreatedAt      string           `json:"createdAt"`
	DeliveryCounts *fDeliveryCounts `json:"deliveryCounts"`
	Labels         json.RawMessage  `json:"labels"`
}

type fAlertEdge struct {
	Node *fAlert `json:"node"`
}

// jsonList is a JSON column holding a list, as the API shows it: NULL is an empty list.
func jsonList(b []byte) json.RawMessage {
	if len(b) == 0 || string(b) == "null" {
		return json.RawMessage("[]")
	}
	return json.RawMessage(b)
}

// alertCursor encodes a position in the newest-first alert list as Herald does.
func alertCursor(at time.Time, id int64) string {
	b, _ := json.Marshal(struct {
		T  time.Time `json:"t"`
		ID int64     `json:"i"`
	}{at, id})
	return base64.RawURLEncoding.EncodeToString(b)
}

// alertsPage reads the newest n alerts (one more, to know whether a page follows), then the
// delivery counts of all of them by status, in one statement.
func (f *floor) alertsPage(ctx context.Context, n int) (any, error) {
	rows, err := f.db.QueryContext(ctx, `SELECT id, title, status, severity, created_at, labels FROM alerts
		WHERE namespace_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`, models.DefaultNamespaceID, n+1)
	if err != nil {
		return nil, err
	}
	conn := struct {
		Edges    []fAlertEdge `json:"edges"`
		PageInfo fPageInfo    `json:"pageInfo"`
	}{Edges: make([]fAlertEdge, 0, n)}
	byID := make(map[int64]*fAlert, n)
	ids := make([]any, 0, n)
	var last struct {
		at time.Time
		id int64
	}
	for rows.Next() {
		var (
			id     int64
			a      fAlert
			at     time.Time
			labels []byte
		)
		if err := rows.Scan(&id, &a.Title, &a.Status, &a.Severity, &at, &labels); err != nil {
			rows.Close()
			return nil, err
		}
		if len(conn.Edges) == n {
			conn.PageInfo.HasNextPage = true
			break
		}
		a.ID, a.CreatedAt, a.Labels, a.DeliveryCounts = fid(id), at.Format(time.RFC3339Nano), jsonList(labels), &fDeliveryCounts{}
		conn.Edges = append(conn.Edges, fAlertEdge{Node: &a})
		byID[id] = &a
		ids = append(ids, id)
		last.at, last.id = at, id
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if len(ids) > 0 {
		c := alertCursor(last.at, last.id)
		conn.PageInfo.EndCursor = &c
		rows, err := f.db.QueryContext(ctx, "SELECT alert_id, status, COUNT(*) FROM deliveries WHERE alert_id IN ("+placeholders(len(ids))+
			") GROUP BY alert_id, status", ids...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				id     int64
				status string
				count  int
			)
			if err := rows.Scan(&id, &status, &count); err != nil {
				return nil, err
			}
			byID[id].DeliveryCounts.add(status, count)
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return map[string]any{"alerts": conn}, nil
}

type fDelivery struct {
	ID            string          `json:"id"`
	Platform      string          `json:"platform"`
	URL           string          `json:"url"`
	Status        string          `json:"status"`
	LastError     *string         `json:"lastError"`
	NextAttemptAt *string         `json:"nextAttemptAt"`
	ContactNames  json.RawMessage `json:"contactNames"`
	HeldBy        *string         `json:"heldBy"`
}

// alertDeliveries reads one alert, its delivery counts and its first n deliveries: three
// statements, at once, since each needs only the id.
func (f *floor) alertDeliveries(ctx context.Context, id string, n int) (any, error) {
	aid, ok := models.ParseID(id)
	if !ok {
		return map[string]any{"alert": nil}, nil
	}
	a := struct {
		ID             string           `json:"id"`
		Status         string           `json:"status"`
		DeliveryCounts *fDeliveryCounts `json:"deliveryCounts"`
		Deliveries     []*fDelivery     `json:"deliveries"`
	}{ID: fid(int64(aid)), DeliveryCounts: &fDeliveryCounts{}, Deliveries: make([]*fDelivery, 0, n)}
	found := true
	var eg errgroup.Group
	eg.Go(func() error {
		err := f.db.QueryRowContext(ctx, "SELECT status FROM alerts WHERE id = ?", aid).Scan(&a.Status)
		if errors.Is(err, sql.ErrNoRows) {
			found = false
			return nil
		}
		return err
	})
	eg.Go(func() error {
		rows, err := f.db.QueryContext(ctx, "SELECT status, COUNT(*) FROM deliveries WHERE alert_id = ? GROUP BY status", aid)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var status string
			var count int
			if err := rows.Scan(&status, &count); err != nil {
				return err
			}
			a.DeliveryCounts.add(status, count)
		}
		return rows.Err()
	})
	eg.Go(func() error {
		rows, err := f.db.QueryContext(ctx, `SELECT id, platform, url, status, last_error, next_attempt_at, contact_names, held_by
			FROM deliveries WHERE alert_id = ? ORDER BY id LIMIT ?`, aid, n)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				d        fDelivery
				did      int64
				lastErr  sql.NullString
				next     sql.NullTime
				names    []byte
				heldBy   sql.NullString
				platform string
			)
			if err := rows.Scan(&did, &platform, &d.URL, &d.Status, &lastErr, &next, &names, &heldBy); err != nil {
				return err
			}
			d.ID, d.Platform, d.ContactNames = fid(did), platform, jsonList(names)
			if lastErr.Valid {
				d.LastError = &lastErr.String
			}
			if next.Valid {
				s := next.Time.Format(time.RFC3339Nano)
				d.NextAttemptAt = &s
			}
			if heldBy.Valid {
				d.HeldBy = &heldBy.String
			}
			a.Deliveries = append(a.Deliveries, &d)
		}
		return rows.Err()
	})
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	if !found {
		return map[string]any{"alert": nil}, nil
	}
	return map[string]any{"alert": a}, nil
}

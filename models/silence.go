package models

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Silence mutes the alerts its matchers match between StartsAt and EndsAt, on the database clock:
// such an alert is stored as silenced and sends nothing.
type Silence struct {
	ID          uint      `gorm:"primaryKey"`
	NamespaceID uint      `gorm:"not null;default:1;index:ix_silences_namespace_ends,priority:1"`
	Matchers    Matchers  `gorm:"serializer:json;size:65536;not null"`
	StartsAt    time.Time `gorm:"precision:6;not null"`
	EndsAt      time.Time `gorm:"precision:6;not null;index:ix_silences_namespace_ends,priority:2"`
	Comment     string    `gorm:"size:512;not null"`
	CreatedBy   string    `gorm:"size:128;not null"`
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// SilenceState is where a silence stands at a moment; the values match the GraphQL enum.
type SilenceState string

const (
	SilencePending SilenceState = "PENDING"
	SilenceActive  SilenceState = "ACTIVE"
	SilenceExpired SilenceState = "EXPIRED"
)

// State is the silence's state at now.
func (s *Silence) State(now time.Time) SilenceState {
	switch {
	case now.Before(s.StartsAt):
		return SilencePending
	case now.Before(s.EndsAt):
		return SilenceActive
	}
	return SilenceExpired
}

// Silence limits. Silences that have not ended are read for every alert accepted, so a namespace
// has a bounded number of them.
const (
	MaxLiveSilences       = 1000
	MaxSilenceComment     = 512 // characters
	MaxSilenceDuration    = 366 * 24 * time.Hour
	maxSilenceCreatorName = 128
)

// SilenceInput is a new silence. A nil StartsAt, or one in the past, starts it now.
type SilenceInput struct {
	Matchers []Matcher
	StartsAt *time.Time
	EndsAt   time.Time
	Comment  string
}

// CleanSilence checks what a silence says, the clock aside: its matchers and its comment, which it
// returns cleaned.
func CleanSilence(in SilenceInput) (Matchers, string, error) {
	matchers, err := CleanMatchers("matchers", in.Matchers)
	if err != nil {
		return nil, "", err
	}
	if len(matchers) == 0 {
		return nil, "", Invalid("matchers", "a silence needs at least one matcher")
	}
	if matchers.Matches(map[string]string{}) {
		// As Alertmanager: a silence that matches an alert without labels would mute everything.
		return nil, "", Invalid("matchers", "at least one matcher must not match an empty value, or the silence would mute every alert")
	}
	comment, err := cleanFreeText("comment", "comment", in.Comment, MaxSilenceComment)
	if err != nil {
		return nil, "", err
	}
	if comment == "" {
		return nil, "", Invalid("comment", "say why: a comment is required")
	}
	return matchers, comment, nil
}

// CheckSilenceSpan checks a silence's span once its start is known (now, for one that starts at once).
func CheckSilenceSpan(startsAt, endsAt time.Time) error {
	if !endsAt.After(startsAt) {
		return Invalid("endsAt", "endsAt must be after the start (%s)", startsAt.Format(time.RFC3339))
	}
	if endsAt.Sub(startsAt) > MaxSilenceDuration {
		return Invalid("endsAt", "a silence lasts at most %d days; for longer, change the routes", int(MaxSilenceDuration.Hours()/24))
	}
	return nil
}

// CreateSilence stores a silence created by the request's caller.
func (s *Store) CreateSilence(ctx context.Context, in SilenceInput) (*Silence, error) {
	sl := &Silence{}
	var err error
	if sl.Matchers, sl.Comment, err = CleanSilence(in); err != nil {
		return nil, err
	}
	sl.CreatedBy = actorOf(ctx).Name
	if utf8.RuneCountInString(sl.CreatedBy) > maxSilenceCreatorName {
		sl.CreatedBy = string([]rune(sl.CreatedBy)[:maxSilenceCreatorName])
	}
	err = s.mutate(ctx, "createSilence", func(tx *gorm.DB) ([]uint, error) {
		now, err := DBNow(tx)
		if err != nil {
			return nil, err
		}
		sl.StartsAt = now
		if in.StartsAt != nil && in.StartsAt.After(now) {
			sl.StartsAt = in.StartsAt.UTC()
		}
		sl.EndsAt = in.EndsAt.UTC()
		if err := CheckSilenceSpan(sl.StartsAt, sl.EndsAt); err != nil {
			return nil, err
		}
		var live int64
		if err := tx.Model(&Silence{}).Where("ends_at > ?", now).Count(&live).Error; err != nil {
			return nil, fmt.Errorf("count silences: %w", err)
		}
		if live >= MaxLiveSilences {
			return nil, Invalid("", "a namespace has at most %d silences that have not ended: expire some first", MaxLiveSilences)
		}
		if err := checkRegexBudget(tx, sl.Matchers, 0); err != nil {
			return nil, err
		}
		if err := tx.Create(sl).Error; err != nil {
			return nil, fmt.Errorf("insert silence: %w", err)
		}
		return []uint{sl.ID}, nil
	})
	if err != nil {
		return nil, err
	}
	return sl, nil
}

// ExpireSilence ends a silence now, on the database clock: from the next alert on it matches
// nothing. A pending one never starts; an expired one is returned as it is.
func (s *Store) ExpireSilence(ctx context.Context, id string) (*Silence, error) {
	var sl *Silence
	err := s.mutate(ctx, "expireSilence", func(tx *gorm.DB) ([]uint, error) {
		sid, ok := ParseID(id)
		if !ok {
			return nil, NotFound("id", "silence", id)
		}
		q := tx
		if IsMySQL(tx) {
			q = tx.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var row Silence
		if err := q.First(&row, sid).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return nil, NotFound("id", "silence", id)
			}
			return nil, fmt.Errorf("load silence: %w", err)
		}
		sl = &row
		now, err := DBNow(tx)
		if err != nil {
			return nil, err
		}
		if !sl.EndsAt.After(now) {
			return []uint{sl.ID}, nil
		}
		sl.EndsAt = now
		if sl.StartsAt.After(now) {
			sl.StartsAt = now
		}
		if err := tx.Model(sl).Select("starts_at", "ends_at", "updated_at").Updates(sl).Error; err != nil {
			return nil, fmt.Errorf("expire silence: %w", err)
		}
		return []uint{sl.ID}, nil
	})
	if err != nil {
		return nil, err
	}
	return sl, nil
}

// Now reads the database clock, the one silences and quiet hours are judged by.
func (s *Store) Now(ctx context.Context) (time.Time, error) {
	return DBNow(s.db.WithContext(ctx))
}

// silenceQuery is the namespace's silences in state at now (all of them without one).
func (s *Store) silenceQuery(ctx context.Context, state *SilenceState, now time.Time) *gorm.DB {
	q := s.db.WithContext(ctx).Model(&Silence{})
	if state == nil {
		return q
	}
	switch *state {
	case SilencePending:
		return q.Where("starts_at > ?", now)
	case SilenceActive:
		return q.Where("starts_at <= ? AND ends_at > ?", now, now)
	default:
		return q.Where("ends_at <= ?", now)
	}
}

// Silences lists the namespace's silences newest first, only those in state at now when given.
func (s *Store) Silences(ctx context.Context, state *SilenceState, now time.Time, page PageArgs) (Page[*Silence], error) {
	if err := page.Check(); err != nil {
		return Page[*Silence]{}, err
	}
	if state != nil && *state != SilencePending && *state != SilenceActive && *state != SilenceExpired {
		return Page[*Silence]{}, Invalid("state", "unknown state %q", string(*state))
	}
	var c idCursor
	has, err := page.DecodeCursor(&c)
	if err != nil {
		return Page[*Silence]{}, err
	}
	var at []any
	if has {
		at = []any{c.ID}
	}
	var rows []*Silence
	if err := newestID.Seek(s.silenceQuery(ctx, state, now), page, at).Find(&rows).Error; err != nil {
		return Page[*Silence]{}, fmt.Errorf("list silences: %w", err)
	}
	return CutPage(rows, page, func(sl *Silence) any { return idCursor{ID: sl.ID} }), nil
}

// CountSilences counts the namespace's silences in state at now (all without one).
func (s *Store) CountSilences(ctx context.Context, state *SilenceState, now time.Time) (int, error) {
	return CountRows(s.silenceQuery(ctx, state, now), "silences")
}

// Silence returns one silence of the request's namespace, or NOT_FOUND.
func (s *Store) Silence(ctx context.Context, id string) (*Silence, error) {
	sid, ok := ParseID(id)
	if !ok {
		return nil, NotFound("id", "silence", id)
	}
	var rows []*Silence
	if err := s.db.WithContext(ctx).Where("id = ?", sid).Limit(1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load silence: %w", err)
	}
	if len(rows) == 0 {
		return nil, NotFound("id", "silence", id)
	}
	return rows[0], nil
}

// SilencesByID returns the silences with the given ids that still exist.
func (s *Store) SilencesByID(ctx context.Context, ids []uint) (map[uint]*Silence, error) {
	return byID(ctx, s, ids, "silences", func(sl *Silence) uint { return sl.ID })
}

// LiveSilences returns, inside tx, the namespace's silences that have not ended at now (active
// and pending), the ones ending last first.
func LiveSilences(tx *gorm.DB, now time.Time) ([]*Silence, error) {
	var rows []*Silence
	if err := tx.Where("ends_at > ?", now).Order("ends_at DESC, id").Limit(MaxLiveSilences).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read silences: %w", err)
	}
	return rows, nil
}

package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/senders"
	"github.com/heraldhq/herald/templates"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// MessageTemplate is a namespace's own layout of messages: a title and a body in Go text/template
// over templates.Data, and the format they are sent in.
type MessageTemplate struct {
	ID          uint           `gorm:"primaryKey"`
	NamespaceID uint           `gorm:"not null;default:1;uniqueIndex:ux_message_templates_namespace_name,priority:1"`
	Name        string         `gorm:"size:64;not null"`
	NameKey     string         `gorm:"size:256;not null;uniqueIndex:ux_message_templates_namespace_name,priority:2"`
	Title       string         `gorm:"size:4096;not null"`
	Body        string         `gorm:"size:65536;not null"` // mediumtext on MySQL, like an alert's content
	Format      senders.Format `gorm:"size:16;not null"`
	CreatedAt   time.Time
	UpdatedAt   time.Time

	// BuiltinID is set on the built-in templates as the API lists them: they have no row.
	BuiltinID string `gorm:"-"`
}

// MessageTemplateInput creates or replaces a template: every field is required.
type MessageTemplateInput struct {
	Name   string
	Title  string
	Body   string
	Format senders.Format
}

// cleanTemplate validates a template and parses it: a syntax error is BAD_USER_INPUT at the title
// or the body, with its line and column.
func cleanTemplate(t *MessageTemplate, in MessageTemplateInput) error {
	var err error
	if t.Name, t.NameKey, err = CleanName("name", in.Name); err != nil {
		return err
	}
	switch in.Format {
	case senders.Text, senders.Markdown, senders.Card:
	default:
		return Invalid("format", "unknown format %q: want TEXT, MARKDOWN or CARD", string(in.Format))
	}
	if _, err := ParseTemplate(in.Title, in.Body); err != nil {
		return err
	}
	t.Title, t.Body, t.Format = in.Title, in.Body, in.Format
	return nil
}

// ParseTemplate parses a title and body, a syntax error becoming BAD_USER_INPUT at "title" or
// "body" with the line and column in the message.
func ParseTemplate(title, body string) (*templates.Template, error) {
	parsed, err := templates.Parse(title, body)
	var syntax *templates.SyntaxError
	if errors.As(err, &syntax) {
		return nil, Invalid(syntax.Field, "%s", syntax.Error())
	}
	return parsed, err
}

// CreateMessageTemplate stores a new template.
func (s *Store) CreateMessageTemplate(ctx context.Context, in MessageTemplateInput) (*MessageTemplate, error) {
	t := &MessageTemplate{}
	if err := cleanTemplate(t, in); err != nil {
		return nil, err
	}
	err := s.mutate(ctx, "createMessageTemplate", func(tx *gorm.DB) ([]uint, error) {
		if err := tx.Create(t).Error; err != nil {
			return nil, err
		}
		return []uint{t.ID}, nil
	})
	if err != nil {
		return nil, wrapWrite("create message template", "name", "message template", t.Name, err)
	}
	return t, nil
}

// UpdateMessageTemplate replaces a template; integrations using it render with the new one from
// their next notification.
func (s *Store) UpdateMessageTemplate(ctx context.Context, id string, in MessageTemplateInput) (*MessageTemplate, error) {
	var t *MessageTemplate
	err := s.mutate(ctx, "updateMessageTemplate", func(tx *gorm.DB) ([]uint, error) {
		var err error
		if t, err = loadTemplate(tx, "id", id, false); err != nil {
			return nil, err
		}
		if err := cleanTemplate(t, in); err != nil {
			return nil, err
		}
		return []uint{t.ID}, tx.Save(t).Error
	})
	if err != nil {
		return nil, wrapWrite("update message template", "name", "message template", in.Name, err)
	}
	return t, nil
}

// DeleteMessageTemplate deletes a template: CONFLICT while an integration or a route uses it. The row is
// locked first, and integrations lock it to refer to it, so that none can start using it while it
// goes.
func (s *Store) DeleteMessageTemplate(ctx context.Context, id string) error {
	return s.mutate(ctx, "deleteMessageTemplate", func(tx *gorm.DB) ([]uint, error) {
		t, err := loadTemplate(tx, "id", id, true)
		if err != nil {
			return nil, err
		}
		var users []string
		if err := tx.Model(&Integration{}).Where("template_id = ?", t.ID).Order("name_key").Limit(3).Pluck("name", &users).Error; err != nil {
			return nil, fmt.Errorf("find integrations using template: %w", err)
		}
		if len(users) > 0 {
			return nil, conflict("id", "message template %q is used by integration(s) %q: give them another template first", t.Name, users)
		}
		if err := tx.Model(&Route{}).Where("template_id = ?", t.ID).Order("position").Limit(3).Pluck("name", &users).Error; err != nil {
			return nil, fmt.Errorf("find routes using template: %w", err)
		}
		if len(users) > 0 {
			return nil, conflict("id", "message template %q is used by route(s) %q: give them another template first", t.Name, users)
		}
		return []uint{t.ID}, deleteOne(tx, &MessageTemplate{}, t.ID, "message template", id)
	})
}

// loadTemplate reads a template of the namespace inside tx (locked when lock is set, on MySQL),
// mapping a missing row to NOT_FOUND on field.
func loadTemplate(tx *gorm.DB, field, id string, lock bool) (*MessageTemplate, error) {
	tid, ok := ParseID(id)
	if !ok {
		return nil, NotFound(field, "message template", id)
	}
	if lock && IsMySQL(tx) {
		tx = tx.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var t MessageTemplate
	if err := tx.First(&t, tid).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, NotFound(field, "message template", id)
		}
		return nil, fmt.Errorf("load message template: %w", err)
	}
	return &t, nil
}

// MessageTemplate returns one template of the request's namespace; field names the argument a
// missing one is NOT_FOUND at.
func (s *Store) MessageTemplate(ctx context.Context, field, id string) (*MessageTemplate, error) {
	return loadTemplate(s.db.WithContext(ctx), field, id, false)
}

// MessageTemplates lists the namespace's templates ordered by name key (unique).
func (s *Store) MessageTemplates(ctx context.Context, page PageArgs) (Page[*MessageTemplate], error) {
	return pageByName(s.db.WithContext(ctx).Model(&MessageTemplate{}), page, "message templates", func(t *MessageTemplate) string { return t.NameKey })
}

// CountMessageTemplates counts the namespace's templates.
func (s *Store) CountMessageTemplates(ctx context.Context) (int, error) {
	return CountRows(s.db.WithContext(ctx).Model(&MessageTemplate{}), "message_templates")
}

// MessageTemplatesByID returns the templates with the given ids that still exist.
func (s *Store) MessageTemplatesByID(ctx context.Context, ids []uint) (map[uint]*MessageTemplate, error) {
	return byID(ctx, s, ids, "message templates", func(t *MessageTemplate) uint { return t.ID })
}

package models

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/heraldhq/herald/senders"
	"gorm.io/gorm"
)

// WebhookInput is one webhook as a client sends it. A nil Secret or Keyword on update keeps the
// stored value of the same URL; an empty string clears it.
type WebhookInput struct {
	URL      string
	Platform senders.Platform
	Secret   *string
	Keyword  *string
}

// RobotKey is the key of the robot a webhook URL reaches: the SHA-256 of the URL, in hex.
func RobotKey(u string) string {
	sum := sha256.Sum256([]byte(u))
	return hex.EncodeToString(sum[:])
}

// CheckWebhook judges a webhook URL as saving a contact would, saving nothing: the platform it
// belongs to, or why it would be refused.
func (s *Store) CheckWebhook(rawURL string, explicit senders.Platform) (senders.Platform, error) {
	return s.checkWebhook(strings.TrimSpace(rawURL), explicit)
}

// cleanWebhooks validates a webhook list and merges it with the contact's current webhooks, so
// that an entry for a URL the contact already has keeps its id and, unless given, its secret and keyword.
func (s *Store) cleanWebhooks(in []WebhookInput, current []Webhook) ([]Webhook, error) {
	if len(in) == 0 || len(in) > MaxWebhooksPerContact {
		return nil, Invalid("webhooks", "a contact needs 1 to %d webhooks, got %d", MaxWebhooksPerContact, len(in))
	}
	byURL := make(map[string]Webhook, len(current))
	for _, w := range current {
		byURL[w.URL] = w
	}
	out := make([]Webhook, 0, len(in))
	seen := make(map[string]int, len(in))
	for i, w := range in {
		field := indexed("webhooks", i)
		u := strings.TrimSpace(w.URL)
		if first, dup := seen[u]; dup {
			return nil, Invalid(field+".url", "the same URL is already webhooks[%d]", first)
		}
		seen[u] = i
		platform, err := s.checkWebhook(u, w.Platform)
		if err != nil {
			return nil, Invalid(field+".url", "%s", err.Error())
		}
		hook := byURL[u] // zero value for a new URL
		hook.URL, hook.RobotKey, hook.Platform, hook.Position = u, RobotKey(u), platform, i
		if w.Secret != nil {
			plain, err := CleanSecret(field+".secret", *w.Secret)
			if err != nil {
				return nil, err
			}
			if hook.Secret, err = s.sealSecret(field+".secret", plain); err != nil {
				return nil, err
			}
		}
		if w.Keyword != nil {
			if hook.Keyword, err = CleanKeyword(field+".keyword", *w.Keyword); err != nil {
				return nil, err
			}
		}
		out = append(out, hook)
	}
	return out, nil
}

// saveWebhooks writes the contact's new webhook list: kept rows are updated in place, new ones
// inserted, and rows whose URL is gone deleted.
func saveWebhooks(tx *gorm.DB, contactID uint, created bool, hooks []Webhook) error {
	keep := make([]uint, 0, len(hooks))
	for _, h := range hooks {
		if h.ID != 0 {
			keep = append(keep, h.ID)
		}
	}
	if !created {
		// Skipped for a new contact: deleting from an empty range of the index takes a gap lock that
		// deadlocks concurrent creates on MySQL.
		del := tx.Where("contact_id = ?", contactID)
		if len(keep) > 0 {
			del = del.Where("id NOT IN ?", keep)
		}
		if err := del.Delete(&Webhook{}).Error; err != nil {
			return fmt.Errorf("delete webhooks: %w", err)
		}
	}
	var fresh []Webhook
	var freshAt []int
	for i := range hooks {
		hooks[i].ContactID = contactID
		if hooks[i].ID == 0 {
			fresh, freshAt = append(fresh, hooks[i]), append(freshAt, i)
			continue
		}
		if err := tx.Omit("Contact", "CreatedAt").Save(&hooks[i]).Error; err != nil {
			return fmt.Errorf("update webhook: %w", err)
		}
	}
	if len(fresh) > 0 {
		if err := tx.Omit("Contact").Create(&fresh).Error; err != nil {
			return fmt.Errorf("insert webhooks: %w", err)
		}
		for k, i := range freshAt {
			hooks[i] = fresh[k] // with its new id and timestamps
		}
	}
	return nil
}

package models

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/heraldhq/herald/secrets"
	"gorm.io/gorm"
)

// Signing secrets are stored sealed (see package secrets): a webhook's secret is encrypted when it is
// saved, a delivery copies the sealed value, and it is opened only to sign a request.

// SecretTables are the tables of this package that hold sealed secrets, in the column "secret".
// Other packages that copy secrets (the outbox) name theirs; start-up checks and rotation take all.
var SecretTables = []string{"webhooks", "integrations"}

// ErrNoSecretKey says that a secret must be stored or read but Herald has no key.
var ErrNoSecretKey = errors.New("signing secrets need an encryption key: set HERALD_SECRET_KEY_FILE (or HERALD_SECRET_KEY)")

// UseKeyring sets the key ring that seals and opens secrets. Without one, saving a secret is refused.
func (s *Store) UseKeyring(k *secrets.Keyring) { s.keyring = k }

// sealSecret encrypts a cleaned secret for storage.
func (s *Store) sealSecret(field string, plain *string) (*secrets.Sealed, error) {
	if plain == nil {
		return nil, nil
	}
	if s.keyring == nil {
		return nil, Invalid(field, "%s", ErrNoSecretKey.Error())
	}
	sealed, err := s.keyring.Encrypt(*plain)
	if err != nil {
		return nil, fmt.Errorf("seal secret: %w", err)
	}
	return &sealed, nil
}

// OpenSecret decrypts a stored secret; nil or empty means none.
func (s *Store) OpenSecret(stored *secrets.Sealed) (string, error) {
	if stored == nil || *stored == "" {
		return "", nil
	}
	if s.keyring == nil {
		return "", ErrNoSecretKey
	}
	plain, err := s.keyring.Decrypt(*stored)
	if err != nil {
		return "", fmt.Errorf("open secret: %w", err)
	}
	return plain, nil
}

type secretRow struct {
	ID     uint
	Secret string
}

// PrepareSecrets runs at start-up, after Migrate: it seals secrets stored in plaintext by earlier
// versions, and checks that every key that sealed a stored secret is configured and opens it, so
// a wrong or missing key stops Herald at start-up instead of garbling signatures later.
func PrepareSecrets(ctx context.Context, db *gorm.DB, k *secrets.Keyring, tables []string) error {
	for _, table := range tables {
		q := db.WithContext(ctx).Table(table)
		var plain []secretRow
		if err := q.Session(&gorm.Session{}).Where("secret IS NOT NULL AND secret <> '' AND secret NOT LIKE 'hs%:%'").
			Select("id, secret").Scan(&plain).Error; err != nil {
			return fmt.Errorf("look for plaintext secrets: %w", err)
		}
		if len(plain) > 0 && k == nil {
			return fmt.Errorf("%d stored secrets are not encrypted yet: %w", len(plain), ErrNoSecretKey)
		}
		if err := rewriteSecrets(ctx, db, table, k, plain); err != nil {
			return err
		}
		var ids []string
		if err := q.Session(&gorm.Session{}).Where("secret LIKE 'hs%:%'").Distinct("SUBSTR(secret, 1, 12)").
			Pluck("SUBSTR(secret, 1, 12)", &ids).Error; err != nil {
			return fmt.Errorf("list secret key ids: %w", err)
		}
		for _, prefix := range ids {
			if k == nil {
				return fmt.Errorf("stored secrets were sealed with a key: %w", ErrNoSecretKey)
			}
			var samples []string
			if err := q.Session(&gorm.Session{}).Where("secret LIKE ?", prefix+"%").Limit(1).Pluck("secret", &samples).Error; err != nil || len(samples) == 0 {
				return fmt.Errorf("read a stored secret: %w", err)
			}
			if _, err := k.Decrypt(secrets.Sealed(samples[0])); err != nil {
				return fmt.Errorf("the configured secret key cannot open stored secrets (%w); configured keys: %s", err, k)
			}
		}
	}
	return nil
}

// RotateSecrets re-seals every stored secret that is not under the key ring's current key and
// returns how many it changed. Run it after putting a new key first in the key file.
func (s *Store) RotateSecrets(ctx context.Context, tables []string) (int, error) {
	k, db := s.keyring, s.db
	if k == nil {
		return 0, ErrNoSecretKey
	}
	total := 0
	for _, table := range tables {
		var rows []secretRow
		err := db.WithContext(ctx).Table(table).Where("secret IS NOT NULL AND secret <> '' AND secret NOT LIKE ?", "hs1:"+k.CurrentID()+":%").
			Select("id, secret").Scan(&rows).Error
		if err != nil {
			return total, fmt.Errorf("look for secrets to rotate: %w", err)
		}
		if err := rewriteSecrets(ctx, db, table, k, rows); err != nil {
			return total, err
		}
		total += len(rows)
	}
	return total, nil
}

// rewriteSecrets re-seals rows under the current key, a chunk per transaction.
func rewriteSecrets(ctx context.Context, db *gorm.DB, table string, k *secrets.Keyring, rows []secretRow) error {
	for chunk := range slices.Chunk(rows, 500) {
		err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			for _, r := range chunk {
				sealed, _, err := k.Reencrypt(r.Secret)
				if err != nil {
					return fmt.Errorf("re-seal secret of row %d: %w", r.ID, err)
				}
				if err := tx.Table(table).Where("id = ? AND secret = ?", r.ID, r.Secret).Updates(map[string]any{"secret": sealed, "updated_at": tx.NowFunc()}).Error; err != nil {
					return fmt.Errorf("store re-sealed secret: %w", err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Package secrets encrypts webhook signing secrets at rest.
//
// A stored secret looks like
//
//	hs1:<keyid>:<base64url(nonce || ciphertext || tag)>
//
// "hs1" is the format version, <keyid> is KeyID of the key that sealed it
// (8 lowercase hex digits, not secret), and the payload is AES-256-GCM with a
// random 96-bit nonce, unpadded base64url. The additional data is
// "hs1:<keyid>", so a payload cannot be moved under another version or key id
// without failing authentication.
//
// Rotation: load a Keyring whose current key is the new one and whose older
// keys include the old one, call Reencrypt on every stored value (it is a
// no-op for values already under the current key), then drop the old key.
//
// Nothing in this package logs, and no error it returns contains key
// material or plaintext: errors name a file path, a line number or a key id.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of an AES-256 key in bytes.
const KeySize = 32

const (
	version  = "hs1"
	prefix   = version + ":"
	keyIDLen = 8
)

var (
	// ErrNotEncrypted: the stored value has no "hs1:" prefix, i.e. it is a
	// plaintext secret from before encryption (migrate it with Reencrypt).
	ErrNotEncrypted = errors.New("secret is not encrypted")
	// ErrUnknownKey: the value was sealed under a key this Keyring does not
	// hold. The concrete error is *UnknownKeyError, which names the key id.
	ErrUnknownKey = errors.New("secret is encrypted under a key that is not loaded")
	// ErrCorrupt: the value is malformed or failed authentication (tampered
	// with, truncated, or sealed under a different key with the same id).
	ErrCorrupt = errors.New("encrypted secret is corrupt or was tampered with")
	// ErrUnsupportedVersion: the value looks like "hs<N>:..." for a format
	// version this build does not know, probably written by a newer Herald.
	// It is deliberately not treated as plaintext, so an older binary never
	// re-encrypts a newer ciphertext as if it were a secret.
	ErrUnsupportedVersion = errors.New("secret uses an unsupported encryption format")
	// ErrNoKey: a method was called on a nil *Keyring, i.e. no key is
	// configured, and a secret had to be sealed or opened.
	ErrNoKey = errors.New("no secret key configured")
)

// UnknownKeyError reports the id of the key a stored secret needs.
type UnknownKeyError struct {
	KeyID string
}

func (e *UnknownKeyError) Error() string {
	return fmt.Sprintf("secret is encrypted under key %s, which is not loaded", e.KeyID)
}

// Is makes errors.Is(err, ErrUnknownKey) true.
func (e *UnknownKeyError) Is(target error) bool { return target == ErrUnknownKey }

// Keyring holds the current key (used to encrypt) and older keys (accepted
// to decrypt). It keeps no raw key bytes, only the AES-GCM instances, and is
// immutable, so it is safe for concurrent use.
//
// Methods on a nil *Keyring report ErrNoKey where a key is needed, so "no key
// configured" surfaces at the first secret stored or read.
type Keyring struct {
	currentID string
	olderIDs  []string
	aeads     map[string]cipher.AEAD
}

// KeyID is a short, non-secret identifier of a key: the first 8 hex digits
// of SHA-256("herald-key-id:" || key). 32 bits reveal nothing useful about a
// 256-bit key; the prefix keeps the hash from matching any other use of it.
func KeyID(key []byte) string {
	h := sha256.New()
	h.Write([]byte("herald-key-id:"))
	h.Write(key)
	return hex.EncodeToString(h.Sum(nil)[:keyIDLen/2])
}

// NewKeyring builds a Keyring. Each key must be exactly KeySize bytes and
// not all zeros (a placeholder left in a config file). A key repeated in the
// list is accepted once; two different keys that share a key id are refused
// (one in 2^32: generate another key).
func NewKeyring(current []byte, older ...[]byte) (*Keyring, error) {
	k := &Keyring{aeads: make(map[string]cipher.AEAD, 1+len(older))}
	// Full fingerprints, held only while building, tell a repeated key
	// (harmless) from an id collision (refused).
	fingerprints := make(map[string][sha256.Size]byte, 1+len(older))
	add := func(key []byte, label string) (id string, isNew bool, err error) {
		if err := checkKey(key); err != nil {
			return "", false, fmt.Errorf("%s: %w", label, err)
		}
		id = KeyID(key)
		fp := sha256.Sum256(key)
		if prev, ok := fingerprints[id]; ok {
			if subtle.ConstantTimeCompare(prev[:], fp[:]) == 1 {
				return id, false, nil
			}
			return "", false, fmt.Errorf("%s: key id %s is shared with another, different key; generate a new key", label, id)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return "", false, fmt.Errorf("%s: %w", label, err)
		}
		aead, err := cipher.NewGCMWithRandomNonce(block)
		if err != nil {
			return "", false, fmt.Errorf("%s: %w", label, err)
		}
		fingerprints[id] = fp
		k.aeads[id] = aead
		return id, true, nil
	}
	id, _, err := add(current, "current key")
	if err != nil {
		return nil, err
	}
	k.currentID = id
	for i, key := range older {
		id, isNew, err := add(key, fmt.Sprintf("older key %d", i+1))
		if err != nil {
			return nil, err
		}
		if isNew {
			k.olderIDs = append(k.olderIDs, id)
		}
	}
	return k, nil
}

func checkKey(key []byte) error {
	if len(key) != KeySize {
		return fmt.Errorf("key is %d bytes, want %d", len(key), KeySize)
	}
	var or byte
	for _, b := range key {
		or |= b
	}
	if or == 0 {
		return errors.New("key is all zeros, which looks like a placeholder")
	}
	return nil
}

// CurrentID returns the id of the key Encrypt uses ("" for a nil Keyring).
func (k *Keyring) CurrentID() string {
	if k == nil {
		return ""
	}
	return k.currentID
}

// OlderIDs returns the ids of the keys accepted only for decryption, in the
// order they were given.
func (k *Keyring) OlderIDs() []string {
	if k == nil {
		return nil
	}
	return append([]string(nil), k.olderIDs...)
}

// Sealed is a secret as stored: encrypted, so it cannot be passed where a
// plaintext secret is expected without going through Decrypt.
type Sealed string

// Encrypt seals plaintext under the current key. The result differs on
// every call (random nonce).
func (k *Keyring) Encrypt(plaintext string) (Sealed, error) {
	if k == nil {
		return "", ErrNoKey
	}
	sealed := k.aeads[k.currentID].Seal(nil, nil, []byte(plaintext), additionalData(k.currentID))
	return Sealed(prefix + k.currentID + ":" + base64.RawURLEncoding.EncodeToString(sealed)), nil
}

// Decrypt opens a value produced by Encrypt under any key in the Keyring.
// Errors: ErrNotEncrypted, *UnknownKeyError (errors.Is ErrUnknownKey),
// ErrCorrupt, ErrUnsupportedVersion, ErrNoKey.
func (k *Keyring) Decrypt(stored Sealed) (string, error) {
	id, payload, err := parse(string(stored))
	if err != nil {
		return "", err
	}
	if k == nil {
		return "", ErrNoKey
	}
	aead, ok := k.aeads[id]
	if !ok {
		return "", &UnknownKeyError{KeyID: id}
	}
	// Strict: exactly one encoding per payload, so a stored value cannot be
	// altered (trailing bits) and still open.
	sealed, err := base64.RawURLEncoding.Strict().DecodeString(payload)
	if err != nil {
		return "", fmt.Errorf("%w (key %s): payload is not base64url", ErrCorrupt, id)
	}
	plain, err := aead.Open(nil, nil, sealed, additionalData(id))
	if err != nil {
		return "", fmt.Errorf("%w (key %s)", ErrCorrupt, id)
	}
	return string(plain), nil
}

// IsEncrypted reports whether stored has the "hs1:" prefix.
func IsEncrypted(stored string) bool {
	return strings.HasPrefix(stored, prefix)
}

// NeedsRotation reports whether stored is anything other than a value
// sealed under the current key: plaintext, an older key, an unknown key, or
// a malformed value (so a rotation pass reaches it and reports the error
// instead of skipping it). A nil Keyring has nothing to rotate to: false.
func (k *Keyring) NeedsRotation(stored string) bool {
	if k == nil {
		return false
	}
	return !strings.HasPrefix(stored, prefix+k.currentID+":")
}

// Reencrypt brings one stored value under the current key: plaintext is
// encrypted (the migration), a value under an older key is decrypted and
// sealed again (rotation), and a value already under the current key is
// returned unchanged with changed == false. Values it cannot open are
// errors, never re-wrapped.
func (k *Keyring) Reencrypt(stored string) (updated Sealed, changed bool, err error) {
	if k == nil {
		return "", false, ErrNoKey
	}
	if !k.NeedsRotation(stored) {
		// Still open it: a damaged value under the current key must not
		// pass a rotation run silently.
		if _, err := k.Decrypt(Sealed(stored)); err != nil {
			return "", false, err
		}
		return Sealed(stored), false, nil
	}
	plain, err := k.Decrypt(Sealed(stored))
	if errors.Is(err, ErrNotEncrypted) {
		plain, err = stored, nil
	}
	if err != nil {
		return "", false, err
	}
	updated, err = k.Encrypt(plain)
	if err != nil {
		return "", false, err
	}
	return updated, true, nil
}

// String describes the Keyring by key ids only.
func (k *Keyring) String() string {
	if k == nil {
		return "secrets.Keyring(none)"
	}
	return fmt.Sprintf("secrets.Keyring(current=%s older=[%s])", k.currentID, strings.Join(k.olderIDs, " "))
}

// Format makes every fmt verb (%v, %+v, %#v, %x, %d, ...) print String, so
// no formatting of a Keyring walks into its fields.
func (k *Keyring) Format(f fmt.State, _ rune) {
	_, _ = f.Write([]byte(k.String()))
}

func additionalData(id string) []byte {
	return []byte(prefix + id)
}

// parse splits "hs1:<keyid>:<payload>". Only a well-formed key id is ever
// put into an error, so a plaintext that happens to start with "hs1:" cannot
// leak through an error message.
func parse(stored string) (id, payload string, err error) {
	tag, rest, ok := strings.Cut(stored, ":")
	if !ok || !isVersionTag(tag) {
		return "", "", ErrNotEncrypted
	}
	if tag != version {
		return "", "", fmt.Errorf("%w %s", ErrUnsupportedVersion, tag)
	}
	id, payload, ok = strings.Cut(rest, ":")
	if !ok || !isKeyID(id) {
		return "", "", fmt.Errorf("%w: malformed header", ErrCorrupt)
	}
	return id, payload, nil
}

// isVersionTag matches "hs" followed by one to four digits.
func isVersionTag(s string) bool {
	digits, ok := strings.CutPrefix(s, "hs")
	if !ok || len(digits) == 0 || len(digits) > 4 {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func isKeyID(s string) bool {
	if len(s) != keyIDLen {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

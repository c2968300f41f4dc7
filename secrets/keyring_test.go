package secrets

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// Fixed test keys: distinct, non-zero, and easy to recognise in a leak.
var (
	keyA = bytes.Repeat([]byte{0xA1}, KeySize)
	keyB = bytes.Repeat([]byte{0xB2}, KeySize)
	keyC = bytes.Repeat([]byte{0xC3}, KeySize)
)

const plaintext = "SECdingtalk-webhook-signing-secret-0123456789"

func mustKeyring(t testing.TB, current []byte, older ...[]byte) *Keyring {
	t.Helper()
	k, err := NewKeyring(current, older...)
	if err != nil {
		t.Fatalf("NewKeyring: %v", err)
	}
	return k
}

func mustEncrypt(t testing.TB, k *Keyring, s string) string {
	t.Helper()
	sealed, err := k.Encrypt(s)
	out := string(sealed)
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	return out
}

// impostor returns a Keyring that files key under id, as if two different
// keys shared an id: the only way to reach the authentication check with a
// wrong key, which the public constructor refuses to build.
func impostor(t testing.TB, id string, key []byte) *Keyring {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		t.Fatal(err)
	}
	return &Keyring{currentID: id, aeads: map[string]cipher.AEAD{id: aead}}
}

func TestEncryptedSecretRoundTrips(t *testing.T) {
	k := mustKeyring(t, keyA)
	for _, s := range []string{plaintext, "", "ü–漢字\x00\xff", strings.Repeat("x", 10000)} {
		stored := mustEncrypt(t, k, s)
		got, err := k.Decrypt(Sealed(stored))
		if err != nil {
			t.Fatalf("Decrypt: %v", err)
		}
		if got != s {
			t.Fatalf("round trip of %d bytes changed the value", len(s))
		}
	}
}

func TestStoredFormatNamesVersionAndKeyID(t *testing.T) {
	k := mustKeyring(t, keyA)
	stored := mustEncrypt(t, k, plaintext)
	parts := strings.SplitN(stored, ":", 3)
	if len(parts) != 3 || parts[0] != "hs1" || parts[1] != KeyID(keyA) {
		t.Fatalf("stored = %q, want hs1:%s:<payload>", stored, KeyID(keyA))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatalf("payload is not unpadded base64url: %v", err)
	}
	if want := 12 + len(plaintext) + 16; len(raw) != want {
		t.Fatalf("payload is %d bytes, want nonce(12)+ciphertext(%d)+tag(16) = %d", len(raw), len(plaintext), want)
	}
	if strings.Contains(stored, plaintext) {
		t.Fatal("stored value contains the plaintext")
	}
	if !IsEncrypted(stored) || IsEncrypted(plaintext) {
		t.Fatal("IsEncrypted disagrees with the hs1: prefix")
	}
}

func TestKeyIDIsStableShortHex(t *testing.T) {
	id := KeyID(keyA)
	if id != KeyID(bytes.Clone(keyA)) || !isKeyID(id) {
		t.Fatalf("KeyID = %q, want 8 stable lowercase hex digits", id)
	}
	if KeyID(keyA) == KeyID(keyB) {
		t.Fatal("different keys share an id")
	}
	if k := mustKeyring(t, keyA, keyB); k.CurrentID() != id || k.OlderIDs()[0] != KeyID(keyB) {
		t.Fatalf("CurrentID/OlderIDs = %s/%v", k.CurrentID(), k.OlderIDs())
	}
}

func TestEncryptingTwiceUsesFreshNonces(t *testing.T) {
	k := mustKeyring(t, keyA)
	if mustEncrypt(t, k, plaintext) == mustEncrypt(t, k, plaintext) {
		t.Fatal("two encryptions of the same secret are identical")
	}
}

func TestOlderKeyStillDecrypts(t *testing.T) {
	old := mustKeyring(t, keyA)
	stored := mustEncrypt(t, old, plaintext)

	rotated := mustKeyring(t, keyB, keyA)
	got, err := rotated.Decrypt(Sealed(stored))
	if err != nil || got != plaintext {
		t.Fatalf("Decrypt under older key: %v", err)
	}
	if fresh := mustEncrypt(t, rotated, plaintext); !strings.HasPrefix(fresh, "hs1:"+KeyID(keyB)+":") {
		t.Fatal("Encrypt did not use the current (first) key")
	}
}

func TestNeedsRotation(t *testing.T) {
	old := mustKeyring(t, keyA)
	k := mustKeyring(t, keyB, keyA)
	cases := []struct {
		name   string
		stored string
		want   bool
	}{
		{"plaintext", plaintext, true},
		{"empty plaintext", "", true},
		{"older key", mustEncrypt(t, old, plaintext), true},
		{"unknown key", mustEncrypt(t, mustKeyring(t, keyC), plaintext), true},
		{"current key", mustEncrypt(t, k, plaintext), false},
		{"malformed", "hs1:nothex!!:abc", true},
	}
	for _, c := range cases {
		if got := k.NeedsRotation(c.stored); got != c.want {
			t.Errorf("%s: NeedsRotation = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestReencryptMigratesPlaintextAndRotatesOlderKeys(t *testing.T) {
	old := mustKeyring(t, keyA)
	k := mustKeyring(t, keyB, keyA)
	for name, stored := range map[string]string{
		"plaintext": plaintext,
		"older key": mustEncrypt(t, old, plaintext),
	} {
		updated, changed, err := k.Reencrypt(stored)
		if err != nil || !changed {
			t.Fatalf("%s: Reencrypt changed=%v err=%v", name, changed, err)
		}
		if k.NeedsRotation(string(updated)) {
			t.Fatalf("%s: still needs rotation after Reencrypt", name)
		}
		if got, err := k.Decrypt(Sealed(updated)); err != nil || got != plaintext {
			t.Fatalf("%s: Decrypt after Reencrypt: %v", name, err)
		}
		if _, err := old.Decrypt(Sealed(updated)); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("%s: old key alone can still open the rotated value (err %v)", name, err)
		}
	}

	current := mustEncrypt(t, k, plaintext)
	if updated, changed, err := k.Reencrypt(current); err != nil || changed || string(updated) != current {
		t.Fatalf("current key: Reencrypt = changed %v err %v, want unchanged", changed, err)
	}
}

func TestReencryptRefusesWhatItCannotOpen(t *testing.T) {
	k := mustKeyring(t, keyB)
	current := mustEncrypt(t, k, plaintext)
	for name, c := range map[string]struct {
		stored string
		want   error
	}{
		"unknown key":         {mustEncrypt(t, mustKeyring(t, keyA), plaintext), ErrUnknownKey},
		"tampered current":    {tamper(current), ErrCorrupt},
		"newer format":        {"hs2:" + KeyID(keyB) + ":AAAA", ErrUnsupportedVersion},
		"truncated":           {"hs1:" + KeyID(keyB) + ":", ErrCorrupt},
		"plaintext with hs1:": {"hs1:looks-like-ours", ErrCorrupt},
	} {
		if _, changed, err := k.Reencrypt(c.stored); !errors.Is(err, c.want) || changed {
			t.Errorf("%s: Reencrypt err = %v changed = %v, want %v", name, err, changed, c.want)
		}
	}
}

func TestWrongKeyIsUnknownKeyNamingTheKeyID(t *testing.T) {
	stored := mustEncrypt(t, mustKeyring(t, keyA), plaintext)
	_, err := mustKeyring(t, keyB, keyC).Decrypt(Sealed(stored))
	if !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("err = %v, want ErrUnknownKey", err)
	}
	var uk *UnknownKeyError
	if !errors.As(err, &uk) || uk.KeyID != KeyID(keyA) || !strings.Contains(err.Error(), KeyID(keyA)) {
		t.Fatalf("err = %v, want it to name key %s", err, KeyID(keyA))
	}
}

// tamper flips one bit in the payload's last byte (inside the tag), keeping
// the encoding valid.
func tamper(stored string) string {
	i := strings.LastIndexByte(stored, ':')
	raw, _ := base64.RawURLEncoding.DecodeString(stored[i+1:])
	raw[len(raw)-1] ^= 1
	return stored[:i+1] + base64.RawURLEncoding.EncodeToString(raw)
}

func TestTamperedCiphertextIsCorrupt(t *testing.T) {
	k := mustKeyring(t, keyA)
	stored := mustEncrypt(t, k, plaintext)
	i := strings.LastIndexByte(stored, ':')
	raw, _ := base64.RawURLEncoding.DecodeString(stored[i+1:])

	variants := map[string]string{"tag bit": tamper(stored)}
	for _, pos := range []int{0, 11, 12, len(raw) - 17} { // nonce, first ciphertext byte, last ciphertext byte
		b := bytes.Clone(raw)
		b[pos] ^= 0x80
		variants[fmt.Sprintf("byte %d", pos)] = stored[:i+1] + base64.RawURLEncoding.EncodeToString(b)
	}
	variants["truncated"] = stored[:len(stored)-4]
	variants["extended"] = stored + "AAAA"
	variants["padded"] = stored + "=="
	variants["non-canonical trailing bits"] = nonCanonical(stored)
	variants["empty payload"] = stored[:i+1]
	variants["bad alphabet"] = stored[:i+1] + "+/+/" + stored[i+5:]

	for name, s := range variants {
		if s == stored {
			continue
		}
		if got, err := k.Decrypt(Sealed(s)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: Decrypt = (%d bytes, %v), want ErrCorrupt", name, len(got), err)
		}
	}
}

// nonCanonical changes the unused low bits of the last base64 character, if
// the payload length leaves any, giving a different string that a lenient
// decoder maps to the same bytes.
func nonCanonical(stored string) string {
	last := stored[len(stored)-1]
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	v := strings.IndexByte(alphabet, last)
	return stored[:len(stored)-1] + string(alphabet[v^1])
}

func TestAdditionalDataBindsKeyID(t *testing.T) {
	stored := mustEncrypt(t, mustKeyring(t, keyA), plaintext)
	// The same key, filed under a different id: moving the payload under
	// that id must fail authentication even though the key is right.
	other := "0badc0de"
	k := impostor(t, other, keyA)
	moved := "hs1:" + other + stored[len("hs1:")+keyIDLen:]
	if _, err := k.Decrypt(Sealed(moved)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("payload moved to another key id: err = %v, want ErrCorrupt", err)
	}
}

func TestDifferentKeyWithSameIDIsCorrupt(t *testing.T) {
	stored := mustEncrypt(t, mustKeyring(t, keyA), plaintext)
	if _, err := impostor(t, KeyID(keyA), keyB).Decrypt(Sealed(stored)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt", err)
	}
}

func TestPlaintextIsNotEncrypted(t *testing.T) {
	k := mustKeyring(t, keyA)
	for _, s := range []string{plaintext, "", "hs1", "HS1:abc", "hs:abc", "hsx:abc", " hs1:" + KeyID(keyA) + ":x"} {
		if _, err := k.Decrypt(Sealed(s)); err != ErrNotEncrypted {
			t.Errorf("Decrypt(%q) err = %v, want ErrNotEncrypted", s, err)
		}
	}
}

func TestNewerFormatIsNotMistakenForPlaintext(t *testing.T) {
	k := mustKeyring(t, keyA)
	if _, err := k.Decrypt(Sealed("hs2:" + KeyID(keyA) + ":AAAA")); !errors.Is(err, ErrUnsupportedVersion) {
		t.Fatalf("err = %v, want ErrUnsupportedVersion", err)
	}
}

func TestNilKeyringReportsNoKey(t *testing.T) {
	var k *Keyring
	if _, err := k.Encrypt(plaintext); err != ErrNoKey {
		t.Fatalf("Encrypt err = %v", err)
	}
	if _, err := k.Decrypt(Sealed(mustEncrypt(t, mustKeyring(t, keyA), plaintext))); err != ErrNoKey {
		t.Fatalf("Decrypt err = %v", err)
	}
	if _, err := k.Decrypt(Sealed(plaintext)); err != ErrNotEncrypted {
		t.Fatalf("Decrypt(plaintext) err = %v", err)
	}
	if _, _, err := k.Reencrypt(plaintext); err != ErrNoKey {
		t.Fatalf("Reencrypt err = %v", err)
	}
	if k.NeedsRotation(plaintext) || k.CurrentID() != "" {
		t.Fatal("nil keyring claims a key")
	}
}

func TestNewKeyringRejectsBadKeys(t *testing.T) {
	secretish := []byte("this-is-a-31-byte-secret-value!")
	cases := map[string]func() (*Keyring, error){
		"short current": func() (*Keyring, error) { return NewKeyring(secretish) },
		"long older":    func() (*Keyring, error) { return NewKeyring(keyA, append(bytes.Clone(keyB), 1)) },
		"nil":           func() (*Keyring, error) { return NewKeyring(nil) },
		"all zeros":     func() (*Keyring, error) { return NewKeyring(make([]byte, KeySize)) },
	}
	for name, build := range cases {
		k, err := build()
		if err == nil || k != nil {
			t.Errorf("%s: NewKeyring succeeded", name)
			continue
		}
		assertNoSecrets(t, err, secretish, keyA, keyB)
	}
}

func TestRepeatedKeyIsAcceptedOnce(t *testing.T) {
	k := mustKeyring(t, keyA, keyB, keyA, keyB)
	if ids := k.OlderIDs(); len(ids) != 1 || ids[0] != KeyID(keyB) {
		t.Fatalf("OlderIDs = %v, want [%s]", ids, KeyID(keyB))
	}
}

func TestKeyringConcurrentUse(t *testing.T) {
	k := mustKeyring(t, keyA, keyB)
	old := mustEncrypt(t, mustKeyring(t, keyB), plaintext)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				s, err := k.Encrypt(plaintext)
				if err != nil {
					t.Error(err)
					return
				}
				for _, in := range []string{string(s), old} {
					if got, err := k.Decrypt(Sealed(in)); err != nil || got != plaintext {
						t.Errorf("Decrypt: %v", err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

func TestFormattingAKeyringShowsOnlyKeyIDs(t *testing.T) {
	k := mustKeyring(t, keyA, keyB)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q", "%10.3v"} {
		out := fmt.Sprintf(verb, k)
		if !strings.Contains(out, KeyID(keyA)) {
			t.Errorf("%s: %q does not name the current key id", verb, out)
		}
		assertNoSecrets(t, errors.New(out), keyA, keyB)
	}
	// A struct holding a Keyring must not leak it either.
	holder := struct{ K *Keyring }{k}
	assertNoSecrets(t, fmt.Errorf("%+v %#v", holder, holder), keyA, keyB)
}

// assertNoSecrets fails if err's message contains any of the secrets in a
// form a log reader could recover: raw, hex, or any base64 spelling (or a
// 12-character run of one).
func assertNoSecrets(t testing.TB, err error, secrets ...[]byte) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	for _, s := range secrets {
		if len(s) == 0 {
			continue
		}
		forms := []string{string(s), fmt.Sprintf("%x", s), fmt.Sprintf("%X", s), fmt.Sprint(s)}
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			forms = append(forms, enc.EncodeToString(s))
		}
		for _, form := range forms {
			if leaks(msg, form) {
				t.Errorf("error %q leaks secret material", msg)
				return
			}
		}
	}
}

// leaks reports whether msg contains form or any 12-byte window of it
// (enough to catch a truncated echo, long enough not to match prose).
func leaks(msg, form string) bool {
	const window = 12
	if len(form) <= window {
		return strings.Contains(msg, form)
	}
	for i := 0; i+window <= len(form); i++ {
		if strings.Contains(msg, form[i:i+window]) {
			return true
		}
	}
	return false
}

func TestDecryptErrorsContainNoSecretMaterial(t *testing.T) {
	k := mustKeyring(t, keyA, keyB)
	stored := mustEncrypt(t, k, plaintext)
	inputs := []string{
		plaintext,
		"hs1:" + plaintext,
		"hs1:" + plaintext + ":" + plaintext,
		"hs1:" + KeyID(keyA) + ":" + plaintext,
		"hs2:" + plaintext,
		tamper(stored),
		mustEncrypt(t, mustKeyring(t, keyC), plaintext),
	}
	for _, in := range inputs {
		_, err := k.Decrypt(Sealed(in))
		if err == nil {
			t.Fatalf("Decrypt of a bad value succeeded")
		}
		assertNoSecrets(t, err, keyA, keyB, keyC, []byte(plaintext))
		_, _, err = k.Reencrypt(in)
		assertNoSecrets(t, err, keyA, keyB, keyC, []byte(plaintext))
	}
}

func TestLeakDetectorCatchesEchoedKeys(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString(keyA)
	for _, msg := range []string{
		"bad key " + b64,
		"bad key " + b64[5:20] + "...",
		fmt.Sprintf("bad key %x", keyA),
		"bad key " + string(keyA),
	} {
		if !leaks(msg, b64) && !leaks(msg, fmt.Sprintf("%x", keyA)) && !leaks(msg, string(keyA)) {
			t.Errorf("leak detector missed %q", msg)
		}
	}
	if leaks("line 3: key is 31 bytes, want 32", b64) {
		t.Error("leak detector flags an innocent message")
	}
}

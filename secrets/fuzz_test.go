package secrets

import (
	"bytes"
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
	"testing"
)

// FuzzDecrypt: no stored string panics Decrypt, every failure is one of the
// documented errors, and nothing opens without the right key — not under a
// keyring that lacks the key id, and not under one that files a different
// key under the same id. Each input is also used as a plaintext, which must
// round-trip and must not show in the sealed form.
func FuzzDecrypt(f *testing.F) {
	right := mustKeyring(f, keyA)
	stranger := mustKeyring(f, keyB) // no seed is ever sealed under keyB
	sameIDWrongKey := impostor(f, KeyID(keyA), keyB)

	valid := mustEncrypt(f, right, plaintext)
	for _, seed := range []string{
		valid,
		tamper(valid),
		nonCanonical(valid),
		mustEncrypt(f, right, ""),
		mustEncrypt(f, mustKeyring(f, keyC), plaintext),
		"",
		plaintext,
		"hs1:",
		"hs1::",
		"hs1:" + KeyID(keyA) + ":",
		"hs1:" + KeyID(keyA) + ":AAAA",
		"hs1:" + strings.ToUpper(KeyID(keyA)) + ":AAAA",
		"hs1:zzzzzzzz:AAAA",
		"hs2:" + KeyID(keyA) + ":AAAA",
		"hs99999:x",
		"hs1:" + KeyID(keyA) + ":" + strings.Repeat("A", 38) + "==",
	} {
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, stored string) {
		plain, err := right.Decrypt(Sealed(stored))
		switch {
		case err == nil:
			// Forging a GCM tag is infeasible, so success means the fuzzer
			// replayed a genuine ciphertext (a seed or a cached corpus entry).
			if !strings.HasPrefix(stored, "hs1:"+right.CurrentID()+":") {
				t.Fatalf("Decrypt accepted a value not under the current key id")
			}
			if again, _, rerr := right.Reencrypt(stored); rerr != nil || string(again) != stored {
				t.Fatalf("a value that opens is not stable under Reencrypt: %v", rerr)
			}
		case errors.Is(err, ErrNotEncrypted):
			if IsEncrypted(stored) {
				t.Fatalf("ErrNotEncrypted for a value with the hs1: prefix")
			}
		case errors.Is(err, ErrUnknownKey), errors.Is(err, ErrCorrupt), errors.Is(err, ErrUnsupportedVersion):
		default:
			t.Fatalf("undocumented error %v", err)
		}
		if err != nil {
			checkErrorMessage(t, err, stored)
		}
		if err == nil && len(plain) > len(stored) {
			t.Fatalf("plaintext longer than its ciphertext")
		}

		if _, err := stranger.Decrypt(Sealed(stored)); err == nil {
			t.Fatalf("a keyring without the key decrypted a value")
		}
		if _, err := sameIDWrongKey.Decrypt(Sealed(stored)); err == nil {
			t.Fatalf("a different key under the same id decrypted a value")
		}
		if right.NeedsRotation(stored) == strings.HasPrefix(stored, "hs1:"+right.CurrentID()+":") {
			t.Fatalf("NeedsRotation disagrees with the key id prefix")
		}

		sealed, err := right.Encrypt(stored)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := right.Decrypt(Sealed(sealed)); err != nil || back != stored {
			t.Fatalf("round trip failed: %v", err)
		}
		payload := string(sealed)[strings.LastIndexByte(string(sealed), ':')+1:]
		if len(stored) >= 16 && strings.Contains(payload, stored) {
			t.Fatalf("sealed payload contains the plaintext")
		}
		if _, err := stranger.Decrypt(Sealed(sealed)); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("stranger: err = %v, want ErrUnknownKey", err)
		}
		if _, err := sameIDWrongKey.Decrypt(Sealed(sealed)); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("same id, wrong key: err = %v, want ErrCorrupt", err)
		}
	})
}

// decryptErrorShape is every message Decrypt can produce. Only a key id (8
// hex digits) or a version tag (hs + digits) is ever taken from the input.
var decryptErrorShape = regexp.MustCompile(`^(` +
	`secret is not encrypted|` +
	`secret is encrypted under key [0-9a-f]{8}, which is not loaded|` +
	`encrypted secret is corrupt or was tampered with(: malformed header| \(key [0-9a-f]{8}\)(: payload is not base64url)?)|` +
	`secret uses an unsupported encryption format hs[0-9]{1,4}` +
	`)$`)

func checkErrorMessage(t *testing.T, err error, stored string) {
	t.Helper()
	if !decryptErrorShape.MatchString(err.Error()) {
		t.Fatalf("unexpected error message shape: %q", err)
	}
	// Beyond its shape: the payload part of the input never shows.
	if i := strings.LastIndexByte(stored, ':'); i >= 0 && len(stored)-i > 9 && strings.Contains(err.Error(), stored[i+1:]) {
		t.Fatalf("error message echoes the stored payload")
	}
}

// parseErrorShape is every message ParseKeys can produce: a line number and
// a fixed reason, nothing taken from the content.
var parseErrorShape = regexp.MustCompile(`^(no keys found|line [0-9]+: (not valid base64|key is [0-9]+ bytes, want 32|key is all zeros, which looks like a placeholder))$`)

// FuzzParseKeys: ParseKeys never panics; on success it returns one key per
// key line, each KeySize bytes, in file order; on failure the message has a
// fixed shape carrying no content.
func FuzzParseKeys(f *testing.F) {
	std := base64.StdEncoding.EncodeToString(keyA)
	for _, seed := range []string{
		"",
		"\n\n",
		"# only a comment",
		std,
		std + "\n" + base64.RawURLEncoding.EncodeToString(keyB) + "\n",
		"\ufeff# header\r\n" + std + "\r\n\r\n#old\r\n" + base64.URLEncoding.EncodeToString(keyC) + "\r\n",
		std[:20],
		std + "=",
		std + " # trailing comment",
		base64.StdEncoding.EncodeToString(make([]byte, KeySize)),
		base64.StdEncoding.EncodeToString(keyA[:31]),
		"not base64 at all",
		"\x00\xff\xfe",
	} {
		f.Add([]byte(seed))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		current, older, err := ParseKeys(data)
		if err != nil {
			if !parseErrorShape.MatchString(err.Error()) {
				t.Fatalf("unexpected error message shape: %q", err)
			}
			return
		}
		keys := append([][]byte{current}, older...)
		lines := 0
		for _, line := range strings.Split(strings.TrimPrefix(string(data), "\ufeff"), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				lines++
			}
		}
		if len(keys) != lines {
			t.Fatalf("%d keys from %d key lines", len(keys), lines)
		}
		var canonical bytes.Buffer
		for _, key := range keys {
			if len(key) != KeySize {
				t.Fatalf("key of %d bytes accepted", len(key))
			}
			canonical.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
		}
		// What was accepted survives a rewrite in canonical form, and builds
		// a keyring unless two distinct keys collide on a 32-bit id.
		c2, o2, err := ParseKeys(canonical.Bytes())
		if err != nil || !bytes.Equal(c2, current) || len(o2) != len(older) {
			t.Fatalf("canonical rewrite does not parse back: %v", err)
		}
		if _, err := NewKeyring(current, older...); err != nil && !strings.Contains(err.Error(), "is shared with another") {
			t.Fatalf("NewKeyring rejected keys ParseKeys accepted: %v", err)
		}
	})
}

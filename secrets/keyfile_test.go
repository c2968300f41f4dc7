package secrets

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestParseKeysSkipsCommentsAndBlankLines(t *testing.T) {
	data := "\ufeff# Herald key file\r\n\r\n  " + base64.StdEncoding.EncodeToString(keyA) + "  \r\n" +
		"   # indented comment\n\n" +
		base64.RawURLEncoding.EncodeToString(keyB) + "\n" +
		base64.URLEncoding.EncodeToString(keyC) + "\n\n"
	current, older, err := ParseKeys([]byte(data))
	if err != nil {
		t.Fatalf("ParseKeys: %v", err)
	}
	if !bytes.Equal(current, keyA) || len(older) != 2 || !bytes.Equal(older[0], keyB) || !bytes.Equal(older[1], keyC) {
		t.Fatalf("ParseKeys returned the wrong keys or order")
	}
}

func TestParseKeysAcceptsEveryBase64Spelling(t *testing.T) {
	// A key whose encoding uses both alphabet-specific characters (+/ vs -_).
	key := make([]byte, KeySize)
	for i := range key {
		key[i] = 0xfb ^ byte(i*7)
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		line := enc.EncodeToString(key)
		current, older, err := ParseKeys([]byte(line))
		if err != nil || !bytes.Equal(current, key) || len(older) != 0 {
			t.Errorf("ParseKeys(%q): err %v", line, err)
		}
	}
}

func TestParseKeysErrorsNameTheLineNotTheContent(t *testing.T) {
	short := bytes.Repeat([]byte{0x5a}, 31)
	long := bytes.Repeat([]byte{0x5b}, 33)
	good := base64.StdEncoding.EncodeToString(keyA)
	cases := []struct {
		name, data, want string
	}{
		{"short key", "# c\n" + good + "\n\n" + base64.StdEncoding.EncodeToString(short) + "\n", "line 4: key is 31 bytes, want 32"},
		{"long key", base64.RawURLEncoding.EncodeToString(long), "line 1: key is 33 bytes, want 32"},
		{"not base64", good + "\nplain-text-password-not-a-key!!\n", "line 2: not valid base64"},
		{"inline comment", good + " # current", "line 1: not valid base64"},
		{"zero key", base64.StdEncoding.EncodeToString(make([]byte, KeySize)), "line 1: key is all zeros"},
		{"empty", "", "no keys found"},
		{"only comments", "# a\n\n   \n#b", "no keys found"},
	}
	for _, c := range cases {
		_, _, err := ParseKeys([]byte(c.data))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
			continue
		}
		assertNoSecrets(t, err, short, long, keyA, []byte("plain-text-password-not-a-key!!"))
	}
}

func TestFromBase64ReadsCommaSeparatedKeys(t *testing.T) {
	k, err := FromBase64(" " + base64.StdEncoding.EncodeToString(keyB) + " , " + base64.RawURLEncoding.EncodeToString(keyA) + ",")
	if err != nil {
		t.Fatalf("FromBase64: %v", err)
	}
	if k.CurrentID() != KeyID(keyB) || len(k.OlderIDs()) != 1 || k.OlderIDs()[0] != KeyID(keyA) {
		t.Fatalf("keyring = %v", k)
	}

	secret := "hunter2 is not a key!"
	for in, want := range map[string]string{
		"":   "no keys found",
		" ,": "no keys found",
		base64.StdEncoding.EncodeToString(keyA) + "," + secret: "entry 2: not valid base64",
		base64.StdEncoding.EncodeToString(keyA[:16]):           "entry 1: key is 16 bytes",
	} {
		_, err := FromBase64(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("FromBase64: err = %v, want %q", err, want)
		}
		assertNoSecrets(t, err, keyA, []byte(secret))
	}
}

func TestCreateKeyFileIsPrivateAndLoadsBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "herald.key")
	created, err := CreateKeyFile(path)
	if err != nil {
		t.Fatalf("CreateKeyFile: %v", err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %04o, want 0600", info.Mode().Perm())
	}
	if w := FileModeWarning(path); w != "" {
		t.Fatalf("FileModeWarning on a fresh key file: %q", w)
	}
	loaded, err := LoadFile(path)
	if err != nil {
		t.Fatalf("LoadFile: %v", err)
	}
	if loaded.CurrentID() != created.CurrentID() {
		t.Fatalf("loaded key %s, created %s", loaded.CurrentID(), created.CurrentID())
	}
	stored := mustEncrypt(t, created, plaintext)
	if got, err := loaded.Decrypt(Sealed(stored)); err != nil || got != plaintext {
		t.Fatalf("loaded keyring cannot open what the created one sealed: %v", err)
	}
	// No temporary file is left beside the key.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want only the key file", len(entries))
	}
}

func TestCreateKeyFileNeverOverwrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "herald.key")
	before := []byte("# someone else's key\n" + base64.StdEncoding.EncodeToString(keyA) + "\n")
	if err := os.WriteFile(path, before, 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := CreateKeyFile(path)
	if !errors.Is(err, fs.ErrExist) || k != nil {
		t.Fatalf("CreateKeyFile over an existing file: err = %v, want fs.ErrExist", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the path", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("existing key file was modified")
	}
	assertNoSecrets(t, err, keyA)
}

func TestConcurrentCreatorsAgreeOnOneKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "herald.key")
	const n = 8
	ids := make([]string, n)
	created := make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			k, c, err := LoadOrCreateFile(path)
			if err != nil {
				t.Errorf("LoadOrCreateFile: %v", err)
				return
			}
			ids[i], created[i] = k.CurrentID(), c
		})
	}
	wg.Wait()
	creators := 0
	for i := range n {
		if created[i] {
			creators++
		}
		if ids[i] != ids[0] {
			t.Fatalf("creators disagree on the key: %v", ids)
		}
	}
	if creators != 1 {
		t.Fatalf("%d callers report creating the file, want exactly 1", creators)
	}
}

func TestLoadFileRefusesWorldWritableFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits")
	}
	path := filepath.Join(t.TempDir(), "herald.key")
	if _, err := CreateKeyFile(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	_, err := LoadFile(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "0666") {
		t.Fatalf("LoadFile of a world-writable file: err = %v", err)
	}
}

func TestLoadFileAcceptsReadableMountedSecretWithWarning(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits")
	}
	path := filepath.Join(t.TempDir(), "herald.key")
	if _, err := CreateKeyFile(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(path); err != nil {
		t.Fatalf("LoadFile of a 0644 file: %v", err)
	}
	if w := FileModeWarning(path); !strings.Contains(w, path) || !strings.Contains(w, "0644") {
		t.Fatalf("FileModeWarning = %q, want it to name the path and mode", w)
	}
}

func TestLoadFileErrorsNameThePathNotTheKey(t *testing.T) {
	dir := t.TempDir()
	short := bytes.Repeat([]byte{0x77}, 20)
	cases := map[string]string{
		"short.key": "# rotated\n" + base64.StdEncoding.EncodeToString(keyA) + "\n" + base64.StdEncoding.EncodeToString(short) + "\n",
		"junk.key":  base64.StdEncoding.EncodeToString(keyA) + "x\n",
		"empty.key": "\n# nothing here\n",
		"big.key":   strings.Repeat("#", maxKeyFileSize+1),
	}
	for name, content := range cases {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadFile(path)
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: err = %v, want an error naming the path", name, err)
		}
		assertNoSecrets(t, err, keyA, short)
	}

	missing := filepath.Join(dir, "missing.key")
	if _, err := LoadFile(missing); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("missing file: err = %v, want fs.ErrNotExist naming the path", err)
	}
}

func TestLoadOrCreateFileCreatesOnceThenLoads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "herald.key")
	first, created, err := LoadOrCreateFile(path)
	if err != nil || !created {
		t.Fatalf("first call: created=%v err=%v", created, err)
	}
	second, created, err := LoadOrCreateFile(path)
	if err != nil || created || second.CurrentID() != first.CurrentID() {
		t.Fatalf("second call: created=%v err=%v", created, err)
	}
	// A broken file is an error, never replaced by a new key.
	if err := os.WriteFile(path, []byte("garbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateFile(path); err == nil {
		t.Fatal("LoadOrCreateFile replaced or accepted a broken key file")
	}
}

func TestGenerateKeyIsRandomAndParses(t *testing.T) {
	a, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := GenerateKey()
	if a == b {
		t.Fatal("two generated keys are equal")
	}
	if _, err := FromBase64(a); err != nil {
		t.Fatalf("generated key does not load: %v", err)
	}
	if cur, _, err := ParseKeys([]byte(a + "\n")); err != nil || len(cur) != KeySize {
		t.Fatalf("generated key does not parse: %v", err)
	}
}

func TestRotationThroughTheKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "herald.key")
	oldKeyring, err := CreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	stored := mustEncrypt(t, oldKeyring, plaintext)

	// Operator: new key first, old key kept below.
	newLine, _ := GenerateKey()
	oldFile, _ := os.ReadFile(path)
	if err := os.WriteFile(path, append([]byte(newLine+"\n"), oldFile...), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !k.NeedsRotation(stored) {
		t.Fatal("value under the old key does not need rotation")
	}
	rotated, changed, err := k.Reencrypt(stored)
	if err != nil || !changed {
		t.Fatalf("Reencrypt: changed=%v err=%v", changed, err)
	}

	// Operator: drop the old key.
	if err := os.WriteFile(path, []byte(newLine+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err = LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := k.Decrypt(Sealed(rotated)); err != nil || got != plaintext {
		t.Fatalf("rotated value does not open under the new key alone: %v", err)
	}
	if _, err := k.Decrypt(Sealed(stored)); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("unrotated value: err = %v, want ErrUnknownKey", err)
	}
}

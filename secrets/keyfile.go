package secrets

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// maxKeyFileSize bounds how much LoadFile reads: a key file is a few lines,
// and pointing HERALD_SECRET_KEY_FILE at the database by mistake should fail
// fast rather than read gigabytes.
const maxKeyFileSize = 64 << 10

const keyFileHeader = `# Herald secret key: encrypts webhook signing secrets stored in the database.
# Keep this file private (mode 0600) and back it up with the database:
# without it the stored secrets cannot be decrypted.
# To rotate: put a new key (herald gen-key) on the first line, keep this one
# below it, run "herald rotate-key", then remove the old line.
`

// ParseKeys reads a key file: one key per line, each the base64 (standard or
// URL alphabet, padded or not) of KeySize bytes. Blank lines and lines
// starting with # are ignored, as are surrounding spaces, CRLF line endings
// and a UTF-8 byte-order mark. The first key is current; the rest are older
// keys still accepted for decryption. Errors name the line number, never
// its content.
func ParseKeys(data []byte) (current []byte, older [][]byte, err error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	var keys [][]byte
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, err := decodeKey(line)
		if err != nil {
			return nil, nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, nil, errors.New("no keys found")
	}
	return keys[0], keys[1:], nil
}

// decodeKey accepts any of the four common base64 spellings. A failure says
// which rule broke, never what the input was; the standard library's decode
// error (an offset) is dropped as well, since it hints at the content.
func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.URLEncoding,
		base64.RawStdEncoding, base64.RawURLEncoding,
	} {
		key, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if err := checkKey(key); err != nil {
			return nil, err
		}
		return key, nil
	}
	return nil, errors.New("not valid base64")
}

// FromBase64 builds a Keyring from the value of HERALD_SECRET_KEY: one key,
// or several separated by commas (first is current), each as in ParseKeys.
// Errors name the key's position in the list.
func FromBase64(s string) (*Keyring, error) {
	var keys [][]byte
	for i, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		key, err := decodeKey(item)
		if err != nil {
			return nil, fmt.Errorf("secret key list, entry %d: %w", i+1, err)
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, errors.New("secret key list: no keys found")
	}
	k, err := NewKeyring(keys[0], keys[1:]...)
	if err != nil {
		return nil, fmt.Errorf("secret key list: %w", err)
	}
	return k, nil
}

// LoadFile reads a key file (see ParseKeys).
//
// Permissions: a file any user can write is refused, because whoever can
// replace the key can make Herald seal new secrets under a key they know. A
// file that group or others can merely read is accepted: mounted secrets
// (Kubernetes defaultMode 0644, Docker 0444) are commonly like that and are
// protected by the container boundary instead. Call FileModeWarning to tell
// the operator about it. Neither check applies on Windows, which has no
// Unix permission bits.
func LoadFile(path string) (*Keyring, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("secret key file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("secret key file: %w", err)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm()&0o002 != 0 {
		return nil, fmt.Errorf("secret key file %s is writable by every user (mode %04o); run chmod 600 on it", path, info.Mode().Perm())
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("secret key file: %w", err)
	}
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("secret key file %s is larger than %d KiB; it is not a key file", path, maxKeyFileSize>>10)
	}
	current, older, err := ParseKeys(data)
	if err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", path, err)
	}
	k, err := NewKeyring(current, older...)
	if err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", path, err)
	}
	return k, nil
}

// FileModeWarning returns a sentence for the start-up log when the key file
// at path can be read or written by group or other users, and "" when its
// mode is private, it cannot be examined, or the platform is Windows.
func FileModeWarning(path string) string {
	if runtime.GOOS == "windows" {
		return ""
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm()&0o077 == 0 {
		return ""
	}
	return fmt.Sprintf("secret key file %s is accessible to other users (mode %04o); chmod 600 it unless it is a mounted secret", path, info.Mode().Perm())
}

// GenerateKey returns a new random key as one line of padded standard
// base64, suitable for a key file or HERALD_SECRET_KEY.
func GenerateKey() (string, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("generate secret key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(key), nil
}

// CreateKeyFile writes a new random key to path with mode 0600 and returns
// its Keyring. It never overwrites: if path exists the error satisfies
// errors.Is(err, fs.ErrExist) and the file is untouched.
//
// The file is written and synced under a temporary name in the same
// directory and then hard-linked into place, so a concurrent LoadFile sees
// either no file or a complete one, and of two processes racing to create
// it exactly one wins. Where hard links are unsupported it falls back to
// O_CREATE|O_EXCL on path itself.
func CreateKeyFile(path string) (*Keyring, error) {
	line, err := GenerateKey()
	if err != nil {
		return nil, err
	}
	key, err := base64.StdEncoding.DecodeString(line)
	if err != nil {
		return nil, fmt.Errorf("create secret key file %s: %w", path, err)
	}
	k, err := NewKeyring(key)
	if err != nil {
		return nil, fmt.Errorf("create secret key file %s: %w", path, err)
	}
	if err := writeNewFile(path, []byte(keyFileHeader+line+"\n")); err != nil {
		return nil, fmt.Errorf("create secret key file: %w", err)
	}
	return k, nil
}

// LoadOrCreateFile is the SQLite default: load the key file at path, or
// create it if it does not exist yet. created reports that this call made
// the file, so the caller can say so once.
func LoadOrCreateFile(path string) (k *Keyring, created bool, err error) {
	k, err = LoadFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, false, err
	}
	k, err = CreateKeyFile(path)
	if errors.Is(err, fs.ErrExist) {
		// Another process created it between our load and create.
		k, err = LoadFile(path)
		return k, false, err
	}
	return k, err == nil, err
}

func writeNewFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".herald-key-*") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := writeSyncClose(tmp, data); err != nil {
		return err
	}
	err = os.Link(tmp.Name(), path)
	switch {
	case err == nil:
		syncDir(dir)
		return nil
	case errors.Is(err, fs.ErrExist):
		return &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if err := writeSyncClose(f, data); err != nil {
		os.Remove(path)
		return err
	}
	syncDir(dir)
	return nil
}

func writeSyncClose(f *os.File, data []byte) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes the new directory entry durable: losing the key file after
// the database committed secrets sealed under it would lose those secrets.
// Best effort, since some platforms and filesystems cannot sync a directory.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

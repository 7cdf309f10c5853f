package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeyFileName is the file in the data directory that holds a generated
// secret key when CHATSIDECAR_SECRET_KEY is not set.
const KeyFileName = "chatsidecar.key"

// crypter seals secrets with AES-256-GCM and derives the keyed hash used to
// enforce uniqueness of secret channel parameters without storing them in
// the clear.
type crypter struct {
	aead    cipher.AEAD
	hashKey []byte
}

func newCrypter(key []byte) (*crypter, error) {
	if len(key) != 32 {
		return nil, errors.New("store: the secret key must be 32 bytes")
	}
	// Separate subkeys so the encryption key never doubles as a MAC key.
	encKey := subkey(key, "chatsidecar encryption v1")
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &crypter{aead: aead, hashKey: subkey(key, "chatsidecar unique-hash v1")}, nil
}

func subkey(key []byte, label string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// seal encrypts plaintext; aad binds the ciphertext to its column so a
// value copied into another column does not decrypt.
func (c *crypter) seal(plaintext []byte, aad string) []byte {
	nonce := make([]byte, c.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(fmt.Sprintf("store: crypto/rand failed: %v", err)) // never happens on supported platforms
	}
	return c.aead.Seal(nonce, nonce, plaintext, []byte(aad))
}

func (c *crypter) open(sealed []byte, aad string) ([]byte, error) {
	n := c.aead.NonceSize()
	if len(sealed) < n {
		return nil, ErrSecretKeyMismatch
	}
	out, err := c.aead.Open(nil, sealed[:n], sealed[n:], []byte(aad))
	if err != nil {
		return nil, ErrSecretKeyMismatch
	}
	return out, nil
}

// uniqueHash is a keyed hash of a provider's unique parameter values. Equal
// combinations hash equally, so a database unique index enforces the
// reference's uniqueness rule even for secret values such as webhook URLs.
func (c *crypter) uniqueHash(provider string, keys []string, values map[string]string) string {
	m := hmac.New(sha256.New, c.hashKey)
	m.Write([]byte(provider))
	for _, k := range keys {
		m.Write([]byte{0})
		m.Write([]byte(k))
		m.Write([]byte{0})
		m.Write([]byte(values[k]))
	}
	return hex.EncodeToString(m.Sum(nil))
}

// LoadOrCreateKey reads the secret key from dir/chatsidecar.key, creating
// it with fresh random bytes (mode 0600) when it does not exist. The
// returned bool reports whether a key was created.
func LoadOrCreateKey(dir string) ([]byte, bool, error) {
	path := filepath.Join(dir, KeyFileName)
	b, err := os.ReadFile(path)
	if err == nil {
		key, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if derr != nil || len(key) != 32 {
			return nil, false, fmt.Errorf("store: %s does not hold a base64 32-byte key", path)
		}
		return key, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("store: read key file: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("store: create data directory: %w", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		// Another process created it first; use theirs.
		return LoadOrCreateKey(dir)
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: create key file: %w", err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		_ = f.Close()
		return nil, false, fmt.Errorf("store: write key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, false, fmt.Errorf("store: write key file: %w", err)
	}
	return key, true, nil
}

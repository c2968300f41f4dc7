// Package auth decides who a request comes from: a bearer token looked up by its hash, the
// bootstrap admin token, or, on a loopback address with no token configured at all, open mode.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/heraldhq/herald/models"
)

// Principal is the authenticated caller of a request.
type Principal struct {
	// Name is the token's name ("admin" for the bootstrap token, "open mode" without tokens).
	Name    string
	Role    models.Role
	TokenID uint
	// NamespaceID is the namespace the token's role holds in; nil: every namespace.
	NamespaceID *uint
}

// openModeName names the principal of open mode.
const openModeName = "open mode"

// OpenMode reports whether p is open mode's caller (no token on a loopback Herald).
func (p Principal) OpenMode() bool { return p.TokenID == 0 && p.Name == openModeName }

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the request's principal, if it was authenticated.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// TokenPrefix starts every token Herald issues, so that secret scanners can recognise leaked ones.
const TokenPrefix = "hrld_"

// tokenBytes of randomness: 256 bits, far beyond guessing.
const tokenBytes = 32

var tokenEncoding = base64.RawURLEncoding

// tokenLength is the length of a well-formed token.
var tokenLength = len(TokenPrefix) + tokenEncoding.EncodedLen(tokenBytes)

// HookTokenPrefix starts every integration's hook token. It differs from TokenPrefix so that a
// leaked token says what it opens, and a hook token can never pass for an API token.
const HookTokenPrefix = "hrldh_"

// NewToken returns a fresh API token and the hash under which it is stored.
func NewToken() (token, hash string, err error) { return newToken(TokenPrefix) }

// NewHookToken returns a fresh hook token for an integration and the hash under which it is stored.
func NewHookToken() (token, hash string, err error) { return newToken(HookTokenPrefix) }

func newToken(prefix string) (token, hash string, err error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	token = prefix + tokenEncoding.EncodeToString(b)
	return token, HashToken(token), nil
}

// HashToken is the stored form of a token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Errors of ParseBearer. Neither says anything about which tokens exist.
var (
	ErrNoToken        = errors.New("no bearer token: send Authorization: Bearer <token>")
	ErrMalformedToken = errors.New("the bearer token is not a Herald token")
)

// ParseBearer extracts the token from an Authorization header value. Only the shape is checked
// here, so a malformed header costs no database lookup.
func ParseBearer(header string) (string, error) {
	if header == "" {
		return "", ErrNoToken
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", ErrMalformedToken
	}
	token = strings.TrimSpace(token)
	if token == "" || len(token) > 512 || strings.ContainsFunc(token, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return "", ErrMalformedToken
	}
	return token, nil
}

// wellFormed reports whether token has the shape of a token Herald issued.
func wellFormed(token string) bool {
	if len(token) != tokenLength || !strings.HasPrefix(token, TokenPrefix) {
		return false
	}
	_, err := tokenEncoding.DecodeString(token[len(TokenPrefix):])
	return err == nil
}

// sameToken compares two tokens in constant time (over their hashes, so lengths do not leak).
func sameToken(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

package models

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The Clean functions are the rules of each field, shared by the store and by herald apply, which
// checks a whole file with them before it changes anything.

// Input limits. Every path into the database is bounded so that one request cannot grow a row or a
// statement without limit.
const (
	MaxNameLength         = 64
	MaxDescriptionLength  = 512
	MaxWebhooksPerContact = 10
	MaxKeywordLength      = 64
	MaxSecretLength       = 256
	MaxSearchLength       = 64
	MaxIDsPerRequest      = 1000
	MaxPageSize           = 100
)

// CleanName trims a contact or group name and checks it against the naming rules.
func CleanName(field, raw string) (name string, key string, err error) {
	name = strings.TrimSpace(raw)
	if !utf8.ValidString(name) {
		return "", "", Invalid(field, "name is not valid UTF-8")
	}
	n := utf8.RuneCountInString(name)
	if n == 0 {
		return "", "", Invalid(field, "name must not be empty")
	}
	if n > MaxNameLength {
		return "", "", Invalid(field, "name is %d characters long; at most %d are allowed", n, MaxNameLength)
	}
	if hasControl(name) {
		return "", "", Invalid(field, "name must not contain control characters")
	}
	return name, NameKey(name), nil
}

// NameKey is the form in which names are compared and ordered: letter case folded and nothing else,
// so "Alice" and "alice" collide while "José" and "Jose" do not. It is computed here rather than by a
// database collation because MySQL's default collations also ignore accents and SQLite's ignore
// only ASCII case: a stored key compared byte for byte behaves the same on both.
func NameKey(name string) string {
	// Upper then lower folds the characters whose lower case is not unique (final sigma, Kelvin sign).
	return strings.ToLower(strings.ToUpper(name))
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}

// CleanPhone accepts digits with an optional leading '+', 5-20 characters; "" means no phone.
func CleanPhone(field, raw string) (*string, error) {
	phone := strings.TrimSpace(raw)
	if phone == "" {
		return nil, nil
	}
	digits := strings.TrimPrefix(phone, "+")
	if len(phone) < 5 || len(phone) > 20 || digits == "" || strings.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return nil, Invalid(field, "phone must be 5-20 characters: digits with an optional leading '+'")
	}
	return &phone, nil
}

// MaxUserIDLength bounds a platform user id (DingTalk userId, WeCom userid, Lark open_id).
const MaxUserIDLength = 64

// CleanUserID accepts a platform user id: 1-64 characters of letters, digits and "_-.@", since it
// is written into markup (DingTalk "@id", WeCom "<@id>", Lark "<at id=…>") where anything else could
// break out of the mention; "" means none.
func CleanUserID(field, raw string) (*string, error) {
	id := strings.TrimSpace(raw)
	if id == "" {
		return nil, nil
	}
	ok := len(id) <= MaxUserIDLength && strings.IndexFunc(id, func(r rune) bool {
		return !(r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_-.@", r)))
	}) < 0
	if !ok {
		return nil, Invalid(field, "a user id is 1-%d characters: ASCII letters, digits, '_', '-', '.' or '@'", MaxUserIDLength)
	}
	if strings.EqualFold(id, "all") || strings.EqualFold(id, "@all") {
		return nil, Invalid(field, "%q would mention everyone; use mentionAll for that", id)
	}
	return &id, nil
}

// CleanDescription trims a namespace's or group's description and bounds it.
func CleanDescription(field, raw string) (string, error) {
	return cleanFreeText(field, "description", raw, MaxDescriptionLength)
}

// cleanFreeText trims free text and bounds it: valid UTF-8, at most limit characters, line breaks
// and tabs the only control characters.
func cleanFreeText(field, what, raw string, limit int) (string, error) {
	d := strings.TrimSpace(raw)
	if !utf8.ValidString(d) {
		return "", Invalid(field, "%s is not valid UTF-8", what)
	}
	if n := utf8.RuneCountInString(d); n > limit {
		return "", Invalid(field, "%s is %d characters long; at most %d are allowed", what, n, limit)
	}
	if strings.IndexFunc(d, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' }) >= 0 {
		return "", Invalid(field, "%s must not contain control characters other than line breaks and tabs", what)
	}
	return d, nil
}

// CleanKeyword accepts a DingTalk robot's security keyword; "" means none.
func CleanKeyword(field, raw string) (*string, error) {
	k := strings.TrimSpace(raw)
	if k == "" {
		return nil, nil
	}
	if utf8.RuneCountInString(k) > MaxKeywordLength || !utf8.ValidString(k) || hasControl(k) {
		return nil, Invalid(field, "keyword must be at most %d printable characters", MaxKeywordLength)
	}
	return &k, nil
}

// CleanSecret accepts a signing secret before it is sealed; "" means none.
func CleanSecret(field, raw string) (*string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return nil, nil
	}
	if len(s) > MaxSecretLength || hasControl(s) {
		return nil, Invalid(field, "secret must be at most %d printable characters", MaxSecretLength)
	}
	return &s, nil
}

// cleanSearch bounds a name search and folds it as names are: key is what a matching name key
// contains, pattern the same as a LIKE pattern ("" both for no search).
func cleanSearch(field, raw string) (key, pattern string, err error) {
	s := strings.TrimSpace(raw)
	if utf8.RuneCountInString(s) > MaxSearchLength {
		return "", "", Invalid(field, "search is longer than %d characters", MaxSearchLength)
	}
	if s == "" {
		return "", "", nil
	}
	key = NameKey(s)
	return key, ContainsPattern(key), nil
}

package models

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"

	lru "github.com/hashicorp/golang-lru/v2"
	"gorm.io/gorm"
)

// MatchOp is how a matcher compares a label's value; the values match the GraphQL enum.
type MatchOp string

const (
	MatchEqual      MatchOp = "EQ"
	MatchNotEqual   MatchOp = "NEQ"
	MatchRegexp     MatchOp = "REGEX"
	MatchNotRegexp  MatchOp = "NOT_REGEX"
	MaxMatchers             = 32
	MaxMatcherValue         = 1024 // characters
	maxMatcherLabel         = 128  // characters, as a label name
	// maxRegexInsts bounds a pattern's compiled program, so that the cache's worst case is bounded
	// too; a list of fifty host names fits.
	maxRegexInsts = 2000
	// MaxRegexMatchers bounds the regular expressions of a namespace's routes and live silences
	// together: every alert may test them all.
	MaxRegexMatchers = 1000
	// maxCompiledRegex compiled patterns are kept, least recently used first out: eight
	// namespaces at their bound, so that matching does not compile in steady state.
	maxCompiledRegex = 8 * MaxRegexMatchers
)

// regexCount is how many of the matchers are regular expressions.
func (ms Matchers) regexCount() int {
	n := 0
	for _, m := range ms {
		if m.Op == MatchRegexp || m.Op == MatchNotRegexp {
			n++
		}
	}
	return n
}

// checkRegexBudget refuses matchers that would take the namespace's routes (but exceptRoute, the
// one being replaced) and live silences past MaxRegexMatchers regular expressions.
func checkRegexBudget(tx *gorm.DB, adding Matchers, exceptRoute uint) error {
	n := adding.regexCount()
	if n == 0 {
		return nil
	}
	now, err := DBNow(tx)
	if err != nil {
		return err
	}
	var routes []Route
	if err := tx.Select("id", "matchers").Where("id <> ?", exceptRoute).Find(&routes).Error; err != nil {
		return fmt.Errorf("count regular expressions of routes: %w", err)
	}
	for _, r := range routes {
		n += r.Matchers.regexCount()
	}
	var silences []Silence
	if err := tx.Select("matchers").Where("ends_at > ?", now).Find(&silences).Error; err != nil {
		return fmt.Errorf("count regular expressions of silences: %w", err)
	}
	for _, s := range silences {
		n += s.Matchers.regexCount()
	}
	if n > MaxRegexMatchers {
		return Invalid("matchers", "the namespace's routes and silences would hold %d regular expressions, at most %d are allowed: use EQ where a value is exact", n, MaxRegexMatchers)
	}
	return nil
}

// Matcher tests one label of an alert, as Alertmanager's matchers do: a label the alert does not
// have reads as the empty string, and a regular expression must match the whole value.
type Matcher struct {
	Label string  `json:"label"`
	Op    MatchOp `json:"op"`
	Value string  `json:"value"`
}

// Matchers all hold for an alert that matches; none always match.
type Matchers []Matcher

// CleanMatchers checks matchers given at field: the label as a label name, the value's length,
// and a regular expression that compiles (RE2, so matching time is linear in the value).
func CleanMatchers(field string, in []Matcher) (Matchers, error) {
	if len(in) > MaxMatchers {
		return nil, Invalid(field, "at most %d matchers are allowed, got %d", MaxMatchers, len(in))
	}
	out := make(Matchers, 0, len(in))
	for i, m := range in {
		at := indexed(field, i)
		m.Label = strings.TrimSpace(m.Label)
		if n := utf8.RuneCountInString(m.Label); n == 0 || n > maxMatcherLabel || !utf8.ValidString(m.Label) ||
			strings.ContainsFunc(m.Label, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
			return nil, Invalid(at+".label", "a label name is 1 to %d characters without spaces or control characters", maxMatcherLabel)
		}
		if utf8.RuneCountInString(m.Value) > MaxMatcherValue || !utf8.ValidString(m.Value) {
			return nil, Invalid(at+".value", "a matcher's value is at most %d characters of valid UTF-8", MaxMatcherValue)
		}
		switch m.Op {
		case MatchEqual, MatchNotEqual:
		case MatchRegexp, MatchNotRegexp:
			// The pattern as written is compiled first, so that an error quotes it, not its anchoring.
			_, err := regexp.Compile(m.Value)
			if err == nil {
				_, err = regexp.Compile(anchored(m.Value))
			}
			if err != nil {
				return nil, Invalid(at+".value", "not a regular expression (RE2 syntax): %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
			}
			if n := regexInsts(m.Value); n > maxRegexInsts {
				return nil, Invalid(at+".value", "the regular expression is too complex (%d instructions compiled, at most %d): split it over several routes", n, maxRegexInsts)
			}
		default:
			return nil, Invalid(at+".op", "unknown operator %q: want EQ, NEQ, REGEX or NOT_REGEX", string(m.Op))
		}
		out = append(out, m)
	}
	return out, nil
}

// anchored makes a pattern match whole values only, as Alertmanager's regex matchers do.
func anchored(pattern string) string { return "^(?:" + pattern + ")$" }

// regexInsts is the size of a valid pattern's compiled program.
func regexInsts(pattern string) int {
	re, err := syntax.Parse(anchored(pattern), syntax.Perl)
	if err != nil {
		return 0
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return 0
	}
	return len(prog.Inst)
}

// compiled keeps compiled patterns: every alert accepted tests every route's matchers, read again
// from the database, and compiling costs far more than matching.
var compiled = func() *lru.Cache[string, *regexp.Regexp] {
	c, err := lru.New[string, *regexp.Regexp](maxCompiledRegex)
	if err != nil {
		panic(err)
	}
	return c
}()

// never matches any value: a stored pattern that no longer compiles matches nothing.
var never = regexp.MustCompile(`[^\x00-\x{10FFFF}]`)

func compile(pattern string) *regexp.Regexp {
	if re, ok := compiled.Get(pattern); ok {
		return re
	}
	re, err := regexp.Compile(anchored(pattern))
	if err != nil {
		re = never
	}
	compiled.Add(pattern, re)
	return re
}

// Matches reports whether the label set satisfies the matcher.
func (m Matcher) Matches(labels map[string]string) bool {
	v := labels[m.Label]
	switch m.Op {
	case MatchEqual:
		return v == m.Value
	case MatchNotEqual:
		return v != m.Value
	case MatchRegexp:
		return compile(m.Value).MatchString(v)
	case MatchNotRegexp:
		return !compile(m.Value).MatchString(v)
	}
	return false
}

// Matches reports whether every matcher holds.
func (ms Matchers) Matches(labels map[string]string) bool {
	for _, m := range ms {
		if !m.Matches(labels) {
			return false
		}
	}
	return true
}

// String is the matchers as Alertmanager writes them, e.g. {team="db", env=~"prod|stage"}.
func (ms Matchers) String() string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		op := map[MatchOp]string{MatchEqual: "=", MatchNotEqual: "!=", MatchRegexp: "=~", MatchNotRegexp: "!~"}[m.Op]
		parts[i] = fmt.Sprintf("%s%s%q", m.Label, op, m.Value)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

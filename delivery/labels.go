package delivery

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/heraldhq/herald/models"
)

// Label limits. They are Alertmanager's practical sizes with room to spare; a hook cuts a source's
// labels to them (FitLabels) rather than refuse an alert for its labels.
const (
	MaxLabels           = 64
	MaxLabelNameLength  = 128  // characters
	MaxLabelValueLength = 1024 // characters
)

// Label is a name and value describing an alert, as Alertmanager's labels do: what routing and
// silences will match on.
type Label struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Labels are an alert's labels, sorted by name.
type Labels []Label

// Get returns the value of the label name, or "".
func (l Labels) Get(name string) string {
	for _, x := range l {
		if x.Name == name {
			return x.Value
		}
	}
	return ""
}

// cleanLabels checks labels given by a caller: each name once, within the limits, sorted by name.
func cleanLabels(in Labels) (Labels, error) {
	if len(in) > MaxLabels {
		return nil, models.Invalid("labels", "at most %d labels are allowed, got %d", MaxLabels, len(in))
	}
	out := make(Labels, 0, len(in))
	seen := make(map[string]bool, len(in))
	for i, l := range in {
		field := fmt.Sprintf("labels[%d]", i)
		name := strings.TrimSpace(l.Name)
		if n := utf8.RuneCountInString(name); n == 0 || n > MaxLabelNameLength || !utf8.ValidString(name) ||
			strings.ContainsFunc(name, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
			return nil, models.Invalid(field+".name", "a label name is 1 to %d characters without spaces or control characters", MaxLabelNameLength)
		}
		if seen[name] {
			return nil, models.Invalid(field+".name", "the label %q is given twice", name)
		}
		seen[name] = true
		if utf8.RuneCountInString(l.Value) > MaxLabelValueLength || !utf8.ValidString(l.Value) || hasControlExceptTab(l.Value) {
			return nil, models.Invalid(field+".value", "a label value is at most %d characters without control characters", MaxLabelValueLength)
		}
		out = append(out, Label{Name: name, Value: l.Value})
	}
	slices.SortFunc(out, func(a, b Label) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

func hasControlExceptTab(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\t' })
}

// FitLabels makes a source's labels acceptable instead of refusing the alert: names first kept
// (keep, then the rest by name) up to MaxLabels, control characters replaced, long values cut.
func FitLabels(m map[string]string, keep ...string) Labels {
	names := slices.Collect(maps.Keys(m))
	slices.SortFunc(names, func(a, b string) int {
		ka, kb := slices.Contains(keep, a), slices.Contains(keep, b)
		if ka != kb {
			if ka {
				return -1
			}
			return 1
		}
		return cmp.Compare(a, b)
	})
	out := make(Labels, 0, min(len(names), MaxLabels))
	for _, n := range names {
		name := strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) || unicode.IsControl(r) {
				return '_'
			}
			return r
		}, strings.ToValidUTF8(strings.TrimSpace(n), "\uFFFD"))
		if name == "" || len(out) == MaxLabels {
			continue
		}
		if utf8.RuneCountInString(name) > MaxLabelNameLength {
			name = string([]rune(name)[:MaxLabelNameLength])
		}
		v := strings.Map(func(r rune) rune {
			if unicode.IsControl(r) && r != '\t' {
				return ' '
			}
			return r
		}, strings.ToValidUTF8(m[n], "\uFFFD"))
		if utf8.RuneCountInString(v) > MaxLabelValueLength {
			v = string([]rune(v)[:MaxLabelValueLength-1]) + "…"
		}
		out = append(out, Label{Name: name, Value: v})
	}
	slices.SortFunc(out, func(a, b Label) int { return cmp.Compare(a.Name, b.Name) })
	return slices.CompactFunc(out, func(a, b Label) bool { return a.Name == b.Name })
}

package cli

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/agnivade/levenshtein"
	"gopkg.in/yaml.v3"
)

// Problem is one thing wrong with a file, where it is.
type Problem struct {
	Line, Column int
	Message      string
}

// Problems are everything wrong with a file; a file with any changes nothing.
type Problems struct {
	File string
	List []Problem
}

func (p *Problems) Error() string {
	var b strings.Builder
	for i, problem := range p.List {
		if i > 0 {
			b.WriteByte('\n')
		}
		if problem.Line > 0 {
			fmt.Fprintf(&b, "%s:%d:%d: %s", p.File, problem.Line, problem.Column, problem.Message)
		} else {
			fmt.Fprintf(&b, "%s: %s", p.File, problem.Message)
		}
	}
	return b.String()
}

// document is a file as loaded: its contents and where each value was written, by path
// (namespaces[0].contacts[1].webhooks[0].url), so that later checks and the server's refusals can
// point at the line.
type document struct {
	file     string
	root     File
	nodes    map[string]*yaml.Node
	problems []Problem
}

func (d *document) add(node *yaml.Node, format string, args ...any) {
	p := Problem{Message: fmt.Sprintf(format, args...)}
	if node != nil {
		p.Line, p.Column = node.Line, node.Column
	}
	d.problems = append(d.problems, p)
}

// at reports a problem at the value of path, or at the nearest enclosing value written.
func (d *document) at(path string, format string, args ...any) {
	d.add(d.node(path), format, args...)
}

func (d *document) node(path string) *yaml.Node {
	for path != "" {
		if n, ok := d.nodes[path]; ok {
			return n
		}
		cut := strings.LastIndexAny(path, ".[")
		if cut < 0 {
			break
		}
		path = path[:cut]
	}
	return d.nodes[""]
}

func (d *document) err() error {
	if len(d.problems) == 0 {
		return nil
	}
	sort.SliceStable(d.problems, func(i, j int) bool {
		a, b := d.problems[i], d.problems[j]
		return a.Line < b.Line || (a.Line == b.Line && a.Column < b.Column)
	})
	return &Problems{File: d.file, List: d.problems}
}

// maxFileBytes bounds what apply reads: far above any real setup (10,000 contacts take about 2 MB).
const maxFileBytes = 32 << 20

// parse reads a file's YAML, resolves its ${ENV} references with lookupEnv, and checks its shape:
// every key known (a near miss gets a suggestion), every value of the right kind.
func parse(file string, data []byte, lookupEnv func(string) (string, bool)) (*document, error) {
	d := &document{file: file, nodes: map[string]*yaml.Node{}}
	if len(data) > maxFileBytes {
		d.add(nil, "the file is over %d MiB", maxFileBytes>>20)
		return d, d.err()
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		d.add(nil, "%s", yamlMessage(err))
		if line := yamlLine(err); line > 0 {
			d.problems[0].Line, d.problems[0].Column = line, 1
		}
		return d, d.err()
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		d.add(nil, "the file is empty: it needs namespaces")
		return d, d.err()
	}
	top := root.Content[0]
	d.expand(top, lookupEnv)
	d.walk(top, reflect.TypeOf(File{}), "")
	if len(d.problems) > 0 {
		return d, d.err()
	}
	if err := top.Decode(&d.root); err != nil {
		d.add(top, "%s", yamlMessage(err))
	}
	return d, d.err()
}

var (
	yamlLineRE        = regexp.MustCompile(`line (\d+)`)
	yamlLineMessageRE = regexp.MustCompile(`line \d+: ?`)
)

func yamlLine(err error) int {
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

func yamlMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	return strings.TrimSpace(yamlLineMessageRE.ReplaceAllString(msg, ""))
}

var envRefRE = regexp.MustCompile(`\$\$|\$\{([^}]*)\}`)

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// expand replaces ${NAME} in every string with the environment's value; $$ is a literal $. An unset
// variable is a problem: apply would otherwise send an empty secret.
func (d *document) expand(n *yaml.Node, lookupEnv func(string) (string, bool)) {
	if n.Kind == yaml.AliasNode {
		return
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" && strings.Contains(n.Value, "$") {
		n.Value = envRefRE.ReplaceAllStringFunc(n.Value, func(ref string) string {
			if ref == "$$" {
				return "$"
			}
			name := ref[2 : len(ref)-1]
			if !envNameRE.MatchString(name) {
				d.add(n, "%s is not a variable reference: a name is letters, digits and _ (write $$ for a literal $)", ref)
				return ref
			}
			value, ok := lookupEnv(name)
			if !ok {
				d.add(n, "environment variable %s is not set", name)
				return ref
			}
			return value
		})
	}
	for _, c := range n.Content {
		d.expand(c, lookupEnv)
	}
}

var timeType = reflect.TypeOf(time.Time{})

// walk checks n against the Go type t, recording every value's node by its path.
func (d *document) walk(n *yaml.Node, t reflect.Type, path string) {
	d.nodes[path] = n
	if n.Kind == yaml.AliasNode {
		d.add(n, "aliases (*%s) are not supported here: write the value out", n.Value)
		return
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // an absent value: the field's zero
	}
	switch {
	case t == timeType:
		if n.Kind != yaml.ScalarNode {
			d.add(n, "%s must be a time such as 2026-12-31T23:00:00Z", fieldName(path))
		} else if _, err := time.Parse(time.RFC3339Nano, n.Value); err != nil {
			d.add(n, "%s: %q is not an RFC 3339 time such as 2026-12-31T23:00:00Z", fieldName(path), n.Value)
		}
	case t.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.add(n, "%s must be a mapping of keys to values, not %s", describe(path), kindName(n))
			return
		}
		fields := yamlFields(t)
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, value := n.Content[i], n.Content[i+1]
			field, ok := fields[key.Value]
			if !ok {
				d.add(key, "unknown key %q in %s%s", key.Value, describe(path), suggest(key.Value, fields))
				continue
			}
			if seen[key.Value] {
				d.add(key, "key %q is given twice", key.Value)
				continue
			}
			seen[key.Value] = true
			d.walk(value, field.Type, join(path, key.Value))
		}
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.add(n, "%s must be a list, not %s", fieldName(path), kindName(n))
			return
		}
		for i, item := range n.Content {
			d.walk(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case t.Kind() == reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.add(n, "%s must be a string, not %s", fieldName(path), kindName(n))
		}
	case t.Kind() == reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			d.add(n, "%s must be true or false, not %q", fieldName(path), n.Value)
		}
	case t.Kind() == reflect.Int:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			d.add(n, "%s must be a whole number, not %q", fieldName(path), n.Value)
		}
	}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return fmt.Sprintf("%q", n.Value)
	}
}

// yamlFields maps each key a struct takes to its field.
func yamlFields(t reflect.Type) map[string]reflect.StructField {
	fields := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			fields[name] = f
		}
	}
	return fields
}

// suggest names the known key closest to a misspelt one, when one is close.
func suggest(key string, fields map[string]reflect.StructField) string {
	best, bestDistance := "", 3
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		distance := levenshtein.ComputeDistance(strings.ToLower(key), strings.ToLower(name))
		if distance < bestDistance || (strings.EqualFold(key, name)) {
			best, bestDistance = name, distance
		}
	}
	if best != "" && bestDistance <= len(key)/2+1 {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return fmt.Sprintf(" (known keys: %s)", strings.Join(names, ", "))
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// fieldName is a path's last key, for messages: webhooks[0].url → url.
func fieldName(path string) string {
	if path == "" {
		return "the file"
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}

// describe names the object at path: namespaces[0].contacts[1] → a contact.
func describe(path string) string {
	trimmed := strings.TrimRight(path, "]0123456789[")
	switch fieldName(trimmed) {
	case "the file":
		return "the file"
	case "namespaces":
		return "a namespace"
	case "contacts":
		return "a contact"
	case "webhooks":
		return "a webhook"
	case "groups":
		return "a group"
	case "quietHours":
		return "a time window"
	case "templates":
		return "a template"
	case "integrations":
		return "an integration"
	case "routes":
		return "a route"
	case "matchers":
		return "a matcher"
	case "silences":
		return "a silence"
	}
	return fieldName(path)
}

var errNoNamespaces = errors.New("the file names no namespace")

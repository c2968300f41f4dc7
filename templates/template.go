// Package templates renders the messages Herald sends from templates: Go text/template over one
// data model (Data, Alertmanager's notification data plus Herald's fields), with sprig's text
// functions and Alertmanager's names, and execution bounded in time and size. Built-in templates
// (builtin/*.tmpl) are the defaults of each kind of source.
package templates

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"text/template/parse"
	"time"
	"unicode/utf8"
)

// Execution bounds of one message: a template that reaches one fails, and the alert is sent in the
// default layout instead. The body's 64 KiB is an alert's content limit.
const (
	MaxDuration   = 100 * time.Millisecond
	MaxBodyBytes  = 64 << 10
	MaxTitleBytes = 4 << 10
	// maxSteps bounds the loop iterations and template calls of one execution, so that a template
	// stops even when the clock is not consulted often enough to notice.
	maxSteps = 1_000_000
)

// Source limits, checked when a template is saved.
const (
	MaxSourceBytes      = 64 << 10
	MaxTitleSourceBytes = 4 << 10
)

// tick is the function the instrumentation calls at each loop iteration and template call.
const tick = "heraldStep"

// Template is a parsed message template: a title and a body, which may define named templates that
// both use (Alertmanager's {{ define }} files work as bodies).
type Template struct {
	set *template.Template // holds "body" and "title"; never executed, only cloned
	// runs are clones ready to execute, each with its own step counter: cloning copies the
	// function maps, which costs more than a small render.
	runs sync.Pool
}

// run is one clone of a template and the budget its step function checks.
type run struct {
	set      *template.Template
	steps    int
	deadline time.Time
	// data and dataWeight cache the weight of the execution's data (see weigh).
	data       uintptr
	dataWeight int
}

// ErrBound is a template stopped by an execution bound.
var ErrBound = errors.New("template exceeded an execution bound")

// SyntaxError is a template that does not parse, with where.
type SyntaxError struct {
	Field  string // "title" or "body"
	Line   int
	Column int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s: line %d, column %d: %s", e.Field, e.Line, e.Column, e.Msg)
}

// Parse checks and parses a template. A syntax error is a *SyntaxError.
func Parse(title, body string) (*Template, error) {
	switch {
	case len(title) > MaxTitleSourceBytes:
		return nil, &SyntaxError{Field: "title", Line: 1, Column: 1, Msg: fmt.Sprintf("the title template is longer than %d bytes", MaxTitleSourceBytes)}
	case len(body) > MaxSourceBytes:
		return nil, &SyntaxError{Field: "body", Line: 1, Column: 1, Msg: fmt.Sprintf("the body template is longer than %d bytes", MaxSourceBytes)}
	case !utf8.ValidString(title) || !utf8.ValidString(body):
		return nil, &SyntaxError{Field: "body", Line: 1, Column: 1, Msg: "the template is not valid UTF-8"}
	}
	// Parsing only needs the names; each run binds its own wrapped functions.
	set := template.New("body").Funcs(library).Funcs(template.FuncMap{tick: func() string { return "" }})
	if _, err := set.Parse(body); err != nil {
		return nil, syntaxError("body", body, err)
	}
	fromBody := map[string]bool{}
	for _, t := range set.Templates() {
		fromBody[t.Name()] = true
	}
	if _, err := set.New("title").Parse(title); err != nil {
		return nil, syntaxError("title", title, err)
	}
	if err := refuseRecursion(set, fromBody, title, body); err != nil {
		return nil, err
	}
	for _, t := range set.Templates() {
		if t.Tree != nil {
			instrument(t.Tree.Root)
		}
	}
	return &Template{set: set}, nil
}

// MustParse is Parse for the built-in templates.
func MustParse(title, body string) *Template {
	t, err := Parse(title, body)
	if err != nil {
		panic(err)
	}
	return t
}

// refuseRecursion refuses a template that calls itself, directly or through others: no
// notification needs recursion, and text/template unwinds a deep one slowly.
func refuseRecursion(set *template.Template, fromBody map[string]bool, title, body string) error {
	calls := map[string][]*parse.TemplateNode{}
	for _, t := range set.Templates() {
		if t.Tree != nil {
			calls[t.Name()] = templateCalls(t.Tree.Root, nil)
		}
	}
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		state[name] = 1
		for _, call := range calls[name] {
			switch state[call.Name] {
			case 1:
				field, src := "title", title
				if fromBody[name] {
					field, src = "body", body
				}
				line, col := position(src, int(call.Pos))
				cycle := strings.Join(append(path, name, call.Name), " → ")
				return &SyntaxError{Field: field, Line: line, Column: col,
					Msg: fmt.Sprintf("template %q calls itself (%s): recursion is not allowed", call.Name, cycle)}
			case 0:
				if err := visit(call.Name, append(path, name)); err != nil {
					return err
				}
			}
		}
		state[name] = 2
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(calls)) {
		if state[name] == 0 {
			if err := visit(name, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// templateCalls collects the {{ template }} actions of a list, however nested.
func templateCalls(list *parse.ListNode, out []*parse.TemplateNode) []*parse.TemplateNode {
	if list == nil {
		return out
	}
	for _, n := range list.Nodes {
		switch n := n.(type) {
		case *parse.TemplateNode:
			out = append(out, n)
		case *parse.RangeNode:
			out = templateCalls(n.ElseList, templateCalls(n.List, out))
		case *parse.IfNode:
			out = templateCalls(n.ElseList, templateCalls(n.List, out))
		case *parse.WithNode:
			out = templateCalls(n.ElseList, templateCalls(n.List, out))
		case *parse.ListNode:
			out = templateCalls(n, out)
		}
	}
	return out
}

// position is the 1-based line and column (in characters) of a byte offset of src.
func position(src string, offset int) (int, int) {
	offset = min(max(offset, 0), len(src))
	before := src[:offset]
	line := strings.Count(before, "\n") + 1
	return line, utf8.RuneCountInString(before[strings.LastIndex(before, "\n")+1:]) + 1
}

// instrument puts a step at the start of every template and of every loop body: the only ways an
// execution repeats work are iterations and template calls, so counting them bounds it.
func instrument(list *parse.ListNode) {
	if list == nil {
		return
	}
	for _, n := range list.Nodes {
		switch n := n.(type) {
		case *parse.RangeNode:
			instrument(n.List)
			instrument(n.ElseList)
			n.List.Nodes = append([]parse.Node{stepNode(n.Pos, n.Line)}, n.List.Nodes...)
		case *parse.IfNode:
			instrument(n.List)
			instrument(n.ElseList)
		case *parse.WithNode:
			instrument(n.List)
			instrument(n.ElseList)
		case *parse.ListNode:
			instrument(n)
		}
	}
	if len(list.Nodes) == 0 || !isStep(list.Nodes[0]) {
		list.Nodes = append([]parse.Node{stepNode(list.Pos, 0)}, list.Nodes...)
	}
}

func stepNode(pos parse.Pos, line int) parse.Node {
	id := parse.NewIdentifier(tick).SetPos(pos)
	cmd := &parse.CommandNode{NodeType: parse.NodeCommand, Pos: pos, Args: []parse.Node{id}}
	pipe := &parse.PipeNode{NodeType: parse.NodePipe, Pos: pos, Line: line, Cmds: []*parse.CommandNode{cmd}}
	return &parse.ActionNode{NodeType: parse.NodeAction, Pos: pos, Line: line, Pipe: pipe}
}

func isStep(n parse.Node) bool {
	a, ok := n.(*parse.ActionNode)
	if !ok || len(a.Pipe.Cmds) != 1 || len(a.Pipe.Cmds[0].Args) != 1 {
		return false
	}
	id, ok := a.Pipe.Cmds[0].Args[0].(*parse.IdentifierNode)
	return ok && id.Ident == tick
}

// Output is a rendered template.
type Output struct {
	Title string
	Body  string
}

// Execute renders the template within the bounds; the error says which bound or what failed.
func (t *Template) Execute(d *Data) (Output, error) {
	return t.execute(d, time.Now().Add(MaxDuration))
}

func (t *Template) execute(d *Data, deadline time.Time) (Output, error) {
	r, err := t.clone(deadline)
	if err != nil {
		return Output{}, err
	}
	defer t.done(r)
	var out Output
	for _, part := range []struct {
		name  string
		limit int
		dst   *string
	}{{"title", MaxTitleBytes, &out.Title}, {"body", MaxBodyBytes, &out.Body}} {
		w := &limitedBuffer{limit: part.limit}
		if err := r.set.ExecuteTemplate(w, part.name, d); err != nil {
			return out, executionError(part.name, err)
		}
		if time.Now().After(deadline) {
			return out, fmt.Errorf("%s: %w: it ran out of its time", part.name, ErrBound)
		}
		*part.dst = strings.ToValidUTF8(w.String(), "\uFFFD")
	}
	return out, nil
}

// clone is the template for one execution with its budget: a pooled clone, or a new one. The
// parsed original is never executed, so clones can be made from it concurrently.
func (t *Template) clone(deadline time.Time) (*run, error) {
	if r, ok := t.runs.Get().(*run); ok {
		r.steps, r.deadline, r.data = 0, deadline, 0
		return r, nil
	}
	set, err := t.set.Clone()
	if err != nil {
		return nil, fmt.Errorf("clone template: %w", err)
	}
	r := &run{set: set, deadline: deadline}
	set.Funcs(r.funcMap())
	return r, nil
}

// step counts one loop iteration, template call or function call of the run, and checks its time.
func (r *run) step() (string, error) {
	r.steps++
	if r.steps > maxSteps {
		return "", fmt.Errorf("%w: more than %d loop iterations, template and function calls", ErrBound, maxSteps)
	}
	if r.steps%16 == 0 && time.Now().After(r.deadline) {
		return "", fmt.Errorf("%w: it ran out of its time", ErrBound)
	}
	return "", nil
}

// done returns a clone to the pool once its execution is over.
func (t *Template) done(r *run) { t.runs.Put(r) }

// executionError says what stopped a part in words for the note a reader sees: a bound by what it
// was, without text/template's frames (which name Herald's instrumentation); any other failure
// with its position and expression.
func executionError(part string, err error) error {
	switch {
	case errors.Is(err, errOutputLimit):
		return fmt.Errorf("%s: %w: %w", part, ErrBound, errOutputLimit)
	case errors.Is(err, errTooLarge):
		return fmt.Errorf("%s: %w: %s", part, ErrBound, afterCall(err))
	case errors.Is(err, ErrBound):
		return fmt.Errorf("%s: %w%s", part, ErrBound, strings.TrimPrefix(afterCall(err), ErrBound.Error()))
	}
	return fmt.Errorf("%s: %s", part, strings.TrimPrefix(err.Error(), "template: "))
}

// afterCall is the error a function raised, without text/template's "executing … error calling X:".
func afterCall(err error) string {
	msg := err.Error()
	if _, rest, ok := strings.Cut(msg, "error calling "); ok {
		if name, why, ok := strings.Cut(rest, ": "); ok {
			if name == tick || strings.HasPrefix(why, name+": ") {
				return strings.TrimPrefix(why, name+": ")
			}
			return why + " (" + name + ")"
		}
	}
	return msg
}

// errOutputLimit is an output that passed its limit (the limit is in the part's name: title or body).
var errOutputLimit = errors.New("its output passed the limit (64 KiB for the body, 4 KiB for the title)")

// limitedBuffer fails the write that would pass the limit, which stops the execution.
type limitedBuffer struct {
	bytes.Buffer
	limit int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.limit {
		return 0, errOutputLimit
	}
	return b.Buffer.Write(p)
}

// text/template reports "template: name:LINE: message" (sometimes "name:LINE:COL:"); the column is
// found from the token the message quotes when it gives none.
var (
	errorPosition = regexp.MustCompile(`^template: [^:]*:(\d+):(?:(\d+):)?\s*(.*)$`)
	quotedToken   = regexp.MustCompile(`"([^"]+)"|<([^>]+)>|'([^']+)'`)
)

func syntaxError(field, src string, err error) *SyntaxError {
	e := &SyntaxError{Field: field, Line: 1, Column: 1, Msg: err.Error()}
	m := errorPosition.FindStringSubmatch(err.Error())
	if m == nil {
		return e
	}
	e.Line, _ = strconv.Atoi(m[1])
	e.Msg = m[3]
	if m[2] != "" {
		e.Column, _ = strconv.Atoi(m[2])
		return e
	}
	lines := strings.Split(src, "\n")
	if e.Line < 1 || e.Line > len(lines) {
		return e
	}
	e.Column = columnOf(lines[e.Line-1], e.Msg, failingAction(src, lines, e.Line))
	return e
}

// failingAction finds the action of a line that the error is about: the first whose end, parsed
// with everything before it, fails other than by ending early. -1 when none does (the error is
// about the end, an unclosed block).
func failingAction(src string, lines []string, line int) int {
	start := 0
	for _, l := range lines[:line-1] {
		start += len(l) + 1
	}
	for i, a := range actionSpans(lines[line-1]) {
		_, err := template.New("probe").Funcs(library).Funcs(template.FuncMap{tick: func() string { return "" }}).
			Parse(src[:start+a[1]])
		if err == nil {
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, "unexpected EOF") || strings.Contains(msg, "unclosed action") {
			continue
		}
		if m := errorPosition.FindStringSubmatch(msg); m != nil && m[1] == strconv.Itoa(line) {
			return i
		}
	}
	return -1
}

// columnOf is the 1-based column of an error on a line: the token the message quotes inside the
// failing action (or, when it is not known, the first action holding it), else that action, else
// the last action opened on the line, else the start.
func columnOf(line, msg string, failing int) int {
	actions := actionSpans(line)
	if failing >= 0 {
		actions = actions[failing : failing+1]
	}
	if q := quotedToken.FindStringSubmatch(msg); q != nil {
		token := q[1] + q[2] + q[3]
		for _, a := range actions {
			// A stray "}" is the one that does not close the action.
			span := line[a[0]:a[1]]
			if token == "}" {
				span = strings.TrimSuffix(span, "}}")
			}
			if i := strings.LastIndex(span, token); i >= 0 && token == "}" {
				return utf8.RuneCountInString(line[:a[0]+i]) + 1
			} else if i := strings.Index(span, token); i >= 0 {
				return utf8.RuneCountInString(line[:a[0]+i]) + 1
			}
		}
	}
	if len(actions) > 0 {
		return utf8.RuneCountInString(line[:actions[len(actions)-1][0]]) + 1
	}
	return 1
}

// actionSpans are the byte ranges of the actions that start on a line ("{{" to "}}" or the end).
func actionSpans(line string) [][2]int {
	var out [][2]int
	for i := 0; i < len(line); {
		start := strings.Index(line[i:], "{{")
		if start < 0 {
			break
		}
		start += i
		end := strings.Index(line[start:], "}}")
		if end < 0 {
			out = append(out, [2]int{start, len(line)})
			break
		}
		out = append(out, [2]int{start, start + end + 2})
		i = start + end + 2
	}
	return out
}

package templates

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/Masterminds/sprig/v3"
	"github.com/heraldhq/herald/senders"
)

// The function library is sprig's text functions, the names Alertmanager's templates use, and
// nothing that reads the environment, the file system or the network, makes randomness (a preview
// would then differ from the message), or spends seconds of CPU on purpose (bcrypt, key
// generation). Every function is wrapped, per execution, so that each call counts against the
// execution's steps and time, and no call can build a value larger than a message could ever hold:
// a template may not exhaust memory or time on the way to its output bound.

// left out of sprig's library, by reason.
var excluded = []string{
	// environment, network, file paths of this machine
	"env", "expandenv", "getHostByName", "osBase", "osClean", "osDir", "osExt", "osIsAbs",
	// randomness: a preview would not be what is sent
	"randAlphaNum", "randAlpha", "randAscii", "randNumeric", "randInt", "randBytes", "shuffle", "uuidv4",
	// cryptography that costs CPU by design, or keys that do not belong in a chat message
	"bcrypt", "htpasswd", "genPrivateKey", "derivePassword", "buildCustomCert", "genCA", "genCAWithKey",
	"genSelfSignedCert", "genSelfSignedCertWithKey", "genSignedCert", "genSignedCertWithKey",
	"encryptAES", "decryptAES",
	// quadratic in their input (go-utils' word wrapping)
	"wrap", "wrapWith",
}

// Bounds on what one function call may make.
const (
	maxValueBytes = 1 << 20 // a string
	maxItems      = 10000   // a list or a map, and an integer range (until, seq)
	// maxWeight bounds a value as printing it would spell it out: a list holding one list twice
	// counts it twice, so that a structure doubled by sharing (append $x $x) or made cyclic (set)
	// is refused before fmt or toJson expands it.
	maxWeight = 4 << 20
)

// errTooLarge is a function's result beyond the bounds.
var errTooLarge = errors.New("a value would exceed what a message can hold")

// library is every function a template may call, before wrapping.
var library = buildLibrary()

func buildLibrary() template.FuncMap {
	m := sprig.TxtFuncMap()
	for _, name := range excluded {
		delete(m, name)
	}
	// Alertmanager's names (its template package's DefaultFuncs), for its users' templates.
	m["toUpper"] = strings.ToUpper
	m["toLower"] = strings.ToLower
	m["trimSpace"] = strings.TrimSpace
	m["match"] = regexp.MatchString
	m["reReplaceAll"] = func(pattern, repl, text string) (string, error) {
		re, err := regexp.Compile(pattern)
		if err != nil {
			return "", err
		}
		if err := checkReplace(len(text), len(repl)); err != nil {
			return "", err
		}
		return re.ReplaceAllString(text, repl), nil
	}
	m["safeHtml"] = func(s string) string { return s }
	m["safeUrl"] = func(s string) string { return s }
	m["stringSlice"] = func(s ...string) []string { return s }
	m["tz"] = func(name string, t time.Time) (time.Time, error) {
		loc, err := Location(name)
		if err != nil {
			return time.Time{}, err
		}
		return t.In(loc), nil
	}
	m["since"] = time.Since
	m["humanizeDuration"] = humanizeDuration
	m["oneLine"] = senders.OneLine
	m["fenceless"] = Fenceless
	m["linkTarget"] = LinkTarget

	// sprig's amplifiers, bounded before they allocate.
	// Each compares by division, which cannot overflow as a product of two counts can.
	m["repeat"] = func(count int, s string) (string, error) {
		if count < 0 || count > maxValueBytes/max(len(s), 1) {
			return "", errTooLarge
		}
		return strings.Repeat(s, count), nil
	}
	indent := func(spaces int, s string) (string, error) {
		if spaces < 0 || spaces > maxValueBytes || spaces > (maxValueBytes-len(s))/(strings.Count(s, "\n")+1) {
			return "", errTooLarge
		}
		pad := strings.Repeat(" ", spaces)
		return pad + strings.ReplaceAll(s, "\n", "\n"+pad), nil
	}
	m["indent"] = indent
	m["nindent"] = func(spaces int, s string) (string, error) {
		out, err := indent(spaces, s)
		return "\n" + out, err
	}
	m["replace"] = func(old, repl, s string) (string, error) {
		if old == "" {
			if err := checkReplace(len(s), len(repl)); err != nil {
				return "", err
			}
		} else if n := strings.Count(s, old); len(s)+n*len(repl) > maxValueBytes {
			return "", errTooLarge
		}
		return strings.ReplaceAll(s, old, repl), nil
	}
	for _, name := range []string{"regexReplaceAll", "mustRegexReplaceAll", "regexReplaceAllLiteral", "mustRegexReplaceAllLiteral"} {
		literal := strings.HasSuffix(name, "Literal")
		m[name] = func(pattern, s, repl string) (string, error) {
			re, err := regexp.Compile(pattern)
			if err != nil {
				return "", err
			}
			if err := checkReplace(len(s), len(repl)); err != nil {
				return "", err
			}
			if literal {
				return re.ReplaceAllLiteralString(s, repl), nil
			}
			return re.ReplaceAllString(s, repl), nil
		}
	}
	// Regular expressions cost the pattern's size times the text's: both are bounded.
	for _, name := range []string{"regexMatch", "mustRegexMatch", "regexFind", "mustRegexFind", "regexFindAll",
		"mustRegexFindAll", "regexSplit", "mustRegexSplit", "regexReplaceAll", "mustRegexReplaceAll",
		"regexReplaceAllLiteral", "mustRegexReplaceAllLiteral", "match", "reReplaceAll"} {
		regexFuncs[name] = true
	}
	// uniq compares every pair: a set makes it linear.
	uniq := func(list any) ([]any, error) {
		v := reflect.ValueOf(list)
		if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
			return nil, fmt.Errorf("uniq takes a list, not %T", list)
		}
		seen := map[any]bool{}
		var out []any
		for i := range v.Len() {
			item := v.Index(i).Interface()
			key := item
			if !reflect.ValueOf(item).Comparable() {
				key = fmt.Sprintf("%#v", item)
			}
			if !seen[key] {
				seen[key] = true
				out = append(out, item)
			}
		}
		return out, nil
	}
	m["uniq"] = func(list any) []any { out, _ := uniq(list); return out }
	m["mustUniq"] = uniq
	m["until"] = func(n int) ([]int, error) { return intRange(0, n, 1) }
	m["untilStep"] = intRange
	m["seq"] = func(params ...int) (string, error) {
		start, end, step := 1, 0, 1
		switch len(params) {
		case 1:
			end = params[0]
		case 2:
			start, end = params[0], params[1]
			if end < start {
				step = -1
			}
		case 3:
			start, step, end = params[0], params[1], params[2]
		default:
			return "", errors.New("seq takes one to three numbers")
		}
		if step == 0 {
			return "", errors.New("seq: step must not be 0")
		}
		stop := end + 1
		if step < 0 {
			stop = end - 1
		}
		ns, err := intRange(start, stop, step)
		if err != nil {
			return "", err
		}
		parts := make([]string, len(ns))
		for i, n := range ns {
			parts[i] = fmt.Sprint(n)
		}
		return strings.Join(parts, " "), nil
	}
	// The printing and escaping builtins, replaced so that they are steps with bounded results like
	// every other function, and a width or precision cannot allocate gigabytes.
	m["printf"] = func(format string, args ...any) (string, error) {
		if err := checkVerbs(format); err != nil {
			return "", err
		}
		return fmt.Sprintf(format, args...), nil
	}
	m["print"] = fmt.Sprint
	m["println"] = fmt.Sprintln
	m["html"] = template.HTMLEscaper
	m["js"] = template.JSEscaper
	m["urlquery"] = template.URLQueryEscaper

	return m
}

// checkReplace bounds a replacement that may insert repl at every position of a text.
func checkReplace(textBytes, replBytes int) error {
	if textBytes*(replBytes+1)+replBytes > 4*maxValueBytes {
		return errTooLarge
	}
	return nil
}

func intRange(start, stop, step int) ([]int, error) {
	if step == 0 {
		return nil, errors.New("step must not be 0")
	}
	// In floating point: stop-start may overflow an int.
	n := math.Ceil((float64(stop) - float64(start)) / float64(step))
	if n > maxItems {
		return nil, errTooLarge
	}
	out := make([]int, 0, max(int(n), 0))
	for i := 0; i < int(n); i++ {
		out = append(out, start+i*step)
	}
	return out, nil
}

// verbs finds a format's verbs with their flags, argument indexes, widths and precisions.
var verbs = regexp.MustCompile(`%[-+# 0]*(\[\d*\])?(\d*|\*)(?:\.(\[\d*\])?(\d*|\*))?`)

// checkVerbs refuses what lets a format spell out more than it holds: a width or precision given
// as an argument (*, which may also be indexed), or written with more than three digits.
func checkVerbs(format string) error {
	if len(format) > maxValueBytes/1000 && strings.Count(format, "%") > 0 {
		return errTooLarge
	}
	for _, m := range verbs.FindAllStringSubmatch(format, -1) {
		for _, n := range []string{m[2], m[4]} {
			if n == "*" || len(n) > 3 {
				return fmt.Errorf("printf: a width or precision is at most 999, written in the format: %w", errTooLarge)
			}
		}
	}
	return nil
}

// humanizeDuration shows a duration (or a number of seconds) to people, rounded to the second.
func humanizeDuration(v any) (string, error) {
	switch d := v.(type) {
	case time.Duration:
		return d.Round(time.Second).String(), nil
	case int:
		return (time.Duration(d) * time.Second).String(), nil
	case int64:
		return (time.Duration(d) * time.Second).String(), nil
	case float64:
		return time.Duration(d * float64(time.Second)).Round(time.Second).String(), nil
	}
	return "", fmt.Errorf("humanizeDuration takes a duration or seconds, not %T", v)
}

var errorType = reflect.TypeFor[error]()

// regexFuncs take a pattern first; the pattern times the other strings bounds their cost.
var regexFuncs = map[string]bool{}

// maxRegexWork bounds a regular expression call: pattern bytes times text bytes.
const maxRegexWork = 20_000_000

// funcMap is the library wrapped for one run: each call is a step of the run, and a result too
// large for any message stops the template instead of growing further. A call is the only way a
// value grows, so checking each result bounds them all.
func (r *run) funcMap() template.FuncMap {
	m := make(template.FuncMap, len(library)+1)
	for name, f := range library {
		m[name] = r.bounded(name, f)
	}
	m[tick] = r.step
	return m
}

// fail stops the template from inside a function: text/template turns the panic into its error.
func fail(name string, err error) { panic(fmt.Errorf("%s: %w", name, err)) }

func (r *run) bounded(name string, f any) any {
	fv := reflect.ValueOf(f)
	ft := fv.Type()
	if ft.Kind() != reflect.Func {
		return f
	}
	grows := mayGrow(ft)
	// The common shapes without a second reflective call: the template already calls through
	// reflection once.
	tooBig := func(s string) {
		if len(s) > maxValueBytes {
			fail(name, errTooLarge)
		}
	}
	// call is a step, and refuses inputs that could make a large result however linear the
	// function: the printing functions take any number of arguments.
	call := func(args ...reflect.Value) {
		if _, err := r.step(); err != nil {
			fail(name, err)
		}
		budget := maxWeight
		for _, a := range args {
			if budget = r.weigh(a, budget, 0); budget < 0 {
				fail(name, errTooLarge)
			}
		}
		if regexFuncs[name] && len(args) > 0 && args[0].Kind() == reflect.String {
			if args[0].Len()*(maxWeight-budget) > maxRegexWork {
				fail(name, fmt.Errorf("the pattern and the text are too long for each other: %w", errTooLarge))
			}
		}
	}
	str := reflect.ValueOf
	switch f := f.(type) {
	case func(string) string:
		return func(s string) string { call(str(s)); v := f(s); tooBig(v); return v }
	case func(...any) string:
		return func(args ...any) string { call(str(args)); v := f(args...); tooBig(v); return v }
	case func(string, string) string:
		return func(a, b string) string { call(str(a), str(b)); v := f(a, b); tooBig(v); return v }
	case func(string, ...any) (string, error):
		return func(a string, args ...any) (string, error) {
			call(str(a), str(args))
			v, err := f(a, args...)
			tooBig(v)
			return v, err
		}
	}
	return reflect.MakeFunc(ft, func(args []reflect.Value) []reflect.Value {
		call(args...)
		var out []reflect.Value
		if ft.IsVariadic() {
			out = fv.CallSlice(args)
		} else {
			out = fv.Call(args)
		}
		if grows {
			for _, v := range out {
				if v.Type() != errorType && r.tooLarge(v) {
					fail(name, errTooLarge)
				}
			}
		}
		return out
	}).Interface()
}

// mayGrow reports whether a function returns something that can be large: a string, a list, a
// map, or any value (numbers, booleans and times cannot).
func mayGrow(ft reflect.Type) bool {
	for i := range ft.NumOut() {
		switch ft.Out(i).Kind() {
		case reflect.String, reflect.Slice, reflect.Map, reflect.Array, reflect.Interface, reflect.Pointer:
			if ft.Out(i) != errorType {
				return true
			}
		}
	}
	return false
}

func (r *run) tooLarge(v reflect.Value) bool {
	for range maxDepth {
		if (v.Kind() != reflect.Interface && v.Kind() != reflect.Pointer) || v.IsNil() {
			break
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.String:
		return v.Len() > maxValueBytes
	case reflect.Slice, reflect.Map, reflect.Array:
		if v.Len() > maxItems {
			return true
		}
	}
	return r.weigh(v, maxWeight, 0) < 0
}

// maxDepth bounds the nesting weigh follows: a message's data is a few levels deep, and a cycle is
// caught here long before its weight is spent.
const maxDepth = 64

var dataType = reflect.TypeFor[*Data]()

// weigh subtracts from budget what v weighs spelled out (an item each, a string's bytes); below
// zero, v is too heavy. The data is weighed once per run, not at every call that is given it
// (dict "Data" $), while two references to it still weigh twice.
func (r *run) weigh(v reflect.Value, budget, depth int) int {
	return budget - (&scale{run: r, limit: budget}).of(v, depth)
}

// dataWeightOf is the weight of the run's data, weighed the first time it is met.
func (r *run) dataWeightOf(v reflect.Value) int {
	if r.data != v.Pointer() {
		r.data, r.dataWeight = v.Pointer(), (&scale{limit: maxWeight}).of(v.Elem(), 0)
	}
	return r.dataWeight
}

// scale weighs one value as printing would spell it out: a list held twice weighs twice, so that a
// structure doubled by sharing (append $x $x, forty times) is too heavy. A list or map met again
// is not walked again, its weight remembered, so that weighing it costs its distinct parts; one
// met inside itself (a cycle) is too heavy. Weights stop just past the limit.
type scale struct {
	run    *run // nil while weighing the data itself
	limit  int
	known  map[shared]int
	inside map[shared]bool
}

type shared struct {
	ptr  uintptr
	size int
}

// of returns v's weight, or more than the limit once it passes it.
func (s *scale) of(v reflect.Value, depth int) int {
	if depth > maxDepth {
		return s.limit + 1
	}
	switch v.Kind() {
	case reflect.String:
		return min(v.Len()+1, s.limit+1)
	case reflect.Slice, reflect.Map:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			return min(v.Len()+1, s.limit+1)
		}
		if v.IsNil() {
			return 1
		}
		key := shared{v.Pointer(), v.Len()}
		if w, ok := s.known[key]; ok {
			return w
		}
		if s.inside[key] {
			return s.limit + 1
		}
		if s.known == nil {
			s.known, s.inside = map[shared]int{}, map[shared]bool{}
		}
		s.inside[key] = true
		w := s.elements(v, depth)
		delete(s.inside, key)
		s.known[key] = w
		return w
	case reflect.Array:
		return s.elements(v, depth)
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return 1
		}
		if s.run != nil && v.Type() == dataType {
			return min(s.run.dataWeightOf(v), s.limit+1)
		}
		return min(1+s.of(v.Elem(), depth+1), s.limit+1)
	case reflect.Struct:
		// By the exported fields, which are what printing shows (a time has none).
		w := 1
		t := v.Type()
		for i := 0; i < v.NumField() && w <= s.limit; i++ {
			if t.Field(i).IsExported() {
				w += s.of(v.Field(i), depth+1)
			}
		}
		return min(w, s.limit+1)
	}
	return 1 // numbers, booleans, functions
}

func (s *scale) elements(v reflect.Value, depth int) int {
	w := 1
	if v.Kind() == reflect.Map {
		it := v.MapRange()
		for w <= s.limit && it.Next() {
			w += s.of(it.Key(), depth+1) + s.of(it.Value(), depth+1)
		}
	} else {
		for i := 0; i < v.Len() && w <= s.limit; i++ {
			w += s.of(v.Index(i), depth+1)
		}
	}
	return min(w, s.limit+1)
}

// locations caches time zones: loading one reads the zone database, which a template calling tz
// for each alert would otherwise do for each alert.
var locations sync.Map

// Location is the IANA zone name (cached).
func Location(name string) (*time.Location, error) {
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locations.Store(name, l)
	return l, nil
}

package templates

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"text/template"
	"time"

	"github.com/Masterminds/sprig/v3"
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
		loc, err := time.LoadLocation(name)
		if err != nil {
			return time.Time{}, err
		}
		return t.In(loc), nil
	}
	m["since"] = time.Since
	m["humanizeDuration"] = humanizeDuration
	m["oneLine"] = OneLine
	m["fenceless"] = Fenceless
	m["linkTarget"] = LinkTarget

	// sprig's amplifiers, bounded before they allocate.
	m["repeat"] = func(count int, s string) (string, error) {
		if count < 0 || count*max(len(s), 1) > maxValueBytes {
			return "", errTooLarge
		}
		return strings.Repeat(s, count), nil
	}
	indent := func(spaces int, s string) (string, error) {
		if spaces < 0 || spaces*(strings.Count(s, "\n")+1)+len(s) > maxValueBytes {
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
	// The printing builtins, replaced so that a width or precision cannot allocate gigabytes.
	m["printf"] = func(format string, args ...any) (string, error) {
		if err := checkVerbs(format, args); err != nil {
			return "", err
		}
		return fmt.Sprintf(format, args...), nil
	}
	m["print"] = fmt.Sprint
	m["println"] = fmt.Sprintln

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
	n := (stop - start) / step
	if (stop-start)%step != 0 {
		n++
	}
	if n > maxItems {
		return nil, errTooLarge
	}
	out := make([]int, 0, max(n, 0))
	for i := start; (step > 0 && i < stop) || (step < 0 && i > stop); i += step {
		out = append(out, i)
	}
	return out, nil
}

// widths finds the numbers of a format's verbs (width and precision).
var widths = regexp.MustCompile(`%[-+# 0]*(\d*|\*)(?:\.(\d*|\*))?`)

func checkVerbs(format string, args []any) error {
	for _, m := range widths.FindAllStringSubmatch(format, -1) {
		for _, n := range m[1:] {
			if n == "*" {
				for _, a := range args {
					if i, ok := a.(int); ok && (i > 1000 || i < -1000) {
						return errTooLarge
					}
				}
				continue
			}
			if len(n) > 3 {
				return errTooLarge
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
	call := func() {
		if _, err := r.step(); err != nil {
			fail(name, err)
		}
	}
	switch f := f.(type) {
	case func(string) string:
		return func(s string) string { call(); v := f(s); tooBig(v); return v }
	case func(...any) string:
		return func(args ...any) string { call(); v := f(args...); tooBig(v); return v }
	case func(string, string) string:
		return func(a, b string) string { call(); v := f(a, b); tooBig(v); return v }
	case func(string, ...any) (string, error):
		return func(a string, args ...any) (string, error) {
			call()
			v, err := f(a, args...)
			tooBig(v)
			return v, err
		}
	}
	return reflect.MakeFunc(ft, func(args []reflect.Value) []reflect.Value {
		call()
		var out []reflect.Value
		if ft.IsVariadic() {
			out = fv.CallSlice(args)
		} else {
			out = fv.Call(args)
		}
		if grows {
			for _, v := range out {
				if v.Type() != errorType && tooLarge(v) {
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

func tooLarge(v reflect.Value) bool {
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
	return weigh(v, maxWeight, 0) < 0
}

// maxDepth bounds the nesting weigh follows: a message's data is a few levels deep, and a cycle is
// caught here long before its weight is spent.
const maxDepth = 64

// weigh subtracts from budget what v weighs spelled out (an item each, a string's bytes), stopping
// once the budget is spent; a cycle spends it too.
func weigh(v reflect.Value, budget, depth int) int {
	if budget < 0 || depth > maxDepth {
		return -1
	}
	switch v.Kind() {
	case reflect.String:
		return budget - v.Len() - 1
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			return budget - v.Len() - 1
		}
		budget--
		for i := 0; i < v.Len() && budget >= 0; i++ {
			budget = weigh(v.Index(i), budget, depth+1)
		}
		return budget
	case reflect.Map:
		budget--
		it := v.MapRange()
		for budget >= 0 && it.Next() {
			budget = weigh(it.Value(), weigh(it.Key(), budget, depth+1), depth+1)
		}
		return budget
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return budget - 1
		}
		return weigh(v.Elem(), budget-1, depth+1)
	}
	// Numbers, booleans, and structs (which only the data and sprig's parsers make, never from
	// a template's own values).
	return budget - 1
}

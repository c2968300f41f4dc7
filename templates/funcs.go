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
// generation). Every function is wrapped so that no call can build a value larger than a message
// could ever hold: a template may not exhaust memory on the way to its output bound.

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
)

// errTooLarge is a function's result beyond the bounds.
var errTooLarge = errors.New("a value would exceed what a message can hold")

var funcs = buildFuncs()

func buildFuncs() template.FuncMap {
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

	for name, f := range m {
		m[name] = bounded(name, f)
	}
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

// bounded wraps f so that a result too large for any message stops the template instead of
// growing further; a call is the only way a value grows, so checking each result bounds them all.
func bounded(name string, f any) any {
	fv := reflect.ValueOf(f)
	ft := fv.Type()
	if ft.Kind() != reflect.Func || !mayGrow(ft) {
		return f
	}
	// The common shapes without a second reflective call: the template already calls through
	// reflection once.
	tooBig := func(s string) {
		if len(s) > maxValueBytes {
			panic(fmt.Errorf("%s: %w", name, errTooLarge))
		}
	}
	switch f := f.(type) {
	case func(string) string:
		return func(s string) string { r := f(s); tooBig(r); return r }
	case func(...any) string:
		return func(args ...any) string { r := f(args...); tooBig(r); return r }
	case func(string, string) string:
		return func(a, b string) string { r := f(a, b); tooBig(r); return r }
	case func(string, ...any) (string, error):
		return func(a string, args ...any) (string, error) {
			r, err := f(a, args...)
			tooBig(r)
			return r, err
		}
	}
	check := func(out []reflect.Value) []reflect.Value {
		for _, v := range out {
			if v.Type() == errorType {
				continue
			}
			if tooLarge(v) {
				// text/template turns a function's panic into the template's error.
				panic(fmt.Errorf("%s: %w", name, errTooLarge))
			}
		}
		return out
	}
	return reflect.MakeFunc(ft, func(args []reflect.Value) []reflect.Value {
		if ft.IsVariadic() {
			return check(fv.CallSlice(args))
		}
		return check(fv.Call(args))
	}).Interface()
}

// mayGrow reports whether a function returns something that can be large: a string, a list, a
// map, or any value (numbers, booleans and times cannot).
func mayGrow(ft reflect.Type) bool {
	for i := range ft.NumOut() {
		switch ft.Out(i).Kind() {
		case reflect.String, reflect.Slice, reflect.Map, reflect.Array, reflect.Interface:
			if ft.Out(i) != errorType {
				return true
			}
		}
	}
	return false
}

func tooLarge(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String:
		return v.Len() > maxValueBytes
	case reflect.Slice, reflect.Map, reflect.Array:
		return v.Len() > maxItems
	case reflect.Interface:
		if v.IsNil() {
			return false
		}
		return tooLarge(v.Elem())
	}
	return false
}

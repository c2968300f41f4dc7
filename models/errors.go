package models

import (
	"errors"
	"fmt"
)

// Kind says what a client can do about an error; the API maps each kind to one extensions.code.
type Kind int

const (
	// KindInvalid: the input breaks a rule; fix the named field.
	KindInvalid Kind = iota + 1
	// KindNotFound: an id or name does not exist.
	KindNotFound
	// KindConflict: a unique name is taken.
	KindConflict
	// KindForbidden: the caller's token may not act here.
	KindForbidden
)

// Error is a client-facing failure. Field is the input path relative to the argument
// (for example "webhooks[1].url"); the API prefixes the argument name.
type Error struct {
	Kind    Kind
	Field   string
	Message string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Invalid is a BAD_USER_INPUT error on field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFound says that the id or name given for field names nothing.
func NotFound(field, what, id string) *Error {
	return &Error{Kind: KindNotFound, Field: field, Message: fmt.Sprintf("%s %q does not exist", what, id)}
}

func conflict(field, format string, args ...any) *Error {
	return &Error{Kind: KindConflict, Field: field, Message: fmt.Sprintf(format, args...)}
}

// AtField moves a client-facing error to field (the argument it came from); other errors pass.
func AtField(field string, err error) error {
	if e, ok := AsError(err); ok {
		return &Error{Kind: e.Kind, Field: field, Message: e.Message}
	}
	return err
}

// AsError returns the client-facing error inside err, if there is one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsNotFound reports whether err says that something does not exist.
func IsNotFound(err error) bool {
	e, ok := AsError(err)
	return ok && e.Kind == KindNotFound
}

func indexed(field string, i int) string { return fmt.Sprintf("%s[%d]", field, i) }

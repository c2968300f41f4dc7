package models

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"

	gomysql "github.com/go-sql-driver/mysql"
)

func TestOnlyALostDatabaseIsUnavailable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for err, want := range map[error]bool{
		fmt.Errorf("look for tokens: %w", refused):              true,
		fmt.Errorf("update: %w", gomysql.ErrInvalidConn):        true,
		&gomysql.MySQLError{Number: 1053, Message: "shutdown"}:  true,
		fmt.Errorf("query: %w", context.DeadlineExceeded):       false,
		fmt.Errorf("query: %w", context.Canceled):               false,
		&gomysql.MySQLError{Number: 1205, Message: "lock wait"}: false,
		&gomysql.MySQLError{Number: 1062, Message: "duplicate"}: false,
		errors.New("record delivery result: no such table"):     false,
	} {
		if got := IsUnavailable(err); got != want {
			t.Errorf("IsUnavailable(%v) = %v, want %v", err, got, want)
		}
	}
}

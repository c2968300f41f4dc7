package models

import (
	"database/sql/driver"
	"fmt"
	"strings"

	gosqlite "github.com/glebarez/go-sqlite"
	"gorm.io/gorm"
)

// A search over free text (an alert's title) folds letter case the way names are folded (NameKey)
// on both databases. SQLite's own LOWER folds ASCII only, so it gets herald_fold, NameKey itself;
// MySQL's LOWER(UPPER()) folds every script, and a binary collation keeps its accent-insensitive
// default collation out of the comparison, so that é and e differ there as they do in SQLite.

func init() {
	err := gosqlite.RegisterDeterministicScalarFunction("herald_fold", 1,
		func(_ *gosqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			switch v := args[0].(type) {
			case string:
				return NameKey(v), nil
			case []byte:
				return NameKey(string(v)), nil
			default:
				return v, nil
			}
		})
	if err != nil {
		panic(fmt.Sprintf("register herald_fold: %v", err))
	}
}

// FoldedContains is a condition that column holds term's folded text (a substring, ignoring
// letter case as names do), for Where; "" when term is only spaces.
func FoldedContains(db *gorm.DB, column, term string) (string, string) {
	key := NameKey(strings.TrimSpace(term))
	if key == "" {
		return "", ""
	}
	if IsMySQL(db) {
		return "LOWER(UPPER(" + column + ")) COLLATE utf8mb4_bin LIKE ? ESCAPE '!'", ContainsPattern(key)
	}
	return "herald_fold(" + column + ") LIKE ? ESCAPE '!'", ContainsPattern(key)
}

// ContainsPattern is the LIKE pattern of the substring s. '!' is the escape character because a
// backslash means different things in MySQL and SQLite literals.
func ContainsPattern(s string) string {
	return "%" + strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(s) + "%"
}

package models

import (
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"
)

// The contact name search is a substring match on the name key. A LIKE '%term%' cannot use an
// index, so at 100,000 contacts every search read every name of the namespace for its count.
//
// contact_name_trigrams holds, for each contact and each distinct run of three characters
// (trigram) of its name key, a row keyed by (trigram, namespace, name key) that carries the key
// and the contact's id. Every key holding the term holds each of the term's trigrams, so the rows of
// any one of them are a superset of the answer, and the LIKE on the key they carry makes it exact
// without reading the contacts: a count reads one range of the index, and a page walks it in name
// order and stops at the page. Only the page's rows are then read from contacts.
//
// The same table serves both databases (SQLite's FTS5 trigram index was measured and rejected: it
// answers row ids in no useful order and without the namespace, so each match cost a random read of
// contacts, slower at 2% of 100,000 names than the LIKE it replaced). Triggers keep the index in
// step with every write to contacts, whoever makes it (Herald, an older replica during a rolling
// upgrade, herald-bench's seeder), at no statement of Herald's own.
//
// A term of one or two characters has no trigram: it keeps the LIKE alone, which walks the name
// index in page order and stops at the page, and reads every name of the namespace for its count.
const contactNameTrigrams = "contact_name_trigrams"

// trigramsReady marks, as the MySQL table's comment, that the triggers exist and every contact
// written before them was indexed: set last, so that a migration interrupted before it is redone.
// A new version of the triggers changes it.
const trigramsReady = "herald contact name trigrams v1: complete"

// nameSearch is a contacts search that the index can serve: the key the names must contain, its
// LIKE pattern, and the one trigram whose rows are read.
type nameSearch struct {
	key, pattern, trigram string
}

// newNameSearch is the index's search for key, or false for a term too short to have a trigram.
func newNameSearch(key, pattern string) (nameSearch, bool) {
	grams := trigrams(key)
	if len(grams) == 0 {
		return nameSearch{}, false
	}
	return nameSearch{key: key, pattern: pattern, trigram: rarest(grams)}, true
}

// SearchTrigram is the trigram whose index rows a search for term reads, and false for a term too
// short to have one (or not a valid search): what a hand-written reader of the index, such as
// herald-bench's floor, reads too.
func SearchTrigram(term string) (string, bool) {
	key, pattern, err := cleanSearch("search", term)
	if err != nil || key == "" {
		return "", false
	}
	search, ok := newNameSearch(key, pattern)
	return search.trigram, ok
}

// rows narrows a query of contact_name_trigrams to the search's matches in namespace ns (0: any).
func (n nameSearch) rows(q *gorm.DB, ns uint) *gorm.DB {
	q = q.Where("trigram = ?", []byte(n.trigram))
	if ns != 0 {
		q = q.Where("namespace_id = ?", ns)
	}
	return q.Where("contact_key LIKE ? ESCAPE '!'", n.pattern)
}

// trigrams are the distinct runs of three characters of s: what SQL's SUBSTRING(s, i, 3) takes,
// characters being code points in utf8mb4 and in SQLite.
func trigrams(s string) []string {
	r := []rune(s)
	var out []string
	for i := 0; i+3 <= len(r); i++ {
		if g := string(r[i : i+3]); !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

// letterRank orders the letters from the most frequent in names: a trigram of rare letters has
// few rows to read. Any trigram gives the right answer; this one only decides how fast.
const letterRank = "eanirolstmhdcubgykvjfpwzxq"

// rarest picks the trigram whose characters are least frequent: spaces and frequent letters
// cost most, digits less, and characters outside ASCII least.
func rarest(grams []string) string {
	cost := func(g string) int {
		c := 0
		for _, r := range g {
			switch {
			case r == ' ':
				c += 40
			case r < 128 && strings.ContainsRune(letterRank, r):
				c += 30 - strings.IndexRune(letterRank, r)
			case r >= '0' && r <= '9':
				c += 8
			default:
				c += 2
			}
		}
		return c
	}
	best := grams[0]
	for _, g := range grams[1:] {
		if cost(g) < cost(best) {
			best = g
		}
	}
	return best
}

// migrateNameSearch creates the name search index with the triggers that maintain it, and indexes
// the contacts already there. It does nothing once done, so it runs on every start.
func migrateNameSearch(db *gorm.DB) error {
	if IsMySQL(db) {
		return migrateMySQLTrigrams(db)
	}
	return migrateSQLiteTrigrams(db)
}

// trigramPositions are the places a trigram can start in a name key (a name has at most 64
// characters), for the statements that cut a key into its trigrams: SQLite allows no loop and no
// WITH in a trigger.
const trigramPositions = "contact_name_trigram_positions"

// The SQLite triggers cut the key with trigramPositions; OR IGNORE drops a trigram the key holds
// twice. An update that changes neither key, id nor namespace changes nothing.
var sqliteTrigramTriggers = []struct{ name, sql string }{
	{"contacts_name_trigrams_insert", `CREATE TRIGGER contacts_name_trigrams_insert AFTER INSERT ON contacts BEGIN
  INSERT OR IGNORE INTO contact_name_trigrams (trigram, namespace_id, contact_key, contact_id)
    SELECT CAST(substr(new.name_key, n, 3) AS BLOB), new.namespace_id, new.name_key, new.id
    FROM contact_name_trigram_positions WHERE n <= length(new.name_key) - 2;
END`},
	{"contacts_name_trigrams_delete", `CREATE TRIGGER contacts_name_trigrams_delete AFTER DELETE ON contacts BEGIN
  DELETE FROM contact_name_trigrams WHERE namespace_id = old.namespace_id AND contact_key = old.name_key
    AND trigram IN (SELECT CAST(substr(old.name_key, n, 3) AS BLOB) FROM contact_name_trigram_positions WHERE n <= length(old.name_key) - 2);
END`},
	{"contacts_name_trigrams_update", `CREATE TRIGGER contacts_name_trigrams_update AFTER UPDATE OF id, namespace_id, name_key ON contacts
WHEN old.id IS NOT new.id OR old.namespace_id IS NOT new.namespace_id OR old.name_key IS NOT new.name_key BEGIN
  DELETE FROM contact_name_trigrams WHERE namespace_id = old.namespace_id AND contact_key = old.name_key
    AND trigram IN (SELECT CAST(substr(old.name_key, n, 3) AS BLOB) FROM contact_name_trigram_positions WHERE n <= length(old.name_key) - 2);
  INSERT OR IGNORE INTO contact_name_trigrams (trigram, namespace_id, contact_key, contact_id)
    SELECT CAST(substr(new.name_key, n, 3) AS BLOB), new.namespace_id, new.name_key, new.id
    FROM contact_name_trigram_positions WHERE n <= length(new.name_key) - 2;
END`},
}

// migrateSQLiteTrigrams does it all in one transaction (SQLite's DDL is transactional): a start
// that stops half-way leaves nothing behind, and the next does it all again.
func migrateSQLiteTrigrams(db *gorm.DB) error {
	err := db.Transaction(func(tx *gorm.DB) error {
		var have []string
		if err := tx.Raw("SELECT name FROM sqlite_master WHERE name IN (?, ?) OR (type = 'trigger' AND tbl_name = 'contacts')",
			contactNameTrigrams, trigramPositions).Scan(&have).Error; err != nil {
			return fmt.Errorf("look for the index: %w", err)
		}
		var missing []string
		for _, t := range sqliteTrigramTriggers {
			if !slices.Contains(have, t.name) {
				missing = append(missing, t.sql)
			}
		}
		if slices.Contains(have, contactNameTrigrams) && slices.Contains(have, trigramPositions) && len(missing) == 0 {
			return nil
		}
		// BLOB trigrams compare as bytes; the key copy compares as name_key does (BINARY).
		// WITHOUT ROWID: the rows are the index, in the order a search reads them.
		for _, ddl := range []string{
			"CREATE TABLE IF NOT EXISTS " + trigramPositions + " (n INTEGER PRIMARY KEY)",
			"INSERT OR IGNORE INTO " + trigramPositions + " (n) " + positionsSQL,
			"CREATE TABLE IF NOT EXISTS " + contactNameTrigrams + ` (
  trigram BLOB NOT NULL,
  namespace_id INTEGER NOT NULL,
  contact_key TEXT NOT NULL,
  contact_id INTEGER NOT NULL,
  PRIMARY KEY (trigram, namespace_id, contact_key)
) WITHOUT ROWID`,
		} {
			if err := tx.Exec(ddl).Error; err != nil {
				return fmt.Errorf("create the index: %w", err)
			}
		}
		for _, sql := range missing {
			if err := tx.Exec(sql).Error; err != nil {
				return fmt.Errorf("create trigger: %w", err)
			}
		}
		// Whatever was indexed before a trigger went missing may be stale: index every contact anew.
		if err := tx.Exec("DELETE FROM " + contactNameTrigrams).Error; err != nil {
			return fmt.Errorf("clear the index: %w", err)
		}
		if err := tx.Exec("INSERT OR IGNORE INTO " + contactNameTrigrams + " (trigram, namespace_id, contact_key, contact_id) " +
			"SELECT DISTINCT CAST(substr(c.name_key, p.n, 3) AS BLOB), c.namespace_id, c.name_key, c.id FROM contacts c JOIN " +
			trigramPositions + " p ON p.n <= length(c.name_key) - 2").Error; err != nil {
			return fmt.Errorf("index the contacts: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate the contact name search: %w", err)
	}
	return nil
}

// positionsSQL selects the numbers 1 to 70 without a table or a recursive WITH (MySQL 5.7 has none).
const positionsSQL = `SELECT t.d * 10 + u.d + 1 AS n FROM
  (SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6) t,
  (SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6
   UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) u`

// The MySQL triggers add and remove one contact's rows by primary key, one statement each inside
// the trigger. A trigram a key holds twice is inserted once (LOCATE finds its first place), and one
// left by the backfill is updated: never INSERT IGNORE, whose ignored duplicate makes MariaDB 10.11
// lose the rows before it of a multi-row INSERT into an empty contacts table with unique_checks and
// foreign_key_checks off (its bulk load, which herald-bench's seeder uses).
var mysqlTrigramTriggers = []struct{ name, sql string }{
	{"contacts_name_trigrams_insert", `CREATE TRIGGER contacts_name_trigrams_insert AFTER INSERT ON contacts FOR EACH ROW
BEGIN
  DECLARE i INT DEFAULT 1;
  WHILE i <= CHAR_LENGTH(NEW.name_key) - 2 DO
    IF LOCATE(SUBSTRING(NEW.name_key, i, 3), NEW.name_key) = i THEN
      INSERT INTO contact_name_trigrams (trigram, namespace_id, contact_key, contact_id)
        VALUES (SUBSTRING(NEW.name_key, i, 3), NEW.namespace_id, NEW.name_key, NEW.id)
        ON DUPLICATE KEY UPDATE contact_id = NEW.id;
    END IF;
    SET i = i + 1;
  END WHILE;
END`},
	{"contacts_name_trigrams_delete", `CREATE TRIGGER contacts_name_trigrams_delete AFTER DELETE ON contacts FOR EACH ROW
BEGIN
  DECLARE i INT DEFAULT 1;
  WHILE i <= CHAR_LENGTH(OLD.name_key) - 2 DO
    DELETE FROM contact_name_trigrams WHERE trigram = CAST(SUBSTRING(OLD.name_key, i, 3) AS BINARY)
      AND namespace_id = OLD.namespace_id AND contact_key = OLD.name_key;
    SET i = i + 1;
  END WHILE;
END`},
	// The keys are compared as bytes: utf8mb4_bin pads with spaces, and would call "a" and "a "
	// the same key.
	{"contacts_name_trigrams_update", `CREATE TRIGGER contacts_name_trigrams_update AFTER UPDATE ON contacts FOR EACH ROW
BEGIN
  DECLARE i INT DEFAULT 1;
  IF OLD.id <> NEW.id OR OLD.namespace_id <> NEW.namespace_id OR CAST(OLD.name_key AS BINARY) <> CAST(NEW.name_key AS BINARY) THEN
    WHILE i <= CHAR_LENGTH(OLD.name_key) - 2 DO
      DELETE FROM contact_name_trigrams WHERE trigram = CAST(SUBSTRING(OLD.name_key, i, 3) AS BINARY)
        AND namespace_id = OLD.namespace_id AND contact_key = OLD.name_key;
      SET i = i + 1;
    END WHILE;
    SET i = 1;
    WHILE i <= CHAR_LENGTH(NEW.name_key) - 2 DO
      IF LOCATE(SUBSTRING(NEW.name_key, i, 3), NEW.name_key) = i THEN
        INSERT INTO contact_name_trigrams (trigram, namespace_id, contact_key, contact_id)
          VALUES (SUBSTRING(NEW.name_key, i, 3), NEW.namespace_id, NEW.name_key, NEW.id)
          ON DUPLICATE KEY UPDATE contact_id = NEW.id;
      END IF;
      SET i = i + 1;
    END WHILE;
  END IF;
END`},
}

// migrateMySQLTrigrams cannot use a transaction: MySQL commits before every DDL statement. So the
// triggers come first, and only then are the existing contacts indexed: a contact written
// meanwhile is indexed by its trigger, by the backfill, or by both (the second updates). The
// backfill's INSERT ... SELECT locks the contacts it reads (REPEATABLE READ, MySQL's default), so a
// rename or delete meanwhile waits for it and its trigger then finds the rows to remove. The
// table's comment records the end.
func migrateMySQLTrigrams(db *gorm.DB) error {
	// VARBINARY: trigrams compare as bytes, whatever the collation. The key copy has name_key's
	// column type and collation (the table's), so that it sorts and matches as name_key does.
	if err := db.Exec("CREATE TABLE IF NOT EXISTS " + contactNameTrigrams + ` (
  trigram VARBINARY(12) NOT NULL,
  namespace_id BIGINT UNSIGNED NOT NULL,
  contact_key VARCHAR(256) NOT NULL,
  contact_id BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (trigram, namespace_id, contact_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`).Error; err != nil {
		return fmt.Errorf("migrate the contact name search: create the index: %w", err)
	}
	var comment []string
	if err := db.Raw("SELECT table_comment FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?",
		contactNameTrigrams).Scan(&comment).Error; err != nil {
		return fmt.Errorf("migrate the contact name search: read the index's state: %w", err)
	}
	var have []string
	if err := db.Raw("SELECT trigger_name FROM information_schema.triggers WHERE trigger_schema = DATABASE() AND event_object_table = 'contacts'").
		Scan(&have).Error; err != nil {
		return fmt.Errorf("migrate the contact name search: list the triggers: %w", err)
	}
	var missing []string
	for _, t := range mysqlTrigramTriggers {
		if !slices.Contains(have, t.name) {
			missing = append(missing, t.sql)
		}
	}
	if len(missing) == 0 && len(comment) == 1 && comment[0] == trigramsReady {
		return nil
	}
	for _, sql := range missing {
		if err := db.Exec(sql).Error; err != nil {
			return fmt.Errorf("migrate the contact name search: create trigger (the database user needs the TRIGGER privilege): %w", err)
		}
	}
	if err := db.Exec("INSERT INTO " + contactNameTrigrams + " (trigram, namespace_id, contact_key, contact_id) " +
		"SELECT SUBSTRING(c.name_key, p.n, 3), c.namespace_id, c.name_key, c.id FROM contacts c JOIN (" + positionsSQL + ") p " +
		"ON p.n <= CHAR_LENGTH(c.name_key) - 2 ON DUPLICATE KEY UPDATE contact_id = c.id").Error; err != nil {
		return fmt.Errorf("migrate the contact name search: index the contacts: %w", err)
	}
	if err := db.Exec("ALTER TABLE " + contactNameTrigrams + " COMMENT = '" + trigramsReady + "'").Error; err != nil {
		return fmt.Errorf("migrate the contact name search: mark the index complete: %w", err)
	}
	return nil
}

package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/secrets"
	"github.com/heraldhq/herald/senders"
)

// The data set: N contacts, each with 1-3 webhooks and in 1-5 of N/100 groups, so a group has about
// 300 members at every scale and a page of contacts touches about 300 groups' worth of members
// whatever the table size. Rows go in through database/sql as multi-row INSERTs in one transaction:
// GORM's CreateInBatches reflects over every row and would dominate the set-up time at 100k.

var (
	firstNames = strings.Fields(`Aaron Abigail Adam Alice Amelia Andrew Anna Benjamin Bella Caleb Carol Charlotte
		Daniel Diana Dylan Elena Emily Ethan Felix Fiona Gabriel Grace Hannah Henry Isaac Isabel Jack Julia
		Kevin Laura Liam Lucy Mason Mia Nathan Nora Oliver Olivia Peter Quinn Rachel Ryan Sofia Samuel
		Thomas Uma Victor Wendy Xavier Yara Zoe José Zoë`)
	lastNames = strings.Fields(`Anderson Baker Brooks Carter Chen Clarke Davies Evans Fischer Garcia Gomez Hughes
		Ivanova Jensen Kim Kowalski Larsen Lopez Martin Meyer Moreau Nakamura Novak Olsen Patel Quinn
		Rossi Schmidt Silva Smith Tanaka Turner Usman Varga Wagner Walker Weber Xu Young Zhang`)
	chineseSurnames = []string{"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"}
	chineseGiven    = []string{"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛"}
)

// searchTerms are what the name-search operation looks for: last names, each in about 2% of names.
func searchTerms() []string {
	out := make([]string, 0, 10)
	for i := 0; i < len(lastNames) && len(out) < 10; i += 4 {
		out = append(out, strings.ToLower(lastNames[i][:len(lastNames[i])-1])) // a substring, not a prefix match
	}
	return out
}

// dataset describes what was seeded.
type dataset struct {
	Contacts    int `json:"contacts"`
	Groups      int `json:"groups"`
	Webhooks    int `json:"webhooks"`
	Memberships int `json:"memberships"`
	// Contact ids are 1..Contacts and group ids 1..Groups.

	// The history (seed_history.go): alert ids are 1..Alerts, newest last; LargeAlert is the one
	// with 1,000 deliveries.
	Alerts     int   `json:"alerts,omitempty"`
	Deliveries int   `json:"deliveries,omitempty"`
	Attempts   int   `json:"attempts,omitempty"`
	LargeAlert int64 `json:"largeAlertId,omitempty"`
}

// seeder writes rows for one database.
type seeder struct {
	db      *sql.DB
	backend models.Backend
	fakeURL string // base URL of the fake platforms: every seeded webhook points there
	rng     *rand.Rand
	now     time.Time
	// keyring seals secrets as Herald stores them.
	keyring *secrets.Keyring
}

func newSeeder(db *sql.DB, backend models.Backend, fakeURL string, seed uint64, keyring *secrets.Keyring) *seeder {
	return &seeder{db: db, backend: backend, fakeURL: fakeURL, rng: rand.New(rand.NewPCG(seed, 0x5eed)),
		now: time.Now().UTC().Truncate(time.Microsecond), keyring: keyring}
}

// seededRobot is the robot a seeded webhook points at; the fake platform must know it to accept sends.
type seededRobot struct {
	Platform senders.Platform
	Token    string
	Secret   string
}

// robotFor decides the platform and secret of a contact's pos-th webhook, deterministically, so that
// the robots can be registered with the fake platform later from ids alone.
func robotFor(contactID int64, pos int) seededRobot {
	t := seededRobot{Token: fmt.Sprintf("b%dx%d", contactID, pos)}
	switch (contactID + int64(pos)) % 3 {
	case 0:
		t.Platform = senders.DingTalk
	case 1:
		t.Platform = senders.WeCom
	default:
		t.Platform = senders.Lark
	}
	if t.Platform != senders.WeCom && (contactID+int64(pos))%2 == 0 {
		t.Secret = "SECbench" + t.Token
	}
	return t
}

// robotURL is the webhook URL of a robot on the fake platform, on the real platform path.
func robotURL(base string, t seededRobot) string {
	switch t.Platform {
	case senders.DingTalk:
		return base + "/robot/send?access_token=" + t.Token
	case senders.WeCom:
		return base + "/cgi-bin/webhook/send?key=" + t.Token
	default:
		return base + "/open-apis/bot/v2/hook/" + t.Token
	}
}

func (s *seeder) contactName(prefix string, id int64) string {
	if s.rng.IntN(10) == 0 {
		return fmt.Sprintf("%s%s%s%s %d", prefix, chineseSurnames[s.rng.IntN(len(chineseSurnames))],
			chineseGiven[s.rng.IntN(len(chineseGiven))], chineseGiven[s.rng.IntN(len(chineseGiven))], id)
	}
	return fmt.Sprintf("%s%s %s %d", prefix, firstNames[s.rng.IntN(len(firstNames))], lastNames[s.rng.IntN(len(lastNames))], id)
}

var (
	contactCols    = []string{"id", "name", "name_key", "phone", "created_at", "updated_at"}
	groupCols      = []string{"id", "name", "name_key", "description", "created_at", "updated_at"}
	webhookCols    = []string{"contact_id", "url_hash", "url", "platform", "secret", "keyword", "position", "created_at", "updated_at"}
	membershipCols = []string{"contact_id", "group_id", "created_at"}
)

// seed fills an empty, migrated database with contacts 1..n and groups 1..max(1, n/100).
func (s *seeder) seed(ctx context.Context, n int) (dataset, error) {
	ds := dataset{Contacts: n, Groups: max(1, n/100)}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		groups := make([][]any, ds.Groups)
		for i := range groups {
			name := fmt.Sprintf("Group %s %04d", lastNames[i%len(lastNames)], i+1)
			groups[i] = []any{int64(i + 1), name, models.NameKey(name), "seeded by herald-bench", s.now, s.now}
		}
		if err := s.insert(ctx, tx, "contact_groups", groupCols, groups); err != nil {
			return err
		}
		for first := int64(1); first <= int64(n); first += 1000 {
			count := min(1000, int64(n)-first+1)
			h, m, err := s.contacts(ctx, tx, first, count, "", ds.Groups)
			if err != nil {
				return err
			}
			ds.Webhooks += h
			ds.Memberships += m
		}
		return nil
	})
	return ds, err
}

// contacts inserts contacts first..first+count-1 with their webhooks and memberships in 1-5 of
// groups 1..groups, and returns how many webhooks and memberships it wrote.
func (s *seeder) contacts(ctx context.Context, tx *sql.Tx, first, count int64, prefix string, groups int) (int, int, error) {
	var contacts, hooks, members [][]any
	for id := first; id < first+count; id++ {
		name := s.contactName(prefix, id)
		var phone any
		if s.rng.IntN(2) == 0 {
			phone = fmt.Sprintf("+86138%08d", id%100_000_000)
		}
		contacts = append(contacts, []any{id, name, models.NameKey(name), phone, s.now, s.now})
		for pos := range 1 + s.rng.IntN(3) {
			t := robotFor(id, pos)
			u := robotURL(s.fakeURL, t)
			var secret any
			if t.Secret != "" {
				sealed, err := s.keyring.Encrypt(t.Secret)
				if err != nil {
					return 0, 0, err
				}
				secret = sealed
			}
			hooks = append(hooks, []any{id, models.RobotKey(u), u, string(t.Platform), secret, nil, pos, s.now, s.now})
		}
		k := min(1+s.rng.IntN(5), groups)
		for _, g := range s.rng.Perm(groups)[:k] {
			members = append(members, []any{id, int64(g + 1), s.now})
		}
	}
	if err := s.insert(ctx, tx, "contacts", contactCols, contacts); err != nil {
		return 0, 0, err
	}
	if err := s.insert(ctx, tx, "webhooks", webhookCols, hooks); err != nil {
		return 0, 0, err
	}
	if err := s.insert(ctx, tx, "memberships", membershipCols, members); err != nil {
		return 0, 0, err
	}
	return len(hooks), len(members), nil
}

// addGroup inserts one group with the given members.
func (s *seeder) addGroup(ctx context.Context, id int64, name string, members []int64) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.insert(ctx, tx, "contact_groups", groupCols, [][]any{{id, name, models.NameKey(name), "", s.now, s.now}}); err != nil {
			return err
		}
		rows := make([][]any, len(members))
		for i, c := range members {
			rows[i] = []any{c, id, s.now}
		}
		return s.insert(ctx, tx, "memberships", membershipCols, rows)
	})
}

// addContacts inserts contacts first..first+count-1 (webhooks, memberships and all) in one transaction.
func (s *seeder) addContacts(ctx context.Context, first, count int64, prefix string, groups int) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, _, err := s.contacts(ctx, tx, first, count, prefix, groups)
		return err
	})
}

// maxParams bounds the placeholders of one INSERT: under SQLite's 32766 and MySQL's 65535, and small
// enough that a statement stays far below max_allowed_packet.
const maxParams = 8000

// insert writes rows with as few multi-row INSERTs as maxParams allows.
func (s *seeder) insert(ctx context.Context, tx *sql.Tx, table string, cols []string, rows [][]any) error {
	return s.insertLimit(ctx, tx, table, cols, rows, maxParams)
}

// insertLimit writes rows with as few multi-row INSERTs as params placeholders each allow.
func (s *seeder) insertLimit(ctx context.Context, tx *sql.Tx, table string, cols []string, rows [][]any, params int) error {
	per := params / len(cols)
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	head := fmt.Sprintf("INSERT INTO %s (%s) VALUES ", table, strings.Join(cols, ", "))
	for len(rows) > 0 {
		chunk := rows[:min(per, len(rows))]
		rows = rows[len(chunk):]
		var sb strings.Builder
		sb.WriteString(head)
		args := make([]any, 0, len(chunk)*len(cols))
		for i, r := range chunk {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(tuple)
			args = append(args, r...)
		}
		if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
			return fmt.Errorf("insert %s: %w", table, err)
		}
	}
	return nil
}

// insertPrepared writes rows as insertLimit does, but prepares the statement of a full chunk once
// and runs it for every full chunk: a bulk load parses one statement, not one per chunk.
func (s *seeder) insertPrepared(ctx context.Context, tx *sql.Tx, table string, cols []string, rows [][]any, params int) error {
	per := params / len(cols)
	if len(rows) <= per {
		return s.insertLimit(ctx, tx, table, cols, rows, params)
	}
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	query := fmt.Sprintf("INSERT INTO %s (%s) VALUES %s", table, strings.Join(cols, ", "), strings.TrimSuffix(strings.Repeat(tuple+",", per), ","))
	stmt, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return fmt.Errorf("insert %s: %w", table, err)
	}
	defer stmt.Close()
	args := make([]any, 0, per*len(cols))
	for len(rows) >= per {
		args = args[:0]
		for _, r := range rows[:per] {
			args = append(args, r...)
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("insert %s: %w", table, err)
		}
		rows = rows[per:]
	}
	return s.insertLimit(ctx, tx, table, cols, rows, params)
}

// inTx runs fn in a transaction on one connection. On MySQL the connection skips foreign-key and
// unique checks while seeding (the rows are consistent by construction) and has them back before it
// returns to the pool, which the floor shares.
func (s *seeder) inTx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if s.backend == models.MySQL {
		if _, err := conn.ExecContext(ctx, "SET foreign_key_checks = 0, unique_checks = 0"); err != nil {
			return err
		}
		defer func() {
			if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "SET foreign_key_checks = 1, unique_checks = 1"); rerr != nil && err == nil {
				err = rerr
			}
		}()
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

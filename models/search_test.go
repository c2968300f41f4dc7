package models_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modelstest"
	"github.com/heraldhq/herald/senders/platforms"
	"gorm.io/gorm"
)

// searchAlphabet mixes what could trip an index up: letter case (ASCII and not), characters whose
// case folds to another (Kelvin sign, İ, final sigma), several bytes per character, LIKE's
// metacharacters with its escape, quotes (FTS5's string syntax) and spaces.
var searchAlphabet = []rune("aAbBnNéÉßσΣςKİi王李😀%_!\"' -7")

// randomName is 1 to 10 characters of the alphabet, sometimes up to the 64 allowed.
func randomName(r *rand.Rand) string {
	n := 1 + r.IntN(10)
	if r.IntN(8) == 0 {
		n = 40 + r.IntN(25)
	}
	var b strings.Builder
	for range n {
		b.WriteRune(searchAlphabet[r.IntN(len(searchAlphabet))])
	}
	return strings.TrimSpace(b.String())
}

// addRandomContacts inserts n contacts with new random names in the default namespace straight
// through GORM, as a bulk insert: the index must follow any write, not only the store's.
func addRandomContacts(t *testing.T, db *gorm.DB, r *rand.Rand, n int) {
	t.Helper()
	var taken []string
	if err := db.Model(&models.Contact{}).Pluck("name_key", &taken).Error; err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, k := range taken {
		seen[k] = true
	}
	var cs []models.Contact
	for len(cs) < n {
		name := randomName(r)
		if name == "" || seen[models.NameKey(name)] {
			continue
		}
		seen[models.NameKey(name)] = true
		cs = append(cs, models.Contact{NamespaceID: models.DefaultNamespaceID, Name: name, NameKey: models.NameKey(name)})
	}
	if err := db.CreateInBatches(cs, 100).Error; err != nil {
		t.Fatal(err)
	}
}

// searchTerms are substrings of stored names (in another letter case, or with spaces around
// them, now and then), random strings, and the awkward cases.
func searchTerms(t *testing.T, db *gorm.DB, r *rand.Rand) []string {
	t.Helper()
	var names []string
	if err := db.Model(&models.Contact{}).Order("id").Pluck("name", &names).Error; err != nil {
		t.Fatal(err)
	}
	terms := []string{"", "   ", "%", "_", "!", "!%", "%_", "!!", "a_", "_a", "\"", "\"\"", "' ", "😀", "王李", "k", "K", "K",
		"ς", "σ", "Σσς", "ss", "ß", "i", "İ", "I", " a", "a b", strings.Repeat("a", 64), "nnn", "NNN", "aaaa"}
	for range 120 {
		name := []rune(names[r.IntN(len(names))])
		n := min(len(name), 1+r.IntN(6))
		at := r.IntN(len(name) - n + 1)
		term := string(name[at : at+n])
		switch r.IntN(6) {
		case 0:
			term = strings.ToUpper(term)
		case 1:
			term = "  " + term + " "
		}
		terms = append(terms, term)
	}
	for range 40 {
		var b strings.Builder
		for range 1 + r.IntN(4) {
			b.WriteRune(searchAlphabet[r.IntN(len(searchAlphabet))])
		}
		terms = append(terms, b.String())
	}
	return terms
}

// likeNames is what the search answered before the index: the plain LIKE on the name key, built
// here again rather than by the code under test.
func likeNames(t *testing.T, db *gorm.DB, term string, group uint) []string {
	t.Helper()
	q := db.Model(&models.Contact{}).Where("namespace_id = ?", models.DefaultNamespaceID).Order("name_key")
	if s := strings.TrimSpace(term); s != "" {
		esc := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(models.NameKey(s))
		q = q.Where("name_key LIKE ? ESCAPE '!'", "%"+esc+"%")
	}
	if group != 0 {
		q = q.Where("id IN (SELECT contact_id FROM memberships WHERE group_id = ?)", group)
	}
	var names []string
	if err := q.Pluck("name", &names).Error; err != nil {
		t.Fatal(err)
	}
	return names
}

// searchAll reads every page of a search forward, in pages of size, then the last page backward,
// and the count, checking that they agree with each other.
func searchAll(t *testing.T, store *models.Store, ctx context.Context, f models.ContactFilter, size int) ([]string, int) {
	t.Helper()
	var names []string
	page := models.PageArgs{First: size}
	for {
		p, err := store.Contacts(ctx, f, page)
		if err != nil {
			t.Fatalf("search %q: %v", f.Search, err)
		}
		for _, c := range p.Items {
			names = append(names, c.Name)
		}
		if !p.HasNext {
			break
		}
		page.After = p.Cursors[len(p.Cursors)-1]
	}
	total, err := store.CountContacts(ctx, f)
	if err != nil {
		t.Fatalf("count %q: %v", f.Search, err)
	}
	if total != len(names) {
		t.Fatalf("search %q: totalCount %d, but the pages held %d", f.Search, total, len(names))
	}
	back, err := store.Contacts(ctx, f, models.PageArgs{Backward: true, Last: size})
	if err != nil {
		t.Fatal(err)
	}
	var tail []string
	for _, c := range back.Items {
		tail = append(tail, c.Name)
	}
	if want := names[max(0, len(names)-size):]; !slices.Equal(tail, want) && !(len(tail) == 0 && len(want) == 0) {
		t.Fatalf("search %q: the last page backward is %q, forward it ended %q", f.Search, tail, want)
	}
	return names, total
}

// checkSearches compares every term's search, and its search among the members of group, with
// the plain LIKE.
func checkSearches(t *testing.T, db modelstest.DB, store *models.Store, terms []string, group uint) {
	t.Helper()
	ctx := models.WithNamespace(context.Background(), &models.Namespace{ID: models.DefaultNamespaceID, Name: models.DefaultNamespace})
	matched := 0
	for i, term := range terms {
		got, _ := searchAll(t, store, ctx, models.ContactFilter{Search: term}, 7)
		if want := likeNames(t, db.Gorm, term, 0); !slices.Equal(got, want) {
			t.Fatalf("search %q: got %d names %q, the LIKE finds %d: %q", term, len(got), got, len(want), want)
		}
		if len(got) > 0 {
			matched++
		}
		if i%3 == 0 && group != 0 {
			gid := models.FormatID(group)
			got, _ := searchAll(t, store, ctx, models.ContactFilter{Search: term, GroupID: &gid}, 10)
			if want := likeNames(t, db.Gorm, term, group); !slices.Equal(got, want) {
				t.Fatalf("search %q in the group: got %q, the LIKE finds %q", term, got, want)
			}
		}
	}
	if matched < len(terms)/2 {
		t.Fatalf("only %d of %d terms matched anything: the terms test little", matched, len(terms))
	}
}

// checkIndex proves the index holds exactly the contacts' trigrams with their keys, not merely
// enough of them (the LIKE would hide what is left over).
func checkIndex(t *testing.T, db modelstest.DB) {
	t.Helper()
	var cs []models.Contact
	if err := db.Gorm.Select("id", "namespace_id", "name_key").Find(&cs).Error; err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, c := range cs {
		r := []rune(c.NameKey)
		for i := 0; i+3 <= len(r); i++ {
			want[fmt.Sprintf("%d %d %q %q", c.ID, c.NamespaceID, string(r[i:i+3]), c.NameKey)] = true
		}
	}
	var rows []struct {
		Trigram     []byte
		NamespaceID uint
		ContactKey  string
		ContactID   uint
	}
	if err := db.Gorm.Table("contact_name_trigrams").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, row := range rows {
		have[fmt.Sprintf("%d %d %q %q", row.ContactID, row.NamespaceID, row.Trigram, row.ContactKey)] = true
	}
	if len(have) != len(rows) {
		t.Fatalf("the index holds %d rows but only %d distinct ones", len(rows), len(have))
	}
	for k := range want {
		if !have[k] {
			t.Fatalf("the index lacks %s", k)
		}
	}
	for k := range have {
		if !want[k] {
			t.Fatalf("the index holds %s, which no contact has", k)
		}
	}
}

// The contacts search finds exactly what the plain LIKE finds, in the same order, pages and count,
// for random names and terms; and goes on doing so after contacts are renamed and deleted.
func TestContactSearchIsTheLikeOnRandomNames(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		seed := uint64(rand.Uint32())
		t.Logf("seed %d", seed)
		r := rand.New(rand.NewPCG(seed, 7))
		store := modelstest.Store(t, db)
		ctx := context.Background()
		hook := []models.WebhookInput{{URL: "https://oapi.dingtalk.com/robot/send?access_token=search"}}
		for _, name := range []string{"Anne-Marie O'Neil", "JOSÉ Núñez", "王李伟", "100% _done_!"} {
			if _, err := store.CreateContact(ctx, models.ContactInput{Name: ptr(name), Webhooks: hook}); err != nil {
				t.Fatal(err)
			}
		}
		addRandomContacts(t, db.Gorm, r, 400)
		// Enough names sharing a term for the indexed search to page through several pages.
		var shared []models.Contact
		for i := range 80 {
			name := strings.TrimSpace(fmt.Sprintf("%c Mañana %d", searchAlphabet[r.IntN(len(searchAlphabet))], i))
			shared = append(shared, models.Contact{NamespaceID: models.DefaultNamespaceID, Name: name, NameKey: models.NameKey(name)})
		}
		if err := db.Gorm.Create(&shared).Error; err != nil {
			t.Fatal(err)
		}
		var ids []uint
		if err := db.Gorm.Model(&models.Contact{}).Order("id").Pluck("id", &ids).Error; err != nil {
			t.Fatal(err)
		}
		var members []string
		for _, id := range ids {
			if r.IntN(3) == 0 {
				members = append(members, models.FormatID(id))
			}
		}
		g, err := store.CreateGroup(ctx, models.GroupInput{Name: ptr("searched"), ContactIDs: members})
		if err != nil {
			t.Fatal(err)
		}
		terms := append(searchTerms(t, db.Gorm, r), "mañana", "MAÑ", "aña ", "ana 1", "na 7")
		t.Run("created", func(t *testing.T) {
			checkIndex(t, db)
			checkSearches(t, db, store, terms, g.ID)
		})

		t.Run("renamed", func(t *testing.T) {
			for _, id := range ids[:len(ids)/3] {
				name := []rune(randomName(r))
				name = name[:min(len(name), 50)]
				// '#' is not in the alphabet: with the id, it keeps the name unique.
				if _, err := store.UpdateContact(ctx, models.FormatID(id), models.ContactInput{Name: ptr(fmt.Sprintf("%s#%d", string(name), id))}); err != nil {
					t.Fatal(err)
				}
			}
			// A save that leaves the name as it was, a change of letter case only (the same key),
			// and a write past the store.
			if _, err := store.UpdateContact(ctx, models.FormatID(ids[len(ids)-1]), models.ContactInput{Phone: ptr("+8613800000000")}); err != nil {
				t.Fatal(err)
			}
			var last models.Contact
			if err := db.Gorm.First(&last, ids[len(ids)-3]).Error; err != nil {
				t.Fatal(err)
			}
			if _, err := store.UpdateContact(ctx, models.FormatID(last.ID), models.ContactInput{Name: ptr(strings.ToUpper(last.Name))}); err != nil {
				t.Fatal(err)
			}
			if err := db.Gorm.Model(&models.Contact{}).Where("id = ?", ids[len(ids)-2]).
				Updates(map[string]any{"name": "renamed by hand", "name_key": "renamed by hand"}).Error; err != nil {
				t.Fatal(err)
			}
			checkIndex(t, db)
			checkSearches(t, db, store, append(terms, "by hand", "hand"), g.ID)
		})

		t.Run("deleted", func(t *testing.T) {
			for _, id := range ids[len(ids)/3 : len(ids)/3+20] {
				if err := store.DeleteContact(ctx, models.FormatID(id)); err != nil {
					t.Fatal(err)
				}
			}
			var batch []string
			for _, id := range ids[len(ids)/2:] {
				if r.IntN(2) == 0 {
					batch = append(batch, models.FormatID(id))
				}
			}
			if _, err := store.BatchDeleteContacts(ctx, batch); err != nil {
				t.Fatal(err)
			}
			checkIndex(t, db)
			checkSearches(t, db, store, terms, g.ID)
		})
	})
}

// A database whose contacts were written before the index gets it on start-up, complete; a second
// start changes nothing; and a MySQL start that stopped before the index was complete finishes it.
func TestContactSearchIndexesContactsWrittenBeforeIt(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		r := rand.New(rand.NewPCG(11, 7))
		dropSearchIndex(t, db)
		addRandomContacts(t, db.Gorm, r, 300)
		if err := models.Migrate(db.Gorm); err != nil {
			t.Fatal(err)
		}
		checkIndex(t, db)
		store := modelstest.Store(t, db)
		terms := searchTerms(t, db.Gorm, r)
		checkSearches(t, db, store, terms, 0)

		before := indexRows(t, db)
		if err := models.Migrate(db.Gorm); err != nil {
			t.Fatal(err)
		}
		if after := indexRows(t, db); after != before {
			t.Fatalf("a second start changed the index from %d rows to %d", before, after)
		}
		addRandomContacts(t, db.Gorm, r, 20)
		checkIndex(t, db)

		if db.Name == "mysql" {
			// Stopped after the triggers, half-way through the backfill.
			if err := db.Gorm.Exec("ALTER TABLE contact_name_trigrams COMMENT = ''").Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Gorm.Exec("DELETE FROM contact_name_trigrams WHERE contact_id % 2 = 0").Error; err != nil {
				t.Fatal(err)
			}
			if err := models.Migrate(db.Gorm); err != nil {
				t.Fatal(err)
			}
			checkIndex(t, db)
		}
		checkSearches(t, db, store, terms, 0)
	})
}

// dropSearchIndex puts db back as it was before the name search index.
func dropSearchIndex(t *testing.T, db modelstest.DB) {
	t.Helper()
	for _, trigger := range []string{"contacts_name_trigrams_insert", "contacts_name_trigrams_update", "contacts_name_trigrams_delete"} {
		if err := db.Gorm.Exec("DROP TRIGGER IF EXISTS " + trigger).Error; err != nil {
			t.Fatal(err)
		}
	}
	for _, table := range []string{"contact_name_trigrams", "contact_name_trigram_positions"} {
		if err := db.Gorm.Exec("DROP TABLE IF EXISTS " + table).Error; err != nil {
			t.Fatal(err)
		}
	}
}

func indexRows(t *testing.T, db modelstest.DB) int64 {
	t.Helper()
	var n int64
	if err := db.Gorm.Table("contact_name_trigrams").Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// Herald's main from before namespaces left contacts that the search finds after the upgrade.
func TestContactSearchAfterUpgradingFromBeforeNamespaces(t *testing.T) {
	for _, backend := range []string{"sqlite", "mysql"} {
		t.Run(backend, func(t *testing.T) {
			db := fixtureDB(t, backend)
			migrateAll(t, db)
			store := models.NewStore(db, platforms.Registry.Recognize)
			for term, want := range map[string]string{"LIC": "Alice", "o": "Bob,Carol", "caro": "Carol", "bo": "Bob", "zed": ""} {
				page, err := store.Contacts(context.Background(), models.ContactFilter{Search: term}, models.PageArgs{First: 10})
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, c := range page.Items {
					names = append(names, c.Name)
				}
				if strings.Join(names, ",") != want {
					t.Fatalf("search %q: %v, want %s", term, names, want)
				}
			}
		})
	}
}

// The search costs what it cost before the index, one statement for the page and one for the
// count, whatever the term's length; and refuses what it refused.
func TestContactSearchStatementsAndErrors(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		store := modelstest.Store(t, db)
		addRandomContacts(t, db.Gorm, rand.New(rand.NewPCG(3, 7)), 50)
		for _, term := range []string{"a", "ab", "abc", "a%b_c!d", strings.Repeat("é", models.MaxSearchLength)} {
			ctx, _ := models.WithStatementCounter(context.Background())
			if _, err := store.Contacts(ctx, models.ContactFilter{Search: term}, models.PageArgs{First: 20}); err != nil {
				t.Fatal(err)
			}
			if _, err := store.CountContacts(ctx, models.ContactFilter{Search: term}); err != nil {
				t.Fatal(err)
			}
			if got := models.StatementCount(ctx); got != 2 {
				t.Fatalf("search %q: %d statements for a page and its count, want 2", term, got)
			}
		}
		long := strings.Repeat("é", models.MaxSearchLength+1)
		notAnID := "x"
		for _, f := range []models.ContactFilter{{Search: long}, {Search: long, GroupID: &notAnID}} {
			_, err := store.Contacts(context.Background(), f, models.PageArgs{First: 20})
			e, ok := models.AsError(err)
			if !ok || e.Kind != models.KindInvalid || e.Field != "filter.search" || e.Message != "search is longer than 64 characters" {
				t.Fatalf("a search of %d characters: %v", utf8.RuneCountInString(f.Search), err)
			}
			if _, err := store.CountContacts(context.Background(), f); err == nil {
				t.Fatal("a search too long was counted")
			}
		}
		if p, err := store.Contacts(context.Background(), models.ContactFilter{Search: "a", GroupID: &notAnID}, models.PageArgs{First: 20}); err != nil || len(p.Items) != 0 {
			t.Fatalf("members of no group: %v %v", p.Items, err)
		}
	})
}

// A bulk load (one multi-row INSERT into the empty table, in a transaction, with MySQL's unique and
// foreign-key checks off, as herald-bench seeds) keeps every row and indexes it, names that repeat
// a trigram ("Peter Walker": "er ") included.
func TestContactSearchIndexesABulkLoad(t *testing.T) {
	modelstest.Each(t, func(t *testing.T, db modelstest.DB) {
		sqlDB, err := db.Gorm.DB()
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		conn, err := sqlDB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if db.Name == "mysql" {
			if _, err := conn.ExecContext(ctx, "SET foreign_key_checks = 0, unique_checks = 0"); err != nil {
				t.Fatal(err)
			}
			defer conn.ExecContext(ctx, "SET foreign_key_checks = 1, unique_checks = 1") //nolint:errcheck // the connection is closed next
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var values []string
		var args []any
		for i := 1; i <= 200; i++ {
			name := fmt.Sprintf("Peter Walker %d", i)
			if i%2 == 0 {
				name = fmt.Sprintf("Anna Smith %d", i)
			}
			values = append(values, "(?, ?, ?)")
			args = append(args, i, name, models.NameKey(name))
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO contacts (id, name, name_key) VALUES "+strings.Join(values, ", "), args...); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		var n int64
		if err := db.Gorm.Model(&models.Contact{}).Count(&n).Error; err != nil || n != 200 {
			t.Fatalf("%d contacts of 200 were kept (%v)", n, err)
		}
		checkIndex(t, db)
		checkSearches(t, db, modelstest.Store(t, db), []string{"walker", "er ", "smith 1", "9"}, 0)
	})
}

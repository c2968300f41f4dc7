package models

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/heraldhq/herald/senders"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Alert input limits.
const (
	MaxAlertTitleLength     = 256      // characters
	MaxAlertContentBytes    = 64 << 10 // bytes
	MaxIdempotencyKeyLength = 128      // characters
)

// TestAlertTitle is the title of the message testContact sends.
const TestAlertTitle = "Herald test message"

// AlertInput is a sendAlert request. Targets are the union of the named contacts and the members of
// the named groups.
type AlertInput struct {
	Title           string
	Content         string
	Severity        senders.Severity
	Format          senders.Format
	ContactIDs      []string
	GroupIDs        []string
	ContactNames    []string
	GroupNames      []string
	MentionAll      bool
	MentionContacts bool
	IdempotencyKey  *string
}

// PlannedDelivery is one message an alert would send: previewAlert shows these, CreateAlert stores them.
type PlannedDelivery struct {
	Target       senders.Target
	Message      senders.Message
	ContactIDs   []uint
	ContactNames []string
}

// cleanAlert checks the message fields and fills the defaults (INFO, TEXT).
func cleanAlert(in AlertInput) (AlertInput, error) {
	in.Title = strings.TrimSpace(in.Title)
	if !utf8.ValidString(in.Title) {
		return in, invalid("title", "title is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(in.Title); n == 0 || n > MaxAlertTitleLength {
		return in, invalid("title", "title must be 1 to %d characters, got %d", MaxAlertTitleLength, n)
	}
	if !utf8.ValidString(in.Content) {
		return in, invalid("content", "content is not valid UTF-8")
	}
	if strings.TrimSpace(in.Content) == "" || len(in.Content) > MaxAlertContentBytes {
		return in, invalid("content", "content must be 1 to %d bytes and not only spaces, got %d bytes", MaxAlertContentBytes, len(in.Content))
	}
	switch in.Severity {
	case "":
		in.Severity = senders.Info
	case senders.Info, senders.Warning, senders.Critical:
	default:
		return in, invalid("severity", "unknown severity %q", string(in.Severity))
	}
	switch in.Format {
	case "":
		in.Format = senders.Text
	case senders.Text, senders.Markdown:
	default:
		return in, invalid("format", "unknown format %q", string(in.Format))
	}
	if in.IdempotencyKey != nil {
		k := *in.IdempotencyKey
		if n := utf8.RuneCountInString(k); n == 0 || n > MaxIdempotencyKeyLength || !utf8.ValidString(k) {
			return in, invalid("idempotencyKey", "idempotencyKey must be 1 to %d characters", MaxIdempotencyKeyLength)
		}
	}
	for field, list := range map[string][]string{"contactNames": in.ContactNames, "groupNames": in.GroupNames} {
		if len(list) > MaxIDsPerRequest {
			return in, invalid(field, "at most %d names are allowed, got %d", MaxIDsPerRequest, len(list))
		}
	}
	return in, nil
}

// resolveContacts returns the targeted contacts, ordered by name key then id.
func resolveContacts(tx *gorm.DB, in AlertInput) ([]Contact, error) {
	contactIDs, contactPos, err := parseIDList("contactIds", "contact", in.ContactIDs)
	if err != nil {
		return nil, err
	}
	groupIDs, groupPos, err := parseIDList("groupIds", "group", in.GroupIDs)
	if err != nil {
		return nil, err
	}
	byID := map[uint]Contact{}
	var direct []Contact
	if len(contactIDs) > 0 {
		if err := tx.Where("id IN ?", contactIDs).Find(&direct).Error; err != nil {
			return nil, fmt.Errorf("load contacts: %w", err)
		}
	}
	for _, c := range direct {
		byID[c.ID] = c
	}
	for i, id := range contactIDs {
		if _, ok := byID[id]; !ok {
			return nil, notFound(indexed("contactIds", contactPos[i]), "contact", FormatID(id))
		}
	}
	named, err := byNames[Contact](tx, "contactNames", "contact", in.ContactNames, func(c Contact) string { return c.NameKey })
	if err != nil {
		return nil, err
	}
	for _, c := range named {
		byID[c.ID] = c
	}
	if len(groupIDs) > 0 {
		found, err := existingIDs(tx, &Group{}, groupIDs)
		if err != nil {
			return nil, fmt.Errorf("look up groups: %w", err)
		}
		for i, id := range groupIDs {
			if !found[id] {
				return nil, notFound(indexed("groupIds", groupPos[i]), "group", FormatID(id))
			}
		}
	}
	groups, err := byNames[Group](tx, "groupNames", "group", in.GroupNames, func(g Group) string { return g.NameKey })
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		groupIDs = append(groupIDs, g.ID)
	}
	slices.Sort(groupIDs)
	groupIDs = slices.Compact(groupIDs)
	for chunk := range slices.Chunk(groupIDs, MaxIDsPerRequest) {
		var members []Contact
		err := tx.Model(&Contact{}).Where("id IN (?)", tx.Model(&Membership{}).Select("contact_id").Where("group_id IN ?", chunk)).
			Find(&members).Error
		if err != nil {
			return nil, fmt.Errorf("load group members: %w", err)
		}
		for _, c := range members {
			byID[c.ID] = c
		}
	}
	if len(byID) == 0 {
		return nil, invalid("", "the alert has no recipients: name at least one contact, or a group that has members")
	}
	out := make([]Contact, 0, len(byID))
	for _, c := range byID {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Contact) int {
		if c := strings.Compare(a.NameKey, b.NameKey); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

// byNames loads rows of T by name, reporting the first unknown name as NOT_FOUND at its index.
func byNames[T any](tx *gorm.DB, field, what string, names []string, key func(T) string) ([]T, error) {
	if len(names) == 0 {
		return nil, nil
	}
	keys := make([]string, len(names))
	for i, n := range names {
		keys[i] = NameKey(strings.TrimSpace(n))
	}
	var rows []T
	if err := tx.Where("name_key IN ?", keys).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("look up %ss by name: %w", what, err)
	}
	found := make(map[string]bool, len(rows))
	for _, r := range rows {
		found[key(r)] = true
	}
	for i, k := range keys {
		if !found[k] {
			return nil, notFound(indexed(field, i), what, names[i])
		}
	}
	return rows, nil
}

// planDeliveries turns contacts into one delivery per distinct URL. When contacts share a URL but
// differ in secret or keyword, the webhook with the lowest id wins (the oldest configuration), so the
// choice is deterministic; deliveries are ordered by that webhook's id.
func planDeliveries(tx *gorm.DB, contacts []Contact, in AlertInput) ([]PlannedDelivery, error) {
	ids := make([]uint, len(contacts))
	for i, c := range contacts {
		ids[i] = c.ID
	}
	var hooks []Webhook
	for chunk := range slices.Chunk(ids, MaxIDsPerRequest) {
		var part []Webhook
		if err := tx.Where("contact_id IN ?", chunk).Find(&part).Error; err != nil {
			return nil, fmt.Errorf("load webhooks: %w", err)
		}
		hooks = append(hooks, part...)
	}
	slices.SortFunc(hooks, func(a, b Webhook) int { return cmp.Compare(a.ID, b.ID) })
	// Each robot keeps its contacts as positions in contacts, which is in name order, so that its
	// snapshot is in name order too without scanning every contact for every robot.
	pos := make(map[uint]int, len(contacts))
	for i, c := range contacts {
		pos[c.ID] = i
	}
	type robot struct {
		hook     Webhook
		contacts map[uint]bool
		order    []int
	}
	var order []string
	robots := map[string]*robot{}
	for _, h := range hooks {
		r := robots[h.URL]
		if r == nil {
			r = &robot{hook: h, contacts: map[uint]bool{}}
			robots[h.URL] = r
			order = append(order, h.URL)
		}
		if !r.contacts[h.ContactID] {
			r.contacts[h.ContactID] = true
			r.order = append(r.order, pos[h.ContactID])
		}
	}
	out := make([]PlannedDelivery, 0, len(order))
	for _, u := range order {
		r := robots[u]
		p := PlannedDelivery{
			Target: senders.Target{URL: r.hook.URL, Platform: r.hook.Platform},
			Message: senders.Message{
				Title: in.Title, Content: in.Content, Severity: in.Severity, Format: in.Format, MentionAll: in.MentionAll,
			},
		}
		if r.hook.Secret != nil {
			p.Target.Secret = *r.hook.Secret
		}
		if r.hook.Keyword != nil {
			p.Target.Keyword = *r.hook.Keyword
		}
		slices.Sort(r.order)
		for _, i := range r.order {
			c := contacts[i]
			p.ContactIDs = append(p.ContactIDs, c.ID)
			p.ContactNames = append(p.ContactNames, c.Name)
			if in.MentionContacts && c.Phone != nil && !slices.Contains(p.Message.MentionPhones, *c.Phone) {
				p.Message.MentionPhones = append(p.Message.MentionPhones, *c.Phone)
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// PlanAlert resolves an alert's recipients and messages without storing anything, for previewAlert.
func (s *Store) PlanAlert(ctx context.Context, in AlertInput) ([]PlannedDelivery, error) {
	in, err := cleanAlert(in)
	if err != nil {
		return nil, err
	}
	var plan []PlannedDelivery
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		contacts, err := resolveContacts(tx, in)
		if err != nil {
			return err
		}
		plan, err = planDeliveries(tx, contacts, in)
		return err
	})
	if err != nil {
		return nil, wrapAlertErr("plan alert", err)
	}
	return plan, nil
}

// CreateAlert resolves the recipients and stores the alert with all its deliveries in one transaction,
// to be sent asynchronously. created is false when the idempotency key was used before: the first
// alert is returned and nothing new is sent.
func (s *Store) CreateAlert(ctx context.Context, in AlertInput) (*Alert, bool, error) {
	in, err := cleanAlert(in)
	if err != nil {
		return nil, false, err
	}
	if in.IdempotencyKey != nil {
		if a, err := s.alertByKey(ctx, *in.IdempotencyKey); err != nil || a != nil {
			return a, false, err
		}
	}
	a := &Alert{
		Title: in.Title, Content: in.Content, Severity: in.Severity, Format: in.Format, Status: AlertPending,
		IdempotencyKey: in.IdempotencyKey, MentionAll: in.MentionAll, MentionContacts: in.MentionContacts,
	}
	err = QueueTx(ctx, s.db, func(tx *gorm.DB) error {
		contacts, err := resolveContacts(tx, in)
		if err != nil {
			return err
		}
		plan, err := planDeliveries(tx, contacts, in)
		if err != nil {
			return err
		}
		return insertAlert(tx, a, plan)
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) && in.IdempotencyKey != nil {
		// A concurrent send with the same key committed first; the unique index made us wait for it.
		first, lerr := s.alertByKey(ctx, *in.IdempotencyKey)
		if lerr != nil {
			return nil, false, lerr
		}
		if first != nil {
			return first, false, nil
		}
	}
	if err != nil {
		return nil, false, wrapAlertErr("create alert", err)
	}
	return a, true, nil
}

// CreateTestAlert sends a test message to each webhook of one contact, as an alert.
func (s *Store) CreateTestAlert(ctx context.Context, contactID string) (*Alert, error) {
	var a *Alert
	err := QueueTx(ctx, s.db, func(tx *gorm.DB) error {
		cid, ok := ParseID(contactID)
		var c Contact
		if ok {
			if err := tx.First(&c, cid).Error; err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
				return fmt.Errorf("load contact: %w", err)
			}
		}
		if c.ID == 0 {
			return notFound("id", "contact", contactID)
		}
		var hooks []Webhook
		if err := tx.Where("contact_id = ?", c.ID).Order("position, id").Find(&hooks).Error; err != nil {
			return fmt.Errorf("load webhooks: %w", err)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "Test message from Herald for contact %q: each of its %d webhook(s) gets one.\n", c.Name, len(hooks))
		for i, h := range hooks {
			fmt.Fprintf(&b, "%d. %s %s\n", i+1, h.Platform.Name(), senders.RedactURL(h.URL))
		}
		b.WriteString("If you can read this, the webhook works; nothing needs to be done.")
		in := AlertInput{Title: TestAlertTitle, Content: b.String(), Severity: senders.Info, Format: senders.Text}
		plan, err := planDeliveries(tx, []Contact{c}, in)
		if err != nil {
			return err
		}
		a = &Alert{Title: in.Title, Content: in.Content, Severity: in.Severity, Format: in.Format, Status: AlertPending, Test: true}
		return insertAlert(tx, a, plan)
	})
	if err != nil {
		return nil, wrapAlertErr("create test alert", err)
	}
	return a, nil
}

// insertAlert writes the alert, its deliveries, and the robot rows the dispatcher locks.
func insertAlert(tx *gorm.DB, a *Alert, plan []PlannedDelivery) error {
	if len(plan) == 0 {
		return invalid("", "the alert has no webhooks to send to")
	}
	now, err := DBNow(tx)
	if err != nil {
		return err
	}
	a.ID, a.CreatedAt, a.UpdatedAt = 0, now, now // a retried transaction starts over
	if err := tx.Create(a).Error; err != nil {
		return err // a duplicate idempotency key is recognised by the caller
	}
	rows := make([]Delivery, len(plan))
	robots := make([]Robot, 0, len(plan))
	for i, p := range plan {
		d := Delivery{
			AlertID: a.ID, Platform: p.Target.Platform, URL: p.Target.URL, URLHash: urlHash(p.Target.URL),
			MentionPhones: p.Message.MentionPhones, ContactIDs: p.ContactIDs, ContactNames: p.ContactNames,
			Status: DeliveryPending, NextAttemptAt: &now, CreatedAt: now, UpdatedAt: now,
		}
		if p.Target.Secret != "" {
			d.Secret = &p.Target.Secret
		}
		if p.Target.Keyword != "" {
			d.Keyword = &p.Target.Keyword
		}
		rows[i] = d
		robots = append(robots, Robot{URLHash: d.URLHash, Platform: d.Platform, CreatedAt: now, UpdatedAt: now})
	}
	if err := tx.Omit(clause.Associations).CreateInBatches(rows, 200).Error; err != nil {
		return fmt.Errorf("insert deliveries: %w", err)
	}
	return ensureRobots(tx, robots)
}

// ensureRobots inserts the robot rows that do not exist yet. Existing rows are only read, never
// written: a write would wait for a dispatcher holding the robot's lock.
func ensureRobots(tx *gorm.DB, robots []Robot) error {
	hashes := make([]string, len(robots))
	for i, r := range robots {
		hashes[i] = r.URLHash
	}
	existing := make(map[string]bool, len(hashes))
	for chunk := range slices.Chunk(hashes, MaxIDsPerRequest) {
		var part []string
		if err := tx.Model(&Robot{}).Where("url_hash IN ?", chunk).Pluck("url_hash", &part).Error; err != nil {
			return fmt.Errorf("look up robots: %w", err)
		}
		for _, h := range part {
			existing[h] = true
		}
	}
	var missing []Robot
	for _, r := range robots {
		if !existing[r.URLHash] {
			missing = append(missing, r)
			existing[r.URLHash] = true
		}
	}
	if len(missing) == 0 {
		return nil
	}
	// Sorted, so that two alerts creating the same robots lock them in the same order.
	slices.SortFunc(missing, func(a, b Robot) int { return strings.Compare(a.URLHash, b.URLHash) })
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(missing, 500).Error; err != nil {
		return fmt.Errorf("insert robots: %w", err)
	}
	return nil
}

func (s *Store) alertByKey(ctx context.Context, key string) (*Alert, error) {
	var rows []*Alert
	if err := s.db.WithContext(ctx).Where("idempotency_key = ?", key).Limit(1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("look up idempotency key: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return rows[0], nil
}

func wrapAlertErr(op string, err error) error {
	if _, ok := AsError(err); ok {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}

package senders

import (
	"strings"
	"testing"
)

func TestHeadingShowsSeverityInBothLanguagesAndEveryKeyword(t *testing.T) {
	m := Message{Title: "Disk full", Severity: Critical}
	if got := Heading(m, "SchedulerX", "", "ops"); got != "[CRITICAL 严重] Disk full [SchedulerX] [ops]" {
		t.Fatalf("Heading = %q", got)
	}
	m.Title = "SchedulerX: Disk full"
	if got := Heading(m, "SchedulerX"); got != "[CRITICAL 严重] SchedulerX: Disk full" {
		t.Fatalf("a keyword already in the title was repeated: %q", got)
	}
	if got := Heading(Message{Title: "t", Severity: Warning}); got != "[WARNING 警告] t" {
		t.Fatalf("Heading = %q", got)
	}
	if got := Heading(Message{Title: "t", Severity: Info}); got != "[INFO 提示] t" {
		t.Fatalf("Heading = %q", got)
	}
}

func TestNormalizeFillsDefaultsAndRejectsTheUnknown(t *testing.T) {
	m, err := Message{Title: " a\nb ", Content: "c", MentionPhones: []string{" 138 ", "", "138", "139"}}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	if m.Severity != Info || m.Format != Text || m.Title != "a b" || strings.Join(m.MentionPhones, ",") != "138,139" {
		t.Fatalf("Normalize = %+v", m)
	}
	for _, bad := range []Message{
		{Title: "t", Severity: "FATAL"},
		{Title: "t", Format: "HTML"},
		{Title: " ", Content: "\n"},
	} {
		if _, err := bad.Normalize(); err == nil {
			t.Errorf("Normalize(%+v) accepted it", bad)
		}
	}
	long, _ := Message{Title: strings.Repeat("标", 1000)}.Normalize()
	if len(long.Title) > MaxTitleBytes || !strings.HasSuffix(long.Title, "…") {
		t.Fatalf("long title not capped: %d bytes", len(long.Title))
	}
}

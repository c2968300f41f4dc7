package main

import (
	"go/build"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestPackagesImportOnlyWhatTheMapAllows holds the import lines of ARCHITECTURE.md: each room may
// import only the rooms listed for it (test files aside).
func TestPackagesImportOnlyWhatTheMapAllows(t *testing.T) {
	const module = "github.com/heraldhq/herald/"
	allowed := map[string][]string{
		"models":               {"secrets", "senders", "templates"},
		"delivery":             {"models", "secrets", "senders", "senders/notify", "templates"},
		"graph":                {"auth", "delivery", "graph/model", "inbound", "models", "senders", "senders/notify", "templates"},
		"graph/model":          {"delivery", "models", "senders"},
		"inbound":              {"auth", "delivery", "models", "senders", "templates"},
		"templates":            {"senders"},
		"auth":                 {"models"},
		"secrets":              {},
		"metrics":              {"senders"},
		"senders":              {},
		"senders/dingtalk":     {"senders"},
		"senders/wecom":        {"senders"},
		"senders/lark":         {"senders"},
		"senders/platforms":    {"senders", "senders/dingtalk", "senders/lark", "senders/wecom"},
		"senders/fakeplatform": {"senders"},
		"senders/notify":       {"senders"},
		"console":              {},
		"client":               {},
		"cli":                  {"client", "models", "senders", "senders/platforms"},
	}
	for dir, may := range allowed {
		pkg, err := build.Default.ImportDir(dir, 0)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		for _, imp := range pkg.Imports {
			room, ours := strings.CutPrefix(imp, module)
			if ours && !slices.Contains(may, room) {
				t.Errorf("%s imports %s; ARCHITECTURE.md allows it only %v", dir, room, may)
			}
		}
	}
}

// TestZoneDataShipsInTheBinary: quiet hours and message times read IANA zones, and a machine
// without tzdata (a scratch container) must compute the same windows, so the binary embeds the
// zone database.
func TestZoneDataShipsInTheBinary(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	if !slices.Contains(strings.Fields(string(out)), "time/tzdata") {
		t.Fatal("time/tzdata is not linked into herald: import it where zones are read (models/quiet.go)")
	}
}

package server

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var updateDocs = flag.Bool("update", false, "rewrite the settings table of docs/operations.md")

const (
	settingsStart = "<!-- settings: made by go test ./server -run TestOperationsDoc -update -->\n"
	settingsEnd   = "<!-- /settings -->\n"
)

// settingsTable is docs/operations.md's table of every setting, from the
// one table LoadConfig reads.
func settingsTable() string {
	d := Defaults()
	var b strings.Builder
	b.WriteString("| flag | environment | config key | default | meaning |\n|---|---|---|---|---|\n")
	for _, s := range settings(&d) {
		fl := "—"
		if s.flag != "" {
			fl = "`--" + s.flag + "`"
		}
		def := s.value.String()
		if def == "" {
			def = "—"
		} else {
			def = "`" + def + "`"
		}
		fmt.Fprintf(&b, "| %s | `%s` | `%s` | %s | %s |\n", fl, s.env, s.key, def, strings.ReplaceAll(s.usage, "|", "\\|"))
	}
	fmt.Fprintf(&b, "| `--config` | `BERTH_CONFIG` | — | — | a JSON file with the keys above (`limits.x` is `{\"limits\": {\"x\": …}}`, durations as `\"90s\"`); the environment overrides it, flags override both |\n")
	return b.String()
}

// TestOperationsDoc keeps the settings table of docs/operations.md what
// the code reads.
func TestOperationsDoc(t *testing.T) {
	const path = "../docs/operations.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, settingsStart), strings.Index(doc, settingsEnd)
	if i < 0 || j < i {
		t.Fatalf("docs/operations.md has no settings markers")
	}
	want := doc[:i+len(settingsStart)] + settingsTable() + doc[j:]
	if *updateDocs {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if doc != want {
		t.Fatal("the settings table of docs/operations.md is not current: go test ./server -run TestOperationsDoc -update")
	}
	// And every key is one the config file takes.
	for _, s := range settings(&Config{}) {
		if _, err := LoadConfig("test", []string{"--config", writeConfig(t, s.key)}, func(string) (string, bool) { return "", false }, nil); err != nil && strings.Contains(err.Error(), "unknown field") {
			t.Errorf("%s is not a config-file key: %v", s.key, err)
		}
	}
}

// writeConfig writes a config file that sets key (a.b nests) to its type's
// zero-ish JSON value, and returns its path.
func writeConfig(t *testing.T, key string) string {
	parts := strings.Split(key, ".")
	inner := fmt.Sprintf("%q: null", parts[len(parts)-1])
	for i := len(parts) - 2; i >= 0; i-- {
		inner = fmt.Sprintf("%q: {%s}", parts[i], inner)
	}
	p := t.TempDir() + "/c.json"
	os.WriteFile(p, []byte("{"+inner+"}"), 0o600)
	return p
}

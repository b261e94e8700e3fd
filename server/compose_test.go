package server

import (
	"bufio"
	"io"
	"os"
	"strings"
	"testing"
)

// TestComposeFile reads the berth service of contrib/compose.yaml: every
// BERTH_ variable it sets is a setting, and together they make a valid
// configuration on PostgreSQL and S3.
func TestComposeFile(t *testing.T) {
	f, err := os.Open("../contrib/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	known := map[string]bool{}
	for _, s := range settings(&Config{}) {
		known[s.env] = true
	}
	env := map[string]string{}
	inBerth, inEnv := false, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   "):
			inBerth, inEnv = trimmed == "berth:", false
		case inBerth && trimmed == "environment:":
			inEnv = true
		case inBerth && inEnv && strings.HasPrefix(line, "      ") && strings.Contains(trimmed, ": "):
			k, v, _ := strings.Cut(trimmed, ": ")
			env[k] = v
		case inBerth && strings.HasPrefix(line, "    ") && !strings.HasPrefix(line, "     "):
			inEnv = false
		}
	}
	if len(env) == 0 {
		t.Fatal("no environment found for the berth service")
	}
	for k := range env {
		if strings.HasPrefix(k, "BERTH_") && !known[k] {
			t.Errorf("compose.yaml sets %s, which is no berth setting", k)
		}
	}
	c, err := LoadConfig("compose", nil, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, io.Discard)
	if err != nil {
		t.Fatalf("the compose file's settings: %v", err)
	}
	if !strings.HasPrefix(c.Metadata, "postgres://") || !strings.HasPrefix(c.Blobs, "s3://") || c.AccessKeyID == "" {
		t.Fatalf("the compose file does not configure the scale-out stores and shared keys: %+v", c)
	}
}

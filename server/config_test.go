package server

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadConfigPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "berth.json")
	os.WriteFile(file, []byte(`{"addr":"127.0.0.1:7000","region":"eu-west-1","registryId":"111111111111","createOnPush":true}`), 0o600)
	env := map[string]string{"BERTH_REGION": "eu-central-1", "BERTH_ACCESS_KEY_ID": "K", "BERTH_SECRET_ACCESS_KEY": "S"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	c, err := LoadConfig("test", []string{"--config", file, "--registry-id", "222222222222"}, lookup, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// File, then environment, then flags.
	if c.Addr != "127.0.0.1:7000" || c.Region != "eu-central-1" || c.RegistryID != "222222222222" || !c.CreateOnPush ||
		c.AccessKeyID != "K" || c.Metadata != "sqlite" || c.Blobs != "filesystem" || !c.Migrate {
		t.Fatalf("%+v", c)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	none := func(string) (string, bool) { return "", false }
	file := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(file, []byte(`{"adr":"typo"}`), 0o600)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--registry-id", "12"}, "registry-id"},
		{[]string{"--region", "moon"}, "region"},
		{[]string{"--addr", "nowhere"}, "addr"},
		{[]string{"--metadata", "mysql://x"}, "metadata"},
		{[]string{"--blobs", "ftp://x"}, "blobs"},
		{[]string{"--config", file}, "unknown field"},
		{[]string{"extra"}, "no arguments"},
	}
	for _, c := range cases {
		_, err := LoadConfig("test", c.args, none, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error about %s", c.args, err, c.want)
		}
	}
	bad := func(k string) (string, bool) { return "perhaps", k == "BERTH_CREATE_ON_PUSH" }
	if _, err := LoadConfig("test", nil, bad, io.Discard); err == nil {
		t.Error("BERTH_CREATE_ON_PUSH=perhaps accepted")
	}
	if c, err := LoadConfig("test", nil, none, io.Discard); err != nil || c != Defaults() {
		t.Errorf("defaults: %+v %v", c, err)
	}
}

// TestConfigFileDurations: a config file writes durations as Go does.
func TestConfigFileDurations(t *testing.T) {
	file := filepath.Join(t.TempDir(), "berth.json")
	os.WriteFile(file, []byte(`{"limits":{"idleTimeout":"90s","stallTimeout":"2m","maxHeaders":50}}`), 0o600)
	c, err := LoadConfig("test", []string{"--config", file}, func(string) (string, bool) { return "", false }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Limits.IdleTimeout != 90*time.Second || c.Limits.StallTimeout != 2*time.Minute || c.Limits.MaxHeaders != 50 || c.Limits.HeaderTimeout != 30*time.Second {
		t.Fatalf("%+v", c.Limits)
	}
	os.WriteFile(file, []byte(`{"limits":{"idleTimeout":"soon"}}`), 0o600)
	if _, err := LoadConfig("test", []string{"--config", file}, func(string) (string, bool) { return "", false }, io.Discard); err == nil || !strings.Contains(err.Error(), "idleTimeout") {
		t.Fatalf("a bad duration: %v", err)
	}
}

package awsproto

import (
	"encoding/base64"
	"encoding/json"
	"testing"
)

func TestMembers(t *testing.T) {
	body := []byte(` { "layerPartBlob" : "QUFB\"\\\\" , "repositoryName":"app\"x","tags":[{"Key":"a]","Value":"{"}],"n":-1.5e3,"ok":true,
		"nested":{"repositoryName":"not this"},"repositoryNames":["a","b"]} `)
	got, err := Members(body, "repositoryName", "tags", "repositoryNames", "n", "ok", "absent")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"repositoryName": `"app\"x"`, "tags": `[{"Key":"a]","Value":"{"}]`, "repositoryNames": `["a","b"]`, "n": "-1.5e3", "ok": "true"}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for k, v := range want {
		if string(got[k]) != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	if m, err := Members([]byte(`{}`), "a"); err != nil || len(m) != 0 {
		t.Errorf("{}: %q %v", m, err)
	}
	for _, bad := range []string{``, `[]`, `{"a"}`, `{"a":"x`, `{"a":1,}`, `{"a":{"b":1}`} {
		if _, err := Members([]byte(bad), "a"); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// BenchmarkMembersLayerPart: a 20 MiB layer part's repository name.
func BenchmarkMembersLayerPart(b *testing.B) {
	body, _ := json.Marshal(map[string]any{"layerPartBlob": base64.StdEncoding.EncodeToString(make([]byte, 20<<20)), "repositoryName": "app", "uploadId": "x"})
	b.SetBytes(int64(len(body)))
	for i := 0; i < b.N; i++ {
		if m, err := Members(body, "repositoryName"); err != nil || string(m["repositoryName"]) != `"app"` {
			b.Fatal(m, err)
		}
	}
}

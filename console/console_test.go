package console

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The console runs air-gapped: no template, stylesheet or script may
// name another host (a URL with a scheme or a protocol-relative one) in
// anything a browser would load or follow.
func TestNoExternalHost(t *testing.T) {
	// src=, href=, action=, url(), @import and fetch/XHR targets.
	loads := regexp.MustCompile(`(?i)(src|href|action|formaction)\s*=\s*"(https?:)?//|url\(\s*['"]?(https?:)?//|@import|fetch\(\s*['"](https?:)?//`)
	n := 0
	for _, fsys := range []fs.FS{templateFS, staticFS} {
		fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, _ := fs.ReadFile(fsys, path)
			n++
			if m := loads.Find(b); m != nil {
				t.Errorf("%s loads from another host: %s", path, m)
			}
			// The one namespace URI an inline SVG needs is not a load.
			text := strings.ReplaceAll(string(b), `xmlns="http://www.w3.org/2000/svg"`, "")
			if m := regexp.MustCompile(`https?://[a-z0-9.-]+`).FindString(text); m != "" && !strings.HasSuffix(path, ".html") {
				t.Errorf("%s names the host %s", path, m)
			}
			return nil
		})
	}
	if n < 10 {
		t.Fatalf("checked %d embedded files; the embed patterns lost some", n)
	}
}

func TestFormat(t *testing.T) {
	for n, want := range map[int64]string{0: "0 bytes", 1023: "1023 bytes", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 20: "5.0 MiB", 3 << 30: "3.0 GiB"} {
		if got := sizeText(n); got != want {
			t.Errorf("sizeText(%d) = %q, want %q", n, got, want)
		}
	}
	if got := string(humanSize(1536)); got != `<span class="size" title="1536 bytes">1.5 KiB</span>` {
		t.Errorf("humanSize: %s", got)
	}
	at := time.Date(2026, 12, 7, 19, 5, 9, 0, time.FixedZone("x", 3600))
	if got := string(when(at)); got != `<time datetime="2026-12-07T18:05:09Z" title="2026-12-07 18:05:09 UTC">2026-12-07 18:05 UTC</time>` {
		t.Errorf("when: %s", got)
	}
	if got := string(when(time.Time{})); !strings.Contains(got, "never") {
		t.Errorf("when(zero): %s", got)
	}
	if got := shortDigest("sha256:0123456789abcdef0123"); got != "0123456789ab" {
		t.Errorf("shortDigest: %s", got)
	}
	for in, want := range map[string]string{"team/app": "team/app", "a b": "'a b'", "it's": `'it'\''s'`, "": "''"} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// A sign-in returns only to a console page of this host.
func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/ui/repository?name=a":    "/ui/repository?name=a",
		"/ui/":                     "/ui/",
		"https://evil.example/ui/": "",
		"//evil.example/ui/":       "",
		"/v2/":                     "",
		"/ui/\\evil":               "",
		"javascript:alert(1)":      "",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPageURL(t *testing.T) {
	// pageURL drops empty values and escapes the rest.
	if got := pageURL("repository", "name", "team/app", "token", ""); got != "/ui/repository?name=team%2Fapp" {
		t.Errorf("pageURL: %s", got)
	}
}

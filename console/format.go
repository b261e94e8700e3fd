package console

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/ecr"
)

// funcs are the templates' helpers: how sizes, times and digests read.
var funcs = template.FuncMap{
	"short": shortDigest,
	"size":  humanSize,
	"when":  when,
	"join":  strings.Join,
	"page":  pageURL,
	"quote": shellQuote,
	"add":   func(a, b int) int { return a + b },
	"lower": strings.ToLower,
	"dict": func(repo string, nodes []referrerNode) map[string]any {
		return map[string]any{"Repo": repo, "Nodes": nodes}
	},
}

// shortDigest is the first 12 hex digits of a digest, as tools show it.
func shortDigest(d string) string {
	_, hex, ok := strings.Cut(d, ":")
	if !ok || len(hex) < 12 {
		return d
	}
	return hex[:12]
}

// humanSize is a size in binary units, with the exact bytes on hover.
func humanSize(n int64) template.HTML {
	exact := strconv.FormatInt(n, 10) + " bytes"
	return template.HTML(`<span class="size" title="` + exact + `">` + sizeText(n) + `</span>`)
}

// sizeText is a size in binary units ("1.5 MiB"), or bytes below 1 KiB.
func sizeText(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " bytes"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// when is a time in UTC, which the page's script shows in the viewer's
// locale, with the exact UTC time on hover; "never" for a zero time.
func when(t time.Time) template.HTML {
	if t.IsZero() {
		return `<span class="never">never</span>`
	}
	u := t.UTC()
	exact := u.Format("2006-01-02 15:04:05 UTC")
	return template.HTML(`<time datetime="` + u.Format(time.RFC3339) + `" title="` + exact + `">` + u.Format("2006-01-02 15:04 UTC") + `</time>`)
}

// shellQuote quotes s for a POSIX shell if it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./-_", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// exceptionName is the ECR exception of an error, as the API names it.
func exceptionName(err error) string { return ecr.ExceptionName(berth.ErrorCode(err)) }

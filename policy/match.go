package policy

import (
	"math/bits"
	"strings"
	"unicode/utf8"
)

// globMode says how a pattern's wildcards and letters match.
type globMode uint8

const (
	// foldCase: ASCII letters match either case. Actions: "The prefix and
	// the action name are case insensitive" (IAM
	// reference_policies_elements_action).
	foldCase globMode = 1 << iota
	// arnSegments: the pattern is an ARN. '*' and '?' stay inside one
	// colon-separated segment, except that a '*' that ends a segment (is
	// followed by ':' or by the end of the pattern) may run across colons.
	// Inside a segment '*' crosses '/', so repository/team/* matches
	// team/x/y (IAM reference_policies_elements_resource: "If the * wildcard
	// is the last character of a resource ARN segment, it can expand to
	// match beyond the colon boundaries"; "can expand to replace everything
	// within a segment, including characters like a forward slash").
	arnSegments
	// escaped: the pattern came from expandVariables and marks literal
	// '*', '?' and NUL with a preceding escapeByte.
	escaped
)

// escapeByte marks the next rune of an expanded pattern as literal. NUL
// never appears in a policy that needs it: expandVariables escapes it too.
const escapeByte = 0

// matchAction reports whether action (e.g. "ecr:PutImage") matches an
// Action or NotAction entry.
func matchAction(pattern, action string) bool {
	return globMatch(pattern, action, foldCase)
}

// globMatch reports whether s matches pattern under mode. '*' is any run of
// characters, '?' exactly one character (rune). It runs the pattern as a
// set of states over s, so its cost is bounded by len(pattern)*len(s) and
// a pattern full of stars cannot make it backtrack without end.
func globMatch(pattern, s string, mode globMode) bool {
	if pattern == "*" && mode&escaped == 0 {
		return true
	}
	special := "*?"
	if mode&escaped != 0 {
		special = "*?\x00"
	}
	star := strings.IndexAny(pattern, special)
	if star < 0 {
		if mode&foldCase != 0 {
			return strings.EqualFold(pattern, s)
		}
		return pattern == s
	}
	// A single trailing '*' is a prefix test; the '*' ends the pattern, so it
	// crosses colons even for ARNs.
	if star == len(pattern)-1 && pattern[star] == '*' {
		prefix := pattern[:star]
		if len(s) < len(prefix) {
			return false
		}
		if mode&foldCase != 0 {
			return strings.EqualFold(prefix, s[:len(prefix)])
		}
		return s[:len(prefix)] == prefix
	}
	return globStates(pattern, s, mode)
}

// globStates is the general matcher: bit i of the state set means "the
// first i bytes of pattern have matched the input read so far".
func globStates(p, s string, mode globMode) bool {
	words := len(p)/64 + 1
	var buf [8]uint64
	var cur, next []uint64
	if 2*words <= len(buf) {
		cur, next = buf[:words], buf[words:2*words]
	} else {
		all := make([]uint64, 2*words)
		cur, next = all[:words], all[words:]
	}
	addState(cur, p, 0, mode)
	for i := 0; i < len(s); {
		c, w := utf8.DecodeRuneInString(s[i:])
		i += w
		clear(next)
		alive := false
		for wi, word := range cur {
			for word != 0 {
				b := bits.TrailingZeros64(word)
				word &^= 1 << b
				j := wi*64 + b
				if j >= len(p) {
					continue
				}
				if step(next, p, j, c, mode) {
					alive = true
				}
			}
		}
		if !alive {
			return false
		}
		cur, next = next, cur
	}
	n := len(p)
	return cur[n/64]&(1<<(n%64)) != 0
}

// step advances the state at pattern offset j over the input rune c.
func step(next []uint64, p string, j int, c rune, mode globMode) bool {
	pc := p[j]
	switch {
	case pc == escapeByte && mode&escaped != 0:
		lit, w := utf8.DecodeRuneInString(p[j+1:])
		if runeEqual(lit, c, mode) {
			addState(next, p, j+1+w, mode)
			return true
		}
	case pc == '*':
		if mode&arnSegments == 0 || c != ':' || j+1 == len(p) || p[j+1] == ':' {
			addState(next, p, j, mode)
			return true
		}
	case pc == '?':
		if mode&arnSegments == 0 || c != ':' {
			addState(next, p, j+1, mode)
			return true
		}
	default:
		lit, w := utf8.DecodeRuneInString(p[j:])
		if runeEqual(lit, c, mode) {
			addState(next, p, j+w, mode)
			return true
		}
	}
	return false
}

// addState adds state j and, since '*' may match nothing, the states after
// each '*' that follows it.
func addState(set []uint64, p string, j int, mode globMode) {
	for {
		set[j/64] |= 1 << (j % 64)
		if j >= len(p) || p[j] != '*' {
			return
		}
		j++
	}
}

func runeEqual(a, b rune, mode globMode) bool {
	if a == b {
		return true
	}
	if mode&foldCase == 0 {
		return false
	}
	return 'A' <= a && a <= 'Z' && a+'a'-'A' == b || 'a' <= a && a <= 'z' && a-'a'+'A' == b
}

// expandVariables replaces the policy variables in s with their values
// from ctx (IAM reference_policies_variables): ${key}, ${key, 'default'}
// (the default when the key has no single value; a doubled single quote
// inside it is one quote), and ${*}, ${?}, ${$} for the literal
// characters. A "${" that is never closed is a variable that cannot be
// resolved, not text. Substitution is done once: a value that itself holds
// "${" is not expanded again. With glob
// set, the literal characters and substituted text are escaped so that a
// '*' from a tag value stays a '*'. ok is false when a variable has no
// value and no default; the caller then treats the value as not matching
// ("any attempt to match it fails", same page).
func expandVariables(s string, ctx Context, glob bool) (out string, ok bool) {
	if !strings.Contains(s, "${") && !(glob && strings.IndexByte(s, escapeByte) >= 0) {
		return s, true
	}
	var b strings.Builder
	literal := func(t string) {
		if !glob {
			b.WriteString(t)
			return
		}
		for _, r := range t {
			if r == '*' || r == '?' || r == escapeByte {
				b.WriteByte(escapeByte)
			}
			b.WriteRune(r)
		}
	}
	for {
		open := strings.Index(s, "${")
		if open < 0 {
			plain(&b, s, glob)
			return b.String(), true
		}
		end := closingBrace(s[open:])
		if end < 0 { // an unterminated variable cannot be resolved; ${$} writes a literal $
			return "", false
		}
		plain(&b, s[:open], glob)
		value, found := resolveVariable(s[open+2:open+end], ctx)
		if !found {
			return "", false
		}
		literal(value)
		s = s[open+end+1:]
	}
}

// closingBrace finds the '}' that closes the variable s starts with,
// skipping braces inside a quoted default; -1 if there is none.
func closingBrace(s string) int {
	quoted := false
	for i := 2; i < len(s); i++ {
		switch s[i] {
		case '\'':
			quoted = !quoted
		case '}':
			if !quoted {
				return i
			}
		}
	}
	return -1
}

// plain writes pattern text that came from the policy itself: its wildcards
// stay wildcards, only NUL needs escaping.
func plain(b *strings.Builder, s string, glob bool) {
	if !glob {
		b.WriteString(s)
		return
	}
	for i := 0; i < len(s); i++ {
		if s[i] == escapeByte {
			b.WriteByte(escapeByte)
		}
		b.WriteByte(s[i])
	}
}

// resolveVariable gives the value of the inside of ${...}.
func resolveVariable(inner string, ctx Context) (string, bool) {
	switch inner {
	case "*", "?", "$":
		return inner, true
	}
	key, def, hasDefault := inner, "", false
	if comma := strings.IndexByte(inner, ','); comma >= 0 {
		key = inner[:comma]
		d, ok := quotedDefault(strings.TrimSpace(inner[comma+1:]))
		if !ok {
			return "", false
		}
		def, hasDefault = d, true
	}
	key = strings.TrimSpace(key)
	if key != "" && !strings.ContainsAny(key, " \t") {
		if vals, ok := lookup(ctx, key); ok && len(vals) == 1 {
			return vals[0], true
		}
	}
	return def, hasDefault
}

// quotedDefault reads a default in single quotes, where a doubled single
// quote stands for one.
func quotedDefault(s string) (string, bool) {
	if len(s) < 2 || s[0] != '\'' || s[len(s)-1] != '\'' {
		return "", false
	}
	body := s[1 : len(s)-1]
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		if body[i] == '\'' {
			if i+1 >= len(body) || body[i+1] != '\'' {
				return "", false
			}
			i++
		}
		b.WriteByte(body[i])
	}
	return b.String(), true
}

package awsproto

import (
	"bytes"
	"errors"
)

// Members returns the raw values of the named top-level members of a JSON
// object, without decoding the rest: a door that needs a request's
// repository name before its handler decodes it need not read a 20 MiB
// layer part twice. Strings are skipped with bytes.IndexByte. body should
// be a checked one (CheckJSON); a malformed one gives an error.
func Members(body []byte, names ...string) (map[string][]byte, error) {
	out := map[string][]byte{}
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return nil, errNotObject
	}
	i++
	for first := true; ; first = false {
		i = skipSpace(body, i)
		if first && i < len(body) && body[i] == '}' {
			return out, nil
		}
		if i >= len(body) || body[i] != '"' {
			return nil, errNotObject
		}
		end, err := skipString(body, i)
		if err != nil {
			return nil, err
		}
		key := body[i+1 : end-1]
		i = skipSpace(body, end)
		if i >= len(body) || body[i] != ':' {
			return nil, errNotObject
		}
		i = skipSpace(body, i+1)
		vend, err := skipValue(body, i)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			if string(key) == n {
				out[n] = body[i:vend]
			}
		}
		i = skipSpace(body, vend)
		switch {
		case i < len(body) && body[i] == ',':
			i++
		case i < len(body) && body[i] == '}':
			return out, nil
		default:
			return nil, errNotObject
		}
	}
}

var errNotObject = errors.New("awsproto: the body is not a JSON object")

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string that starts at b[i].
func skipString(b []byte, i int) (int, error) {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, errNotObject
		}
		j += k
		// Escaped if preceded by an odd run of backslashes.
		n := 0
		for p := j - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		j++
		if n%2 == 0 {
			return j, nil
		}
	}
}

// skipValue returns the index after the value that starts at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errNotObject
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := skipString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errNotObject
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\t' && b[j] != '\r' {
		j++
	}
	if j == i {
		return 0, errNotObject
	}
	return j, nil
}

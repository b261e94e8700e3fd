package policy

import (
	"strings"
	"testing"
	"time"
)

func TestGlobMatch(t *testing.T) {
	const arn = arnSegments
	cases := []struct {
		pattern, s string
		mode       globMode
		want       bool
	}{
		{"*", "", 0, true},
		{"*", "*", arn, true},
		{"", "", 0, true},
		{"", "a", 0, false},
		{"ecr:*", "ecr:PutImage", foldCase, true},
		{"ECR:putimage", "ecr:PutImage", foldCase, true},
		{"ecr:Put?mage", "ecr:PutImage", foldCase, true},
		{"ecr:Put?mage", "ecr:PutImages", foldCase, false},
		{"ecr:*Image", "ecr:BatchGetImage", foldCase, true},
		{"ecr:*Image", "ecr:BatchGetImages", foldCase, false},
		{"ec?:Get*", "ecr:GetAuthorizationToken", foldCase, true},
		{"ecr:PutImage", "ecr:putimage", 0, false},
		// Resources: '*' crosses '/', stays in its colon segment unless it
		// ends the segment.
		{"arn:aws:ecr:us-east-1:111122223333:repository/team/*", "arn:aws:ecr:us-east-1:111122223333:repository/team/x/y", arn, true},
		{"arn:aws:ecr:us-east-1:111122223333:repository/team/*", "arn:aws:ecr:us-east-1:111122223333:repository/teams/x", arn, false},
		{"arn:aws:ecr:*:*:repository/app-?", "arn:aws:ecr:eu-west-1:444455556666:repository/app-b", arn, true},
		{"arn:aws:ecr:*:*:repository/app-?", "arn:aws:ecr:eu-west-1:444455556666:repository/app-bb", arn, false},
		{"arn:aws:ecr:us-*-1:*:repository/x", "arn:aws:ecr:us-east-1:1:repository/x", arn, true},
		{"arn:aws:ecr:us-*1:111122223333:repository/x", "arn:aws:ecr:us-east-1:2:31:111122223333:repository/x", arn, false},
		{"arn:aws:ecr:us-*1:111122223333:repository/x", "arn:aws:ecr:us-east-1:2:31:111122223333:repository/x", 0, true},
		{"arn:aws:ecr:*:111122223333:repository/x", "arn:aws:ecr:us-east-1:2:111122223333:repository/x", arn, true},
		{"arn:aws:ecr:us-east-1:*", "arn:aws:ecr:us-east-1:111122223333:repository/x", arn, true},
		{"arn:aws:ecr:?s-east-1:*", "arn:aws:ecr::s-east-1:1", arn, false},
		{"arn:aws:logs:*:*:log-group:/x:*", "arn:aws:logs:us-east-1:1:log-group:/x:log-stream:y", arn, true},
		{"arn:aws:ecr:us-east-1:111122223333:repository/*", "*", arn, false},
		{"arn:aws:ecr:us-east-1:111122223333:repository/App", "arn:aws:ecr:us-east-1:111122223333:repository/app", arn, false},
		// Escaped literals from expanded variables.
		{"team\x00*", "team*", escaped, true},
		{"team\x00*", "teamx", escaped, false},
		{"a\x00?b*", "a?bc", escaped, true},
		{"a\x00\x00", "a\x00", escaped, true},
		// Runes, not bytes.
		{"?", "é", 0, true},
		{"caf?s", "cafés", 0, true},
		{"é*", "éa", 0, true},
	}
	for _, c := range cases {
		if got := globMatch(c.pattern, c.s, c.mode); got != c.want {
			t.Errorf("globMatch(%q, %q, %b) = %v, want %v", c.pattern, c.s, c.mode, got, c.want)
		}
	}
}

// TestGlobMatchBounded shows that a pattern built to make a backtracking
// matcher explode costs a bounded amount here.
func TestGlobMatchBounded(t *testing.T) {
	pattern := strings.Repeat("*a", 200) + "*b"
	s := strings.Repeat("a", 5000)
	start := time.Now()
	if globMatch(pattern, s, 0) {
		t.Fatal("matched a string without b")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
	if !globMatch(pattern, s+"b", 0) {
		t.Fatal("did not match the string ending in b")
	}
}

func TestExpandVariables(t *testing.T) {
	ctx := MapContext{"aws:username": {"ci"}, "s:star": {"a*b"}, "aws:TagKeys": {"x", "y"}}
	cases := []struct {
		in   string
		glob bool
		want string
		ok   bool
	}{
		{"repo/${aws:username}/*", false, "repo/ci/*", true},
		{"repo/${AWS:UserName}", false, "repo/ci", true},
		{"${ aws:username }", false, "ci", true},
		{"${s:star}*", true, "a\x00*b*", true},
		{"${s:star}", false, "a*b", true},
		{"${*}${?}${$}", false, "*?$", true},
		{"${*}x", true, "\x00*x", true},
		{"${s:missing}", false, "", false},
		{"${s:missing, 'dflt'}", false, "dflt", true},
		{"${s:missing, 'it''s'}", false, "it's", true},
		{"${s:missing,'unterminated}", false, "", false},
		{"${aws:TagKeys}", false, "", false}, // many values cannot be a variable
		{"${aws:username, '${aws:username}'}", false, "ci", true},
		{"${s:missing, '${aws:username}'}", false, "${aws:username}", true},
		{"unterminated ${ here", false, "", false},
		{"${$}{literal}", false, "${literal}", true},
		{"a\x00b", true, "a\x00\x00b", true},
	}
	for _, c := range cases {
		got, ok := expandVariables(c.in, ctx, c.glob)
		if got != c.want || ok != c.ok {
			t.Errorf("expandVariables(%q, glob=%v) = %q, %v; want %q, %v", c.in, c.glob, got, ok, c.want, c.ok)
		}
	}
}

package policy

import (
	"strings"
	"testing"
)

func TestDependsOnly(t *testing.T) {
	fixed := func(k string) bool {
		return strings.EqualFold(k, "aws:SourceIp") || strings.EqualFold(k, "aws:username")
	}
	for _, tc := range []struct {
		doc  string
		want bool
	}{
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}`, true},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ecr:*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`, true},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ecr:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}}]}`, false},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ecr:*","Resource":"*","Condition":{"StringEquals":{"ecr:ResourceTag/env":"prod"}}}]}`, false},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:*:*:repository/${aws:username}/*"}]}`, true},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:*:*:repository/${aws:CurrentTime}"}]}`, false},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"StringLike":{"aws:SourceIp":"${aws:EpochTime}"}}}]}`, false},
		// Under 2008-10-17 ${…} is literal text.
		{`{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:*:*:repository/${aws:CurrentTime}"}]}`, true},
	} {
		p, err := Parse(tc.doc)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.DependsOnly(fixed); got != tc.want {
			t.Errorf("%s: DependsOnly %v, want %v", tc.doc, got, tc.want)
		}
	}
}

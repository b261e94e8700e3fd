package policy

import (
	"errors"
	"reflect"
	"testing"
)

// FuzzParse: whatever the text, Parse either returns *Error or a policy
// that Validate (every kind), Evaluate, Message and PrincipalARNs handle
// without panicking, and that survives a trip through MarshalJSON.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		ecrAll, tokenAndPushAppA, allowPullToB,
		`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}}`,
		`{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":["111122223333","arn:aws:iam::111122223333:user/ci"]},"NotAction":"ecr:Get*","NotResource":"arn:aws:ecr:*:*:repository/${aws:username, 'x'}"}]}`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAllValues:StringLike":{"aws:TagKeys":["a*","${*}"]},"DateLessThan":{"aws:CurrentTime":1700000000},"Bool":{"aws:SecureTransport":true}}}}`,
		`{"Statement":[]}`, `[]`, `{`, `{"Statement":{"Principal":{"AWS":[]}}}`,
	} {
		f.Add(seed)
	}
	for _, m := range Managed() {
		f.Add(m.Document)
	}
	callers := []Principal{ci, session, rootA, ext, anon}
	f.Fuzz(func(t *testing.T, text string) {
		p, err := Parse(text)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Message == "" {
				t.Fatalf("Parse error %#v is not a *Error with a message", err)
			}
			return
		}
		for k := Identity; k <= Trust; k++ {
			for _, scope := range []string{ScopeV1, ScopeV2} {
				if err := Validate(p, k, ValidateOptions{RepositoryARN: repo("app-a"), RegistryScope: scope}); err != nil {
					var pe *Error
					if !errors.As(err, &pe) || pe.Message == "" || pe.Detail == "" {
						t.Fatalf("Validate error %#v lacks a message or detail", err)
					}
				}
			}
		}
		out := p.String()
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parsing %s: %v", out, err)
		}
		if !reflect.DeepEqual(again, p) {
			t.Fatalf("round trip changed the policy:\n%#v\n%#v", p, again)
		}
		_ = p.PrincipalARNs()
		for _, c := range callers {
			for _, res := range []string{"*", repo("app-a")} {
				req := Request{Principal: c, Action: "ecr:BatchGetImage", Resource: res,
					Context: MapContext{"aws:SourceIp": {"203.0.113.9"}, "aws:TagKeys": {"a", "b"}, "aws:CurrentTime": {"2024-01-01T00:00:00Z"}}}
				named := []Named{{Name: "p", Policy: p}}
				d := Evaluate(req, named, named)
				if d.Allowed != (d.Message(req) == "") {
					t.Fatalf("decision %+v and its message %q disagree", d, d.Message(req))
				}
			}
		}
	})
}

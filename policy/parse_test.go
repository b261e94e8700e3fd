package policy

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseForms(t *testing.T) {
	cases := []struct {
		name string
		text string
		want *Policy
	}{
		{
			name: "statement object, string elements",
			text: `{"Version":"2012-10-17","Id":"ECRPolicyId1","Statement":{"Sid":"A","Effect":"Allow","Action":"ecr:*","Resource":"*"}}`,
			want: &Policy{Version: Version2012, ID: "ECRPolicyId1", Statements: []Statement{
				{Sid: "A", Effect: Allow, Action: []string{"ecr:*"}, Resource: []string{"*"}}}},
		},
		{
			name: "arrays, principals, not-elements",
			text: `{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":["111122223333"],"Service":"codebuild.amazonaws.com"},"NotAction":[],"NotResource":["a","b"]}]}`,
			want: &Policy{Statements: []Statement{{Effect: Deny,
				NotPrincipal: &Principals{AWS: []string{"111122223333"}, Service: []string{"codebuild.amazonaws.com"}},
				NotAction:    []string{}, NotResource: []string{"a", "b"}}}},
		},
		{
			name: "principal star",
			text: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}]}`,
			want: &Policy{Statements: []Statement{{Effect: Allow, Principal: &Principals{Any: true}, Action: []string{"ecr:BatchGetImage"}}}},
		},
		{
			name: "condition values of every JSON type, in document order",
			text: `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{
				"NumericLessThan":{"s:n":10,"s:m":[1.5,"2"]},"Bool":{"aws:SecureTransport":true},"StringEquals":{"s:k":[]}}}}`,
			want: &Policy{Statements: []Statement{{Effect: Allow, Action: []string{"*"}, Resource: []string{"*"}, Condition: []Condition{
				{Operator: "NumericLessThan", Key: "s:n", Values: []string{"10"}},
				{Operator: "NumericLessThan", Key: "s:m", Values: []string{"1.5", "2"}},
				{Operator: "Bool", Key: "aws:SecureTransport", Values: []string{"true"}},
				{Operator: "StringEquals", Key: "s:k", Values: []string{}},
			}}}},
		},
		{
			name: "empty statement list",
			text: `{"Version":"2008-10-17","Statement":[]}`,
			want: &Policy{Version: Version2008, Statements: []Statement{}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := mustParse(t, c.text)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("Parse =\n%#v\nwant\n%#v", got, c.want)
			}
			again := mustParse(t, got.String())
			if !reflect.DeepEqual(again, got) {
				t.Errorf("round trip through %s changed the policy:\n%#v", got.String(), again)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, text, detail string
	}{
		{"not JSON", `{"Statement":`, "ends early"},
		{"not JSON at all", `Statement`, "not valid JSON"},
		{"trailing text", `{"Statement":[]} {}`, "text after the end"},
		{"an array", `[]`, "must be a JSON object"},
		{"duplicate top-level key", `{"Statement":[],"Statement":[]}`, `duplicate key "Statement"`},
		{"duplicate statement key", `{"Statement":{"Effect":"Allow","Effect":"Deny"}}`, `duplicate key "Effect"`},
		{"duplicate condition key", `{"Statement":{"Condition":{"StringEquals":{"a:b":"1","a:b":"2"}}}}`, `duplicate key "a:b"`},
		{"duplicate principal type", `{"Statement":{"Principal":{"AWS":"1","AWS":"2"}}}`, `duplicate key "AWS"`},
		{"unknown top element", `{"Statement":[],"Conditions":{}}`, `unknown element "Conditions"`},
		{"element names are case-sensitive", `{"statement":[]}`, `unknown element "statement"`},
		{"unknown statement element", `{"Statement":{"Effect":"Allow","Actions":"*"}}`, `unknown element "Actions" in statement 0`},
		{"Version not a string", `{"Version":2012}`, "Version must be a string"},
		{"Version empty", `{"Version":""}`, "Version is empty"},
		{"statement not an object", `{"Statement":["x"]}`, "statement 0 is not a JSON object"},
		{"Action a number", `{"Statement":{"Action":5}}`, "Action must be a string or an array of strings"},
		{"Action list with a number", `{"Statement":{"Action":["a:b",5]}}`, "Action must be a string or an array of strings"},
		{"Resource null", `{"Statement":{"Resource":null}}`, "Resource must be a string or an array of strings"},
		{"principal string", `{"Statement":{"Principal":"111122223333"}}`, `a principal given as a string must be "*"`},
		{"principal unknown type", `{"Statement":{"Principal":{"IAM":"x"}}}`, `unknown principal type "IAM"`},
		{"principal array", `{"Statement":{"Principal":["*"]}}`, `must be "*" or an object`},
		{"condition not an object", `{"Statement":{"Condition":["x"]}}`, "Condition in statement 0 must be an object"},
		{"condition operator value", `{"Statement":{"Condition":{"StringEquals":"x"}}}`, "must map condition keys to values"},
		{"condition value null", `{"Statement":{"Condition":{"StringEquals":{"a:b":null}}}}`, "values must be strings, numbers or booleans"},
		{"condition value object", `{"Statement":{"Condition":{"StringEquals":{"a:b":[{}]}}}}`, "values must be strings, numbers or booleans"},
		{"deep nesting", strings.Repeat("[", 100) + strings.Repeat("]", 100), "nests too deeply"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Parse(c.text)
			if err == nil {
				t.Fatalf("Parse(%s) = %+v, want an error", c.text, p)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not *Error", err)
			}
			if pe.Message != msgSyntax {
				t.Errorf("Message = %q, want %q", pe.Message, msgSyntax)
			}
			if !strings.Contains(pe.Detail, c.detail) {
				t.Errorf("Detail = %q, want it to contain %q", pe.Detail, c.detail)
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	e := &Error{Message: msgNoActions, Detail: "statement 0 has no Action or NotAction"}
	if got := e.Error(); got != "Policy statement must contain actions. (statement 0 has no Action or NotAction)" {
		t.Errorf("Error() = %q", got)
	}
	e = &Error{Message: msgSyntax}
	if got := e.Error(); got != msgSyntax {
		t.Errorf("Error() = %q", got)
	}
}

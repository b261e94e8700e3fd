package policy

import "testing"

// conditionAllows evaluates a one-statement identity Allow carrying cond
// for ci (user "ci" of account A) and reports whether it allowed, i.e.
// whether the condition held.
func conditionAllows(t *testing.T, cond string, ctx MapContext) bool {
	t.Helper()
	p := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":`+cond+`}}`)
	if err := Validate(p, Identity, ValidateOptions{}); err != nil {
		t.Fatalf("Validate(%s): %v", cond, err)
	}
	req := Request{Principal: ci, Action: "ecr:BatchGetImage", Resource: repo("app-a"), Context: ctx}
	return Evaluate(req, []Named{{Name: "p", Policy: p}}, nil).Allowed
}

func TestConditionOperators(t *testing.T) {
	none := MapContext{}
	ip := func(a string) MapContext { return MapContext{"aws:SourceIp": {a}} }
	tag := func(v ...string) MapContext { return MapContext{"ecr:ResourceTag/env": v} }
	keys := func(v ...string) MapContext { return MapContext{"aws:TagKeys": v} }
	now := MapContext{"aws:CurrentTime": {"2024-06-01T12:00:00Z"}, "aws:EpochTime": {"1717243200"}}
	cases := []struct {
		name string
		cond string
		ctx  MapContext
		want bool
	}{
		// String operators.
		{"StringEquals", `{"StringEquals":{"ecr:ResourceTag/env":"dev"}}`, tag("dev"), true},
		{"StringEquals is case-sensitive", `{"StringEquals":{"ecr:ResourceTag/env":"dev"}}`, tag("Dev"), false},
		{"StringEquals values are OR-ed", `{"StringEquals":{"ecr:ResourceTag/env":["prod","dev"]}}`, tag("dev"), true},
		{"StringEquals missing key", `{"StringEquals":{"ecr:ResourceTag/env":"dev"}}`, none, false},
		{"key names ignore case", `{"StringEquals":{"ECR:resourcetag/ENV":"dev"}}`, tag("dev"), true},
		{"StringNotEquals", `{"StringNotEquals":{"ecr:ResourceTag/env":"prod"}}`, tag("dev"), true},
		{"StringNotEquals equal", `{"StringNotEquals":{"ecr:ResourceTag/env":"prod"}}`, tag("prod"), false},
		{"StringNotEquals values are NOR-ed", `{"StringNotEquals":{"ecr:ResourceTag/env":["prod","dev"]}}`, tag("dev"), false},
		{"StringNotEquals missing key is true", `{"StringNotEquals":{"ecr:ResourceTag/env":"prod"}}`, none, true},
		{"StringEqualsIgnoreCase", `{"StringEqualsIgnoreCase":{"ecr:ResourceTag/env":"DEV"}}`, tag("dev"), true},
		{"StringNotEqualsIgnoreCase", `{"StringNotEqualsIgnoreCase":{"ecr:ResourceTag/env":"DEV"}}`, tag("dev"), false},
		{"StringNotEqualsIgnoreCase missing", `{"StringNotEqualsIgnoreCase":{"ecr:ResourceTag/env":"DEV"}}`, none, true},
		{"StringLike star", `{"StringLike":{"ecr:ResourceTag/env":"d*"}}`, tag("dev"), true},
		{"StringLike question", `{"StringLike":{"ecr:ResourceTag/env":"d?v"}}`, tag("dev"), true},
		{"StringLike question is one character", `{"StringLike":{"ecr:ResourceTag/env":"d?"}}`, tag("dev"), false},
		{"StringLike is case-sensitive", `{"StringLike":{"ecr:ResourceTag/env":"D*"}}`, tag("dev"), false},
		{"StringLike star crosses everything", `{"StringLike":{"ecr:ResourceTag/env":"a*z"}}`, tag("a/b:c/z"), true},
		{"StringLike question is one rune", `{"StringLike":{"ecr:ResourceTag/env":"caf?"}}`, tag("café"), true},
		{"StringNotLike", `{"StringNotLike":{"ecr:ResourceTag/env":"prod*"}}`, tag("dev"), true},
		{"StringNotLike matching", `{"StringNotLike":{"ecr:ResourceTag/env":"prod*"}}`, tag("prod-eu"), false},
		{"StringNotLike missing", `{"StringNotLike":{"ecr:ResourceTag/env":"prod*"}}`, none, true},
		// Numeric operators; JSON numbers and strings alike.
		{"NumericEquals", `{"NumericEquals":{"aws:MultiFactorAuthAge":3600}}`, MapContext{"aws:MultiFactorAuthAge": {"3600"}}, true},
		{"NumericEquals decimals", `{"NumericEquals":{"aws:MultiFactorAuthAge":"1.50"}}`, MapContext{"aws:MultiFactorAuthAge": {"1.5"}}, true},
		{"NumericNotEquals", `{"NumericNotEquals":{"s:n":3}}`, MapContext{"s:n": {"4"}}, true},
		{"NumericNotEquals equal", `{"NumericNotEquals":{"s:n":3}}`, MapContext{"s:n": {"3"}}, false},
		{"NumericNotEquals missing", `{"NumericNotEquals":{"s:n":3}}`, none, true},
		{"NumericLessThan", `{"NumericLessThan":{"s:n":3}}`, MapContext{"s:n": {"2"}}, true},
		{"NumericLessThan equal", `{"NumericLessThan":{"s:n":3}}`, MapContext{"s:n": {"3"}}, false},
		{"NumericLessThanEquals", `{"NumericLessThanEquals":{"s:n":3}}`, MapContext{"s:n": {"3"}}, true},
		{"NumericGreaterThan", `{"NumericGreaterThan":{"s:n":3}}`, MapContext{"s:n": {"3.5"}}, true},
		{"NumericGreaterThan equal", `{"NumericGreaterThan":{"s:n":3}}`, MapContext{"s:n": {"3"}}, false},
		{"NumericGreaterThanEquals", `{"NumericGreaterThanEquals":{"s:n":3}}`, MapContext{"s:n": {"3"}}, true},
		{"Numeric not a number", `{"NumericLessThan":{"s:n":3}}`, MapContext{"s:n": {"two"}}, false},
		{"Numeric is decimal only", `{"NumericGreaterThan":{"s:n":3}}`, MapContext{"s:n": {"Inf"}}, false},
		{"Numeric exponent", `{"NumericEquals":{"s:n":"1e3"}}`, MapContext{"s:n": {"1000"}}, true},
		{"Numeric missing", `{"NumericLessThan":{"s:n":3}}`, none, false},
		// Date operators: ISO 8601 and epoch seconds on either side.
		{"DateLessThan ISO", `{"DateLessThan":{"aws:CurrentTime":"2025-01-01T00:00:00Z"}}`, now, true},
		{"DateLessThan date only", `{"DateLessThan":{"aws:CurrentTime":"2024-06-01"}}`, now, false},
		{"DateGreaterThan epoch", `{"DateGreaterThan":{"aws:CurrentTime":1700000000}}`, now, true},
		{"DateGreaterThanEquals epoch context", `{"DateGreaterThanEquals":{"aws:EpochTime":"2024-06-01T12:00:00Z"}}`, now, true},
		{"DateEquals offsets", `{"DateEquals":{"aws:CurrentTime":"2024-06-01T14:00:00+02:00"}}`, now, true},
		{"DateNotEquals", `{"DateNotEquals":{"aws:CurrentTime":"2024-06-01T12:00:01Z"}}`, now, true},
		{"DateNotEquals missing", `{"DateNotEquals":{"aws:CurrentTime":"2024-06-01T12:00:01Z"}}`, none, true},
		{"DateLessThanEquals", `{"DateLessThanEquals":{"aws:CurrentTime":"2024-06-01T12:00:00Z"}}`, now, true},
		{"DateGreaterThan missing", `{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01"}}`, none, false},
		// Bool and Binary.
		{"Bool true", `{"Bool":{"aws:SecureTransport":"true"}}`, MapContext{"aws:SecureTransport": {"true"}}, true},
		{"Bool JSON boolean", `{"Bool":{"aws:SecureTransport":false}}`, MapContext{"aws:SecureTransport": {"true"}}, false},
		{"Bool missing", `{"Bool":{"aws:SecureTransport":"false"}}`, none, false},
		{"BinaryEquals", `{"BinaryEquals":{"s:bin":"QmluYXJ5VmFsdWU="}}`, MapContext{"s:bin": {"BinaryValue"}}, true},
		{"BinaryEquals differs", `{"BinaryEquals":{"s:bin":"QmluYXJ5VmFsdWU="}}`, MapContext{"s:bin": {"Other"}}, false},
		// IP addresses.
		{"IpAddress CIDR", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, ip("203.0.113.9"), true},
		{"IpAddress outside", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, ip("198.51.100.7"), false},
		{"IpAddress single address", `{"IpAddress":{"aws:SourceIp":"203.0.113.9"}}`, ip("203.0.113.9"), true},
		{"IpAddress IPv6", `{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}`, ip("2001:db8:1::5"), true},
		{"IpAddress mapped IPv4", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, ip("::ffff:203.0.113.9"), true},
		{"IpAddress either list entry", `{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","203.0.113.0/24"]}}`, ip("203.0.113.9"), true},
		{"IpAddress missing", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, none, false},
		{"NotIpAddress outside", `{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, ip("198.51.100.7"), true},
		{"NotIpAddress inside", `{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, ip("203.0.113.9"), false},
		{"NotIpAddress missing is true", `{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, none, true},
		// ARN operators, the caller's own ARN from the request.
		{"ArnEquals principal", `{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/ci"}}`, none, true},
		{"ArnLike", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/c?"}}`, none, true},
		{"ArnLike star stays in its segment", `{"ArnLike":{"aws:SourceArn":"arn:aws:codebuild:us-east-1:*3:project/x"}}`,
			MapContext{"aws:SourceArn": {"arn:aws:codebuild:us-east-1:1:2:3:project/x"}}, false},
		{"ArnLike star ending a segment crosses colons", `{"ArnLike":{"aws:SourceArn":"arn:aws:codebuild:*"}}`,
			MapContext{"aws:SourceArn": {"arn:aws:codebuild:us-east-1:111122223333:project/x"}}, true},
		{"ArnNotEquals", `{"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/admin"}}`, none, true},
		{"ArnNotLike", `{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/*"}}`, none, false},
		{"ArnNotLike missing", `{"ArnNotLike":{"aws:SourceArn":"arn:aws:iam::111122223333:user/*"}}`, none, true},
		{"ArnLike missing", `{"ArnLike":{"aws:SourceArn":"arn:*"}}`, none, false},
		// Null.
		{"Null true, absent", `{"Null":{"aws:TokenIssueTime":"true"}}`, none, true},
		{"Null true, present", `{"Null":{"aws:TokenIssueTime":"true"}}`, MapContext{"aws:TokenIssueTime": {"x"}}, false},
		{"Null false, present", `{"Null":{"aws:TokenIssueTime":false}}`, MapContext{"aws:TokenIssueTime": {"x"}}, true},
		{"Null false, absent", `{"Null":{"aws:TokenIssueTime":"false"}}`, none, false},
		{"Null empty list is absent", `{"Null":{"aws:TagKeys":"true"}}`, keys(), true},
		// IfExists.
		{"IfExists absent", `{"StringEqualsIfExists":{"ecr:ResourceTag/env":"dev"}}`, none, true},
		{"IfExists present, match", `{"StringEqualsIfExists":{"ecr:ResourceTag/env":"dev"}}`, tag("dev"), true},
		{"IfExists present, no match", `{"StringEqualsIfExists":{"ecr:ResourceTag/env":"dev"}}`, tag("prod"), false},
		{"NotIpAddressIfExists present", `{"NotIpAddressIfExists":{"aws:SourceIp":"203.0.113.0/24"}}`, ip("203.0.113.1"), false},
		{"NumericLessThanIfExists absent", `{"NumericLessThanIfExists":{"s:n":1}}`, none, true},
		// Set qualifiers.
		{"ForAllValues subset", `{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}`, keys("env"), true},
		{"ForAllValues not subset", `{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}`, keys("env", "cost"), false},
		{"ForAllValues missing is true", `{"ForAllValues:StringEquals":{"aws:TagKeys":["env"]}}`, none, true},
		{"ForAllValues empty list is true", `{"ForAllValues:StringEquals":{"aws:TagKeys":["env"]}}`, keys(), true},
		{"ForAnyValue overlap", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["env","team"]}}`, keys("cost", "team"), true},
		{"ForAnyValue no overlap", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["env"]}}`, keys("cost"), false},
		{"ForAnyValue missing is false", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["env"]}}`, none, false},
		{"ForAnyValue IfExists missing", `{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":["env"]}}`, none, true},
		{"ForAllValues:StringNotLike none match", `{"ForAllValues:StringNotLike":{"aws:TagKeys":"key1*"}}`, keys("key2:audit"), true},
		{"ForAllValues:StringNotLike one matches", `{"ForAllValues:StringNotLike":{"aws:TagKeys":"key1*"}}`, keys("key1:legal"), false},
		{"ForAllValues:StringNotLike missing", `{"ForAllValues:StringNotLike":{"aws:TagKeys":"key1*"}}`, none, true},
		{"ForAnyValue:StringNotEquals some differ", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":"env"}}`, keys("env", "x"), true},
		{"ForAnyValue:StringNotEquals all equal", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":"env"}}`, keys("env"), false},
		{"ForAnyValue:StringNotEquals missing", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":"env"}}`, none, false},
		{"ForAnyValue:StringLike", `{"ForAnyValue:StringLike":{"aws:TagKeys":"cost*"}}`, keys("env", "costcenter"), true},
		{"plain operator on many values: any", `{"StringEquals":{"aws:TagKeys":"env"}}`, keys("x", "env"), true},
		{"plain negated operator on many values: none", `{"StringNotEquals":{"aws:TagKeys":"env"}}`, keys("x", "env"), false},
		// Several operators and keys are AND-ed.
		{"two operators, both hold", `{"StringEquals":{"ecr:ResourceTag/env":"dev"},"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`,
			MapContext{"ecr:ResourceTag/env": {"dev"}, "aws:SourceIp": {"203.0.113.2"}}, true},
		{"two operators, one fails", `{"StringEquals":{"ecr:ResourceTag/env":"dev"},"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`,
			MapContext{"ecr:ResourceTag/env": {"dev"}, "aws:SourceIp": {"198.51.100.2"}}, false},
		{"two keys, one fails", `{"StringEquals":{"ecr:ResourceTag/env":"dev","ecr:ResourceTag/team":"a"}}`,
			MapContext{"ecr:ResourceTag/env": {"dev"}, "ecr:ResourceTag/team": {"b"}}, false},
		// Keys berth derives from the request.
		{"aws:username", `{"StringEquals":{"aws:username":"ci"}}`, none, true},
		{"aws:PrincipalAccount", `{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}`, none, true},
		{"aws:PrincipalType", `{"StringEquals":{"aws:PrincipalType":"User"}}`, none, true},
		{"aws:ResourceAccount", `{"StringEquals":{"aws:ResourceAccount":"111122223333"}}`, none, true},
		{"derived keys win over the context", `{"StringEquals":{"aws:username":"admin"}}`, MapContext{"aws:username": {"admin"}}, false},
		// Variables in condition values.
		{"unresolved variable never matches", `{"StringEquals":{"ecr:ResourceTag/env":"${aws:TokenIssueTime}"}}`, tag(""), false},
		{"unresolved variable fails a negated test", `{"StringNotEquals":{"ecr:ResourceTag/env":"${s:missing}"}}`, tag("dev"), false},
		{"variable in ArnLike", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::${aws:PrincipalAccount}:user/*"}}`, none, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := conditionAllows(t, c.cond, c.ctx); got != c.want {
				t.Errorf("%s with %v = %v, want %v", c.cond, c.ctx, got, c.want)
			}
		})
	}
}

// TestConditionOperatorNames checks every operator name parses and that
// names IAM does not have do not.
func TestConditionOperatorNames(t *testing.T) {
	for name := range baseOps {
		for _, form := range []string{name, "ForAnyValue:" + name, "ForAllValues:" + name, name + "IfExists"} {
			_, ok := parseOperator(form)
			want := !(name == "Null" && form == "NullIfExists")
			if ok != want {
				t.Errorf("parseOperator(%q) ok = %v, want %v", form, ok, want)
			}
		}
	}
	for _, bad := range []string{"stringequals", "StringEqual", "ForSomeValues:StringEquals", "IfExists", "StringEqualsIfExistsIfExists", "ForAnyValue:ForAllValues:StringEquals"} {
		if _, ok := parseOperator(bad); ok {
			t.Errorf("parseOperator(%q) accepted", bad)
		}
	}
}

package policy

import "testing"

// benchPolicies is a realistic load for one registry request: five
// identity policies (two managed, an inline push policy, a tag-conditioned
// deny, a per-user prefix) and a repository policy with an IP deny.
func benchPolicies(b *testing.B) (identity, resource []Named) {
	b.Helper()
	for _, name := range []string{"AmazonEC2ContainerRegistryReadOnly", "AmazonEC2ContainerRegistryPowerUser"} {
		m, _ := ManagedByARN("arn:aws:iam::aws:policy/" + name)
		identity = append(identity, Named{Name: m.ARN, Policy: m.Policy})
	}
	for i, text := range []string{
		tokenAndPushAppA,
		`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":["ecr:PutImage","ecr:BatchDeleteImage"],"Resource":"*",
			"Condition":{"StringEquals":{"ecr:ResourceTag/env":"prod"}}}}`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:111122223333:repository/${aws:username}/*"}}`,
	} {
		identity = append(identity, Named{Name: "inline" + string(rune('0'+i)), Policy: mustParse(b, text)})
	}
	resource = []Named{{Name: "repository policy of app-a", Policy: mustParse(b, `{"Version":"2008-10-17","Statement":[
		{"Sid":"AllowPushPull","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:user/ci","arn:aws:iam::444455556666:root"]},
		 "Action":["ecr:BatchGetImage","ecr:BatchCheckLayerAvailability","ecr:CompleteLayerUpload","ecr:GetDownloadUrlForLayer","ecr:InitiateLayerUpload","ecr:PutImage","ecr:UploadLayerPart"]},
		{"Sid":"OfficeOnly","Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}]}`)}}
	return identity, resource
}

func BenchmarkEvaluateSameAccount(b *testing.B) {
	identity, resource := benchPolicies(b)
	req := Request{Principal: ci, Action: "ecr:BatchGetImage", Resource: repo("app-a"),
		Context: MapContext{"aws:SourceIp": {"203.0.113.9"}, "ecr:ResourceTag/env": {"dev"}}}
	b.ReportAllocs()
	for b.Loop() {
		if !Evaluate(req, identity, resource).Allowed {
			b.Fatal("denied")
		}
	}
}

// BenchmarkEvaluateDenied is the slowest ordinary path: every statement of
// every policy is tried and none allows.
func BenchmarkEvaluateDenied(b *testing.B) {
	identity, resource := benchPolicies(b)
	req := Request{Principal: ci, Action: "ecr:DeleteRepository", Resource: repo("app-b"),
		Context: MapContext{"aws:SourceIp": {"203.0.113.9"}}}
	b.ReportAllocs()
	for b.Loop() {
		if Evaluate(req, identity, resource).Allowed {
			b.Fatal("allowed")
		}
	}
}

func BenchmarkEvaluateCrossAccount(b *testing.B) {
	_, resource := benchPolicies(b)
	identity := []Named{{Name: "ext", Policy: mustParse(b, ecrAll)}}
	req := Request{Principal: ext, Action: "ecr:GetDownloadUrlForLayer", Resource: repo("app-a"),
		Context: MapContext{"aws:SourceIp": {"203.0.113.9"}}}
	b.ReportAllocs()
	for b.Loop() {
		if !Evaluate(req, identity, resource).Allowed {
			b.Fatal("denied")
		}
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(tokenAndPushAppA); err != nil {
			b.Fatal(err)
		}
	}
}

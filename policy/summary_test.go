package policy

import (
	"reflect"
	"testing"
)

func TestGrants(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":[
		{"Sid":"ci","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/ci"},
		 "Action":["ecr:PutImage","ecr:InitiateLayerUpload","ecr:UploadLayerPart","ecr:CompleteLayerUpload","ecr:BatchCheckLayerAvailability","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]},
		{"Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}},
		{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"ecr:PutImage"},
		{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:root"]},"Action":"ecr:UploadLayerPart"},
		{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/admin"},"Action":"ecr:*"},
		{"Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"NotAction":"ecr:PutImage"}]}`
	p, err := Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := []Grant{
		{Sid: "ci", Effect: "Allow", Principals: []string{"arn:aws:iam::111122223333:role/ci"}, Push: true, Pull: true},
		{Effect: "Allow", Principals: []string{"*"}, Pull: true, Conditional: true},
		// PutImage alone is not a push: the layers cannot be uploaded.
		{Effect: "Allow", Principals: []string{"arn:aws:iam::444455556666:root"}, Others: []string{"ecr:PutImage"}},
		// One denied upload action stops every push.
		{Effect: "Deny", Principals: []string{"arn:aws:iam::111122223333:root"}, Except: true, Push: true},
		{Effect: "Allow", Principals: []string{"arn:aws:iam::111122223333:user/admin"}, Push: true, Pull: true, Others: []string{"ecr:*"}},
		{Effect: "Allow", Principals: []string{"codebuild.amazonaws.com"}, Pull: true, Others: []string{"all but ecr:PutImage"}},
	}
	got := Grants(p)
	if !reflect.DeepEqual(got, want) {
		for i := range max(len(got), len(want)) {
			var g, w Grant
			if i < len(got) {
				g = got[i]
			}
			if i < len(want) {
				w = want[i]
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("statement %d:\n got %+v\nwant %+v", i, g, w)
			}
		}
	}
}

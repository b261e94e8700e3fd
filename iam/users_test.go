package iam

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// TestUsers: the root creates, reads, lists (a page at a time) and deletes
// users and their access keys, and IAM's rules come back in IAM's words.
func TestUsers(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	iamc, _ := ts.root()
	start := time.Now().Add(-time.Second)

	created := must(iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ci"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("build + release")}}}))(t).User
	if aws.ToString(created.UserName) != "ci" || aws.ToString(created.Path) != "/" || aws.ToString(created.Arn) != "arn:aws:iam::111122223333:user/ci" ||
		!strings.HasPrefix(aws.ToString(created.UserId), "AIDA") || aws.ToTime(created.CreateDate).Before(start) ||
		len(created.Tags) != 1 || aws.ToString(created.Tags[0].Value) != "build + release" {
		t.Fatalf("CreateUser: %+v", created)
	}
	_, err := iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ci")})
	wantError(t, "CreateUser again", err, "EntityAlreadyExists", http.StatusConflict, "User with name ci already exists.")
	must(iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("cd"), Path: aws.String("/deploy/")}))(t)

	got := must(iamc.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("ci")}))(t).User
	if aws.ToString(got.UserId) != aws.ToString(created.UserId) || !aws.ToTime(got.CreateDate).Equal(aws.ToTime(created.CreateDate)) ||
		len(got.Tags) != 1 || aws.ToString(got.Tags[0].Key) != "team" {
		t.Fatalf("GetUser: %+v", got)
	}
	// Without a name, the caller: here the root, its id and ARN alone.
	self := must(iamc.GetUser(ctx, &iam.GetUserInput{}))(t).User
	if aws.ToString(self.Arn) != "arn:aws:iam::111122223333:root" || aws.ToString(self.UserId) != account || self.UserName != nil {
		t.Fatalf("GetUser of the root: %+v", self)
	}
	_, err = iamc.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")})
	wantError(t, "GetUser nobody", err, "NoSuchEntity", http.StatusNotFound, "The user with name nobody cannot be found.")

	// One at a time: cd, then ci, by name.
	first := must(iamc.ListUsers(ctx, &iam.ListUsersInput{MaxItems: aws.Int32(1)}))(t)
	if len(first.Users) != 1 || aws.ToString(first.Users[0].UserName) != "cd" || aws.ToString(first.Users[0].Path) != "/deploy/" ||
		!first.IsTruncated || first.Marker == nil || first.Users[0].Tags != nil {
		t.Fatalf("ListUsers page 1: %+v", first)
	}
	second := must(iamc.ListUsers(ctx, &iam.ListUsersInput{MaxItems: aws.Int32(1), Marker: first.Marker}))(t)
	if len(second.Users) != 1 || aws.ToString(second.Users[0].UserName) != "ci" || second.IsTruncated || second.Marker != nil {
		t.Fatalf("ListUsers page 2: %+v", second)
	}
	deploy := must(iamc.ListUsers(ctx, &iam.ListUsersInput{PathPrefix: aws.String("/deploy/")}))(t)
	if len(deploy.Users) != 1 || aws.ToString(deploy.Users[0].UserName) != "cd" {
		t.Fatalf("ListUsers /deploy/: %+v", deploy)
	}
	_, err = iamc.ListUsers(ctx, &iam.ListUsersInput{MaxItems: aws.Int32(1001)})
	wantError(t, "ListUsers 1001", err, "ValidationError", http.StatusBadRequest,
		"1 validation error detected: Value '1001' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 1000")

	// Two keys each, IAM's quota.
	var keys []*types.AccessKey
	for range 2 {
		k := must(iamc.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("ci")}))(t).AccessKey
		if aws.ToString(k.UserName) != "ci" || !strings.HasPrefix(aws.ToString(k.AccessKeyId), "AKIA") || len(aws.ToString(k.SecretAccessKey)) != 40 ||
			k.Status != types.StatusTypeActive || aws.ToTime(k.CreateDate).Before(start) {
			t.Fatalf("CreateAccessKey: %+v", k)
		}
		keys = append(keys, k)
	}
	_, err = iamc.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("ci")})
	wantError(t, "a third key", err, "LimitExceeded", http.StatusConflict, "Cannot exceed quota for AccessKeysPerUser: 2")
	must(iamc.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("ci"), AccessKeyId: keys[1].AccessKeyId, Status: types.StatusTypeInactive}))(t)
	listed := must(iamc.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("ci")}))(t)
	status := map[string]types.StatusType{}
	for _, k := range listed.AccessKeyMetadata {
		if aws.ToString(k.UserName) != "ci" || k.CreateDate == nil {
			t.Fatalf("ListAccessKeys: %+v", k)
		}
		status[aws.ToString(k.AccessKeyId)] = k.Status
	}
	if listed.IsTruncated || len(status) != 2 || status[aws.ToString(keys[0].AccessKeyId)] != types.StatusTypeActive ||
		status[aws.ToString(keys[1].AccessKeyId)] != types.StatusTypeInactive {
		t.Fatalf("ListAccessKeys: %+v", listed)
	}
	_, err = iamc.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("cd"), AccessKeyId: keys[0].AccessKeyId, Status: types.StatusTypeInactive})
	wantError(t, "another user's key", err, "NoSuchEntity", http.StatusNotFound, "The Access Key with id "+aws.ToString(keys[0].AccessKeyId)+" cannot be found.")

	// A user goes only once its keys and policies have.
	must(iamc.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("ci"), PolicyName: aws.String("pull"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}]}`)}))(t)
	_, err = iamc.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("ci")})
	wantError(t, "DeleteUser with keys", err, "DeleteConflict", http.StatusConflict, "Cannot delete entity, must delete access keys first.")
	for _, k := range keys {
		must(iamc.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("ci"), AccessKeyId: k.AccessKeyId}))(t)
	}
	_, err = iamc.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("ci")})
	wantError(t, "DeleteUser with a policy", err, "DeleteConflict", http.StatusConflict, "Cannot delete entity, must delete policies first.")
	must(iamc.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("ci"), PolicyName: aws.String("pull")}))(t)
	must(iamc.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("ci")}))(t)
	_, err = iamc.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("ci")})
	wantError(t, "GetUser deleted", err, "NoSuchEntity", http.StatusNotFound, "The user with name ci cannot be found.")
}

// TestPolicies: inline policies round-trip through IAM's URL-encoding;
// customer managed policies and AWS's are described, listed and attached.
func TestPolicies(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	iamc, _ := ts.root()
	must(iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ci")}))(t)

	// Spaces, a newline, and the characters form- and URL-encoding treat
	// specially: +, &, %, =, ?, /.
	doc := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"ecr:*\", \"Resource\": \"*\",\n" +
		"    \"Condition\": {\"StringLike\": {\"aws:userid\": \"a+b=c&d%20e?f/~g\"}}}]\n}"
	for _, name := range []string{"push", "admin"} {
		must(iamc.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("ci"), PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}))(t)
	}
	got := must(iamc.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("ci"), PolicyName: aws.String("push")}))(t)
	encoded := aws.ToString(got.PolicyDocument)
	decoded, err := url.QueryUnescape(encoded)
	if err != nil || decoded != doc || strings.ContainsAny(encoded, "+ {\"*") || !strings.Contains(encoded, "%20%20%22Version%22%3A%20%222012-10-17%22") ||
		aws.ToString(got.UserName) != "ci" || aws.ToString(got.PolicyName) != "push" {
		t.Fatalf("GetUserPolicy: %+v, encoded %q, decoded %q", got, encoded, decoded)
	}
	_, err = iamc.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("ci"), PolicyName: aws.String("none")})
	wantError(t, "GetUserPolicy none", err, "NoSuchEntity", http.StatusNotFound, "The user policy with name none cannot be found.")
	names := must(iamc.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("ci"), MaxItems: aws.Int32(1)}))(t)
	if !slices.Equal(names.PolicyNames, []string{"admin"}) || !names.IsTruncated || aws.ToString(names.Marker) == "" {
		t.Fatalf("ListUserPolicies page 1: %+v", names)
	}
	names = must(iamc.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("ci"), Marker: names.Marker}))(t)
	if !slices.Equal(names.PolicyNames, []string{"push"}) || names.IsTruncated || names.Marker != nil {
		t.Fatalf("ListUserPolicies page 2: %+v", names)
	}

	// A customer managed policy: described, its one version, listed.
	reader := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"*"}]}`
	p := must(iamc.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("reader"), Path: aws.String("/team/"),
		PolicyDocument: aws.String(reader), Description: aws.String("pulls")}))(t).Policy
	arn := "arn:aws:iam::111122223333:policy/team/reader"
	if aws.ToString(p.Arn) != arn || aws.ToString(p.PolicyName) != "reader" || aws.ToString(p.Path) != "/team/" || aws.ToString(p.DefaultVersionId) != "v1" ||
		!strings.HasPrefix(aws.ToString(p.PolicyId), "ANPA") || !p.IsAttachable || aws.ToInt32(p.AttachmentCount) != 0 || p.Description != nil || p.CreateDate == nil {
		t.Fatalf("CreatePolicy: %+v", p)
	}
	_, err = iamc.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("reader"), PolicyDocument: aws.String(reader)})
	wantError(t, "CreatePolicy again", err, "EntityAlreadyExists", http.StatusConflict, "A policy called reader already exists. Duplicate names are not allowed.")
	if d := must(iamc.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)}))(t).Policy; aws.ToString(d.Description) != "pulls" {
		t.Fatalf("GetPolicy: %+v", d)
	}
	v := must(iamc.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v1")}))(t).PolicyVersion
	if text, err := url.QueryUnescape(aws.ToString(v.Document)); err != nil || text != reader || !v.IsDefaultVersion || aws.ToString(v.VersionId) != "v1" {
		t.Fatalf("GetPolicyVersion: %+v %q", v, text)
	}
	_, err = iamc.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v2")})
	wantError(t, "GetPolicyVersion v2", err, "NoSuchEntity", http.StatusNotFound, "Policy "+arn+" version v2 does not exist or is not attachable.")
	_, err = iamc.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::111122223333:policy/none")})
	wantError(t, "GetPolicy none", err, "NoSuchEntity", http.StatusNotFound, "Policy arn:aws:iam::111122223333:policy/none was not found.")

	local := must(iamc.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal}))(t)
	if len(local.Policies) != 1 || aws.ToString(local.Policies[0].Arn) != arn || local.IsTruncated {
		t.Fatalf("ListPolicies Local: %+v", local)
	}
	ecrRead := "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
	var awsARNs []string
	for _, p := range must(iamc.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: types.PolicyScopeTypeAws}))(t).Policies {
		awsARNs = append(awsARNs, aws.ToString(p.Arn))
	}
	if !slices.Contains(awsARNs, ecrRead) || slices.Contains(awsARNs, arn) {
		t.Fatalf("ListPolicies AWS: %v", awsARNs)
	}
	awsVersion := must(iamc.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(ecrRead)}))(t).Policy.DefaultVersionId
	v = must(iamc.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(ecrRead), VersionId: awsVersion}))(t).PolicyVersion
	if text, err := url.QueryUnescape(aws.ToString(v.Document)); err != nil || !strings.Contains(text, `"ecr:BatchGetImage"`) {
		t.Fatalf("GetPolicyVersion of %s: %q %v", ecrRead, text, err)
	}

	// Attached: the customer's and AWS's, named by the ARN's last segment.
	for _, a := range []string{arn, ecrRead} {
		must(iamc.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("ci"), PolicyArn: aws.String(a)}))(t)
	}
	_, err = iamc.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("ci"), PolicyArn: aws.String("arn:aws:iam::111122223333:policy/none")})
	wantError(t, "AttachUserPolicy none", err, "NoSuchEntity", http.StatusNotFound, "Policy arn:aws:iam::111122223333:policy/none does not exist or is not attachable.")
	attached := must(iamc.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("ci")}))(t)
	var pairs []string
	for _, a := range attached.AttachedPolicies {
		pairs = append(pairs, aws.ToString(a.PolicyName)+"="+aws.ToString(a.PolicyArn))
	}
	if !slices.Equal(pairs, []string{"reader=" + arn, "AmazonEC2ContainerRegistryReadOnly=" + ecrRead}) || attached.IsTruncated {
		t.Fatalf("ListAttachedUserPolicies: %v", pairs)
	}
	team := must(iamc.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("ci"), PathPrefix: aws.String("/team/")}))(t)
	if len(team.AttachedPolicies) != 1 || aws.ToString(team.AttachedPolicies[0].PolicyArn) != arn {
		t.Fatalf("ListAttachedUserPolicies /team/: %+v", team.AttachedPolicies)
	}
	if n := aws.ToInt32(must(iamc.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)}))(t).Policy.AttachmentCount); n != 1 {
		t.Fatalf("AttachmentCount %d", n)
	}
	_, err = iamc.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)})
	wantError(t, "DeletePolicy attached", err, "DeleteConflict", http.StatusConflict, "Cannot delete a policy attached to entities.")
	_, err = iamc.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("ci")})
	wantError(t, "DeleteUser with policies", err, "DeleteConflict", http.StatusConflict, "Cannot delete entity, must delete policies first.")
	for _, a := range []string{arn, ecrRead} {
		must(iamc.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("ci"), PolicyArn: aws.String(a)}))(t)
	}
	must(iamc.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)}))(t)
}

// TestRoles: a role's trust policy comes back URL-encoded, and its
// policies are served as a user's.
func TestRoles(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	iamc, _ := ts.root()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/ci"},"Action":"sts:AssumeRole"}]}`
	r := must(iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("pusher"), AssumeRolePolicyDocument: aws.String(trust),
		Description: aws.String("pushes images"), Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("")}}}))(t).Role
	if aws.ToString(r.Arn) != "arn:aws:iam::111122223333:role/pusher" || !strings.HasPrefix(aws.ToString(r.RoleId), "AROA") ||
		aws.ToInt32(r.MaxSessionDuration) != 3600 || aws.ToString(r.Description) != "pushes images" || len(r.Tags) != 1 {
		t.Fatalf("CreateRole: %+v", r)
	}
	got := must(iamc.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("pusher")}))(t).Role
	if doc, err := url.QueryUnescape(aws.ToString(got.AssumeRolePolicyDocument)); err != nil || doc != trust || aws.ToString(got.RoleId) != aws.ToString(r.RoleId) ||
		len(got.Tags) != 1 || got.Tags[0].Value == nil {
		t.Fatalf("GetRole: %+v (%q)", got, doc)
	}
	_, err := iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("pusher"), AssumeRolePolicyDocument: aws.String(trust)})
	wantError(t, "CreateRole again", err, "EntityAlreadyExists", http.StatusConflict, "Role with name pusher already exists.")
	_, err = iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("wide"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"ecr:*"}]}`)})
	wantError(t, "CreateRole trusting for ecr:*", err, "MalformedPolicyDocument", http.StatusBadRequest, "AssumeRole policy may only specify STS AssumeRole actions.")

	push := "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"
	must(iamc.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("pusher"), PolicyArn: aws.String(push)}))(t)
	must(iamc.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("pusher"), PolicyName: aws.String("tags"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:TagResource","Resource":"*"}]}`)}))(t)
	attached := must(iamc.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("pusher")}))(t).AttachedPolicies
	if len(attached) != 1 || aws.ToString(attached[0].PolicyName) != "AmazonEC2ContainerRegistryPowerUser" {
		t.Fatalf("ListAttachedRolePolicies: %+v", attached)
	}
	if names := must(iamc.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("pusher")}))(t).PolicyNames; !slices.Equal(names, []string{"tags"}) {
		t.Fatalf("ListRolePolicies: %v", names)
	}
	inline := must(iamc.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("pusher"), PolicyName: aws.String("tags")}))(t)
	if aws.ToString(inline.RoleName) != "pusher" || !strings.HasPrefix(aws.ToString(inline.PolicyDocument), "%7B%22Version%22") {
		t.Fatalf("GetRolePolicy: %+v", inline)
	}
	roles := must(iamc.ListRoles(ctx, &iam.ListRolesInput{}))(t)
	if len(roles.Roles) != 1 || aws.ToString(roles.Roles[0].RoleName) != "pusher" || roles.Roles[0].Tags != nil || roles.Roles[0].AssumeRolePolicyDocument == nil {
		t.Fatalf("ListRoles: %+v", roles.Roles)
	}
	_, err = iamc.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("pusher")})
	wantError(t, "DeleteRole with policies", err, "DeleteConflict", http.StatusConflict, "Cannot delete entity, must delete policies first.")
	must(iamc.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("pusher"), PolicyName: aws.String("tags")}))(t)
	must(iamc.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("pusher"), PolicyArn: aws.String(push)}))(t)
	must(iamc.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("pusher")}))(t)
	_, err = iamc.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("pusher")})
	wantError(t, "GetRole deleted", err, "NoSuchEntity", http.StatusNotFound, "The role with name pusher cannot be found.")
}

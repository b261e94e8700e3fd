package iam

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/berth-registry/berth"
)

// TestAsUser: a user signs with its own key; the registry decides what it
// may do, STS says who it is, and a role it may assume gives it a session
// that signs with its token until it expires.
func TestAsUser(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	rootIAM, rootSTS := ts.root()

	id := must(rootSTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))(t)
	if aws.ToString(id.Arn) != "arn:aws:iam::111122223333:root" || aws.ToString(id.Account) != account || aws.ToString(id.UserId) != account {
		t.Fatalf("GetCallerIdentity of the root: %+v", id)
	}
	ci := must(rootIAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ci")}))(t).User
	key := must(rootIAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("ci")}))(t).AccessKey
	// The role trusts the account, which leaves it to the account's
	// identity policies who may assume it.
	role := must(rootIAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("pusher"), MaxSessionDuration: aws.Int32(7200),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}`)}))(t).Role
	userIAM, userSTS := ts.clients(aws.ToString(key.AccessKeyId), aws.ToString(key.SecretAccessKey), "")

	// Who it is needs no permission.
	id = must(userSTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))(t)
	if aws.ToString(id.Arn) != "arn:aws:iam::111122223333:user/ci" || aws.ToString(id.Account) != account || aws.ToString(id.UserId) != aws.ToString(ci.UserId) {
		t.Fatalf("GetCallerIdentity of ci: %+v", id)
	}
	// Anything else needs a policy that allows it.
	_, err := userIAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("x")})
	wantError(t, "CreateUser as ci", err, "AccessDenied", http.StatusForbidden,
		"User: arn:aws:iam::111122223333:user/ci is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::111122223333:user/x because no identity-based policy allows the iam:CreateUser action")
	roleARN := aws.ToString(role.Arn)
	assume := &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("build-7"), DurationSeconds: aws.Int32(900)}
	_, err = userSTS.AssumeRole(ctx, assume)
	wantError(t, "AssumeRole without a policy", err, "AccessDenied", http.StatusForbidden,
		"User: arn:aws:iam::111122223333:user/ci is not authorized to perform: sts:AssumeRole on resource: "+roleARN+" because no identity-based policy allows the sts:AssumeRole action")

	must(rootIAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("ci"), PolicyName: aws.String("assume"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"` + roleARN + `"}]}`)}))(t)
	_, err = userSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("build-7"), DurationSeconds: aws.Int32(10800)})
	wantError(t, "AssumeRole past MaxSessionDuration", err, "ValidationError", http.StatusBadRequest,
		"The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	_, err = userSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("build-7"),
		PolicyArns: []ststypes.PolicyDescriptorType{{Arn: aws.String("arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")}}})
	wantError(t, "AssumeRole with a session policy", err, "ValidationError", http.StatusBadRequest,
		"berth does not support session policies (Policy, PolicyArns) in AssumeRole: a session has its role's permissions")

	start := time.Now().Add(-time.Second)
	out := must(userSTS.AssumeRole(ctx, assume))(t)
	c := out.Credentials
	sessionARN := "arn:aws:sts::111122223333:assumed-role/pusher/build-7"
	if !strings.HasPrefix(aws.ToString(c.AccessKeyId), "ASIA") || aws.ToString(c.SecretAccessKey) == "" || aws.ToString(c.SessionToken) == "" ||
		aws.ToTime(c.Expiration).Before(start.Add(15*time.Minute)) || aws.ToTime(c.Expiration).After(time.Now().Add(15*time.Minute)) ||
		aws.ToString(out.AssumedRoleUser.Arn) != sessionARN || aws.ToString(out.AssumedRoleUser.AssumedRoleId) != aws.ToString(role.RoleId)+":build-7" ||
		out.PackedPolicySize != nil {
		t.Fatalf("AssumeRole: %+v %+v", c, out.AssumedRoleUser)
	}
	_, sessionSTS := ts.clients(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	id = must(sessionSTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))(t)
	if aws.ToString(id.Arn) != sessionARN || aws.ToString(id.UserId) != aws.ToString(role.RoleId)+":build-7" || aws.ToString(id.Account) != account {
		t.Fatalf("GetCallerIdentity of the session: %+v", id)
	}
	// The session's key without its token, or with another, is not a key.
	_, forged := ts.clients(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), "not-the-token")
	_, err = forged.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantError(t, "a session key with another token", err, "InvalidClientTokenId", http.StatusForbidden, "The security token included in the request is invalid.")
	// Past its expiry, the session's token is expired.
	ts.skew.Store(int64(16 * time.Minute))
	_, err = sessionSTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantError(t, "an expired session", err, "ExpiredToken", http.StatusForbidden, "The security token included in the request is expired")
	ts.skew.Store(0)

	// An inactive key authenticates nothing.
	must(rootIAM.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("ci"), AccessKeyId: key.AccessKeyId, Status: types.StatusTypeInactive}))(t)
	_, err = userSTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantError(t, "an inactive key", err, "InvalidClientTokenId", http.StatusForbidden, "The security token included in the request is invalid.")
	_, err = userIAM.GetUser(ctx, &iam.GetUserInput{})
	wantError(t, "an inactive key on IAM", err, "InvalidClientTokenId", http.StatusForbidden, "The security token included in the request is invalid.")
}

// TestErrors: what berth refuses before the registry is asked, and what
// the registry refuses, in IAM's and STS's terms.
func TestErrors(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	iamc, _ := ts.root()
	must(iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ci")}))(t)

	_, err := iamc.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("ci"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Resource":"*"}]}`)})
	wantError(t, "PutUserPolicy with a Principal", err, "MalformedPolicyDocument", http.StatusBadRequest, "Policy document should not specify a principal.")
	_, err = iamc.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("ci"), PolicyName: aws.String("p"), PolicyDocument: aws.String(`{"Version":`)})
	wantError(t, "PutUserPolicy not JSON", err, "MalformedPolicyDocument", http.StatusBadRequest, "Syntax errors in policy.")
	_, err = iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("a b")})
	wantError(t, "CreateUser 'a b'", err, "ValidationError", http.StatusBadRequest,
		`1 validation error detected: Value 'a b' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+`)
	_, err = iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("b"), PermissionsBoundary: aws.String("arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")})
	wantError(t, "CreateUser with a boundary", err, "InvalidInput", http.StatusBadRequest,
		"berth does not support PermissionsBoundary in CreateUser: berth keeps no permissions boundaries")

	// Known to IAM, not served by berth.
	_, err = iamc.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("admins")})
	wantError(t, "CreateGroup", err, "InvalidAction", http.StatusBadRequest,
		"berth does not serve the IAM operation CreateGroup; docs/access.md lists the operations it serves")

	// A wrong secret, and a key no one has.
	_, badSTS := ts.clients(rootCred.AccessKeyID, "wrong", "")
	_, err = badSTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantError(t, "a wrong secret", err, "SignatureDoesNotMatch", http.StatusForbidden,
		"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	unknownIAM, _ := ts.clients("AKIANOSUCHKEY0000000", "secret", "")
	_, err = unknownIAM.ListUsers(ctx, &iam.ListUsersInput{})
	wantError(t, "an unknown key", err, "InvalidClientTokenId", http.StatusForbidden, "The security token included in the request is invalid.")
}

// TestInternalError: a registry that fails answers IAM's ServiceFailure
// and STS's InternalFailure, 500, naming the request id and nothing of the
// cause.
func TestInternalError(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	iamc, stsc := ts.root()
	ts.meta.Close()
	_, err := iamc.ListUsers(ctx, &iam.ListUsersInput{})
	wantError(t, "ListUsers", err, "ServiceFailure", http.StatusInternalServerError,
		"An internal error occurred (request id req-1); the server log has the details.")
	_, err = stsc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::111122223333:role/r"), RoleSessionName: aws.String("build")})
	wantError(t, "AssumeRole", err, "InternalFailure", http.StatusInternalServerError,
		"An internal error occurred (request id req-2); the server log has the details.")
}

// TestErrorTables: every domain code maps to a client error of each
// service, in the query services' spelling (NoSuchEntity, not
// NoSuchEntityException).
func TestErrorTables(t *testing.T) {
	s := New(nil, nil, nil)
	for _, svc := range []*service{s.iam, s.sts} {
		for code, e := range svc.errors {
			if e.Status < 400 || e.Status >= 500 || e.Type != "Sender" || e.Code == "" || strings.HasSuffix(e.Code, "Exception") {
				t.Errorf("%s: %s answers %+v", svc.name, code, e)
			}
		}
	}
	if e := s.iam.errors[berth.ENoSuchEntity]; e.Code != "NoSuchEntity" || e.Status != http.StatusNotFound {
		t.Errorf("iam NoSuchEntity: %+v", e)
	}
}

// TestUnsigned: an unsigned request is refused in the terms of the service
// its Action belongs to, with the request id the server set.
func TestUnsigned(t *testing.T) {
	ts := newTestServer(t)
	for _, tc := range []struct {
		name, body, namespace string
		status                int
		code, message         string
	}{
		{"GetCallerIdentity", "Action=GetCallerIdentity&Version=2011-06-15", "https://sts.amazonaws.com/doc/2011-06-15/",
			http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token"},
		{"ListUsers", "Action=ListUsers&Version=2010-05-08", "https://iam.amazonaws.com/doc/2010-05-08/",
			http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token"},
		{"no Action", "Version=2010-05-08", "https://iam.amazonaws.com/doc/2010-05-08/",
			http.StatusBadRequest, "MissingAction", "The request must contain the parameter Action"},
		{"an STS action, IAM's version", "Action=AssumeRole&Version=2010-05-08", "https://sts.amazonaws.com/doc/2011-06-15/",
			http.StatusBadRequest, "InvalidAction", "Could not find operation AssumeRole for version 2010-05-08"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(ts.URL, "application/x-www-form-urlencoded; charset=utf-8", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			id := resp.Header.Get("X-Amzn-Requestid")
			want := `<ErrorResponse xmlns="` + tc.namespace + `"><Error><Type>Sender</Type><Code>` + tc.code + `</Code><Message>` + tc.message +
				`</Message></Error><RequestId>` + id + `</RequestId></ErrorResponse>`
			if resp.StatusCode != tc.status || !strings.HasPrefix(id, "req-") || string(body) != want || resp.Header.Get("Content-Type") != "text/xml" {
				t.Fatalf("%d %s %q\nwant %d %q", resp.StatusCode, id, body, tc.status, want)
			}
		})
	}
}

// TestHandles: the server sends the query protocol here, and JSON 1.1
// (ECR) elsewhere.
func TestHandles(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/x-www-form-urlencoded":                true,
		"application/x-www-form-urlencoded; charset=utf-8": true,
		"Application/X-WWW-Form-Urlencoded":                true,
		"application/x-amz-json-1.1":                       false,
		"":                                                 false,
	} {
		r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:5000/", strings.NewReader(url.Values{"Action": {"ListUsers"}}.Encode()))
		r.Header.Set("Content-Type", ct)
		if Handles(r) != want {
			t.Errorf("POST %q: Handles %v", ct, !want)
		}
	}
	if r, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:5000/?Action=ListUsers", nil); Handles(r) {
		t.Error("GET: Handles")
	}
}

// TestServed: every operation served is one of the models', and the
// operations the tests drive are among them.
func TestServed(t *testing.T) {
	served := Served()
	for _, op := range served {
		svc, name, _ := strings.Cut(op, ":")
		m := map[string]bool{"iam": iamModel.Operations[name] != nil, "sts": stsModel.Operations[name] != nil}
		if !m[svc] {
			t.Errorf("%s is served but is not an operation of the %s model", op, svc)
		}
	}
	for _, op := range []string{"iam:CreateUser", "iam:GetPolicyVersion", "iam:ListAttachedRolePolicies", "sts:AssumeRole", "sts:GetCallerIdentity"} {
		if !containsString(served, op) {
			t.Errorf("%s is not served", op)
		}
	}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

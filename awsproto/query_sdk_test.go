package awsproto_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/berth-registry/berth/awsproto"
	"github.com/berth-registry/berth/models"
)

// queryServer is a toy IAM and STS on the query protocol, enough to drive
// awsproto with real clients: ReadQuery, CheckQuery and Decode in,
// WriteQuery and WriteQueryError out. It routes by the service a request is
// signed for, as one listener serving both would.
type queryServer struct {
	t        *testing.T
	iam, sts *awsproto.Model
	now      time.Time

	mu       sync.Mutex
	n        int
	users    map[string]*user
	policies map[string]string // "user/policy" → document
}

type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type user struct {
	Path       string    `json:"Path"`
	UserName   string    `json:"UserName"`
	UserID     string    `json:"UserId"`
	Arn        string    `json:"Arn"`
	CreateDate time.Time `json:"CreateDate"`
	Tags       []tag     `json:"Tags,omitempty"`
}

const account = "123456789012"

func newQueryServer(t *testing.T) *httptest.Server {
	load := func(data []byte) *awsproto.Model {
		m, err := awsproto.Load(data)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	s := &queryServer{t: t, iam: load(models.IAM), sts: load(models.STS), now: time.Date(2026, 12, 7, 16, 42, 18, 0, time.UTC),
		users: map[string]*user{}, policies: map[string]string{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv
}

func (s *queryServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := s.iam
	if strings.Contains(r.Header.Get("Authorization"), "/sts/aws4_request") {
		m = s.sts
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	id := fmt.Sprintf("req-%d", s.n)
	op, _, input, err := awsproto.ReadQuery(r, m, 1<<20)
	if err == nil {
		input, err = awsproto.CheckQuery(op.Input, input)
	}
	var result any
	if err == nil {
		result, err = s.call(m, op.Name, input)
	}
	if err == nil {
		if err = awsproto.WriteQuery(w, m, op, id, result); err == nil {
			return
		}
		s.t.Errorf("%s: %v", op.Name, err)
	}
	var qe *awsproto.QueryError
	if !errors.As(err, &qe) {
		qe = m.QueryErrorFor("ServiceFailureException", err.Error())
	}
	awsproto.WriteQueryError(w, m, id, qe)
}

func (s *queryServer) call(m *awsproto.Model, op string, input []byte) (any, error) {
	switch op {
	case "CreateUser":
		in, err := awsproto.Decode[struct {
			Path     string `json:"Path"`
			UserName string `json:"UserName"`
			Tags     []tag  `json:"Tags"`
		}](input)
		if err != nil {
			return nil, err
		}
		if s.users[in.UserName] != nil {
			return nil, m.QueryErrorFor("EntityAlreadyExistsException", "User with name "+in.UserName+" already exists.")
		}
		if in.Path == "" {
			in.Path = "/"
		}
		u := &user{Path: in.Path, UserName: in.UserName, UserID: fmt.Sprintf("AIDA%016d", len(s.users)+1),
			Arn: "arn:aws:iam::" + account + ":user" + in.Path + in.UserName, CreateDate: s.now, Tags: in.Tags}
		s.users[u.UserName] = u
		return map[string]any{"User": u}, nil
	case "GetUser":
		in, err := awsproto.Decode[struct {
			UserName string `json:"UserName"`
		}](input)
		if err != nil {
			return nil, err
		}
		u := s.users[in.UserName]
		if u == nil {
			return nil, m.QueryErrorFor("NoSuchEntityException", "The user with name "+in.UserName+" cannot be found.")
		}
		return map[string]any{"User": u}, nil
	case "ListUsers":
		in, err := awsproto.Decode[struct {
			Marker   string `json:"Marker"`
			MaxItems int    `json:"MaxItems"`
		}](input)
		if err != nil {
			return nil, err
		}
		if in.MaxItems == 0 {
			in.MaxItems = 100
		}
		var names []string
		for name := range s.users {
			if name > in.Marker {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		out := struct {
			Users       []*user `json:"Users"`
			IsTruncated bool    `json:"IsTruncated"`
			Marker      string  `json:"Marker,omitempty"`
		}{Users: []*user{}}
		for i, name := range names {
			if i == in.MaxItems {
				out.IsTruncated, out.Marker = true, names[i-1]
				break
			}
			out.Users = append(out.Users, s.users[name])
		}
		return out, nil
	case "PutUserPolicy":
		in, err := awsproto.Decode[struct {
			UserName       string `json:"UserName"`
			PolicyName     string `json:"PolicyName"`
			PolicyDocument string `json:"PolicyDocument"`
		}](input)
		if err != nil {
			return nil, err
		}
		if s.users[in.UserName] == nil {
			return nil, m.QueryErrorFor("NoSuchEntityException", "The user with name "+in.UserName+" cannot be found.")
		}
		s.policies[in.UserName+"/"+in.PolicyName] = in.PolicyDocument
		return nil, nil
	case "GetCallerIdentity":
		return map[string]string{"UserId": "AIDA0000000000000001", "Account": account, "Arn": "arn:aws:iam::" + account + ":user/alice"}, nil
	case "AssumeRole":
		in, err := awsproto.Decode[struct {
			RoleArn         string `json:"RoleArn"`
			RoleSessionName string `json:"RoleSessionName"`
			DurationSeconds int    `json:"DurationSeconds"`
			PolicyArns      []struct {
				Arn string `json:"arn"`
			} `json:"PolicyArns"`
		}](input)
		if err != nil {
			return nil, err
		}
		if in.DurationSeconds == 0 {
			in.DurationSeconds = 3600
		}
		role := in.RoleArn[strings.LastIndex(in.RoleArn, "/")+1:]
		return map[string]any{
			"Credentials": map[string]any{"AccessKeyId": "ASIA0000000000000001", "SecretAccessKey": "secret/" + role, "SessionToken": "token-" + in.RoleSessionName,
				"Expiration": awsproto.EpochOf(s.now.Add(time.Duration(in.DurationSeconds) * time.Second))},
			"AssumedRoleUser":  map[string]any{"AssumedRoleId": "AROA0000000000000001:" + in.RoleSessionName, "Arn": "arn:aws:sts::" + account + ":assumed-role/" + role + "/" + in.RoleSessionName},
			"PackedPolicySize": 4 * len(in.PolicyArns),
		}, nil
	}
	return nil, m.QueryErrorFor("ServiceFailureException", op+" is not served here")
}

func clients(t *testing.T, url string) (*iam.Client, *sts.Client) {
	creds := credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "")
	return iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: creds, RetryMaxAttempts: 1}),
		sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: creds, RetryMaxAttempts: 1})
}

// TestQuerySDK: the AWS SDK's own IAM and STS clients read every answer,
// and every error, as they read AWS's.
func TestQuerySDK(t *testing.T) {
	srv := newQueryServer(t)
	ctx := context.Background()
	iamc, stsc := clients(t, srv.URL)
	created := time.Date(2026, 12, 7, 16, 42, 18, 0, time.UTC)

	out, err := iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice"), Path: aws.String("/eng/"),
		Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("core + infra: éq")}, {Key: aws.String("env"), Value: aws.String("")}}})
	if err != nil {
		t.Fatal(err)
	}
	u := out.User
	if aws.ToString(u.UserName) != "alice" || aws.ToString(u.Path) != "/eng/" || aws.ToString(u.UserId) != "AIDA0000000000000001" ||
		aws.ToString(u.Arn) != "arn:aws:iam::123456789012:user/eng/alice" || !aws.ToTime(u.CreateDate).Equal(created) ||
		len(u.Tags) != 2 || aws.ToString(u.Tags[0].Value) != "core + infra: éq" || aws.ToString(u.Tags[1].Key) != "env" || u.Tags[1].Value == nil {
		t.Fatalf("CreateUser: %+v", u)
	}
	_, err = iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")})
	var exists *iamtypes.EntityAlreadyExistsException
	if !errors.As(err, &exists) || exists.ErrorMessage() != "User with name alice already exists." {
		t.Fatalf("CreateUser again: %v", err)
	}
	for _, name := range []string{"bob", "carol", "dave"} {
		if _, err := iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}

	got, err := iamc.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("alice")})
	if err != nil || aws.ToString(got.User.Arn) != aws.ToString(u.Arn) || !aws.ToTime(got.User.CreateDate).Equal(created) || len(got.User.Tags) != 2 {
		t.Fatalf("GetUser: %+v %v", got, err)
	}
	_, err = iamc.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")})
	var missing *iamtypes.NoSuchEntityException
	var re *awshttp.ResponseError
	if !errors.As(err, &missing) || missing.ErrorMessage() != "The user with name nobody cannot be found." || missing.ErrorCode() != "NoSuchEntity" ||
		!errors.As(err, &re) || re.HTTPStatusCode() != http.StatusNotFound || re.ServiceRequestID() == "" {
		t.Fatalf("GetUser nobody: %v", err)
	}

	// Pages: MaxItems (an integer), IsTruncated (a boolean) and Marker.
	page, err := iamc.ListUsers(ctx, &iam.ListUsersInput{MaxItems: aws.Int32(3)})
	if err != nil || len(page.Users) != 3 || !page.IsTruncated || aws.ToString(page.Marker) != "carol" || aws.ToString(page.Users[1].UserName) != "bob" {
		t.Fatalf("ListUsers: %+v %v", page, err)
	}
	var all []string
	for p := iam.NewListUsersPaginator(iamc, &iam.ListUsersInput{MaxItems: aws.Int32(2)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range page.Users {
			all = append(all, aws.ToString(u.UserName))
		}
	}
	if !slices.Equal(all, []string{"alice", "bob", "carol", "dave"}) {
		t.Fatalf("ListUsers pages: %v", all)
	}

	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:*"],"Resource":"*",` +
		`"Condition":{"StringLike":{"aws:userid":"a+b=c&d%20e;f?"}}}]}` + "\n"
	if _, err := iamc.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("push"), PolicyDocument: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	if doc := srvPolicies(srv)["alice/push"]; doc != policy {
		t.Fatalf("PutUserPolicy stored %q", doc)
	}

	// A model constraint, worded as IAM words it.
	for name, want := range map[string]string{
		"a b": `1 validation error detected: Value 'a b' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+`,
		strings.Repeat("x", 65): "1 validation error detected: Value '" + strings.Repeat("x", 65) +
			"' at 'userName' failed to satisfy constraint: Member must have length less than or equal to 64",
	} {
		_, err := iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)})
		var api smithy.APIError
		var re *awshttp.ResponseError
		if !errors.As(err, &api) || api.ErrorCode() != "ValidationError" || api.ErrorMessage() != want || !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusBadRequest {
			t.Errorf("CreateUser %q: %v", name, err)
		}
	}

	id, err := stsc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != account || aws.ToString(id.Arn) != "arn:aws:iam::123456789012:user/alice" || aws.ToString(id.UserId) != "AIDA0000000000000001" {
		t.Fatalf("GetCallerIdentity: %+v %v", id, err)
	}
	role, err := stsc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/push"), RoleSessionName: aws.String("ci"),
		DurationSeconds: aws.Int32(900), PolicyArns: []ststypes.PolicyDescriptorType{{Arn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}}})
	if err != nil {
		t.Fatal(err)
	}
	c := role.Credentials
	if aws.ToString(c.AccessKeyId) != "ASIA0000000000000001" || aws.ToString(c.SecretAccessKey) != "secret/push" || aws.ToString(c.SessionToken) != "token-ci" ||
		!aws.ToTime(c.Expiration).Equal(created.Add(15*time.Minute)) || aws.ToString(role.AssumedRoleUser.Arn) != "arn:aws:sts::123456789012:assumed-role/push/ci" ||
		aws.ToInt32(role.PackedPolicySize) != 4 {
		t.Fatalf("AssumeRole: %+v %+v", c, role.AssumedRoleUser)
	}
	_, err = stsc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/push"), RoleSessionName: aws.String("ci"), DurationSeconds: aws.Int32(60)})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "ValidationError" ||
		api.ErrorMessage() != "1 validation error detected: Value '60' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900" {
		t.Fatalf("AssumeRole for a minute: %v", err)
	}
}

// srvPolicies reads the policies the server stored.
func srvPolicies(srv *httptest.Server) map[string]string {
	s := srv.Config.Handler.(*queryServer)
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.policies)
}

// TestQueryAWSCLI: the AWS CLI (botocore's parsers), where the machine has
// it, reads the answers as AWS's.
func TestQueryAWSCLI(t *testing.T) {
	cli, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("no aws CLI on PATH")
	}
	srv := newQueryServer(t)
	dir := t.TempDir()
	env := []string{"AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials"), "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER="}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	run := func(args ...string) (map[string]any, string, error) {
		cmd := exec.Command(cli, append(args, "--endpoint-url", srv.URL, "--output", "json")...)
		cmd.Env = env
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var out map[string]any
		if err == nil {
			if jerr := json.Unmarshal([]byte(stdout.String()), &out); jerr != nil {
				return nil, stderr.String(), fmt.Errorf("%w: %s", jerr, stdout.String())
			}
		}
		return out, stderr.String(), err
	}

	if _, stderr, err := run("iam", "create-user", "--user-name", "x", "--path", "/ci/", "--tags", "Key=team,Value=core"); err != nil {
		t.Fatalf("create-user: %v %s", err, stderr)
	}
	out, stderr, err := run("iam", "get-user", "--user-name", "x")
	if err != nil {
		t.Fatalf("get-user: %v %s", err, stderr)
	}
	u, _ := out["User"].(map[string]any)
	created, _ := time.Parse(time.RFC3339, fmt.Sprint(u["CreateDate"]))
	tags, _ := u["Tags"].([]any)
	if u["UserName"] != "x" || u["Path"] != "/ci/" || u["Arn"] != "arn:aws:iam::123456789012:user/ci/x" || u["UserId"] != "AIDA0000000000000001" ||
		!created.Equal(time.Date(2026, 12, 7, 16, 42, 18, 0, time.UTC)) || len(tags) != 1 || fmt.Sprint(tags[0]) != "map[Key:team Value:core]" {
		t.Fatalf("get-user printed %v", out)
	}
	if _, stderr, err := run("iam", "get-user", "--user-name", "nobody"); err == nil ||
		!strings.Contains(stderr, "An error occurred (NoSuchEntity) when calling the GetUser operation: The user with name nobody cannot be found.") {
		t.Fatalf("get-user nobody: %v %s", err, stderr)
	}
	out, stderr, err = run("sts", "get-caller-identity")
	if err != nil || out["Account"] != account || out["Arn"] != "arn:aws:iam::123456789012:user/alice" {
		t.Fatalf("get-caller-identity: %v %v %s", out, err, stderr)
	}
}

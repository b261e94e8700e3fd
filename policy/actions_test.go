package policy

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/berth-registry/berth/models"
)

func modelOperations(t *testing.T, model []byte) []string {
	t.Helper()
	var m struct {
		Operations map[string]json.RawMessage `json:"operations"`
	}
	if err := json.Unmarshal(model, &m); err != nil {
		t.Fatal(err)
	}
	var ops []string
	for op := range m.Operations {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	return ops
}

// TestECRActionsCoverModel keeps the table in step with the API model: a
// new operation in a model update fails here until it is given a scope.
func TestECRActionsCoverModel(t *testing.T) {
	ops := modelOperations(t, models.ECR)
	if len(ops) < 58 {
		t.Fatalf("model has %d operations, expected at least 58", len(ops))
	}
	for _, op := range ops {
		if _, known := ECRAction(op); !known {
			t.Errorf("operation %s has no IAM action", op)
		}
	}
	// Everything in the table is an operation or a documented extra.
	extras := []string{"BatchImportUpstreamImage", "GetImageCopyStatus", "ReplicateImage",
		"StartReplicationBackfill", "StopReplicationBackfill", "ListReplicationBackfills", "DescribeReplicationBackfillResults"}
	for name := range ecrActions {
		if !slices.Contains(ops, name) && !slices.Contains(extras, name) {
			t.Errorf("table action %s is neither a model operation nor a documented extra", name)
		}
	}
	for _, op := range modelOperations(t, models.ECRPublic) {
		if _, known := ECRPublicResourceScope(op); !known {
			t.Errorf("ECR Public operation %s has no scope", op)
		}
	}
}

func TestECRResourceScope(t *testing.T) {
	cases := []struct {
		op               string
		action           string
		repository, know bool
	}{
		{"GetAuthorizationToken", "ecr:GetAuthorizationToken", false, true},
		{"PutImage", "ecr:PutImage", true, true},
		{"ecr:putimage", "ecr:PutImage", true, true},
		{"ECR:DescribeRegistry", "ecr:DescribeRegistry", false, true},
		{"ListImageReferrers", "ecr:BatchGetImage", true, true},
		{"CreateRepository", "ecr:CreateRepository", true, true},
		{"ReplicateImage", "ecr:ReplicateImage", true, true},
		{"PutRegistryPolicy", "ecr:PutRegistryPolicy", false, true},
		{"PullImage", "", false, false},
		{"ecr-public:PutImage", "", false, false},
	}
	for _, c := range cases {
		action, known := ECRAction(c.op)
		if action != c.action || known != c.know {
			t.Errorf("ECRAction(%q) = %q, %v; want %q, %v", c.op, action, known, c.action, c.know)
		}
		repository, known := ECRResourceScope(c.op)
		if repository != c.repository || known != c.know {
			t.Errorf("ECRResourceScope(%q) = %v, %v; want %v, %v", c.op, repository, known, c.repository, c.know)
		}
	}
	public := map[string]Scope{"GetAuthorizationToken": ScopeNone, "ecr-public:PutImage": ScopeRepository,
		"DescribeRegistries": ScopeRegistry, "PutRegistryCatalogData": ScopeRegistry}
	for op, want := range public {
		if got, known := ECRPublicResourceScope(op); got != want || !known {
			t.Errorf("ECRPublicResourceScope(%q) = %v, %v; want %v", op, got, known, want)
		}
	}
	if _, known := ECRPublicResourceScope("BatchGetImage"); known {
		t.Error("ECR Public has no BatchGetImage action")
	}
}

func TestECRActions(t *testing.T) {
	all := ECRActions()
	if len(all) != len(ecrActions) || !slices.IsSorted(all) {
		t.Fatalf("ECRActions() = %d sorted=%v", len(all), slices.IsSorted(all))
	}
	for _, a := range all {
		if !strings.HasPrefix(a, "ecr:") {
			t.Errorf("%q lacks the ecr: prefix", a)
		}
	}
}

func TestManagedPolicies(t *testing.T) {
	all := Managed()
	if len(all) != 7 {
		t.Fatalf("Managed() has %d policies, want 7", len(all))
	}
	for _, m := range all {
		if m.ARN != "arn:aws:iam::aws:policy/"+m.Name {
			t.Errorf("%s: ARN %s", m.Name, m.ARN)
		}
		if err := Validate(m.Policy, Identity, ValidateOptions{RequireCurrentVersion: true}); err != nil {
			t.Errorf("%s: %v", m.Name, err)
		}
		if m.Updated.Before(m.Created) || m.Created.IsZero() || m.Description == "" || m.VersionID == "" {
			t.Errorf("%s: metadata %+v", m.Name, m)
		}
		got, ok := ManagedByARN(m.ARN)
		if !ok || got.Name != m.Name {
			t.Errorf("ManagedByARN(%s) = %s, %v", m.ARN, got.Name, ok)
		}
	}
	if _, ok := ManagedByARN("arn:aws:iam::aws:policy/AdministratorAccess"); ok {
		t.Error("ManagedByARN found a policy berth does not ship")
	}
	// Case #18's premise and §1.5's lists.
	actions := func(name string) []string {
		m, _ := ManagedByARN("arn:aws:iam::aws:policy/" + name)
		return m.Policy.Statements[0].Action
	}
	readOnly, power := actions("AmazonEC2ContainerRegistryReadOnly"), actions("AmazonEC2ContainerRegistryPowerUser")
	if len(readOnly) != 12 || len(power) != 16 || !slices.Equal(power[:12], readOnly) {
		t.Errorf("PowerUser %v is not ReadOnly %v plus four", power, readOnly)
	}
	full, _ := ManagedByARN("arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess")
	if s := full.Policy.Statements; len(s) != 2 || s[1].Condition[0].Key != "iam:AWSServiceName" || s[1].Condition[0].Values[0] != "replication.ecr.amazonaws.com" {
		t.Errorf("FullAccess statements %+v", s)
	}
	pub, _ := ManagedByARN("arn:aws:iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly")
	if !slices.Contains(pub.Policy.Statements[0].Action, "sts:GetServiceBearerToken") {
		t.Error("PublicReadOnly lacks sts:GetServiceBearerToken")
	}
}

// TestManagedFullAccessServiceLinkedRole evaluates FullAccess's second
// statement: only the replication service's role may be created.
func TestManagedFullAccessServiceLinkedRole(t *testing.T) {
	full, _ := ManagedByARN("arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess")
	id := []Named{{Name: full.ARN, Policy: full.Policy}}
	req := Request{Principal: admin, Action: "iam:CreateServiceLinkedRole", Resource: "*", ResourceAccount: acctA,
		Context: MapContext{"iam:AWSServiceName": {"replication.ecr.amazonaws.com"}}}
	if d := Evaluate(req, id, nil); !d.Allowed || d.Policy != full.ARN {
		t.Errorf("replication role: %+v", d)
	}
	req.Context = MapContext{"iam:AWSServiceName": {"elasticbeanstalk.amazonaws.com"}}
	if d := Evaluate(req, id, nil); d.Allowed {
		t.Errorf("another service's role allowed: %+v", d)
	}
}

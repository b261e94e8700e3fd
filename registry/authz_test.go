package registry

import (
	"context"
	"testing"
	"time"
)

// authzRegistry is a registry with a user ci allowed by the AWS managed
// PowerUser policy and an inline deny with conditions, and a repository
// app with a policy of two denies.
func authzRegistry(tb testing.TB) (*Registry, Caller, Caller) {
	tb.Helper()
	ctx := context.Background()
	meta, blobs := testStores(tb)
	r := New(meta, blobs, Config{ID: "111122223333", SecretsKey: make([]byte, SecretsKeySize), Now: func() time.Time { return testNow }})
	tb.Cleanup(func() { r.Close(); meta.Close() })
	if _, err := r.CreateRepository(ctx, CreateRepositoryInput{Name: "app"}); err != nil {
		tb.Fatal(err)
	}
	if _, err := r.CreateUser(ctx, "ci", "", nil); err != nil {
		tb.Fatal(err)
	}
	if err := r.AttachPolicy(ctx, "user", "ci", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser", true); err != nil {
		tb.Fatal(err)
	}
	inline := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ecr:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"},"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}]}`
	if err := r.PutPrincipalPolicy(ctx, "user", "ci", "not-from-there", inline); err != nil {
		tb.Fatal(err)
	}
	repoPolicy := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"ecr:DeleteRepository","Resource":"*"},` +
		`{"Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{"NotIpAddress":{"aws:SourceIp":["127.0.0.0/8","::1/128"]}}}]}`
	if _, err := r.SetRepositoryPolicy(ctx, "app", repoPolicy, true); err != nil {
		tb.Fatal(err)
	}
	root := NewCaller("arn:aws:iam::111122223333:root", "", "BKIAROOT", "127.0.0.1:5555", false)
	ci := NewCaller("arn:aws:iam::111122223333:user/ci", "", "AKIACI", "127.0.0.1:5555", false)
	return r, root, ci
}

func TestAuthorize(t *testing.T) {
	r, root, ci := authzRegistry(t)
	for _, tc := range []struct {
		who    Caller
		action string
		repo   string
		ok     bool
	}{
		{root, "ecr:BatchGetImage", "app", true},
		{root, "ecr:DeleteRepository", "app", false}, // the repository policy's deny holds for the root
		{ci, "ecr:BatchGetImage", "app", true},
		{ci, "ecr:PutImage", "app", true},
		{ci, "ecr:SetRepositoryPolicy", "app", false},
		{ci, "ecr:GetAuthorizationToken", "", true},
		{NewCaller("arn:aws:iam::111122223333:user/ci", "", "AKIACI", "10.0.0.1:5555", false), "ecr:BatchGetImage", "app", false},
	} {
		err := r.Authorize(WithCaller(context.Background(), tc.who), Access{Action: tc.action, Repository: tc.repo})
		if (err == nil) != tc.ok {
			t.Errorf("%s %s on %q: %v, want allowed %v", tc.who.Principal.ARN, tc.action, tc.repo, err, tc.ok)
		}
	}
	if err := r.Authorize(context.Background(), Access{Action: "ecr:DeleteRepository", Repository: "app"}); err != nil {
		t.Errorf("berth's own work is denied: %v", err)
	}
}

func benchmarkAuthorize(b *testing.B, who func(root, ci Caller) Caller) {
	r, root, ci := authzRegistry(b)
	ctx := WithCaller(context.Background(), who(root, ci))
	a := Access{Action: "ecr:BatchGetImage", Repository: "app"}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := r.Authorize(ctx, a); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkAuthorizeRoot(b *testing.B) {
	benchmarkAuthorize(b, func(root, _ Caller) Caller { return root })
}

func BenchmarkAuthorizeUser(b *testing.B) {
	benchmarkAuthorize(b, func(_, ci Caller) Caller { return ci })
}

// testNow is the clock of authzRegistry.
var testNow = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// TestAuthorizeKeepsOnlyStableDecisions: a kept decision is forgotten
// when a policy changes, and a policy that depends on the time is asked
// every time.
func TestAuthorizeKeepsOnlyStableDecisions(t *testing.T) {
	r, _, ci := authzRegistry(t)
	ctx := context.Background()
	as := WithCaller(ctx, ci)
	pull := Access{Action: "ecr:BatchGetImage", Repository: "app"}
	if err := r.Authorize(as, pull); err != nil {
		t.Fatal(err)
	}
	if err := r.AttachPolicy(ctx, "user", "ci", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser", false); err != nil {
		t.Fatal(err)
	}
	if err := r.Authorize(as, pull); err == nil {
		t.Fatal("allowed after the policy that allowed it was detached")
	}
	until := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2026-06-01T00:00:01Z"}}}]}`
	if err := r.PutPrincipalPolicy(ctx, "user", "ci", "until", until); err != nil {
		t.Fatal(err)
	}
	if err := r.Authorize(as, pull); err != nil {
		t.Fatalf("before the time: %v", err)
	}
	testNow = testNow.Add(time.Second)
	defer func() { testNow = testNow.Add(-time.Second) }()
	if err := r.Authorize(as, pull); err == nil {
		t.Fatal("allowed after the time its policy allows")
	}
}

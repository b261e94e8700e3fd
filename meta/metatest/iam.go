package metatest

import (
	"testing"
	"time"

	"github.com/berth-registry/berth"
)

// generation reads the IAM generation.
func generation(t *testing.T, s berth.MetaStore) int64 {
	t.Helper()
	var n int64
	view(t, s, func(tx berth.MetaTx) (err error) {
		n, err = tx.IAMGeneration(ctx)
		return err
	})
	return n
}

// moves runs fn in an Update and fails unless it moved the IAM generation on.
func moves(t *testing.T, s berth.MetaStore, what string, fn func(berth.MetaTx) error) {
	t.Helper()
	before := generation(t, s)
	update(t, s, fn)
	if after := generation(t, s); after <= before {
		t.Errorf("%s: IAM generation %d, then %d: want it to move on", what, before, after)
	}
}

func user(account, name string) *berth.Principal {
	return &berth.Principal{ARN: "arn:aws:iam::" + account + ":user/" + name, Account: account, Kind: berth.PrincipalUser,
		Name: name, Path: "/", ID: "AIDA" + name, Created: t0, Tags: []berth.ResourceTag{{Key: "team", Value: "a"}}}
}

// testPrincipals: users and roles, unique by name regardless of case.
func testPrincipals(t *testing.T, s berth.MetaStore) {
	moves(t, s, "PutAccount", func(tx berth.MetaTx) error {
		for _, a := range []string{"444455556666", "111122223333"} {
			if err := tx.PutAccount(ctx, &berth.Account{ID: a, CreatedAt: t0}); err != nil {
				return err
			}
		}
		return tx.PutAccount(ctx, &berth.Account{ID: "111122223333", CreatedAt: t0.Add(time.Hour)})
	})
	view(t, s, func(tx berth.MetaTx) error {
		as, err := tx.ListAccounts(ctx)
		if err != nil {
			return err
		}
		if len(as) != 2 || as[0].ID != "111122223333" || !as[0].CreatedAt.Equal(t0) || as[1].ID != "444455556666" {
			t.Errorf("accounts %+v", as)
		}
		return nil
	})
	moves(t, s, "CreatePrincipal", func(tx berth.MetaTx) error {
		for _, n := range []string{"ci", "reader", "Admin"} {
			if err := tx.CreatePrincipal(ctx, user("111122223333", n)); err != nil {
				return err
			}
		}
		role := &berth.Principal{ARN: "arn:aws:iam::111122223333:role/ci", Account: "111122223333", Kind: berth.PrincipalRole, Name: "ci",
			Path: "/", ID: "AROAci", Created: t0, TrustPolicy: `{"Statement":[]}`, MaxSessionDuration: 3600}
		if err := tx.CreatePrincipal(ctx, role); err != nil {
			return err
		}
		return tx.CreatePrincipal(ctx, user("444455556666", "ci"))
	})
	update(t, s, func(tx berth.MetaTx) error {
		wantCode(t, tx.CreatePrincipal(ctx, user("111122223333", "CI")), berth.EConflict)
		return nil
	})
	view(t, s, func(tx berth.MetaTx) error {
		p, err := tx.GetPrincipal(ctx, "111122223333", berth.PrincipalUser, "ADMIN")
		if err != nil {
			return err
		}
		if p.Name != "Admin" || p.ARN != "arn:aws:iam::111122223333:user/Admin" || !p.Created.Equal(t0) || len(p.Tags) != 1 {
			t.Errorf("GetPrincipal: %+v", p)
		}
		r, err := tx.GetPrincipal(ctx, "111122223333", berth.PrincipalRole, "ci")
		if err != nil {
			return err
		}
		if r.TrustPolicy == "" || r.MaxSessionDuration != 3600 {
			t.Errorf("role %+v", r)
		}
		_, err = tx.GetPrincipal(ctx, "444455556666", berth.PrincipalUser, "reader")
		wantCode(t, err, berth.ENotFound)
		page, next, err := tx.ListPrincipals(ctx, "111122223333", berth.PrincipalUser, berth.Page{Limit: 2})
		if err != nil {
			return err
		}
		if len(page) != 2 || page[0].Name != "Admin" || page[1].Name != "ci" || next == "" {
			t.Errorf("first page %v, next %q", page, next)
		}
		page, next, err = tx.ListPrincipals(ctx, "111122223333", berth.PrincipalUser, berth.Page{Limit: 2, After: next})
		if err != nil {
			return err
		}
		if len(page) != 1 || page[0].Name != "reader" || next != "" {
			t.Errorf("second page %v, next %q", page, next)
		}
		return nil
	})
	moves(t, s, "DeletePrincipal", func(tx berth.MetaTx) error {
		return tx.DeletePrincipal(ctx, "arn:aws:iam::111122223333:user/reader")
	})
	update(t, s, func(tx berth.MetaTx) error {
		wantCode(t, tx.DeletePrincipal(ctx, "arn:aws:iam::111122223333:user/reader"), berth.ENotFound)
		return nil
	})
}

// testAccessKeys: keys by id and by principal; temporary keys expire.
func testAccessKeys(t *testing.T, s berth.MetaStore) {
	ci := "arn:aws:iam::111122223333:user/ci"
	k1 := &berth.AccessKey{ID: "AKIA1", Principal: ci, Secret: []byte{1, 2, 3}, Status: "Active", Created: t0}
	k2 := &berth.AccessKey{ID: "AKIA2", Principal: ci, Secret: []byte{4}, Status: "Active", Created: t0.Add(time.Minute)}
	moves(t, s, "PutAccessKey", func(tx berth.MetaTx) error {
		if err := tx.PutAccessKey(ctx, k2); err != nil {
			return err
		}
		return tx.PutAccessKey(ctx, k1)
	})
	session := &berth.AccessKey{ID: "ASIA1", Principal: "arn:aws:sts::111122223333:assumed-role/ci/s1", Secret: []byte{5}, Status: "Active",
		Created: t0, Expires: t0.Add(time.Hour), Role: "arn:aws:iam::111122223333:role/ci", SessionToken: []byte{9, 9}}
	update(t, s, func(tx berth.MetaTx) error { return tx.PutAccessKey(ctx, session) })
	k1.Status = "Inactive"
	moves(t, s, "PutAccessKey (status)", func(tx berth.MetaTx) error { return tx.PutAccessKey(ctx, k1) })
	view(t, s, func(tx berth.MetaTx) error {
		k, err := tx.GetAccessKey(ctx, "AKIA1")
		if err != nil {
			return err
		}
		if k.Status != "Inactive" || string(k.Secret) != "\x01\x02\x03" || k.Principal != ci || !k.Expires.IsZero() {
			t.Errorf("GetAccessKey %+v", k)
		}
		s, err := tx.GetAccessKey(ctx, "ASIA1")
		if err != nil {
			return err
		}
		if !s.Expires.Equal(t0.Add(time.Hour)) || s.Role == "" || len(s.SessionToken) != 2 {
			t.Errorf("session key %+v", s)
		}
		ks, err := tx.ListAccessKeys(ctx, ci)
		if err != nil {
			return err
		}
		if len(ks) != 2 || ks[0].ID != "AKIA1" || ks[1].ID != "AKIA2" {
			t.Errorf("ListAccessKeys %+v", ks)
		}
		_, err = tx.GetAccessKey(ctx, "AKIA9")
		wantCode(t, err, berth.ENotFound)
		return nil
	})
	update(t, s, func(tx berth.MetaTx) error {
		n, err := tx.DeleteExpiredKeys(ctx, t0.Add(time.Hour-1), 10)
		if err != nil || n != 0 {
			t.Errorf("DeleteExpiredKeys before expiry: %d, %v", n, err)
		}
		n, err = tx.DeleteExpiredKeys(ctx, t0.Add(time.Hour), 10)
		if err != nil || n != 1 {
			t.Errorf("DeleteExpiredKeys at expiry: %d, %v", n, err)
		}
		_, err = tx.GetAccessKey(ctx, "ASIA1")
		wantCode(t, err, berth.ENotFound)
		return nil
	})
	moves(t, s, "DeleteAccessKey", func(tx berth.MetaTx) error { return tx.DeleteAccessKey(ctx, "AKIA2") })
	update(t, s, func(tx berth.MetaTx) error {
		wantCode(t, tx.DeleteAccessKey(ctx, "AKIA2"), berth.ENotFound)
		return nil
	})
}

// testIdentityPolicies: managed policies, inline policies and attachments.
func testIdentityPolicies(t *testing.T, s berth.MetaStore) {
	ci := "arn:aws:iam::111122223333:user/ci"
	push := &berth.ManagedPolicy{ARN: "arn:aws:iam::111122223333:policy/push", Account: "111122223333", Name: "push", Path: "/",
		ID: "ANPApush", Document: `{"push":1}`, Created: t0, Updated: t0}
	moves(t, s, "CreateManagedPolicy", func(tx berth.MetaTx) error { return tx.CreateManagedPolicy(ctx, push) })
	update(t, s, func(tx berth.MetaTx) error {
		dup := *push
		dup.ARN = "arn:aws:iam::111122223333:policy/team/PUSH"
		dup.Name = "PUSH"
		wantCode(t, tx.CreateManagedPolicy(ctx, &dup), berth.EConflict)
		return nil
	})
	moves(t, s, "PutInlinePolicy", func(tx berth.MetaTx) error { return tx.PutInlinePolicy(ctx, ci, "pull", `{"pull":1}`) })
	moves(t, s, "PutInlinePolicy (replace)", func(tx berth.MetaTx) error { return tx.PutInlinePolicy(ctx, ci, "pull", `{"pull":2}`) })
	moves(t, s, "AttachPolicy", func(tx berth.MetaTx) error {
		if err := tx.AttachPolicy(ctx, ci, push.ARN); err != nil {
			return err
		}
		if err := tx.AttachPolicy(ctx, ci, push.ARN); err != nil {
			return err
		}
		return tx.AttachPolicy(ctx, ci, "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")
	})
	view(t, s, func(tx berth.MetaTx) error {
		ps, err := tx.PrincipalPolicies(ctx, ci)
		if err != nil {
			return err
		}
		want := []berth.PolicyDocument{
			{Name: "pull", Inline: true, Document: `{"pull":2}`},
			{Name: "arn:aws:iam::111122223333:policy/push", Document: `{"push":1}`},
			{Name: "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"},
		}
		if len(ps) != len(want) {
			t.Fatalf("PrincipalPolicies %+v", ps)
		}
		for i := range want {
			if ps[i] != want[i] {
				t.Errorf("policy %d: %+v, want %+v", i, ps[i], want[i])
			}
		}
		n, err := tx.PolicyAttachments(ctx, push.ARN)
		if err != nil || n != 1 {
			t.Errorf("PolicyAttachments %d, %v", n, err)
		}
		page, next, err := tx.ListManagedPolicies(ctx, "111122223333", berth.Page{Limit: 10})
		if err != nil || len(page) != 1 || page[0].Document != push.Document || next != "" {
			t.Errorf("ListManagedPolicies %+v %q %v", page, next, err)
		}
		return nil
	})
	moves(t, s, "DetachPolicy", func(tx berth.MetaTx) error { return tx.DetachPolicy(ctx, ci, push.ARN) })
	moves(t, s, "DeleteInlinePolicy", func(tx berth.MetaTx) error { return tx.DeleteInlinePolicy(ctx, ci, "pull") })
	moves(t, s, "DeleteManagedPolicy", func(tx berth.MetaTx) error { return tx.DeleteManagedPolicy(ctx, push.ARN) })
	update(t, s, func(tx berth.MetaTx) error {
		wantCode(t, tx.DetachPolicy(ctx, ci, push.ARN), berth.ENotFound)
		wantCode(t, tx.DeleteInlinePolicy(ctx, ci, "pull"), berth.ENotFound)
		wantCode(t, tx.DeleteManagedPolicy(ctx, push.ARN), berth.ENotFound)
		_, err := tx.GetManagedPolicy(ctx, push.ARN)
		wantCode(t, err, berth.ENotFound)
		ps, err := tx.PrincipalPolicies(ctx, ci)
		if err != nil || len(ps) != 1 {
			t.Errorf("after detaching: %+v, %v", ps, err)
		}
		return nil
	})
}

// testResourcePolicies: repository policies go with their repository;
// registry settings.
func testResourcePolicies(t *testing.T, s berth.MetaStore) {
	update(t, s, func(tx berth.MetaTx) error { return tx.CreateRepository(ctx, repo("app-a")) })
	moves(t, s, "SetRepositoryPolicy", func(tx berth.MetaTx) error { return tx.SetRepositoryPolicy(ctx, "app-a", `{"p":1}`) })
	view(t, s, func(tx berth.MetaTx) error {
		p, err := tx.GetRepositoryPolicy(ctx, "app-a")
		if err != nil || p != `{"p":1}` {
			t.Errorf("GetRepositoryPolicy %q, %v", p, err)
		}
		_, err = tx.GetRepositoryPolicy(ctx, "nope")
		wantCode(t, err, berth.ENotFound)
		return nil
	})
	update(t, s, func(tx berth.MetaTx) error {
		wantCode(t, tx.SetRepositoryPolicy(ctx, "nope", "x"), berth.ENotFound)
		return nil
	})
	moves(t, s, "DeleteRepository with a policy", func(tx berth.MetaTx) error { return tx.DeleteRepository(ctx, "app-a") })
	update(t, s, func(tx berth.MetaTx) error { return tx.CreateRepository(ctx, repo("app-a")) })
	view(t, s, func(tx berth.MetaTx) error {
		p, err := tx.GetRepositoryPolicy(ctx, "app-a")
		if err != nil || p != "" {
			t.Errorf("a new repository of the same name has policy %q, %v", p, err)
		}
		return nil
	})
	moves(t, s, "PutSetting", func(tx berth.MetaTx) error { return tx.PutSetting(ctx, "registry_policy", `{"r":1}`) })
	view(t, s, func(tx berth.MetaTx) error {
		v, err := tx.GetSetting(ctx, "registry_policy")
		if err != nil || v != `{"r":1}` {
			t.Errorf("GetSetting %q, %v", v, err)
		}
		v, err = tx.GetSetting(ctx, "unset")
		if err != nil || v != "" {
			t.Errorf("GetSetting(unset) %q, %v", v, err)
		}
		return nil
	})
	moves(t, s, "PutSetting (remove)", func(tx berth.MetaTx) error { return tx.PutSetting(ctx, "registry_policy", "") })
	view(t, s, func(tx berth.MetaTx) error {
		v, err := tx.GetSetting(ctx, "registry_policy")
		if err != nil || v != "" {
			t.Errorf("removed setting %q, %v", v, err)
		}
		return nil
	})
}

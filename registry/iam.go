package registry

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/berth-registry/berth"
	"github.com/berth-registry/berth/policy"
)

// IAM's rules for users, their access keys and their policies, as the IAM
// API applies them: the texts of its errors, its quotas, and what must go
// before a user can. Roles and managed policies are in iampolicy.go.

// MaxAccessKeys is IAM's quota of access keys per user.
const MaxAccessKeys = 2

// Inline policy size quotas (characters, whitespace not counted), IAM's.
const (
	maxUserPolicySize    = 2048
	maxRolePolicySize    = 10240
	maxManagedPolicySize = 6144
)

// callerAccount is the account IAM requests act in: the caller's, or for
// berth's own work the registry's.
func (r *Registry) callerAccount(ctx context.Context) string {
	if c, ok := CallerOf(ctx); ok && c.Principal.Account != "" && c.Principal.Account != policy.AnonymousAccount {
		return c.Principal.Account
	}
	return r.id
}

// authorizeIAM decides an IAM or STS action on a resource of the caller's
// own account: identity policies only (IAM users and policies have no
// resource policies), the account's root always allowed.
func (r *Registry) authorizeIAM(ctx context.Context, action, resource string) error {
	c, ok := CallerOf(ctx)
	if !ok {
		return nil
	}
	return r.decide(ctx, c, Access{Action: action}, resource, c.Principal.Account, nil)
}

// iamARN is the ARN of an IAM entity of an account: user, role or policy.
func iamARN(account, kind, path, name string) string {
	return "arn:aws:iam::" + account + ":" + kind + "/" + strings.TrimPrefix(path, "/") + name
}

func normalPath(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

func noSuchUser(name string) error {
	return berth.Errorf(berth.ENoSuchEntity, "The user with name %s cannot be found.", name)
}

// getPrincipal reads a user or role, with IAM's NoSuchEntity text.
func getPrincipal(ctx context.Context, tx berth.MetaTx, account, kind, name string) (*berth.Principal, error) {
	p, err := tx.GetPrincipal(ctx, account, kind, name)
	if berth.IsCode(err, berth.ENotFound) {
		if kind == berth.PrincipalRole {
			return nil, berth.Errorf(berth.ENoSuchEntity, "The role with name %s cannot be found.", name)
		}
		return nil, noSuchUser(name)
	}
	return p, err
}

// changeIAM runs an Update of IAM data and, when it commits, forgets what
// decisions cached and writes the audit event.
func (r *Registry) changeIAM(ctx context.Context, event string, fn func(tx berth.MetaTx) error, attrs ...slog.Attr) error {
	if err := r.meta.Update(ctx, fn); err != nil {
		return err
	}
	r.iamChanged()
	who := "berth"
	if c, ok := CallerOf(ctx); ok {
		who = c.Principal.ARN
	}
	r.audit(ctx, event, append([]slog.Attr{slog.String("principal", who)}, attrs...)...)
	return nil
}

// CreateUser creates an IAM user in the caller's account.
func (r *Registry) CreateUser(ctx context.Context, name, path string, tags []berth.ResourceTag) (*berth.Principal, error) {
	account := r.callerAccount(ctx)
	path = normalPath(path)
	u := &berth.Principal{ARN: iamARN(account, "user", path, name), Account: account, Kind: berth.PrincipalUser, Name: name, Path: path,
		ID: newKeyID("AIDA"), Created: r.nowUTC().Truncate(1e9), Tags: tags}
	if err := r.authorizeIAM(ctx, "iam:CreateUser", u.ARN); err != nil {
		return nil, err
	}
	err := r.changeIAM(ctx, "user created", func(tx berth.MetaTx) error {
		err := tx.CreatePrincipal(ctx, u)
		if berth.IsCode(err, berth.EConflict) {
			return berth.Errorf(berth.EEntityAlreadyExists, "User with name %s already exists.", name)
		}
		return err
	}, slog.String("user", u.ARN))
	return u, err
}

// Self is the principal a GetUser without a name describes: the caller.
// For the root it is a user with the account's id and ARN, as IAM answers.
func (r *Registry) GetUser(ctx context.Context, name string) (*berth.Principal, error) {
	account := r.callerAccount(ctx)
	if name == "" {
		c, ok := CallerOf(ctx)
		switch {
		case !ok || c.Principal.Kind == policy.Root:
			return &berth.Principal{ARN: "arn:aws:iam::" + account + ":root", Account: account, ID: account, Path: "/"}, nil
		case c.Principal.Kind != policy.User:
			return nil, berth.Errorf(berth.EInvalidParameter, "Must specify userName when calling with non-User credentials")
		}
		name = c.Principal.UserName
	}
	var u *berth.Principal
	err := r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
		u, err = getPrincipal(ctx, tx, account, berth.PrincipalUser, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, r.authorizeIAM(ctx, "iam:GetUser", u.ARN)
}

// ListPrincipals lists the users or roles of the caller's account whose
// path starts with pathPrefix, a page at a time.
func (r *Registry) ListPrincipals(ctx context.Context, kind, pathPrefix, marker string, maxItems int) ([]berth.Principal, string, error) {
	account := r.callerAccount(ctx)
	action := "iam:ListUsers"
	if kind == berth.PrincipalRole {
		action = "iam:ListRoles"
	}
	if err := r.authorizeIAM(ctx, action, iamARN(account, kind, "/", "*")); err != nil {
		return nil, "", err
	}
	after, err := decodeToken(tokenPrincipals, kind, marker)
	if err != nil {
		return nil, "", berth.Errorf(berth.EInvalidParameter, "Invalid Marker.")
	}
	if maxItems <= 0 {
		maxItems = 100
	}
	var out []berth.Principal
	// Filter by path while paging by name: read on until the page is full.
	err = r.meta.View(ctx, func(tx berth.MetaTx) error {
		for len(out) < maxItems {
			ps, next, err := tx.ListPrincipals(ctx, account, kind, berth.Page{Limit: maxItems, After: after})
			if err != nil {
				return err
			}
			for _, p := range ps {
				if len(out) == maxItems {
					return nil
				}
				after = p.Name
				if strings.HasPrefix(p.Path, normalPath(pathPrefix)) {
					out = append(out, p)
				}
			}
			if next == "" {
				after = ""
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	if len(out) < maxItems {
		after = ""
	}
	return out, encodeToken(tokenPrincipals, kind, after), nil
}

// DeleteUser deletes a user that has no access keys and no policies left,
// as IAM requires.
func (r *Registry) DeleteUser(ctx context.Context, name string) error {
	return r.deletePrincipal(ctx, berth.PrincipalUser, name)
}

func (r *Registry) deletePrincipal(ctx context.Context, kind, name string) error {
	account := r.callerAccount(ctx)
	action := "iam:DeleteUser"
	if kind == berth.PrincipalRole {
		action = "iam:DeleteRole"
	}
	p, err := r.principalFor(ctx, kind, name, action)
	if err != nil {
		return err
	}
	return r.changeIAM(ctx, kind+" deleted", func(tx berth.MetaTx) error {
		if _, err := getPrincipal(ctx, tx, account, kind, name); err != nil {
			return err
		}
		keys, err := tx.ListAccessKeys(ctx, p.ARN)
		if err != nil {
			return err
		}
		if len(keys) > 0 && kind == berth.PrincipalUser {
			return berth.Errorf(berth.EDeleteConflict, "Cannot delete entity, must delete access keys first.")
		}
		docs, err := tx.PrincipalPolicies(ctx, p.ARN)
		if err != nil {
			return err
		}
		for _, d := range docs {
			if d.Inline {
				return berth.Errorf(berth.EDeleteConflict, "Cannot delete entity, must delete policies first.")
			}
			return berth.Errorf(berth.EDeleteConflict, "Cannot delete entity, must detach all policies first.")
		}
		return tx.DeletePrincipal(ctx, p.ARN)
	}, slog.String(kind, name))
}

// AccessKeyInfo is what IAM tells of an access key: never its secret,
// except once, when it is created.
type AccessKeyInfo struct {
	UserName        string
	AccessKeyID     string
	SecretAccessKey string // CreateAccessKey only
	Status          string
	Created         time.Time
}

// keyOwner is the user whose keys a request names: userName, or the
// calling user itself when it gives none; the caller must be allowed
// action on it.
func (r *Registry) keyOwner(ctx context.Context, userName, action string) (*berth.Principal, error) {
	account := r.callerAccount(ctx)
	if userName == "" {
		c, ok := CallerOf(ctx)
		if !ok || c.Principal.Kind != policy.User {
			return nil, berth.Errorf(berth.EInvalidParameter, "Must specify userName when calling with non-User credentials")
		}
		userName = c.Principal.UserName
	}
	var u *berth.Principal
	err := r.meta.View(ctx, func(tx berth.MetaTx) (err error) {
		u, err = getPrincipal(ctx, tx, account, berth.PrincipalUser, userName)
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, r.authorizeIAM(ctx, action, u.ARN)
}

// CreateAccessKey makes a new key pair for a user, at most MaxAccessKeys
// each.
func (r *Registry) CreateAccessKey(ctx context.Context, userName string) (*AccessKeyInfo, error) {
	if r.sealer == nil {
		return nil, berth.Errorf(berth.EInvalidParameter, "berth keeps no access keys without a secrets key; start it with --secrets-key-file")
	}
	u, err := r.keyOwner(ctx, userName, "iam:CreateAccessKey")
	if err != nil {
		return nil, err
	}
	var info *AccessKeyInfo
	err = r.changeIAM(ctx, "access key created", func(tx berth.MetaTx) error {
		if _, err := getPrincipal(ctx, tx, u.Account, berth.PrincipalUser, u.Name); err != nil {
			return err
		}
		keys, err := tx.ListAccessKeys(ctx, u.ARN)
		if err != nil {
			return err
		}
		if len(keys) >= MaxAccessKeys {
			return berth.Errorf(berth.ELimitExceeded, "Cannot exceed quota for AccessKeysPerUser: %d", MaxAccessKeys)
		}
		if err := r.checkSealer(ctx, tx, true); err != nil {
			return err
		}
		id, secret := newKeyID("AKIA"), newSecret()
		k := &berth.AccessKey{ID: id, Principal: u.ARN, Secret: r.sealer.seal(id, secret), Status: statusActive, Created: r.nowUTC().Truncate(1e9)}
		info = &AccessKeyInfo{UserName: u.Name, AccessKeyID: id, SecretAccessKey: secret, Status: k.Status, Created: k.Created}
		return tx.PutAccessKey(ctx, k)
	}, slog.String("user", u.ARN))
	return info, err
}

// ListAccessKeys lists a user's keys, without their secrets.
func (r *Registry) ListAccessKeys(ctx context.Context, userName string) ([]AccessKeyInfo, string, error) {
	u, err := r.keyOwner(ctx, userName, "iam:ListAccessKeys")
	if err != nil {
		return nil, "", err
	}
	var out []AccessKeyInfo
	err = r.meta.View(ctx, func(tx berth.MetaTx) error {
		keys, err := tx.ListAccessKeys(ctx, u.ARN)
		for _, k := range keys {
			out = append(out, AccessKeyInfo{UserName: u.Name, AccessKeyID: k.ID, Status: k.Status, Created: k.Created})
		}
		return err
	})
	return out, u.Name, err
}

// ownKey reads a key of a user, with IAM's text when it is not the user's.
func ownKey(ctx context.Context, tx berth.MetaTx, u *berth.Principal, id string) (*berth.AccessKey, error) {
	k, err := tx.GetAccessKey(ctx, id)
	if berth.IsCode(err, berth.ENotFound) || (err == nil && k.Principal != u.ARN) {
		return nil, berth.Errorf(berth.ENoSuchEntity, "The Access Key with id %s cannot be found.", id)
	}
	return k, err
}

// UpdateAccessKey makes a key Active or Inactive. An inactive key
// authenticates nothing, and the registry tokens issued to it stop working.
func (r *Registry) UpdateAccessKey(ctx context.Context, userName, id, status string) error {
	if status != statusActive && status != statusInactive {
		return berth.Errorf(berth.EInvalidParameter, "1 validation error detected: Value '%s' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]", status)
	}
	u, err := r.keyOwner(ctx, userName, "iam:UpdateAccessKey")
	if err != nil {
		return err
	}
	return r.changeIAM(ctx, "access key updated", func(tx berth.MetaTx) error {
		k, err := ownKey(ctx, tx, u, id)
		if err != nil {
			return err
		}
		k.Status = status
		return tx.PutAccessKey(ctx, k)
	}, slog.String("access_key", id), slog.String("status", status))
}

// DeleteAccessKey deletes a key; its registry tokens stop working.
func (r *Registry) DeleteAccessKey(ctx context.Context, userName, id string) error {
	u, err := r.keyOwner(ctx, userName, "iam:DeleteAccessKey")
	if err != nil {
		return err
	}
	return r.changeIAM(ctx, "access key deleted", func(tx berth.MetaTx) error {
		if _, err := ownKey(ctx, tx, u, id); err != nil {
			return err
		}
		return tx.DeleteAccessKey(ctx, id)
	}, slog.String("access_key", id))
}

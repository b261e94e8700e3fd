-- Who may do what: accounts, IAM users and roles, their access keys
-- (secrets sealed with a key kept outside this database), identity
-- policies, and the policies of repositories and of the registry.
CREATE TABLE IF NOT EXISTS iam_accounts (
	id         TEXT PRIMARY KEY,
	created_at INTEGER NOT NULL
);
-- Users and roles. name_key is the lower-cased name: IAM names are unique
-- regardless of case.
CREATE TABLE IF NOT EXISTS iam_principals (
	arn      TEXT PRIMARY KEY,
	account  TEXT NOT NULL,
	kind     TEXT NOT NULL,
	name_key TEXT NOT NULL,
	body     TEXT NOT NULL,
	UNIQUE (account, kind, name_key)
);
CREATE TABLE IF NOT EXISTS iam_access_keys (
	id         TEXT PRIMARY KEY,
	principal  TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL DEFAULT 0,
	body       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS iam_access_keys_principal ON iam_access_keys (principal);
CREATE INDEX IF NOT EXISTS iam_access_keys_expiry ON iam_access_keys (expires_at) WHERE expires_at > 0;
-- Customer managed policies.
CREATE TABLE IF NOT EXISTS iam_policies (
	arn      TEXT PRIMARY KEY,
	account  TEXT NOT NULL,
	name_key TEXT NOT NULL,
	body     TEXT NOT NULL,
	UNIQUE (account, name_key)
);
-- A principal's inline policies (kind 'inline', name the policy's name,
-- with its document) and attached managed policies (kind 'attached', name
-- the policy's ARN).
CREATE TABLE IF NOT EXISTS iam_principal_policies (
	principal TEXT NOT NULL,
	kind      TEXT NOT NULL,
	name      TEXT NOT NULL,
	document  TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (principal, kind, name)
);
CREATE INDEX IF NOT EXISTS iam_principal_policies_by_name ON iam_principal_policies (kind, name);
-- Moves on with every change above and to the policies below, so that
-- caches of decisions know to forget.
CREATE TABLE IF NOT EXISTS iam_generation (
	id INTEGER PRIMARY KEY,
	n  INTEGER NOT NULL
);
INSERT INTO iam_generation (id, n) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
-- The registry policy and account settings.
CREATE TABLE IF NOT EXISTS registry_settings (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
ALTER TABLE repositories ADD COLUMN policy TEXT NOT NULL DEFAULT '';

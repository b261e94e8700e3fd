-- berth metadata, SQLite. Times are Unix nanoseconds.
CREATE TABLE IF NOT EXISTS repositories (
	id              INTEGER PRIMARY KEY,
	name            TEXT NOT NULL UNIQUE,
	created_at      INTEGER NOT NULL,
	tag_mutability  TEXT NOT NULL,
	exclusions      TEXT NOT NULL DEFAULT '[]',
	scan_on_push    INTEGER NOT NULL DEFAULT 0,
	encryption_type TEXT NOT NULL DEFAULT 'AES256',
	kms_key         TEXT NOT NULL DEFAULT '',
	tags            TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS blobs (
	repo_id    INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
	digest     TEXT NOT NULL,
	size       INTEGER NOT NULL,
	media_type TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	PRIMARY KEY (repo_id, digest)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS manifests (
	repo_id       INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
	digest        TEXT NOT NULL,
	media_type    TEXT NOT NULL,
	artifact_type TEXT NOT NULL DEFAULT '',
	subject       TEXT NOT NULL DEFAULT '',
	bytes         BLOB NOT NULL,
	size          INTEGER NOT NULL,
	pushed_at     INTEGER NOT NULL,
	pulled_at     INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (repo_id, digest)
);
CREATE INDEX IF NOT EXISTS manifests_subject ON manifests (repo_id, subject) WHERE subject <> '';
-- kind 0: a blob (config or layer); kind 1: a child manifest of an index.
CREATE TABLE IF NOT EXISTS manifest_refs (
	repo_id INTEGER NOT NULL,
	digest  TEXT NOT NULL,
	ref     TEXT NOT NULL,
	kind    INTEGER NOT NULL,
	PRIMARY KEY (repo_id, digest, ref),
	FOREIGN KEY (repo_id, digest) REFERENCES manifests (repo_id, digest) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS manifest_refs_ref ON manifest_refs (repo_id, ref, kind);
CREATE TABLE IF NOT EXISTS tags (
	repo_id    INTEGER NOT NULL,
	name       TEXT NOT NULL,
	digest     TEXT NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (repo_id, name),
	FOREIGN KEY (repo_id, digest) REFERENCES manifests (repo_id, digest) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tags_digest ON tags (repo_id, digest, name);
CREATE TABLE IF NOT EXISTS uploads (
	id             TEXT PRIMARY KEY,
	repo_id        INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
	created_at     INTEGER NOT NULL,
	size           INTEGER NOT NULL DEFAULT 0,
	hash_state     BLOB,
	parts          INTEGER NOT NULL DEFAULT 0,
	last_part_size INTEGER NOT NULL DEFAULT 0,
	small_part     INTEGER NOT NULL DEFAULT 0,
	backend_state  TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS creation_templates (
	prefix TEXT PRIMARY KEY,
	body   TEXT NOT NULL -- the template as JSON
);

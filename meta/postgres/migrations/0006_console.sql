-- Web console sessions, by the SHA-256 of their token (a copy of this
-- table signs no one in). Global, as IAM is: not per namespace.
CREATE TABLE IF NOT EXISTS console_sessions (
	id         TEXT PRIMARY KEY,
	principal  TEXT NOT NULL,
	role       TEXT NOT NULL DEFAULT '',
	key_id     TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	seen_at    BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
-- The sweep deletes sessions idle since a time or past their lifetime:
-- one index for each side of its OR.
CREATE INDEX IF NOT EXISTS console_sessions_seen ON console_sessions (seen_at);
CREATE INDEX IF NOT EXISTS console_sessions_expiry ON console_sessions (expires_at);

-- Lifecycle policies: the policy of a repository (its stored, minified
-- text; '' for none) and when it was last evaluated (Unix nanoseconds),
-- and the last preview of each repository.
ALTER TABLE repositories ADD COLUMN lifecycle_policy TEXT NOT NULL DEFAULT '';
ALTER TABLE repositories ADD COLUMN lifecycle_evaluated_at BIGINT NOT NULL DEFAULT 0;
CREATE TABLE IF NOT EXISTS lifecycle_previews (
	repo_id    BIGINT PRIMARY KEY REFERENCES repositories(id) ON DELETE CASCADE,
	policy     TEXT NOT NULL,
	status     TEXT NOT NULL,
	started_at BIGINT NOT NULL,
	results    TEXT NOT NULL DEFAULT ''
);

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
-- The archive storage class: when an image was last archived, and when
-- its last restore ends (Unix nanoseconds, 0 for never).
ALTER TABLE manifests ADD COLUMN archived_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE manifests ADD COLUMN restored_at BIGINT NOT NULL DEFAULT 0;

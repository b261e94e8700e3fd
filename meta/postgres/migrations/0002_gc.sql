-- Garbage collection. blob_objects is the registry-wide record of stored
-- blobs: one row per digest, naming the object key of its bytes (blobs
-- stored before this migration keep their digest as key). The per-
-- repository blobs table stays: it says which repositories may use a blob.
-- review_after (Unix nanoseconds, NULL for none) is when the collector is
-- to ask whether any manifest still references the blob.
CREATE TABLE IF NOT EXISTS blob_objects (
	digest       TEXT COLLATE "C" PRIMARY KEY,
	object_key   TEXT COLLATE "C" NOT NULL UNIQUE,
	size         BIGINT NOT NULL,
	created_at   BIGINT NOT NULL,
	review_after BIGINT
);
CREATE INDEX IF NOT EXISTS blob_objects_review ON blob_objects (review_after) WHERE review_after IS NOT NULL;
-- Every blob recorded so far, reviewed one day after the upgrade.
INSERT INTO blob_objects (digest, object_key, size, created_at, review_after)
	SELECT digest, digest, max(size), min(created_at), CAST(extract(epoch FROM now()) AS BIGINT) * 1000000000 + 86400000000000
	FROM blobs GROUP BY digest;
CREATE INDEX IF NOT EXISTS blobs_digest ON blobs (digest);
CREATE INDEX IF NOT EXISTS manifest_refs_blob ON manifest_refs (ref) WHERE kind = 0;
-- The outbox of storage: objects to remove, written in the transaction
-- that made them unreachable.
CREATE TABLE IF NOT EXISTS storage_deletions (
	object_key   TEXT COLLATE "C" PRIMARY KEY,
	upload_state TEXT NOT NULL DEFAULT '',
	not_before   BIGINT NOT NULL,
	attempts     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS storage_deletions_due ON storage_deletions (not_before);
ALTER TABLE uploads ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
UPDATE uploads SET updated_at = created_at;
CREATE INDEX IF NOT EXISTS uploads_updated ON uploads (updated_at);

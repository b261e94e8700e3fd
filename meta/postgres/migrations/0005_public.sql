-- ECR Public: the catalog data of a public repository (its JSON; '' for
-- none). Public repositories live in the namespace "public" (sqlstore
-- namespace.go), the registry's alias and display name in
-- registry_settings.
ALTER TABLE repositories ADD COLUMN catalog_data TEXT NOT NULL DEFAULT '';

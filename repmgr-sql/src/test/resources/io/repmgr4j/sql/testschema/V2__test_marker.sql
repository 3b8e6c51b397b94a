-- A stand-in for a future schema version, used only by SchemaInstallerTest to run a
-- real migration from version 1 to 2.
CREATE TABLE repmgr.test_migration_marker (
    migrated_at timestamp with time zone NOT NULL DEFAULT now()
);
INSERT INTO repmgr.test_migration_marker DEFAULT VALUES;
ALTER TABLE repmgr.events ADD COLUMN test_note text NULL;

-- repmgr4j daemon state, version 1.
--
-- Run by io.repmgr4j.sql.DaemonStateInstaller inside one transaction, after it has taken
-- its advisory lock and found no schema "repmgr4j". The installer, not this script,
-- records the version (COMMENT ON SCHEMA repmgr4j IS 'repmgr4j daemon state version 1').
--
-- Kept apart from schema "repmgr" on purpose: a "repmgr" schema made by repmgr's own
-- extension is adopted unchanged, and repmgr's tools find exactly their objects there.
-- No foreign key points into repmgr.nodes, for the same reason.

CREATE SCHEMA repmgr4j;

-- What the failover daemons must remember across server restarts, one row per node,
-- written on the primary and replicated to every standby (so a daemon on a standby reads
-- it while the primary is gone). Today: the pause flag of "service pause".
CREATE TABLE repmgr4j.daemon_state (
    node_id    integer                  NOT NULL,
    paused     boolean                  NOT NULL DEFAULT false,
    updated_at timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT daemon_state_pkey PRIMARY KEY (node_id)
);

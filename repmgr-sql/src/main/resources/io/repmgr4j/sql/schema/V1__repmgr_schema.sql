-- repmgr4j schema version 1: the repmgr 5.x metadata schema, without the C extension.
--
-- Run by io.repmgr4j.sql.SchemaInstaller inside one transaction, after it has taken its
-- advisory lock and found no schema "repmgr". The installer, not this script, records the
-- version (COMMENT ON SCHEMA repmgr IS 'repmgr4j schema version 1').
--
-- Tables, columns, types, defaults, constraint and index names are those of the repmgr
-- 5.3 extension (CREATE EXTENSION repmgr), so that repmgr's own tools can read a cluster
-- built by repmgr4j. Deliberate differences, each marked "differs from repmgr" below:
--   * nodes.upstream_node_id's foreign key is DEFERRABLE INITIALLY DEFERRED (repmgr:
--     DEFERRABLE INITIALLY IMMEDIATE);
--   * nodes has a CHECK (priority >= 0) named nodes_priority_check (the extension has none);
--   * replication_status.communication_time_lag is computed without the extension's C
--     function (see the view).
-- Every name is schema-qualified: the script does not depend on search_path.

CREATE SCHEMA repmgr;

-- One row per registered node.
CREATE TABLE repmgr.nodes (
    node_id          integer     NOT NULL,
    upstream_node_id integer     NULL,
    active           boolean     NOT NULL DEFAULT true,
    node_name        text        NOT NULL,
    type             text        NOT NULL,
    location         text        NOT NULL DEFAULT 'default',
    priority         integer     NOT NULL DEFAULT 100,
    conninfo         text        NOT NULL,
    repluser         varchar(63) NOT NULL,
    slot_name        text        NULL,
    config_file      text        NOT NULL,
    CONSTRAINT nodes_pkey PRIMARY KEY (node_id),
    CONSTRAINT nodes_type_check CHECK (type IN ('primary', 'standby', 'witness', 'bdr')),
    -- differs from repmgr: a negative priority is refused here too; 0 means "never promote".
    CONSTRAINT nodes_priority_check CHECK (priority >= 0),
    -- differs from repmgr: INITIALLY DEFERRED, so one transaction can insert a standby
    -- before its upstream.
    CONSTRAINT nodes_upstream_node_id_fkey FOREIGN KEY (upstream_node_id)
        REFERENCES repmgr.nodes (node_id) DEFERRABLE INITIALLY DEFERRED
);

-- What happened to which node; an append-only log (no key: repmgr has none either).
CREATE TABLE repmgr.events (
    node_id         integer                  NOT NULL,
    event           text                     NOT NULL,
    successful      boolean                  NOT NULL DEFAULT true,
    event_timestamp timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
    details         text                     NULL
);

-- What each standby's daemon saw at each check (only when monitoring_history is on).
CREATE TABLE repmgr.monitoring_history (
    primary_node_id           integer                  NOT NULL,
    standby_node_id           integer                  NOT NULL,
    last_monitor_time         timestamp with time zone NOT NULL,
    last_apply_time           timestamp with time zone NULL,
    last_wal_primary_location pg_lsn                   NOT NULL,
    last_wal_standby_location pg_lsn                   NULL,
    replication_lag           bigint                   NOT NULL,
    apply_lag                 bigint                   NOT NULL
);

CREATE INDEX idx_monitoring_history_time
    ON repmgr.monitoring_history (last_monitor_time, standby_node_id);

-- The election term: exactly one row. The unique index on a constant admits a single
-- row; the rule turns every DELETE into nothing, so the row cannot be lost by mistake.
CREATE TABLE repmgr.voting_term (
    term integer NOT NULL
);

CREATE UNIQUE INDEX voting_term_restrict ON repmgr.voting_term ((true));

CREATE RULE voting_term_delete AS
    ON DELETE TO repmgr.voting_term
    DO INSTEAD NOTHING;

-- Nodes with the name of their upstream.
CREATE VIEW repmgr.show_nodes AS
SELECT n.node_id,
       n.node_name,
       n.active,
       n.upstream_node_id,
       un.node_name AS upstream_node_name,
       n.type,
       n.priority,
       n.conninfo
  FROM repmgr.nodes n
  LEFT JOIN repmgr.nodes un ON un.node_id = n.upstream_node_id;

-- The newest monitoring_history row of each standby, with the node's record.
-- Columns, their order and types are repmgr's. The lag columns (and the primary's
-- location) are shown only for nodes registered as standbys, as repmgr does.
--
-- communication_time_lag: repmgr's view asks the extension's C function
-- standby_get_last_updated() (a timestamp in the standby's shared memory) when the view
-- is read on a standby, and uses last_monitor_time on the primary. repmgr4j has no such
-- function, so it always uses the newest row's last_monitor_time:
-- age(now(), last_monitor_time), i.e. how long ago the standby was last heard from as
-- far as replicated history shows. On a standby this includes the replication delay of
-- the history row itself.
CREATE VIEW repmgr.replication_status AS
SELECT m.primary_node_id,
       m.standby_node_id,
       n.node_name AS standby_name,
       n.type AS node_type,
       n.active,
       m.last_monitor_time,
       CASE WHEN n.type = 'standby' THEN m.last_wal_primary_location ELSE NULL END
           AS last_wal_primary_location,
       m.last_wal_standby_location,
       CASE WHEN n.type = 'standby' THEN pg_catalog.pg_size_pretty(m.replication_lag) ELSE NULL END
           AS replication_lag,
       CASE WHEN n.type = 'standby' THEN
                CASE WHEN m.replication_lag > 0 THEN pg_catalog.age(pg_catalog.now(), m.last_apply_time)
                     ELSE interval '0' END
            ELSE NULL END
           AS replication_time_lag,
       CASE WHEN n.type = 'standby' THEN pg_catalog.pg_size_pretty(m.apply_lag) ELSE NULL END
           AS apply_lag,
       pg_catalog.age(pg_catalog.now(), m.last_monitor_time) AS communication_time_lag
  FROM (SELECT DISTINCT ON (h.standby_node_id) h.*
          FROM repmgr.monitoring_history h
         ORDER BY h.standby_node_id, h.last_monitor_time DESC) m
  JOIN repmgr.nodes n ON n.node_id = m.standby_node_id;

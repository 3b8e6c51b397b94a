-- repmgr4j daemon state, version 2: synchronous replication managed by the library.
--
-- Run by io.repmgr4j.sql.DaemonStateInstaller inside one transaction (see V1).

-- One row (id = 1): the cluster-wide synchronous settings the library applies, and the
-- synchronous record. The record says which nodes may hold every acknowledged commit
-- (members, with record_mode / record_count), under generation number "generation". It is
-- written on the primary and replicated; it is widened before synchronous_standby_names is
-- widened and narrowed only after synchronous_standby_names was narrowed and the remaining
-- members confirmed the primary's WAL position, so a stale copy on any standby is still safe.
CREATE TABLE repmgr4j.synchronous_state (
    id                 integer                  NOT NULL DEFAULT 1,
    mode               text                     NOT NULL,
    sync_count         integer                  NOT NULL,
    strict             boolean                  NOT NULL,
    degrade_timeout_ms bigint                   NOT NULL,
    record_mode        text                     NOT NULL,
    record_count       integer                  NOT NULL,
    members            integer[]                NOT NULL,
    standby_names      text                     NOT NULL,
    generation         bigint                   NOT NULL,
    primary_node_id    integer                  NOT NULL,
    updated_at         timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT synchronous_state_pkey PRIMARY KEY (id),
    CONSTRAINT synchronous_state_single CHECK (id = 1),
    CONSTRAINT synchronous_state_mode CHECK (mode IN ('off', 'priority', 'quorum')),
    CONSTRAINT synchronous_state_record_mode CHECK (record_mode IN ('off', 'priority', 'quorum', 'degraded'))
);

-- sync_candidate per node (absent: true).
CREATE TABLE repmgr4j.sync_candidate (
    node_id    integer NOT NULL,
    candidate  boolean NOT NULL,
    CONSTRAINT sync_candidate_pkey PRIMARY KEY (node_id)
);

-- repmgr4j schema version 2: the functions repmgr's own tools call, answered from
-- repmgr4j's daemon state instead of the repmgr extension's shared memory.
--
-- Run by io.repmgr4j.sql.SchemaInstaller (inside its transaction) on a schema that
-- repmgr4j made; never on a schema made by CREATE EXTENSION repmgr, which has the real
-- C functions. Names, argument and result types are those of the repmgr 5.3 extension,
-- so that a real `repmgr service status`, `service pause`/`unpause`, `node status` and
-- `standby switchover` work on a cluster repmgr4j built.
--
-- Where the answers come from:
--   * a repmgr4j failover daemon keeps one session open on its own server whose
--     application_name is its "beacon" ("r4jd n=<node> u=<upstream> p=<0|1> a=.. s=<ms
--     since it last reached its upstream> m=<mode> t=.. i=<pid>"); a daemon that stops
--     or dies leaves no such session. These functions read the beacon of this server from
--     pg_stat_activity (seeing another role's state_change needs superuser or
--     pg_read_all_stats, as repmgr4j's daemons do);
--   * the pause flag is table repmgr4j.daemon_state (created by the first repmgr4j daemon
--     or pause; written on the primary, replicated to the standbys).
--
-- Deliberately NOT provided (repmgrd-internal, no truthful answer without the daemon
-- being repmgrd): set_local_node_id, get_local_node_id, standby_set_last_updated,
-- standby_get_last_updated, set_upstream_last_seen, set_upstream_node_id,
-- notify_follow_primary, get_new_primary, reset_voting_status, set_repmgrd_pid,
-- get_repmgrd_pidfile. A real repmgrd refuses to start without the extension anyway.

-- The beacon of the repmgr4j daemon whose session is on this server (the freshest, if a
-- starting daemon briefly shows a second one). No row when no repmgr4j daemon runs here.
-- Columns: node_id, upstream_node_id (0: none), paused, seen_ms (-1: never), pid (-1:
-- unknown), age_ms (since the beacon was set).
CREATE FUNCTION repmgr.r4j_local_beacon(
        OUT node_id integer, OUT upstream_node_id integer, OUT paused boolean,
        OUT seen_ms bigint, OUT pid bigint, OUT age_ms bigint)
  RETURNS SETOF record
  LANGUAGE sql VOLATILE
AS $$
SELECT (substring(a.application_name FROM ' n=([0-9]+)'))::integer,
       coalesce((substring(a.application_name FROM ' u=([0-9]+)'))::integer, 0),
       coalesce(substring(a.application_name FROM ' p=([01])') = '1', false),
       coalesce((substring(a.application_name FROM ' s=(-?[0-9]+)'))::bigint, -1),
       coalesce((substring(a.application_name FROM ' i=([0-9]+)'))::bigint, -1),
       greatest(0, coalesce((pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() - a.state_change) * 1000)::bigint, 0))
  FROM pg_catalog.pg_stat_activity a
 WHERE pg_catalog.starts_with(a.application_name, 'r4jd ')
   AND a.application_name ~ ' n=[0-9]+'
   AND a.application_name ~ ' m=[A-Z]'
 ORDER BY a.state_change DESC NULLS LAST
 LIMIT 1
$$;

COMMENT ON FUNCTION repmgr.r4j_local_beacon() IS
    'repmgr4j: the beacon of the repmgr4j daemon running on this server (not part of repmgr)';

-- repmgr: seconds since the local daemon last reached its upstream; -1 when unknown.
CREATE FUNCTION repmgr.get_upstream_last_seen()
  RETURNS integer
  LANGUAGE sql VOLATILE
AS $$
SELECT coalesce((SELECT CASE WHEN b.seen_ms < 0 THEN -1 ELSE ((b.seen_ms + b.age_ms) / 1000)::integer END
                   FROM repmgr.r4j_local_beacon() b), -1)
$$;

-- repmgr: the node the local daemon monitors as its upstream; -1 when unknown or none.
CREATE FUNCTION repmgr.get_upstream_node_id()
  RETURNS integer
  LANGUAGE sql VOLATILE
AS $$
SELECT coalesce((SELECT CASE WHEN b.upstream_node_id > 0 THEN b.upstream_node_id ELSE -1 END
                   FROM repmgr.r4j_local_beacon() b), -1)
$$;

-- repmgr: the process id of the local daemon; -1 when none runs (or it did not say).
-- For an embedded repmgr4j daemon this is the pid of the JVM it runs in, on its own host.
CREATE FUNCTION repmgr.get_repmgrd_pid()
  RETURNS integer
  LANGUAGE sql VOLATILE
AS $$
SELECT coalesce((SELECT CASE WHEN b.pid > 0 AND b.pid <= 2147483647 THEN b.pid::integer ELSE -1 END
                   FROM repmgr.r4j_local_beacon() b), -1)
$$;

-- repmgr: whether a daemon runs for this server: its session is open here.
CREATE FUNCTION repmgr.repmgrd_is_running()
  RETURNS boolean
  LANGUAGE sql VOLATILE
AS $$
SELECT EXISTS (SELECT 1 FROM repmgr.r4j_local_beacon())
$$;

-- repmgr: whether the local daemon is paused: what the daemon itself publishes (it has
-- applied the pause flag); false when no daemon runs here.
CREATE FUNCTION repmgr.repmgrd_is_paused()
  RETURNS boolean
  LANGUAGE sql VOLATILE
AS $$
SELECT coalesce((SELECT b.paused FROM repmgr.r4j_local_beacon() b), false)
$$;

-- repmgr: the pid of this server's WAL receiver (0 when none), as the extension reports it.
CREATE FUNCTION repmgr.get_wal_receiver_pid()
  RETURNS integer
  LANGUAGE sql VOLATILE
AS $$
SELECT coalesce((SELECT w.pid FROM pg_catalog.pg_stat_wal_receiver w LIMIT 1), 0)
$$;

-- repmgr: pause (true) or unpause (false) the daemons.
--
-- repmgr4j keeps one pause flag per node in repmgr4j.daemon_state, written on the
-- primary and replicated; each daemon reads its own node's flag from its local server on
-- every check. So:
--   * on the primary, this sets the flag of every registered node (what `repmgr service
--     pause` asks of each node in turn) and takes effect when the caller's transaction
--     commits;
--   * on a standby, which cannot be written, it waits up to 3 s for the flag of the node
--     whose daemon runs here (every node, when none does) to arrive by replication with
--     the requested value, and raises an error when it does not: the pause must be set on
--     the primary first. `repmgr service pause` visits the nodes in node id order, so it
--     reports a standby with a lower id than the primary as "not paused" (and exits 26)
--     although the primary's call pauses it a moment later; a second run reports it
--     correctly.
-- Raises an error, changing nothing, when no repmgr4j daemon has ever run on the cluster
-- (no table repmgr4j.daemon_state yet).
CREATE FUNCTION repmgr.repmgrd_pause(boolean)
  RETURNS void
  LANGUAGE plpgsql VOLATILE STRICT
AS $$
DECLARE
    want  boolean := $1;
    me    integer;
    ok    boolean;
    tries integer := 0;
BEGIN
    IF pg_catalog.to_regclass('repmgr4j.daemon_state') IS NULL THEN
        RAISE EXCEPTION 'repmgr4j keeps no daemon state on this cluster yet'
            USING DETAIL = 'table repmgr4j.daemon_state is created by the first repmgr4j failover daemon or pause',
                  HINT = 'start a repmgr4j daemon, or pause with repmgr4j (cluster.pauseDaemons()), first';
    END IF;
    IF NOT pg_catalog.pg_is_in_recovery() THEN
        INSERT INTO repmgr4j.daemon_state (node_id, paused, updated_at)
        SELECT n.node_id, want, pg_catalog.now() FROM repmgr.nodes n
        ON CONFLICT ON CONSTRAINT daemon_state_pkey
            DO UPDATE SET paused = EXCLUDED.paused, updated_at = EXCLUDED.updated_at;
        RETURN;
    END IF;
    SELECT b.node_id INTO me FROM repmgr.r4j_local_beacon() b;
    LOOP
        SELECT NOT EXISTS (SELECT 1 FROM repmgr.nodes n
                             LEFT JOIN repmgr4j.daemon_state d ON d.node_id = n.node_id
                            WHERE (me IS NULL OR n.node_id = me)
                              AND coalesce(d.paused, false) IS DISTINCT FROM want)
          INTO ok;
        IF ok THEN
            RETURN;
        END IF;
        tries := tries + 1;
        EXIT WHEN tries > 30;
        PERFORM pg_catalog.pg_sleep(0.1);
    END LOOP;
    RAISE EXCEPTION 'unable to % the repmgr4j daemon on a standby', CASE WHEN want THEN 'pause' ELSE 'unpause' END
        USING DETAIL = 'repmgr4j keeps the pause flag on the primary; this standby has not received it with that value',
              HINT = 'pause on the primary first (repmgr service pause visits nodes by node ID), then retry';
END
$$;

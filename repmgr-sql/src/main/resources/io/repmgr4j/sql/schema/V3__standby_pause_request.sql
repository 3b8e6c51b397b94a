-- repmgr4j schema version 3: repmgr.repmgrd_pause() on a standby asks the repmgr4j
-- daemon running there to set its own pause flag, instead of only waiting for it.
--
-- Why: `repmgr service pause` calls repmgrd_pause() on each node in node id order. A
-- standby cannot be written, and repmgr4j's pause flag lives on the primary; in version 2
-- a standby's call only waited for its flag to arrive by replication, so a standby whose
-- node id is lower than the primary's (visited first) was reported "not paused" (exit code
-- 26) although the primary's call paused it a moment later.
--
-- Now, while a standby's call waits, its own session's application_name is the request
-- "r4jp n=<node id of the daemon running here> p=<0|1>" (transaction-local: it ends with
-- the call). The node's repmgr4j daemon reads its server's pg_stat_activity on every
-- monitoring cycle, and on seeing the request writes its own node's flag on the primary
-- (it reaches the primary like for every other check); the flag replicates back and the
-- call returns. The call fails, changing nothing, when the flag does not arrive within
-- 10 s (no primary reachable from the daemon, say). With no repmgr4j daemon running on
-- the standby, nothing here could act on a request: the call waits (3 s) for every
-- node's flag as before, which succeeds once the primary has been paused.
CREATE OR REPLACE FUNCTION repmgr.repmgrd_pause(boolean)
  RETURNS void
  LANGUAGE plpgsql VOLATILE STRICT
AS $$
DECLARE
    want  boolean := $1;
    me    integer;
    ok    boolean;
    tries integer := 0;
    most  integer := 30;
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
    IF me IS NOT NULL THEN
        -- the request the local daemon acts on; visible in pg_stat_activity until the call ends
        PERFORM pg_catalog.set_config('application_name', 'r4jp n=' || me || ' p=' || CASE WHEN want THEN '1' ELSE '0' END, true);
        most := 100;
    END IF;
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
        EXIT WHEN tries > most;
        PERFORM pg_catalog.pg_sleep(0.1);
    END LOOP;
    RAISE EXCEPTION 'unable to % the repmgr4j daemon on a standby', CASE WHEN want THEN 'pause' ELSE 'unpause' END
        USING DETAIL = CASE WHEN me IS NULL
                  THEN 'no repmgr4j daemon runs on this standby, and the pause flags kept on the primary have not arrived with that value'
                  ELSE 'the repmgr4j daemon of node ' || me || ' did not set its pause flag on the primary within 10 s' END,
              HINT = CASE WHEN me IS NULL
                  THEN 'pause on the primary first (repmgr service pause visits nodes by node ID), then retry'
                  ELSE 'check that the daemon reaches the primary (its log), or pause on the primary' END;
END
$$;

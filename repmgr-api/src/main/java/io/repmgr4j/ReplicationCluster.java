package io.repmgr4j;

import io.repmgr4j.plan.OperationReport;
import io.repmgr4j.spi.MetadataStore;
import java.time.Duration;
import java.util.List;

/**
 * A PostgreSQL replica set managed the way repmgr manages one: the entry point of the
 * library. Each method returns a small builder; nothing happens until its
 * {@code execute()} (or {@code list()}) is called.
 *
 * <pre>{@code
 * try (ReplicationCluster cluster = ReplicationClusters.connect(primaryConfig.conninfo())) {
 *     cluster.registerPrimary(primaryConfig).execute();
 *     cluster.registerStandby(standbyConfig).waitUntilAttached(Duration.ofSeconds(30)).execute();
 *     System.out.println(ClusterShowFormat.table(cluster.show().execute()));
 * }
 * }</pre>
 *
 * Implementations are thread-safe; close the cluster to release its connections and
 * threads.
 */
public interface ReplicationCluster extends AutoCloseable {

    /** {@code repmgr primary register}: records a running, writable server as the primary. */
    PrimaryRegistration registerPrimary(NodeConfig node);

    /** {@code repmgr primary unregister}: removes a primary's record. */
    PrimaryUnregistration unregisterPrimary(int nodeId);

    /** {@code repmgr standby register}: records a running standby. */
    StandbyRegistration registerStandby(NodeConfig node);

    /** {@code repmgr standby unregister}: removes a standby's record, also of a node that is down. */
    StandbyUnregistration unregisterStandby(int nodeId);

    /**
     * {@code repmgr witness register}: records a PostgreSQL server outside replication as
     * the cluster's witness; it gets a copy of the metadata (kept fresh by its daemon) and
     * counts in every quorum. Default: throws (implementations that support witnesses override it).
     */
    default WitnessRegistration registerWitness(NodeConfig node) {
        throw new UnsupportedOperationException("witness nodes are not supported by " + getClass().getName());
    }

    /** {@code repmgr witness unregister}: removes a witness's record. */
    default WitnessUnregistration unregisterWitness(int nodeId) {
        throw new UnsupportedOperationException("witness nodes are not supported by " + getClass().getName());
    }

    /** Options of {@link #registerWitness}. */
    interface WitnessRegistration {
        /** Overwrite an existing witness record with the same node id. */
        WitnessRegistration force(boolean force);

        /** Installs the schema on the witness, writes the record and the event, copies the metadata; returns the record. */
        NodeRecord execute();
    }

    /** Options of {@link #unregisterWitness}. */
    interface WitnessUnregistration {
        /** Removes the record; returns the record that was removed. */
        NodeRecord execute();
    }

    /** {@code repmgr cluster show}: probes every registered node at once. */
    ClusterShow show();

    /** {@code repmgr cluster event}: reads recorded events, newest first. */
    EventList events();

    /** The metadata this cluster reads and writes (on the current primary). */
    MetadataStore metadata();

    /**
     * A client connection string over the registered nodes (active primaries and standbys),
     * asking for {@code target}: render it with {@link ConnectionString#jdbcUrl()} or
     * {@link ConnectionString#conninfo()}. Never holds a password unless asked for.
     */
    default ConnectionString connectionString(Target target) {
        return ConnectionString.of(metadata().nodes(), target);
    }

    /** Releases connections and threads; the cluster cannot be used afterwards. */
    @Override
    void close();

    /**
     * Moves an extension-free {@code repmgr} schema (made by repmgr4j) under the real repmgr
     * extension ({@code CREATE EXTENSION repmgr}) in one transaction on the primary, with
     * every row of nodes, events, monitoring_history and voting_term kept: for clusters
     * that are to run a real repmgrd. Needs a superuser and the extension's files on every
     * node; a repmgrd also needs {@code shared_preload_libraries = 'repmgr'}.
     */
    RepmgrExtensionInstall installRepmgrExtension();

    /** Options of {@link #installRepmgrExtension()}. */
    interface RepmgrExtensionInstall {
        /** Dry run: the checks; nothing is changed. */
        OperationReport plan();

        OperationReport execute();
    }

    /** Options of {@link #registerPrimary}. */
    interface PrimaryRegistration {
        /** Overwrite an existing record with the same node id. */
        PrimaryRegistration force(boolean force);

        /**
         * When the database has no {@code repmgr} schema yet: {@code false} (the default)
         * creates it with {@code CREATE EXTENSION repmgr} when the repmgr extension is
         * available on the server (as repmgr's own {@code primary register} does; needs a
         * superuser), {@code true} always installs repmgr4j's extension-free schema.
         * An existing schema of either kind is used as it is.
         */
        PrimaryRegistration extensionFree(boolean extensionFree);

        /** Installs the metadata schema if needed, writes the record and the events; returns the record. */
        NodeRecord execute();
    }

    /** Options of {@link #unregisterPrimary}. */
    interface PrimaryUnregistration {
        /** Also remove a primary that is active and running. */
        PrimaryUnregistration force(boolean force);

        /** Removes the record; returns the record that was removed. */
        NodeRecord execute();
    }

    /** Options of {@link #registerStandby}. */
    interface StandbyRegistration {
        /** The upstream's node id; by default the current primary. */
        StandbyRegistration upstreamNodeId(int upstreamNodeId);

        /** Overwrite an existing record with the same node id, and register even if the upstream is not known. */
        StandbyRegistration force(boolean force);

        /** Wait up to {@code timeout} until the standby streams from its upstream (default: do not wait). */
        StandbyRegistration waitUntilAttached(Duration timeout);

        /** Writes the record and the event; returns the record. */
        NodeRecord execute();
    }

    /** Options of {@link #unregisterStandby}. */
    interface StandbyUnregistration {
        /** Removes the record; returns the record that was removed. */
        NodeRecord execute();
    }

    /** Options of {@link #show}. */
    interface ClusterShow {
        /** The longest the whole probe may take; unreachable nodes cost this once, not once each. Default 10 s. */
        ClusterShow timeout(Duration timeout);

        ClusterStatus execute();
    }

    /** Options of {@link #events}. */
    interface EventList {
        EventList nodeId(int nodeId);

        EventList event(String eventName);

        /** At most this many rows (default 20). */
        EventList limit(int limit);

        List<EventRecord> list();
    }

    /**
     * {@code repmgr standby clone}: copies a new standby's data directory from its upstream
     * (the primary, or a standby for cascading) with {@code pg_basebackup -X stream}, run on
     * the node's host through its command runner, then writes the recovery settings
     * (standby.signal, primary_conninfo with application_name = the node's name,
     * recovery_target_timeline 'latest', primary_slot_name when slots are used). Optionally
     * chained: start the server, wait until the upstream streams to it, register it.
     *
     * <pre>{@code
     * OperationReport dry = cluster.cloneStandby(node).upstreamNodeId(1).plan();      // checks only
     * CloneReport r = cluster.cloneStandby(node).upstreamNodeId(1).fastCheckpoint(true)
     *         .thenStart().waitUntilStreaming(Duration.ofSeconds(30)).thenRegister()
     *         .execute();
     * }</pre>
     */
    StandbyClone cloneStandby(NodeConfig node);

    /**
     * Options of {@link #cloneStandby}. {@link #plan()} runs every prerequisite check and
     * changes nothing; {@link #execute()} runs the same checks, refuses before copying
     * anything when one failed, and on a failed copy removes what it copied and drops the
     * slot it created. Not thread-safe: one builder per clone.
     */
    interface StandbyClone {
        /** Copy from, and stream from, this registered node (default: the current primary). */
        StandbyClone upstreamNodeId(int upstreamNodeId);

        /** Copy from, and stream from, the server at this connection string (default: the current primary). */
        StandbyClone upstreamConninfo(ConnInfo upstream);

        /** Ask the upstream for an immediate checkpoint ({@code -c fast}) rather than waiting for the next one. Default false. */
        StandbyClone fastCheckpoint(boolean fast);

        /**
         * Clone into a data directory that is not empty, removing what it holds (never while a
         * server runs there); with {@link #thenRegister()}, also overwrite an existing record
         * of the node. Default false.
         */
        StandbyClone force(boolean force);

        /** The user for the copy and for primary_conninfo (default: the node's replication_user, else its conninfo's user). */
        StandbyClone replicationUser(String user);

        /** Extra pg_basebackup arguments, appended as given (for example {@code --max-rate=100M}). */
        StandbyClone basebackupOptions(List<String> options);

        /**
         * A server setting for the copy's postgresql.auto.conf, replacing the upstream's value
         * that pg_basebackup copied (for example {@code unix_socket_directories} or
         * {@code listen_addresses} when the node's host differs). {@code port} is set by
         * default to the port in the node's conninfo, when it names one.
         */
        StandbyClone serverSetting(String name, String value);

        /** Told of the copy's progress; must return fast and never throw. Default: none. */
        StandbyClone progressListener(CloneProgressListener listener);

        /** The longest pg_basebackup may run (default 1 hour); past it the copy is stopped and removed. */
        StandbyClone timeout(Duration timeout);

        /** After the copy, start the server (service_start_command, else pg_ctl), waiting up to 60 s. */
        StandbyClone thenStart();

        /** After the copy, start the server, waiting up to {@code timeout} until it accepts connections. */
        StandbyClone thenStart(Duration timeout);

        /**
         * After the start (implied), wait up to {@code timeout} until the upstream's
         * pg_stat_replication shows the node (application_name = node name) streaming.
         */
        StandbyClone waitUntilStreaming(Duration timeout);

        /**
         * After the start (implied) and the streaming check when one was asked for, register
         * the node as a standby of the upstream (which must then be a registered node).
         */
        StandbyClone thenRegister();

        /**
         * Dry run: runs every prerequisite check and lists the steps a real run takes
         * (PLANNED); changes nothing. The report is successful when no check failed.
         */
        OperationReport plan();

        /**
         * Checks, copies, configures and runs the chained steps; records a
         * {@code standby_clone} event (successful or not) on the primary.
         *
         * @throws ReplicationException when a check fails (nothing changed), or a step fails
         *     (what was copied is removed; a failure after the copy names what is left)
         */
        CloneReport execute();
    }

    // ------------------------------------------------------------ topology changes
    //
    // Each of these runs its checks first and changes nothing when one fails; plan() runs
    // the checks and lists the steps without changing anything. They hold a cluster-wide
    // lock, so two of them (on this or any other handle) never interleave: the second is
    // refused with an error naming the one in progress. A failure after something was
    // changed throws an io.repmgr4j.plan.OperationException whose report says what ran and
    // in which state the cluster was left.

    /**
     * {@code repmgr standby promote}: promotes a running standby to primary (pg_promote,
     * waiting up to its promote_check_timeout), marks the old primary's record inactive and
     * adds 1 to the voting term. Refused when the node is not a standby, or while the
     * registered primary is still running as primary (unless forced).
     */
    StandbyPromotion promote(int nodeId);

    /** {@link #promote(int)} for a node given by its configuration (which the handle remembers). */
    StandbyPromotion promote(NodeConfig node);

    /**
     * {@code repmgr standby follow}: re-points a running standby to another upstream (by
     * default the current primary) in place (primary_conninfo by ALTER SYSTEM and a reload
     * on PostgreSQL 13+), after checking that it can: same system identifier, and the
     * upstream's timeline history forks at or after the standby's position. A standby
     * that diverged is refused with a hint to rejoin it with pg_rewind.
     */
    StandbyFollow follow(NodeConfig standby);

    /** {@link #follow(NodeConfig)} for a registered node by id (SQL is enough on PostgreSQL 13+). */
    StandbyFollow follow(int nodeId);

    /**
     * {@code repmgr standby switchover}: makes a streaming standby the primary and the
     * current primary its standby, with the shortest possible write gap: CHECKPOINT, fast
     * stop of the primary, check of its clean shutdown, wait until the target has received
     * the shutdown checkpoint, promotion, restart of the old primary as a standby, siblings
     * follow (option), and a check that every node streams from the new primary. The
     * configurations (data directory, bindir, service commands) and runners of the primary
     * and the target must be known to the handle. A switchover never ends without a
     * writable primary: if a step fails before the target is promoted, the old primary is
     * brought back as primary.
     */
    StandbySwitchover switchover(int targetNodeId);

    /** {@link #switchover(int)} to a node given by its configuration. */
    StandbySwitchover switchover(NodeConfig target);

    /**
     * {@code repmgr node rejoin}: attaches a stopped node (typically a failed or demoted
     * primary) as a standby of a target (by default the current primary), running crash
     * recovery first when asked and pg_rewind when needed and allowed; configuration files
     * in the data directory survive the rewind.
     */
    NodeRejoin rejoin(NodeConfig node);

    /** Options of {@link #promote}. */
    interface StandbyPromotion {
        /** Make every other standby of the old primary follow the new one (default false). */
        StandbyPromotion siblingsFollow(boolean siblingsFollow);

        /** Promote even while the registered primary is running as primary (two primaries!). */
        StandbyPromotion force(boolean force);

        /** How long to wait for the promotion; default the node's promote_check_timeout. */
        StandbyPromotion timeout(Duration timeout);

        /** Dry run: checks and planned steps; nothing is changed. */
        OperationReport plan();

        OperationReport execute();
    }

    /** Options of {@link #follow}. */
    interface StandbyFollow {
        /** The new upstream (the primary or another standby); default the current primary. */
        StandbyFollow upstreamNodeId(int upstreamNodeId);

        /** How long to wait until the standby streams from its new upstream; default its standby_reconnect_timeout. */
        StandbyFollow timeout(Duration timeout);

        OperationReport plan();

        OperationReport execute();
    }

    /** Options of {@link #switchover}. */
    interface StandbySwitchover {
        /** Make the other standbys of the old primary follow the new one (default false). */
        StandbySwitchover siblingsFollow(boolean siblingsFollow);

        /** Run pg_rewind on the old primary when it cannot attach otherwise (default false: report it instead). */
        StandbySwitchover forceRewind(boolean forceRewind);

        /**
         * Promote the target even when the old primary, once stopped, was not shut down
         * cleanly, or the target did not receive its shutdown checkpoint in time (data may
         * be lost). Never while the old primary is still running.
         */
        StandbySwitchover alwaysPromote(boolean alwaysPromote);

        /**
         * The largest replication lag (bytes the target has not yet received) at which the
         * switchover starts; a target further behind is waited for (up to the timeout), then
         * refused. Default 16 MiB.
         */
        StandbySwitchover maxLag(long bytes);

        /**
         * Keep the old primary stopped at least this long after it shut down before it starts
         * again as a standby (default zero). Behind a load balancer that routes by health
         * checks, set it to the time the balancer takes to mark a node down (HAProxy: fall ×
         * inter, 1 s with Patroni-style {@code inter 500ms fall 2}), so that no client reaches
         * the old primary as a standby, which would refuse its writes. The write gap does not
         * grow: writes go to the new primary as soon as the balancer marks it up.
         */
        StandbySwitchover oldPrimaryRestartDelay(Duration delay);

        /**
         * How long to wait for the target to stream and catch up before the stop, and for
         * nodes to stream from the new primary afterwards. Default 60 s.
         */
        StandbySwitchover timeout(Duration timeout);

        OperationReport plan();

        OperationReport execute();
    }

    /** Options of {@link #rejoin}. */
    interface NodeRejoin {
        /** The node to attach to, by its connection string; it must be a registered, running primary. */
        NodeRejoin target(ConnInfo target);

        /** The node to attach to, by id. Default: the current primary. */
        NodeRejoin targetNodeId(int targetNodeId);

        /** Run pg_rewind when the node diverged from the target (needs wal_log_hints or data checksums). */
        NodeRejoin forceRewind(boolean forceRewind);

        /**
         * When the node did not shut down cleanly, run its crash recovery first (single-user
         * mode: no connections, no replication), then go on. Default false: refuse.
         */
        NodeRejoin recoverCrashedNode(boolean recover);

        /** How long to wait until the node streams from the target; default its node_rejoin_timeout. */
        NodeRejoin timeout(Duration timeout);

        OperationReport plan();

        OperationReport execute();
    }

    // ------------------------------------------------------------ failover daemons

    /**
     * The failover daemon (repmgrd's role) for one node, not started yet: add listeners,
     * then {@link FailoverDaemon#start()}. One daemon per node; closing the cluster closes
     * the daemons made from it.
     */
    FailoverDaemon daemon(NodeConfig node);

    /** {@link #daemon(NodeConfig)} with Java-only options (sub-second intervals, a fencing hook). */
    FailoverDaemon daemon(NodeConfig node, DaemonOptions options);

    /**
     * {@code repmgr service pause}: daemons keep monitoring but never fail over. The flag
     * is written on the primary (table {@code repmgr4j.daemon_state}), replicated to every
     * standby, and survives restarts.
     */
    DaemonPause pauseDaemons();

    /** {@code repmgr service unpause}: daemons fail over again. */
    DaemonPause unpauseDaemons();

    /** {@code repmgr service status}: every node with its daemon: running, PID, paused, upstream last seen. */
    ServiceStatusQuery serviceStatus();

    // ------------------------------------------------------------ synchronous replication

    /**
     * Synchronous replication managed by the library (repmgr4j's own; repmgr leaves
     * {@code synchronous_standby_names} to the user): {@code plan()} shows the value it would
     * set on the primary and why, {@code apply()} sets it (ALTER SYSTEM and a reload) with the
     * synchronous record in schema {@code repmgr4j}, in the order that keeps every copy of the
     * record safe. Settings default to the record's, else to the bound primary configuration's.
     * A running daemon on the primary keeps it right afterwards.
     */
    SynchronousReplication synchronousReplication();

    /** Options of {@link #synchronousReplication()}. Not thread-safe. */
    interface SynchronousReplication {
        /** {@code synchronous}: off, priority ({@code FIRST n}) or quorum ({@code ANY n}). */
        SynchronousReplication mode(SyncMode mode);

        /** {@code synchronous_count} (default 1). */
        SynchronousReplication count(int count);

        /** {@code synchronous_strict}: never fall back to asynchronous (default false). */
        SynchronousReplication strict(boolean strict);

        /** {@code synchronous_degrade_timeout} (default 10 s). */
        SynchronousReplication degradeTimeout(Duration timeout);

        /** {@code sync_candidate} of a registered node, by name (default: its configuration's, else true). */
        SynchronousReplication candidate(String nodeName, boolean candidate);

        /** The dry run: checks the input and shows what would be set; changes nothing. */
        SynchronousPlan plan();

        /** Sets it on the primary. */
        SynchronousPlan apply();
    }

    /** Options of {@link #pauseDaemons()} and {@link #unpauseDaemons()}. */
    interface DaemonPause {
        /**
         * Also wait up to {@code timeout} until every running daemon reports the new state
         * (default: do not wait; daemons pick it up within one monitor interval).
         */
        DaemonPause waitUntilApplied(Duration timeout);

        /** Writes the flag for every registered node; returns the nodes changed. */
        List<NodeRecord> execute();
    }

    /** Options of {@link #serviceStatus()}. */
    interface ServiceStatusQuery {
        /** The longest the whole probe may take. Default 10 s. */
        ServiceStatusQuery timeout(Duration timeout);

        ServiceStatus execute();
    }
}

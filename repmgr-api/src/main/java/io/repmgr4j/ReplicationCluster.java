package io.repmgr4j;

import io.repmgr4j.plan.Plan;
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

    /** {@code repmgr cluster show}: probes every registered node at once. */
    ClusterShow show();

    /** {@code repmgr cluster event}: reads recorded events, newest first. */
    EventList events();

    /** The metadata this cluster reads and writes (on the current primary). */
    MetadataStore metadata();

    /** Releases connections and threads; the cluster cannot be used afterwards. */
    @Override
    void close();

    /** Options of {@link #registerPrimary}. */
    interface PrimaryRegistration {
        /** Overwrite an existing record with the same node id. */
        PrimaryRegistration force(boolean force);

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
     * Plan dry = cluster.cloneStandby(node).upstreamNodeId(1).plan();      // checks only
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

        /** Dry run: runs every prerequisite check and lists the steps a real run takes; changes nothing. */
        Plan plan();

        /**
         * Checks, copies, configures and runs the chained steps; records a
         * {@code standby_clone} event (successful or not) on the primary.
         *
         * @throws ReplicationException when a check fails (nothing changed), or a step fails
         *     (what was copied is removed; a failure after the copy names what is left)
         */
        CloneReport execute();
    }
}

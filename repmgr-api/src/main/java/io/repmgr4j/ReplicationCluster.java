package io.repmgr4j;

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

package io.repmgr4j.spi;

import io.repmgr4j.EventQuery;
import io.repmgr4j.EventRecord;
import io.repmgr4j.MonitoringRecord;
import io.repmgr4j.NodeRecord;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * Where the cluster's metadata lives: repmgr's {@code nodes}, {@code events},
 * {@code monitoring_history} and {@code voting_term}. The default implementation
 * ({@code JdbcMetadataStore} in repmgr-sql) keeps them in the {@code repmgr} schema on
 * the primary, compatible with repmgr 5.x.
 *
 * <p>Every method fails with a {@code ReplicationException} ({@code DB_CONN} or
 * {@code DB_QUERY}) rather than an unchecked SQL error. Implementations are
 * thread-safe.
 */
public interface MetadataStore {

    /** Every node record, ordered by node id. */
    List<NodeRecord> nodes();

    /** One node record. */
    Optional<NodeRecord> node(int nodeId);

    /** The node record with this name. */
    Optional<NodeRecord> nodeByName(String nodeName);

    /** Adds a node record; fails if its id exists. */
    void insertNode(NodeRecord node);

    /** Replaces the record with the same id; fails if there is none. */
    void updateNode(NodeRecord node);

    /** Deletes a node record; false if there was none. */
    boolean deleteNode(int nodeId);

    /** Appends an event; returns it as stored, with its timestamp. */
    EventRecord appendEvent(EventRecord event);

    /** Events matching the query, newest first. */
    List<EventRecord> events(EventQuery query);

    /** Appends one monitoring history row. */
    void appendMonitoring(MonitoringRecord record);

    /**
     * Deletes monitoring history older than {@code keepDays} days (0 deletes all);
     * returns the number of rows deleted.
     */
    int deleteMonitoringHistory(int keepDays);

    /** Monitoring rows of one standby, newest first, at most {@code limit}. */
    List<MonitoringRecord> monitoringHistory(int standbyNodeId, int limit);

    /** The current voting term (1 after the first primary registration). */
    int votingTerm();

    /** Sets the voting term. */
    void setVotingTerm(int term);

    /** Adds 1 to the voting term and returns the new value, atomically. */
    int incrementVotingTerm();

    /**
     * Runs {@code work} against a view of this store in which every change commits
     * together or not at all; returns what {@code work} returns.
     */
    <T> T inTransaction(Function<MetadataStore, T> work);
}

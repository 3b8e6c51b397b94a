package io.repmgr4j.sql;

import io.repmgr4j.Lsn;
import java.util.Objects;
import java.util.Optional;

/**
 * One row of a server's {@code pg_stat_replication}: a WAL sender serving a standby (or
 * {@code pg_basebackup}, or {@code pg_receivewal}). Read by
 * {@link ServerProbe#replicationClients}. Immutable; thread-safe.
 *
 * <p>Without superuser or {@code pg_read_all_stats} the server hides everything but the
 * pid, application name and user of other users' senders: those fields are then empty.
 *
 * @param pid the WAL sender process's id
 * @param applicationName the client's {@code application_name} (repmgr sets it to the
 *     standby's node name in {@code primary_conninfo})
 * @param clientAddr the client's IP address; empty for a Unix-socket client
 * @param state {@code startup}, {@code catchup}, {@code streaming}, {@code backup} or
 *     {@code stopping}
 * @param sentLsn the last location sent
 * @param writeLsn the last location the standby wrote
 * @param flushLsn the last location the standby flushed
 * @param replayLsn the last location the standby replayed
 * @param syncState {@code async}, {@code potential}, {@code sync} or {@code quorum}
 */
public record ReplicationClient(
        int pid,
        String applicationName,
        Optional<String> clientAddr,
        Optional<String> state,
        Optional<Lsn> sentLsn,
        Optional<Lsn> writeLsn,
        Optional<Lsn> flushLsn,
        Optional<Lsn> replayLsn,
        Optional<String> syncState) {

    public ReplicationClient {
        Objects.requireNonNull(applicationName, "applicationName");
        Objects.requireNonNull(clientAddr, "clientAddr");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(sentLsn, "sentLsn");
        Objects.requireNonNull(writeLsn, "writeLsn");
        Objects.requireNonNull(flushLsn, "flushLsn");
        Objects.requireNonNull(replayLsn, "replayLsn");
        Objects.requireNonNull(syncState, "syncState");
    }
}

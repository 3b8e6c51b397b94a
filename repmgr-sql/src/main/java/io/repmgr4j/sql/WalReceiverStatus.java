package io.repmgr4j.sql;

import io.repmgr4j.Lsn;
import java.time.OffsetDateTime;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A standby's WAL receiver as {@code pg_stat_wal_receiver} shows it: whether it streams,
 * from where, and how far it got. Read by {@link ServerProbe#walReceiver}.
 *
 * <p>Everything but the pid is visible only to superusers and members of
 * {@code pg_read_all_stats}; for other users those fields are empty. Immutable; thread-safe.
 *
 * @param pid the WAL receiver process's id
 * @param status {@code streaming}, {@code starting}, {@code waiting}, {@code restarting},
 *     {@code stopping} or {@code stopped}; empty when the server hides details from this
 *     user
 * @param senderHost the host it receives from (a name, an address or a socket directory)
 * @param senderPort the port it receives from
 * @param receivedTli the timeline of the last location received and flushed
 * @param flushedLsn the last location received and flushed to disk
 * @param latestEndLsn the last location the sender reported to this receiver
 * @param lastMessageReceiptTime when the last message from the sender arrived
 * @param slotName the replication slot it uses on the sender, if any
 * @param conninfo the connection string it uses, password masked (by the server, and
 *     again here)
 */
public record WalReceiverStatus(
        int pid,
        Optional<String> status,
        Optional<String> senderHost,
        OptionalInt senderPort,
        OptionalInt receivedTli,
        Optional<Lsn> flushedLsn,
        Optional<Lsn> latestEndLsn,
        Optional<OffsetDateTime> lastMessageReceiptTime,
        Optional<String> slotName,
        Optional<String> conninfo) {

    public WalReceiverStatus {
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(senderHost, "senderHost");
        Objects.requireNonNull(senderPort, "senderPort");
        Objects.requireNonNull(receivedTli, "receivedTli");
        Objects.requireNonNull(flushedLsn, "flushedLsn");
        Objects.requireNonNull(latestEndLsn, "latestEndLsn");
        Objects.requireNonNull(lastMessageReceiptTime, "lastMessageReceiptTime");
        Objects.requireNonNull(slotName, "slotName");
        Objects.requireNonNull(conninfo, "conninfo");
    }

    /** True when the receiver is streaming WAL from its sender. */
    public boolean isStreaming() {
        return status.filter("streaming"::equals).isPresent();
    }
}

package io.repmgr4j.sql;

import io.repmgr4j.Lsn;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.util.Objects;
import java.util.Optional;

/**
 * One consistent look at how far a server's WAL goes, as the failover daemon needs it:
 * whether it is in recovery, a primary's current location, a standby's receive and
 * replay locations and the time of the last replayed transaction. Immutable; thread-safe.
 *
 * @param inRecovery {@code pg_is_in_recovery()}
 * @param currentLsn a primary's {@code pg_current_wal_lsn()}; empty on a standby
 * @param receiveLsn a standby's {@code pg_last_wal_receive_lsn()}; empty when it never streamed
 * @param replayLsn a standby's {@code pg_last_wal_replay_lsn()}
 * @param lastReplayTime {@code pg_last_xact_replay_timestamp()}
 */
public record RecoveryProgress(boolean inRecovery, Optional<Lsn> currentLsn, Optional<Lsn> receiveLsn,
                               Optional<Lsn> replayLsn, Optional<OffsetDateTime> lastReplayTime) {

    public RecoveryProgress {
        Objects.requireNonNull(currentLsn, "currentLsn");
        Objects.requireNonNull(receiveLsn, "receiveLsn");
        Objects.requireNonNull(replayLsn, "replayLsn");
        Objects.requireNonNull(lastReplayTime, "lastReplayTime");
    }

    /** Reads it with one query. */
    public static RecoveryProgress read(Connection c) {
        String sql = "SELECT r, CASE WHEN r THEN NULL ELSE pg_catalog.pg_current_wal_lsn() END,"
                + " pg_catalog.pg_last_wal_receive_lsn(), pg_catalog.pg_last_wal_replay_lsn(),"
                + " pg_catalog.pg_last_xact_replay_timestamp()"
                + " FROM (SELECT pg_catalog.pg_is_in_recovery() AS r) s";
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return new RecoveryProgress(rs.getBoolean(1), lsn(rs.getString(2)), lsn(rs.getString(3)), lsn(rs.getString(4)),
                    Optional.ofNullable(rs.getObject(5, OffsetDateTime.class)));
        } catch (SQLException e) {
            throw SqlErrors.map("unable to read the server's WAL progress", e);
        }
    }

    /**
     * The location an election compares: a standby's receive location (replay when it
     * never streamed, as after a restart from archive), a primary's current location.
     */
    public Optional<Lsn> electionLsn() {
        if (!inRecovery) {
            return currentLsn;
        }
        if (receiveLsn.isEmpty()) {
            return replayLsn;
        }
        return replayLsn.isPresent() && replayLsn.get().compareTo(receiveLsn.get()) > 0 ? replayLsn : receiveLsn;
    }

    /**
     * Resumes WAL replay on a standby where it was paused ({@code pg_wal_replay_pause()}):
     * a paused standby neither switches to a new upstream nor catches up, so a failover
     * resumes it, as repmgrd does. Returns true when replay was paused.
     */
    public static boolean resumeReplayIfPaused(Connection c) {
        String sql = "SELECT pg_catalog.pg_wal_replay_resume(), true"
                + " WHERE pg_catalog.pg_is_in_recovery() AND pg_catalog.pg_get_wal_replay_pause_state() <> 'not paused'";
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next();
        } catch (SQLException e) {
            throw SqlErrors.map("unable to resume WAL replay", e);
        }
    }

    private static Optional<Lsn> lsn(String s) {
        return s == null ? Optional.empty() : Optional.of(Lsn.parse(s));
    }
}

package io.repmgr4j.sql;

import io.repmgr4j.Lsn;
import io.repmgr4j.SyncMode;
import io.repmgr4j.SynchronousRecord;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Reads and writes the synchronous record ({@code repmgr4j.synchronous_state}) and the
 * per-node {@code sync_candidate} flags ({@code repmgr4j.sync_candidate}), installed by
 * {@link DaemonStateInstaller}. Reads work on any node; writes need the primary and commit
 * with {@code synchronous_commit = local}, so that writing the record never waits for a
 * synchronous standby that is gone (callers that need the write on the standbys wait for
 * the returned LSN). A static utility; thread-safe.
 */
public final class SyncStateTable {
    private SyncStateTable() {
    }

    /** True when the tables exist on this server. */
    public static boolean present(Connection c) {
        return DaemonStateTable.present(c, "synchronous_state");
    }

    /** The record on this server; empty when there is none (never configured). */
    public static Optional<SynchronousRecord> read(Connection c) {
        if (!present(c)) {
            return Optional.empty();
        }
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT mode, sync_count, strict, degrade_timeout_ms, record_mode, record_count,"
                     + " members, standby_names, generation, primary_node_id FROM repmgr4j.synchronous_state WHERE id = 1")) {
            if (!rs.next()) {
                return Optional.empty();
            }
            List<Integer> members = new ArrayList<>();
            Array a = rs.getArray(7);
            if (a != null) {
                for (Object o : (Object[]) a.getArray()) {
                    members.add(((Number) o).intValue());
                }
            }
            return Optional.of(new SynchronousRecord(SyncMode.valueOf(rs.getString(1).toUpperCase(Locale.ROOT)),
                    rs.getInt(2), rs.getBoolean(3), Duration.ofMillis(rs.getLong(4)),
                    SynchronousRecord.Kind.valueOf(rs.getString(5).toUpperCase(Locale.ROOT)), rs.getInt(6), members,
                    rs.getString(8), rs.getLong(9), rs.getInt(10)));
        } catch (SQLException e) {
            throw SqlErrors.map("unable to read the synchronous record", e);
        }
    }

    /**
     * Writes the record on the primary (one transaction, {@code synchronous_commit = local})
     * and returns the primary's WAL position after the commit: a standby that has flushed
     * it holds the record. The connection must be in auto-commit mode.
     */
    public static Lsn write(Connection primary, SynchronousRecord r) {
        Objects.requireNonNull(r, "record");
        try {
            primary.setAutoCommit(false);
            try {
                try (Statement st = primary.createStatement()) {
                    st.execute("SET LOCAL synchronous_commit = local");
                }
                try (PreparedStatement ps = primary.prepareStatement("INSERT INTO repmgr4j.synchronous_state (id, mode,"
                        + " sync_count, strict, degrade_timeout_ms, record_mode, record_count, members, standby_names,"
                        + " generation, primary_node_id, updated_at) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, pg_catalog.now())"
                        + " ON CONFLICT (id) DO UPDATE SET mode = EXCLUDED.mode, sync_count = EXCLUDED.sync_count,"
                        + " strict = EXCLUDED.strict, degrade_timeout_ms = EXCLUDED.degrade_timeout_ms,"
                        + " record_mode = EXCLUDED.record_mode, record_count = EXCLUDED.record_count,"
                        + " members = EXCLUDED.members, standby_names = EXCLUDED.standby_names,"
                        + " generation = EXCLUDED.generation, primary_node_id = EXCLUDED.primary_node_id,"
                        + " updated_at = EXCLUDED.updated_at")) {
                    ps.setString(1, r.mode().confValue());
                    ps.setInt(2, r.count());
                    ps.setBoolean(3, r.strict());
                    ps.setLong(4, r.degradeTimeout().toMillis());
                    ps.setString(5, r.kind().name().toLowerCase(Locale.ROOT));
                    ps.setInt(6, r.recordCount());
                    ps.setArray(7, primary.createArrayOf("integer", r.members().toArray()));
                    ps.setString(8, r.standbyNames());
                    ps.setLong(9, r.generation());
                    ps.setInt(10, r.primaryNodeId());
                    ps.executeUpdate();
                }
                primary.commit();
            } catch (SQLException e) {
                primary.rollback();
                throw e;
            } finally {
                primary.setAutoCommit(true);
            }
            try (Statement st = primary.createStatement();
                 ResultSet rs = st.executeQuery("SELECT pg_catalog.pg_current_wal_lsn()::text")) {
                rs.next();
                return Lsn.parse(rs.getString(1));
            }
        } catch (SQLException e) {
            throw SqlErrors.map("unable to write the synchronous record", e);
        }
    }

    /** The {@code sync_candidate} flag of every node that has a row (absent means true). */
    public static Map<Integer, Boolean> candidates(Connection c) {
        return DaemonStateTable.nodeFlags(c, "sync_candidate", "candidate", "the sync_candidate flags");
    }

    /** Sets {@code sync_candidate} flags on the primary, in one transaction. Auto-commit connection. */
    public static void setCandidates(Connection primary, Map<Integer, Boolean> flags) {
        if (flags.isEmpty()) {
            return;
        }
        try {
            primary.setAutoCommit(false);
            try (Statement st = primary.createStatement();
                 PreparedStatement ps = primary.prepareStatement("INSERT INTO repmgr4j.sync_candidate (node_id, candidate)"
                         + " VALUES (?, ?) ON CONFLICT (node_id) DO UPDATE SET candidate = EXCLUDED.candidate")) {
                st.execute("SET LOCAL synchronous_commit = local");
                for (Map.Entry<Integer, Boolean> e : flags.entrySet()) {
                    ps.setInt(1, e.getKey());
                    ps.setBoolean(2, e.getValue());
                    ps.addBatch();
                }
                ps.executeBatch();
                primary.commit();
            } catch (SQLException e) {
                primary.rollback();
                throw e;
            } finally {
                primary.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw SqlErrors.map("unable to write the sync_candidate flags", e);
        }
    }
}

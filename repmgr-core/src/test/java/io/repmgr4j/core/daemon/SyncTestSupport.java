package io.repmgr4j.core.daemon;

import io.repmgr4j.SynchronousRecord;
import io.repmgr4j.sql.SyncStateTable;
import io.repmgr4j.testkit.PgServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Reads for the synchronous replication tests: the record, sync states, writable servers. */
final class SyncTestSupport {
    private SyncTestSupport() {
    }

    static Optional<SynchronousRecord> record(PgServer s) {
        try (Connection c = s.connect()) {
            return SyncStateTable.read(c);
        } catch (SQLException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** application_name=sync_state of every streaming WAL sender of {@code s}. */
    static List<String> syncStates(PgServer s) {
        List<String> out = new ArrayList<>();
        try (Connection c = s.connect(); PreparedStatement ps = c.prepareStatement(
                "SELECT application_name, sync_state FROM pg_stat_replication WHERE state = 'streaming'"
                        + " AND application_name NOT LIKE 'pg_basebackup%' ORDER BY 1");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(rs.getString(1) + "=" + rs.getString(2));
            }
        } catch (SQLException | RuntimeException e) {
            // not reachable: nothing streams from it
        }
        return out;
    }

    /**
     * True when {@code primary}'s record guarantees {@code kind} with all its members
     * streaming in that state, and it names them in synchronous_standby_names.
     */
    static boolean settled(PgServer primary, SynchronousRecord.Kind kind, int members) {
        Optional<SynchronousRecord> r = record(primary);
        if (r.isEmpty() || r.get().kind() != kind || r.get().members().size() != members) {
            return false;
        }
        String want = kind == SynchronousRecord.Kind.QUORUM ? "quorum" : "sync";
        long inState = syncStates(primary).stream().filter(x -> x.endsWith("=" + want)).count();
        String names = primary.query("SHOW synchronous_standby_names", String.class);
        return inState >= members && names.equals(r.get().standbyNames());
    }

    static boolean writable(PgServer s) {
        try (Connection c = s.connect(); PreparedStatement ps = c.prepareStatement("SELECT NOT pg_is_in_recovery()");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getBoolean(1);
        } catch (SQLException | RuntimeException e) {
            return false;
        }
    }
}

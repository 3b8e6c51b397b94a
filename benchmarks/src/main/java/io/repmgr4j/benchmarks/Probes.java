package io.repmgr4j.benchmarks;

import io.repmgr4j.testkit.PgServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/** What the benchmarks poll servers with, and their sleep. A static utility; thread-safe. */
final class Probes {
    private Probes() {
    }

    /** Whether {@code s} accepts writes now (a new connection; false when it does not answer). */
    static boolean writable(PgServer s) {
        try (Connection c = s.connect(); PreparedStatement ps = c.prepareStatement("SELECT NOT pg_is_in_recovery()");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getBoolean(1);
        } catch (SQLException | RuntimeException e) {
            return false;
        }
    }

    /** The first of {@code watch} to accept writes and when ({@link System#nanoTime()}). */
    record Promoted(int index, long writableAt) {
    }

    /**
     * Polls the kept connections every 2 ms until one of them is out of recovery.
     *
     * @throws IllegalStateException when none is by {@code deadline} ({@link System#nanoTime()})
     */
    static Promoted firstWritable(List<Connection> watch, long deadline) throws SQLException {
        while (true) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no standby was promoted within the time allowed");
            }
            for (int i = 0; i < watch.size(); i++) {
                try (Statement st = watch.get(i).createStatement(); ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
                    rs.next();
                    if (!rs.getBoolean(1)) {
                        return new Promoted(i, System.nanoTime());
                    }
                }
            }
            sleep(2);
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}

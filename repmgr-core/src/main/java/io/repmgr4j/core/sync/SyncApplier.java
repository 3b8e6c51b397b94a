package io.repmgr4j.core.sync;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.Lsn;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.SynchronousRecord;
import io.repmgr4j.sql.DaemonStateInstaller;
import io.repmgr4j.sql.SyncStateTable;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Moves a primary from its current {@code synchronous_standby_names} and synchronous record
 * to a {@link SyncTarget.Target}, in the order that keeps every copy of the record safe:
 * <ol>
 *   <li>for a synchronous target, widen the record first (the old members and the new
 *       ones, read as a quorum of one when they differ, so an election must ask them all)
 *       and wait until the connected old members hold it;</li>
 *   <li>set {@code synchronous_standby_names} (ALTER SYSTEM with statement logging off,
 *       pg_reload_conf) and wait until every WAL sender runs with it;</li>
 *   <li>wait until the new members confirm the primary's WAL position (so they hold every
 *       commit acknowledged before), then narrow the record to the target.</li>
 * </ol>
 * Dropping to asynchronous (degrade, off) writes the record first, then clears the setting.
 * Each wait is bounded; when one runs out the record stays wide (safe) and the result says
 * incomplete, so the caller tries again. A static utility; thread-safe (a connection is not).
 */
public final class SyncApplier {
    private SyncApplier() {
    }

    /** What {@link #apply} did. */
    public record Result(SynchronousRecord record, List<String> steps, boolean complete, boolean changed) {
        public Result {
            steps = List.copyOf(steps);
        }
    }

    /** {@code SHOW synchronous_standby_names}. */
    public static String currentNames(Connection c) {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW synchronous_standby_names")) {
            rs.next();
            String v = rs.getString(1);
            return v == null ? "" : v;
        } catch (SQLException e) {
            throw fail("unable to read synchronous_standby_names", e);
        }
    }

    /** Whether the primary already runs with the target and its record says so. */
    public static boolean upToDate(String current, Optional<SynchronousRecord> rec, SyncSettings s, SyncTarget.Target t) {
        return current.equals(t.standbyNames()) && rec.isPresent() && s.sameAs(rec.get()) && rec.get().kind() == t.kind()
                && rec.get().recordCount() == t.count() && rec.get().members().equals(t.members())
                && rec.get().standbyNames().equals(t.standbyNames());
    }

    /** The steps {@link #apply} would take, for a dry run. */
    public static List<String> planSteps(String current, Optional<SynchronousRecord> rec, SyncSettings s, SyncTarget.Target t,
                                         Map<Integer, String> names) {
        List<String> steps = new ArrayList<>();
        if (upToDate(current, rec, s, t)) {
            steps.add("nothing to do: synchronous_standby_names is '" + current + "' and the record agrees");
            return steps;
        }
        if (!t.kind().equals(SynchronousRecord.Kind.PRIORITY) && !t.kind().equals(SynchronousRecord.Kind.QUORUM)) {
            steps.add("write the synchronous record: " + t.kind().name().toLowerCase() + " (no standby holds every commit)");
            if (!current.equals(t.standbyNames())) {
                steps.add("set synchronous_standby_names to '" + t.standbyNames() + "' (ALTER SYSTEM, pg_reload_conf)");
            }
            return steps;
        }
        Mid mid = mid(rec, t);
        if (mid.write()) {
            steps.add("widen the synchronous record to " + describe(mid.members(), names) + " and wait until the connected"
                    + " old members hold it");
        }
        if (!current.equals(t.standbyNames())) {
            steps.add("set synchronous_standby_names from '" + current + "' to '" + t.standbyNames()
                    + "' (ALTER SYSTEM, pg_reload_conf) and wait until every WAL sender runs with it");
        }
        steps.add("wait until " + (t.kind() == SynchronousRecord.Kind.PRIORITY ? "every one" : t.count())
                + " of " + describe(t.members(), names) + " confirms the primary's WAL position");
        steps.add("narrow the synchronous record to " + t.kind().name().toLowerCase() + " " + t.count() + " of "
                + describe(t.members(), names));
        return steps;
    }

    private record Mid(boolean write, SynchronousRecord.Kind kind, int count, List<Integer> members) {
    }

    /** The widened record for a synchronous target. */
    private static Mid mid(Optional<SynchronousRecord> rec, SyncTarget.Target t) {
        if (rec.isEmpty() || !rec.get().guarding()) {
            return new Mid(true, t.kind(), t.count(), t.members());
        }
        SynchronousRecord r = rec.get();
        Set<Integer> union = new LinkedHashSet<>(r.members());
        union.remove(r.primaryNodeId());
        if (union.containsAll(t.members()) && r.kind() == t.kind() && (r.kind() == SynchronousRecord.Kind.PRIORITY
                || r.recordCount() <= t.count())) {
            return new Mid(false, r.kind(), r.recordCount(), List.copyOf(union)); // narrowing only: the old record stays
        }
        union.addAll(t.members());
        if (r.kind() == SynchronousRecord.Kind.QUORUM && t.kind() == SynchronousRecord.Kind.QUORUM) {
            return new Mid(true, SynchronousRecord.Kind.QUORUM, Math.min(r.recordCount(), t.count()), List.copyOf(union));
        }
        return new Mid(true, SynchronousRecord.Kind.QUORUM, 1, List.copyOf(union));
    }

    /**
     * Applies {@code t} on the primary behind {@code c} (auto-commit). Installs schema
     * {@code repmgr4j} when it is missing.
     *
     * @param budget the longest each wait may take
     */
    public static Result apply(Connection c, int primaryId, List<NodeRecord> nodes, SyncSettings s, SyncTarget.Target t,
                               Duration budget) {
        DaemonStateInstaller.install(c);
        Map<Integer, String> names = new HashMap<>();
        nodes.forEach(n -> names.put(n.nodeId(), n.nodeName()));
        String current = currentNames(c);
        Optional<SynchronousRecord> rec = SyncStateTable.read(c);
        List<String> steps = new ArrayList<>();
        if (upToDate(current, rec, s, t)) {
            return new Result(rec.get(), steps, true, false);
        }
        long gen = rec.map(SynchronousRecord::generation).orElse(0L);
        if (t.kind() != SynchronousRecord.Kind.PRIORITY && t.kind() != SynchronousRecord.Kind.QUORUM) {
            SynchronousRecord r = record(s, t.kind(), 0, List.of(), t.standbyNames(), ++gen, primaryId);
            SyncStateTable.write(c, r);
            steps.add("wrote the synchronous record: " + t.kind().name().toLowerCase());
            if (!current.equals(t.standbyNames())) {
                setNames(c, t.standbyNames());
                waitApplied(c, t, names, budget);
                steps.add("set synchronous_standby_names to '" + t.standbyNames() + "'");
            }
            return new Result(r, steps, true, true);
        }
        Mid mid = mid(rec, t);
        SynchronousRecord now = rec.orElse(null);
        if (mid.write()) {
            now = record(s, mid.kind(), mid.count(), mid.members(), current, ++gen, primaryId);
            Lsn at = SyncStateTable.write(c, now);
            steps.add("widened the synchronous record to " + describe(mid.members(), names));
            List<Integer> old = rec.filter(SynchronousRecord::guarding).map(SynchronousRecord::members).orElse(List.of());
            if (!waitFlushed(c, old, names, at, old.size(), true, budget)) {
                steps.add("the connected old members did not confirm the widened record within " + budget.toMillis()
                        + " ms; synchronous_standby_names left as it is");
                return new Result(now, steps, false, true);
            }
        }
        if (!current.equals(t.standbyNames())) {
            setNames(c, t.standbyNames());
            steps.add("set synchronous_standby_names from '" + current + "' to '" + t.standbyNames() + "'");
            if (!waitApplied(c, t, names, budget)) {
                steps.add("the WAL senders did not all run with the new value within " + budget.toMillis()
                        + " ms; the record stays wide");
                return new Result(now, steps, false, true);
            }
        } else if (!waitApplied(c, t, names, budget)) {
            steps.add("the WAL senders do not all run with '" + t.standbyNames() + "' yet; the record stays wide");
            return new Result(now, steps, false, !steps.isEmpty());
        }
        Lsn l = currentLsn(c);
        int need = t.kind() == SynchronousRecord.Kind.PRIORITY ? t.members().size() : t.count();
        if (!waitFlushed(c, t.members(), names, l, need, false, budget)) {
            steps.add("the new synchronous standbys did not confirm " + l + " within " + budget.toMillis()
                    + " ms; the record stays wide until they do");
            return new Result(now, steps, false, true);
        }
        SynchronousRecord fin = record(s, t.kind(), t.count(), t.members(), t.standbyNames(), ++gen, primaryId);
        SyncStateTable.write(c, fin);
        steps.add("narrowed the synchronous record to " + t.kind().name().toLowerCase() + " " + t.count() + " of "
                + describe(t.members(), names));
        return new Result(fin, steps, true, true);
    }

    private static SynchronousRecord record(SyncSettings s, SynchronousRecord.Kind kind, int count, List<Integer> members,
                                            String standbyNames, long gen, int primaryId) {
        return new SynchronousRecord(s.mode(), s.count(), s.strict(), s.degradeTimeout(), kind, count, members, standbyNames,
                gen, primaryId);
    }

    private static final List<String> QUIET = List.of("SET log_statement = 'none'", "SET log_min_duration_statement = -1",
            "SET log_min_error_statement = 'panic'");

    /** ALTER SYSTEM SET synchronous_standby_names, with statement logging off for this session, then a reload. */
    static void setNames(Connection c, String value) {
        try (Statement st = c.createStatement()) {
            for (String q : QUIET) {
                try {
                    st.execute(q);
                } catch (SQLException e) {
                    // not a superuser for these: go on
                }
            }
            if (value.isEmpty()) {
                st.execute("ALTER SYSTEM RESET synchronous_standby_names");
            } else {
                st.execute("ALTER SYSTEM SET synchronous_standby_names = '" + value.replace("'", "''") + "'");
            }
            for (String q : List.of("RESET log_statement", "RESET log_min_duration_statement", "RESET log_min_error_statement")) {
                try {
                    st.execute(q);
                } catch (SQLException e) {
                    // as above
                }
            }
            try (ResultSet rs = st.executeQuery("SELECT pg_catalog.pg_reload_conf()")) {
                rs.next();
            }
        } catch (SQLException e) {
            throw new ReplicationException(ErrorCode.DB_QUERY, "unable to set synchronous_standby_names", e.getMessage(),
                    "the connection's user must be a superuser to use ALTER SYSTEM", e);
        }
    }

    /**
     * Waits until this session sees the new value and every WAL sender of a named, connected
     * standby reports the expected state (sync/quorum, priority above 0), and no other one
     * is waited for.
     */
    static boolean waitApplied(Connection c, SyncTarget.Target t, Map<Integer, String> names, Duration budget) {
        long deadline = System.nanoTime() + budget.toNanos();
        Set<String> members = t.members().stream().map(names::get).collect(Collectors.toSet());
        String expect = t.kind() == SynchronousRecord.Kind.QUORUM ? "quorum" : "sync";
        while (true) {
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT current_setting('synchronous_standby_names') = '"
                         + t.standbyNames().replace("'", "''") + "'")) {
                rs.next();
                if (rs.getBoolean(1)) {
                    boolean ok = true;
                    try (ResultSet r2 = st.executeQuery("SELECT application_name, sync_state, sync_priority, state"
                            + " FROM pg_catalog.pg_stat_replication")) {
                        while (r2.next()) {
                            String app = r2.getString(1);
                            boolean member = members.contains(app);
                            boolean streaming = "streaming".equals(r2.getString(4));
                            if (member && streaming && (!expect.equals(r2.getString(2)) || r2.getInt(3) <= 0)) {
                                ok = false;
                            }
                            if (!member && r2.getInt(3) > 0) {
                                ok = false;
                            }
                        }
                    }
                    if (ok) {
                        return true;
                    }
                }
            } catch (SQLException e) {
                throw fail("unable to read pg_stat_replication", e);
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            sleep(20);
        }
    }

    /**
     * Waits until at least {@code need} of {@code ids} have flushed {@code lsn}
     * ({@code connectedOnly}: counting only those connected now, all of them).
     */
    static boolean waitFlushed(Connection c, List<Integer> ids, Map<Integer, String> names, Lsn lsn, int need,
                               boolean connectedOnly, Duration budget) {
        if (ids.isEmpty()) {
            return true;
        }
        Set<String> wanted = ids.stream().map(names::get).filter(n -> n != null).collect(Collectors.toSet());
        long deadline = System.nanoTime() + budget.toNanos();
        while (true) {
            int confirmed = 0;
            int connected = 0;
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT application_name, flush_lsn::text FROM pg_catalog.pg_stat_replication"
                         + " WHERE state = 'streaming'")) {
                Set<String> seen = new java.util.HashSet<>();
                while (rs.next()) {
                    String app = rs.getString(1);
                    if (!wanted.contains(app) || !seen.add(app)) {
                        continue;
                    }
                    connected++;
                    String f = rs.getString(2);
                    if (f != null && Lsn.parse(f).compareTo(lsn) >= 0) {
                        confirmed++;
                    }
                }
            } catch (SQLException e) {
                throw fail("unable to read pg_stat_replication", e);
            }
            if (connectedOnly ? confirmed >= connected : confirmed >= need) {
                return true;
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            sleep(20);
        }
    }

    static Lsn currentLsn(Connection c) {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_catalog.pg_current_wal_lsn()::text")) {
            rs.next();
            return Lsn.parse(rs.getString(1));
        } catch (SQLException e) {
            throw fail("unable to read the primary's WAL position", e);
        }
    }

    static String describe(List<Integer> ids, Map<Integer, String> names) {
        return ids.stream().map(i -> names.getOrDefault(i, "node " + i)).collect(Collectors.joining(", ", "(", ")"));
    }

    private static ReplicationException fail(String action, SQLException e) {
        return new ReplicationException(ErrorCode.DB_QUERY, action, e.getMessage(), null, e);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ReplicationException(ErrorCode.INTERNAL, "interrupted while applying synchronous replication");
        }
    }
}

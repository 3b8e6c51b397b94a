package io.repmgr4j.core.host;

import io.repmgr4j.Lsn;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What {@code pg_controldata} says about a data directory: cluster state, system
 * identifier, checkpoint and minimum-recovery locations. Read while the server is
 * stopped, it tells whether the server shut down cleanly and where its WAL ends.
 * Immutable; thread-safe.
 */
public record ControlData(Map<String, String> fields) {

    public ControlData {
        fields = Map.copyOf(fields);
    }

    /** Parses pg_controldata's output (run with LC_ALL=C). */
    public static ControlData parse(String output) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : output.split("\n")) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                m.put(line.substring(0, colon).strip(), line.substring(colon + 1).strip());
            }
        }
        return new ControlData(m);
    }

    public Optional<String> field(String name) {
        return Optional.ofNullable(fields.get(name));
    }

    /** {@code Database cluster state}: "in production", "shut down", "shut down in recovery", "in archive recovery", ... */
    public String clusterState() {
        return field("Database cluster state").orElse("unknown");
    }

    /** True when the server stopped cleanly (as a primary or as a standby). */
    public boolean shutDownCleanly() {
        String s = clusterState();
        return s.equals("shut down") || s.equals("shut down in recovery");
    }

    public long systemIdentifier() {
        return Long.parseUnsignedLong(field("Database system identifier").orElseThrow());
    }

    /** {@code Latest checkpoint's TimeLineID}. */
    public int checkpointTimeline() {
        return Integer.parseInt(field("Latest checkpoint's TimeLineID").orElseThrow());
    }

    /** {@code Latest checkpoint location}. */
    public Lsn checkpointLocation() {
        return Lsn.parse(field("Latest checkpoint location").orElseThrow());
    }

    /** {@code Latest checkpoint's REDO location}. */
    public Lsn redoLocation() {
        return Lsn.parse(field("Latest checkpoint's REDO location").orElseThrow());
    }

    /** {@code Minimum recovery ending location}; 0/0 when none is set. */
    public Lsn minRecoveryEndLocation() {
        return Lsn.parse(field("Minimum recovery ending location").orElse("0/0"));
    }

    /** {@code Min recovery ending loc's timeline}. */
    public int minRecoveryEndTimeline() {
        return Integer.parseInt(field("Min recovery ending loc's timeline").orElse("0"));
    }

    public boolean dataChecksumsEnabled() {
        return !field("Data page checksum version").orElse("0").equals("0");
    }

    public boolean walLogHints() {
        return field("wal_log_hints setting").orElse("off").equals("on");
    }

    /** PostgreSQL's major version from {@code pg_control version number} is not kept; use the server for that. */
    @Override
    public String toString() {
        return "ControlData[state=" + clusterState() + "]";
    }
}

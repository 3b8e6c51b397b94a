package io.repmgr4j.core.host;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.NodeConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A standby's recovery settings for PostgreSQL 12 and later: {@code standby.signal} plus
 * {@code primary_conninfo} (application_name = the node's name, the replication user),
 * {@code primary_slot_name} when slots are used, and
 * {@code recovery_target_timeline = 'latest'}, kept in {@code postgresql.auto.conf}.
 * Written through the node's {@link NodeHost} while the server is stopped. Immutable;
 * thread-safe.
 */
public final class RecoveryConfig {
    /** The file PostgreSQL's ALTER SYSTEM keeps; settings here override postgresql.conf. */
    public static final String AUTO_CONF = "postgresql.auto.conf";
    public static final String STANDBY_SIGNAL = "standby.signal";

    private final Map<String, String> settings;

    private RecoveryConfig(Map<String, String> settings) {
        this.settings = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(settings));
    }

    /**
     * The settings that make {@code node} stream from {@code upstream}: the upstream's
     * connection string with the node's replication user and name as application_name,
     * without dbname (a physical replication connection has no database).
     */
    public static RecoveryConfig streamingFrom(NodeConfig node, ConnInfo upstream, Optional<String> slotName) {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("primary_conninfo", primaryConninfo(node, upstream).render());
        s.put("recovery_target_timeline", "latest");
        s.put("primary_slot_name", slotName.orElse(""));
        return new RecoveryConfig(s);
    }

    /** The primary_conninfo a node uses to stream from an upstream. */
    public static ConnInfo primaryConninfo(NodeConfig node, ConnInfo upstream) {
        return primaryConninfo(node.nodeName(), node.effectiveReplicationUser(), upstream);
    }

    /**
     * The primary_conninfo of a node known only by its name and replication user (its
     * metadata record, say) streaming from an upstream.
     */
    public static ConnInfo primaryConninfo(String nodeName, String replicationUser, ConnInfo upstream) {
        return upstream.without("dbname")
                .without("target_session_attrs")
                .with("user", replicationUser)
                .with("application_name", nodeName);
    }

    /** The settings, name to value (primary_conninfo may hold a password: never log them). */
    public Map<String, String> settings() {
        return settings;
    }

    /** primary_conninfo as it will be written. */
    public ConnInfo primaryConninfo() {
        return ConnInfo.parse(settings.get("primary_conninfo"));
    }

    /**
     * Writes the settings into the data directory's postgresql.auto.conf (replacing any
     * earlier value of the same settings, keeping every other line) and creates
     * standby.signal. The server must be stopped.
     */
    public void writeTo(NodeHost host, String dataDirectory) {
        String path = dataDirectory + "/" + AUTO_CONF;
        String current = host.exists(path) ? host.readFile(path) : "";
        host.writeFile(path, merge(current), 0600);
        host.writeFile(dataDirectory + "/" + STANDBY_SIGNAL, "", 0600);
    }

    /** postgresql.auto.conf's text with these settings replacing earlier lines for them. */
    String merge(String current) {
        List<String> kept = new ArrayList<>();
        for (String line : current.split("\n", -1)) {
            String key = line.strip().split("[\\s=]", 2)[0].toLowerCase(Locale.ROOT);
            if (!settings.containsKey(key)) {
                kept.add(line);
            }
        }
        while (!kept.isEmpty() && kept.get(kept.size() - 1).isBlank()) {
            kept.remove(kept.size() - 1);
        }
        StringBuilder sb = new StringBuilder();
        for (String line : kept) {
            sb.append(line).append('\n');
        }
        settings.forEach((k, v) -> sb.append(k).append(" = ").append(quote(v)).append('\n'));
        return sb.toString();
    }

    /** A value as postgresql.conf quotes it: in single quotes, with ' doubled and \ escaped. */
    public static String quote(String value) {
        return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RecoveryConfig r && r.settings.equals(settings);
    }

    @Override
    public int hashCode() {
        return Objects.hash(settings);
    }

    /** The settings with primary_conninfo's password masked. */
    @Override
    public String toString() {
        Map<String, String> shown = new LinkedHashMap<>(settings);
        shown.computeIfPresent("primary_conninfo", (k, v) -> ConnInfo.parse(v).masked());
        return "RecoveryConfig" + shown;
    }
}

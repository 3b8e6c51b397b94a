package io.repmgr4j.core.host;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

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

    private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(30);

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

    /**
     * A copy that also writes another server setting into the same postgresql.auto.conf
     * (a clone's own {@code port}, say), replacing the value copied from the upstream.
     */
    public RecoveryConfig with(String setting, String value) {
        Objects.requireNonNull(value, "value");
        if (setting == null || !setting.matches("[A-Za-z_][A-Za-z0-9_.]*")) {
            throw new IllegalArgumentException("not a setting name: " + setting);
        }
        Map<String, String> s = new LinkedHashMap<>(settings);
        s.put(setting.toLowerCase(Locale.ROOT), value);
        return new RecoveryConfig(s);
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
     * Shell text (for {@code sh -c}) that writes settings into {@code "$d/postgresql.auto.conf"}
     * and creates {@code "$d/standby.signal"}: the file's lines that set a setting matched
     * by the extended regular expression in {@code $p} (case-insensitive) are dropped, the
     * lines read from standard input are appended, and the result replaces the file through
     * a temporary file (mode 0600), so that no reader sees half a file. Exits non-zero on
     * failure, leaving no temporary file. The settings travel on standard input because
     * primary_conninfo may hold a password, which must not appear in any process's
     * arguments. {@link #writeTo} runs it; a clone runs it right after pg_basebackup, in the
     * same command.
     */
    public static final String WRITE_SH = "f=\"$d/postgresql.auto.conf\"; t=\"$f.repmgr4j-tmp\"\n"
            + "umask 077\n"
            + "if [ -e \"$f\" ]; then\n"
            + "  grep -i -v -E -e \"$p\" -- \"$f\" > \"$t\"\n"
            + "  [ $? -le 1 ] || { rm -f -- \"$t\"; exit 1; }\n"
            + "else\n"
            + "  : > \"$t\" || exit 1\n"
            + "fi\n"
            // the settings are appended by the shell itself (one process less than cat)
            + "{ while IFS= read -r l || [ -n \"$l\" ]; do printf '%s\\n' \"$l\"; done >> \"$t\" && mv -f -- \"$t\" \"$f\""
            + " && : > \"$d/standby.signal\"; } || { rm -f -- \"$t\"; exit 1; }\n";

    /**
     * Writes the settings into the data directory's postgresql.auto.conf (replacing any
     * earlier value of the same settings, keeping every other line) and creates
     * standby.signal, in one command on the node's host. The server must be stopped.
     */
    public void writeTo(NodeHost host, String dataDirectory) {
        CommandResult r = host.runner().run(Command.of("sh", "-c", "d=$1; p=$2\n" + WRITE_SH, "sh", dataDirectory,
                replacedSettingsPattern()).withStdin(settingsText()).withTimeout(WRITE_TIMEOUT));
        if (!r.succeeded()) {
            throw new ReplicationException(ErrorCode.LOCAL_COMMAND, "writing the recovery configuration into \""
                    + dataDirectory + "\" failed on " + host.runner().describe(),
                    r.timedOut() ? "no answer within " + WRITE_TIMEOUT.toSeconds() + " s" : r.lastErrorLine(),
                    "check that the data directory exists and the OS user may write into it");
        }
    }

    /**
     * The extended regular expression ({@code grep -i -E}) that matches the lines of
     * postgresql.auto.conf setting any of these settings; for {@link #WRITE_SH}'s {@code $p}.
     */
    public String replacedSettingsPattern() {
        String names = settings.keySet().stream().map(k -> k.replace(".", "\\.")).collect(Collectors.joining("|"));
        return "^[[:space:]]*(" + names + ")([[:space:]=]|$)";
    }

    /**
     * The settings as postgresql.auto.conf lines ({@code name = 'value'}), for
     * {@link #WRITE_SH}'s standard input. May hold a password: never log it.
     */
    public String settingsText() {
        StringBuilder sb = new StringBuilder();
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

    /**
     * The settings as a person reads them in a report, password masked:
     * {@code standby.signal, primary_conninfo = 'host=... user=repmgr application_name=pg2',
     * recovery_target_timeline = 'latest', no replication slot}.
     */
    public String describe() {
        StringBuilder sb = new StringBuilder(STANDBY_SIGNAL);
        settings.forEach((k, v) -> {
            if (k.equals("primary_slot_name") && v.isEmpty()) {
                sb.append(", no replication slot");
                return;
            }
            String shown = k.equals("primary_conninfo") ? ConnInfo.parse(v).masked() : v;
            sb.append(", ").append(k).append(" = ").append(quote(shown));
        });
        return sb.toString();
    }

    /** The settings with primary_conninfo's password masked. */
    @Override
    public String toString() {
        Map<String, String> shown = new LinkedHashMap<>(settings);
        shown.computeIfPresent("primary_conninfo", (k, v) -> ConnInfo.parse(v).masked());
        return "RecoveryConfig" + shown;
    }
}

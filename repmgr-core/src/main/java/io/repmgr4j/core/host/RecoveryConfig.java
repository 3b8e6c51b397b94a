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
    /** Suffix of a recovery signal file set aside while a rejoin's crash recovery runs (single-user mode). */
    public static final String SET_ASIDE_SUFFIX = ".repmgr4j-aside";

    private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(30);

    /**
     * The password file the library writes into a standby's data directory (mode 0600) when
     * its upstream's conninfo carries a password: primary_conninfo then names it with
     * {@code passfile=} instead of holding the password, so the server never logs the
     * password ("parameter "primary_conninfo" changed to ..." on a reload) and
     * {@code SHOW primary_conninfo} never shows it. pg_basebackup and pg_rewind copy it along
     * with the directory, which is right: every node of a cluster has the same roles.
     */
    public static final String PASSFILE = "repmgr4j.pgpass";
    /** How {@link #WRITE_SH} tells the password file's line from the settings on its standard input. */
    static final String PASSFILE_MARK = "repmgr4j-passfile:";

    private final Map<String, String> settings;
    private final Optional<String> passfileLine;

    private RecoveryConfig(Map<String, String> settings) {
        this(settings, Optional.empty());
    }

    private RecoveryConfig(Map<String, String> settings, Optional<String> passfileLine) {
        this.settings = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(settings));
        this.passfileLine = passfileLine;
    }

    /**
     * The settings that make {@code node} stream from {@code upstream}: the upstream's
     * connection string with the node's replication user and name as application_name,
     * without dbname (a physical replication connection has no database).
     */
    public static RecoveryConfig streamingFrom(NodeConfig node, ConnInfo upstream, Optional<String> slotName) {
        Map<String, String> s = new LinkedHashMap<>();
        ConnInfo primary = primaryConninfo(node, upstream);
        Optional<String> line = Optional.empty();
        if (primary.password().isPresent()) {
            line = Optional.of(passfileLine(primary));
            primary = withPassfile(primary, node.dataDirectory());
        }
        s.put("primary_conninfo", primary.render());
        s.put("recovery_target_timeline", "latest");
        s.put("primary_slot_name", slotName.orElse(""));
        return new RecoveryConfig(s, line);
    }

    /**
     * The line of a libpq password file that gives {@code conninfo}'s user its password on
     * any host, port and database ({@code *:*:*:user:password}, {@code :} and {@code \}
     * escaped): a cluster's nodes share their roles, so one line serves every upstream.
     */
    public static String passfileLine(ConnInfo conninfo) {
        return "*:*:*:" + passfileEscape(conninfo.user().orElse("*")) + ":" + passfileEscape(conninfo.password().orElseThrow());
    }

    private static String passfileEscape(String v) {
        return v.replace("\\", "\\\\").replace(":", "\\:");
    }

    /** {@code conninfo} without its password, naming the data directory's {@link #PASSFILE} instead. */
    public static ConnInfo withPassfile(ConnInfo conninfo, String dataDirectory) {
        String dir = dataDirectory.endsWith("/") ? dataDirectory : dataDirectory + "/";
        return conninfo.without("password").with("passfile", dir + PASSFILE);
    }

    /** The password file's line this configuration writes with its settings, if any (secret: never log it). */
    public Optional<String> passfileLine() {
        return passfileLine;
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
        return new RecoveryConfig(s, passfileLine);
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
            // a line marked as the password file's goes into $d/repmgr4j.pgpass (0600 by the umask)
            + "pf=0\n"
            + "{ while IFS= read -r l || [ -n \"$l\" ]; do case $l in\n"
            + "  " + PASSFILE_MARK + "*) printf '%s\\n' \"${l#" + PASSFILE_MARK + "}\" > \"$d/" + PASSFILE + "\" || pf=1 ;;\n"
            + "  *) printf '%s\\n' \"$l\" ;;\n"
            + "esac; done >> \"$t\" && [ $pf = 0 ] && mv -f -- \"$t\" \"$f\""
            + " && : > \"$d/standby.signal\"; } || { rm -f -- \"$t\"; exit 1; }\n";

    /**
     * Writes the settings into the data directory's postgresql.auto.conf (replacing any
     * earlier value of the same settings, keeping every other line) and creates
     * standby.signal, in one command on the node's host. The server must be stopped.
     */
    public void writeTo(NodeHost host, String dataDirectory) {
        CommandResult r = host.runner().run(Command.of("sh", "-c", "d=$1; p=$2\n" + WRITE_SH, "sh", dataDirectory,
                replacedSettingsPattern()).withStdin(stdinText()).withTimeout(WRITE_TIMEOUT));
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

    /**
     * What {@link #WRITE_SH} reads on standard input: the password file's line, marked, when
     * there is one, then {@link #settingsText()}. Secret: never log it.
     */
    public String stdinText() {
        return passfileLine.map(l -> PASSFILE_MARK + l + "\n").orElse("") + settingsText();
    }

    /** A value as postgresql.conf quotes it: in single quotes, with ' doubled and \ escaped. */
    public static String quote(String value) {
        return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RecoveryConfig r && r.settings.equals(settings) && r.passfileLine.equals(passfileLine);
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

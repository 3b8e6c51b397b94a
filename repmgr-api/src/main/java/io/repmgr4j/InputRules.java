package io.repmgr4j;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The one place where the library decides whether a value it was given can be used, before
 * anything runs: node names, paths, connection strings, server settings and pg_basebackup
 * options, whether they come from {@link NodeConfig}'s builder, a repmgr.conf or an
 * operation's builder. Every refusal is a {@link ReplicationException} with
 * {@link ErrorCode#BAD_CONFIG} whose message names the key ({@code for "node_name"}) and
 * shows the value shortened to at most {@value #SHOWN_CHARS} characters with its control
 * characters made visible, and never a password.
 *
 * <p>The rules, and why:
 * <ul>
 *   <li>No control characters (U+0000..U+001F, U+007F) in names, paths, connection
 *       strings or settings: a newline breaks {@code postgresql.auto.conf} and
 *       {@code postmaster.pid} (pg_ctl can then not tell whether the server runs); shell
 *       commands may hold tabs and newlines, which a shell reads as separators.</li>
 *   <li>{@code node_name} and {@code application_name} at most {@value #NAME_BYTES} bytes in
 *       UTF-8: PostgreSQL cuts {@code application_name} at NAMEDATALEN-1 bytes, so a longer
 *       name would never match in {@code pg_stat_replication}.</li>
 *   <li>{@code data_directory} and {@code pg_bindir} absolute. {@code pg_bindir} also
 *       without {@code " $ ` \}: pg_ctl and pg_rewind put their own path between double
 *       quotes in a shell line (to start postgres, to ask its version), where those are live.
 *       The data directory may hold them: the library never lets a shell see it (pg_ctl gets
 *       it in {@code PGDATA}, scripts get it as {@code "$1"}).</li>
 *   <li>Connection strings use only libpq's own keywords (PostgreSQL 15's list, as libpq
 *       refuses others with "invalid connection option"), and no empty host.</li>
 *   <li>pg_basebackup options the library sets itself ({@link #RESERVED_BASEBACKUP_OPTIONS})
 *       are refused: where the copy goes and comes from, as whom, WAL streaming, the slot, the
 *       recovery configuration, the format and the progress it parses.</li>
 * </ul>
 * Stateless; thread-safe.
 */
public final class InputRules {
    /** PostgreSQL's NAMEDATALEN - 1: the most bytes an identifier or application_name keeps. */
    public static final int NAME_BYTES = 63;
    /** The most characters of a refused value a message shows. */
    public static final int SHOWN_CHARS = 80;

    /** libpq's connection keywords in PostgreSQL 15 ({@code PQconndefaults}). */
    public static final Set<String> LIBPQ_KEYWORDS = Set.of("service", "user", "password", "passfile",
            "channel_binding", "connect_timeout", "dbname", "host", "hostaddr", "port", "client_encoding", "options",
            "application_name", "fallback_application_name", "keepalives", "keepalives_idle", "keepalives_interval",
            "keepalives_count", "tcp_user_timeout", "sslmode", "sslcompression", "sslcert", "sslkey", "sslpassword",
            "sslrootcert", "sslcrl", "sslcrldir", "sslsni", "requirepeer", "ssl_min_protocol_version",
            "ssl_max_protocol_version", "gssencmode", "krbsrvname", "gsslib", "target_session_attrs", "replication");

    /**
     * pg_basebackup options the library owns, short and long, with what it uses instead.
     */
    public static final Map<String, String> RESERVED_BASEBACKUP_OPTIONS = Map.ofEntries(
            Map.entry("-D", "the copy goes into the node's data_directory"),
            Map.entry("--pgdata", "the copy goes into the node's data_directory"),
            Map.entry("-h", "the upstream's host comes from its conninfo"),
            Map.entry("--host", "the upstream's host comes from its conninfo"),
            Map.entry("-p", "the upstream's port comes from its conninfo"),
            Map.entry("--port", "the upstream's port comes from its conninfo"),
            Map.entry("-U", "the user is the node's replication_user"),
            Map.entry("--username", "the user is the node's replication_user"),
            Map.entry("-d", "the connection comes from the upstream's conninfo"),
            Map.entry("--dbname", "the connection comes from the upstream's conninfo"),
            Map.entry("-w", "the library never lets pg_basebackup prompt"),
            Map.entry("--no-password", "the library never lets pg_basebackup prompt"),
            Map.entry("-W", "a prompt would wait until the copy's timeout"),
            Map.entry("--password", "a prompt would wait until the copy's timeout"),
            Map.entry("-X", "the library streams WAL (-X stream) and checks two WAL senders for it"),
            Map.entry("--wal-method", "the library streams WAL (-X stream) and checks two WAL senders for it"),
            Map.entry("-S", "the slot is the node's own (use_replication_slots)"),
            Map.entry("--slot", "the slot is the node's own (use_replication_slots)"),
            Map.entry("-C", "the library creates the node's slot itself"),
            Map.entry("--create-slot", "the library creates the node's slot itself"),
            Map.entry("--no-slot", "the slot is the node's own (use_replication_slots)"),
            Map.entry("-R", "the library writes the recovery configuration itself"),
            Map.entry("--write-recovery-conf", "the library writes the recovery configuration itself"),
            Map.entry("-F", "the copy must be a plain data directory"),
            Map.entry("--format", "the copy must be a plain data directory"),
            Map.entry("-t", "the copy must be made on the node's host"),
            Map.entry("--target", "the copy must be made on the node's host"),
            Map.entry("-P", "the library asks for the progress it reports"),
            Map.entry("--progress", "the library asks for the progress it reports"),
            Map.entry("-V", "pg_basebackup would print its version and copy nothing"),
            Map.entry("--version", "pg_basebackup would print its version and copy nothing"),
            Map.entry("-?", "pg_basebackup would print its help and copy nothing"),
            Map.entry("--help", "pg_basebackup would print its help and copy nothing"));

    /** pg_basebackup 15's short options that take an argument. */
    private static final String SHORT_WITH_ARGUMENT = "DFrTXZchlpsStUd";
    /** pg_basebackup 15's long options that take an argument (the reserved ones included). */
    private static final Set<String> LONG_WITH_ARGUMENT = Set.of("pgdata", "format", "max-rate", "tablespace-mapping",
            "waldir", "wal-method", "compress", "checkpoint", "label", "host", "port", "status-interval", "slot",
            "target", "username", "dbname", "manifest-checksums");
    /** pg_basebackup 15's long options without an argument. */
    private static final Set<String> LONG_WITHOUT_ARGUMENT = Set.of("create-slot", "no-slot", "write-recovery-conf",
            "gzip", "progress", "verbose", "no-password", "password", "no-clean", "no-sync", "no-estimate-size",
            "no-manifest", "manifest-force-encode", "no-verify-checksums", "version", "help");

    private InputRules() {
    }

    // ------------------------------------------------------------------ node configuration

    /** Every rule that applies to a whole node configuration (called by {@link NodeConfig}'s check). */
    public static void checkNodeConfig(NodeConfig c) {
        name("node_name", c.nodeName());
        path("data_directory", c.dataDirectory());
        c.pgBindir().ifPresent(d -> bindir("pg_bindir", d));
        conninfo("conninfo", c.conninfo());
        noControl("location", c.location());
        c.replicationUser().ifPresent(u -> name("replication_user", u));
        c.promoteCommand().ifPresent(v -> command("promote_command", v));
        c.followCommand().ifPresent(v -> command("follow_command", v));
        c.serviceStartCommand().ifPresent(v -> command("service_start_command", v));
        c.serviceStopCommand().ifPresent(v -> command("service_stop_command", v));
        c.serviceRestartCommand().ifPresent(v -> command("service_restart_command", v));
        c.serviceReloadCommand().ifPresent(v -> command("service_reload_command", v));
        c.eventNotificationCommand().ifPresent(v -> command("event_notification_command", v));
        c.sshOptions().ifPresent(v -> noControl("ssh_options", v));
        c.logFile().ifPresent(v -> noControl("log_file", v));
        for (String e : c.eventNotifications()) {
            noControl("event_notifications", e);
        }
        noControl("config_file", c.configFile());
    }

    /**
     * A name PostgreSQL keeps as an identifier or {@code application_name}: not empty, no
     * control characters, at most {@value #NAME_BYTES} bytes in UTF-8.
     */
    public static void name(String key, String value) {
        if (value.isBlank()) {
            throw invalid(key, value, key + " must not be empty", null);
        }
        noControl(key, value);
        int bytes = value.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > NAME_BYTES) {
            throw invalid(key, value, key + " is " + bytes + " bytes long in UTF-8 (" + value.length()
                    + " characters); PostgreSQL keeps at most " + NAME_BYTES + " bytes of a name (NAMEDATALEN - 1)"
                    + " and cuts the rest", "choose a name of at most " + NAME_BYTES + " bytes: " + NAME_BYTES
                    + " ASCII characters, or fewer when it holds accented or non-Latin letters");
        }
    }

    /** An absolute path without control characters. */
    public static void path(String key, String value) {
        if (value.isBlank()) {
            throw invalid(key, value, key + " must not be empty", null);
        }
        noControl(key, value);
        if (!value.startsWith("/")) {
            throw invalid(key, value, key + " is a relative path: it would be taken relative to whatever directory"
                    + " the command happens to run in, which differs between the library, pg_ctl and postgres",
                    "give the absolute path, starting with /");
        }
    }

    /** {@link #path} without the characters a double-quoted shell word gives a meaning ({@code " $ ` \}). */
    public static void bindir(String key, String value) {
        path(key, value);
        for (char ch : new char[] {'"', '$', '`', '\\'}) {
            if (value.indexOf(ch) >= 0) {
                throw invalid(key, value, key + " contains '" + ch + "': pg_ctl and pg_rewind run the programs in it"
                        + " through a shell line that puts their path between double quotes, where " + ch
                        + " is not taken literally", "install or link the PostgreSQL programs into a directory whose"
                        + " path has no \", $, ` or \\");
            }
        }
    }

    /**
     * A shell command from the configuration: no control characters but tab, newline and
     * carriage return (a shell reads those as separators; the command reaches {@code sh -c}
     * as one argument, locally or single-quoted over SSH).
     */
    public static void command(String key, String value) {
        int bad = controlAt(value, true);
        if (bad >= 0) {
            throw control(key, value, bad);
        }
    }

    /** No control character anywhere in the value. */
    public static void noControl(String key, String value) {
        int bad = controlAt(value, false);
        if (bad >= 0) {
            throw control(key, value, bad);
        }
    }

    // ------------------------------------------------------------------ connection strings

    /**
     * A connection string the library hands to libpq (primary_conninfo, pg_basebackup,
     * pg_rewind) or to pgjdbc: libpq's keywords only, no control characters, no empty
     * host, an {@code application_name} of at most {@value #NAME_BYTES} bytes.
     */
    public static void conninfo(String key, ConnInfo info) {
        for (Map.Entry<String, String> e : info.params().entrySet()) {
            String k = e.getKey();
            if (!LIBPQ_KEYWORDS.contains(k)) {
                throw new ReplicationException(ErrorCode.BAD_CONFIG, "invalid connection option \"" + shown(k)
                        + "\" in the connection string for \"" + key + "\"",
                        "libpq knows no such keyword and refuses the whole connection string; the standbys'"
                                + " primary_conninfo would not work",
                        "remove it; libpq's keywords are listed in PostgreSQL's documentation, \"Parameter Key Words\"");
            }
            int bad = controlAt(e.getValue(), false);
            if (bad >= 0) {
                String what = k.equals("password") || k.equals("sslpassword") ? "(hidden)" : visible(shorten(e.getValue()));
                throw new ReplicationException(ErrorCode.BAD_CONFIG, "invalid value " + what + " of \"" + k
                        + "\" in the connection string for \"" + key + "\"",
                        "it contains a control character (" + codePoint(e.getValue(), bad) + ") at position " + (bad + 1)
                                + "; PostgreSQL's configuration files and libpq cannot carry it",
                        "remove the control character");
            }
        }
        Optional<String> host = info.get("host");
        if (host.isPresent()) {
            for (String h : host.get().split(",", -1)) {
                if (h.isBlank()) {
                    throw new ReplicationException(ErrorCode.BAD_CONFIG, "empty host in the connection string for \""
                            + key + "\"", "host=" + ConnInfo.quote(host.get()) + " names no host"
                            + (host.get().contains(",") ? " at one of its places" : "")
                            + "; libpq would fall back to a local socket, which every other node reads differently",
                            "give each node's address (host=pg1.example.com or an IP address)");
                }
            }
        }
        if (info.get("hostaddr").filter(String::isBlank).isPresent()) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "empty hostaddr in the connection string for \""
                    + key + "\"", null, "remove hostaddr or give an IP address");
        }
        info.get("application_name").ifPresent(a -> name("application_name", a));
    }

    // ------------------------------------------------------------------ clone options

    /** A server setting written into postgresql.auto.conf: a GUC name and a value without control characters. */
    public static void serverSetting(String name, String value) {
        if (name == null || !name.matches("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?")) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "invalid server setting name "
                    + (name == null ? "null" : "\"" + visible(shorten(name)) + "\""),
                    "a setting name is letters, digits and underscores, optionally with one dot (extension.setting)",
                    "use the name as postgresql.conf spells it, for example shared_buffers");
        }
        if (value == null) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "no value for server setting \"" + name + "\"", null,
                    "give a value; '' for an empty one");
        }
        noControl(name, value);
    }

    /** Options appended to pg_basebackup's command line: none the library owns, no stray argument. */
    public static void basebackupOptions(List<String> options) {
        for (int i = 0; i < options.size(); i++) {
            String o = options.get(i);
            if (o == null) {
                throw new ReplicationException(ErrorCode.BAD_CONFIG, "a pg_basebackup option is null", null, null);
            }
            noControl("pg_basebackup option", o);
            if (o.startsWith("--")) {
                int eq = o.indexOf('=');
                String name = eq < 0 ? o.substring(2) : o.substring(2, eq);
                // getopt_long takes any unambiguous prefix of a long option: "--pgd" is --pgdata
                for (String r : RESERVED_BASEBACKUP_OPTIONS.keySet()) {
                    if (r.startsWith("--") && !name.isEmpty() && r.substring(2).startsWith(name)) {
                        throw reserved(o, r);
                    }
                }
                if (name.isEmpty()) {
                    throw notAnOption(o, "\"--\" would end pg_basebackup's options");
                }
                String full = unique(name);
                if (full == null) {
                    throw notAnOption(o, "pg_basebackup 15 has no option --" + shown(name));
                }
                if (eq < 0 && LONG_WITH_ARGUMENT.contains(full)) {
                    i++;
                    requireArgument(options, i, o);
                }
            } else if (o.startsWith("-") && o.length() > 1) {
                for (int j = 1; j < o.length(); j++) {
                    String shortOpt = "-" + o.charAt(j);
                    if (RESERVED_BASEBACKUP_OPTIONS.containsKey(shortOpt)) {
                        throw reserved(o, shortOpt);
                    }
                    if (SHORT_WITH_ARGUMENT.indexOf(o.charAt(j)) >= 0) {
                        if (j == o.length() - 1) {
                            i++;
                            requireArgument(options, i, o);
                        }
                        break;
                    }
                    if ("CPRvwWznN".indexOf(o.charAt(j)) < 0) {
                        throw notAnOption(o, "pg_basebackup 15 has no option " + shortOpt);
                    }
                }
            } else {
                throw notAnOption(o, "pg_basebackup takes no arguments besides its options; the library names the"
                        + " directory itself");
            }
        }
    }

    private static String unique(String prefix) {
        String found = null;
        for (Set<String> set : List.of(LONG_WITH_ARGUMENT, LONG_WITHOUT_ARGUMENT)) {
            for (String n : set) {
                if (n.equals(prefix)) {
                    return n;
                }
                if (n.startsWith(prefix)) {
                    if (found != null) {
                        return null;
                    }
                    found = n;
                }
            }
        }
        return found;
    }

    private static void requireArgument(List<String> options, int i, String option) {
        if (i >= options.size()) {
            throw notAnOption(option, "it needs an argument, and it is the last option");
        }
        noControl("pg_basebackup option", options.get(i));
    }

    private static ReplicationException reserved(String given, String owned) {
        return new ReplicationException(ErrorCode.BAD_CONFIG, "pg_basebackup option \"" + visible(shorten(given))
                + "\" is set by repmgr4j itself (" + owned + ")", RESERVED_BASEBACKUP_OPTIONS.get(owned),
                "remove it from basebackupOptions; the clone builder and the node's configuration have the setting");
    }

    private static ReplicationException notAnOption(String given, String why) {
        return new ReplicationException(ErrorCode.BAD_CONFIG, "invalid pg_basebackup option \"" + visible(shorten(given))
                + "\"", why, "pass options as pg_basebackup 15 spells them, each value its own element or after \"=\"");
    }

    // ------------------------------------------------------------------ messages

    /**
     * A value as a message shows it: at most {@value #SHOWN_CHARS} characters (a longer one
     * keeps its start and says how long it was).
     */
    public static String shorten(String value) {
        if (value == null || value.length() <= SHOWN_CHARS) {
            return value;
        }
        int cut = SHOWN_CHARS - 20;
        if (Character.isHighSurrogate(value.charAt(cut - 1))) {
            cut--;
        }
        return value.substring(0, cut) + "... (" + value.length() + " characters)";
    }

    /** Control characters written as {@code \n}, {@code \t}, {@code \r} or {@code \}{@code uXXXX}. */
    public static String visible(String value) {
        if (value == null) {
            return null;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < value.length(); i++) {
            char ch = value.charAt(i);
            switch (ch) {
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (ch < 0x20 || ch == 0x7f) {
                        sb.append(String.format("\\u%04X", (int) ch));
                    } else {
                        sb.append(ch);
                    }
                }
            }
        }
        return sb.toString();
    }

    /** The refusal of a value, in the form repmgr4j uses everywhere: {@code invalid value "v" for "key"}. */
    public static ReplicationException invalid(String key, String value, String detail, String hint) {
        return new ReplicationException(ErrorCode.BAD_CONFIG, "invalid value \"" + shown(value) + "\" for \"" + key + "\"",
                detail, hint);
    }

    private static String shown(String value) {
        return visible(shorten(value));
    }

    private static ReplicationException control(String key, String value, int at) {
        return invalid(key, value, key + " contains a control character (" + codePoint(value, at) + ") at position "
                + (at + 1) + "; configuration files, postmaster.pid and the programs' command lines are line-based"
                + " and cannot carry it", "remove the control character (a newline, a tab, ...) from " + key);
    }

    private static String codePoint(String value, int at) {
        char ch = value.charAt(at);
        return switch (ch) {
            case '\n' -> "a newline";
            case '\r' -> "a carriage return";
            case '\t' -> "a tab";
            case '\0' -> "a NUL";
            default -> String.format("U+%04X", (int) ch);
        };
    }

    private static int controlAt(String value, boolean commandText) {
        for (int i = 0; i < value.length(); i++) {
            char ch = value.charAt(i);
            boolean lineSpace = ch == '\t' || ch == '\n' || ch == '\r';
            if ((ch < 0x20 && !(commandText && lineSpace)) || ch == 0x7f) {
                return i;
            }
        }
        return -1;
    }
}

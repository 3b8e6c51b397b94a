package io.repmgr4j.core.config;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ConnectionCheckType;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.FailoverMode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a repmgr {@code repmgr.conf} into a {@link NodeConfig}, so that a node set up
 * for repmgr can be managed by repmgr4j with the same file.
 *
 * <h2>Format</h2>
 * One {@code key=value} per line; whitespace around {@code =} is allowed; blank lines and
 * {@code #} comments (whole lines, or after a value) are skipped. A value is either
 * unquoted (it ends at whitespace or {@code #}) or in single quotes, as repmgr and
 * postgresql.conf write them: inside quotes {@code ''} and {@code \'} are a quote,
 * {@code \\} a backslash, {@code \n \t \r \b \f} and octal {@code \ooo} the usual
 * characters, any other escaped character itself; {@code #} is literal. Keys are
 * case-sensitive, as in repmgr. An empty value ({@code key=''}) counts as not set.
 * Stricter than repmgr: the {@code =} is required, and {@code include} directives are
 * refused rather than followed.
 *
 * <h2>Keys</h2>
 * Required: {@code node_id} (integer ≥ 1), {@code node_name} (≤ 63 characters),
 * {@code conninfo} (libpq syntax), {@code data_directory}. Optional, with repmgr's
 * defaults (see {@link NodeConfig}): {@code pg_bindir}, {@code priority},
 * {@code location}, {@code use_replication_slots}, {@code replication_user},
 * {@code failover} (manual|automatic), {@code promote_command}, {@code follow_command},
 * {@code monitor_interval_secs}, {@code reconnect_attempts}, {@code reconnect_interval},
 * {@code connection_check_type} (ping|connection|query), {@code monitoring_history},
 * {@code primary_visibility_consensus}, {@code promote_check_timeout},
 * {@code shutdown_check_timeout}, {@code standby_reconnect_timeout},
 * {@code node_rejoin_timeout}, {@code service_start_command},
 * {@code service_stop_command}, {@code service_restart_command},
 * {@code service_reload_command}, {@code event_notification_command},
 * {@code event_notifications} (comma list), {@code ssh_options}, {@code log_file},
 * {@code log_level}. repmgr4j's own keys, which repmgr does not know: {@code fencing}
 * (readonly|stop|command|none), {@code fence_command}, {@code primary_isolation_timeout}
 * (seconds); {@code synchronous}, {@code synchronous_count}, {@code synchronous_strict},
 * {@code synchronous_degrade_timeout}, {@code sync_candidate}; {@code http_listen_address},
 * {@code http_port}, {@code http_user}, {@code http_password}, {@code http_keystore},
 * {@code http_keystore_password} (the daemon's health endpoints, see
 * {@link io.repmgr4j.HttpEndpoint}; on when {@code http_port} is set), {@code vip} and
 * {@code vip_interface} (see {@link io.repmgr4j.VirtualIp}); {@code consensus} (peers|etcd),
 * {@code etcd_endpoints} (comma-separated URLs), {@code etcd_prefix}, {@code etcd_cluster},
 * {@code etcd_ttl} (seconds), {@code etcd_timeout} (milliseconds), {@code etcd_user},
 * {@code etcd_password}, {@code etcd_ca_file}, {@code etcd_cert_file}, {@code etcd_key_file}
 * (see {@link io.repmgr4j.ConsensusConfig}; the etcd_* keys only with {@code consensus = etcd}). Booleans are {@code true/false},
 * {@code on/off}, {@code yes/no} or {@code 1/0}, any case. Other keys that repmgr 5.x knows are accepted and ignored
 * without a word; unknown keys are ignored with a warning, as are repeated keys (the
 * last one wins).
 *
 * <h2>Errors and warnings</h2>
 * A file that cannot be read, a syntax error, a missing required key or a value that is
 * not allowed is a {@link ReplicationException} with {@link ErrorCode#BAD_CONFIG} whose
 * message names the file and line. Warnings are logged (WARN) and returned by
 * {@link #parseWithWarnings} / {@link #readWithWarnings}. The password of the conninfo
 * never appears in a message or warning.
 *
 * <p>Stateless; thread-safe.
 */
public final class RepmgrConf {

    private static final Logger LOG = LoggerFactory.getLogger(RepmgrConf.class);

    /** The keys without which there is no node. */
    static final List<String> REQUIRED = List.of("node_id", "node_name", "conninfo", "data_directory");

    /** Keys that repmgr 5.x documents and repmgr4j does not use: accepted without a warning. */
    static final Set<String> IGNORED = Set.of(
            // general
            "config_directory", "repmgr_bindir", "replication_type", "use_primary_conninfo_password", "passfile",
            // logging
            "log_facility", "log_status_interval",
            // standby clone
            "pg_basebackup_options", "restore_command", "tablespace_mapping", "recovery_min_apply_delay",
            "archive_cleanup_command", "rsync_options",
            // promote, follow, switchover, rejoin
            "promote_check_interval", "primary_follow_timeout", "standby_follow_timeout", "standby_follow_restart",
            "wal_receive_check_timeout", "always_promote", "pg_ctl_options", "service_promote_command",
            // node check
            "archive_ready_warning", "archive_ready_critical", "replication_lag_warning", "replication_lag_critical",
            // repmgrd
            "degraded_monitoring_timeout", "async_query_timeout", "primary_notification_timeout",
            "repmgrd_standby_startup_timeout", "repmgrd_pid_file", "repmgrd_exit_on_inactive_node",
            "standby_disconnect_on_failover", "sibling_nodes_disconnect_timeout", "failover_validation_command",
            "election_rerun_interval", "child_nodes_check_interval", "child_nodes_disconnect_min_count",
            "child_nodes_connected_min_count", "child_nodes_connected_include_witness",
            "child_nodes_disconnect_timeout", "child_nodes_disconnect_command", "witness_sync_interval",
            "repmgrd_service_start_command", "repmgrd_service_stop_command",
            // barman
            "barman_host", "barman_server", "barman_config",
            // undocumented test setting of repmgr
            "promote_delay");

    /** Prefix of BDR keys (repmgr 4's BDR support): accepted without a warning. */
    private static final String IGNORED_PREFIX = "bdr_";

    /** Keys of repmgr 3.x, with what repmgr itself says about them. */
    private static final Map<String, String> DEPRECATED = Map.of(
            "cluster", "parameter \"cluster\" is deprecated and will be ignored",
            "node", "parameter \"node\" has been renamed to \"node_id\"",
            "upstream_node",
            "parameter \"upstream_node\" has been removed; use the upstream node id when cloning a standby",
            "loglevel", "parameter \"loglevel\" has been renamed to \"log_level\"",
            "logfacility", "parameter \"logfacility\" has been renamed to \"log_facility\"",
            "logfile", "parameter \"logfile\" has been renamed to \"log_file\"",
            "master_reponse_timeout",
            "parameter \"master_reponse_timeout\" has been removed; use \"async_query_timeout\" instead",
            "retry_promote_interval_secs",
            "parameter \"retry_promote_interval_secs\" has been removed; use \"primary_notification_timeout\" instead");

    private static final Set<String> INCLUDES = Set.of("include", "include_dir", "include_if_exists");

    /** repmgr's log levels. */
    private static final List<String> LOG_LEVELS =
            List.of("DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "ALERT", "CRIT", "EMERG");

    private static final Pattern KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_.-]*");
    private static final Pattern INTEGER = Pattern.compile("[+-]?[0-9]+");
    private static final Pattern NODE_CONFIG_KEY = Pattern.compile("for \"([a-z_]+)\"");
    private static final Pattern PASSWORD_KV =
            Pattern.compile("(?i)(\\b(?:ssl)?password\\s*=\\s*)('(?:[^'\\\\]|\\\\.)*'?|[^\\s']+)");
    private static final Pattern URI_PASSWORD = Pattern.compile("(://[^:/@\\s]*:)[^@\\s]*@");

    /** The keys repmgr4j uses (see the class comment). */
    static final Set<String> KNOWN = Set.of(
            "node_id", "node_name", "conninfo", "data_directory", "pg_bindir", "priority", "location",
            "use_replication_slots", "replication_user", "failover", "promote_command", "follow_command",
            "monitor_interval_secs", "reconnect_attempts", "reconnect_interval", "connection_check_type",
            "monitoring_history", "primary_visibility_consensus", "promote_check_timeout", "shutdown_check_timeout",
            "standby_reconnect_timeout", "node_rejoin_timeout", "service_start_command", "service_stop_command",
            "service_restart_command", "service_reload_command", "event_notification_command", "event_notifications",
            "ssh_options", "log_file", "log_level",
            // repmgr4j's own keys (repmgr does not know them)
            "synchronous", "synchronous_count", "synchronous_strict", "synchronous_degrade_timeout", "sync_candidate",
            "fencing", "fence_command", "primary_isolation_timeout");

    /** repmgr4j's own keys for the daemon's HTTP health endpoints (see {@link io.repmgr4j.HttpEndpoint}). */
    static final Set<String> HTTP_KEYS = Set.of("http_listen_address", "http_port", "http_user", "http_password",
            "http_keystore", "http_keystore_password", "vip", "vip_interface");

    /** repmgr4j's own keys for the consensus store ({@code consensus = etcd}, see {@link io.repmgr4j.ConsensusConfig}). */
    static final Set<String> CONSENSUS_KEYS = Set.of("consensus", "etcd_endpoints", "etcd_prefix", "etcd_cluster", "etcd_ttl",
            "etcd_timeout", "etcd_user", "etcd_password", "etcd_ca_file", "etcd_cert_file", "etcd_key_file");

    /** A parsed configuration and the warnings found while reading it. Immutable; thread-safe. */
    public record Result(NodeConfig config, List<String> warnings) {
        public Result {
            Objects.requireNonNull(config, "config");
            warnings = List.copyOf(warnings);
        }
    }

    private RepmgrConf() {
    }

    /**
     * Reads a repmgr.conf file. The result's {@link NodeConfig#configFile()} is the file's
     * absolute path (symbolic links are not resolved, as in repmgr).
     *
     * @throws ReplicationException {@link ErrorCode#BAD_CONFIG} when the file cannot be read
     *     or is not a valid repmgr.conf
     */
    public static NodeConfig read(Path file) {
        return readWithWarnings(file).config();
    }

    /** {@link #read(Path)}, also returning the warnings (unknown or repeated keys). */
    public static Result readWithWarnings(Path file) {
        Objects.requireNonNull(file, "file");
        Path abs = file.toAbsolutePath().normalize();
        String name = abs.toString();
        if (Files.isDirectory(abs)) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG,
                    "configuration file \"" + name + "\" is a directory", null,
                    "give the path of the repmgr.conf file itself");
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(abs);
        } catch (NoSuchFileException e) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG,
                    "configuration file \"" + name + "\" not found", null,
                    "check the path; a repmgr.conf holds at least node_id, node_name, conninfo and data_directory", e);
        } catch (AccessDeniedException e) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG,
                    "unable to read configuration file \"" + name + "\"", "permission denied",
                    "make the file readable by the user running repmgr4j (" + System.getProperty("user.name") + ")", e);
        } catch (IOException e) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG,
                    "unable to read configuration file \"" + name + "\"", String.valueOf(e.getMessage()),
                    "check that the file exists and is readable", e);
        }
        return parse(new String(bytes, StandardCharsets.UTF_8), name, name);
    }

    /**
     * Parses the text of a repmgr.conf. {@code sourceName} names it in messages and becomes
     * the result's {@link NodeConfig#configFile()}.
     *
     * @throws ReplicationException {@link ErrorCode#BAD_CONFIG} when it is not a valid repmgr.conf
     */
    public static NodeConfig parse(String text, String sourceName) {
        return parseWithWarnings(text, sourceName).config();
    }

    /** {@link #parse(String, String)}, also returning the warnings (unknown or repeated keys). */
    public static Result parseWithWarnings(String text, String sourceName) {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(sourceName, "sourceName");
        return parse(text, sourceName, sourceName);
    }

    // ------------------------------------------------------------------------------------

    private static Result parse(String text, String sourceName, String configFile) {
        Source src = new Source(sourceName);
        List<Item> lines = lex(text, src);
        src.learnPassword(lines);

        Map<String, Item> items = new LinkedHashMap<>();
        List<String> warnings = new ArrayList<>();
        for (Item it : lines) {
            if (INCLUDES.contains(it.key)) {
                throw src.bad("\"" + it.key + "\" in " + src.at(it.line) + " is not supported",
                        "repmgr4j reads a single repmgr.conf", "copy the included settings into " + sourceName);
            }
            if (!KNOWN.contains(it.key) && !HTTP_KEYS.contains(it.key) && !CONSENSUS_KEYS.contains(it.key)) {
                if (DEPRECATED.containsKey(it.key)) {
                    warnings.add(src.mask(DEPRECATED.get(it.key) + " (" + src.at(it.line) + ")"));
                } else if (!IGNORED.contains(it.key) && !it.key.startsWith(IGNORED_PREFIX)) {
                    warnings.add(src.mask("unknown parameter \"" + it.key + "\" in " + src.at(it.line) + "; ignored"));
                } else {
                    LOG.debug("{}: \"{}\" is not used by repmgr4j; ignored", src.at(it.line), it.key);
                }
                continue;
            }
            Item earlier = items.remove(it.key);
            if (earlier != null) {
                warnings.add(src.mask("\"" + it.key + "\" is set again in " + src.at(it.line)
                        + " (also on line " + earlier.line + "); the last value is used"));
            }
            items.put(it.key, it);
        }
        for (String w : warnings) {
            LOG.warn("{}", w); // logged before any error below, which they may help explain
        }

        // values first, in file order, so that the first bad line is the one reported
        var b = NodeConfig.builder(); // the builder's class is not public: no name for it here
        var http = io.repmgr4j.HttpEndpoint.builder();
        Set<String> httpSet = new java.util.TreeSet<>();
        var etcd = io.repmgr4j.ConsensusConfig.builder();
        Set<String> etcdSet = new java.util.TreeSet<>();
        String consensus = "peers";
        Item consensusItem = null;
        List<Item> inFileOrder = new ArrayList<>(items.values());
        inFileOrder.sort(Comparator.comparingInt(Item::line));
        for (Item it : inFileOrder) {
            switch (it.key) {
                case "node_id" -> b.nodeId(it.integer(1));
                case "node_name" -> b.nodeName(it.required());
                case "conninfo" -> b.conninfo(it.conninfo());
                case "data_directory" -> b.dataDirectory(it.required());
                case "pg_bindir" -> it.ifSet(b::pgBindir);
                case "priority" -> b.priority(it.integer(0));
                case "location" -> it.ifSet(b::location);
                case "use_replication_slots" -> b.useReplicationSlots(it.bool());
                case "replication_user" -> it.ifSet(v -> b.replicationUser(it.maxLength(v, 63)));
                case "failover" -> b.failover(it.oneOf(FailoverMode.class));
                case "promote_command" -> it.ifSet(b::promoteCommand);
                case "follow_command" -> it.ifSet(b::followCommand);
                case "monitor_interval_secs" -> b.monitorIntervalSecs(it.integer(1));
                case "reconnect_attempts" -> b.reconnectAttempts(it.integer(0));
                case "reconnect_interval" -> b.reconnectInterval(it.integer(1));
                case "connection_check_type" -> b.connectionCheckType(it.oneOf(ConnectionCheckType.class));
                case "monitoring_history" -> b.monitoringHistory(it.bool());
                case "primary_visibility_consensus" -> b.primaryVisibilityConsensus(it.bool());
                case "promote_check_timeout" -> b.promoteCheckTimeout(it.integer(1));
                case "shutdown_check_timeout" -> b.shutdownCheckTimeout(it.integer(1));
                case "standby_reconnect_timeout" -> b.standbyReconnectTimeout(it.integer(1));
                case "node_rejoin_timeout" -> b.nodeRejoinTimeout(it.integer(1));
                case "service_start_command" -> it.ifSet(b::serviceStartCommand);
                case "service_stop_command" -> it.ifSet(b::serviceStopCommand);
                case "service_restart_command" -> it.ifSet(b::serviceRestartCommand);
                case "service_reload_command" -> it.ifSet(b::serviceReloadCommand);
                case "event_notification_command" -> it.ifSet(b::eventNotificationCommand);
                case "event_notifications" -> b.eventNotifications(it.list());
                case "ssh_options" -> it.ifSet(b::sshOptions);
                case "log_file" -> it.ifSet(b::logFile);
                case "log_level" -> it.ifSet(v -> b.logLevel(it.logLevel(v)));
                case "synchronous" -> b.synchronous(it.oneOf(io.repmgr4j.SyncMode.class));
                case "synchronous_count" -> b.synchronousCount(it.integer(1));
                case "synchronous_strict" -> b.synchronousStrict(it.bool());
                case "synchronous_degrade_timeout" -> b.synchronousDegradeTimeout(it.integer(1));
                case "sync_candidate" -> b.syncCandidate(it.bool());
                case "fencing" -> b.fencing(it.oneOf(io.repmgr4j.FencingMode.class));
                case "fence_command" -> it.ifSet(b::fenceCommand);
                case "primary_isolation_timeout" -> b.primaryIsolationTimeout(it.integer(1));
                case "http_listen_address" -> it.ifSet(http::listenAddress);
                case "http_port" -> http.port(it.integer(1));
                case "http_user" -> it.ifSet(http::user);
                case "http_password" -> it.ifSet(http::password);
                case "http_keystore" -> it.ifSet(v -> http.keystore(java.nio.file.Path.of(v)));
                case "http_keystore_password" -> it.ifSet(http::keystorePassword);
                case "vip" -> it.ifSet(b::vip);
                case "vip_interface" -> it.ifSet(b::vipInterface);
                case "consensus" -> {
                    consensus = it.oneOfNames(List.of("peers", "etcd"));
                    consensusItem = it;
                }
                case "etcd_endpoints" -> it.ifSet(v -> etcd.endpoints(it.uris(v)));
                case "etcd_prefix" -> it.ifSet(etcd::prefix);
                case "etcd_cluster" -> it.ifSet(etcd::cluster);
                case "etcd_ttl" -> etcd.ttl(java.time.Duration.ofSeconds(it.integer(2)));
                case "etcd_timeout" -> etcd.timeout(java.time.Duration.ofMillis(it.integer(1)));
                case "etcd_user" -> it.ifSet(etcd::user);
                case "etcd_password" -> it.ifSet(etcd::password);
                case "etcd_ca_file" -> it.ifSet(v -> etcd.caFile(java.nio.file.Path.of(v)));
                case "etcd_cert_file" -> it.ifSet(v -> etcd.certFile(java.nio.file.Path.of(v)));
                case "etcd_key_file" -> it.ifSet(v -> etcd.keyFile(java.nio.file.Path.of(v)));
                default -> throw new IllegalStateException("no setter for known key " + it.key);
            }
            if (HTTP_KEYS.contains(it.key) && it.key.startsWith("http_")) {
                httpSet.add(it.key);
            }
            if (it.key.startsWith("etcd_")) {
                etcdSet.add(it.key);
            }
        }
        if (consensus.equals("etcd")) {
            try {
                b.consensus(etcd.build());
            } catch (ReplicationException e) {
                throw src.bad(e.getMessage() + " (consensus = etcd in " + src.at(consensusItem.line) + ")",
                        e.detail().orElse(null), e.hint().orElse(null));
            }
        } else if (!etcdSet.isEmpty()) {
            throw src.bad(String.join(", ", etcdSet) + " set, but consensus is \"peers\"", "the etcd_* keys configure"
                    + " the etcd consensus store, used with consensus = etcd", "add consensus = etcd, or remove "
                    + String.join(", ", etcdSet));
        }
        if (!httpSet.isEmpty()) {
            if (!httpSet.contains("http_port")) {
                throw src.bad("http_port is not set, but " + String.join(", ", httpSet) + " is", "the daemon's health"
                        + " endpoints are on when http_port is set", "add http_port = 8008 (a free port), or remove "
                        + String.join(", ", httpSet));
            }
            b.http(http.build());
        }

        List<String> missing = REQUIRED.stream().filter(k -> !items.containsKey(k)).collect(Collectors.toList());
        if (!missing.isEmpty()) {
            String names = missing.stream().map(k -> "\"" + k + "\"").collect(Collectors.joining(", "));
            String plural = missing.size() > 1 ? "s " : " ";
            throw src.bad("missing required parameter" + plural + names + " in " + sourceName,
                    "a repmgr.conf needs node_id, node_name, conninfo and data_directory",
                    "add " + missing.stream().map(RepmgrConf::example).collect(Collectors.joining(", ")));
        }
        b.configFile(configFile);

        NodeConfig config;
        try {
            config = b.build();
        } catch (ReplicationException e) {
            throw src.relocate(e, items);
        }
        return new Result(config, warnings);
    }

    private static String example(String key) {
        switch (key) {
            case "node_id":
                return "node_id=1";
            case "node_name":
                return "node_name='pg1'";
            case "conninfo":
                return "conninfo='host=pg1 user=repmgr dbname=repmgr'";
            default:
                return "data_directory='/var/lib/postgresql/data'";
        }
    }

    // ---- lexing -------------------------------------------------------------------------

    /** One {@code key=value} line. */
    private static final class Item {
        final String key;
        final String value;
        final int line;
        private final Source src;

        Item(String key, String value, int line, Source src) {
            this.key = key;
            this.value = value;
            this.line = line;
            this.src = src;
        }

        int line() {
            return line;
        }

        private ReplicationException invalid(String detail) {
            return src.bad("invalid value \"" + value + "\" for \"" + key + "\" in " + src.at(line), detail, null);
        }

        String required() {
            if (value.isBlank()) {
                throw invalid("\"" + key + "\" must not be empty");
            }
            return value;
        }

        void ifSet(Consumer<String> setter) {
            if (!value.isEmpty()) {
                setter.accept(value);
            }
        }

        int integer(int min) {
            String v = value.trim();
            String what = "\"" + key + "\" must be a whole number of " + min + " or more";
            if (!INTEGER.matcher(v).matches()) {
                throw invalid(what);
            }
            long n;
            try {
                n = Long.parseLong(v.startsWith("+") ? v.substring(1) : v);
            } catch (NumberFormatException e) {
                throw invalid(what);
            }
            if (n < min || n > Integer.MAX_VALUE) {
                throw invalid(what);
            }
            return (int) n;
        }

        boolean bool() {
            switch (value.trim().toLowerCase(Locale.ROOT)) {
                case "true": case "on": case "yes": case "1":
                    return true;
                case "false": case "off": case "no": case "0":
                    return false;
                default:
                    throw invalid("\"" + key + "\" is a boolean: true/false, on/off, yes/no or 1/0");
            }
        }

        <E extends Enum<E>> E oneOf(Class<E> type) {
            String v = value.trim();
            for (E e : type.getEnumConstants()) {
                if (e.name().equalsIgnoreCase(v)) {
                    return e;
                }
            }
            throw invalid("allowed values for \"" + key + "\": " + Arrays.stream(type.getEnumConstants())
                    .map(e -> e.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", ")));
        }

        String oneOfNames(List<String> names) {
            String v = value.trim().toLowerCase(Locale.ROOT);
            if (!names.contains(v)) {
                throw invalid("allowed values for \"" + key + "\": " + String.join(", ", names));
            }
            return v;
        }

        /** A comma-separated list of URLs (etcd_endpoints). */
        List<java.net.URI> uris(String v) {
            List<java.net.URI> out = new ArrayList<>();
            for (String part : v.split(",")) {
                String p = part.trim();
                if (p.isEmpty()) {
                    continue;
                }
                try {
                    out.add(new java.net.URI(p));
                } catch (java.net.URISyntaxException e) {
                    throw invalid("\"" + key + "\" lists URLs such as http://10.0.0.1:2379, comma-separated; \"" + p
                            + "\" is not one");
                }
            }
            return out;
        }

        String maxLength(String v, int max) {
            if (v.length() > max) {
                throw invalid("\"" + key + "\" is " + v.length() + " characters long; the limit is " + max);
            }
            return v;
        }

        String logLevel(String v) {
            String level = v.trim().toUpperCase(Locale.ROOT);
            if (!LOG_LEVELS.contains(level)) {
                throw invalid("allowed values for \"log_level\": " + String.join(", ", LOG_LEVELS));
            }
            return level;
        }

        Set<String> list() {
            Set<String> out = new LinkedHashSet<>();
            for (String part : value.split("[,\\s]+")) {
                if (!part.isEmpty()) {
                    out.add(part);
                }
            }
            return Collections.unmodifiableSet(out);
        }

        ConnInfo conninfo() {
            if (value.isBlank()) {
                throw src.bad("invalid value for \"conninfo\" in " + src.at(line) + ": it is empty",
                        "conninfo is a libpq connection string",
                        "for example conninfo='host=pg1 user=repmgr dbname=repmgr'");
            }
            try {
                ConnInfo c = ConnInfo.parse(value);
                c.hosts(); // ports must be numbers, one per host or one for all
                c.connectTimeoutSeconds();
                return c;
            } catch (ReplicationException e) {
                String why = e.getMessage() + e.detail().map(d -> "; " + d).orElse("");
                throw src.bad("invalid value for \"conninfo\" in " + src.at(line), why,
                        e.hint().orElse("conninfo is a libpq connection string, for example"
                                + " conninfo='host=pg1 user=repmgr dbname=repmgr'"));
            }
        }
    }

    private static boolean blank(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\f';
    }

    private static int skipBlanks(String l, int i) {
        while (i < l.length() && blank(l.charAt(i))) {
            i++;
        }
        return i;
    }

    private static List<Item> lex(String text, Source src) {
        String t = text.startsWith("\uFEFF") ? text.substring(1) : text;
        String[] lines = t.split("\n", -1);
        List<Item> out = new ArrayList<>();
        for (int ln = 1; ln <= lines.length; ln++) {
            String l = lines[ln - 1];
            int n = l.length();
            int i = skipBlanks(l, 0);
            if (i == n || l.charAt(i) == '#') {
                continue;
            }
            int keyStart = i;
            while (i < n && !blank(l.charAt(i)) && l.charAt(i) != '=' && l.charAt(i) != '#') {
                i++;
            }
            String key = l.substring(keyStart, i);
            if (key.isEmpty()) {
                throw src.bad("syntax error in " + src.at(ln) + ": \"=\" without a parameter name before it",
                        "every line of repmgr.conf is key=value, a # comment, or blank", null);
            }
            if (!KEY.matcher(key).matches()) {
                throw src.bad("syntax error in " + src.at(ln) + ": invalid parameter name",
                        "a parameter name is made of letters, digits and underscores",
                        "every line of repmgr.conf is key=value, a # comment, or blank");
            }
            i = skipBlanks(l, i);
            if (INCLUDES.contains(key)) {
                // "include 'file'" (no '=') is PostgreSQL's own spelling: refuse the directive, not its syntax
                throw src.bad("\"" + key + "\" in " + src.at(ln) + " is not supported",
                        "repmgr4j reads a single repmgr.conf", "copy the included settings into " + src.name);
            }
            if (i == n || l.charAt(i) != '=') {
                throw src.bad("syntax error in " + src.at(ln) + ": missing \"=\" after \"" + key + "\"",
                        "every line of repmgr.conf is key=value, a # comment, or blank",
                        "write it as " + key + "=value");
            }
            i = skipBlanks(l, i + 1);
            String value;
            if (i < n && l.charAt(i) == '\'') {
                StringBuilder v = new StringBuilder();
                i = unquote(l, i + 1, v);
                if (i < 0) {
                    throw src.bad("unterminated quoted value for \"" + key + "\" in " + src.at(ln),
                            "a quoted value ends with a single quote on the same line",
                            "write a quote inside a value as '' or \\'");
                }
                value = v.toString();
            } else {
                int start = i;
                while (i < n && !blank(l.charAt(i)) && l.charAt(i) != '#') {
                    i++;
                }
                value = l.substring(start, i);
                if (value.isEmpty()) {
                    throw src.bad("no value for \"" + key + "\" in " + src.at(ln), null,
                            "write " + key + "='' for an empty value, or remove the line");
                }
            }
            i = skipBlanks(l, i);
            if (i < n && l.charAt(i) != '#') {
                throw src.bad("syntax error in " + src.at(ln) + ": unexpected text after the value of \"" + key + "\"",
                        "repmgr.conf has one key=value per line",
                        "put each parameter on its own line, and quote values that contain spaces: "
                                + key + "='...'");
            }
            out.add(new Item(key, value, ln, src));
        }
        return out;
    }

    /**
     * Reads a quoted value from just after its opening quote into {@code out}; returns the
     * index after the closing quote, or -1 when the line ends first.
     */
    private static int unquote(String l, int i, StringBuilder out) {
        int n = l.length();
        while (i < n) {
            char c = l.charAt(i);
            if (c == '\\') {
                if (i + 1 >= n) {
                    return -1;
                }
                char e = l.charAt(i + 1);
                i += 2;
                switch (e) {
                    case 'b': out.append('\b'); break;
                    case 'f': out.append('\f'); break;
                    case 'n': out.append('\n'); break;
                    case 'r': out.append('\r'); break;
                    case 't': out.append('\t'); break;
                    default:
                        if (e >= '0' && e <= '7') {
                            int code = e - '0';
                            for (int k = 1; k < 3 && i < n && l.charAt(i) >= '0' && l.charAt(i) <= '7'; k++, i++) {
                                code = code * 8 + (l.charAt(i) - '0');
                            }
                            out.append((char) code);
                        } else {
                            out.append(e);
                        }
                }
            } else if (c == '\'') {
                if (i + 1 < n && l.charAt(i + 1) == '\'') {
                    out.append('\'');
                    i += 2;
                } else {
                    return i + 1;
                }
            } else {
                out.append(c);
                i++;
            }
        }
        return -1;
    }

    // ---- messages -----------------------------------------------------------------------

    /** Where messages point, and how they are cleaned of the conninfo's password. */
    private static final class Source {
        final String name;
        UnaryOperator<String> masker = RepmgrConf::redact;

        Source(String name) {
            this.name = name;
        }

        String at(int line) {
            return name + " line " + line;
        }

        /** Once the conninfo is known, its password is masked wherever it appears. */
        void learnPassword(List<Item> lines) {
            for (Item it : lines) {
                if (it.key.equals("conninfo")) {
                    try {
                        ConnInfo c = ConnInfo.parse(it.value);
                        UnaryOperator<String> previous = masker;
                        masker = s -> c.maskIn(previous.apply(s));
                    } catch (ReplicationException ignored) {
                        // reported when the value is used
                    }
                } else if ((it.key.equals("etcd_password") || it.key.equals("http_password")) && it.value.length() >= 3) {
                    String secret = it.value;
                    UnaryOperator<String> previous = masker;
                    masker = s -> previous.apply(s).replace(secret, ConnInfo.MASK);
                }
            }
        }

        String mask(String s) {
            return s == null ? null : masker.apply(s);
        }

        ReplicationException bad(String message, String detail, String hint) {
            return new ReplicationException(ErrorCode.BAD_CONFIG, mask(message), mask(detail), mask(hint));
        }

        /** NodeConfig's own validation, pointed at the file and line of the key it names. */
        ReplicationException relocate(ReplicationException e, Map<String, Item> items) {
            Matcher m = NODE_CONFIG_KEY.matcher(e.getMessage());
            Item it = m.find() ? items.get(m.group(1)) : null;
            String where = it != null ? at(it.line) : name;
            return new ReplicationException(e.code(), mask(e.getMessage() + " in " + where),
                    mask(e.detail().orElse(null)), mask(e.hint().orElse(null)), e);
        }
    }

    /** Masks anything that looks like a password in a conninfo or URI, known or not. */
    static String redact(String s) {
        if (s == null) {
            return null;
        }
        String out = PASSWORD_KV.matcher(s).replaceAll("$1" + Matcher.quoteReplacement(ConnInfo.MASK));
        return URI_PASSWORD.matcher(out).replaceAll("$1" + Matcher.quoteReplacement(ConnInfo.MASK) + "@");
    }
}

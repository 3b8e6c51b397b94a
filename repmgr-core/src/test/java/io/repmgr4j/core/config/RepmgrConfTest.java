package io.repmgr4j.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ConnectionCheckType;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.FailoverMode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class RepmgrConfTest {

    static final String FILE = "/etc/repmgr.conf";

    /** The seed's repmgr.conf for node pg50 (step 8), one parameter per line as repmgr wants it. */
    static final String SEED_PG50 = String.join("\n",
            "node_id=1",
            "node_name=pg50",
            "conninfo='host=10.67.38.50 port=1998 user=repmgr password=repmgr dbname=repmgr connect_timeout=5'",
            "data_directory='/data/postgreSQL/1998/data'",
            "pg_bindir='/opt/postgreSQL/pg12/bin'",
            "");

    /** The repmgrd settings the seed adds in step 14. */
    static final String SEED_REPMGRD = String.join("\n",
            "location='default'",
            "failover='automatic'",
            "promote_command='/opt/postgreSQL/pg12/bin/repmgr standby promote -f /opt/postgreSQL/repmgr.conf --log-to-file'",
            "follow_command='/opt/postgreSQL/pg12/bin/repmgr standby follow -f /opt/postgreSQL/repmgr.conf --log-to-file --upstream-node-id=%n'",
            "log_file='/opt/postgreSQL/repmgrd.log'",
            "monitoring_history=true",
            "monitor_interval_secs=5",
            "reconnect_attempts=6",
            "reconnect_interval=5",
            "");

    static final String SECRET = "Xy9-very-s3cret";

    static final String MINIMAL = String.join("\n",
            "node_id=2",
            "node_name=pg49",
            "conninfo='host=10.67.39.49 port=1998 user=repmgr password=" + SECRET + " dbname=repmgr'",
            "data_directory='/data/pg'",
            "");

    /** MINIMAL with its conninfo line replaced (the argument is taken literally, backslashes too). */
    static String withConninfoLine(String line) {
        return MINIMAL.replaceFirst("conninfo=.*\n", Matcher.quoteReplacement(line));
    }

    static ReplicationException badConfig(String text) {
        ReplicationException e = catchThrowableOfType(ReplicationException.class, () -> RepmgrConf.parse(text, FILE));
        assertThat(e).as("parse should fail for:\n%s", text).isNotNull();
        assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
        assertThat(e.toReport()).doesNotContain(SECRET);
        return e;
    }

    static ReplicationException badConfigAt(String text, int line) {
        ReplicationException e = badConfig(text);
        assertThat(e.getMessage()).contains(FILE + " line " + line);
        return e;
    }

    @Nested
    class Seed {

        @Test
        void primaryNodeConf() {
            NodeConfig c = RepmgrConf.parse(SEED_PG50, "/opt/postgreSQL/repmgr.conf");
            assertThat(c.nodeId()).isEqualTo(1);
            assertThat(c.nodeName()).isEqualTo("pg50");
            assertThat(c.conninfo()).isEqualTo(ConnInfo.parse(
                    "host=10.67.38.50 port=1998 user=repmgr password=repmgr dbname=repmgr connect_timeout=5"));
            assertThat(c.conninfo().hosts()).containsExactly(new ConnInfo.HostPort("10.67.38.50", 1998));
            assertThat(c.dataDirectory()).isEqualTo("/data/postgreSQL/1998/data");
            assertThat(c.pgBindir()).contains("/opt/postgreSQL/pg12/bin");
            assertThat(c.effectiveReplicationUser()).isEqualTo("repmgr");
            assertThat(c.configFile()).isEqualTo("/opt/postgreSQL/repmgr.conf");
            assertThat(RepmgrConf.parseWithWarnings(SEED_PG50, FILE).warnings()).isEmpty();
        }

        @Test
        void standbyWithRepmgrdSettingsAndPriority() {
            String text = SEED_PG50.replace("node_id=1", "node_id=3").replace("pg50", "pg149")
                    .replace("10.67.38.50", "10.67.39.149") + "priority=20\n" + SEED_REPMGRD;
            RepmgrConf.Result r = RepmgrConf.parseWithWarnings(text, FILE);
            assertThat(r.warnings()).isEmpty();
            NodeConfig c = r.config();
            assertThat(c.nodeId()).isEqualTo(3);
            assertThat(c.nodeName()).isEqualTo("pg149");
            assertThat(c.priority()).isEqualTo(20);
            assertThat(c.location()).isEqualTo("default");
            assertThat(c.failover()).isEqualTo(FailoverMode.AUTOMATIC);
            assertThat(c.promoteCommand()).contains(
                    "/opt/postgreSQL/pg12/bin/repmgr standby promote -f /opt/postgreSQL/repmgr.conf --log-to-file");
            assertThat(c.followCommand()).contains("/opt/postgreSQL/pg12/bin/repmgr standby follow"
                    + " -f /opt/postgreSQL/repmgr.conf --log-to-file --upstream-node-id=%n");
            assertThat(c.logFile()).contains("/opt/postgreSQL/repmgrd.log");
            assertThat(c.monitoringHistory()).isTrue();
            assertThat(c.monitorIntervalSecs()).isEqualTo(5);
            assertThat(c.reconnectAttempts()).isEqualTo(6);
            assertThat(c.reconnectInterval()).isEqualTo(5);
        }

        @Test
        void theBlogsFlattenedSingleLineIsASyntaxError() {
            // the blog shows the file on one line; repmgr itself refuses that too
            String oneLine = SEED_PG50.replace("\n", " ").replace("password=repmgr", "password=" + SECRET);
            ReplicationException e = badConfigAt(oneLine, 1);
            assertThat(e.getMessage()).contains("unexpected text after the value of \"node_id\"");
            assertThat(e.hint()).hasValueSatisfying(h -> assertThat(h).contains("own line"));
        }
    }

    @Nested
    class Defaults {

        @Test
        void everyOptionalKeyHasRepmgrsDefault() {
            NodeConfig c = RepmgrConf.parse(MINIMAL, FILE);
            assertThat(c.pgBindir()).isEmpty();
            assertThat(c.priority()).isEqualTo(100);
            assertThat(c.location()).isEqualTo("default");
            assertThat(c.useReplicationSlots()).isFalse();
            assertThat(c.replicationUser()).isEmpty();
            assertThat(c.effectiveReplicationUser()).isEqualTo("repmgr");
            assertThat(c.failover()).isEqualTo(FailoverMode.MANUAL);
            assertThat(c.promoteCommand()).isEmpty();
            assertThat(c.followCommand()).isEmpty();
            assertThat(c.monitorIntervalSecs()).isEqualTo(2);
            assertThat(c.reconnectAttempts()).isEqualTo(6);
            assertThat(c.reconnectInterval()).isEqualTo(10);
            assertThat(c.connectionCheckType()).isEqualTo(ConnectionCheckType.PING);
            assertThat(c.monitoringHistory()).isFalse();
            assertThat(c.primaryVisibilityConsensus()).isFalse();
            assertThat(c.promoteCheckTimeout()).isEqualTo(60);
            assertThat(c.shutdownCheckTimeout()).isEqualTo(60);
            assertThat(c.standbyReconnectTimeout()).isEqualTo(60);
            assertThat(c.nodeRejoinTimeout()).isEqualTo(60);
            assertThat(c.serviceStartCommand()).isEmpty();
            assertThat(c.serviceStopCommand()).isEmpty();
            assertThat(c.serviceRestartCommand()).isEmpty();
            assertThat(c.serviceReloadCommand()).isEmpty();
            assertThat(c.eventNotificationCommand()).isEmpty();
            assertThat(c.eventNotifications()).isEmpty();
            assertThat(c.sshOptions()).isEmpty();
            assertThat(c.logFile()).isEmpty();
            assertThat(c.logLevel()).isEqualTo("INFO");
            assertThat(c.configFile()).isEqualTo(FILE);
        }

        @Test
        void minimalConfigEqualsTheBuilderOne() {
            NodeConfig built = NodeConfig.builder()
                    .nodeId(2)
                    .nodeName("pg49")
                    .conninfo(ConnInfo.parse("host=10.67.39.49 port=1998 user=repmgr password=" + SECRET
                            + " dbname=repmgr"))
                    .dataDirectory("/data/pg")
                    .configFile(FILE)
                    .build();
            assertThat(RepmgrConf.parse(MINIMAL, FILE)).isEqualTo(built);
        }

        @Test
        void emptyQuotedValuesCountAsNotSet() {
            NodeConfig c = RepmgrConf.parse(MINIMAL + "pg_bindir=''\nlocation=''\nlog_level=''\npromote_command=''\n", FILE);
            assertThat(c.pgBindir()).isEmpty();
            assertThat(c.location()).isEqualTo("default");
            assertThat(c.logLevel()).isEqualTo("INFO");
            assertThat(c.promoteCommand()).isEmpty();
        }
    }

    @Nested
    class EveryKey {

        static final String ALL = String.join("\n",
                "# every key repmgr4j uses, none at its default",
                "node_id = 7",
                "node_name = 'node seven'",
                "conninfo = 'host=pg7,pg7b port=5433,5434 user=repmgr password=" + SECRET + " dbname=repmgr'",
                "data_directory = '/var/lib/postgresql/16/main'",
                "pg_bindir = /usr/lib/postgresql/16/bin",
                "priority = 0",
                "location = dc2",
                "use_replication_slots = yes",
                "replication_user = repl",
                "failover = automatic",
                "promote_command = 'repmgr standby promote -f /etc/repmgr.conf'",
                "follow_command = 'repmgr standby follow -f /etc/repmgr.conf --upstream-node-id=%n'",
                "monitor_interval_secs = 3",
                "reconnect_attempts = 0",
                "reconnect_interval = 4",
                "connection_check_type = query",
                "monitoring_history = on",
                "primary_visibility_consensus = 1",
                "promote_check_timeout = 61",
                "shutdown_check_timeout = 62",
                "standby_reconnect_timeout = 63",
                "node_rejoin_timeout = 64",
                "service_start_command = 'sudo systemctl start postgresql@16-main'",
                "service_stop_command = 'sudo systemctl stop postgresql@16-main'",
                "service_restart_command = 'sudo systemctl restart postgresql@16-main'",
                "service_reload_command = 'sudo systemctl reload postgresql@16-main'",
                "event_notification_command = '/usr/local/bin/notify %n %e %s \"%t\" \"%d\"'",
                "event_notifications = 'standby_promote, repmgrd_failover_promote,repmgrd_failover_follow'",
                "ssh_options = '-q -o ConnectTimeout=10'",
                "log_file = /var/log/repmgr/repmgrd.log",
                "log_level = notice",
                "fencing = command",
                "fence_command = '/usr/local/bin/fence %n'",
                "primary_isolation_timeout = 9");

        @Test
        void parsedEqualsBuiltFluently() {
            RepmgrConf.Result r = RepmgrConf.parseWithWarnings(ALL, FILE);
            assertThat(r.warnings()).isEmpty();
            NodeConfig built = NodeConfig.builder()
                    .nodeId(7)
                    .nodeName("node seven")
                    .conninfo(ConnInfo.parse("host=pg7,pg7b port=5433,5434 user=repmgr password=" + SECRET
                            + " dbname=repmgr"))
                    .dataDirectory("/var/lib/postgresql/16/main")
                    .pgBindir("/usr/lib/postgresql/16/bin")
                    .priority(0)
                    .location("dc2")
                    .useReplicationSlots(true)
                    .replicationUser("repl")
                    .failover(FailoverMode.AUTOMATIC)
                    .promoteCommand("repmgr standby promote -f /etc/repmgr.conf")
                    .followCommand("repmgr standby follow -f /etc/repmgr.conf --upstream-node-id=%n")
                    .monitorIntervalSecs(3)
                    .reconnectAttempts(0)
                    .reconnectInterval(4)
                    .connectionCheckType(ConnectionCheckType.QUERY)
                    .monitoringHistory(true)
                    .primaryVisibilityConsensus(true)
                    .promoteCheckTimeout(61)
                    .shutdownCheckTimeout(62)
                    .standbyReconnectTimeout(63)
                    .nodeRejoinTimeout(64)
                    .serviceStartCommand("sudo systemctl start postgresql@16-main")
                    .serviceStopCommand("sudo systemctl stop postgresql@16-main")
                    .serviceRestartCommand("sudo systemctl restart postgresql@16-main")
                    .serviceReloadCommand("sudo systemctl reload postgresql@16-main")
                    .eventNotificationCommand("/usr/local/bin/notify %n %e %s \"%t\" \"%d\"")
                    .addEventNotifications("standby_promote", "repmgrd_failover_promote", "repmgrd_failover_follow")
                    .sshOptions("-q -o ConnectTimeout=10")
                    .logFile("/var/log/repmgr/repmgrd.log")
                    .logLevel("NOTICE")
                    .fencing(io.repmgr4j.FencingMode.COMMAND)
                    .fenceCommand("/usr/local/bin/fence %n")
                    .primaryIsolationTimeout(9)
                    .configFile(FILE)
                    .build();
            assertThat(r.config()).isEqualTo(built);
            assertThat(r.config().effectiveReplicationUser()).isEqualTo("repl");
        }

        @Test
        void everyKnownKeyIsInTheFile() {
            Set<String> keysInAll = new java.util.HashSet<>();
            for (String line : ALL.split("\n")) {
                if (!line.startsWith("#")) {
                    keysInAll.add(line.substring(0, line.indexOf('=')).trim());
                }
            }
            assertThat(keysInAll).isEqualTo(RepmgrConf.KNOWN);
        }
    }

    @Nested
    class Syntax {

        @Test
        void commentsBlankLinesWhitespaceAndCrlf() {
            String text = "\uFEFF# repmgr.conf\r\n"
                    + "\r\n"
                    + "   node_id\t=\t2   # trailing comment\r\n"
                    + "node_name=pg49#comment right after the value\r\n"
                    + "\t# indented comment\r\n"
                    + "conninfo = 'host=h dbname=d' # comment\r\n"
                    + "data_directory='/data/#not a comment'\r\n"
                    + "priority=+5";
            NodeConfig c = RepmgrConf.parse(text, FILE);
            assertThat(c.nodeId()).isEqualTo(2);
            assertThat(c.nodeName()).isEqualTo("pg49");
            assertThat(c.conninfo()).isEqualTo(ConnInfo.parse("host=h dbname=d"));
            assertThat(c.dataDirectory()).isEqualTo("/data/#not a comment");
            assertThat(c.priority()).isEqualTo(5);
        }

        @Test
        void quotesInsideQuotedValues() {
            NodeConfig c = RepmgrConf.parse(MINIMAL
                    + "promote_command='echo ''doubled'' and \\'escaped\\' and back\\\\slash'\n"
                    + "follow_command='tab\\there\\nnewline \\101\\x'\n", FILE);
            assertThat(c.promoteCommand()).contains("echo 'doubled' and 'escaped' and back\\slash");
            assertThat(c.followCommand()).contains("tab\there\nnewline Ax");
        }

        @Test
        void conninfoWithAQuotedValueInside() {
            NodeConfig c = RepmgrConf.parse(
                    withConninfoLine("conninfo='host=h application_name=''my app'' dbname=d'\n"), FILE);
            assertThat(c.conninfo().get("application_name")).contains("my app");
        }

        @Test
        void uriConninfo() {
            NodeConfig c = RepmgrConf.parse(withConninfoLine(
                    "conninfo='postgresql://repmgr:" + SECRET + "@h1:5433,h2:5434/repmgr?connect_timeout=2'\n"), FILE);
            assertThat(c.conninfo().hosts()).hasSize(2);
            assertThat(c.conninfo().password()).contains(SECRET);
        }

        @ParameterizedTest
        @CsvSource({
            "true, true", "false, false", "on, true", "off, false", "yes, true", "no, false",
            "1, true", "0, false", "TRUE, true", "Off, false", "'''yes''', true",
        })
        void booleans(String written, boolean expected) {
            assertThat(RepmgrConf.parse(MINIMAL + "use_replication_slots=" + written, FILE).useReplicationSlots())
                    .isEqualTo(expected);
        }

        @Test
        void enumsIgnoreCase() {
            NodeConfig c = RepmgrConf.parse(MINIMAL + "failover=AUTOMATIC\nconnection_check_type=Connection\n", FILE);
            assertThat(c.failover()).isEqualTo(FailoverMode.AUTOMATIC);
            assertThat(c.connectionCheckType()).isEqualTo(ConnectionCheckType.CONNECTION);
        }

        @Test
        void eventNotificationsList() {
            NodeConfig c = RepmgrConf.parse(MINIMAL + "event_notifications=standby_promote,standby_follow,,\n", FILE);
            assertThat(c.eventNotifications()).containsExactly("standby_promote", "standby_follow");
        }

        @Test
        void lastDuplicateWinsWithAWarning() {
            RepmgrConf.Result r = RepmgrConf.parseWithWarnings(MINIMAL + "priority=10\npriority=20\n", FILE);
            assertThat(r.config().priority()).isEqualTo(20);
            assertThat(r.warnings()).singleElement().satisfies(w -> assertThat(w)
                    .contains("\"priority\"").contains(FILE + " line 6").contains("line 5"));
        }
    }

    @Nested
    class Warnings {

        @Test
        void unknownKeyIsAWarningNamingFileAndLine() {
            RepmgrConf.Result r = RepmgrConf.parseWithWarnings(MINIMAL + "\nnode_colour=blue\n", FILE);
            assertThat(r.warnings()).containsExactly("unknown parameter \"node_colour\" in " + FILE + " line 6; ignored");
        }

        @Test
        void warningsAreLogged() {
            PrintStream old = System.err;
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
            try {
                RepmgrConf.parse(MINIMAL + "node_colour=blue\n", FILE);
            } finally {
                System.setErr(old);
            }
            assertThat(buf.toString(StandardCharsets.UTF_8))
                    .contains("WARN").contains("unknown parameter \"node_colour\" in " + FILE + " line 5");
        }

        @Test
        void keysRepmgrKnowsAreIgnoredQuietly() {
            String text = MINIMAL + String.join("\n",
                    "log_facility=STDERR",
                    "log_status_interval=300",
                    "pg_basebackup_options='--wal-method=stream'",
                    "restore_command='cp /archive/%f %p'",
                    "archive_cleanup_command='pg_archivecleanup /archive %r'",
                    "rsync_options='--archive'",
                    "repmgrd_service_start_command='sudo systemctl start repmgrd'",
                    "repmgrd_service_stop_command='sudo systemctl stop repmgrd'",
                    "degraded_monitoring_timeout=-1",
                    "async_query_timeout=60",
                    "primary_notification_timeout=60",
                    "repmgrd_standby_startup_timeout=60",
                    "standby_disconnect_on_failover=false",
                    "sibling_nodes_disconnect_timeout=30",
                    "election_rerun_interval=15",
                    "child_nodes_check_interval=5",
                    "child_nodes_disconnect_min_count=-1",
                    "child_nodes_connected_min_count=-1",
                    "child_nodes_connected_include_witness=false",
                    "child_nodes_disconnect_timeout=30",
                    "child_nodes_disconnect_command='/bin/true'",
                    "witness_sync_interval=15",
                    "use_primary_conninfo_password=false",
                    "passfile='/var/lib/postgresql/.pgpass'",
                    "tablespace_mapping='/old=/new'",
                    "recovery_min_apply_delay=5min",
                    "replication_type=physical",
                    "barman_host=backup1",
                    "barman_server=pg",
                    "barman_config=/etc/barman.conf",
                    "failover_validation_command='/bin/true'",
                    "always_promote=false",
                    "standby_follow_timeout=30",
                    "standby_follow_restart=false",
                    "wal_receive_check_timeout=30",
                    "archive_ready_warning=16",
                    "archive_ready_critical=128",
                    "config_directory=/etc/postgresql/16/main",
                    "bdr_local_monitoring_only=false",
                    "bdr_recovery_timeout=30",
                    "repmgrd_pid_file=/run/repmgrd.pid",
                    "repmgrd_exit_on_inactive_node=false",
                    "shutdown_check_timeout=60",
                    "connection_check_type=ping",
                    "");
            assertThat(RepmgrConf.parseWithWarnings(text, FILE).warnings()).isEmpty();
        }

        @Test
        void renamedRepmgr3KeysSayWhatToUse() {
            RepmgrConf.Result r = RepmgrConf.parseWithWarnings(MINIMAL + "loglevel=DEBUG\ncluster=test\n", FILE);
            assertThat(r.warnings()).containsExactly(
                    "parameter \"loglevel\" has been renamed to \"log_level\" (" + FILE + " line 5)",
                    "parameter \"cluster\" is deprecated and will be ignored (" + FILE + " line 6)");
            assertThat(r.config().logLevel()).isEqualTo("INFO");
        }

        @Test
        void unknownKeyWarningNeverShowsItsValue() {
            RepmgrConf.Result r = RepmgrConf.parseWithWarnings(MINIMAL + "passwrd=" + SECRET + "\n", FILE);
            assertThat(r.warnings()).singleElement().satisfies(w -> assertThat(w).doesNotContain(SECRET));
        }
    }

    @Nested
    class Errors {

        @Test
        void missingNodeIdNamesTheFile() {
            ReplicationException e = badConfig(MINIMAL.replace("node_id=2\n", ""));
            assertThat(e.getMessage()).isEqualTo("missing required parameter \"node_id\" in " + FILE);
            assertThat(e.hint()).hasValueSatisfying(h -> assertThat(h).contains("node_id=1"));
        }

        @Test
        void severalMissingKeysAreNamedTogether() {
            ReplicationException e = badConfig("node_name=x\n");
            assertThat(e.getMessage()).isEqualTo(
                    "missing required parameters \"node_id\", \"conninfo\", \"data_directory\" in " + FILE);
        }

        @Test
        void emptyFileIsMissingEverything() {
            assertThat(badConfig("# nothing\n\n").getMessage()).startsWith("missing required parameters");
        }

        @Test
        void nodeNameOf64CharactersNamesTheLine() {
            String name = "n".repeat(64);
            ReplicationException e = badConfigAt(MINIMAL.replace("node_name=pg49", "node_name=" + name), 2);
            assertThat(e.getMessage()).contains("\"node_name\"");
            assertThat(e.detail()).hasValueSatisfying(d -> assertThat(d).contains("63"));
            assertThat(RepmgrConf.parse(MINIMAL.replace("node_name=pg49", "node_name=" + "n".repeat(63)), FILE)
                    .nodeName()).hasSize(63);
        }

        @Test
        void badIntegerNamesValueKeyFileAndLine() {
            ReplicationException e = badConfig(MINIMAL.replace("node_id=2", "node_id=abc"));
            assertThat(e.getMessage()).isEqualTo("invalid value \"abc\" for \"node_id\" in " + FILE + " line 1");
            assertThat(e.detail()).hasValueSatisfying(d -> assertThat(d).contains("whole number of 1 or more"));
        }

        @ParameterizedTest
        @ValueSource(strings = {"node_id=0", "node_id=-3", "node_id=1.5", "node_id=99999999999", "node_id=''",
            "priority=-1", "monitor_interval_secs=0", "reconnect_attempts=-1", "reconnect_interval=0",
            "promote_check_timeout=0", "shutdown_check_timeout=ten", "standby_reconnect_timeout=0",
            "node_rejoin_timeout=5s"})
        void integersOutOfRange(String line) {
            String key = line.substring(0, line.indexOf('='));
            String text = line.startsWith("node_id") ? MINIMAL.replace("node_id=2", line) : MINIMAL + line + "\n";
            int lineNo = line.startsWith("node_id") ? 1 : 5;
            assertThat(badConfigAt(text, lineNo).getMessage()).contains("\"" + key + "\"");
        }

        @Test
        void badBoolean() {
            ReplicationException e = badConfigAt(MINIMAL + "monitoring_history=maybe\n", 5);
            assertThat(e.getMessage()).contains("\"maybe\"").contains("\"monitoring_history\"");
            assertThat(e.detail()).hasValueSatisfying(d -> assertThat(d).contains("true/false"));
        }

        @Test
        void badEnums() {
            ReplicationException f = badConfigAt(MINIMAL + "failover=sometimes\n", 5);
            assertThat(f.detail()).hasValueSatisfying(d -> assertThat(d).contains("manual, automatic"));
            ReplicationException c = badConfigAt(MINIMAL + "\nconnection_check_type=tcp\n", 6);
            assertThat(c.detail()).hasValueSatisfying(d -> assertThat(d).contains("ping, connection, query"));
            ReplicationException l = badConfigAt(MINIMAL + "log_level=chatty\n", 5);
            assertThat(l.detail()).hasValueSatisfying(d -> assertThat(d).contains("NOTICE"));
        }

        @Test
        void replicationUserOver63Characters() {
            badConfigAt(MINIMAL + "replication_user=" + "r".repeat(64) + "\n", 5);
        }

        @Test
        void malformedConninfoNamesTheLineButNotThePassword() {
            for (String conninfo : List.of(
                    "conninfo='host=h password=\\'" + SECRET + " dbname=d'",
                    "conninfo='host=h port=abc password=" + SECRET + "'",
                    "conninfo='host=a,b,c port=1,2 password=" + SECRET + "'",
                    "conninfo='host=h password=" + SECRET + " connect_timeout=soon'",
                    "conninfo='host=h password=" + SECRET + " dbname'",
                    "conninfo='postgresql://u:" + SECRET + "@h:0/db'",
                    "conninfo=''")) {
                ReplicationException e = badConfigAt(withConninfoLine(conninfo + "\n"), 3);
                assertThat(e.getMessage()).as(conninfo).startsWith("invalid value for \"conninfo\"");
                assertThat(e.detail()).as(conninfo).isPresent();
            }
        }

        @Test
        void lineWithoutEquals() {
            ReplicationException e = badConfigAt(MINIMAL + "use_replication_slots\n", 5);
            assertThat(e.getMessage()).contains("missing \"=\" after \"use_replication_slots\"");
            badConfigAt("node_id 1\n", 1);
        }

        @Test
        void otherSyntaxErrors() {
            badConfigAt(MINIMAL + "=5\n", 5);
            badConfigAt(MINIMAL + "'quoted'=5\n", 5);
            assertThat(badConfigAt(MINIMAL + "priority=\n", 5).getMessage()).contains("no value for \"priority\"");
            assertThat(badConfigAt(MINIMAL + "priority= # none\n", 5).getMessage()).contains("no value");
            assertThat(badConfigAt(MINIMAL + "location='dc1\n", 5).getMessage()).contains("unterminated");
            assertThat(badConfigAt(MINIMAL + "location='dc1\\'\n", 5).getMessage()).contains("unterminated");
            assertThat(badConfigAt(MINIMAL + "location='dc1' x\n", 5).getMessage()).contains("unexpected text");
        }

        @Test
        void includeDirectivesAreRefused() {
            assertThat(badConfigAt(MINIMAL + "include='other.conf'\n", 5).getMessage()).contains("not supported");
        }

        @Test
        void theFirstBadLineIsReported() {
            badConfigAt(MINIMAL + "priority=x\nmonitoring_history=maybe\n", 5);
            badConfigAt("node_id=x\n" + MINIMAL.replace("node_id=2\n", "") + "priority=y\n", 1);
            badConfigAt("node_name=x\npriority=y\n", 2); // before the missing keys
        }
    }

    @Nested
    class Passwords {

        @Test
        void anUnquotedConninfoDoesNotLeakItsPassword() {
            ReplicationException e = badConfigAt(
                    withConninfoLine("conninfo=host=h password=" + SECRET + " dbname=d\n"), 3);
            assertThat(e.getMessage()).contains("unexpected text after the value of \"conninfo\"");
        }

        @Test
        void aValueThatHappensToBeThePasswordIsMaskedEverywhere() {
            ReplicationException e = badConfigAt(MINIMAL + "priority=" + SECRET + "\n", 5);
            assertThat(e.getMessage()).contains(ConnInfo.MASK);
            RepmgrConf.Result r = RepmgrConf.parseWithWarnings(MINIMAL + "x_" + SECRET + "=1\n", FILE);
            assertThat(r.warnings()).singleElement().satisfies(w -> assertThat(w).doesNotContain(SECRET));
        }

        @Test
        void aConninfoWrappedOverTwoLinesDoesNotLeak() {
            String text = withConninfoLine("conninfo='host=h user=u\n  password=" + SECRET + " dbname=d'\n");
            badConfigAt(text, 3);
        }

        @Test
        void redactMasksPasswordsItDoesNotKnow() {
            assertThat(RepmgrConf.redact("a password=" + SECRET + " b")).isEqualTo("a password=" + ConnInfo.MASK + " b");
            assertThat(RepmgrConf.redact("password = '" + SECRET + " x' b")).doesNotContain(SECRET);
            assertThat(RepmgrConf.redact("postgresql://u:" + SECRET + "@h/db")).doesNotContain(SECRET);
            assertThat(RepmgrConf.redact("sslpassword=" + SECRET)).doesNotContain(SECRET);
            assertThat(RepmgrConf.redact("nothing here")).isEqualTo("nothing here");
        }
    }

    @Nested
    class Files_ {

        @TempDir
        Path dir;

        @Test
        void readSetsTheAbsolutePathAsConfigFile() throws Exception {
            Path f = dir.resolve("repmgr.conf");
            Files.writeString(f, SEED_PG50 + SEED_REPMGRD);
            NodeConfig c = RepmgrConf.read(f);
            assertThat(c.configFile()).isEqualTo(f.toAbsolutePath().toString());
            assertThat(c.failover()).isEqualTo(FailoverMode.AUTOMATIC);
            assertThat(RepmgrConf.readWithWarnings(f).config()).isEqualTo(c);
        }

        @Test
        void relativePathBecomesAbsolute() throws Exception {
            Path f = dir.resolve("repmgr.conf");
            Files.writeString(f, MINIMAL);
            Path relative = Path.of("").toAbsolutePath().relativize(f);
            assertThat(relative.isAbsolute()).isFalse();
            assertThat(RepmgrConf.read(relative).configFile()).isEqualTo(f.toString());
        }

        @Test
        void errorsInAFileNameItsAbsolutePath() throws Exception {
            Path f = dir.resolve("repmgr.conf");
            Files.writeString(f, MINIMAL + "priority=high\n");
            ReplicationException e = catchThrowableOfType(ReplicationException.class, () -> RepmgrConf.read(f));
            assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
            assertThat(e.getMessage()).isEqualTo("invalid value \"high\" for \"priority\" in " + f + " line 5");
        }

        @Test
        void missingFile() {
            Path f = dir.resolve("nope.conf");
            ReplicationException e = catchThrowableOfType(ReplicationException.class, () -> RepmgrConf.read(f));
            assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
            assertThat(e.getMessage()).isEqualTo("configuration file \"" + f + "\" not found");
            assertThat(e.hint()).isPresent();
        }

        @Test
        void directory() {
            ReplicationException e = catchThrowableOfType(ReplicationException.class, () -> RepmgrConf.read(dir));
            assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
            assertThat(e.getMessage()).contains("is a directory");
        }
    }
}

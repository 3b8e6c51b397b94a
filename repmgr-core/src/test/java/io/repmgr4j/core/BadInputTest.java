package io.repmgr4j.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.ImmutableNodeConfig;
import io.repmgr4j.InputRules;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.core.config.RepmgrConf;
import io.repmgr4j.testkit.PgSandbox;
import io.repmgr4j.testkit.PgServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

/**
 * Bad input against a real cluster handle (a registered primary, a sandbox for a standby):
 * node configurations, repmgr.conf files, clone builder options, connection strings and
 * seeds. Every case asserts the clear error (BAD_CONFIG, the key or option named, a detail
 * and a hint, the value shortened, no password) and that nothing changed: the node
 * records, events and slots on the primary, the files in the sandbox and the repmgr.conf
 * directory, the processes running on the sandbox's directories, and the handle's node
 * configurations.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BadInputTest {
    static final String SECRET = "bad-input-s3cret";
    private static final String LONG = "x".repeat(5000);

    private PgServer pg1;
    private PgSandbox s2;
    private ReplicationCluster cluster;
    private ClusterContext ctx;
    private Path confDir;

    @BeforeAll
    void start() throws Exception {
        pg1 = PgServer.builder().name("pg1").password(SECRET).start();
        s2 = PgSandbox.allocate("pg2", null, SECRET);
        cluster = ReplicationClusters.builder().seed(pg1.conninfo()).build();
        cluster.registerPrimary(pg1.nodeConfig(1).build()).execute();
        var f = DefaultReplicationCluster.class.getDeclaredField("ctx");
        f.setAccessible(true);
        ctx = (ClusterContext) f.get(cluster);
        confDir = Files.createTempDirectory("bad-input-conf");
    }

    @AfterAll
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
        if (s2 != null) {
            s2.close();
        }
        if (pg1 != null) {
            pg1.close();
        }
        if (confDir != null) {
            try (Stream<Path> s = Files.walk(confDir)) {
                s.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
            }
        }
    }

    // ------------------------------------------------------------------ what "nothing changed" means

    /** Everything a refused input must leave as it was. */
    record Snapshot(String nodes, long events, long slots, long streaming, List<String> files, List<String> processes,
                    List<Optional<NodeConfig>> bindings) {
    }

    Snapshot snapshot() {
        String nodes = pg1.query("SELECT coalesce(string_agg(node_id || ':' || node_name || ':' || type || ':' || active"
                + " || ':' || conninfo, ',' ORDER BY node_id), '') FROM repmgr.nodes", String.class);
        long events = pg1.query("SELECT count(*) FROM repmgr.events", Long.class);
        long slots = pg1.query("SELECT count(*) FROM pg_replication_slots", Long.class);
        long streaming = pg1.query("SELECT count(*) FROM pg_stat_replication", Long.class);
        List<String> files = new ArrayList<>();
        for (Path root : List.of(s2.baseDirectory(), confDir)) {
            try (Stream<Path> s = Files.walk(root)) {
                s.forEach(p -> files.add(p + " " + p.toFile().length()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        List<String> processes = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            procs.filter(p -> p.getFileName().toString().matches("\\d+")).forEach(p -> {
                try {
                    String cmd = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8);
                    if (cmd.contains(s2.baseDirectory().toString())) {
                        processes.add(p.getFileName() + " " + cmd.replace('\0', ' '));
                    }
                } catch (IOException | RuntimeException e) {
                    // the process ended meanwhile
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Optional<NodeConfig>> bindings = new ArrayList<>();
        for (int id = 1; id <= 9; id++) {
            bindings.add(ctx.config(id));
        }
        return new Snapshot(nodes, events, slots, streaming, files, processes, bindings);
    }

    /** One bad input: what to do, and what the error must say. */
    record Case(String name, Consumer<BadInputTest> action, String expected, boolean refusalEvent) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Case refused(String name, Consumer<BadInputTest> action, String expected) {
        return new Case(name, action, expected, false);
    }

    /** A case whose refusal is recorded as an unsuccessful event (as repmgr records failed registrations and clones). */
    static Case refusedWithEvent(String name, Consumer<BadInputTest> action, String expected) {
        return new Case(name, action, expected, true);
    }

    void check(Case c) {
        Snapshot before = snapshot();
        ReplicationException e = catchThrowableOfType(ReplicationException.class, () -> c.action().accept(this));
        assertThat(e).as(c.name() + ": refused").isNotNull();
        assertThat(e.code()).as(c.name() + ": " + e.toReport()).isIn(ErrorCode.BAD_CONFIG, ErrorCode.DB_CONN,
                ErrorCode.LOCAL_COMMAND, ErrorCode.REJOIN_FAIL, ErrorCode.PROMOTION_FAIL, ErrorCode.SWITCHOVER_FAIL,
                ErrorCode.FOLLOW_FAIL);
        assertThat(e.toReport()).as(c.name()).contains(c.expected());
        assertThat(e.hint().isPresent() || e.detail().isPresent()).as(c.name() + ": says why or what to do: " + e.toReport())
                .isTrue();
        assertThat(e.toReport()).as(c.name() + ": no password").doesNotContain(SECRET);
        assertThat(e.toReport().length()).as(c.name() + ": long values shortened: " + e.toReport()).isLessThan(1500);
        Snapshot after = snapshot();
        assertThat(after.nodes()).as(c.name() + ": node records").isEqualTo(before.nodes());
        assertThat(after.slots()).as(c.name() + ": slots").isEqualTo(before.slots());
        assertThat(after.streaming()).as(c.name() + ": replication connections").isEqualTo(before.streaming());
        assertThat(after.files()).as(c.name() + ": files").isEqualTo(before.files());
        assertThat(after.processes()).as(c.name() + ": processes").isEqualTo(before.processes());
        assertThat(after.bindings()).as(c.name() + ": the handle's node configurations").isEqualTo(before.bindings());
        if (c.refusalEvent()) {
            assertThat(after.events()).as(c.name() + ": at most the refusal's own event").isBetween(before.events(),
                    before.events() + 1);
        } else {
            assertThat(after.events()).as(c.name() + ": events").isEqualTo(before.events());
        }
    }

    // ------------------------------------------------------------------ inputs

    ImmutableNodeConfig.Builder good() {
        return NodeConfig.builder().nodeId(2).nodeName("pg2").conninfo(s2.conninfo())
                .dataDirectory(s2.dataDirectory().toString()).pgBindir(s2.bindir().toString());
    }

    /** Building the node configuration is refused; were it accepted, it would be cloned. */
    static Case node(String name, UnaryOperator<ImmutableNodeConfig.Builder> change, String expected) {
        return refused("NodeConfig " + name, t -> t.cluster.cloneStandby(change.apply(t.good()).build()).execute(), expected);
    }

    /** A connection string for the standby, built from the sandbox's with {@code extra} appended. */
    static Case conninfo(String name, String extra, String expected) {
        return refused("conninfo " + name, t -> t.cluster.cloneStandby(t.good()
                .conninfo(ConnInfo.parse(t.s2.conninfo().render() + " " + extra)).build()).execute(), expected);
    }

    /** A repmgr.conf with {@code lines} after (or instead of) the required ones. */
    static Case conf(String name, String lines, String expected) {
        return refused("repmgr.conf " + name, t -> {
            Path f = t.confDir.resolve("repmgr.conf");
            String text = lines.contains("node_id=") ? lines : t.confBase() + lines;
            try {
                Files.writeString(f, text, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            try {
                t.cluster.cloneStandby(RepmgrConf.read(f)).execute();
            } finally {
                // the same file, unchanged, for the snapshot after
                assertThat(readQuietly(f)).isEqualTo(text);
                f.toFile().delete();
            }
        }, expected);
    }

    String confBase() {
        return "node_id=2\nnode_name='pg2'\nconninfo='" + s2.conninfo().render().replace("'", "\\'") + "'\n"
                + "data_directory='" + s2.dataDirectory() + "'\npg_bindir='" + s2.bindir() + "'\n";
    }

    private static String readQuietly(Path f) {
        try {
            return Files.readString(f, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Case setting(String name, String key, String value, String expected) {
        return refused("serverSetting " + name, t -> t.cluster.cloneStandby(t.good().build()).serverSetting(key, value)
                .execute(), expected);
    }

    static Case basebackup(String expected, String... options) {
        return refused("basebackupOptions " + InputRules.visible(InputRules.shorten(String.join(" ", options))),
                t -> t.cluster.cloneStandby(t.good().build()).basebackupOptions(List.of(options)).execute(), expected);
    }

    static String japanese(int chars) {
        return "日".repeat(chars);
    }

    Stream<Case> cases() {
        List<Case> c = new ArrayList<>();
        // node_name
        c.add(node("node_name with a newline", b -> b.nodeName("pg\n2"), "for \"node_name\""));
        c.add(node("node_name with a carriage return", b -> b.nodeName("pg2\r"), "a carriage return"));
        c.add(node("node_name with a tab", b -> b.nodeName("pg\t2"), "a tab"));
        c.add(node("node_name with NUL", b -> b.nodeName("pg\u00002"), "a NUL"));
        c.add(node("node_name with DEL", b -> b.nodeName("pg\u007f2"), "U+007F"));
        c.add(node("node_name with an escape", b -> b.nodeName("pg\u001b[31m"), "U+001B"));
        c.add(node("node_name of 64 ASCII characters", b -> b.nodeName("n".repeat(64)), "the limit is 63"));
        c.add(node("node_name of 22 Japanese characters (66 bytes)", b -> b.nodeName(japanese(22)), "66 bytes long in UTF-8"));
        c.add(node("node_name of 40 Japanese characters", b -> b.nodeName(japanese(40)), "120 bytes long in UTF-8"));
        c.add(node("node_name of 32 accented letters (64 bytes)", b -> b.nodeName("é".repeat(32)), "64 bytes"));
        c.add(node("node_name of 16 emoji (64 bytes)", b -> b.nodeName("😀".repeat(16)), "64 bytes"));
        c.add(node("node_name blank", b -> b.nodeName("   "), "node_name must not be empty"));
        c.add(node("node_name of 5,000 characters", b -> b.nodeName(LONG), "(5000 characters)"));
        // data_directory
        c.add(node("relative data_directory", b -> b.dataDirectory("data"), "relative path"));
        c.add(node("data_directory starting with ./", b -> b.dataDirectory("./pgdata"), "relative path"));
        c.add(node("data_directory starting with ~", b -> b.dataDirectory("~/pgdata"), "relative path"));
        c.add(node("data_directory with a newline", b -> b.dataDirectory("/tmp/d\nx"), "a newline"));
        c.add(node("data_directory ending in a newline", b -> b.dataDirectory("/tmp/dx\n"), "a newline"));
        c.add(node("data_directory with a carriage return", b -> b.dataDirectory("/tmp/d\rx"), "a carriage return"));
        c.add(node("data_directory with NUL", b -> b.dataDirectory("/tmp/d\u0000x"), "a NUL"));
        c.add(node("data_directory with a tab", b -> b.dataDirectory("/tmp/d\tx"), "a tab"));
        c.add(node("data_directory blank", b -> b.dataDirectory(" "), "must not be empty"));
        c.add(node("data_directory of 5,000 characters, relative", b -> b.dataDirectory(LONG), "(5000 characters)"));
        // pg_bindir
        c.add(node("relative pg_bindir", b -> b.pgBindir("bin"), "for \"pg_bindir\""));
        c.add(node("pg_bindir with $(...)", b -> b.pgBindir("/usr/$(touch x)/bin"), "contains '$'"));
        c.add(node("pg_bindir with a backtick", b -> b.pgBindir("/usr/`id`/bin"), "contains '`'"));
        c.add(node("pg_bindir with a double quote", b -> b.pgBindir("/usr/\"x/bin"), "contains '\"'"));
        c.add(node("pg_bindir with a backslash", b -> b.pgBindir("/usr/x\\y/bin"), "contains '\\'"));
        c.add(node("pg_bindir with a newline", b -> b.pgBindir("/usr/lib\n/bin"), "a newline"));
        // other keys
        c.add(node("location with a newline", b -> b.location("dc1\ndc2"), "for \"location\""));
        c.add(node("replication_user of 64 bytes", b -> b.replicationUser("r".repeat(64)), "for \"replication_user\""));
        c.add(node("replication_user with a newline", b -> b.replicationUser("repl\nx"), "for \"replication_user\""));
        c.add(node("promote_command with NUL", b -> b.promoteCommand("echo \u0000"), "for \"promote_command\""));
        c.add(node("service_start_command with an escape", b -> b.serviceStartCommand("start\u001b"),
                "for \"service_start_command\""));
        c.add(node("event_notification_command with a bell", b -> b.eventNotificationCommand("x\u0007"),
                "for \"event_notification_command\""));
        c.add(node("log_file with a newline", b -> b.logFile("/var/log/r\n.log"), "for \"log_file\""));
        c.add(node("ssh_options with a newline", b -> b.sshOptions("-q\n-o x"), "for \"ssh_options\""));
        c.add(node("event_notifications with a newline", b -> b.addEventNotifications("standby_clone\nx"),
                "for \"event_notifications\""));
        // connection strings
        c.add(conninfo("unknown keyword", "foo=bar", "invalid connection option \"foo\""));
        c.add(conninfo("misspelt host", "hots=pg2", "invalid connection option \"hots\""));
        c.add(conninfo("misspelt sslmode", "sslmod=require", "invalid connection option \"sslmod\""));
        c.add(conninfo("pgjdbc's spelling", "ApplicationName=x", "invalid connection option \"ApplicationName\""));
        c.add(conninfo("pgjdbc's socketTimeout", "socketTimeout=5", "invalid connection option \"socketTimeout\""));
        c.add(conninfo("PostgreSQL 16's load_balance_hosts", "load_balance_hosts=random",
                "invalid connection option \"load_balance_hosts\""));
        c.add(conninfo("empty host", "host=''", "empty host"));
        c.add(conninfo("empty place in a host list", "host='127.0.0.1,'", "empty host"));
        c.add(conninfo("blank host", "host=' '", "empty host"));
        c.add(conninfo("empty hostaddr", "hostaddr=''", "empty hostaddr"));
        c.add(conninfo("newline in options", "options='-c\nwork_mem=1MB'", "a control character (a newline)"));
        c.add(conninfo("newline in application_name", "application_name='a\nb'", "a control character (a newline)"));
        c.add(conninfo("newline in the password", "password='a\n" + SECRET + "'", "invalid value (hidden) of \"password\""));
        c.add(conninfo("application_name of 64 bytes", "application_name=" + "a".repeat(64), "for \"application_name\""));
        c.add(conninfo("application_name of 30 Japanese characters", "application_name=" + japanese(30),
                "90 bytes long in UTF-8"));
        c.add(refused("upstreamConninfo with an unknown keyword", t -> t.cluster.cloneStandby(t.good().build())
                .upstreamConninfo(ConnInfo.parse(t.pg1.conninfo().render() + " foo=bar")).execute(),
                "invalid connection option \"foo\" in the connection string for \"upstreamConninfo\""));
        c.add(refused("upstreamConninfo with an empty host", t -> t.cluster.cloneStandby(t.good().build())
                .upstreamConninfo(t.pg1.conninfo().with("host", "")).execute(), "empty host"));
        c.add(refused("replicationUser of 70 bytes on the clone builder", t -> t.cluster.cloneStandby(t.good().build())
                .replicationUser("u".repeat(70)).execute(), "for \"replication_user\""));
        c.add(refused("replicationUser with a newline on the clone builder", t -> t.cluster.cloneStandby(t.good().build())
                .replicationUser("u\nv").execute(), "a newline"));
        c.add(refused("seed with an unknown keyword", t -> ReplicationClusters.builder()
                .seed(ConnInfo.parse(t.pg1.conninfo().render() + " foo=bar")).build().close(), "invalid connection option"));
        c.add(refused("seed with an empty host", t -> ReplicationClusters.builder()
                .seed(t.pg1.conninfo().with("host", "")).build().close(), "empty host"));
        c.add(refused("seed with a newline in dbname", t -> ReplicationClusters.builder()
                .seed(t.pg1.conninfo().with("dbname", "repmgr\nx")).build().close(), "a newline"));
        // server settings
        c.add(setting("value with a newline", "work_mem", "4MB\nshared_buffers = 1TB", "a newline"));
        c.add(setting("value with a carriage return", "work_mem", "4MB\r", "a carriage return"));
        c.add(setting("value with NUL", "work_mem", "4MB\u0000", "a NUL"));
        c.add(setting("value with a form feed", "work_mem", "4MB\f", "U+000C"));
        c.add(setting("name with a space", "work mem", "4MB", "invalid server setting name"));
        c.add(setting("name with a newline", "work_mem\nport", "4MB", "invalid server setting name \"work_mem\\nport\""));
        c.add(setting("name with a dash", "work-mem", "4MB", "invalid server setting name"));
        c.add(setting("name starting with a digit", "1work_mem", "4MB", "invalid server setting name"));
        c.add(setting("name with two dots", "a.b.c", "1", "invalid server setting name"));
        c.add(setting("name ending in a dot", "plugin.", "1", "invalid server setting name"));
        c.add(setting("empty name", "", "1", "invalid server setting name"));
        c.add(setting("name with =", "port=5433", "1", "invalid server setting name"));
        c.add(setting("name of 5,000 characters with a space", LONG + " x", "1", "(5002 characters)"));
        // pg_basebackup options
        c.add(basebackup("(-D)", "-D", "/other"));
        c.add(basebackup("(-D)", "-D/other"));
        c.add(basebackup("(--pgdata)", "--pgdata=/other"));
        c.add(basebackup("(--pgdata)", "--pgdata", "/other"));
        c.add(basebackup("(--pgdata)", "--pgd=/other"));
        c.add(basebackup("(-h)", "-h", "10.0.0.1"));
        c.add(basebackup("(--host)", "--host=10.0.0.1"));
        c.add(basebackup("(-p)", "-p", "5433"));
        c.add(basebackup("(--port)", "--port=5433"));
        c.add(basebackup("(-U)", "-U", "postgres"));
        c.add(basebackup("(--username)", "--username=postgres"));
        c.add(basebackup("(-d)", "-d", "host=other"));
        c.add(basebackup("(--dbname)", "--dbname=host=other"));
        c.add(basebackup("(-R)", "-R"));
        c.add(basebackup("(-R)", "-vR"));
        c.add(basebackup("(--write-recovery-conf)", "--write-recovery-conf"));
        c.add(basebackup("(-X)", "-X", "fetch"));
        c.add(basebackup("(-X)", "-Xnone"));
        c.add(basebackup("(--wal-method)", "--wal-method=none"));
        c.add(basebackup("(-S)", "-S", "other_slot"));
        c.add(basebackup("(--slot)", "--slot=other_slot"));
        c.add(basebackup("(-C)", "-C"));
        c.add(basebackup("(--create-slot)", "--create-slot"));
        c.add(basebackup("(--no-slot)", "--no-slot"));
        c.add(basebackup("(-F)", "-F", "t"));
        c.add(basebackup("(-F)", "-Ft"));
        c.add(basebackup("(--format)", "--format=tar"));
        c.add(basebackup("(-t)", "-t", "server:/tmp/x"));
        c.add(basebackup("(--target)", "--target=blackhole"));
        c.add(basebackup("(-W)", "-W"));
        c.add(basebackup("(--password)", "--password"));
        c.add(basebackup("(-w)", "-w"));
        c.add(basebackup("(-P)", "-P"));
        c.add(basebackup("(-V)", "-V"));
        c.add(basebackup("(--version)", "--version"));
        c.add(basebackup("(--help)", "--help"));
        c.add(basebackup("(-?)", "-?"));
        c.add(basebackup("takes no arguments besides its options", "/other"));
        c.add(basebackup("\"--\" would end", "--"));
        c.add(basebackup("has no option --bogus", "--bogus"));
        c.add(basebackup("has no option -q", "-q"));
        c.add(basebackup("needs an argument", "-T"));
        c.add(basebackup("needs an argument", "--max-rate"));
        c.add(basebackup("a newline", "--label=a\nb"));
        c.add(basebackup("a newline", "-r", "1M\n"));
        c.add(basebackup("is set by repmgr4j itself", "--no"));
        c.add(basebackup("(5000 characters)", "--" + LONG));
        // repmgr.conf
        c.add(conf("node_name of 22 Japanese characters", "node_id=2\nnode_name='" + japanese(22) + "'\nconninfo='host=127.0.0.1'\n"
                + "data_directory='/tmp/x'\n", "for \"node_name\" in"));
        c.add(conf("relative data_directory", "node_id=2\nnode_name='pg2'\nconninfo='host=127.0.0.1'\ndata_directory='data'\n",
                "relative path"));
        c.add(conf("data_directory with an escaped newline", "node_id=2\nnode_name='pg2'\nconninfo='host=127.0.0.1'\n"
                + "data_directory='/tmp/a\\nb'\n", "a newline"));
        c.add(conf("node_name with an escaped newline", "node_id=2\nnode_name='pg\\n2'\nconninfo='host=127.0.0.1'\n"
                + "data_directory='/tmp/x'\n", "for \"node_name\" in"));
        c.add(conf("pg_bindir with $", "pg_bindir='/opt/$(id)/bin'\n", "contains '$'"));
        c.add(conf("relative pg_bindir", "pg_bindir='bin'\n", "relative path"));
        c.add(conf("conninfo with an unknown keyword", "node_id=2\nnode_name='pg2'\nconninfo='host=127.0.0.1 foo=bar'\n"
                + "data_directory='/tmp/x'\n", "invalid connection option \"foo\""));
        c.add(conf("conninfo with host=''", "node_id=2\nnode_name='pg2'\nconninfo='host='''' port=5433'\n"
                + "data_directory='/tmp/x'\n", "empty host"));
        c.add(conf("conninfo with a password and an unknown keyword", "node_id=2\nnode_name='pg2'\nconninfo='host=127.0.0.1 password="
                + SECRET + " passwd=x'\ndata_directory='/tmp/x'\n", "invalid connection option \"passwd\""));
        c.add(conf("include without =", "include '/etc/repmgr-extra.conf'\n", "\"include\" in"));
        c.add(conf("include_dir without =", "include_dir '/etc/repmgr.d'\n", "\"include_dir\" in"));
        c.add(conf("include_if_exists without =", "include_if_exists '/etc/x.conf'\n", "\"include_if_exists\" in"));
        c.add(conf("include with =", "include='/etc/x.conf'\n", "is not supported"));
        c.add(conf("location with an escaped tab", "location='dc\\t1'\n", "for \"location\" in"));
        c.add(conf("replication_user of 64 characters", "replication_user='" + "r".repeat(64) + "'\n", "replication_user"));
        c.add(conf("node_name of 5,000 characters", "node_id=2\nnode_name='" + LONG + "'\nconninfo='host=127.0.0.1'\n"
                + "data_directory='/tmp/x'\n", "node_name"));
        c.add(conf("application_name of 64 bytes in conninfo", "node_id=2\nnode_name='pg2'\nconninfo='host=127.0.0.1 application_name="
                + "a".repeat(64) + "'\ndata_directory='/tmp/x'\n", "application_name"));
        c.add(conf("log_file with an escaped newline", "log_file='/var/log/a\\nb'\n", "for \"log_file\" in"));
        // operations that reach their checks
        c.add(refusedWithEvent("clone under the primary's node id (duplicate id)", t -> t.cluster.cloneStandby(
                t.good().nodeId(1).nodeName("pgdup1").build()).serverSetting("unix_socket_directories",
                t.s2.socketDirectory().toString()).thenRegister().execute(), "node ID 1"));
        c.add(refusedWithEvent("register the primary's server again under node id 7", t -> t.cluster.registerPrimary(
                t.pg1.nodeConfig(7).nodeName("pg1again").build()).force(true).execute(), "is already registered as"));
        c.add(refused("register the primary's server as standby node 8", t -> t.cluster.registerStandby(
                t.pg1.nodeConfig(8).nodeName("pg1standby").build()).force(true).execute(), "is not in recovery"));
        c.add(refusedWithEvent("follow() on the primary", t -> t.cluster.follow(1).execute(),
                "is the primary and cannot follow"));
        // refused operations given a (wrong) configuration of node 1 leave the handle's binding of node 1 alone
        c.add(refusedWithEvent("rejoin of the running primary under another data directory", t -> t.cluster.rejoin(
                t.pg1.nodeConfig(1).dataDirectory(t.s2.dataDirectory().toString()).build()).execute(),
                "the rejoin target is node \"pg1\" (ID: 1)"));
        c.add(refusedWithEvent("promote of the primary under another data directory", t -> t.cluster.promote(
                t.pg1.nodeConfig(1).dataDirectory(t.s2.dataDirectory().toString()).build()).execute(),
                "is already a primary"));
        c.add(refusedWithEvent("switchover to the primary under another data directory", t -> t.cluster.switchover(
                t.pg1.nodeConfig(1).dataDirectory(t.s2.dataDirectory().toString()).build()).execute(),
                "is already the primary"));
        c.add(refusedWithEvent("follow of the primary under another data directory", t -> t.cluster.follow(
                t.pg1.nodeConfig(1).dataDirectory(t.s2.dataDirectory().toString()).build()).execute(),
                "is the primary and cannot follow"));
        c.add(refused("a failing service_start_command says what it did", t -> new io.repmgr4j.core.host.PgControl(
                t.good().serviceStartCommand("exit 3").build(), t.s2.runner()).start(java.time.Duration.ofSeconds(20)),
                "\"exit 3\" exited with code 3 and printed nothing on stderr"));
        return c.stream();
    }

    @TestFactory
    Stream<DynamicTest> everyBadInputIsRefusedAndChangesNothing() {
        return cases().map(c -> DynamicTest.dynamicTest(InputRules.visible(InputRules.shorten(c.name())), () -> check(c)));
    }

    @TestFactory
    Stream<DynamicTest> messagesShortenLongValues() {
        return Stream.of(LONG, LONG + "\n", "a".repeat(81)).map(v -> DynamicTest.dynamicTest("shorten " + v.length(), () -> {
            String s = InputRules.visible(InputRules.shorten(v));
            assertThat(s.length()).isLessThanOrEqualTo(InputRules.SHOWN_CHARS + 4);
            assertThat(s).contains("(" + v.length() + " characters)");
        }));
    }
}

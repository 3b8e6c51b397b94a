package io.repmgr4j.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.CloneReport;
import io.repmgr4j.ClusterStatus;
import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.EventRecord;
import io.repmgr4j.Events;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.UpstreamState;
import io.repmgr4j.core.host.NodeHost;
import io.repmgr4j.format.ClusterShowFormat;
import io.repmgr4j.format.OperationReportFormat;
import io.repmgr4j.plan.Check;
import io.repmgr4j.plan.OperationReport;
import io.repmgr4j.plan.Step;
import io.repmgr4j.testkit.PgSandbox;
import io.repmgr4j.testkit.PgServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * standby clone against real servers: a 3-node set built with the library's clone (the
 * primary from the test kit, two clones started, streaming and registered, one of them
 * with a replication slot), a cascaded fourth node cloned from standby pg2, the dry run,
 * every refused input, a copy whose upstream is killed midway, and a copy stopped by its
 * timeout.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StandbyCloneTest {
    private static final String SECRET = "clone-s3cret";
    private static final Duration WAIT = Duration.ofSeconds(60);

    private PgServer pg1;
    private PgServer pg2;
    private PgSandbox s2;
    private ReplicationCluster cluster;
    private final List<AutoCloseable> closeLater = new ArrayList<>();
    private final List<EventRecord> heard = new CopyOnWriteArrayList<>();

    @BeforeAll
    void start() {
        pg1 = PgServer.builder().name("pg1").password(SECRET).start();
        closeLater.add(pg1);
        cluster = ReplicationClusters.builder().seed(pg1.conninfo()).eventListener(heard::add).build();
        cluster.registerPrimary(NodeConfig.builder().nodeId(1).nodeName("pg1").conninfo(pg1.conninfo())
                .dataDirectory(pg1.dataDirectory().toString()).pgBindir(pg1.bindir().toString()).build()).execute();
    }

    @AfterAll
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
        // standbys first, the primary last
        for (int i = closeLater.size() - 1; i >= 0; i--) {
            closeLater.get(i).close();
        }
    }

    private PgSandbox sandbox(String name) {
        PgSandbox s = PgSandbox.allocate(name, null, SECRET);
        closeLater.add(s);
        return s;
    }

    private static NodeConfig config(int id, PgSandbox s) {
        return NodeConfig.builder().nodeId(id).nodeName(s.name()).conninfo(s.conninfo())
                .dataDirectory(s.dataDirectory().toString()).pgBindir(s.bindir().toString()).build();
    }

    /** The clone builder for a sandbox node, its server using the sandbox's socket directory. */
    private io.repmgr4j.ReplicationCluster.StandbyClone clone(NodeConfig node, PgSandbox s) {
        return cluster.cloneStandby(node).serverSetting("unix_socket_directories", s.socketDirectory().toString());
    }

    private List<EventRecord> cloneEvents(int nodeId) {
        return cluster.events().event(Events.STANDBY_CLONE).nodeId(nodeId).list();
    }

    private long slotCount(PgServer server, String slot) {
        return server.query("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot + "'", Long.class);
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    // ------------------------------------------------------------------ building the set

    @Test
    @Order(1)
    void dryRunListsEveryCheckAndChangesNothing() {
        s2 = sandbox("pg2");
        int eventsBefore = cluster.events().limit(100).list().size();
        OperationReport plan = clone(config(2, s2), s2).fastCheckpoint(true).thenRegister().plan();

        assertThat(plan.ready()).as(OperationReportFormat.dryRun(plan)).isTrue();
        assertThat(plan.operation()).isEqualTo("standby clone");
        assertThat(plan.dryRun()).isTrue();
        assertThat(plan.successful()).isTrue();
        assertThat(plan.summary()).isEqualTo("node \"pg2\" (ID: 2) would be cloned from 127.0.0.1:" + pg1.port()
                + " into \"" + s2.dataDirectory() + "\"");
        assertThat(plan.steps()).extracting(Step::status).containsOnly(Step.Status.PLANNED);
        assertThat(plan.checks()).extracting(Check::name).containsExactly(
                StandbyCloning.CHECK_UPSTREAM, StandbyCloning.CHECK_METADATA, StandbyCloning.CHECK_UPSTREAM_NODE,
                StandbyCloning.CHECK_NODE_RECORD, StandbyCloning.CHECK_SIZE, StandbyCloning.CHECK_WAL_LEVEL,
                StandbyCloning.CHECK_WAL_SENDERS, StandbyCloning.CHECK_SLOT, StandbyCloning.CHECK_REPLICATION_CONNECTIONS,
                StandbyCloning.CHECK_REWIND, StandbyCloning.CHECK_TARGET, StandbyCloning.CHECK_VERSION);
        assertThat(plan.checks()).allMatch(c -> c.outcome() == Check.Outcome.OK);
        assertThat(plan.check(StandbyCloning.CHECK_WAL_SENDERS).orElseThrow().detail().orElseThrow()).startsWith("2 required, 10 available");
        assertThat(plan.check(StandbyCloning.CHECK_UPSTREAM_NODE).orElseThrow().detail())
                .contains("standby will attach to upstream node \"pg1\" (ID: 1)");
        assertThat(plan.check(StandbyCloning.CHECK_SIZE).orElseThrow().detail().orElseThrow()).matches("current installation size is \\d+ MB");
        assertThat(plan.steps()).anySatisfy(st -> assertThat(st.name()).contains("pg_basebackup").contains("-X stream")
                .contains("-c fast").contains("'repmgr base backup'"));
        assertThat(plan.steps()).extracting(Step::name).last().asString().contains("register node \"pg2\" (ID: 2) as a standby of node \"pg1\" (ID: 1)");
        String text = OperationReportFormat.dryRun(plan);
        assertThat(text).contains("INFO: all prerequisites for \"standby clone\" are met").doesNotContain(SECRET);

        assertThat(s2.dataDirectory()).doesNotExist();
        assertThat(cluster.metadata().node(2)).isEmpty();
        assertThat(cluster.events().limit(100).list()).hasSize(eventsBefore);
        assertThat(pg1.query("SELECT count(*) FROM pg_replication_slots", Long.class)).isZero();
    }

    @Test
    @Order(2)
    void cloneStartStreamAndRegister() throws Exception {
        if (s2 == null) {
            s2 = sandbox("pg2");
        }
        NodeConfig node = config(2, s2);
        CloneReport r = clone(node, s2).fastCheckpoint(true).thenStart().waitUntilStreaming(WAIT).thenRegister().execute();

        assertThat(r.started()).isTrue();
        assertThat(r.streaming()).isTrue();
        assertThat(r.record()).hasValueSatisfying(rec -> {
            assertThat(rec.upstreamNodeId()).hasValue(1);
            assertThat(rec.slotName()).isEmpty();
        });
        assertThat(r.upstreamNodeId()).hasValue(1);
        assertThat(r.sourceHost()).isEqualTo("127.0.0.1");
        assertThat(r.sourcePort()).isEqualTo(pg1.port());
        assertThat(r.sizeBytes()).isPositive();
        assertThat(r.throughputBytesPerSecond()).isPositive();
        assertThat(r.commandLine()).contains("pg_basebackup -D").contains("-X stream").contains("-c fast")
                .contains("-U repmgr").doesNotContain(SECRET);
        assertThat(r.toString()).doesNotContain(SECRET);
        assertThat(r.steps()).allMatch(st -> st.status() == Step.Status.DONE);
        assertThat(r.steps()).extracting(st -> st.name()).anyMatch(n -> n.startsWith("run pg_basebackup"))
                .contains("start the server", "register the standby");
        assertThat(r.warnings()).isEmpty();

        String auto = read(s2.dataDirectory().resolve("postgresql.auto.conf"));
        assertThat(auto).contains("application_name=pg2").contains("port = '" + s2.port() + "'")
                .contains("recovery_target_timeline = 'latest'");
        assertThat(s2.dataDirectory().resolve("standby.signal")).exists();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(s2.dataDirectory()))).isEqualTo("rwx------");

        assertThat(pg1.query("SELECT state FROM pg_stat_replication WHERE application_name = 'pg2'", String.class))
                .isEqualTo("streaming");
        List<EventRecord> clones = cloneEvents(2);
        assertThat(clones).hasSize(1);
        assertThat(clones.get(0).successful()).isTrue();
        assertThat(clones.get(0).details()).hasValue("cloned from host \"127.0.0.1\", port " + pg1.port()
                + "; backup method: pg_basebackup; --force: N");
        assertThat(cluster.events().event(Events.STANDBY_REGISTER).nodeId(2).list()).hasSize(1);
        assertThat(heard).extracting(EventRecord::event).contains(Events.STANDBY_CLONE, Events.STANDBY_REGISTER);

        pg2 = s2.adopt(); // the test kit takes over the running server, for clean-up and helpers
        assertThat(pg2.port()).isEqualTo(s2.port());
        assertThat(pg2.inRecovery()).isTrue();
        pg1.execute("CREATE TABLE IF NOT EXISTS clone_probe (id int)");
        pg1.execute("INSERT INTO clone_probe VALUES (42)");
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (pg2.query("SELECT count(*) FROM pg_class WHERE relname = 'clone_probe'", Long.class) == 0
                && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(50);
        }
        assertThat(pg2.query("SELECT count(*) FROM clone_probe", Long.class)).isEqualTo(1);
    }

    @Test
    @Order(3)
    void cloneWithReplicationSlotReportsProgress() {
        PgSandbox s3 = sandbox("pg3");
        NodeConfig node = NodeConfig.builder().from(config(3, s3)).useReplicationSlots(true).build();
        List<long[]> progress = new CopyOnWriteArrayList<>();
        CloneReport r = clone(node, s3)
                .basebackupOptions(List.of("--max-rate=12M")) // a copy of some seconds, so progress is reported on the way
                .progressListener((done, total) -> progress.add(new long[] {done, total}))
                .thenStart().waitUntilStreaming(WAIT).thenRegister().execute();

        assertThat(r.slotName()).hasValue("repmgr_slot_3");
        assertThat(r.record()).hasValueSatisfying(rec -> assertThat(rec.slotName()).hasValue("repmgr_slot_3"));
        assertThat(r.commandLine()).contains("-S repmgr_slot_3").contains("--max-rate=12M");
        assertThat(pg1.query("SELECT active FROM pg_replication_slots WHERE slot_name = 'repmgr_slot_3'", Boolean.class)).isTrue();
        assertThat(read(s3.dataDirectory().resolve("postgresql.auto.conf"))).contains("primary_slot_name = 'repmgr_slot_3'");

        assertThat(progress).hasSizeGreaterThanOrEqualTo(2);
        for (int i = 1; i < progress.size(); i++) {
            assertThat(progress.get(i)[0]).isGreaterThanOrEqualTo(progress.get(i - 1)[0]);
        }
        for (long[] p : progress) {
            assertThat(p[0]).isLessThanOrEqualTo(p[1]);
        }
        long[] last = progress.get(progress.size() - 1);
        assertThat(last[0]).isEqualTo(last[1]).isEqualTo(r.sizeBytes());
        assertThat(progress.get(0)[0]).isLessThan(last[0]);
        closeLater.add(s3.adopt());
    }

    @Test
    @Order(4)
    void cascadedStandbyClonedFromStandby() {
        PgSandbox s4 = sandbox("pg4");
        CloneReport r = clone(config(4, s4), s4).upstreamNodeId(2)
                .thenStart().waitUntilStreaming(WAIT).thenRegister().execute();
        assertThat(r.upstreamNodeId()).hasValue(2);
        assertThat(r.sourcePort()).isEqualTo(pg2.port());
        assertThat(r.record()).hasValueSatisfying(rec -> assertThat(rec.upstreamNodeId()).hasValue(2));
        assertThat(pg2.query("SELECT state FROM pg_stat_replication WHERE application_name = 'pg4'", String.class))
                .isEqualTo("streaming");
        assertThat(cloneEvents(4).get(0).details()).hasValue("cloned from host \"127.0.0.1\", port " + pg2.port()
                + "; backup method: pg_basebackup; --force: N");
        closeLater.add(s4.adopt());

        ClusterStatus status = cluster.show().execute();
        assertThat(status.healthy()).as(ClusterShowFormat.table(status)).isTrue();
        assertThat(status.node(4)).hasValueSatisfying(n -> {
            assertThat(n.upstreamNodeName()).hasValue("pg2");
            assertThat(n.upstreamState()).isEqualTo(UpstreamState.ATTACHED);
        });
        assertThat(status.nodes()).extracting(n -> n.nodeId()).containsExactly(1, 2, 3, 4);
        assertThat(ClusterShowFormat.table(status)).doesNotContain(SECRET);
    }

    @Test
    @Order(5)
    void aPrimaryThatMovedSinceLastSeenIsLocatedAgain() {
        PgSandbox s = sandbox("moved");
        NodeConfig node = config(8, s);
        CloneOptions options = new CloneOptions(node, java.util.OptionalInt.empty(), java.util.Optional.empty(), false, false,
                List.of(), java.util.Map.of(), io.repmgr4j.CloneProgressListener.NONE, Duration.ofMinutes(1),
                java.util.Optional.empty(), java.util.Optional.empty(), false);
        ConnInfo nowhere = ConnInfo.parse("host=127.0.0.1 port=" + PgServerPorts.closedPort() + " user=repmgr dbname=repmgr");
        for (ConnInfo lastSeen : List.of(pg2.conninfo(), nowhere)) { // now a standby; now gone
            try (ClusterContext ctx = new ClusterContext(List.of(pg1.conninfo()), List.of(), Duration.ofSeconds(5),
                    Duration.ofSeconds(5), List.of(), io.repmgr4j.spi.LocalCommandRunner.asUser("postgres"))) {
                ctx.rememberPrimary(lastSeen);
                OperationReport plan = new StandbyCloning(ctx, new Registration(ctx)).plan(options);
                assertThat(plan.ready()).as(OperationReportFormat.dryRun(plan)).isTrue();
                assertThat(plan.check(StandbyCloning.CHECK_UPSTREAM_NODE).orElseThrow().detail())
                        .contains("standby will attach to upstream node \"pg1\" (ID: 1)");
                assertThat(plan.check(StandbyCloning.CHECK_UPSTREAM).orElseThrow().detail().orElseThrow())
                        .startsWith("connected to 127.0.0.1:" + pg1.port() + ", a primary");
                assertThat(ctx.cachedPrimary()).contains(pg1.conninfo());
            }
        }
        assertThat(s.dataDirectory()).doesNotExist();
    }

    // ------------------------------------------------------------------ refused inputs

    @Test
    @Order(10)
    void nonEmptyTargetNeedsForce() {
        PgSandbox s5 = sandbox("pg5");
        String dir = s5.dataDirectory().toString();
        NodeHost host = new NodeHost(s5.runner());
        host.mkdirs(dir, 0755);
        host.writeFile(dir + "/stray-file", "left over\n", 0600);
        NodeConfig node = config(5, s5);

        assertThatThrownBy(() -> clone(node, s5).execute())
                .isInstanceOfSatisfying(ReplicationException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
                    assertThat(e.getMessage()).startsWith("target data directory: ").contains("is not empty (1 entry)");
                    assertThat(e.hint()).hasValueSatisfying(h -> assertThat(h).contains("force"));
                });
        assertThat(host.list(dir)).containsExactly("stray-file");
        assertThat(cloneEvents(5)).first().satisfies(ev -> {
            assertThat(ev.successful()).isFalse();
            assertThat(ev.details()).hasValueSatisfying(d -> assertThat(d).startsWith("standby clone refused: "));
        });

        CloneReport r = clone(node, s5).force(true).execute();
        assertThat(host.list(dir)).doesNotContain("stray-file").contains("PG_VERSION", "standby.signal");
        assertThat(r.warnings()).anySatisfy(w -> assertThat(w).contains("its contents will be removed"));
        assertThat(r.steps()).extracting(st -> st.name()).contains("remove the contents of \"" + dir + "\" (force)",
                "write the recovery configuration into \"" + dir + "\" and set its permissions to 0700");
        assertThat(host.stat(dir)).hasValueSatisfying(st -> assertThat(st.octalMode()).isEqualTo("700"));
        assertThat(cloneEvents(5).get(0).details()).hasValueSatisfying(d -> assertThat(d).endsWith("--force: Y"));
        assertThat(r.started()).isFalse();
    }

    @Test
    @Order(11)
    void unreachableUpstream() {
        PgSandbox s = sandbox("unreach");
        ConnInfo nowhere = ConnInfo.parse("host=127.0.0.1 port=" + PgServerPorts.closedPort() + " user=repmgr dbname=repmgr connect_timeout=2");
        assertThatThrownBy(() -> clone(config(11, s), s).upstreamConninfo(nowhere).execute())
                .isInstanceOfSatisfying(ReplicationException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.DB_CONN);
                    assertThat(e.getMessage()).startsWith("upstream connection: unable to connect to 127.0.0.1:");
                });
        assertThat(s.dataDirectory()).doesNotExist();
        assertThat(cloneEvents(11)).first().satisfies(ev -> assertThat(ev.successful()).isFalse());
    }

    @Test
    @Order(12)
    void upstreamWithoutMetadata() {
        PgSandbox s = sandbox("nometa");
        try (PgServer bare = PgServer.builder().name("bare").setting("wal_log_hints", "off").start()) {
            OperationReport plan = clone(config(12, s), s).upstreamConninfo(bare.conninfo()).plan();
            assertThat(plan.ready()).isFalse();
            assertThat(plan.successful()).isFalse();
            assertThat(plan.summary()).endsWith("for \"standby clone\" not met");
            assertThat(plan.check(StandbyCloning.CHECK_METADATA)).hasValueSatisfying(c ->
                    assertThat(c.outcome()).isEqualTo(Check.Outcome.FAILED));
            assertThat(plan.check(StandbyCloning.CHECK_UPSTREAM_NODE)).hasValueSatisfying(c ->
                    assertThat(c.outcome()).isEqualTo(Check.Outcome.WARNING));
            assertThat(plan.check(StandbyCloning.CHECK_REWIND)).hasValueSatisfying(c -> {
                assertThat(c.outcome()).isEqualTo(Check.Outcome.WARNING);
                assertThat(c.detail()).contains("data checksums are not enabled and \"wal_log_hints\" is \"off\"");
                assertThat(c.hint()).hasValueSatisfying(h -> assertThat(h).contains("pg_rewind requires \"wal_log_hints\""));
            });
            assertThatThrownBy(() -> clone(config(12, s), s).upstreamConninfo(bare.conninfo()).execute())
                    .isInstanceOfSatisfying(ReplicationException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
                        assertThat(e.getMessage()).startsWith("repmgr metadata: ").contains("has no repmgr metadata schema");
                    });
            assertThat(bare.query("SELECT count(*) FROM pg_namespace WHERE nspname = 'repmgr'", Long.class)).isZero();
        }
        assertThat(s.dataDirectory()).doesNotExist();
    }

    @Test
    @Order(13)
    void tooFewFreeWalSenders() {
        PgSandbox s = sandbox("senders");
        try (PgServer small = PgServer.builder().name("small").setting("max_wal_senders", "2").start();
             PgServer occupant = small.createStandby("occupant");
             ReplicationCluster other = ReplicationClusters.connect(small.conninfo())) {
            other.registerPrimary(NodeConfig.builder().nodeId(1).nodeName("small").conninfo(small.conninfo())
                    .dataDirectory(small.dataDirectory().toString()).build()).execute();
            NodeConfig node = NodeConfig.builder().from(config(2, s)).conninfo(s.conninfo().without("password")).build();
            assertThatThrownBy(() -> other.cloneStandby(node).execute())
                    .isInstanceOfSatisfying(ReplicationException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
                        assertThat(e.getMessage()).isEqualTo("WAL senders: insufficient free WAL senders on the upstream:"
                                + " 2 required, 1 available (max_wal_senders = 2, 1 in use)");
                        assertThat(e.detail()).hasValueSatisfying(d -> assertThat(d).contains("replication connections"));
                        assertThat(e.hint()).hasValueSatisfying(h -> assertThat(h).contains("max_wal_senders"));
                    });
            assertThat(occupant.inRecovery()).isTrue();
        }
        assertThat(s.dataDirectory()).doesNotExist();
    }

    @Test
    @Order(14)
    void targetTheOsUserCannotWrite() throws IOException {
        Path parent = Files.createTempDirectory("repmgr4j-readonly-");
        try {
            Files.setPosixFilePermissions(parent, PosixFilePermissions.fromString("r-xr-xr-x"));
            String dir = parent.resolve("data").toString();
            PgSandbox s = sandbox("readonly");
            NodeConfig node = NodeConfig.builder().from(config(14, s)).dataDirectory(dir).build();
            assertThatThrownBy(() -> clone(node, s).execute())
                    .isInstanceOfSatisfying(ReplicationException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
                        assertThat(e.getMessage()).isEqualTo("target data directory: \"" + dir + "\" cannot be created: \""
                                + parent + "\" is not a directory OS user \"" + s.osUser() + "\" may write into");
                    });
            assertThat(Path.of(dir)).doesNotExist();
        } finally {
            Files.setPosixFilePermissions(parent, PosixFilePermissions.fromString("rwx------"));
            Files.delete(parent);
        }
    }

    @Test
    @Order(15)
    void majorVersionMismatch() throws IOException {
        Path bindir = Files.createTempDirectory("repmgr4j-fakebin-");
        try {
            Files.setPosixFilePermissions(bindir, PosixFilePermissions.fromString("rwxr-xr-x"));
            try (Stream<Path> real = Files.list(pg1.bindir())) {
                for (Path p : real.toList()) {
                    if (!p.getFileName().toString().equals("pg_basebackup")) {
                        Files.createSymbolicLink(bindir.resolve(p.getFileName()), p);
                    }
                }
            }
            Path fake = bindir.resolve("pg_basebackup");
            Files.writeString(fake, "#!/bin/sh\necho 'pg_basebackup (PostgreSQL) 14.9'\n");
            Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
            PgSandbox s = sandbox("version");
            NodeConfig node = NodeConfig.builder().from(config(15, s)).pgBindir(bindir.toString()).build();
            assertThatThrownBy(() -> clone(node, s).execute())
                    .isInstanceOfSatisfying(ReplicationException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
                        assertThat(e.getMessage()).isEqualTo("pg_basebackup version: \"" + fake + "\" is version 14"
                                + " but the upstream runs PostgreSQL 15");
                        assertThat(e.hint()).hasValueSatisfying(h -> assertThat(h).contains("pg_bindir"));
                    });
            assertThat(s.dataDirectory()).doesNotExist();
        } finally {
            try (Stream<Path> files = Files.list(bindir)) {
                for (Path p : files.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(bindir);
        }
    }

    @Test
    @Order(16)
    void registeringOverAnExistingRecordIsRefusedBeforeCopying() {
        PgSandbox s = sandbox("dupid");
        List<NodeRecord> before = cluster.metadata().nodes();
        assertThatThrownBy(() -> clone(config(2, s), s).thenRegister().execute())
                .isInstanceOfSatisfying(ReplicationException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
                    assertThat(e.getMessage()).contains("node ID 2 is already registered");
                });
        assertThat(s.dataDirectory()).doesNotExist();
        assertThat(cluster.metadata().nodes()).isEqualTo(before);
    }

    // ------------------------------------------------------------------ failures during the copy

    @Test
    @Order(20)
    void upstreamKilledMidwayLeavesNothingBehind() throws Exception {
        PgSandbox s = sandbox("pg6");
        CountDownLatch copying = new CountDownLatch(1);
        CompletableFuture<CloneReport> running = CompletableFuture.supplyAsync(() -> clone(config(6, s), s)
                .upstreamNodeId(2)
                .basebackupOptions(List.of("--max-rate=1M")) // slow enough to be killed midway
                .progressListener((done, total) -> {
                    if (done > 0) {
                        copying.countDown();
                    }
                })
                .execute());
        assertThat(copying.await(60, TimeUnit.SECONDS)).as("the copy reported progress").isTrue();
        pg2.kill9();
        try {
            assertThatThrownBy(() -> running.get(120, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOfSatisfying(ReplicationException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.BAD_BASEBACKUP);
                        assertThat(e.getMessage()).startsWith("pg_basebackup failed with exit code 1");
                        assertThat(e.detail()).hasValueSatisfying(d -> assertThat(d)
                                .contains("undone: remove the partial copy").contains("nothing was left behind"));
                    });
            assertThat(s.dataDirectory()).doesNotExist();
            assertThat(cloneEvents(6)).first().satisfies(ev -> {
                assertThat(ev.successful()).isFalse();
                assertThat(ev.details()).hasValueSatisfying(d -> assertThat(d).contains("pg_basebackup failed"));
            });
        } finally {
            pg2.start();
        }
    }

    @Test
    @Order(21)
    void copyStoppedByItsTimeoutDropsTheSlot() {
        PgSandbox s = sandbox("pg7");
        NodeConfig node = NodeConfig.builder().from(config(7, s)).useReplicationSlots(true).build();
        assertThatThrownBy(() -> clone(node, s).basebackupOptions(List.of("--max-rate=32k")).timeout(Duration.ofSeconds(3)).execute())
                .isInstanceOfSatisfying(ReplicationException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.BAD_BASEBACKUP);
                    assertThat(e.getMessage()).isEqualTo("pg_basebackup did not finish within 3 s and was stopped");
                    assertThat(e.detail()).hasValueSatisfying(d -> assertThat(d)
                            .contains("undone: ").contains("drop replication slot \"repmgr_slot_7\"")
                            .contains("nothing was left behind"));
                });
        assertThat(slotCount(pg1, "repmgr_slot_7")).isZero();
        assertThat(s.dataDirectory()).doesNotExist();
        assertThat(cloneEvents(7)).first().satisfies(ev -> assertThat(ev.successful()).isFalse());
    }

    @Test
    @Order(22)
    void aPartialCopyThatCannotBeRemovedIsMarkedAndLosesItsStandbySignal() {
        PgSandbox s = sandbox("stuck");
        String dir = s.dataDirectory().toString();
        NodeHost host = new NodeHost(s.runner());
        host.mkdirs(dir + "/base/locked", 0700);
        host.writeFile(dir + "/base/locked/16384", "data", 0600);
        host.writeFile(dir + "/standby.signal", "", 0600);
        host.chmod(dir + "/base/locked", 0500); // its file cannot be deleted now
        try {
            assertThatThrownBy(() -> StandbyCloning.removePartialCopy(host, dir, false))
                    .isInstanceOfSatisfying(ReplicationException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.BAD_BASEBACKUP);
                        assertThat(e.getMessage()).isEqualTo("the partial copy in \"" + dir + "\" could not be removed");
                        assertThat(e.detail()).hasValueSatisfying(d -> assertThat(d)
                                .contains("it holds no standby.signal and is marked with " + StandbyCloning.INCOMPLETE_MARKER));
                        assertThat(e.hint()).hasValueSatisfying(h -> assertThat(h).contains("by hand"));
                    });
            assertThat(host.exists(dir + "/standby.signal")).isFalse();
            assertThat(host.readFile(dir + "/" + StandbyCloning.INCOMPLETE_MARKER)).contains("Do not start a server on it");
        } finally {
            host.chmod(dir + "/base/locked", 0700);
        }
    }
}

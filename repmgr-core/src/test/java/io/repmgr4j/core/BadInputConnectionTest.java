package io.repmgr4j.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.testkit.PgServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

/**
 * Connection errors name their cause: a handle whose seeds cannot give it the metadata
 * (wrong password, no password, a refused port, a port that never answers, a missing
 * database, TLS the server does not offer, a server without the schema) says, for each
 * node, the SQLState and the server's message in DETAIL, and a HINT that fits the cause.
 * Each case also checks that the registered cluster's records and events are unchanged.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BadInputConnectionTest {
    private static final String SECRET = "conn-s3cret";
    private PgServer pg1;
    private PgServer bare;
    private ServerSocket silent;
    private int closedPort;

    @BeforeAll
    void start() throws IOException {
        pg1 = PgServer.builder().name("pg1").password(SECRET).start();
        try (ReplicationCluster c = ReplicationClusters.builder().seed(pg1.conninfo()).build()) {
            c.registerPrimary(pg1.nodeConfig(1).build()).execute();
        }
        bare = PgServer.builder().name("bare").password(SECRET).start();
        silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress()); // accepts into its backlog, never answers
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
    }

    @AfterAll
    void stop() throws IOException {
        if (silent != null) {
            silent.close();
        }
        if (bare != null) {
            bare.close();
        }
        if (pg1 != null) {
            pg1.close();
        }
    }

    private String state() {
        return pg1.query("SELECT (SELECT string_agg(node_id || ':' || node_name || ':' || active, ',') FROM repmgr.nodes)"
                + " || '/' || (SELECT count(*) FROM repmgr.events)", String.class);
    }

    record Case(String name, List<String> seeds, List<String> detail, String hint) {
    }

    private String pg1With(String change) {
        return pg1.conninfo().render() + " " + change;
    }

    Stream<Case> cases() {
        String silentSeed = "host=127.0.0.1 port=" + silent.getLocalPort() + " user=repmgr dbname=repmgr connect_timeout=2";
        String closedSeed = "host=127.0.0.1 port=" + closedPort + " user=repmgr dbname=repmgr connect_timeout=2";
        return Stream.of(
                new Case("wrong password", List.of(pg1With("password=wrong")),
                        List.of("127.0.0.1:" + pg1.port() + ": [28P01]", "password authentication failed"),
                        "check the user and password"),
                new Case("no password", List.of(pg1.conninfo().without("password").render()),
                        List.of("127.0.0.1:" + pg1.port() + ": [08004]", "no password was provided"),
                        "check the user and password"),
                new Case("unknown user", List.of(pg1With("user=nosuchuser")),
                        List.of("127.0.0.1:" + pg1.port() + ": [28P01]"), "check the user and password"),
                new Case("refused port", List.of(closedSeed), List.of("127.0.0.1:" + closedPort + ": [08001]", "refused"),
                        "check that the server is running and accepts TCP connections"),
                new Case("a port that never answers", List.of(silentSeed), List.of("127.0.0.1:" + silent.getLocalPort() + ": [08"),
                        "check that the server is running and accepts TCP connections"),
                new Case("missing database", List.of(pg1With("dbname=nosuchdb")),
                        List.of("127.0.0.1:" + pg1.port() + ": [3D000]", "\"nosuchdb\" does not exist"), "check dbname"),
                new Case("TLS the server does not offer", List.of(pg1With("sslmode=require")),
                        List.of("127.0.0.1:" + pg1.port() + ": [08004]", "SSL"), "check sslmode and the certificates"),
                new Case("a server without the schema", List.of(bare.conninfo().render()),
                        List.of("127.0.0.1:" + bare.port() + ": reachable, but it has no repmgr schema"),
                        "register the primary first"),
                new Case("two seeds, two causes", List.of(pg1With("password=wrong"), closedSeed),
                        List.of("[28P01]", "127.0.0.1:" + closedPort + ": [08001]"),
                        "check the user and password in the conninfo (or the passfile / PGPASSFILE it names) and the server's"
                                + " pg_hba.conf line for this client; check that the server is running"));
    }

    @TestFactory
    Stream<DynamicTest> unreadableMetadataNamesEachNodesCause() {
        return cases().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            String before = state();
            var b = ReplicationClusters.builder();
            c.seeds().forEach(s -> b.seed(ConnInfo.parse(s)));
            ReplicationException e;
            try (ReplicationCluster cluster = b.build()) {
                e = catchThrowableOfType(ReplicationException.class, () -> cluster.metadata().nodes());
            }
            assertThat(e).as(c.name()).isNotNull();
            assertThat(e.code()).isEqualTo(ErrorCode.DB_CONN);
            assertThat(e.getMessage()).isEqualTo("unable to read the repmgr metadata from any node");
            assertThat(e.detail().orElseThrow()).as(e.toReport()).contains(c.detail());
            assertThat(e.hint().orElseThrow()).as(e.toReport()).contains(c.hint());
            if (!c.hint().startsWith("register")) {
                assertThat(e.hint().orElseThrow()).as(e.toReport()).doesNotContain("register the primary first");
            }
            assertThat(e.toReport()).doesNotContain(SECRET);
            assertThat(state()).as("the cluster's records and events").isEqualTo(before);
        }));
    }
}

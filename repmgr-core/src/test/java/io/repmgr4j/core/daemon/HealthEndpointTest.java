package io.repmgr4j.core.daemon;

import static io.repmgr4j.core.daemon.DaemonTestSupport.await;
import static io.repmgr4j.core.daemon.DaemonTestSupport.config;
import static io.repmgr4j.core.daemon.DaemonTestSupport.fast;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.DaemonOptions;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.FailoverDaemon;
import io.repmgr4j.HttpEndpoint;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.core.ReplicationClusters;
import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The daemons' HTTP health endpoints on real servers, asked with real HTTP requests: a
 * primary (pg1) and a streaming standby (pg2), each with its daemon serving on a free
 * loopback port; Patroni's status codes for every path, HEAD and OPTIONS, the 4xx answers,
 * cluster show and metrics, basic authentication and TLS, and a stopped server.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HealthEndpointTest {
    private PgReplicaSet set;
    private ReplicationCluster cluster;
    private final List<FailoverDaemon> daemons = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private int port1;
    private int port2;
    private NodeConfig c1;
    private NodeConfig c2;

    @BeforeAll
    void start() throws IOException {
        set = PgReplicaSet.start(2);
        cluster = ReplicationClusters.connect(set.primary().conninfo());
        c1 = config(1, set.server("pg1"), 100);
        c2 = config(2, set.server("pg2"), 0, b -> b.location("dc2"));
        cluster.registerPrimary(c1).execute();
        cluster.registerStandby(c2).waitUntilAttached(Duration.ofSeconds(30)).execute();
        port1 = freePort();
        port2 = freePort();
        daemons.add(cluster.daemon(c1, withHttp(port1, b -> { })).start());
        daemons.add(cluster.daemon(c2, DaemonOptions.builder().from(withHttp(port2, b -> { }))
                .metrics(() -> "# TYPE test_up gauge\ntest_up 1\n").build()).start());
        await("pg1's endpoint to name it the primary", Duration.ofSeconds(20), () -> status("GET", port1, "/primary") == 200);
        await("pg2's endpoint to name it a replica", Duration.ofSeconds(20), () -> status("GET", port2, "/replica") == 200);
    }

    @AfterAll
    void stop() {
        daemons.forEach(FailoverDaemon::close);
        if (cluster != null) {
            cluster.close();
        }
        if (set != null) {
            set.close();
        }
    }

    private static DaemonOptions withHttp(int port, java.util.function.Consumer<io.repmgr4j.ImmutableHttpEndpoint.Builder> tweak) {
        io.repmgr4j.ImmutableHttpEndpoint.Builder b = HttpEndpoint.builder().port(port);
        tweak.accept(b);
        return DaemonOptions.builder().from(fast()).http(b.build()).build();
    }

    @Test
    @Order(1)
    void primaryAnswersAsPatroniDoes() {
        for (String p : List.of("/", "/primary", "/read-write", "/leader", "/read-only", "/health", "/liveness",
                "/readiness", "/patroni")) {
            assertThat(status("GET", port1, p)).as("GET %s on the primary", p).isEqualTo(200);
        }
        assertThat(status("GET", port1, "/replica")).isEqualTo(503);
        HttpResponse<String> r = get(port1, "/primary");
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(r.body()).contains("\"role\":\"primary\"", "\"node_id\":1", "\"legitimate_primary\":true",
                "\"metadata_primary_id\":1", "\"timeline\":1");
        assertThat(daemons.get(0).health()).hasValueSatisfying(h -> assertThat(h.legitimatePrimary(1)).isTrue());
    }

    @Test
    @Order(2)
    void standbyAnswersAsPatroniDoes() {
        for (String p : List.of("/", "/primary", "/read-write", "/leader")) {
            assertThat(status("GET", port2, p)).as("GET %s on the standby", p).isEqualTo(503);
        }
        for (String p : List.of("/replica", "/read-only", "/health", "/liveness", "/readiness", "/replica?lag=16MB",
                "/replica?lag=1048576", "/replica?tag_location=dc2", "/replica?tag_nofailover=true",
                "/replica?tag_priority=0&lag=1GB", "/read-only?lag=16kB")) {
            assertThat(status("GET", port2, p)).as("GET %s on the standby", p).isEqualTo(200);
        }
        for (String p : List.of("/replica?tag_location=dc1", "/replica?tag_nofailover=false", "/replica?tag_priority=100",
                "/readiness?tag_location=dc1")) {
            assertThat(status("GET", port2, p)).as("GET %s on the standby", p).isEqualTo(503);
        }
        String body = get(port2, "/replica").body();
        assertThat(body).contains("\"role\":\"replica\"", "\"streaming\":true", "\"metadata_primary_id\":1",
                "\"upstream_node_id\":1");
        assertThat(body).containsPattern("\"lag_bytes\":[0-9]+");
    }

    @Test
    @Order(3)
    void headAndOptionsGiveTheStatusWithoutABody() {
        assertThat(send("HEAD", port1, "/primary").statusCode()).isEqualTo(200);
        assertThat(send("HEAD", port2, "/primary").statusCode()).isEqualTo(503);
        HttpResponse<String> o = send("OPTIONS", port1, "/primary");
        assertThat(o.statusCode()).isEqualTo(200);
        assertThat(o.body()).isEmpty();
        assertThat(o.headers().firstValue("Allow")).hasValue("GET, HEAD, OPTIONS");
        assertThat(send("OPTIONS", port2, "/primary").statusCode()).isEqualTo(503);
        assertThat(send("OPTIONS", port2, "/replica").statusCode()).isEqualTo(200);
        assertThat(send("HEAD", port2, "/replica").body()).isEmpty();
    }

    @Test
    @Order(4)
    void wrongPathsMethodsAndParametersAre4xxWithAReason() {
        HttpResponse<String> post = send("POST", port1, "/primary");
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.headers().firstValue("Allow")).hasValue("GET, HEAD, OPTIONS");
        assertThat(post.body()).contains("method POST is not allowed");
        assertThat(send("DELETE", port1, "/replica").statusCode()).isEqualTo(405);

        HttpResponse<String> nf = get(port1, "/masterr");
        assertThat(nf.statusCode()).isEqualTo(404);
        assertThat(nf.body()).contains("no endpoint /masterr", "/primary", "/replica");

        assertThat(get(port2, "/replica?lag=abc").body()).contains("invalid lag", "16MB");
        assertThat(status("GET", port2, "/replica?lag=abc")).isEqualTo(400);
        assertThat(status("GET", port2, "/replica?lag=5XB")).isEqualTo(400);
        assertThat(status("GET", port2, "/replica?tag_nofailover=maybe")).isEqualTo(400);
        assertThat(get(port2, "/replica?colour=red").body()).contains("unknown query parameter \\\"colour\\\"");
        assertThat(status("GET", port1, "/primary?lag=1")).isEqualTo(400);
        assertThat(status("GET", port1, "/replica?lag=1&lag=2")).isEqualTo(400);
    }

    @Test
    @Order(5)
    void clusterAndMetrics() {
        HttpResponse<String> c = get(port1, "/cluster");
        assertThat(c.statusCode()).isEqualTo(200);
        assertThat(c.body()).contains("\"members\":[", "\"name\":\"pg1\"", "\"name\":\"pg2\"", "\"role\":\"primary\"",
                "\"role\":\"standby\"", "\"location\":\"dc2\"");
        assertThat(c.body()).doesNotContain("password");
        HttpResponse<String> none = get(port1, "/metrics");
        assertThat(none.statusCode()).isEqualTo(404);
        assertThat(none.body()).contains("repmgr-metrics");
        HttpResponse<String> m = get(port2, "/metrics");
        assertThat(m.statusCode()).isEqualTo(200);
        assertThat(m.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain; version=0.0.4");
        assertThat(m.body()).contains("test_up 1");
    }

    @Test
    @Order(6)
    void basicAuthAndTls(@TempDir Path dir) throws Exception {
        daemons.remove(1).close();
        assertThatThrownBy(() -> get(port2, "/replica")).isInstanceOf(AssertionError.class); // nothing listens any more
        Path ks = dir.resolve("server.p12");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-genkeypair",
                "-alias", "health", "-keyalg", "EC", "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1", "-validity", "2",
                "-storetype", "PKCS12", "-keystore", ks.toString(), "-storepass", "ks-secret", "-keypass", "ks-secret")
                .redirectErrorStream(true).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isZero();
        HttpEndpoint ep = HttpEndpoint.builder().port(port2).user("haproxy").password("s3cret-pw").keystore(ks)
                .keystorePassword("ks-secret").build();
        assertThat(ep.toString()).doesNotContain("s3cret-pw", "ks-secret");
        daemons.add(cluster.daemon(c2, DaemonOptions.builder().from(fast()).http(ep).build()).start());

        KeyStore trust = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(ks)) {
            trust.load(in, "ks-secret".toCharArray());
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        HttpClient tls = HttpClient.newBuilder().sslContext(ctx).connectTimeout(Duration.ofSeconds(5)).build();
        URI uri = URI.create("https://127.0.0.1:" + port2 + "/replica");
        String good = "Basic " + Base64.getEncoder().encodeToString("haproxy:s3cret-pw".getBytes(StandardCharsets.UTF_8));
        String bad = "Basic " + Base64.getEncoder().encodeToString("haproxy:wrong".getBytes(StandardCharsets.UTF_8));
        await("pg2's TLS endpoint to name it a replica", Duration.ofSeconds(20),
                () -> call(tls, HttpRequest.newBuilder(uri).header("Authorization", good)).statusCode() == 200);
        HttpResponse<String> noAuth = call(tls, HttpRequest.newBuilder(uri));
        assertThat(noAuth.statusCode()).isEqualTo(401);
        assertThat(noAuth.headers().firstValue("WWW-Authenticate").orElse("")).startsWith("Basic");
        assertThat(call(tls, HttpRequest.newBuilder(uri).header("Authorization", bad)).statusCode()).isEqualTo(401);
        assertThatThrownBy(() -> get(port2, "/replica")).isInstanceOf(AssertionError.class); // plain HTTP is refused
    }

    @Test
    @Order(7)
    void aStoppedServerIsNotHealthyButItsDaemonIsAlive() {
        PgServer pg1 = set.server("pg1");
        pg1.stop();
        await("pg1's endpoint to report its server down", Duration.ofSeconds(10), () -> status("GET", port1, "/health") == 503);
        assertThat(status("GET", port1, "/primary")).isEqualTo(503);
        assertThat(status("GET", port1, "/read-only")).isEqualTo(503);
        assertThat(status("GET", port1, "/liveness")).isEqualTo(200);
        assertThat(get(port1, "/patroni").body()).contains("\"state\":\"stopped\"");
        pg1.start();
        await("pg1's endpoint to name it the primary again", Duration.ofSeconds(20), () -> status("GET", port1, "/primary") == 200);
    }

    @Test
    @Order(8)
    void aBusyPortIsRefusedBeforeTheDaemonRuns() throws IOException {
        try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            FailoverDaemon d = cluster.daemon(c1, withHttp(busy.getLocalPort(), b -> { }));
            // node 1's daemon already runs: the port is checked first, so the error is about the port
            assertThatThrownBy(d::start).isInstanceOfSatisfying(ReplicationException.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
                assertThat(e.getMessage()).contains("cannot serve the health endpoints on 127.0.0.1:" + busy.getLocalPort());
            });
            d.close();
        }
        assertThatThrownBy(() -> HttpEndpoint.builder().port(8008).user("a").build())
                .isInstanceOf(ReplicationException.class).hasMessageContaining("http_user and http_password");
        assertThatThrownBy(() -> HttpEndpoint.builder().port(70000).build())
                .isInstanceOf(ReplicationException.class).hasMessageContaining("out of range");
    }

    // ------------------------------------------------------------------ helpers

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private int status(String method, int port, String path) {
        return send(method, port, path).statusCode();
    }

    private HttpResponse<String> get(int port, String path) {
        return send("GET", port, path);
    }

    private HttpResponse<String> send(String method, int port, String path) {
        return call(http, HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .method(method, HttpRequest.BodyPublishers.noBody()));
    }

    private static HttpResponse<String> call(HttpClient client, HttpRequest.Builder b) {
        try {
            return client.send(b.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new AssertionError("request failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}

package io.repmgr4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** The test etcd cluster: a real quorum, members stopped and started again, cleanup, the sweep. */
class EtcdClusterTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @Test
    void threeMembersServeAQuorumThroughTheLossOfOneAndAreRemovedOnClose() throws Exception {
        Path dir;
        long pid0;
        int port0;
        try (EtcdCluster etcd = EtcdCluster.start(3)) {
            dir = etcd.directory();
            port0 = URI.create(etcd.endpoint(0)).getPort();
            assertThat(etcd.endpoints().split(",")).hasSize(3).allMatch(e -> e.startsWith("http://127.0.0.1:"));

            put(etcd.endpoint(0), "k", "one");
            assertThat(get(etcd.endpoint(2), "k")).isEqualTo("one");

            int leader = etcd.awaitLeader(Duration.ofSeconds(30));
            etcd.killMember(leader);
            assertThat(etcd.isRunning(leader)).isFalse();
            assertThat(etcd.awaitLeader(Duration.ofSeconds(30))).isNotEqualTo(leader); // the other two elect one
            int other = (leader + 1) % 3;
            put(etcd.endpoint(other), "k", "two"); // two of three are a quorum
            assertThat(get(etcd.endpoint((leader + 2) % 3), "k")).isEqualTo("two");

            etcd.startMember(leader);
            assertThat(etcd.isRunning(leader)).isTrue();
            assertThat(get(etcd.endpoint(leader), "k")).isEqualTo("two"); // same data directory, caught up

            etcd.stopMember(1);
            etcd.stopMember(2);
            assertThat(etcd.isRunning(1)).isFalse();
            etcd.startMember(1); // back to a quorum
            etcd.awaitLeader(Duration.ofSeconds(30));
            put(etcd.endpoint(0), "k", "three");
            pid0 = etcd.pid(0);
            assertThat(etcd.log(0)).contains("\"msg\"");
        }
        assertThat(Workspace.isAlive(pid0)).isFalse();
        assertThat(dir).doesNotExist();
        assertThat(accepts(port0)).isFalse();
    }

    @Test
    void theSweepKillsMembersLeftByADeadJvm() throws Exception {
        EtcdCluster etcd = EtcdCluster.start(1);
        try {
            long pid = etcd.pid(0);
            Process gone = new ProcessBuilder("true").start();
            gone.waitFor();
            Files.writeString(etcd.directory().resolve(Workspace.OWNER_FILE), gone.pid() + "\n");
            assertThat(Workspace.isStale(etcd.directory())).isTrue();

            Workspace.sweep();

            assertThat(Workspace.isAlive(pid)).isFalse();
            assertThat(etcd.directory()).doesNotExist();
        } finally {
            etcd.close();
        }
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private static String post(String endpoint, String path, String body) throws IOException, InterruptedException {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(endpoint + path)).timeout(Duration.ofSeconds(5))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return r.body();
    }

    private static void put(String endpoint, String key, String value) throws IOException, InterruptedException {
        post(endpoint, "/v3/kv/put", "{\"key\":\"" + b64(key) + "\",\"value\":\"" + b64(value) + "\"}");
    }

    private static String get(String endpoint, String key) throws IOException, InterruptedException {
        String body = post(endpoint, "/v3/kv/range", "{\"key\":\"" + b64(key) + "\"}");
        int at = body.indexOf("\"value\":\"");
        assertThat(at).as(body).isPositive();
        String v = body.substring(at + 9, body.indexOf('"', at + 9));
        return new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8);
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}

package io.repmgr4j.core.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.HttpEndpoint;
import io.repmgr4j.ReplicationException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A daemon's HTTP health endpoints on the JDK's built-in server ({@code com.sun.net.httpserver}):
 * binds {@link HttpEndpoint#listenAddress()}:{@link HttpEndpoint#port()}, speaks HTTPS when
 * a keystore is given, checks basic authentication when a user is given, and answers
 * {@code GET}, {@code HEAD} and {@code OPTIONS} as Patroni does (HEAD and OPTIONS: the
 * same status code, no body); other methods get 405, unknown paths 404, bad parameters
 * 400, each with a JSON body saying why. See {@link HealthChecks} for the rules.
 *
 * <p>Each connection carries one request ({@code Connection: close}). Requests are served by two threads ({@code repmgr4j-http-<id>-N}). The JDK server's
 * timeouts for reading a request and writing a response are set to 10 s through its
 * system properties {@code sun.net.httpserver.maxReqTime} / {@code maxRspTime} when
 * these are not set already (they are read once per JVM, when the first server starts).
 * Thread-safe; {@link #close()} is idempotent.
 */
public final class HealthServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HealthServer.class);
    private static final String ALLOW = "GET, HEAD, OPTIONS";

    private final HttpServer server;
    private final ExecutorService pool;
    private final HealthChecks checks;
    private final byte[] expectedAuth;

    private HealthServer(HttpServer server, ExecutorService pool, HealthChecks checks, byte[] expectedAuth) {
        this.server = server;
        this.pool = pool;
        this.checks = checks;
        this.expectedAuth = expectedAuth;
    }

    /**
     * Starts serving {@code source} at {@code endpoint}.
     *
     * @throws ReplicationException {@code BAD_CONFIG} when the address cannot be bound or
     *     the keystore cannot be read
     */
    public static HealthServer start(HttpEndpoint endpoint, HealthSource source) {
        setDefault("sun.net.httpserver.maxReqTime", "10");
        setDefault("sun.net.httpserver.maxRspTime", "10");
        InetSocketAddress addr = new InetSocketAddress(endpoint.listenAddress(), endpoint.port());
        if (addr.isUnresolved()) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "http_listen_address \"" + endpoint.listenAddress()
                    + "\" does not resolve", "the health endpoints bind that address", "give an IP address of this host");
        }
        HttpServer server;
        try {
            if (endpoint.keystore().isPresent()) {
                HttpsServer https = HttpsServer.create(addr, 64);
                https.setHttpsConfigurator(new HttpsConfigurator(tls(endpoint)));
                server = https;
            } else {
                server = HttpServer.create(addr, 64);
            }
        } catch (IOException e) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "cannot serve the health endpoints on "
                    + endpoint.listenAddress() + ":" + endpoint.port(), e.toString(),
                    "choose a free port (http_port) and an address of this host (http_listen_address)", e);
        }
        AtomicInteger n = new AtomicInteger();
        int id = source.node().nodeId();
        ExecutorService pool = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "repmgr4j-http-" + id + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        byte[] auth = endpoint.user().map(u -> ("Basic " + Base64.getEncoder().encodeToString(
                (u + ":" + endpoint.password().orElse("")).getBytes(StandardCharsets.UTF_8))).getBytes(StandardCharsets.UTF_8))
                .orElse(null);
        HealthServer hs = new HealthServer(server, pool, new HealthChecks(source), auth);
        server.createContext("/", hs::handle);
        server.setExecutor(pool);
        server.start();
        LOG.info("[{}] health endpoints on {}://{}:{}/", source.node().nodeName(),
                endpoint.keystore().isPresent() ? "https" : "http", endpoint.listenAddress(), hs.port());
        return hs;
    }

    /** The port the server listens on. */
    public int port() {
        return server.getAddress().getPort();
    }

    private static void setDefault(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    private static SSLContext tls(HttpEndpoint endpoint) {
        char[] pw = endpoint.keystorePassword().orElse("").toCharArray();
        try (InputStream in = Files.newInputStream(endpoint.keystore().get())) {
            String name = endpoint.keystore().get().getFileName().toString().toLowerCase(java.util.Locale.ROOT);
            KeyStore ks = KeyStore.getInstance(name.endsWith(".jks") ? "JKS" : "PKCS12");
            ks.load(in, pw);
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, pw);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), null, null);
            return ctx;
        } catch (IOException | GeneralSecurityException e) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "cannot read keystore " + endpoint.keystore().get()
                    + " for the health endpoints", e.getClass().getSimpleName() + (e.getMessage() == null ? ""
                    : ": " + e.getMessage()), "check http_keystore (a PKCS#12 or JKS file) and http_keystore_password", e);
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            drain(ex.getRequestBody());
            String method = ex.getRequestMethod();
            boolean head = method.equals("HEAD");
            boolean options = method.equals("OPTIONS");
            if (expectedAuth != null && !authorized(ex)) {
                ex.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"repmgr4j\", charset=\"UTF-8\"");
                send(ex, HealthChecks.Answer.error(401, "authentication required (HTTP basic)"), head || options);
                return;
            }
            if (!method.equals("GET") && !head && !options) {
                ex.getResponseHeaders().set("Allow", ALLOW);
                send(ex, HealthChecks.Answer.error(405, "method " + method + " is not allowed; the health endpoints answer "
                        + ALLOW), false);
                return;
            }
            HealthChecks.Answer a;
            try {
                URI uri = ex.getRequestURI();
                a = checks.answer(uri.getPath() == null ? "/" : uri.getPath(), query(uri.getRawQuery()));
            } catch (HealthChecks.BadRequest e) {
                a = HealthChecks.Answer.error(400, e.getMessage());
            } catch (RuntimeException e) {
                LOG.debug("health endpoint {} failed", ex.getRequestURI(), e);
                a = HealthChecks.Answer.error(503, "cannot answer now: " + e.getMessage());
            }
            if (options) {
                ex.getResponseHeaders().set("Allow", ALLOW);
            }
            send(ex, a, head || options);
        }
    }

    private boolean authorized(HttpExchange ex) {
        String got = ex.getRequestHeaders().getFirst("Authorization");
        return got != null && MessageDigest.isEqual(got.getBytes(StandardCharsets.UTF_8), expectedAuth);
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> out = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return out;
        }
        for (String part : raw.split("&")) {
            if (part.isEmpty()) {
                continue;
            }
            int eq = part.indexOf('=');
            String k;
            String v;
            try {
                k = URLDecoder.decode(eq < 0 ? part : part.substring(0, eq), StandardCharsets.UTF_8);
                v = eq < 0 ? "" : URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw new HealthChecks.BadRequest("malformed query string: " + e.getMessage());
            }
            if (out.put(k, v) != null) {
                throw new HealthChecks.BadRequest("query parameter \"" + k + "\" is given twice");
            }
        }
        return out;
    }

    private static void drain(InputStream in) throws IOException {
        byte[] buf = new byte[1024];
        long total = 0;
        int r;
        while ((r = in.read(buf)) >= 0 && total < 65536) {
            total += r;
        }
    }

    private static void send(HttpExchange ex, HealthChecks.Answer a, boolean noBody) throws IOException {
        ex.getResponseHeaders().set("Content-Type", a.contentType());
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        // one request per connection: health checkers (HAProxy, keepalived) connect anew for each check anyway, and
        // no client is left holding a kept-alive connection that the server's timers may close under it
        ex.getResponseHeaders().set("Connection", "close");
        if (noBody) {
            ex.sendResponseHeaders(a.status(), -1);
            return;
        }
        byte[] body = (a.body() + (a.body().endsWith("\n") ? "" : "\n")).getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(a.status(), body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    /** Stops serving (at once: health checks do not wait for a graceful end). Idempotent. */
    @Override
    public void close() {
        server.stop(0);
        pool.shutdownNow();
    }
}

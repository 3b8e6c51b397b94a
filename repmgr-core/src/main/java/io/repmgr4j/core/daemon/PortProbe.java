package io.repmgr4j.core.daemon;

import io.repmgr4j.ConnInfo;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;

/**
 * Tells positive evidence from silence: a plain TCP connect to a node's first host and
 * port. {@link Reach#REFUSED} means the host answered and refused the port (a TCP reset:
 * nothing listens, so no PostgreSQL there can acknowledge a write); a timeout, an
 * unreachable network or host, or a failed name lookup is {@link Reach#SILENT}, which is
 * never evidence of anything. Stateless; thread-safe.
 */
final class PortProbe {
    private PortProbe() {
    }

    /** What a connect to a node's port found. */
    enum Reach {
        /** Something accepted the connection. */
        OPEN,
        /** The host answered and refused the port. */
        REFUSED,
        /** No answer in time, or no route: tells nothing. */
        SILENT
    }

    static Reach probe(ConnInfo node, Duration timeout) {
        ConnInfo.HostPort hp = node.hosts().get(0);
        if (hp.host().startsWith("/")) {
            return Reach.SILENT; // a Unix socket: no network evidence to read
        }
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(hp.host(), hp.port()), (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis())));
            return Reach.OPEN;
        } catch (ConnectException e) {
            String m = String.valueOf(e.getMessage());
            return m.contains("refused") ? Reach.REFUSED : Reach.SILENT;
        } catch (SocketTimeoutException e) {
            return Reach.SILENT;
        } catch (IOException | RuntimeException e) {
            return Reach.SILENT;
        }
    }
}

package io.repmgr4j.core.host;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Comparing host names as conninfo and {@code pg_stat_wal_receiver} give them. A static
 * utility; thread-safe.
 */
public final class Hosts {
    private Hosts() {
    }

    /**
     * Whether {@code a} and {@code b} name the same host: equal ignoring case, or resolving
     * to the same address, or both loopback. A Unix-domain socket directory (a path) only
     * equals itself; {@code null} equals nothing. Names that do not resolve are different.
     */
    public static boolean sameHost(String a, String b) {
        if (a == null || b == null) {
            return false;
        }
        if (a.equalsIgnoreCase(b)) {
            return true;
        }
        if (a.startsWith("/") || b.startsWith("/")) {
            return false;
        }
        try {
            InetAddress x = InetAddress.getByName(a);
            InetAddress y = InetAddress.getByName(b);
            return x.equals(y) || (x.isLoopbackAddress() && y.isLoopbackAddress());
        } catch (UnknownHostException e) {
            return false;
        }
    }
}

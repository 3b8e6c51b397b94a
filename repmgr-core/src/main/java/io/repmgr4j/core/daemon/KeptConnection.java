package io.repmgr4j.core.daemon;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.sql.ConnectionSource;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.function.Supplier;

/**
 * One connection a daemon keeps open between checks, opened on first use and again after
 * a failure. Used by one thread at a time (the daemon's monitoring thread), except
 * {@link #abort()}, which any thread may call to break a blocked call.
 */
final class KeptConnection implements AutoCloseable {
    private final Supplier<Connection> opener;
    private volatile Connection connection;
    private volatile boolean closed;

    KeptConnection(Supplier<Connection> opener) {
        this.opener = opener;
    }

    /** The open connection, opening one when there is none. */
    Connection get() {
        Connection c = connection;
        if (c == null) {
            if (closed) {
                throw new ReplicationException(ErrorCode.INTERNAL, "the daemon closed this connection for good");
            }
            c = opener.get();
            connection = c;
            if (closed) { // closed while opening: do not leave it open
                reset();
                throw new ReplicationException(ErrorCode.INTERNAL, "the daemon closed this connection for good");
            }
        }
        return c;
    }

    boolean isOpen() {
        return connection != null;
    }

    /** Closes the connection (after a failure); the next {@link #get()} opens a new one. */
    void reset() {
        Connection c = connection;
        connection = null;
        if (c != null) {
            try {
                c.close();
            } catch (SQLException | RuntimeException ignored) {
                // it is being thrown away
            }
        }
    }

    /** Breaks the connection at once, even while another thread is blocked on it. */
    void abort() {
        Connection c = connection;
        connection = null;
        if (c != null) {
            try {
                c.abort(Runnable::run);
            } catch (SQLException | RuntimeException ignored) {
                // best effort
            }
        }
    }

    /**
     * A source that hands out this connection behind a proxy whose {@code close()} does
     * nothing, so that a {@code JdbcMetadataStore} can use it call after call.
     */
    ConnectionSource asSource() {
        return () -> unclosable(get());
    }

    /** A source that always hands out {@code c}, behind a proxy whose {@code close()} does nothing. */
    static ConnectionSource nonClosing(Connection c) {
        return () -> unclosable(c);
    }

    private static Connection unclosable(Connection real) {
        return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("close") && (args == null || args.length == 0)) {
                        return null;
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** Closes the connection for good: later {@link #get()} calls fail instead of opening one. */
    @Override
    public void close() {
        closed = true;
        reset();
    }
}

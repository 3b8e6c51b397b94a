package io.repmgr4j.jdbc;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.Statement;

/**
 * A connection the DataSource handed out, bound to one node: a {@link Proxy} over the
 * driver's connection that, once the node is no longer the primary (or no longer an
 * eligible standby), answers {@code isValid} with false and every other use (also through
 * its statements) with an {@link SQLException} of SQLState {@value #SQLSTATE}, so that
 * pools evict it; its driver connection is then aborted. {@code close} always works.
 * Thread-safe.
 */
final class RoutedConnection implements InvocationHandler {
    /** connection_failure: pools (HikariCP among them) evict a connection on any 08 state. */
    static final String SQLSTATE = "08006";

    private final Connection physical;
    private final Topology.Member node;
    private final boolean primary;
    private final ClusterDataSource owner;
    private final Connection proxy;
    private volatile String invalidReason;

    private RoutedConnection(Connection physical, Topology.Member node, boolean primary, ClusterDataSource owner) {
        this.physical = physical;
        this.node = node;
        this.primary = primary;
        this.owner = owner;
        this.proxy = (Connection) Proxy.newProxyInstance(RoutedConnection.class.getClassLoader(),
                new Class<?>[] {Connection.class}, this);
    }

    static RoutedConnection wrap(Connection physical, Topology.Member node, boolean primary, ClusterDataSource owner) {
        return new RoutedConnection(physical, node, primary, owner);
    }

    Connection proxy() {
        return proxy;
    }

    Topology.Member node() {
        return node;
    }

    boolean forPrimary() {
        return primary;
    }

    boolean invalid() {
        return invalidReason != null;
    }

    /** Marks the connection invalid and aborts its driver connection (idempotent). */
    void invalidate(String reason) {
        if (invalidReason != null) {
            return;
        }
        invalidReason = reason;
        try {
            physical.abort(Runnable::run);
        } catch (SQLException | RuntimeException ignored) {
            // it is unusable either way
        }
    }

    private SQLException gone() {
        return new SQLNonTransientConnectionException("connection to " + node.describe() + " is no longer valid: "
                + invalidReason, SQLSTATE);
    }

    @Override
    public Object invoke(Object self, Method method, Object[] args) throws Throwable {
        String name = method.getName();
        switch (name) {
            case "close":
                owner.forget(this);
                physical.close();
                return null;
            case "isClosed":
                return physical.isClosed();
            case "isValid":
                return invalidReason == null && physical.isValid((Integer) args[0]);
            case "abort":
                owner.forget(this);
                physical.abort((java.util.concurrent.Executor) args[0]);
                return null;
            case "toString":
                return "ClusterDataSource connection to " + node.describe() + (invalidReason == null ? "" : " (invalid)");
            case "hashCode":
                return System.identityHashCode(self);
            case "equals":
                return self == args[0];
            case "isWrapperFor":
                return ((Class<?>) args[0]).isInstance(self) || physical.isWrapperFor((Class<?>) args[0]);
            case "unwrap":
                if (((Class<?>) args[0]).isInstance(self)) {
                    return self;
                }
                break;
            default:
                break;
        }
        if (invalidReason != null) {
            throw gone();
        }
        Object result = call(physical, method, args);
        if (result instanceof Statement || result instanceof DatabaseMetaData) {
            return guard(result, method.getReturnType());
        }
        return result;
    }

    private static Object call(Object target, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /** A statement (or metadata) whose uses are refused as well once the connection is invalid. */
    private Object guard(Object target, Class<?> type) {
        Class<?> iface = type.isInterface() ? type
                : target instanceof CallableStatement ? CallableStatement.class
                : target instanceof PreparedStatement ? PreparedStatement.class : Statement.class;
        return Proxy.newProxyInstance(RoutedConnection.class.getClassLoader(), new Class<?>[] {iface}, (p, m, a) -> {
            switch (m.getName()) {
                case "getConnection":
                    return proxy;
                case "close":
                case "isClosed":
                    return call(target, m, a);
                case "toString":
                    return target.toString();
                case "hashCode":
                    return System.identityHashCode(p);
                case "equals":
                    return p == a[0];
                default:
                    if (invalidReason != null) {
                        throw gone();
                    }
                    return call(target, m, a);
            }
        });
    }
}

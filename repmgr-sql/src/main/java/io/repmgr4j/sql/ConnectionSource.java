package io.repmgr4j.sql;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * Where {@link JdbcMetadataStore} gets its connections: the caller decides which server
 * (the primary for writes, any node for reads) and how (a {@code DriverManager} URL, a
 * pool's {@code DataSource::getConnection}, a test server's {@code connect()}).
 *
 * <p>Each call returns a new connection, or one from a pool, that the caller of
 * {@code open()} owns and closes. The store may change the connection's auto-commit
 * mode and leaves it as it found it only as far as a pool's reset does; a pool that
 * hands out shared connections must reset them on return. Implementations must be
 * thread-safe: a store calls {@code open()} from whichever thread uses it.
 */
@FunctionalInterface
public interface ConnectionSource {

    /**
     * A connection to the database that holds (or will hold) the {@code repmgr} schema.
     *
     * @throws SQLException when no connection can be had; a SQLState of class 08 is
     *     reported as {@code DB_CONN}
     */
    Connection open() throws SQLException;
}

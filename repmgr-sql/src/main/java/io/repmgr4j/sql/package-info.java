/**
 * Everything repmgr4j says in SQL: the {@code repmgr} metadata schema and its installer
 * ({@link io.repmgr4j.sql.SchemaInstaller}), the JDBC
 * {@link io.repmgr4j.spi.MetadataStore} ({@link io.repmgr4j.sql.JdbcMetadataStore}),
 * and the read-only queries about a server's replication state
 * ({@link io.repmgr4j.sql.ServerProbe}).
 *
 * <p>Every failure surfaces as a {@link io.repmgr4j.ReplicationException} with
 * {@code DB_CONN} (the connection failed: SQLState class 08) or {@code DB_QUERY}
 * (anything else), and no message, detail or hint ever contains a password.
 */
package io.repmgr4j.sql;

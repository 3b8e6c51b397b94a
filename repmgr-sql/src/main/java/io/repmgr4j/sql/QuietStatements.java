package io.repmgr4j.sql;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.List;

/**
 * Turns statement logging off for the library's own writes that carry a secret (a node
 * record whose conninfo holds a password): with {@code log_statement = mod} or
 * {@code all}, or a {@code log_min_duration_statement}, PostgreSQL would log the statement
 * with its parameters, password included. Inside a transaction the settings are
 * {@code SET LOCAL} (they end with it), each behind a savepoint so that a role that may not
 * change them (they are superuser settings) goes on without aborting the transaction;
 * outside one they are session settings, which a kept connection's {@code DISCARD ALL}
 * resets. Stateless; thread-safe.
 */
public final class QuietStatements {
    private static final List<String> SETTINGS = List.of("log_statement = 'none'", "log_min_duration_statement = -1",
            "log_min_error_statement = 'panic'");

    private QuietStatements() {
    }

    /** Applies the settings on {@code c}; a setting the role may not change is skipped. */
    public static void apply(Connection c) throws SQLException {
        boolean tx = !c.getAutoCommit();
        try (Statement st = c.createStatement()) {
            for (String s : SETTINGS) {
                if (tx) {
                    Savepoint sp = c.setSavepoint();
                    try {
                        st.execute("SET LOCAL " + s);
                        c.releaseSavepoint(sp);
                    } catch (SQLException e) {
                        c.rollback(sp);
                    }
                } else {
                    try {
                        st.execute("SET " + s);
                    } catch (SQLException e) {
                        // not a superuser: the statement goes on unprotected, as before
                    }
                }
            }
        }
    }
}

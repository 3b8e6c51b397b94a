package io.repmgr4j.sql;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.testkit.PgServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;

/** Test helper: fresh databases on a test server, and connections to them. */
final class TestDb {
    private static final AtomicInteger SEQ = new AtomicInteger();

    private TestDb() {
    }

    /** Creates a new, empty database on {@code server} and returns its name. */
    static String create(PgServer server, String prefix) {
        String name = prefix + "_" + SEQ.incrementAndGet();
        try (Connection c = server.connect(); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create database " + name, e);
        }
        return name;
    }

    /** A connection to database {@code db} of the server {@code conninfo} names. */
    static Connection connect(ConnInfo conninfo, String db) throws SQLException {
        Properties p = new Properties();
        conninfo.user().ifPresent(u -> p.setProperty("user", u));
        conninfo.password().ifPresent(pw -> p.setProperty("password", pw));
        p.setProperty("connectTimeout", String.valueOf(conninfo.connectTimeoutSeconds().orElse(5)));
        return DriverManager.getConnection("jdbc:postgresql://" + conninfo.host() + ":" + conninfo.port() + "/" + db, p);
    }

    static Connection connect(PgServer server, String db) throws SQLException {
        return connect(server.conninfo(), db);
    }

    /** A connection source for database {@code db} of {@code server}. */
    static ConnectionSource source(PgServer server, String db) {
        ConnInfo ci = server.conninfo();
        return () -> connect(ci, db);
    }

    /** Runs statements on database {@code db}, in auto-commit mode. */
    static void exec(PgServer server, String db, String... sql) {
        try (Connection c = connect(server, db); Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}

package io.repmgr4j.sql;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.EventQuery;
import io.repmgr4j.EventRecord;
import io.repmgr4j.Lsn;
import io.repmgr4j.MonitoringRecord;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.spi.MetadataStore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Function;

/**
 * The default {@link MetadataStore}: repmgr's tables in schema {@code repmgr}, read and
 * written with plain JDBC and prepared statements. Works on a schema made by
 * {@link SchemaInstaller} and on one made by the repmgr 5.x extension alike.
 *
 * <p>Which server it talks to is the caller's choice, through the {@link ConnectionSource}
 * (writes need the primary; reads work on any node, since standbys hold a replicated
 * copy). Each method outside {@link #inTransaction(Function)} opens one connection,
 * runs in auto-commit mode and closes it.
 *
 * <p>Errors: every failure is a {@link ReplicationException}: {@code DB_CONN} when no
 * connection could be opened or the connection failed (SQLState class 08),
 * {@code DB_QUERY} otherwise, with the server's message, detail and hint. No message,
 * detail or hint contains a password: conninfo values are only ever shown through
 * {@link ConnInfo#toString()}, and server text is scrubbed.
 *
 * <p>Thread-safety: an instance is thread-safe (it keeps no state beyond its source).
 * The store handed to {@code inTransaction}'s work is bound to one connection: use it
 * only from the thread running the work, and not after the work returns.
 */
public final class JdbcMetadataStore implements MetadataStore {

    private static final String NODE_COLUMNS = "node_id, upstream_node_id, active, node_name, type, location, priority,"
            + " conninfo, repluser, slot_name, config_file";

    private static final String MONITORING_COLUMNS = "primary_node_id, standby_node_id, last_monitor_time, last_apply_time,"
            + " last_wal_primary_location, last_wal_standby_location, replication_lag, apply_lag";

    private final Runner runner;

    private JdbcMetadataStore(Runner runner) {
        this.runner = runner;
    }

    /** A store that opens a connection from {@code source} for each call. */
    public static JdbcMetadataStore of(ConnectionSource source) {
        return new JdbcMetadataStore(new PerCall(Objects.requireNonNull(source, "source")));
    }

    // ------------------------------------------------------------------ nodes

    @Override
    public List<NodeRecord> nodes() {
        return runner.run("unable to read the node records", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + NODE_COLUMNS + " FROM repmgr.nodes ORDER BY node_id");
                    ResultSet rs = ps.executeQuery()) {
                List<NodeRecord> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(readNode(rs));
                }
                return out;
            }
        });
    }

    @Override
    public Optional<NodeRecord> node(int nodeId) {
        return runner.run("unable to read the record of node " + nodeId, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + NODE_COLUMNS + " FROM repmgr.nodes WHERE node_id = ?")) {
                ps.setInt(1, nodeId);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(readNode(rs)) : Optional.<NodeRecord>empty();
                }
            }
        });
    }

    /**
     * {@inheritDoc}
     *
     * @throws ReplicationException {@code DB_QUERY} when more than one node has the name
     *     (the table does not forbid it; repmgr4j never writes it)
     */
    @Override
    public Optional<NodeRecord> nodeByName(String nodeName) {
        Objects.requireNonNull(nodeName, "nodeName");
        return runner.run("unable to read the record of node \"" + nodeName + "\"", c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT " + NODE_COLUMNS + " FROM repmgr.nodes WHERE node_name = ? ORDER BY node_id LIMIT 2")) {
                ps.setString(1, nodeName);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.<NodeRecord>empty();
                    }
                    NodeRecord first = readNode(rs);
                    if (rs.next()) {
                        throw new ReplicationException(ErrorCode.DB_QUERY,
                                "more than one node is named \"" + nodeName + "\"",
                                "nodes " + first.nodeId() + " and " + rs.getInt("node_id") + " in repmgr.nodes share the name",
                                "node names must be unique; rename or unregister one of them");
                    }
                    return Optional.of(first);
                }
            }
        });
    }

    /** Statement logging off before a write whose conninfo holds a password (see {@link QuietStatements}). */
    private static void quietIfSecret(Connection c, NodeRecord node) {
        if (node.conninfo().password().isPresent()) {
            try {
                QuietStatements.apply(c);
            } catch (SQLException e) {
                throw SqlErrors.map("unable to turn statement logging off", e);
            }
        }
    }

    @Override
    public void insertNode(NodeRecord node) {
        Objects.requireNonNull(node, "node");
        String action = "unable to insert the record of node " + node.nodeId();
        runner.run(action, c -> {
            quietIfSecret(c, node);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO repmgr.nodes (" + NODE_COLUMNS + ")"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setInt(1, node.nodeId());
                bindNode(ps, 2, node);
                ps.executeUpdate();
            } catch (SQLException e) {
                throw nodeWriteError(action, node, e);
            }
            return null;
        });
    }

    @Override
    public void updateNode(NodeRecord node) {
        Objects.requireNonNull(node, "node");
        String action = "unable to update the record of node " + node.nodeId();
        runner.run(action, c -> {
            int n;
            quietIfSecret(c, node);
            try (PreparedStatement ps = c.prepareStatement("UPDATE repmgr.nodes SET upstream_node_id = ?, active = ?,"
                    + " node_name = ?, type = ?, location = ?, priority = ?, conninfo = ?, repluser = ?, slot_name = ?,"
                    + " config_file = ? WHERE node_id = ?")) {
                bindNode(ps, 1, node);
                ps.setInt(11, node.nodeId());
                n = ps.executeUpdate();
            } catch (SQLException e) {
                throw nodeWriteError(action, node, e);
            }
            if (n == 0) {
                throw new ReplicationException(ErrorCode.DB_QUERY, action,
                        "there is no record for node " + node.nodeId() + " in repmgr.nodes",
                        "register the node first");
            }
            return null;
        });
    }

    @Override
    public boolean deleteNode(int nodeId) {
        String action = "unable to delete the record of node " + nodeId;
        return runner.run(action, c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM repmgr.nodes WHERE node_id = ?")) {
                ps.setInt(1, nodeId);
                return ps.executeUpdate() > 0;
            } catch (SQLException e) {
                if ("23503".equals(e.getSQLState())) {
                    throw SqlErrors.map(action, e, "unregister or re-point the nodes whose upstream is node " + nodeId + " first");
                }
                throw e;
            }
        });
    }

    /** Binds the ten columns after node_id, starting at parameter {@code at}. */
    private static void bindNode(PreparedStatement ps, int at, NodeRecord node) throws SQLException {
        OptionalInt upstream = node.upstreamNodeId();
        if (upstream.isPresent()) {
            ps.setInt(at, upstream.getAsInt());
        } else {
            ps.setNull(at, Types.INTEGER);
        }
        ps.setBoolean(at + 1, node.active());
        ps.setString(at + 2, node.nodeName());
        ps.setString(at + 3, node.type().sqlName());
        ps.setString(at + 4, node.location());
        ps.setInt(at + 5, node.priority());
        ps.setString(at + 6, node.conninfo().render());
        ps.setString(at + 7, node.repluser());
        ps.setString(at + 8, node.slotName().orElse(null));
        ps.setString(at + 9, node.configFile());
    }

    private static ReplicationException nodeWriteError(String action, NodeRecord node, SQLException e) {
        String state = e.getSQLState();
        if ("23505".equals(state)) {
            return new ReplicationException(ErrorCode.DB_QUERY, action,
                    "a record for node " + node.nodeId() + " already exists in repmgr.nodes",
                    "update the existing record, or unregister the node first");
        }
        if ("23503".equals(state)) {
            return SqlErrors.map(action, e, "register upstream node "
                    + (node.upstreamNodeId().isPresent() ? node.upstreamNodeId().getAsInt() + " " : "") + "first",
                    node.conninfo());
        }
        return SqlErrors.map(action, e, null, node.conninfo());
    }

    private static NodeRecord readNode(ResultSet rs) throws SQLException {
        int nodeId = rs.getInt("node_id");
        int upstream = rs.getInt("upstream_node_id");
        boolean noUpstream = rs.wasNull();
        NodeType type;
        try {
            type = NodeType.fromSql(rs.getString("type"));
        } catch (ReplicationException e) {
            throw new ReplicationException(ErrorCode.DB_QUERY, "the record of node " + nodeId + " has an unknown type",
                    e.getMessage(), e.hint().orElse(null));
        }
        ConnInfo conninfo;
        try {
            conninfo = ConnInfo.parse(rs.getString("conninfo"));
        } catch (ReplicationException e) {
            // The parser's message may quote part of the string, which may hold a password.
            throw new ReplicationException(ErrorCode.DB_QUERY,
                    "the conninfo of node " + nodeId + " in repmgr.nodes cannot be parsed",
                    "it is not a valid libpq connection string (not shown: it may contain a password)",
                    "correct it with UPDATE repmgr.nodes SET conninfo = '...' WHERE node_id = " + nodeId);
        }
        return NodeRecord.builder()
                .nodeId(nodeId)
                .upstreamNodeId(noUpstream ? OptionalInt.empty() : OptionalInt.of(upstream))
                .active(rs.getBoolean("active"))
                .nodeName(rs.getString("node_name"))
                .type(type)
                .location(rs.getString("location"))
                .priority(rs.getInt("priority"))
                .conninfo(conninfo)
                .repluser(rs.getString("repluser"))
                .slotName(Optional.ofNullable(rs.getString("slot_name")))
                .configFile(rs.getString("config_file"))
                .build();
    }

    // ----------------------------------------------------------------- events

    /**
     * {@inheritDoc}
     *
     * <p>The time stored is the event's own when it has one, else the server's clock at
     * the insert ({@code clock_timestamp()}, so that events appended in one transaction
     * keep their order). Anything in the details that looks like a password is masked
     * before it is stored. The returned record carries the node's name when the node is
     * registered.
     */
    @Override
    public EventRecord appendEvent(EventRecord event) {
        Objects.requireNonNull(event, "event");
        String details = event.details().map(SqlErrors::redact).orElse(null);
        return runner.<EventRecord>run("unable to record event \"" + event.event() + "\" for node " + event.nodeId(), c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO repmgr.events"
                    + " (node_id, event, successful, event_timestamp, details)"
                    + " VALUES (?, ?, ?, COALESCE(?, pg_catalog.clock_timestamp()), ?)"
                    + " RETURNING event_timestamp,"
                    + " (SELECT n.node_name FROM repmgr.nodes n WHERE n.node_id = events.node_id)")) {
                ps.setInt(1, event.nodeId());
                ps.setString(2, event.event());
                ps.setBoolean(3, event.successful());
                ps.setObject(4, event.timestamp().orElse(null), Types.TIMESTAMP_WITH_TIMEZONE);
                ps.setString(5, details);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return EventRecord.builder()
                            .from(event)
                            .details(Optional.ofNullable(details))
                            .timestamp(rs.getObject(1, OffsetDateTime.class))
                            .nodeName(Optional.ofNullable(rs.getString(2)))
                            .build();
                }
            }
        });
    }

    /** {@inheritDoc} Each event carries its node's name when the node is registered. */
    @Override
    public List<EventRecord> events(EventQuery query) {
        Objects.requireNonNull(query, "query");
        return runner.run("unable to read events", c -> {
            StringBuilder sql = new StringBuilder("SELECT e.node_id, e.event, e.successful, e.event_timestamp, e.details,"
                    + " n.node_name FROM repmgr.events e LEFT JOIN repmgr.nodes n ON n.node_id = e.node_id WHERE true");
            if (query.nodeId().isPresent()) {
                sql.append(" AND e.node_id = ?");
            }
            if (query.event().isPresent()) {
                sql.append(" AND e.event = ?");
            }
            sql.append(" ORDER BY e.event_timestamp DESC LIMIT ?");
            try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
                int i = 1;
                if (query.nodeId().isPresent()) {
                    ps.setInt(i++, query.nodeId().getAsInt());
                }
                if (query.event().isPresent()) {
                    ps.setString(i++, query.event().get());
                }
                ps.setInt(i, query.limit());
                List<EventRecord> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(EventRecord.builder()
                                .nodeId(rs.getInt(1))
                                .event(rs.getString(2))
                                .successful(rs.getBoolean(3))
                                .timestamp(rs.getObject(4, OffsetDateTime.class))
                                .details(Optional.ofNullable(rs.getString(5)))
                                .nodeName(Optional.ofNullable(rs.getString(6)))
                                .build());
                    }
                }
                return out;
            }
        });
    }

    // ------------------------------------------------------------- monitoring

    @Override
    public void appendMonitoring(MonitoringRecord record) {
        Objects.requireNonNull(record, "record");
        runner.run("unable to record monitoring history for node " + record.standbyNodeId(), c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO repmgr.monitoring_history (" + MONITORING_COLUMNS + ")"
                    + " VALUES (?, ?, ?, ?, ?::pg_lsn, ?::pg_lsn, ?, ?)")) {
                ps.setInt(1, record.primaryNodeId());
                ps.setInt(2, record.standbyNodeId());
                ps.setObject(3, record.lastMonitorTime(), Types.TIMESTAMP_WITH_TIMEZONE);
                ps.setObject(4, record.lastApplyTime().orElse(null), Types.TIMESTAMP_WITH_TIMEZONE);
                ps.setString(5, record.lastWalPrimaryLocation().toString());
                ps.setString(6, record.lastWalStandbyLocation().map(Lsn::toString).orElse(null));
                ps.setLong(7, record.replicationLag());
                ps.setLong(8, record.applyLag());
                ps.executeUpdate();
            }
            return null;
        });
    }

    /**
     * {@inheritDoc}
     *
     * <p>A row is older than {@code keepDays} days when its {@code last_monitor_time} is
     * before the server's {@code now()} minus that many days.
     *
     * @throws ReplicationException {@code BAD_CONFIG} when {@code keepDays} is negative
     */
    @Override
    public int deleteMonitoringHistory(int keepDays) {
        if (keepDays < 0) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "invalid number of days to keep: " + keepDays,
                    "it must be 0 (delete all monitoring history) or more", null);
        }
        return runner.run("unable to delete monitoring history", c -> {
            if (keepDays == 0) {
                try (Statement st = c.createStatement()) {
                    return st.executeUpdate("DELETE FROM repmgr.monitoring_history");
                }
            }
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM repmgr.monitoring_history"
                    + " WHERE last_monitor_time < pg_catalog.now() - pg_catalog.make_interval(days => ?)")) {
                ps.setInt(1, keepDays);
                return ps.executeUpdate();
            }
        });
    }

    /**
     * {@inheritDoc}
     *
     * @throws ReplicationException {@code BAD_CONFIG} when {@code limit} is below 1
     */
    @Override
    public List<MonitoringRecord> monitoringHistory(int standbyNodeId, int limit) {
        if (limit < 1) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "invalid monitoring history limit " + limit,
                    "the limit is the number of rows to return and must be 1 or more", null);
        }
        return runner.run("unable to read the monitoring history of node " + standbyNodeId, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + MONITORING_COLUMNS + " FROM repmgr.monitoring_history"
                    + " WHERE standby_node_id = ? ORDER BY last_monitor_time DESC LIMIT ?")) {
                ps.setInt(1, standbyNodeId);
                ps.setInt(2, limit);
                List<MonitoringRecord> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        String standbyLsn = rs.getString(6);
                        out.add(MonitoringRecord.builder()
                                .primaryNodeId(rs.getInt(1))
                                .standbyNodeId(rs.getInt(2))
                                .lastMonitorTime(rs.getObject(3, OffsetDateTime.class))
                                .lastApplyTime(Optional.ofNullable(rs.getObject(4, OffsetDateTime.class)))
                                .lastWalPrimaryLocation(Lsn.parse(rs.getString(5)))
                                .lastWalStandbyLocation(standbyLsn == null ? Optional.empty() : Optional.of(Lsn.parse(standbyLsn)))
                                .replicationLag(rs.getLong(7))
                                .applyLag(rs.getLong(8))
                                .build());
                    }
                }
                return out;
            }
        });
    }

    // ------------------------------------------------------------ voting term

    /** {@inheritDoc} 0 when the table has no row yet. */
    @Override
    public int votingTerm() {
        return runner.run("unable to read the voting term", c -> {
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT term FROM repmgr.voting_term LIMIT 1")) {
                return rs.next() ? rs.getInt(1) : 0;
            }
        });
    }

    /**
     * {@inheritDoc} Inserts the single row when there is none.
     *
     * @throws ReplicationException {@code BAD_CONFIG} when {@code term} is negative
     */
    @Override
    public void setVotingTerm(int term) {
        if (term < 0) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "invalid voting term " + term, "a voting term is 0 or more", null);
        }
        runner.run("unable to set the voting term to " + term, c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO repmgr.voting_term (term) VALUES (?)"
                    + " ON CONFLICT ((true)) DO UPDATE SET term = EXCLUDED.term")) {
                ps.setInt(1, term);
                ps.executeUpdate();
            }
            return null;
        });
    }

    /** {@inheritDoc} Sets it to 1 when the table has no row yet. */
    @Override
    public int incrementVotingTerm() {
        return runner.run("unable to increment the voting term", c -> {
            try (Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("UPDATE repmgr.voting_term SET term = term + 1 RETURNING term")) {
                if (rs.next()) {
                    return rs.getInt(1);
                }
            }
            // No row yet; another writer may be inserting one right now, hence the upsert.
            try (Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("INSERT INTO repmgr.voting_term (term) VALUES (1)"
                            + " ON CONFLICT ((true)) DO UPDATE SET term = repmgr.voting_term.term + 1 RETURNING term")) {
                rs.next();
                return rs.getInt(1);
            }
        });
    }

    // ------------------------------------------------------------ transactions

    /**
     * {@inheritDoc}
     *
     * <p>Opens one connection, turns auto-commit off and defers deferrable constraints
     * (so a standby's record may be inserted before its upstream's), runs {@code work}
     * with a store bound to that connection, and commits. Any exception from
     * {@code work} rolls everything back and is rethrown as it is; a failed commit is
     * reported as a {@link ReplicationException}. Called on a store that is itself bound
     * to a transaction, it runs {@code work} in that same transaction.
     */
    @Override
    public <T> T inTransaction(Function<MetadataStore, T> work) {
        Objects.requireNonNull(work, "work");
        if (runner instanceof Bound) {
            return work.apply(this);
        }
        PerCall perCall = (PerCall) runner;
        Connection c = perCall.open("unable to start a metadata transaction");
        Bound bound = new Bound(c);
        try {
            try {
                c.setAutoCommit(false);
                try (Statement st = c.createStatement()) {
                    st.execute("SET CONSTRAINTS ALL DEFERRED");
                }
            } catch (SQLException e) {
                throw SqlErrors.map("unable to start a metadata transaction", e);
            }
            T result;
            try {
                result = work.apply(new JdbcMetadataStore(bound));
            } catch (RuntimeException | Error e) {
                bound.end();
                rollbackQuietly(c, e);
                throw e;
            }
            bound.end();
            try {
                c.commit();
            } catch (SQLException e) {
                ReplicationException ex = SqlErrors.map("unable to commit the metadata transaction", e);
                rollbackQuietly(c, ex);
                throw ex;
            }
            return result;
        } finally {
            bound.end();
            try {
                c.setAutoCommit(true);
            } catch (SQLException ignored) {
                // broken connection: closing it is all that is left
            }
            closeQuietly(c);
        }
    }

    private static void rollbackQuietly(Connection c, Throwable cause) {
        try {
            c.rollback();
        } catch (SQLException e) {
            cause.addSuppressed(SqlErrors.map("unable to roll back the metadata transaction", e));
        }
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // nothing useful to do
        }
    }

    @Override
    public String toString() {
        return runner instanceof Bound ? "JdbcMetadataStore[in transaction]" : "JdbcMetadataStore";
    }

    // ----------------------------------------------------------------- plumbing

    /** One piece of JDBC work on a connection. */
    @FunctionalInterface
    private interface SqlWork<T> {
        T run(Connection c) throws SQLException;
    }

    /** How a store gets a connection for one piece of work. */
    private interface Runner {
        /** Runs {@code work}; an SQLException becomes a ReplicationException with message {@code action}. */
        <T> T run(String action, SqlWork<T> work);
    }

    /** A new connection from the source for each call, in auto-commit mode. */
    private static final class PerCall implements Runner {
        private final ConnectionSource source;

        PerCall(ConnectionSource source) {
            this.source = source;
        }

        Connection open(String action) {
            Connection c;
            try {
                c = source.open();
            } catch (SQLException e) {
                // Whatever kept us from connecting (refused, authentication, unknown
                // database) is a connection failure in repmgr's terms.
                ReplicationException mapped = SqlErrors.map(action, e);
                throw new ReplicationException(ErrorCode.DB_CONN, mapped.getMessage(), mapped.detail().orElse(null),
                        mapped.hint().orElse("check that the server is running and accepts connections"), mapped.getCause());
            }
            if (c == null) {
                throw new ReplicationException(ErrorCode.DB_CONN, action, "the connection source returned no connection", null);
            }
            return c;
        }

        @Override
        public <T> T run(String action, SqlWork<T> work) {
            Connection c = open(action);
            try {
                if (!c.getAutoCommit()) {
                    c.setAutoCommit(true);
                }
                return work.run(c);
            } catch (SQLException e) {
                throw SqlErrors.map(action, e);
            } finally {
                closeQuietly(c);
            }
        }
    }

    /** The one connection of a transaction, usable until the transaction ends. */
    private static final class Bound implements Runner {
        private final Connection connection;
        private volatile boolean ended;

        Bound(Connection connection) {
            this.connection = connection;
        }

        void end() {
            ended = true;
        }

        @Override
        public <T> T run(String action, SqlWork<T> work) {
            if (ended) {
                throw new ReplicationException(ErrorCode.INTERNAL, action,
                        "the transaction this store was bound to has ended",
                        "use the store passed to inTransaction only inside the work");
            }
            try {
                return work.run(connection);
            } catch (SQLException e) {
                throw SqlErrors.map(action, e);
            }
        }
    }
}

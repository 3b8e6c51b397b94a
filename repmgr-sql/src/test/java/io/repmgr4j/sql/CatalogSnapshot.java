package io.repmgr4j.sql;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Test helper: everything about schema {@code repmgr} that an installer could change,
 * as comparable text: the schema and its comment, relations, columns with types,
 * nullability and defaults, constraints, indexes, view definitions, rules, triggers,
 * functions, extensions, and the rows of the four tables.
 */
final class CatalogSnapshot {
    private CatalogSnapshot() {
    }

    private static final String[] QUERIES = {
        "SELECT n.nspname, pg_catalog.pg_get_userbyid(n.nspowner), pg_catalog.obj_description(n.oid, 'pg_namespace')"
                + " FROM pg_catalog.pg_namespace n WHERE n.nspname = 'repmgr'",
        "SELECT e.extname, e.extversion FROM pg_catalog.pg_extension e ORDER BY 1",
        "SELECT c.relname, c.relkind, pg_catalog.pg_get_userbyid(c.relowner),"
                + " pg_catalog.obj_description(c.oid, 'pg_class')"
                + " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE n.nspname = 'repmgr' ORDER BY 1",
        "SELECT c.relname, a.attnum, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,"
                + " pg_catalog.pg_get_expr(d.adbin, d.adrelid)"
                + " FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid"
                + " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                + " LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
                + " WHERE n.nspname = 'repmgr' AND a.attnum > 0 AND NOT a.attisdropped ORDER BY 1, 2",
        "SELECT c.relname, k.conname, pg_catalog.pg_get_constraintdef(k.oid)"
                + " FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_class c ON c.oid = k.conrelid"
                + " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'repmgr' ORDER BY 1, 2",
        "SELECT indexname, indexdef FROM pg_catalog.pg_indexes WHERE schemaname = 'repmgr' ORDER BY 1",
        "SELECT viewname, definition FROM pg_catalog.pg_views WHERE schemaname = 'repmgr' ORDER BY 1",
        "SELECT rulename, definition FROM pg_catalog.pg_rules WHERE schemaname = 'repmgr' ORDER BY 1",
        "SELECT t.tgname, pg_catalog.pg_get_triggerdef(t.oid) FROM pg_catalog.pg_trigger t"
                + " JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE n.nspname = 'repmgr' ORDER BY 1",
        "SELECT p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid) FROM pg_catalog.pg_proc p"
                + " JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'repmgr' ORDER BY 1, 2",
    };

    /** The snapshot of the database {@code c} is connected to. */
    static String of(Connection c) throws SQLException {
        StringBuilder sb = new StringBuilder();
        for (String q : QUERIES) {
            sb.append("## ").append(q, 0, Math.min(60, q.length())).append('\n');
            appendRows(c, q, sb);
        }
        for (String table : List.of("nodes", "events", "monitoring_history", "voting_term")) {
            if (exists(c, table)) {
                sb.append("## rows of ").append(table).append('\n');
                appendRows(c, "SELECT t::text FROM repmgr." + table + " t ORDER BY 1", sb);
            }
        }
        return sb.toString();
    }

    private static boolean exists(Connection c, String table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.to_regclass(?) IS NOT NULL")) {
            ps.setString(1, "repmgr." + table);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    private static void appendRows(Connection c, String sql, StringBuilder sb) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            ResultSetMetaData md = rs.getMetaData();
            while (rs.next()) {
                List<String> cells = new ArrayList<>();
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    cells.add(String.valueOf(rs.getString(i)));
                }
                sb.append(String.join(" | ", cells)).append('\n');
            }
        }
    }
}

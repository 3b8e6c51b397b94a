package io.repmgr4j.format;

import java.util.ArrayList;
import java.util.List;

/**
 * A table in psql's and repmgr's aligned text layout: {@code  a | b }, a
 * {@code ---+---} rule under the header, every column left-aligned and padded to its
 * widest cell. Not thread-safe; build one per rendering.
 */
public final class TextTable {
    private final List<String> header;
    private final List<List<String>> rows = new ArrayList<>();

    public TextTable(List<String> header) {
        this.header = List.copyOf(header);
    }

    /** Adds a row; it must have as many cells as the header. */
    public TextTable row(List<String> cells) {
        if (cells.size() != header.size()) {
            throw new IllegalArgumentException("row has " + cells.size() + " cells, header has " + header.size());
        }
        rows.add(List.copyOf(cells));
        return this;
    }

    /** The rendered table, one line per row, each ending in a newline. */
    public String render() {
        int[] width = new int[header.size()];
        for (int i = 0; i < width.length; i++) {
            width[i] = header.get(i).length();
            for (List<String> r : rows) {
                width[i] = Math.max(width[i], r.get(i).length());
            }
        }
        StringBuilder sb = new StringBuilder();
        line(sb, header, width);
        for (int i = 0; i < width.length; i++) {
            if (i > 0) {
                sb.append('+');
            }
            sb.append("-".repeat(width[i] + 2));
        }
        sb.append('\n');
        for (List<String> r : rows) {
            line(sb, r, width);
        }
        return sb.toString();
    }

    /**
     * The table exactly as repmgr's own tables print it: the header's last column padded
     * to its width (no space after it), the same rule, and every row's cells padded to
     * their column's width; with {@code rowTrailingSpace} each row cell is also followed
     * by one space, as in {@code repmgr service status}, otherwise the last cell is not,
     * as in {@code cluster show} and {@code cluster event}.
     */
    public String renderRepmgr(boolean rowTrailingSpace) {
        int[] width = widths();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < width.length; i++) {
            sb.append(i == 0 ? " " : " | ").append(pad(header.get(i), width[i]));
        }
        sb.append('\n');
        for (int i = 0; i < width.length; i++) {
            if (i > 0) {
                sb.append('+');
            }
            sb.append("-".repeat(width[i] + 2));
        }
        sb.append('\n');
        for (List<String> r : rows) {
            for (int i = 0; i < width.length; i++) {
                sb.append(i == 0 ? " " : "| ").append(pad(r.get(i), width[i]));
                if (i < width.length - 1 || rowTrailingSpace) {
                    sb.append(' ');
                }
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private int[] widths() {
        int[] width = new int[header.size()];
        for (int i = 0; i < width.length; i++) {
            width[i] = header.get(i).length();
            for (List<String> r : rows) {
                width[i] = Math.max(width[i], r.get(i).length());
            }
        }
        return width;
    }

    private static String pad(String c, int width) {
        return c + " ".repeat(Math.max(0, width - c.length()));
    }

    private static void line(StringBuilder sb, List<String> cells, int[] width) {
        StringBuilder l = new StringBuilder();
        for (int i = 0; i < cells.size(); i++) {
            if (i > 0) {
                l.append('|');
            }
            String c = cells.get(i);
            l.append(' ').append(c).append(" ".repeat(width[i] - c.length())).append(' ');
        }
        sb.append(l.toString().stripTrailing()).append('\n');
    }
}

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

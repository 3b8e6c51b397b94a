package io.repmgr4j;

/**
 * A PostgreSQL WAL location ({@code pg_lsn}), such as {@code 0/7023A50}. Ordered by
 * position. Immutable; thread-safe.
 */
public record Lsn(long value) implements Comparable<Lsn> {

    /** Parses PostgreSQL's text form {@code XXXXXXXX/XXXXXXXX}. */
    public static Lsn parse(String text) {
        int slash = text == null ? -1 : text.indexOf('/');
        if (slash <= 0 || slash == text.length() - 1) {
            throw new IllegalArgumentException("not a WAL location: \"" + text + "\"");
        }
        long hi = Long.parseLong(text.substring(0, slash), 16);
        long lo = Long.parseLong(text.substring(slash + 1), 16);
        return new Lsn((hi << 32) | lo);
    }

    /** Bytes from {@code other} to this location; negative when this one is behind. */
    public long minus(Lsn other) {
        return value - other.value;
    }

    @Override
    public int compareTo(Lsn o) {
        return Long.compareUnsigned(value, o.value);
    }

    /** PostgreSQL's text form. */
    @Override
    public String toString() {
        return Long.toHexString(value >>> 32).toUpperCase() + "/" + Long.toHexString(value & 0xFFFFFFFFL).toUpperCase();
    }
}

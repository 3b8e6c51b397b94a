package io.repmgr4j.core.http;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses a size as Patroni's {@code ?lag=} takes it: a whole number of bytes, or a number
 * with a unit {@code B}, {@code kB}, {@code MB}, {@code GB}, {@code TB} (1024-based, as
 * PostgreSQL counts; any case). Stateless; thread-safe.
 */
final class ByteSize {
    private static final Pattern SIZE = Pattern.compile("\\s*([0-9]+)\\s*([a-zA-Z]*)\\s*");

    private ByteSize() {
    }

    /** The size in bytes; IllegalArgumentException (with a message for the caller) when it is not one. */
    static long parse(String s) {
        Matcher m = SIZE.matcher(s);
        if (!m.matches()) {
            throw new IllegalArgumentException("\"" + s + "\" is not a size: give bytes (1048576) or a number with a unit"
                    + " (16kB, 16MB, 1GB)");
        }
        long shift = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "", "b" -> 0;
            case "kb" -> 10;
            case "mb" -> 20;
            case "gb" -> 30;
            case "tb" -> 40;
            default -> throw new IllegalArgumentException("unknown unit \"" + m.group(2) + "\" in \"" + s
                    + "\": use B, kB, MB, GB or TB");
        };
        long n;
        try {
            n = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("\"" + s + "\" is too large", e);
        }
        if (shift > 0 && n > (Long.MAX_VALUE >> shift)) {
            throw new IllegalArgumentException("\"" + s + "\" is too large");
        }
        return n << shift;
    }
}

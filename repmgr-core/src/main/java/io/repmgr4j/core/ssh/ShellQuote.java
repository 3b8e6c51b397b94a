package io.repmgr4j.core.ssh;

import java.util.List;
import java.util.StringJoiner;

/**
 * Quoting for a POSIX shell, the one way the SSH runner turns an argument vector into the
 * command line the remote login shell reads. Every argument is put in single quotes, with
 * each {@code '} written as {@code '\''}; inside single quotes a POSIX shell gives no
 * character a meaning, so a name or path with spaces, quotes, {@code ;}, {@code $()},
 * backticks, globs or newlines arrives as one literal argument. Stateless; thread-safe.
 */
public final class ShellQuote {
    private ShellQuote() {
    }

    /** One argument as a single-quoted shell word: {@code it's} becomes {@code 'it'\''s'}. */
    public static String quote(String arg) {
        if (arg.indexOf('\0') >= 0) {
            // no shell word, quoted or not, can carry a NUL byte
            throw new IllegalArgumentException("a command argument cannot contain a NUL character");
        }
        return "'" + arg.replace("'", "'\\''") + "'";
    }

    /** An argument vector as shell words joined by spaces. */
    public static String join(List<String> argv) {
        StringJoiner j = new StringJoiner(" ");
        for (String a : argv) {
            j.add(quote(a));
        }
        return j.toString();
    }
}

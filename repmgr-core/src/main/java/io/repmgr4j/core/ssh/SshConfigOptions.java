package io.repmgr4j.core.ssh;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Reads repmgr.conf's {@code ssh_options} (OpenSSH client arguments such as
 * {@code -q -o ConnectTimeout=10 -p 2222 -l postgres -i ~/.ssh/id_rsa}) into
 * {@link SshOptions}. Mapped: {@code -p}, {@code -l}, {@code -i}, and {@code -o} with
 * {@code Port}, {@code User}, {@code IdentityFile}, {@code ConnectTimeout},
 * {@code StrictHostKeyChecking}, {@code UserKnownHostsFile} and
 * {@code ServerAliveInterval}. Options that change nothing for a library that runs
 * non-interactive commands ({@code -q}, {@code -T}, {@code -n}, {@code -x},
 * {@code BatchMode}, {@code LogLevel}, {@code IdentitiesOnly}, ...) are accepted silently;
 * every other one is reported as a warning and ignored. {@code ~/} in a path is this
 * JVM user's home. Stateless; thread-safe.
 */
public final class SshConfigOptions {
    /** Flags without a value that make no difference here. */
    private static final Set<Character> HARMLESS_FLAGS = Set.of('q', 'T', 'n', 'x', 'a', 'k', 'N', 'v');
    /** Flags that take a value (so the next word is theirs) and have no equivalent here. */
    private static final Set<Character> FLAGS_WITH_VALUE = Set.of('b', 'B', 'c', 'D', 'E', 'e', 'F', 'I', 'J', 'L',
            'm', 'O', 'Q', 'R', 'S', 'W', 'w');
    /** -o keys that make no difference here. */
    private static final Set<String> HARMLESS_KEYS = Set.of("batchmode", "loglevel", "identitiesonly",
            "passwordauthentication", "pubkeyauthentication", "forwardagent", "forwardx11", "requesttty",
            "serveralivecountmax", "tcpkeepalive", "checkhostip", "hashknownhosts", "addkeystoagent");

    private SshConfigOptions() {
    }

    /** What applying ssh_options did: the options it could not map, as sentences. */
    public record Result(List<String> warnings) {
        public Result {
            warnings = List.copyOf(warnings);
        }
    }

    /**
     * Applies {@code sshOptions} onto {@code builder}.
     *
     * @throws ReplicationException ({@code BAD_CONFIG}) for a mapped option with an invalid
     *     value (a port that is no number, an unbalanced quote)
     */
    public static Result apply(String sshOptions, SshOptions.Builder builder) {
        List<String> warnings = new ArrayList<>();
        if (sshOptions == null || sshOptions.isBlank()) {
            return new Result(warnings);
        }
        List<String> words = split(sshOptions);
        for (int i = 0; i < words.size(); i++) {
            String w = words.get(i);
            if (w.length() < 2 || w.charAt(0) != '-') {
                warnings.add("\"" + w + "\" is not an option and is ignored");
                continue;
            }
            char flag = w.charAt(1);
            String attached = w.length() > 2 ? w.substring(2) : null;
            switch (flag) {
                case 'p', 'l', 'i', 'o' -> {
                    String value = attached;
                    if (value == null) {
                        if (i + 1 >= words.size()) {
                            throw bad(sshOptions, "\"-" + flag + "\" needs a value");
                        }
                        value = words.get(++i);
                    }
                    switch (flag) {
                        case 'p' -> setPort(builder, value, sshOptions);
                        case 'l' -> builder.user(value);
                        case 'i' -> builder.identityFile(path(value));
                        default -> option(builder, value, sshOptions, warnings);
                    }
                }
                default -> {
                    if (HARMLESS_FLAGS.contains(flag) && attached == null) {
                        continue;
                    }
                    if (FLAGS_WITH_VALUE.contains(flag) && attached == null && i + 1 < words.size()) {
                        warnings.add("\"" + w + " " + words.get(++i) + "\" has no equivalent in repmgr4j's SSH client"
                                + " and is ignored");
                    } else {
                        warnings.add("\"" + w + "\" has no equivalent in repmgr4j's SSH client and is ignored");
                    }
                }
            }
        }
        return new Result(warnings);
    }

    private static void option(SshOptions.Builder b, String kv, String all, List<String> warnings) {
        int sep = indexOfSeparator(kv);
        if (sep < 0) {
            throw bad(all, "\"-o " + kv + "\" has no value");
        }
        String key = kv.substring(0, sep).strip();
        String value = kv.substring(sep + 1).strip();
        if (value.startsWith("=")) {
            value = value.substring(1).strip();
        }
        switch (key.toLowerCase(Locale.ROOT)) {
            case "port" -> setPort(b, value, all);
            case "user" -> b.user(value);
            case "identityfile" -> b.identityFile(path(value));
            case "userknownhostsfile" -> b.knownHosts(path(value.split("\\s+")[0]));
            case "connecttimeout" -> b.connectTimeout(Duration.ofSeconds(seconds(value, key, all)));
            case "serveraliveinterval" -> {
                long s = seconds(value, key, all);
                if (s > 0) {
                    b.serverAliveInterval(Duration.ofSeconds(s));
                }
            }
            case "stricthostkeychecking" -> {
                switch (value.toLowerCase(Locale.ROOT)) {
                    case "yes", "true" -> b.strictHostKeyChecking(true);
                    case "no", "off", "false" -> b.strictHostKeyChecking(false);
                    case "accept-new", "ask" -> {
                        b.strictHostKeyChecking(true);
                        warnings.add("\"StrictHostKeyChecking=" + value + "\" is treated as \"yes\": a host must be in"
                                + " known_hosts already");
                    }
                    default -> throw bad(all, "StrictHostKeyChecking must be yes, no, accept-new or ask, got \""
                            + value + "\"");
                }
            }
            default -> {
                if (!HARMLESS_KEYS.contains(key.toLowerCase(Locale.ROOT))) {
                    warnings.add("\"-o " + kv + "\" has no equivalent in repmgr4j's SSH client and is ignored");
                }
            }
        }
    }

    /** ssh_config separates key and value by '=' or whitespace. */
    private static int indexOfSeparator(String kv) {
        for (int i = 0; i < kv.length(); i++) {
            char c = kv.charAt(i);
            if (c == '=' || Character.isWhitespace(c)) {
                return i;
            }
        }
        return -1;
    }

    private static void setPort(SshOptions.Builder b, String value, String all) {
        try {
            b.port(Integer.parseInt(value.strip()));
        } catch (IllegalArgumentException e) {
            throw bad(all, "\"" + value + "\" is not a port number (1 to 65535)");
        }
    }

    private static long seconds(String value, String key, String all) {
        try {
            long s = Long.parseLong(value.strip());
            if (s < 0) {
                throw new NumberFormatException();
            }
            if (key.equalsIgnoreCase("ConnectTimeout") && s == 0) {
                throw new NumberFormatException();
            }
            return s;
        } catch (NumberFormatException e) {
            throw bad(all, key + " must be a number of seconds, got \"" + value + "\"");
        }
    }

    /** A path with a leading {@code ~/} made absolute against this JVM user's home. */
    static Path path(String value) {
        if (value.equals("~")) {
            return Paths.get(System.getProperty("user.home"));
        }
        if (value.startsWith("~/")) {
            return Paths.get(System.getProperty("user.home")).resolve(value.substring(2));
        }
        return Paths.get(value);
    }

    /** Splits like a POSIX shell: whitespace separates words; single and double quotes and backslashes group. */
    static List<String> split(String text) {
        List<String> words = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (quote == '\'') {
                if (c == '\'') {
                    quote = 0;
                } else {
                    cur.append(c);
                }
            } else if (quote == '"') {
                if (c == '"') {
                    quote = 0;
                } else if (c == '\\' && i + 1 < text.length() && "\"\\$`".indexOf(text.charAt(i + 1)) >= 0) {
                    cur.append(text.charAt(++i));
                } else {
                    cur.append(c);
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
                inWord = true;
            } else if (c == '\\' && i + 1 < text.length()) {
                cur.append(text.charAt(++i));
                inWord = true;
            } else if (Character.isWhitespace(c)) {
                if (inWord) {
                    words.add(cur.toString());
                    cur.setLength(0);
                    inWord = false;
                }
            } else {
                cur.append(c);
                inWord = true;
            }
        }
        if (quote != 0) {
            throw bad(text, "unbalanced " + (quote == '\'' ? "single" : "double") + " quote");
        }
        if (inWord) {
            words.add(cur.toString());
        }
        return words;
    }

    private static ReplicationException bad(String sshOptions, String detail) {
        return new ReplicationException(ErrorCode.BAD_CONFIG, "invalid value \"" + sshOptions + "\" for \"ssh_options\"",
                detail, "ssh_options takes OpenSSH client options, for example: -q -o ConnectTimeout=10 -p 22");
    }
}

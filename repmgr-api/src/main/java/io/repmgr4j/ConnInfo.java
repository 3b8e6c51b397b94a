package io.repmgr4j;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A libpq connection string, parsed: either the {@code key=value} form
 * ({@code host=pg1 port=5432 user=repmgr dbname=repmgr}) or a {@code postgresql://} URI,
 * possibly naming several hosts. Keywords keep their order; URIs are turned into keywords.
 *
 * <p>{@link #toString()} and {@link #masked()} never show the password;
 * {@link #render()} gives the full string for places that need it (primary_conninfo,
 * the nodes table). Immutable; thread-safe.
 */
public final class ConnInfo {
    /** What a password is shown as wherever a connection string is printed. */
    public static final String MASK = "********";

    /** libpq's default port. */
    public static final int DEFAULT_PORT = 5432;

    private final Map<String, String> params;

    private ConnInfo(Map<String, String> params) {
        this.params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
    }

    /** A connection string from keyword/value pairs, in the map's order. */
    public static ConnInfo of(Map<String, String> params) {
        Objects.requireNonNull(params, "params");
        for (Map.Entry<String, String> e : params.entrySet()) {
            checkKeyword(e.getKey());
            if (e.getValue() == null) {
                throw new IllegalArgumentException("connection parameter \"" + e.getKey() + "\" has no value");
            }
        }
        return new ConnInfo(params);
    }

    /**
     * A keyword must be something {@link #render()} can write and {@link #parse} read back:
     * not empty, and without whitespace, '=', quotes or backslashes.
     */
    private static void checkKeyword(String keyword) {
        if (keyword == null || keyword.isEmpty()) {
            throw new IllegalArgumentException("connection parameters need a keyword");
        }
        for (int i = 0; i < keyword.length(); i++) {
            char c = keyword.charAt(i);
            if (Character.isWhitespace(c) || c == '=' || c == '\'' || c == '\\') {
                throw new IllegalArgumentException("invalid connection keyword \"" + keyword
                        + "\": keywords contain no whitespace, '=', quote or backslash");
            }
        }
    }

    /**
     * Parses a libpq connection string.
     *
     * @throws ReplicationException with {@link ErrorCode#BAD_CONFIG} when the string is
     *     malformed; the message says where, and never repeats a password
     */
    public static ConnInfo parse(String conninfo) {
        if (conninfo == null || conninfo.isBlank()) {
            throw bad("connection string is empty", "a conninfo needs at least one keyword=value pair or a postgresql:// URI");
        }
        String s = conninfo.strip();
        if (s.startsWith("postgresql://") || s.startsWith("postgres://")) {
            return new ConnInfo(parseUri(s));
        }
        return new ConnInfo(parseKeywords(s));
    }

    private static Map<String, String> parseKeywords(String s) {
        Map<String, String> out = new LinkedHashMap<>();
        int i = 0;
        int n = s.length();
        String previousKey = null;
        while (true) {
            while (i < n && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
            if (i >= n) {
                break;
            }
            int keyStart = i;
            while (i < n && s.charAt(i) != '=' && !Character.isWhitespace(s.charAt(i))) {
                i++;
            }
            String key = s.substring(keyStart, i);
            while (i < n && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
            if (i >= n || s.charAt(i) != '=') {
                // A word without '=' right after a password is most likely the rest of an
                // unquoted password that contains a space: do not repeat it.
                String what = isSecretKeyword(previousKey)
                        ? "the value of \"" + previousKey + "\"" : "\"" + key + "\"";
                throw bad("missing \"=\" after " + what + " in connection string",
                        "every item of a conninfo is keyword=value, for example host=pg1 port=5432;"
                                + " quote values that contain spaces: password='two words'");
            }
            if (key.isEmpty()) {
                throw bad("connection string has a value without a keyword at position " + (keyStart + 1), null);
            }
            i++; // '='
            while (i < n && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
            StringBuilder value = new StringBuilder();
            if (i < n && s.charAt(i) == '\'') {
                i++;
                boolean closed = false;
                while (i < n) {
                    char c = s.charAt(i);
                    if (c == '\\' && i + 1 < n) {
                        value.append(s.charAt(i + 1));
                        i += 2;
                    } else if (c == '\'') {
                        closed = true;
                        i++;
                        break;
                    } else {
                        value.append(c);
                        i++;
                    }
                }
                if (!closed) {
                    throw bad("unterminated quoted value for \"" + key + "\" in connection string",
                            "close the value with a single quote; write \\' for a quote inside it");
                }
            } else {
                while (i < n && !Character.isWhitespace(s.charAt(i))) {
                    char c = s.charAt(i);
                    if (c == '\\' && i + 1 < n) {
                        value.append(s.charAt(i + 1));
                        i += 2;
                    } else {
                        value.append(c);
                        i++;
                    }
                }
            }
            out.put(key, value.toString());
            previousKey = key;
        }
        if (out.isEmpty()) {
            throw bad("connection string is empty", null);
        }
        return out;
    }

    private static Map<String, String> parseUri(String s) {
        Map<String, String> out = new LinkedHashMap<>();
        String rest = s.substring(s.indexOf("://") + 3);
        // The user info goes first: like libpq, it ends at an '@' before the first '/', so a
        // password may hold '?', ':' or '@' (and must be split off before the query is, or
        // its text would end up in the query and in error messages).
        int firstSlash = rest.indexOf('/');
        int at = (firstSlash >= 0 ? rest.substring(0, firstSlash) : rest).lastIndexOf('@');
        String userInfo = null;
        if (at >= 0) {
            userInfo = rest.substring(0, at);
            rest = rest.substring(at + 1);
        }
        String query = null;
        int q = rest.indexOf('?');
        if (q >= 0) {
            query = rest.substring(q + 1);
            rest = rest.substring(0, q);
        }
        String path = null;
        int slash = rest.indexOf('/');
        if (slash >= 0) {
            path = rest.substring(slash + 1);
            rest = rest.substring(0, slash);
        }
        if (userInfo != null) {
            int colon = userInfo.indexOf(':');
            String user = colon >= 0 ? userInfo.substring(0, colon) : userInfo;
            if (!user.isEmpty()) {
                out.put("user", decode(user));
            }
            if (colon >= 0) {
                out.put("password", decode(userInfo.substring(colon + 1)));
            }
        }
        if (!rest.isEmpty()) {
            List<String> hosts = new ArrayList<>();
            List<String> ports = new ArrayList<>();
            boolean anyPort = false;
            for (String hp : rest.split(",", -1)) {
                String host;
                String port = "";
                if (hp.startsWith("[")) {
                    int close = hp.indexOf(']');
                    if (close < 0) {
                        throw bad("unterminated IPv6 address in URI", "write IPv6 hosts as [::1]:5432");
                    }
                    host = hp.substring(1, close);
                    String after = hp.substring(close + 1);
                    if (after.startsWith(":")) {
                        port = after.substring(1);
                    } else if (!after.isEmpty()) {
                        throw bad("unexpected text after IPv6 address in URI", null);
                    }
                } else {
                    int colon = hp.lastIndexOf(':');
                    host = colon >= 0 ? hp.substring(0, colon) : hp;
                    port = colon >= 0 ? hp.substring(colon + 1) : "";
                }
                if (!port.isEmpty()) {
                    anyPort = true;
                    checkPort(port);
                }
                hosts.add(decode(host));
                ports.add(port);
            }
            if (hosts.stream().anyMatch(h -> !h.isEmpty())) {
                out.put("host", String.join(",", hosts));
            }
            if (anyPort) {
                out.put("port", String.join(",", ports));
            }
        }
        if (path != null && !path.isEmpty()) {
            out.put("dbname", decode(path));
        }
        if (query != null && !query.isEmpty()) {
            for (String pair : query.split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                if (eq <= 0) {
                    throw bad("URI query parameter \"" + decode(eq < 0 ? pair : "") + "\" has no value",
                            "write query parameters as name=value");
                }
                String key = decode(pair.substring(0, eq));
                if (key.equals("ssl") && pair.substring(eq + 1).equals("true")) {
                    out.put("sslmode", "require");
                } else {
                    out.put(key, decode(pair.substring(eq + 1)));
                }
            }
        }
        return out;
    }

    private static void checkPort(String port) {
        try {
            int p = Integer.parseInt(port);
            if (p < 1 || p > 65535) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            throw bad("invalid port \"" + port + "\" in connection string", "a port is a number from 1 to 65535");
        }
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw bad("invalid percent-encoding in URI", "encode reserved characters as %XX");
        }
    }

    private static ReplicationException bad(String message, String hint) {
        return new ReplicationException(ErrorCode.BAD_CONFIG, message, null, hint);
    }

    /** All keywords and values, in order (the password included: do not log this map). */
    public Map<String, String> params() {
        return params;
    }

    /** The value of one keyword. */
    public Optional<String> get(String keyword) {
        return Optional.ofNullable(params.get(keyword));
    }

    /** A copy with one keyword set (added at the end when new). */
    public ConnInfo with(String keyword, String value) {
        checkKeyword(keyword);
        Map<String, String> copy = new LinkedHashMap<>(params);
        copy.put(keyword, Objects.requireNonNull(value, "value"));
        return new ConnInfo(copy);
    }

    /** A copy without a keyword. */
    public ConnInfo without(String keyword) {
        Map<String, String> copy = new LinkedHashMap<>(params);
        copy.remove(keyword);
        return new ConnInfo(copy);
    }

    /** Every host:port this string names, in order; libpq's defaults fill gaps. */
    public List<HostPort> hosts() {
        String hostValue = params.getOrDefault("host", params.getOrDefault("hostaddr", "localhost"));
        String[] hs = hostValue.split(",", -1);
        String[] ps = params.getOrDefault("port", "").split(",", -1);
        if (ps.length > 1 && ps.length != hs.length) {
            throw bad("connection string names " + hs.length + " hosts but " + ps.length + " ports",
                    "give one port for all hosts, or one per host");
        }
        List<HostPort> out = new ArrayList<>();
        for (int i = 0; i < hs.length; i++) {
            String p = ps.length == 1 ? ps[0] : ps[i];
            int port = DEFAULT_PORT;
            if (!p.isEmpty()) {
                checkPort(p);
                port = Integer.parseInt(p);
            }
            out.add(new HostPort(hs[i].isEmpty() ? "localhost" : hs[i], port));
        }
        return out;
    }

    /** The first host. */
    public String host() {
        return hosts().get(0).host();
    }

    /** The first port. */
    public int port() {
        return hosts().get(0).port();
    }

    /** The user name, if given. */
    public Optional<String> user() {
        return get("user");
    }

    /** The database name; libpq's default is the user name. */
    public Optional<String> dbname() {
        return get("dbname").or(this::user);
    }

    /** The password, if the string holds one. Never log it. */
    public Optional<String> password() {
        return get("password");
    }

    /** The connect timeout in seconds, if given. */
    public Optional<Integer> connectTimeoutSeconds() {
        return get("connect_timeout").map(v -> {
            try {
                return Integer.parseInt(v.trim());
            } catch (NumberFormatException e) {
                throw bad("invalid connect_timeout \"" + v + "\" in connection string", "connect_timeout is a whole number of seconds");
            }
        });
    }

    /** The full key=value string, password included, quoted where libpq needs it. */
    public String render() {
        return render(false);
    }

    /** The key=value string with the password (and any sslpassword) replaced by {@link #MASK}. */
    public String masked() {
        return render(true);
    }

    private String render(boolean mask) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, String> e : params.entrySet()) {
            if (sb.length() > 0) {
                sb.append(' ');
            }
            String v = mask && isSecretKeyword(e.getKey()) ? MASK : e.getValue();
            sb.append(e.getKey()).append('=').append(quote(v));
        }
        return sb.toString();
    }

    /** Quotes one value for a libpq key=value string, only when it must be. */
    public static String quote(String value) {
        boolean plain = !value.isEmpty();
        for (int i = 0; i < value.length() && plain; i++) {
            char c = value.charAt(i);
            plain = !(Character.isWhitespace(c) || c == '\'' || c == '\\');
        }
        if (plain) {
            return value;
        }
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    /**
     * Replaces every occurrence of this string's secrets ({@code password}, {@code sslpassword})
     * in a text with {@link #MASK}: as written, as escaped inside a quoted conninfo value,
     * and percent-encoded as in a URI. For driver messages and command output that may
     * repeat a connection string. A very short password masks more than itself; that is
     * the safe side.
     */
    public String maskIn(String text) {
        if (text == null) {
            return null;
        }
        String out = text;
        for (Map.Entry<String, String> e : params.entrySet()) {
            String secret = e.getValue();
            if (!isSecretKeyword(e.getKey()) || secret.isEmpty()) {
                continue;
            }
            // longest forms first, so that a shorter form does not break a longer one
            List<String> forms = new ArrayList<>(List.of(
                    secret.replace("\\", "\\\\").replace("'", "\\'"),
                    URLEncoder.encode(secret, StandardCharsets.UTF_8).replace("+", "%20"),
                    URLEncoder.encode(secret, StandardCharsets.UTF_8),
                    secret));
            forms.sort((a, b) -> Integer.compare(b.length(), a.length()));
            for (String form : forms) {
                out = out.replace(form, MASK);
            }
        }
        return out;
    }

    /** Whether a keyword's value is a secret that is never shown. */
    private static boolean isSecretKeyword(String keyword) {
        return "password".equals(keyword) || "sslpassword".equals(keyword);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConnInfo && ((ConnInfo) o).params.equals(params);
    }

    @Override
    public int hashCode() {
        return params.hashCode();
    }

    /** The masked key=value string: a password is never shown. */
    @Override
    public String toString() {
        return masked();
    }

    /** One host and port of a connection string. */
    public record HostPort(String host, int port) {
        @Override
        public String toString() {
            return host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
        }
    }
}

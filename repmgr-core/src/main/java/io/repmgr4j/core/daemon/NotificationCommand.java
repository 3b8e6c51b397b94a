package io.repmgr4j.core.daemon;

import java.util.Map;

/**
 * Expands repmgr's {@code event_notification_command} template: {@code %n} node id,
 * {@code %e} event, {@code %s} 1/0 success, {@code %t} timestamp, {@code %d} details,
 * {@code %a} the (new) primary's name, {@code %c} its connection string with the password
 * masked, {@code %p} the primary's node id (the former primary for
 * {@code repmgrd_failover_promote}), {@code %%} a literal {@code %}. Unknown placeholders
 * are kept as written.
 *
 * <p>Values are quoted for the shell ({@code sh -c} runs the result) according to where
 * they stand: outside quotes a value becomes one single-quoted word; inside double quotes
 * ({@code "%d"}, as repmgr's documentation suggests) {@code " \ $ `} are escaped; inside
 * single quotes a {@code '} closes, escapes and reopens. So neither a template written
 * for repmgr nor a value containing quotes, {@code $(...)} or {@code ;} can make the shell
 * run anything but the template. Stateless; thread-safe.
 */
final class NotificationCommand {
    private NotificationCommand() {
    }

    static String expand(String template, Map<Character, String> values) {
        StringBuilder out = new StringBuilder();
        char quote = 0; // 0, '\'' or '"'
        for (int i = 0; i < template.length(); i++) {
            char c = template.charAt(i);
            if (c == '%' && i + 1 < template.length()) {
                char key = template.charAt(i + 1);
                if (key == '%') {
                    out.append('%');
                    i++;
                    continue;
                }
                String value = values.get(key);
                if (value != null) {
                    out.append(quoted(value, quote));
                    i++;
                    continue;
                }
                out.append(c);
                continue;
            }
            if (quote == 0 && c == '\\' && i + 1 < template.length()) {
                out.append(c).append(template.charAt(++i));
                continue;
            }
            if (quote == '"' && c == '\\' && i + 1 < template.length()) {
                out.append(c).append(template.charAt(++i));
                continue;
            }
            if (quote == 0 && (c == '\'' || c == '"')) {
                quote = c;
            } else if (quote == c) {
                quote = 0;
            }
            out.append(c);
        }
        return out.toString();
    }

    private static String quoted(String value, char context) {
        switch (context) {
            case '\'':
                return value.replace("'", "'\\''");
            case '"': {
                StringBuilder sb = new StringBuilder();
                for (char ch : value.toCharArray()) {
                    if (ch == '"' || ch == '\\' || ch == '$' || ch == '`') {
                        sb.append('\\');
                    }
                    sb.append(ch);
                }
                return sb.toString();
            }
            default:
                return "'" + value.replace("'", "'\\''") + "'";
        }
    }
}

package io.repmgr4j.sql;

import io.repmgr4j.ConnInfo;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * libpq's {@code PQping} for pgjdbc users: asks a server whether it accepts connections
 * without logging in. It sends a protocol 3.0 startup message and reads the first answer:
 * an authentication request or any error other than "cannot connect now" means the
 * server is up ({@link Result#OK}); SQLSTATE 57P03 (starting up, shutting down) means
 * {@link Result#REJECT}; no answer, a refused or reset connection, or a timeout means
 * {@link Result#NO_RESPONSE}. No password is sent, so the server logs nothing for a ping
 * that ends at the authentication request.
 *
 * <p>Needs a TCP host (as {@link PgConnections} does). A static utility; thread-safe.
 */
public final class PgPing {
    private static final int PROTOCOL_3_0 = 196608;

    /** What the server answered. */
    public enum Result {
        /** The server accepts connections. */
        OK,
        /** The server is there but does not accept connections now (starting up or shutting down). */
        REJECT,
        /** Nothing answered: no server, host down, or too slow. */
        NO_RESPONSE
    }

    private PgPing() {
    }

    /** Pings each host of the connection string in turn until one answers; {@code timeout} bounds each. */
    public static Result ping(ConnInfo info, Duration timeout) {
        Objects.requireNonNull(info, "info");
        List<ConnInfo.HostPort> hosts = info.get("hostaddr").isPresent() ? info.without("host").hosts() : info.hosts();
        Result best = Result.NO_RESPONSE;
        for (ConnInfo.HostPort hp : hosts) {
            Result r = pingOne(hp.host(), hp.port(), info.user().orElse("postgres"),
                    info.dbname().orElse(info.user().orElse("postgres")), timeout);
            if (r == Result.OK) {
                return r;
            }
            if (r == Result.REJECT) {
                best = r;
            }
        }
        return best;
    }

    static Result pingOne(String host, int port, String user, String database, Duration timeout) {
        if (host.startsWith("/") || host.startsWith("@")) {
            return Result.NO_RESPONSE;
        }
        int ms = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), ms);
            s.setSoTimeout(ms);
            s.setTcpNoDelay(true);
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.write(startupMessage(user, database));
            out.flush();
            DataInputStream in = new DataInputStream(s.getInputStream());
            while (true) {
                int type = in.read();
                if (type < 0) {
                    return Result.NO_RESPONSE;
                }
                int len = in.readInt();
                if (len < 4 || len > 65536) {
                    return Result.NO_RESPONSE;
                }
                byte[] body = new byte[len - 4];
                in.readFully(body);
                switch (type) {
                    case 'N':
                        continue; // a notice before the real answer
                    case 'E':
                        return "57P03".equals(sqlState(body)) ? Result.REJECT : Result.OK;
                    default:
                        return Result.OK; // 'R' authentication request, 'v' protocol negotiation
                }
            }
        } catch (IOException e) {
            return Result.NO_RESPONSE;
        }
    }

    private static byte[] startupMessage(String user, String database) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(body);
        d.writeInt(PROTOCOL_3_0);
        cstring(d, "user");
        cstring(d, user);
        cstring(d, "database");
        cstring(d, database);
        cstring(d, "application_name");
        cstring(d, "repmgr4j-ping");
        d.writeByte(0);
        ByteArrayOutputStream msg = new ByteArrayOutputStream();
        DataOutputStream m = new DataOutputStream(msg);
        m.writeInt(body.size() + 4);
        m.write(body.toByteArray());
        return msg.toByteArray();
    }

    private static void cstring(DataOutputStream d, String s) throws IOException {
        d.write(s.getBytes(StandardCharsets.UTF_8));
        d.writeByte(0);
    }

    /** The SQLSTATE ('C' field) of an ErrorResponse body. */
    static String sqlState(byte[] body) {
        int i = 0;
        while (i < body.length && body[i] != 0) {
            byte field = body[i++];
            int start = i;
            while (i < body.length && body[i] != 0) {
                i++;
            }
            String value = new String(body, start, i - start, StandardCharsets.UTF_8);
            i++;
            if (field == 'C') {
                return value;
            }
        }
        return null;
    }
}

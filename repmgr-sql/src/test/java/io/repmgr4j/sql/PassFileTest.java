package io.repmgr4j.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.testkit.PgServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** libpq's password file as {@link PassFile} reads it, and pgjdbc connections that take their password from it. */
class PassFileTest {
    private static Path file(Path dir, String text, String mode) throws Exception {
        Path f = dir.resolve("pgpass");
        Files.writeString(f, text);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
        return f;
    }

    @Test
    void firstMatchingLineWinsWithWildcardsAndEscapes(@TempDir Path dir) throws Exception {
        Path f = file(dir, "# comment\nother:5432:*:repmgr:no\npg1:5433:repmgr:repmgr:a\\:b\\\\c\n*:*:*:repmgr:fallback\n",
                "rw-------");
        assertThat(PassFile.lookup(f, "pg1", 5433, "repmgr", "repmgr")).hasValue("a:b\\c");
        assertThat(PassFile.lookup(f, "pg1", 5434, "repmgr", "repmgr")).hasValue("fallback");
        assertThat(PassFile.lookup(f, "other", 5432, "x", "repmgr")).hasValue("no");
        assertThat(PassFile.lookup(f, "pg1", 5433, "repmgr", "someone")).isEmpty();
    }

    @Test
    void aFileOthersMayReadIsIgnoredLikeLibpqDoes(@TempDir Path dir) throws Exception {
        Path f = file(dir, "*:*:*:*:secret\n", "rw-r--r--");
        assertThat(PassFile.lookup(f, "h", 1, "d", "u")).isEmpty();
        assertThat(PassFile.lookup(dir.resolve("missing"), "h", 1, "d", "u")).isEmpty();
    }

    @Test
    void locationIsTheConninfosPassfileThenPgpassfileThenHome() {
        assertThat(PassFile.location(ConnInfo.parse("host=h passfile=/a/b"), Map.of("PGPASSFILE", "/c"))).hasValue(Path.of("/a/b"));
        assertThat(PassFile.location(ConnInfo.parse("host=h"), Map.of("PGPASSFILE", "/c"))).hasValue(Path.of("/c"));
        assertThat(PassFile.location(ConnInfo.parse("host=h"), Map.of()))
                .hasValue(Path.of(System.getProperty("user.home"), ".pgpass"));
    }

    @Test
    void aConnectionTakesItsPasswordFromTheConninfosPassfile(@TempDir Path dir) throws Exception {
        String secret = "pass:file\\secret";
        try (PgServer pg = PgServer.builder().name("pf").password(secret).start()) {
            Path f = file(dir, "127.0.0.1:" + pg.port() + ":*:repmgr:pass\\:file\\\\secret\n", "rw-------");
            ConnInfo viaFile = pg.conninfo().without("password").with("passfile", f.toString());
            try (Connection c = PgConnections.open(viaFile)) {
                assertThat(c.isValid(5)).isTrue();
            }
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
            ReplicationException e = catchThrowableOfType(ReplicationException.class, () -> PgConnections.open(viaFile).close());
            assertThat(e.code()).isEqualTo(ErrorCode.DB_CONN);
            assertThat(e.hint().orElseThrow()).contains("check the user and password");
            assertThat(e.toReport()).doesNotContain(secret);
        }
    }
}

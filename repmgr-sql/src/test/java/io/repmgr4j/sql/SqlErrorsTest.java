package io.repmgr4j.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

/** Pure logic: password scrubbing, SQLState mapping, schema comment parsing. */
class SqlErrorsTest {

    @Test
    void redactsPasswordsInConninfoStringsRowDumpsAndUris() {
        assertThat(SqlErrors.redact("host=a password=hunter2 user=b")).isEqualTo("host=a password=******** user=b");
        assertThat(SqlErrors.redact("host=a password = 'hun ter\\'2' user=b")).isEqualTo("host=a password = ******** user=b");
        assertThat(SqlErrors.redact("Failing row contains (1, host=x PASSWORD=hunter2, repmgr)"))
                .isEqualTo("Failing row contains (1, host=x PASSWORD=********, repmgr)");
        assertThat(SqlErrors.redact("postgresql://repmgr:hunter2@db1:5432/repmgr")).isEqualTo("postgresql://repmgr:********@db1:5432/repmgr");
        assertThat(SqlErrors.redact("nothing secret here")).isEqualTo("nothing secret here");
        assertThat(SqlErrors.redact(null)).isNull();
        ConnInfo ci = ConnInfo.parse("host=x password='a,b c'");
        assertThat(SqlErrors.redact("row (host=x password='a,b c', a,b c)", ci)).doesNotContain("a,b c");
    }

    @Test
    void mapsSqlStateClass08ToDbConnAndTheRestToDbQuery() {
        ReplicationException conn = SqlErrors.map("unable to x", new SQLException("refused", "08001"));
        assertThat(conn.code()).isEqualTo(ErrorCode.DB_CONN);
        assertThat(conn.getMessage()).isEqualTo("unable to x");
        assertThat(conn.detail()).contains("refused [SQLSTATE 08001]");
        assertThat(conn.hint()).isPresent();

        ReplicationException query = SqlErrors.map("unable to y", new SQLException("bad password=hunter2", "42601"), "do z");
        assertThat(query.code()).isEqualTo(ErrorCode.DB_QUERY);
        assertThat(query.hint()).contains("do z");
        assertThat(query.detail().orElseThrow()).doesNotContain("hunter2");
        assertThat(query.getCause().getMessage()).doesNotContain("hunter2");

        SQLException wrapped = new SQLException("outer", "XX000", new SQLException("lost", "08006"));
        assertThat(SqlErrors.map("unable", wrapped).code()).isEqualTo(ErrorCode.DB_CONN);
    }

    @Test
    void readsOnlyOurSchemaComment() {
        assertThat(SchemaInstaller.parseVersion(null)).isEmpty();
        assertThat(SchemaInstaller.parseVersion("Replication manager for PostgreSQL")).isEmpty();
        assertThat(SchemaInstaller.parseVersion("repmgr4j schema version 1")).contains(1);
        assertThat(SchemaInstaller.parseVersion("repmgr4j schema version 12")).contains(12);
        assertThatThrownBy(() -> SchemaInstaller.parseVersion("repmgr4j schema version 0"))
                .isInstanceOfSatisfying(ReplicationException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.DB_QUERY));
    }

    @Test
    void knowsItsScriptsInOrder() {
        assertThat(SchemaInstaller.CURRENT_VERSION).isEqualTo(SchemaInstaller.MIGRATIONS.size());
        for (SchemaInstaller.Migration m : SchemaInstaller.MIGRATIONS) {
            assertThat(m.sql()).contains("repmgr.");
        }
        assertThatThrownBy(() -> new SchemaInstaller.Migration(2, "schema/V3__x.sql")).isInstanceOf(IllegalArgumentException.class);
    }
}

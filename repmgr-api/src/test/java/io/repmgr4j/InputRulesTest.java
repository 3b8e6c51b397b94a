package io.repmgr4j;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What {@link InputRules} lets through: the bad inputs are exercised against a real cluster
 * in repmgr-core's BadInputTest; here, that ordinary values are not refused.
 */
class InputRulesTest {
    @ParameterizedTest
    @ValueSource(strings = {"--max-rate=1M", "-r 1M", "-T /a=/b", "--tablespace-mapping /a=/b", "-vn", "--no-clean",
            "--waldir=/srv/wal", "--label x", "-c spread", "--checkpoint=fast", "-N", "--no-sync", "--verbose",
            "--no-verify-checksums", "--manifest-checksums SHA256", "-s 5", "--no-manifest", "-z", "--max=1M"})
    void pgBasebackupOptionsTheLibraryDoesNotOwnPass(String options) {
        assertThatCode(() -> InputRules.basebackupOptions(List.of(options.split(" ")))).doesNotThrowAnyException();
    }

    @ParameterizedTest
    @ValueSource(strings = {"pg1", "日本語の名前", "node-a.dc1", "a name with spaces"})
    void namesWithinSixtyThreeBytesPass(String name) {
        assertThatCode(() -> InputRules.name("node_name", name)).doesNotThrowAnyException();
    }

    @ParameterizedTest
    @ValueSource(strings = {"/var/lib/postgresql/15/main", "/data/it's \"quoted\" $(x) `y` \\z"})
    void dataDirectoriesWithShellCharactersPass(String path) {
        assertThatCode(() -> InputRules.path("data_directory", path)).doesNotThrowAnyException();
    }

    @ParameterizedTest
    @ValueSource(strings = {"/usr/lib/postgresql/15/bin/", "/opt/pg 15/bin"})
    void ordinaryBindirsPass(String path) {
        assertThatCode(() -> InputRules.bindir("pg_bindir", path)).doesNotThrowAnyException();
    }

    @ParameterizedTest
    @ValueSource(strings = {"a\tb", "line one\nline two", "x\r\ny"})
    void commandsMayHoldTabsAndLineBreaks(String command) {
        assertThatCode(() -> InputRules.command("promote_command", command)).doesNotThrowAnyException();
    }

    @ParameterizedTest
    @ValueSource(strings = {"host=pg1 port=5433 user=repmgr dbname=repmgr connect_timeout=2 sslmode=require",
            "host=pg1,pg2 port=5432,5433 target_session_attrs=read-write passfile=/x/.pgpass application_name=n",
            "postgresql://u:p@h1:5432,h2:5433/db?sslmode=verify-full&keepalives=1"})
    void libpqConnectionStringsPass(String conninfo) {
        assertThatCode(() -> InputRules.conninfo("conninfo", ConnInfo.parse(conninfo))).doesNotThrowAnyException();
    }

    @ParameterizedTest
    @ValueSource(strings = {"-D/x", "--pgdata=/x", "-vR", "--pgd=/x", "--no"})
    void ownedOptionsAreRefusedWithTheirReason(String option) {
        assertThatThrownBy(() -> InputRules.basebackupOptions(List.of(option)))
                .isInstanceOfSatisfying(ReplicationException.class, e -> org.assertj.core.api.Assertions
                        .assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG))
                .hasMessageContaining("is set by repmgr4j itself");
    }
}

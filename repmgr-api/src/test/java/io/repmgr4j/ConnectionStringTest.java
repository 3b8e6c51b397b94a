package io.repmgr4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class ConnectionStringTest {
    static NodeRecord node(int id, NodeType type, String conninfo, boolean active) {
        return NodeRecord.builder().nodeId(id).nodeName("pg" + id).type(type).active(active)
                .upstreamNodeId(type == NodeType.STANDBY ? OptionalInt.of(1) : OptionalInt.empty())
                .conninfo(ConnInfo.parse(conninfo)).repluser("repmgr").configFile("").build();
    }

    static final List<NodeRecord> NODES = List.of(
            node(2, NodeType.STANDBY, "host=10.0.0.2 port=5433 user=repmgr dbname=repmgr password=s3cr'et", true),
            node(1, NodeType.PRIMARY, "host=10.0.0.1 port=5432 user=repmgr dbname=repmgr password=s3cr'et", true),
            node(3, NodeType.WITNESS, "host=10.0.0.3 port=5432 user=repmgr dbname=repmgr", true),
            node(4, NodeType.STANDBY, "host=10.0.0.4 port=5432 user=repmgr dbname=repmgr", false),
            node(5, NodeType.STANDBY, "host=::1 port=5435 user=repmgr dbname=repmgr", true));

    @Test
    void primaryUrlPutsThePrimaryFirstAndLeavesOutWitnessesInactiveNodesAndPasswords() {
        String url = ConnectionString.of(NODES, Target.PRIMARY).jdbcUrl();
        assertThat(url).isEqualTo("jdbc:postgresql://10.0.0.1:5432,10.0.0.2:5433,[::1]:5435/repmgr"
                + "?targetServerType=primary&hostRecheckSeconds=2&connectTimeout=5&user=repmgr");
    }

    @Test
    void libpqFormsUseTheTargetSessionAttrsOfPostgres14() {
        assertThat(ConnectionString.of(NODES, Target.PRIMARY).conninfo()).isEqualTo(
                "host=10.0.0.1,10.0.0.2,::1 port=5432,5433,5435 dbname=repmgr user=repmgr"
                        + " target_session_attrs=read-write connect_timeout=5");
        assertThat(ConnectionString.of(NODES, Target.STANDBY).conninfo()).startsWith("host=10.0.0.2,::1,10.0.0.1 ")
                .contains("target_session_attrs=standby");
        assertThat(ConnectionString.of(NODES, Target.PREFER_STANDBY).conninfo()).contains("target_session_attrs=prefer-standby");
        assertThat(ConnectionString.of(NODES, Target.ANY).conninfo()).contains("target_session_attrs=any");
        assertThat(ConnectionString.of(NODES, Target.STANDBY).jdbcUrl()).contains("targetServerType=secondary");
        assertThat(ConnectionString.of(NODES, Target.PREFER_STANDBY).jdbcUrl()).contains("targetServerType=preferSecondary");
        assertThat(ConnectionString.of(NODES, Target.ANY).jdbcUrl()).contains("targetServerType=any");
    }

    @Test
    void optionsChangeDatabaseUserAndTimeoutsAndAreCopies() {
        ConnectionString base = ConnectionString.of(NODES, Target.PRIMARY);
        ConnectionString app = base.database("my app").user("app").connectTimeout(Duration.ofSeconds(3)).hostRecheckSeconds(0);
        assertThat(app.jdbcUrl()).isEqualTo("jdbc:postgresql://10.0.0.1:5432,10.0.0.2:5433,[::1]:5435/my%20app"
                + "?targetServerType=primary&hostRecheckSeconds=0&connectTimeout=3&user=app");
        assertThat(app.conninfo()).contains("dbname='my app' user=app").contains("connect_timeout=3");
        assertThat(base.jdbcUrl()).contains("/repmgr?").contains("user=repmgr");
    }

    @Test
    void passwordOnlyWhenAskedForAndNeverInToString() {
        ConnectionString withPw = ConnectionString.of(NODES, Target.PRIMARY).includePassword(true);
        assertThat(withPw.jdbcUrl()).endsWith("&password=s3cr%27et");
        assertThat(withPw.conninfo()).contains("password='s3cr\\'et'");
        assertThat(ConnInfo.parse(withPw.conninfo()).password()).contains("s3cr'et");
        assertThat(withPw.toString()).doesNotContain("s3cr").contains(ConnInfo.MASK);
        assertThat(ConnectionString.of(NODES, Target.PRIMARY).conninfo()).doesNotContain("password");
    }

    @Test
    void refusesAnEmptyClusterBadOptionsAndSocketsForPgjdbc() {
        ReplicationException empty = catchThrowableOfType(ReplicationException.class,
                () -> ConnectionString.of(List.of(), Target.PRIMARY));
        assertThat(empty.code()).isEqualTo(ErrorCode.BAD_CONFIG);
        assertThat(empty.getMessage()).contains("no active primary or standby");
        ReplicationException onlyWitness = catchThrowableOfType(ReplicationException.class,
                () -> ConnectionString.of(List.of(NODES.get(2)), Target.ANY));
        assertThat(onlyWitness.detail()).hasValueSatisfying(d -> assertThat(d).contains("pg3"));
        ConnectionString base = ConnectionString.of(NODES, Target.PRIMARY);
        assertThat(catchThrowableOfType(ReplicationException.class, () -> base.connectTimeout(Duration.ofSeconds(1))).code())
                .isEqualTo(ErrorCode.BAD_CONFIG);
        assertThat(catchThrowableOfType(ReplicationException.class, () -> base.hostRecheckSeconds(-1)).code())
                .isEqualTo(ErrorCode.BAD_CONFIG);
        assertThat(catchThrowableOfType(ReplicationException.class, () -> base.database(" ")).code())
                .isEqualTo(ErrorCode.BAD_CONFIG);
        ConnectionString socket = ConnectionString.of(List.of(node(1, NodeType.PRIMARY, "host=/tmp port=5432 user=u", true)),
                Target.PRIMARY);
        assertThat(socket.conninfo()).startsWith("host=/tmp port=5432");
        assertThat(catchThrowableOfType(ReplicationException.class, socket::jdbcUrl).getMessage()).contains("Unix-domain socket");
    }
}

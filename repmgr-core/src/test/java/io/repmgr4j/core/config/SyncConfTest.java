package io.repmgr4j.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.SyncMode;
import org.junit.jupiter.api.Test;

/** repmgr4j's own synchronous keys in repmgr.conf. */
class SyncConfTest {
    private static final String BASE = "node_id=2\nnode_name='pg2'\nconninfo='host=127.0.0.1 dbname=repmgr'\n"
            + "data_directory='/tmp/pg2'\n";

    @Test
    void defaultsAreOffCountOneNotStrictTenSecondsAndCandidate() {
        RepmgrConf.Result r = RepmgrConf.parseWithWarnings(BASE, "repmgr.conf");
        NodeConfig c = r.config();
        assertThat(c.synchronous()).isEqualTo(SyncMode.OFF);
        assertThat(c.synchronousCount()).isEqualTo(1);
        assertThat(c.synchronousStrict()).isFalse();
        assertThat(c.synchronousDegradeTimeout()).isEqualTo(10);
        assertThat(c.syncCandidate()).isTrue();
    }

    @Test
    void theKeysAreReadWithoutWarnings() {
        RepmgrConf.Result r = RepmgrConf.parseWithWarnings(BASE + "synchronous=quorum\nsynchronous_count=2\n"
                + "synchronous_strict=on\nsynchronous_degrade_timeout=30\nsync_candidate=false\n", "repmgr.conf");
        assertThat(r.warnings()).isEmpty();
        assertThat(r.config().synchronous()).isEqualTo(SyncMode.QUORUM);
        assertThat(r.config().synchronousCount()).isEqualTo(2);
        assertThat(r.config().synchronousStrict()).isTrue();
        assertThat(r.config().synchronousDegradeTimeout()).isEqualTo(30);
        assertThat(r.config().syncCandidate()).isFalse();
    }

    @Test
    void badValuesNameTheKeyAndLine() {
        assertThatThrownBy(() -> RepmgrConf.parse(BASE + "synchronous=always\n", "repmgr.conf"))
                .isInstanceOf(ReplicationException.class)
                .hasMessage("invalid value \"always\" for \"synchronous\" in repmgr.conf line 5")
                .satisfies(e -> assertThat(((ReplicationException) e).detail())
                        .hasValue("allowed values for \"synchronous\": off, priority, quorum"));
        assertThatThrownBy(() -> RepmgrConf.parse(BASE + "synchronous_count=0\n", "repmgr.conf"))
                .isInstanceOf(ReplicationException.class).hasMessageContaining("\"synchronous_count\"");
    }
}

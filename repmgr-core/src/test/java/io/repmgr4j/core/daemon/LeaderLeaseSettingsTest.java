package io.repmgr4j.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.spi.ConsensusStore;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The lease's arithmetic, checked before a daemon starts: a renewal, one call and the fence must fit in the lease. */
class LeaderLeaseSettingsTest {

    @Test
    void aLeaseTooShortForARenewalACallAndTheFenceIsRefused() {
        ConsensusStore store = mock(ConsensusStore.class);
        when(store.ttl()).thenReturn(Duration.ofSeconds(3));
        assertThatThrownBy(() -> new LeaderLease(store, "pg1", ConnInfo.parse("host=127.0.0.1 port=1"),
                Duration.ofSeconds(1), "t")).isInstanceOfSatisfying(ReplicationException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
                    assertThat(e.getMessage()).isEqualTo("etcd_ttl 3 s is too short");
                    assertThat(e.detail().orElseThrow()).contains("every ttl/3 (1000 ms)", "(1000 ms)", "1100 ms",
                            "3100 ms do not fit in 3000 ms");
                    assertThat(e.hint().orElseThrow()).contains("raise etcd_ttl");
                });
    }

    @Test
    void theDefaultsLeaveRoomAndSayHow() {
        ConsensusStore store = mock(ConsensusStore.class);
        when(store.ttl()).thenReturn(Duration.ofSeconds(10));
        when(store.kind()).thenReturn("etcd");
        LeaderLease lease = new LeaderLease(store, "pg1", ConnInfo.parse("host=127.0.0.1 port=1"), Duration.ofSeconds(2), "t");
        try {
            assertThat(lease.figures()).isEqualTo("etcd lease 10 s, renewed every 3333 ms, fence decided 1100 ms before"
                    + " the lease can end");
        } finally {
            lease.close();
        }
    }
}

package io.repmgr4j.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.DaemonMode;
import io.repmgr4j.sql.DaemonSessions;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** The application_name format daemons publish their state in. */
class BeaconTest {

    @Test
    void encodesCompactlyAndParsesBack() {
        Beacon b = new Beacon(2, 1, false, true, 250, DaemonMode.MONITORING, 3, 48213);
        String text = b.encode();
        assertThat(text).isEqualTo("r4jd n=2 u=1 p=0 a=1 s=250 m=M t=3 i=48213");
        assertThat(Beacon.parse(text, OptionalLong.empty())).hasValue(b);
    }

    @Test
    void theReaderAddsTheTimeSinceTheTextWasSet() {
        String text = new Beacon(2, 1, true, false, 250, DaemonMode.DEGRADED, 3, 7).encode();
        Beacon read = Beacon.parse(text, OptionalLong.of(1000)).orElseThrow();
        assertThat(read.lastSeenAgoMillis()).isEqualTo(1250);
        assertThat(read.paused()).isTrue();
        assertThat(read.automatic()).isFalse();
        assertThat(read.sawUpstreamWithin(1250)).isTrue();
        assertThat(read.sawUpstreamWithin(1249)).isFalse();
    }

    @Test
    void neverSeenStaysUnknown() {
        Beacon read = Beacon.parse(new Beacon(1, 0, false, true, -1, DaemonMode.MONITORING, 1, 9).encode(), OptionalLong.of(5000))
                .orElseThrow();
        assertThat(read.lastSeenAgoMillis()).isEqualTo(-1);
        assertThat(read.sawUpstreamWithin(Long.MAX_VALUE)).isFalse();
    }

    @Test
    void hugeNumbersStayWithinPostgresqlsLimitByDroppingTheOptionalFields() {
        Beacon b = new Beacon(Integer.MAX_VALUE, Integer.MAX_VALUE, true, true, 99_999_999_999L, DaemonMode.ELECTING,
                Integer.MAX_VALUE, Long.MAX_VALUE);
        String text = b.encode();
        assertThat(text.length()).isLessThanOrEqualTo(Beacon.MAX_LENGTH);
        Beacon read = Beacon.parse(text, OptionalLong.empty()).orElseThrow();
        assertThat(read.nodeId()).isEqualTo(Integer.MAX_VALUE);
        assertThat(read.upstreamId()).isEqualTo(Integer.MAX_VALUE);
        assertThat(read.mode()).isEqualTo(DaemonMode.ELECTING);
        assertThat(read.pid()).isEqualTo(-1);
        assertThat(read.lastSeenAgoMillis()).isEqualTo(9_999_999_999L);
    }

    @Test
    void otherTextIsNoBeacon() {
        assertThat(Beacon.parse("psql", OptionalLong.empty())).isEmpty();
        assertThat(Beacon.parse("r4jd n=x m=M", OptionalLong.empty())).isEmpty();
        assertThat(Beacon.parse("r4jd u=1 m=M", OptionalLong.empty())).isEmpty();
        assertThat(Beacon.parse("r4jd n=1 m=?", OptionalLong.empty())).isEmpty();
        assertThat(Beacon.parse(null, OptionalLong.empty())).isEmpty();
    }

    @Test
    void findPicksTheNodesFreshestSession() {
        List<DaemonSessions.Session> sessions = List.of(
                new DaemonSessions.Session(10, "r4jd n=3 u=1 p=0 a=1 s=0 m=M", OptionalLong.of(50)),
                new DaemonSessions.Session(11, "r4jd n=2 u=1 p=0 a=1 s=0 m=M", OptionalLong.of(9000)),
                new DaemonSessions.Session(12, "r4jd n=2 u=1 p=1 a=1 s=0 m=D", OptionalLong.of(20)),
                new DaemonSessions.Session(13, "someone else", OptionalLong.of(1)));
        assertThat(Beacon.find(sessions, 2)).hasValueSatisfying(b -> assertThat(b.mode()).isEqualTo(DaemonMode.DEGRADED));
        assertThat(Beacon.find(sessions, 4)).isEmpty();
    }
}

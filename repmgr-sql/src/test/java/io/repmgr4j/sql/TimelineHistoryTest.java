package io.repmgr4j.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.Lsn;
import org.junit.jupiter.api.Test;

/** Parsing history files and asking them where a timeline ended; quoting for ALTER SYSTEM. */
class TimelineHistoryTest {

    @Test
    void parsesAHistoryFileAndAnswersForEachTimeline() {
        TimelineHistory h = TimelineHistory.parse(3,
                "1\t0/3000000\tno recovery target specified\n\n# a comment\n2\t0/50646B8\tno recovery target specified\n");
        assertThat(h.entries()).containsExactly(new TimelineHistory.Entry(1, Lsn.parse("0/3000000")),
                new TimelineHistory.Entry(2, Lsn.parse("0/50646B8")));
        assertThat(h.switchpoint(1)).hasValue(Lsn.parse("0/3000000"));
        assertThat(h.switchpoint(2)).hasValue(Lsn.parse("0/50646B8"));
        assertThat(h.switchpoint(3)).isEmpty();
        assertThat(h.contains(3)).isTrue();
        assertThat(h.contains(2)).isTrue();
        assertThat(h.contains(4)).isFalse();
    }

    @Test
    void aHistoryWithATimelineLeftOutDoesNotContainIt() {
        // timeline 4 branched from 2: timeline 3 is a sibling, not an ancestor
        TimelineHistory h = TimelineHistory.parse(4, "1 0/3000000 x\n2 0/6000000 y\n");
        assertThat(h.contains(3)).isFalse();
        assertThat(h.switchpoint(3)).isEmpty();
    }

    @Test
    void rejectsWhatIsNotAHistoryLine() {
        assertThatThrownBy(() -> TimelineHistory.parse(2, "garbage\n")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TimelineHistory.parse(2, "x 0/1 y\n")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void dollarQuotingPicksATagTheValueDoesNotContain() {
        assertThat(ReplicationControl.dollarQuote("host=a password='x'")).isEqualTo("$r4j$host=a password='x'$r4j$");
        assertThat(ReplicationControl.dollarQuote("a$r4j$b")).isEqualTo("$r4j0$a$r4j$b$r4j0$");
    }
}

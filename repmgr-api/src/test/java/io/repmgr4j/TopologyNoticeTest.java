package io.repmgr4j;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TopologyNoticeTest {
    @Test
    void payloadRoundTripsAndIsVersioned() {
        TopologyNotice n = new TopologyNotice("promote", 2, 3, 4);
        assertThat(n.payload()).isEqualTo("{\"v\":1,\"event\":\"promote\",\"primary\":2,\"timeline\":3,\"term\":4}");
        assertThat(TopologyNotice.parse(n.payload())).contains(n);
        // the server's json_build_object writes spaces after the colons
        assertThat(TopologyNotice.parse("{\"v\" : 1, \"event\" : \"rejoin\", \"primary\" : 1, \"timeline\" : 7, \"term\" : 9}"))
                .contains(new TopologyNotice("rejoin", 1, 7, 9));
    }

    @Test
    void otherVersionsAndGarbageAreNotNotices() {
        assertThat(TopologyNotice.parse("{\"v\":2,\"event\":\"promote\",\"primary\":2}")).isEmpty();
        assertThat(TopologyNotice.parse("hello")).isEmpty();
        assertThat(TopologyNotice.parse("")).isEmpty();
        assertThat(TopologyNotice.parse(null)).isEmpty();
        assertThat(TopologyNotice.parse("{\"v\":1,\"primary\":2}")).isEmpty();
    }
}

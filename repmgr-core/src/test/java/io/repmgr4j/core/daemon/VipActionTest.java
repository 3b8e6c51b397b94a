package io.repmgr4j.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.VirtualIp;
import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.spi.CommandRunner;
import io.repmgr4j.spi.RoleChange;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The command sequence of the built-in virtual IP against the CommandRunner SPI: which
 * commands run, in which order, for each answer of the host (address present or not,
 * answered by another host or not, arping missing), and that nothing is added once the
 * node is no longer the primary.
 */
class VipActionTest {
    private static final VirtualIp VIP = new VirtualIp("10.0.0.100", 24, "eth0");
    private static final RoleChange CHANGE = new RoleChange(1, "pg1", "test", OptionalInt.empty(), Instant.now());

    /** Answers by command (first word after "ip"/"arping" and mode), recording each argv. */
    static final class Host implements CommandRunner {
        final List<String> log = new ArrayList<>();
        String shown = "2: eth0    inet 10.0.0.1/24 brd 10.0.0.255 scope global eth0\n";
        final Deque<Integer> dadAnswers = new ArrayDeque<>();
        int dadDefault = 0;
        int arpingMissing = 0;
        String delError = "";

        @Override
        public CommandResult run(Command c) {
            String line = String.join(" ", c.argv());
            log.add(line);
            if (line.startsWith("ip -o -4 addr show")) {
                return ok(shown);
            }
            if (line.startsWith("arping")) {
                if (arpingMissing != 0) {
                    return new CommandResult(127, "", "sh: 1: arping: not found", false, Duration.ZERO);
                }
                if (line.contains(" -D ")) {
                    int rc = dadAnswers.isEmpty() ? dadDefault : dadAnswers.poll();
                    return new CommandResult(rc, "", "", false, Duration.ZERO);
                }
                return ok("");
            }
            if (line.startsWith("ip addr del") && !delError.isEmpty()) {
                return new CommandResult(2, "", delError, false, Duration.ZERO);
            }
            return ok("");
        }

        private static CommandResult ok(String out) {
            return new CommandResult(0, out, "", false, Duration.ZERO);
        }

        @Override
        public String describe() {
            return "test host";
        }
    }

    @Test
    void promoteChecksThenAddsThenAnnounces() {
        Host h = new Host();
        new VipAction(VIP, h, "pg1", () -> true).onPromote(CHANGE);
        assertThat(h.log).containsExactly(
                "ip -o -4 addr show dev eth0",
                "arping -D -q -c 1 -w 1 -I eth0 10.0.0.100",
                "ip addr add 10.0.0.100/24 dev eth0",
                "arping -U -q -c 1 -w 1 -I eth0 10.0.0.100");
    }

    @Test
    void anAddressAlreadyThereIsOnlyAnnounced() {
        Host h = new Host();
        h.shown += "2: eth0    inet 10.0.0.100/24 scope global secondary eth0\n";
        new VipAction(VIP, h, "pg1", () -> true).onPromote(CHANGE);
        assertThat(h.log).containsExactly("ip -o -4 addr show dev eth0", "arping -U -q -c 1 -w 1 -I eth0 10.0.0.100");
    }

    @Test
    void anAddressHeldElsewhereIsAddedOnlyOnceReleased() {
        Host h = new Host();
        h.dadAnswers.addAll(List.of(1, 1, 0));
        new VipAction(VIP, h, "pg1", () -> true).onPromote(CHANGE);
        assertThat(h.log).containsExactly(
                "ip -o -4 addr show dev eth0",
                "arping -D -q -c 1 -w 1 -I eth0 10.0.0.100",
                "arping -D -q -c 1 -w 1 -I eth0 10.0.0.100",
                "arping -D -q -c 1 -w 1 -I eth0 10.0.0.100",
                "ip addr add 10.0.0.100/24 dev eth0",
                "arping -U -q -c 1 -w 1 -I eth0 10.0.0.100");
    }

    @Test
    void nothingIsAddedOnceNoLongerPrimary() {
        Host h = new Host();
        h.dadDefault = 1; // held by another host for good
        AtomicBoolean primary = new AtomicBoolean(true);
        VipAction a = new VipAction(VIP, h, "pg1", () -> {
            boolean was = primary.get();
            if (h.log.stream().filter(l -> l.contains(" -D ")).count() >= 2) {
                primary.set(false);
            }
            return was;
        });
        a.onPromote(CHANGE);
        assertThat(h.log).doesNotContain("ip addr add 10.0.0.100/24 dev eth0");
        assertThat(h.log.stream().filter(l -> l.contains(" -D ")).count()).isGreaterThanOrEqualTo(2);
    }

    @Test
    void demoteRemovesAndAnAbsentAddressIsNoError() {
        Host h = new Host();
        new VipAction(VIP, h, "pg1", () -> false).onDemote(CHANGE);
        assertThat(h.log).containsExactly("ip addr del 10.0.0.100/24 dev eth0");
        Host absent = new Host();
        absent.delError = "RTNETLINK answers: Cannot assign requested address";
        new VipAction(VIP, absent, "pg1", () -> false).onDemote(CHANGE);
        assertThat(absent.log).containsExactly("ip addr del 10.0.0.100/24 dev eth0");
    }

    @Test
    void withoutArpingTheAddressIsStillAdded() {
        Host h = new Host();
        h.arpingMissing = 1;
        new VipAction(VIP, h, "pg1", () -> true).onPromote(CHANGE);
        assertThat(h.log).containsExactly(
                "ip -o -4 addr show dev eth0",
                "arping -D -q -c 1 -w 1 -I eth0 10.0.0.100",
                "ip addr add 10.0.0.100/24 dev eth0",
                "arping -U -q -c 1 -w 1 -I eth0 10.0.0.100");
    }

    @Test
    void badVipSettingsAreRefused() {
        io.repmgr4j.NodeConfig ok = io.repmgr4j.NodeConfig.builder().nodeId(1).nodeName("n")
                .conninfo(io.repmgr4j.ConnInfo.parse("host=127.0.0.1")).dataDirectory("/d").vip("10.0.0.100/24")
                .vipInterface("eth0").build();
        assertThat(VirtualIp.of(ok)).contains(VIP);
        for (String[] bad : new String[][] {{"10.0.0.300/24", "eth0"}, {"10.0.0.1", "eth0"}, {"10.0.0.1/33", "eth0"},
                {"10.0.0.1/24", "eth 0"}, {"10.0.0.1/24", null}, {null, "eth0"}}) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> io.repmgr4j.NodeConfig.builder().nodeId(1).nodeName("n")
                            .conninfo(io.repmgr4j.ConnInfo.parse("host=127.0.0.1")).dataDirectory("/d")
                            .vip(java.util.Optional.ofNullable(bad[0])).vipInterface(java.util.Optional.ofNullable(bad[1])).build())
                    .as("vip %s on %s", bad[0], bad[1])
                    .isInstanceOfSatisfying(io.repmgr4j.ReplicationException.class,
                            e -> assertThat(e.code()).isEqualTo(io.repmgr4j.ErrorCode.BAD_CONFIG));
        }
    }
}

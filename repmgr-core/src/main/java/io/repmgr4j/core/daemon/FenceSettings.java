package io.repmgr4j.core.daemon;

import io.repmgr4j.DaemonOptions;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.FencingMode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationException;
import java.time.Duration;
import java.util.Optional;

/**
 * The fencing side of a daemon's settings, and the two figures the "fence before
 * promotion" rule compares, each measured on one host's own clock:
 * <ul>
 *   <li>{@link #longestCutToFence()}: the most time that can pass, on this node acting as
 *       primary, from the moment it is cut off to the moment its server cannot acknowledge
 *       a write any more: {@code primary_isolation_timeout} (counted from the start of the
 *       last probe round that saw a quorum, which began before the cut) plus the fence
 *       deadline ({@link #FENCE_DEADLINE}: the decision tick and the time the fence takes to
 *       stop the server taking writes);</li>
 *   <li>{@link #shortestCutToPromotion()}: the least time that can pass, on this node acting
 *       as a standby, from the cut to its promotion when it only meets silence (timeouts):
 *       it counts from its first failed check of the primary, which lies after the cut, and
 *       waits the longer of the reconnect window and the fence hold (the longest cut→fence
 *       figure). With positive evidence (the primary's port refuses connections) it may
 *       promote after the reconnect window alone.</li>
 * </ul>
 * Immutable; thread-safe.
 */
record FenceSettings(FencingMode mode, Optional<String> command, Duration isolationTimeout, Duration probeInterval,
                     Duration checkTimeout, Duration reconnectWindow, boolean automatic, boolean isolationTimeoutSet) {

    /** Decision tick plus the time a fence takes to close the server to writes (signal sent, command started). */
    static final Duration FENCE_DEADLINE = Duration.ofMillis(1000);
    /** How often the isolation watch decides, independently of how long its probes take. */
    static final Duration TICK = Duration.ofMillis(50);

    static FenceSettings of(DaemonSettings s, DaemonOptions options) {
        NodeConfig n = s.node();
        FencingMode mode = options.fencing().orElse(n.fencing());
        Optional<String> command = options.fenceCommand().or(n::fenceCommand);
        if (command.isPresent() && command.get().isBlank()) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "fence_command is empty", "an empty command cannot be run",
                    "remove the setting, or give the command to run");
        }
        if (mode == FencingMode.COMMAND && command.isEmpty()) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "fencing=command but no fence_command is set",
                    "the command fence runs fence_command on the node's host",
                    "set fence_command (DaemonOptions.fenceCommand), or choose fencing=readonly or stop");
        }
        // a quarter of the monitor interval: the round (probe interval + check timeout) bounds the
        // smallest safe primary_isolation_timeout, which the standbys' fence hold then waits out
        Duration probe = clamp(s.monitorInterval().dividedBy(4), Duration.ofMillis(100), Duration.ofSeconds(1));
        Duration round = probe.plus(s.checkTimeout());
        Optional<Duration> configured = options.primaryIsolationTimeout()
                .or(() -> n.primaryIsolationTimeout().map(Duration::ofSeconds));
        Duration timeout = configured.orElse(round.multipliedBy(2));
        if (timeout.compareTo(round) <= 0) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "primary_isolation_timeout " + timeout.toMillis()
                    + " ms is not longer than one isolation probe round (" + round.toMillis() + " ms)",
                    "the primary probes its standbys and witness every " + probe.toMillis() + " ms, each probe bounded by the"
                            + " check timeout (" + s.checkTimeout().toMillis() + " ms); a shorter timeout fences a healthy"
                            + " primary whenever one round is slow",
                    "set primary_isolation_timeout (DaemonOptions.primaryIsolationTimeout) above " + round.toMillis()
                            + " ms; twice that is the default");
        }
        return new FenceSettings(mode, command, timeout, probe, s.checkTimeout(), s.reconnectWindow(), s.automatic(),
                configured.isPresent());
    }

    /** On this node as primary: cut → its server no longer acknowledges writes, at most. */
    Duration longestCutToFence() {
        return isolationTimeout.plus(FENCE_DEADLINE);
    }

    /**
     * How long, after its first failed check of a silent primary, a standby waits before it
     * may promote: the longest cut→fence figure, or nothing with {@code fencing=none}
     * (explicitly unsafe, repmgr's behaviour).
     */
    Duration fenceHold() {
        return mode == FencingMode.NONE ? Duration.ZERO : longestCutToFence();
    }

    /** On this node as standby: cut → promotion, at least, when the primary is only silent. */
    Duration shortestCutToPromotion() {
        Duration hold = fenceHold();
        return hold.compareTo(reconnectWindow) > 0 ? hold : reconnectWindow;
    }

    private static Duration clamp(Duration d, Duration min, Duration max) {
        return d.compareTo(min) < 0 ? min : d.compareTo(max) > 0 ? max : d;
    }
}

package io.repmgr4j.core;

import io.repmgr4j.CloneProgressListener;
import io.repmgr4j.ConnInfo;
import io.repmgr4j.NodeConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A standby clone's options as the builder collected them. {@code node} already carries
 * the replication user override. Immutable.
 */
record CloneOptions(NodeConfig node, OptionalInt upstreamNodeId, Optional<ConnInfo> upstreamConninfo,
                    boolean fastCheckpoint, boolean force, List<String> basebackupOptions,
                    Map<String, String> serverSettings, CloneProgressListener listener, Duration copyTimeout,
                    Optional<Duration> startTimeout, Optional<Duration> streamingTimeout, boolean register) {
}

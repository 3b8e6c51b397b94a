package io.repmgr4j.core;

import io.repmgr4j.NodeConfig;
import io.repmgr4j.spi.CommandRunner;
import java.util.Optional;

/** A node's configuration and, when it has its own, the runner that reaches its host. Immutable. */
record NodeBinding(NodeConfig config, Optional<CommandRunner> runner) {
}

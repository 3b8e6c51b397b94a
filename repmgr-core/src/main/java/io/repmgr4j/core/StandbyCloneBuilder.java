package io.repmgr4j.core;

import io.repmgr4j.CloneProgressListener;
import io.repmgr4j.CloneReport;
import io.repmgr4j.ConnInfo;
import io.repmgr4j.ImmutableNodeConfig;
import io.repmgr4j.InputRules;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationCluster.StandbyClone;
import io.repmgr4j.plan.OperationReport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/** The builder behind {@code cluster.cloneStandby(node)}: collects options, hands them to {@link StandbyCloning}. Not thread-safe. */
final class StandbyCloneBuilder implements StandbyClone {
    static final Duration DEFAULT_COPY_TIMEOUT = Duration.ofHours(1);
    static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(60);

    private final StandbyCloning cloning;
    private final Runnable checkOpen;
    private NodeConfig node;
    private OptionalInt upstreamNodeId = OptionalInt.empty();
    private Optional<ConnInfo> upstreamConninfo = Optional.empty();
    private boolean fast;
    private boolean force;
    private final List<String> extra = new ArrayList<>();
    private final Map<String, String> settings = new LinkedHashMap<>();
    private CloneProgressListener listener = CloneProgressListener.NONE;
    private Duration copyTimeout = DEFAULT_COPY_TIMEOUT;
    private Optional<Duration> start = Optional.empty();
    private Optional<Duration> streaming = Optional.empty();
    private boolean register;

    StandbyCloneBuilder(StandbyCloning cloning, NodeConfig node, Runnable checkOpen) {
        this.cloning = cloning;
        this.node = Objects.requireNonNull(node, "node");
        this.checkOpen = checkOpen;
    }

    @Override
    public StandbyClone upstreamNodeId(int upstreamNodeId) {
        this.upstreamNodeId = OptionalInt.of(upstreamNodeId);
        this.upstreamConninfo = Optional.empty();
        return this;
    }

    @Override
    public StandbyClone upstreamConninfo(ConnInfo upstream) {
        InputRules.conninfo("upstreamConninfo", Objects.requireNonNull(upstream, "upstream"));
        this.upstreamConninfo = Optional.of(upstream);
        this.upstreamNodeId = OptionalInt.empty();
        return this;
    }

    @Override
    public StandbyClone fastCheckpoint(boolean fast) {
        this.fast = fast;
        return this;
    }

    @Override
    public StandbyClone force(boolean force) {
        this.force = force;
        return this;
    }

    @Override
    public StandbyClone replicationUser(String user) {
        if (user == null || user.isBlank()) {
            throw new IllegalArgumentException("the replication user must not be empty");
        }
        InputRules.name("replication_user", user);
        this.node = ImmutableNodeConfig.copyOf(node).withReplicationUser(user);
        return this;
    }

    @Override
    public StandbyClone basebackupOptions(List<String> options) {
        for (String o : Objects.requireNonNull(options, "options")) {
            Objects.requireNonNull(o, "option");
        }
        InputRules.basebackupOptions(options);
        extra.addAll(options);
        return this;
    }

    @Override
    public StandbyClone serverSetting(String name, String value) {
        Objects.requireNonNull(value, "value");
        InputRules.serverSetting(name, value);
        settings.put(name.toLowerCase(Locale.ROOT), value);
        return this;
    }

    @Override
    public StandbyClone progressListener(CloneProgressListener listener) {
        this.listener = Objects.requireNonNull(listener, "listener");
        return this;
    }

    @Override
    public StandbyClone timeout(Duration timeout) {
        this.copyTimeout = positive(timeout, "copy");
        return this;
    }

    @Override
    public StandbyClone thenStart() {
        return thenStart(DEFAULT_START_TIMEOUT);
    }

    @Override
    public StandbyClone thenStart(Duration timeout) {
        this.start = Optional.of(positive(timeout, "start"));
        return this;
    }

    @Override
    public StandbyClone waitUntilStreaming(Duration timeout) {
        this.streaming = Optional.of(positive(timeout, "streaming"));
        return this;
    }

    @Override
    public StandbyClone thenRegister() {
        this.register = true;
        return this;
    }

    private CloneOptions options() {
        boolean startImplied = start.isPresent() || streaming.isPresent() || register;
        return new CloneOptions(node, upstreamNodeId, upstreamConninfo, fast, force, List.copyOf(extra),
                java.util.Collections.unmodifiableMap(new LinkedHashMap<>(settings)),
                listener, copyTimeout, startImplied ? Optional.of(start.orElse(DEFAULT_START_TIMEOUT)) : Optional.empty(),
                streaming, register);
    }

    @Override
    public OperationReport plan() {
        checkOpen.run();
        return cloning.plan(options());
    }

    @Override
    public CloneReport execute() {
        checkOpen.run();
        CloneOptions o = options();
        Duration deadline = o.copyTimeout().plus(o.startTimeout().orElse(Duration.ZERO))
                .plus(o.streamingTimeout().orElse(Duration.ZERO)).plus(DEFAULT_START_TIMEOUT);
        try (OperationDeadline d = OperationDeadline.enter(deadline)) {
            return cloning.execute(o);
        }
    }

    private static Duration positive(Duration d, String what) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException("the " + what + " timeout must be positive");
        }
        return d;
    }
}

package io.repmgr4j.core;

import io.repmgr4j.CloneProgressListener;
import io.repmgr4j.CloneReport;
import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.EventRecord;
import io.repmgr4j.Events;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.core.host.NodeHost;
import io.repmgr4j.core.host.NodeHost.DirectoryState;
import io.repmgr4j.core.host.PgControl;
import io.repmgr4j.core.host.RecoveryConfig;
import io.repmgr4j.plan.Check;
import io.repmgr4j.plan.OperationReport;
import io.repmgr4j.plan.Step;
import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.spi.CommandRunner;
import io.repmgr4j.spi.MetadataStore;
import io.repmgr4j.sql.ReplicationSource;
import io.repmgr4j.sql.ReplicationSource.Facts;
import io.repmgr4j.sql.JdbcMetadataStore;
import io.repmgr4j.sql.SchemaInstaller;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code standby clone}: resolves the upstream, runs the prerequisite checks (in
 * parallel: SQL on the upstream, two replication connections, the target directory and
 * the local pg_basebackup on the node's host), then copies with pg_basebackup through the
 * node's runner, writes the recovery settings, records the event and runs the chained
 * start / streaming check / registration. A failed copy is undone (partial directory
 * removed, slot dropped). Thread-safe (stateless apart from the shared context).
 */
final class StandbyCloning {
    private static final Logger LOG = LoggerFactory.getLogger(StandbyCloning.class);

    static final String OPERATION = "standby clone";

    static final String CHECK_UPSTREAM = "upstream connection";
    static final String CHECK_METADATA = "repmgr metadata";
    static final String CHECK_UPSTREAM_NODE = "upstream node";
    static final String CHECK_NODE_RECORD = "node record";
    static final String CHECK_SIZE = "source size";
    static final String CHECK_WAL_LEVEL = "wal_level";
    static final String CHECK_WAL_SENDERS = "WAL senders";
    static final String CHECK_SLOT = "replication slot";
    static final String CHECK_REPLICATION_CONNECTIONS = "replication connections";
    static final String CHECK_REWIND = "pg_rewind readiness";
    static final String CHECK_TARGET = "target data directory";
    static final String CHECK_VERSION = "pg_basebackup version";

    /** Written into a partial copy that could not be removed, so that nobody mistakes it for a standby. */
    static final String INCOMPLETE_MARKER = "REPMGR4J_INCOMPLETE_CLONE";

    static final int WAL_SENDERS_NEEDED = 2;
    private static final String LABEL = "repmgr base backup";
    private static final Pattern PROGRESS = Pattern.compile("^\\s*(\\d+)/(\\d+) kB");
    private static final long PROGRESS_LOG_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final Duration SLOT_DROP_TIMEOUT = Duration.ofSeconds(15);
    /** The longest a clone waits for the standbys to confirm a new synchronous setting. */
    private static final Duration SYNC_BUDGET = Duration.ofSeconds(5);
    /** Connection keywords pg_basebackup gets as -h/-p/-U or must not get at all. */
    private static final Set<String> NOT_PASSED = Set.of("host", "hostaddr", "port", "user", "password", "dbname",
            "application_name", "fallback_application_name", "target_session_attrs", "replication");

    private final ClusterContext ctx;
    private final Registration registration;

    StandbyCloning(ClusterContext ctx, Registration registration) {
        this.ctx = ctx;
        this.registration = registration;
    }

    // ------------------------------------------------------------------ preparation

    /** Where the copy comes from, as far as it could be resolved before the checks. */
    private record Upstream(ConnInfo conninfo, Optional<NodeRecord> record, Optional<List<NodeRecord>> nodes,
                            Optional<ConnInfo> primary, boolean verified) {
    }

    /** What the SQL check group found on the upstream. */
    private record SourceProbe(boolean schemaPresent, Facts facts, Optional<List<NodeRecord>> nodes) {
    }

    /** The plan plus everything a real run needs from the checks. */
    private record Prepared(OperationReport plan, NodeConfig node, CommandRunner runner, Optional<Upstream> upstream,
                            Optional<NodeRecord> upstreamRecord, Optional<Facts> facts, Optional<DirectoryState> target,
                            Optional<String> slot, boolean createSlot, List<String> argv, String commandLine,
                            Optional<String> syncStep) {
    }

    OperationReport plan(CloneOptions o) {
        return prepare(o).plan();
    }

    private Prepared prepare(CloneOptions o) {
        long t0 = System.nanoTime();
        NodeConfig node = o.node();
        // not bound to the handle here: a dry run or a refused clone leaves the handle's
        // node configurations as they were (execute binds once the checks passed)
        CommandRunner runner = ctx.runner(node.nodeId());
        PgControl control = new PgControl(node, runner);
        String dir = node.dataDirectory();
        Optional<String> slot = node.useReplicationSlots() ? Optional.of(NodeRecord.slotNameFor(node.nodeId())) : Optional.empty();
        Duration bound = ctx.connectTimeout().multipliedBy(3).plusSeconds(60);

        // the host-side checks start first, as one command: they need nothing from the upstream
        String basebackup = control.tool("pg_basebackup");
        CompletableFuture<NodeHost.Probe> hostProbe = async(() -> ctx.probe(runner, dir, List.of(basebackup)));
        CompletableFuture<DirectoryState> target = hostProbe.thenApply(NodeHost.Probe::directory);
        CompletableFuture<Integer> localMajor = hostProbe.thenApply(
                pr -> control.majorVersion("pg_basebackup", pr.versions().get(basebackup)));

        Upstream upstream = null;
        ReplicationException upstreamError = null;
        try {
            upstream = resolveUpstream(o);
        } catch (ReplicationException e) {
            upstreamError = e;
        }
        CompletableFuture<SourceProbe> source = null;
        CompletableFuture<Void> replication = null;
        SourceProbe sp = null;
        ReplicationException sourceError = null;
        for (int attempt = 1; upstream != null && attempt <= 2; attempt++) {
            Upstream up = upstream;
            source = async(() -> probeSource(up, slot));
            ConnInfo replConninfo = RecoveryConfig.primaryConninfo(node, up.conninfo());
            replication = async(() -> {
                openReplicationConnections(replConninfo);
                return null;
            });
            try {
                sp = await(source, bound);
                sourceError = null;
            } catch (ReplicationException e) {
                sp = null;
                sourceError = e;
            }
            boolean stale = up.primary().isPresent() && !up.verified()
                    && (sp == null ? sourceError.code() == ErrorCode.DB_CONN : sp.facts().inRecovery());
            if (!stale) {
                break;
            }
            // the primary moved since this handle last saw it: find it again and check that one
            LOG.info("the primary last seen at {} is no longer the primary; locating it again", hostPort(up.conninfo()));
            awaitQuietly(replication, bound);
            try {
                ConnInfo primary = ctx.locatePrimary();
                upstream = new Upstream(primary, Optional.empty(), Optional.empty(), Optional.of(primary), true);
            } catch (ReplicationException e) {
                upstream = null;
                upstreamError = e;
            }
        }

        // a registered standby is a synchronous candidate: when the library manages
        // synchronous replication, the registration is followed by configuring the primary
        Upstream syncSource = upstream;
        CompletableFuture<Optional<String>> syncStep = o.register() && syncSource != null
                ? async(() -> SyncStep.stepName(ctx, syncSource.conninfo(), "the primary"))
                : CompletableFuture.completedFuture(Optional.empty());

        List<Check> checks = new ArrayList<>();
        Optional<Facts> facts = Optional.empty();
        Optional<NodeRecord> upstreamRecord = Optional.empty();
        boolean createSlot = false;
        if (upstream == null) {
            checks.add(failure(CHECK_UPSTREAM, upstreamError));
        } else {
            Upstream up = upstream;
            String where = hostPort(up.conninfo());
            if (sp == null) {
                checks.add(failure(CHECK_UPSTREAM, sourceError));
            }
            if (sp != null) {
                Facts f = sp.facts();
                facts = Optional.of(f);
                checks.add(Check.ok(CHECK_UPSTREAM, "connected to " + where + ", a " + (f.inRecovery() ? "standby" : "primary")
                        + " running PostgreSQL " + f.majorVersion()));
                checks.add(sp.schemaPresent()
                        ? Check.ok(CHECK_METADATA, "the repmgr metadata schema is present on the upstream")
                        : Check.failed(CHECK_METADATA, ErrorCode.BAD_CONFIG,
                                "the upstream " + where + " has no repmgr metadata schema",
                                "clone from a node of a registered cluster: register the primary first (primary register installs the schema)"));
                Optional<List<NodeRecord>> nodes = up.nodes().or(sp::nodes);
                Check upCheck;
                try {
                    upstreamRecord = up.record().or(() -> nodes.flatMap(ns -> matchUpstream(ns, up, node)));
                    upCheck = upstreamCheck(upstreamRecord, where, node, o.register());
                } catch (ReplicationException e) {
                    upCheck = failure(CHECK_UPSTREAM_NODE, e);
                }
                checks.add(upCheck);
                if (o.register()) {
                    checks.add(nodeRecordCheck(nodes, node, o.force()));
                }
                checks.add(Check.ok(CHECK_SIZE, "current installation size is " + prettySize(f.sizeBytes())));
                checks.add(f.walLevel().equals("minimal")
                        ? Check.failed(CHECK_WAL_LEVEL, ErrorCode.BAD_CONFIG, "wal_level is \"minimal\" on the upstream",
                                "set wal_level = replica on the upstream and restart it")
                        : Check.ok(CHECK_WAL_LEVEL, "wal_level is \"" + f.walLevel() + "\""));
                String senders = WAL_SENDERS_NEEDED + " required, " + f.freeWalSenders() + " available (max_wal_senders = "
                        + f.maxWalSenders() + ", " + f.walSendersInUse() + " in use)";
                checks.add(f.freeWalSenders() >= WAL_SENDERS_NEEDED
                        ? Check.ok(CHECK_WAL_SENDERS, senders)
                        : Check.failed(CHECK_WAL_SENDERS, ErrorCode.BAD_CONFIG, "insufficient free WAL senders on the upstream: " + senders,
                                "raise max_wal_senders on the upstream (a restart is needed) or stop other replication clients"));
                Check slotCheck = slotCheck(slot, f);
                createSlot = slot.isPresent() && f.slotActive().isEmpty();
                checks.add(slotCheck);
            }
            try {
                await(replication, bound);
                checks.add(Check.ok(CHECK_REPLICATION_CONNECTIONS, WAL_SENDERS_NEEDED + " replication connections could be made to "
                        + where + " as user \"" + node.effectiveReplicationUser() + "\""));
            } catch (ReplicationException e) {
                checks.add(Check.failed(CHECK_REPLICATION_CONNECTIONS, e.code(),
                        "unable to make " + WAL_SENDERS_NEEDED + " replication connections to " + where + " as user \""
                                + node.effectiveReplicationUser() + "\": " + describe(e),
                        "check max_wal_senders, the user's REPLICATION privilege and the upstream's pg_hba.conf (\"replication\" lines)"));
            }
            facts.ifPresent(f -> {
                if (f.dataChecksums()) {
                    checks.add(Check.ok(CHECK_REWIND, "data checksums are enabled"));
                } else if (f.walLogHints()) {
                    checks.add(Check.ok(CHECK_REWIND, "\"wal_log_hints\" is \"on\""));
                } else {
                    checks.add(Check.warning(CHECK_REWIND, "data checksums are not enabled and \"wal_log_hints\" is \"off\"",
                            "pg_rewind requires \"wal_log_hints\" to be enabled (or data checksums): without it a former primary"
                                    + " cannot be rejoined with pg_rewind"));
                }
            });
        }

        Optional<DirectoryState> targetState = Optional.empty();
        try {
            DirectoryState ds = await(target, bound);
            targetState = Optional.of(ds);
            checks.add(targetCheck(ds, o.force(), control));
        } catch (ReplicationException e) {
            checks.add(failure(CHECK_TARGET, e));
        }
        try {
            int local = await(localMajor, bound);
            Optional<Facts> f = facts;
            if (f.isPresent() && f.get().majorVersion() != local) {
                checks.add(Check.failed(CHECK_VERSION, ErrorCode.BAD_CONFIG,
                        "\"" + control.tool("pg_basebackup") + "\" is version " + local + " but the upstream runs PostgreSQL "
                                + f.get().majorVersion(),
                        "set pg_bindir in the node's configuration to PostgreSQL " + f.get().majorVersion() + "'s programs"));
            } else {
                checks.add(Check.ok(CHECK_VERSION, "\"" + control.tool("pg_basebackup") + "\" is version " + local
                        + f.map(x -> ", the same major version as the upstream").orElse("")));
            }
        } catch (ReplicationException e) {
            checks.add(failure(CHECK_VERSION, e));
        }

        List<String> argv = upstream == null ? List.of() : basebackupArgv(o, control, upstream.conninfo(), slot);
        String commandLine = upstream == null ? "" : upstream.conninfo().maskIn(shellQuote(argv));
        boolean slotToCreate = createSlot;
        Optional<String> syncStepName = Optional.empty();
        try {
            syncStepName = await(syncStep, bound);
        } catch (ReplicationException e) {
            // unreadable record: the primary's daemon configures the standbys
        }
        List<Step> planned = steps(o, upstream, upstreamRecord, targetState, facts, slot, slotToCreate, commandLine, runner,
                control, syncStepName).stream().map(name -> Step.of(name, Step.Status.PLANNED, null)).toList();
        long failed = checks.stream().filter(c -> !c.passed()).count();
        String summary = failed == 0 && upstream != null
                ? "node \"" + node.nodeName() + "\" (ID: " + node.nodeId() + ") would be cloned from "
                        + hostPort(upstream.conninfo()) + " into \"" + dir + "\""
                : failed + (failed == 1 ? " prerequisite" : " prerequisites") + " for \"" + OPERATION + "\" not met";
        OperationReport plan = OperationReport.builder().operation(OPERATION).dryRun(true).checks(checks).steps(planned)
                .successful(failed == 0).summary(summary).duration(Duration.ofNanos(System.nanoTime() - t0)).build();
        return new Prepared(plan, node, runner, Optional.ofNullable(upstream), upstreamRecord, facts, targetState, slot,
                slotToCreate, argv, commandLine, syncStepName);
    }

    private Upstream resolveUpstream(CloneOptions o) {
        if (o.upstreamNodeId().isPresent()) {
            List<NodeRecord> nodes = ctx.readNodes();
            NodeRecord rec = Registration.resolveUpstream(nodes, o.node(), o.upstreamNodeId());
            return new Upstream(rec.conninfo(), Optional.of(rec), Optional.of(nodes), Optional.empty(), true);
        }
        if (o.upstreamConninfo().isPresent()) {
            return new Upstream(o.upstreamConninfo().get(), Optional.empty(), Optional.empty(), Optional.empty(), true);
        }
        // the primary where this handle last saw it, checked by the source probe (in recovery or
        // unreachable: located again); this saves a connection on the way to the copy
        Optional<ConnInfo> cached = ctx.cachedPrimary();
        if (cached.isPresent()) {
            return new Upstream(cached.get(), Optional.empty(), Optional.empty(), cached, false);
        }
        ConnInfo primary = ctx.locatePrimary();
        return new Upstream(primary, Optional.empty(), Optional.empty(), Optional.of(primary), true);
    }

    private SourceProbe probeSource(Upstream up, Optional<String> slot) {
        Connection c = ctx.connect(up.conninfo());
        try {
            boolean schema = SchemaInstaller.schemaPresent(c);
            Facts facts = ReplicationSource.inspect(c, slot);
            Optional<List<NodeRecord>> nodes = up.nodes();
            if (nodes.isEmpty() && schema) {
                // on the same connection: one less to open before the copy can start
                nodes = Optional.of(JdbcMetadataStore.of(() -> Connections.borrowed(c)).nodes());
                ctx.remember(nodes.get());
            }
            return new SourceProbe(schema, facts, nodes);
        } finally {
            Connections.closeQuietly(c);
        }
    }

    /**
     * Opens the replication connections a copy with -X stream needs, all at the same time
     * (in parallel, and each held until all are open), and identifies the system on each.
     */
    private void openReplicationConnections(ConnInfo replication) {
        List<CompletableFuture<Connection>> opening = new ArrayList<>();
        for (int i = 0; i < WAL_SENDERS_NEEDED; i++) {
            opening.add(async(() -> {
                Connection c = ReplicationSource.openReplication(replication, ctx.connectTimeout());
                try {
                    ReplicationSource.identifySystem(c);
                    return c;
                } catch (RuntimeException e) {
                    Connections.closeQuietly(c);
                    throw e;
                }
            }));
        }
        Duration bound = ctx.connectTimeout().multipliedBy(2).plusSeconds(10);
        ReplicationException first = null;
        List<Connection> open = new ArrayList<>();
        for (CompletableFuture<Connection> f : opening) {
            try {
                open.add(await(f, bound));
            } catch (ReplicationException e) {
                first = first == null ? e : first;
            }
        }
        open.forEach(Connections::closeQuietly);
        if (first != null) {
            throw first;
        }
    }

    private static Optional<NodeRecord> matchUpstream(List<NodeRecord> nodes, Upstream up, NodeConfig node) {
        if (up.primary().isPresent()) {
            Optional<NodeRecord> byConninfo = nodes.stream().filter(n -> n.conninfo().equals(up.conninfo())).findFirst();
            return byConninfo.isPresent() ? byConninfo
                    : Optional.of(Registration.resolveUpstream(nodes, node, OptionalInt.empty()));
        }
        ConnInfo.HostPort hp = up.conninfo().hosts().get(0);
        return nodes.stream().filter(n -> n.active() && n.type() != NodeType.WITNESS).filter(n -> {
            ConnInfo.HostPort other = n.conninfo().hosts().get(0);
            return other.port() == hp.port() && Attachment.sameHost(other.host(), hp.host());
        }).findFirst();
    }

    private static Check upstreamCheck(Optional<NodeRecord> rec, String where, NodeConfig node, boolean register) {
        if (rec.isPresent()) {
            if (rec.get().nodeId() == node.nodeId()) {
                return Check.failed(CHECK_UPSTREAM_NODE, ErrorCode.BAD_CONFIG, "a node cannot be its own upstream",
                        "the upstream at " + where + " is " + rec.get().describe() + ", the node being cloned; name another upstream");
            }
            return Check.ok(CHECK_UPSTREAM_NODE, "standby will attach to upstream " + rec.get().describe());
        }
        if (register) {
            return Check.failed(CHECK_UPSTREAM_NODE, ErrorCode.BAD_CONFIG,
                    "the upstream at " + where + " is not a registered node, so the standby cannot be registered with it",
                    "register the upstream first, or name it with upstreamNodeId");
        }
        return Check.warning(CHECK_UPSTREAM_NODE, "the upstream at " + where + " is not a registered node",
                "register it before registering this standby with it as upstream");
    }

    private static Check nodeRecordCheck(Optional<List<NodeRecord>> nodes, NodeConfig node, boolean force) {
        if (nodes.isEmpty()) {
            return Check.failed(CHECK_NODE_RECORD, ErrorCode.BAD_CONFIG, "the node records could not be read",
                    "register the primary first");
        }
        try {
            Registration.checkName(nodes.get(), node);
        } catch (ReplicationException e) {
            return failure(CHECK_NODE_RECORD, e);
        }
        Optional<NodeRecord> existing = nodes.get().stream().filter(n -> n.nodeId() == node.nodeId()).findFirst();
        if (existing.isEmpty()) {
            return Check.ok(CHECK_NODE_RECORD, "node ID " + node.nodeId() + " is not registered yet");
        }
        if (existing.get().type() == NodeType.PRIMARY && existing.get().active()) {
            return Check.failed(CHECK_NODE_RECORD, ErrorCode.BAD_CONFIG,
                    "node ID " + node.nodeId() + " is registered as the active primary, " + existing.get().describe(),
                    "choose another node_id for the new standby");
        }
        if (!force) {
            return Check.failed(CHECK_NODE_RECORD, ErrorCode.BAD_CONFIG,
                    "node ID " + node.nodeId() + " is already registered, as " + existing.get().describe(),
                    "use force to overwrite the record, or choose another node_id");
        }
        return Check.warning(CHECK_NODE_RECORD, "node ID " + node.nodeId() + " is already registered, as "
                + existing.get().describe() + "; its record will be overwritten (force)", null);
    }

    private static Check slotCheck(Optional<String> slot, Facts f) {
        if (slot.isEmpty()) {
            return Check.ok(CHECK_SLOT, "replication slot usage not requested; no replication slot will be set up for this standby");
        }
        String name = slot.get();
        if (f.slotActive().isPresent()) {
            return f.slotActive().get()
                    ? Check.failed(CHECK_SLOT, ErrorCode.BAD_CONFIG, "replication slot \"" + name + "\" exists on the upstream and is active",
                            "another server streams with it: check that no other node uses node ID " + name.substring("repmgr_slot_".length()))
                    : Check.ok(CHECK_SLOT, "replication slot \"" + name + "\" exists on the upstream and is inactive; it will be used");
        }
        String free = f.freeReplicationSlots() + " of max_replication_slots = " + f.maxReplicationSlots() + " free";
        return f.freeReplicationSlots() >= 1
                ? Check.ok(CHECK_SLOT, "replication slot \"" + name + "\" will be created on the upstream (" + free + ")")
                : Check.failed(CHECK_SLOT, ErrorCode.BAD_CONFIG, "no free replication slot on the upstream (" + free + ")",
                        "raise max_replication_slots on the upstream (a restart is needed) or drop unused slots");
    }

    private static Check targetCheck(DirectoryState ds, boolean force, PgControl control) {
        String dir = "\"" + ds.path() + "\"";
        String user = ds.user().isEmpty() ? "the OS user" : "OS user \"" + ds.user() + "\"";
        if (!ds.exists()) {
            String ancestor = ds.nearestAncestor().orElse("its parent");
            return ds.ancestorWritable()
                    ? Check.ok(CHECK_TARGET, dir + " will be created (in \"" + ancestor + "\") with permissions 0700")
                    : Check.failed(CHECK_TARGET, ErrorCode.BAD_CONFIG,
                            dir + " cannot be created: \"" + ancestor + "\" is not a directory " + user + " may write into",
                            "create the directory owned by " + user + ", or give that user write permission on \"" + ancestor + "\"");
        }
        if (!ds.directory()) {
            return Check.failed(CHECK_TARGET, ErrorCode.BAD_CONFIG, dir + " exists and is not a directory",
                    "remove it, or set data_directory to another path");
        }
        if (ds.entries().isEmpty()) {
            return Check.failed(CHECK_TARGET, ErrorCode.BAD_CONFIG, dir + " cannot be listed by " + user,
                    "make the directory owned by " + user);
        }
        if (ds.postmasterPid() && control.isRunning()) {
            return Check.failed(CHECK_TARGET, ErrorCode.BAD_CONFIG, "a PostgreSQL server is running in " + dir,
                    "stop that server first, or choose another data directory; force never removes a running server's data");
        }
        if (!ds.owner().map(ds.user()::equals).orElse(false) || !ds.writable()) {
            return Check.failed(CHECK_TARGET, ErrorCode.BAD_CONFIG,
                    dir + " is owned by \"" + ds.owner().orElse("?") + "\" with permissions "
                            + ds.mode().stream().mapToObj(Integer::toOctalString).findFirst().orElse("?")
                            + ": " + user + " cannot own it as a data directory",
                    "make the directory owned by " + user + " (chown), or remove it and let the clone create it");
        }
        int entries = ds.entries().getAsInt();
        String count = entries + (entries == 1 ? " entry" : " entries");
        String perms = ds.mode().isPresent() && ds.mode().getAsInt() != 0700
                ? "; permissions " + Integer.toOctalString(ds.mode().getAsInt()) + " will be set to 0700" : "";
        if (entries > 0) {
            return force
                    ? Check.warning(CHECK_TARGET, dir + " is not empty (" + count + "); force: its contents will be removed" + perms, null)
                    : Check.failed(CHECK_TARGET, ErrorCode.BAD_CONFIG, dir + " is not empty (" + count + ")",
                            "use force to remove its contents, or choose an empty or missing directory");
        }
        return Check.ok(CHECK_TARGET, dir + " exists and is empty" + perms);
    }

    private List<String> basebackupArgv(CloneOptions o, PgControl control, ConnInfo upstream, Optional<String> slot) {
        ConnInfo.HostPort hp = upstream.hosts().get(0);
        List<String> argv = new ArrayList<>(List.of(control.tool("pg_basebackup"), "-D", o.node().dataDirectory(),
                "-h", hp.host(), "-p", String.valueOf(hp.port()), "-U", o.node().effectiveReplicationUser(),
                "-w", "-X", "stream", "--progress", "--verbose", "-l", LABEL));
        if (o.fastCheckpoint()) {
            argv.add("-c");
            argv.add("fast");
        }
        slot.ifPresent(s -> {
            argv.add("-S");
            argv.add(s);
        });
        ConnInfo rest = upstream;
        for (String k : upstream.params().keySet()) {
            if (NOT_PASSED.contains(k)) {
                rest = rest.without(k);
            }
        }
        if (!rest.params().isEmpty()) {
            argv.add("-d");
            argv.add(rest.render());
        }
        argv.addAll(o.basebackupOptions());
        return argv;
    }

    private List<String> steps(CloneOptions o, Upstream up, Optional<NodeRecord> upRecord, Optional<DirectoryState> target,
                               Optional<Facts> facts, Optional<String> slot, boolean createSlot, String commandLine,
                               CommandRunner runner, PgControl control, Optional<String> syncStep) {
        List<String> steps = new ArrayList<>();
        String dir = "\"" + o.node().dataDirectory() + "\"";
        String where = up == null ? "the upstream" : hostPort(up.conninfo());
        if (o.force() && target.map(t -> t.exists() && !t.absentOrEmpty()).orElse(false)) {
            steps.add("remove the contents of " + dir + " (force)");
        }
        if (createSlot) {
            steps.add("create replication slot \"" + slot.get() + "\" on " + where);
        }
        steps.add("run on " + runner.describe() + ": " + commandLine);
        boolean chmod = needsChmod(target, facts);
        List<String> settings = new ArrayList<>();
        if (o.node().conninfo().get("port").isPresent()) {
            settings.add("port=" + o.node().conninfo().port());
        }
        settings.addAll(o.serverSettings().keySet());
        steps.add("write standby.signal and primary_conninfo (application_name=" + o.node().nodeName()
                + (slot.isPresent() ? ", primary_slot_name=" + slot.get() : "") + ")"
                + (settings.isEmpty() ? "" : ", " + String.join(", ", settings)) + " into " + dir
                + (chmod ? " and set its permissions to 0700" : ""));
        steps.add("record event \"" + Events.STANDBY_CLONE + "\"");
        if (o.startTimeout().isPresent()) {
            steps.add("start the server (" + (o.node().serviceStartCommand().isPresent() ? "service_start_command"
                    : control.tool("pg_ctl") + " start") + "), waiting up to " + o.startTimeout().get().toSeconds() + " s");
        }
        if (o.streamingTimeout().isPresent()) {
            steps.add("wait up to " + o.streamingTimeout().get().toSeconds() + " s until " + where + " streams to \""
                    + o.node().nodeName() + "\"");
        }
        if (o.register()) {
            steps.add("register node \"" + o.node().nodeName() + "\" (ID: " + o.node().nodeId() + ") as a standby of "
                    + upRecord.map(NodeRecord::describe).orElse(where));
            syncStep.ifPresent(steps::add);
        }
        return steps;
    }

    // ------------------------------------------------------------------ execution

    CloneReport execute(CloneOptions o) {
        long t0 = System.nanoTime();
        Prepared p = prepare(o);
        NodeConfig node = p.node();
        Optional<ReplicationException> refusal = p.plan().refusal();
        if (refusal.isPresent()) {
            ReplicationException e = refusal.get();
            LOG.error("{} refused: {}", OPERATION, e.getMessage());
            recordEvent(p, null, false, "standby clone refused: " + e.getMessage());
            throw e;
        }
        ctx.bind(node);
        Upstream up = p.upstream().orElseThrow();
        StepRunner steps = new StepRunner();
        List<String> warnings = new ArrayList<>();
        p.plan().checkWarnings().forEach(c -> warnings.add(c.describe()));
        LOG.info("cloning node \"{}\" (ID: {}) from {} into \"{}\"", node.nodeName(), node.nodeId(), hostPort(up.conninfo()),
                node.dataDirectory());

        // the event's connection opens while the copy runs, so recording it costs one statement
        EventConnection eventConnection = new EventConnection(up);
        try {
            return run(o, p, steps, warnings, eventConnection, t0);
        } finally {
            eventConnection.close();
        }
    }

    private CloneReport run(CloneOptions o, Prepared p, StepRunner steps, List<String> warnings,
                            EventConnection eventConnection, long t0) {
        NodeConfig node = p.node();
        ConnInfo upstream = p.upstream().orElseThrow().conninfo();
        ConnInfo.HostPort hp = upstream.hosts().get(0);
        DirectoryState target = p.target().orElseThrow();
        Facts facts = p.facts().orElseThrow();
        NodeHost host = new NodeHost(p.runner());
        String dir = node.dataDirectory();
        Copy copy;
        try {
            if (o.force() && target.exists() && !target.absentOrEmpty()) {
                steps.run("remove the contents of \"" + dir + "\" (force)", () -> host.removeContents(dir));
            }
            if (p.createSlot()) {
                String slot = p.slot().get();
                steps.run("create replication slot \"" + slot + "\" on " + hostPort(upstream), () -> createSlot(upstream, slot));
                steps.undoOnFailure("drop replication slot \"" + slot + "\" on " + hostPort(upstream), () -> dropSlot(upstream, slot));
            }
            steps.undoOnFailure("remove the partial copy in \"" + dir + "\"", () -> removePartialCopy(host, dir, target.exists()));
            RecoveryConfig rc = RecoveryConfig.streamingFrom(node, upstream, p.slot());
            if (node.conninfo().get("port").isPresent()) {
                rc = rc.with("port", String.valueOf(node.conninfo().port()));
            }
            for (var s : o.serverSettings().entrySet()) {
                rc = rc.with(s.getKey(), s.getValue());
            }
            boolean chmod = needsChmod(Optional.of(target), Optional.of(facts));
            copy = copyAndConfigure(p, o, upstream, rc, chmod, steps);
        } catch (ReplicationException e) {
            LOG.error("standby clone of node \"{}\" (ID: {}) failed: {}; undoing", node.nodeName(), node.nodeId(), e.getMessage());
            List<String> left = steps.undoAll();
            String detail = e.detail().map(d -> d + "; ").orElse("") + "steps: " + steps.summary()
                    + (left.isEmpty() ? "; nothing was left behind" : "; LEFT BEHIND: " + String.join("; ", left));
            recordEvent(p, eventConnection, false, "standby clone from host \"" + hp.host() + "\", port " + hp.port() + " failed: " + e.getMessage()
                    + (left.isEmpty() ? "" : " (left behind: " + String.join("; ", left) + ")"));
            throw new ReplicationException(e.code(), e.getMessage(), detail,
                    left.isEmpty() ? e.hint().orElse(null)
                            : "clean up what was left behind by hand (see the detail), then clone again", e);
        }
        steps.commit();
        LOG.info("standby clone (using pg_basebackup) complete: {} in {} ms", prettySize(copy.bytes(facts)), copy.duration().toMillis());
        String details = "cloned from host \"" + hp.host() + "\", port " + hp.port() + "; backup method: pg_basebackup; --force: "
                + (o.force() ? "Y" : "N");
        if (!recordEvent(p, eventConnection, true, details)) {
            warnings.add("the standby_clone event could not be recorded on the primary");
        }

        boolean started = false;
        boolean streaming = false;
        Optional<NodeRecord> record = Optional.empty();
        try {
            if (o.startTimeout().isPresent()) {
                PgControl control = ctx.control(node);
                steps.run("start the server", () -> control.start(o.startTimeout().get()));
                started = true;
            }
            if (o.streamingTimeout().isPresent()) {
                steps.run("wait until " + hostPort(upstream) + " streams to \"" + node.nodeName() + "\"",
                        () -> awaitStreaming(upstream, node.nodeName(), o.streamingTimeout().get()));
                streaming = true;
            }
            if (o.register()) {
                int upId = p.upstreamRecord().orElseThrow().nodeId();
                record = Optional.of(steps.run("register the standby",
                        () -> registration.registerStandby(node, OptionalInt.of(upId), o.force(), Optional.empty(), false)));
                configureSync(p, steps, warnings);
            }
        } catch (ReplicationException e) {
            LOG.error("node \"{}\" (ID: {}) was cloned, then: {}", node.nodeName(), node.nodeId(), e.getMessage());
            String state = "the clone in \"" + dir + "\" is complete (event " + Events.STANDBY_CLONE + " recorded)"
                    + (started ? " and its server is running" : ", its server is not running")
                    + (record.isPresent() ? "" : "; the node is not registered");
            throw new ReplicationException(e.code(), e.getMessage(),
                    e.detail().map(d -> d + "; ").orElse("") + state + "; steps: " + steps.summary(),
                    e.hint().map(h -> h + "; then ").orElse("")
                            + (started ? "register the standby when it streams" : "start the server and register the standby"), e);
        }

        return CloneReport.builder()
                .nodeId(node.nodeId())
                .nodeName(node.nodeName())
                .dataDirectory(dir)
                .upstreamNodeId(p.upstreamRecord().map(r -> OptionalInt.of(r.nodeId())).orElse(OptionalInt.empty()))
                .sourceHost(hp.host())
                .sourcePort(hp.port())
                .checks(p.plan().checks())
                .steps(steps.results())
                .sizeBytes(copy.bytes(facts))
                .copyDuration(copy.duration())
                .totalDuration(Duration.ofNanos(System.nanoTime() - t0))
                .commandLine(p.commandLine())
                .slotName(p.slot())
                .warnings(warnings)
                .started(started)
                .streaming(streaming)
                .record(record)
                .build();
    }

    /** The planned synchronous-standby step, when there is one; its failure is a warning, not the clone's failure. */
    private void configureSync(Prepared p, StepRunner steps, List<String> warnings) {
        if (p.syncStep().isEmpty()) {
            return;
        }
        try {
            steps.runDescribed(p.syncStep().get(), () -> SyncStep.apply(ctx, ctx.locatePrimary(), SYNC_BUDGET));
        } catch (ReplicationException e) {
            warnings.add("could not configure the synchronous standbys of the primary: " + OperationRun.describe(e)
                    + "; its daemon keeps trying");
        }
    }

    /**
     * Whether the copy's directory needs its mode set to 0700: pg_basebackup keeps an
     * existing directory's mode and gives a directory it creates the source's.
     */
    private static boolean needsChmod(Optional<DirectoryState> target, Optional<Facts> facts) {
        if (target.map(DirectoryState::exists).orElse(true)) {
            return target.flatMap(t -> t.mode().isPresent() ? Optional.of(t.mode().getAsInt()) : Optional.empty())
                    .map(m -> m != 0700).orElse(true);
        }
        return !facts.map(f -> f.dataDirectoryMode().equals("0700")).orElse(false);
    }

    /** What pg_basebackup did: its last progress count and how long it ran. */
    private record Copy(long progressBytes, Duration duration) {
        long bytes(Facts facts) {
            return progressBytes > 0 ? progressBytes : facts.sizeBytes();
        }
    }

    /** Exit code of {@link #COPY_SH} when the copy succeeded and what follows it failed. */
    private static final int CONFIGURE_FAILED = 90;
    /** What {@link #COPY_SH} prints on standard error between the copy and the configuration. */
    private static final String COPY_DONE = "repmgr4j: pg_basebackup finished";

    /**
     * pg_basebackup (the arguments after the first three), then, in the same command, the
     * recovery configuration ({@link RecoveryConfig#WRITE_SH}, settings on standard input)
     * and the directory's mode: no process start between the copy and a configured standby.
     * Arguments: data directory, settings pattern, 1 to chmod 0700, pg_basebackup's argv.
     */
    private static final String COPY_SH = "d=$1; p=$2; m=$3; shift 3\n"
            + "\"$@\" </dev/null || exit $?\n"
            + "echo '" + COPY_DONE + "' >&2\n"
            + "{\n" + RecoveryConfig.WRITE_SH + "} || exit " + CONFIGURE_FAILED + "\n"
            + "if [ \"$m\" = 1 ]; then chmod 700 -- \"$d\" || exit " + CONFIGURE_FAILED + "; fi\n";

    /**
     * Runs pg_basebackup and writes the recovery configuration in one command on the node's
     * host ({@link #COPY_SH}), and records them as two steps, each with its own duration.
     */
    private Copy copyAndConfigure(Prepared p, CloneOptions o, ConnInfo upstream, RecoveryConfig recovery, boolean chmod,
                                  StepRunner steps) {
        String copyStep = "run pg_basebackup from " + hostPort(upstream);
        String configureStep = "write the recovery configuration into \"" + p.node().dataDirectory() + "\""
                + (chmod ? " and set its permissions to 0700" : "");
        AtomicLong done = new AtomicLong();
        AtomicLong lastLog = new AtomicLong(System.nanoTime());
        AtomicLong copyEnd = new AtomicLong();
        CloneProgressListener listener = o.listener();
        List<String> argv = new ArrayList<>(List.of("sh", "-c", COPY_SH, "sh", p.node().dataDirectory(),
                recovery.replacedSettingsPattern(), chmod ? "1" : "0"));
        argv.addAll(p.argv());
        Command cmd = Command.of(argv).withStdin(recovery.stdinText()).withTimeout(o.copyTimeout()).withEnv("LC_ALL", "C")
                .withOutputListener((stream, line) -> {
                    if (line.equals(COPY_DONE)) {
                        copyEnd.set(System.nanoTime());
                        return;
                    }
                    Matcher m = PROGRESS.matcher(line);
                    if (!m.find()) {
                        if (stream == Command.Stream.STDERR) {
                            LOG.debug("pg_basebackup: {}", upstream.maskIn(line));
                        }
                        return;
                    }
                    long d = Long.parseLong(m.group(1)) * 1024;
                    long t = Math.max(d, Long.parseLong(m.group(2)) * 1024);
                    done.set(d);
                    try {
                        listener.onProgress(d, t);
                    } catch (RuntimeException e) {
                        LOG.debug("clone progress listener threw: {}", e.toString());
                    }
                    long now = System.nanoTime();
                    long last = lastLog.get();
                    if (now - last >= PROGRESS_LOG_NANOS && lastLog.compareAndSet(last, now)) {
                        LOG.info("copied {} of {} ({}%)", prettySize(d), prettySize(t), t == 0 ? 100 : d * 100 / t);
                    }
                });
        if (upstream.password().isPresent()) {
            cmd = cmd.withEnv("PGPASSWORD", upstream.password().get());
        }
        LOG.info("{}", copyStep);
        LOG.info("executing: {}", p.commandLine());
        long t0 = System.nanoTime();
        CommandResult r = p.runner().run(cmd);
        long end = System.nanoTime();
        long split = copyEnd.get() != 0 ? copyEnd.get() : end;
        Duration copyTook = Duration.ofNanos(split - t0);
        if (r.timedOut()) {
            ReplicationException e = new ReplicationException(ErrorCode.BAD_BASEBACKUP,
                    "pg_basebackup did not finish within " + o.copyTimeout().toSeconds() + " s and was stopped",
                    "copied " + prettySize(done.get()) + " before the timeout",
                    "raise the clone's timeout, or check the network and the upstream's load");
            steps.record(copyStep, Step.Status.FAILED, copyTook, e.getMessage());
            throw e;
        }
        if (r.exitCode() == CONFIGURE_FAILED && copyEnd.get() != 0) {
            steps.record(copyStep, Step.Status.DONE, copyTook, null);
            ReplicationException e = new ReplicationException(ErrorCode.LOCAL_COMMAND,
                    "writing the recovery configuration into \"" + p.node().dataDirectory() + "\" failed on "
                            + p.runner().describe(), r.lastErrorLine(),
                    "check that the OS user the commands run as may write into the data directory");
            steps.record(configureStep, Step.Status.FAILED, Duration.ofNanos(end - split), e.getMessage());
            throw e;
        }
        if (!r.succeeded()) {
            ReplicationException e = new ReplicationException(ErrorCode.BAD_BASEBACKUP,
                    "pg_basebackup failed with exit code " + r.exitCode() + " after copying " + prettySize(done.get()),
                    upstream.maskIn(errorLines(r)),
                    "check that the upstream is running and reachable, and see its log");
            steps.record(copyStep, Step.Status.FAILED, copyTook, e.getMessage());
            throw e;
        }
        steps.record(copyStep, Step.Status.DONE, copyTook, null);
        steps.record(configureStep, Step.Status.DONE, Duration.ofNanos(end - split), null);
        return new Copy(done.get(), copyTook);
    }

    /** pg_basebackup's error lines (those with "error:"), else its last line. */
    private static String errorLines(CommandResult r) {
        List<String> errors = r.stderr().lines().filter(l -> l.contains("error:") || l.contains("FATAL:")).limit(3).toList();
        return errors.isEmpty() ? r.lastErrorLine() : String.join(" / ", errors);
    }

    private void createSlot(ConnInfo upstream, String slot) {
        try (Connection c = ctx.connect(upstream)) {
            ReplicationSource.createPhysicalSlot(c, slot);
        } catch (SQLException e) {
            LOG.debug("closing a connection: {}", e.getMessage());
        }
    }

    /** Drops the slot once pg_basebackup's WAL sender let go of it (bounded). */
    private void dropSlot(ConnInfo upstream, String slot) {
        long deadline = System.nanoTime() + SLOT_DROP_TIMEOUT.toNanos();
        try (Connection c = ctx.connect(upstream)) {
            while (!ReplicationSource.dropInactiveSlot(c, slot)) {
                if (!ReplicationSource.slotExists(c, slot)) {
                    return;
                }
                if (System.nanoTime() > deadline) {
                    throw new ReplicationException(ErrorCode.DB_QUERY, "replication slot \"" + slot + "\" is still in use after "
                            + SLOT_DROP_TIMEOUT.toSeconds() + " s",
                            "a WAL sender still holds it", "drop it with SELECT pg_drop_replication_slot('" + slot + "')");
                }
                sleep(100);
            }
        } catch (SQLException e) {
            LOG.debug("closing a connection: {}", e.getMessage());
        } catch (ReplicationException e) {
            throw new ReplicationException(e.code(), "replication slot \"" + slot + "\" is left on " + hostPort(upstream),
                    e.getMessage() + e.detail().map(d -> ": " + d).orElse(""),
                    "drop it on the upstream with SELECT pg_drop_replication_slot('" + slot + "')", e);
        }
    }

    /**
     * Removes what pg_basebackup left (it removes its own partial copy unless killed). When
     * that fails, removes standby.signal and writes {@link #INCOMPLETE_MARKER}, so the
     * directory cannot pass for a standby, and fails with what is left.
     */
    static void removePartialCopy(NodeHost host, String dir, boolean existedBefore) {
        try {
            if (existedBefore) {
                host.removeContents(dir);
            } else {
                host.removeRecursively(dir);
            }
        } catch (ReplicationException e) {
            String marked;
            try {
                host.removeRecursively(dir + "/" + RecoveryConfig.STANDBY_SIGNAL);
                host.removeRecursively(dir + "/recovery.signal");
                host.writeFile(dir + "/" + INCOMPLETE_MARKER, "This directory holds an incomplete copy made by a failed"
                        + " repmgr4j standby clone. Do not start a server on it: remove it and clone again.\n", 0600);
                marked = "it holds no standby.signal and is marked with " + INCOMPLETE_MARKER;
            } catch (RuntimeException e2) {
                marked = "it could not be marked either (" + e2.getMessage() + ")";
            }
            throw new ReplicationException(ErrorCode.BAD_BASEBACKUP, "the partial copy in \"" + dir + "\" could not be removed",
                    e.getMessage() + e.detail().map(d -> ": " + d).orElse("") + "; " + marked,
                    "remove \"" + dir + "\" by hand", e);
        }
    }

    private void awaitStreaming(ConnInfo upstream, String nodeName, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer yet";
        while (true) {
            try (Connection c = ctx.connect(upstream)) {
                while (true) {
                    if (Attachment.servesTo(c, nodeName)) {
                        return;
                    }
                    last = "pg_stat_replication shows no WAL sender streaming to \"" + nodeName + "\"";
                    if (System.nanoTime() > deadline) {
                        break;
                    }
                    sleep(100);
                }
            } catch (ReplicationException | SQLException e) {
                last = e.getMessage();
            }
            if (System.nanoTime() > deadline) {
                throw new ReplicationException(ErrorCode.NODE_STATUS,
                        "node \"" + nodeName + "\" is not streaming from " + hostPort(upstream) + " after " + timeout.toSeconds() + " s",
                        last, "check the standby's server log and primary_conninfo, and the upstream's pg_hba.conf");
            }
            sleep(200);
        }
    }

    /**
     * Records a standby_clone event on the primary (through {@code pending} when given);
     * false when it could not be stored.
     */
    private boolean recordEvent(Prepared p, EventConnection pending, boolean ok, String details) {
        EventRecord event = Registration.event(p.node().nodeId(), Events.STANDBY_CLONE, ok, details);
        try {
            MetadataStore store = pending != null ? pending.store()
                    : p.upstream().flatMap(Upstream::primary).map(ctx::storeOn).orElseGet(ctx::primaryStore);
            ctx.notifyListeners(store.appendEvent(event));
            return true;
        } catch (ReplicationException e) {
            LOG.warn("could not record event {} for node {}: {}", event.event(), event.nodeId(), e.getMessage());
            ctx.notifyListeners(event);
            return false;
        }
    }

    /**
     * A connection to the primary opened in the background when the copy starts, taken by
     * the one event the clone records; closed if nothing took it.
     */
    private final class EventConnection {
        private final CompletableFuture<Connection> opening;
        private final java.util.concurrent.atomic.AtomicBoolean taken = new java.util.concurrent.atomic.AtomicBoolean();

        EventConnection(Upstream up) {
            opening = async(() -> ctx.connect(up.primary().orElseGet(ctx::locatePrimary)));
        }

        /** A store whose first connection is the one opened in the background (a fresh one if that failed). */
        MetadataStore store() {
            return JdbcMetadataStore.of(() -> {
                if (taken.compareAndSet(false, true)) {
                    try {
                        return opening.get(ctx.connectTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
                    } catch (ExecutionException | TimeoutException e) {
                        LOG.debug("the event connection opened in the background failed: {}", String.valueOf(e.getCause()));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new ReplicationException(ErrorCode.INTERNAL, "interrupted while recording an event");
                    }
                }
                return ctx.connect(ctx.locatePrimary());
            });
        }

        void close() {
            if (taken.compareAndSet(false, true)) {
                opening.whenComplete((c, e) -> Connections.closeQuietly(c));
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    private <T> CompletableFuture<T> async(Supplier<T> work) {
        return CompletableFuture.supplyAsync(work, ctx.probePool());
    }

    private static <T> T await(CompletableFuture<T> f, Duration bound) {
        try {
            return f.get(bound.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof ReplicationException re) {
                throw re;
            }
            throw new ReplicationException(ErrorCode.INTERNAL, "a check failed unexpectedly", String.valueOf(c), null, c);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new ReplicationException(ErrorCode.DB_CONN, "no answer within " + bound.toSeconds() + " s", null, null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ReplicationException(ErrorCode.INTERNAL, "interrupted while checking prerequisites");
        }
    }

    /** Waits for work whose result no longer matters, so that it does not outlive the operation. */
    private static void awaitQuietly(CompletableFuture<?> f, Duration bound) {
        try {
            await(f, bound);
        } catch (ReplicationException e) {
            LOG.debug("discarded check: {}", e.getMessage());
        }
    }

    private static Check failure(String name, ReplicationException e) {
        return Check.failed(name, e.code(), describe(e), e.hint().orElse(null));
    }

    private static String describe(ReplicationException e) {
        return e.getMessage() + e.detail().map(d -> " (" + d + ")").orElse("");
    }

    static String hostPort(ConnInfo c) {
        ConnInfo.HostPort hp = c.hosts().get(0);
        return hp.host() + ":" + hp.port();
    }

    /** Sizes as repmgr prints them (pg_size_pretty): 31 MB, 1024 kB. */
    static String prettySize(long bytes) {
        String[] units = {"bytes", "kB", "MB", "GB", "TB"};
        double v = bytes;
        int u = 0;
        while (Math.abs(v) >= 10 * 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return Math.round(v) + " " + units[u];
    }

    /** The argv as a shell would read it: words with anything but safe characters in single quotes. */
    static String shellQuote(List<String> argv) {
        StringBuilder sb = new StringBuilder();
        for (String a : argv) {
            if (sb.length() > 0) {
                sb.append(' ');
            }
            if (!a.isEmpty() && a.matches("[A-Za-z0-9_./=:,@%+-]+")) {
                sb.append(a);
            } else {
                sb.append('\'').append(a.replace("'", "'\\''")).append('\'');
            }
        }
        return sb.toString();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ReplicationException(ErrorCode.INTERNAL, "interrupted while waiting");
        }
    }
}

package io.repmgr4j.core;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.EventRecord;
import io.repmgr4j.Events;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.core.host.ControlData;
import io.repmgr4j.core.host.NodeHost;
import io.repmgr4j.core.host.PgControl;
import io.repmgr4j.core.host.RecoveryConfig;
import io.repmgr4j.plan.OperationException;
import io.repmgr4j.plan.OperationReport;
import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.spi.MetadataStore;
import io.repmgr4j.sql.ReplicationControl;
import io.repmgr4j.sql.ReplicationProtocol.Lineage;
import io.repmgr4j.sql.ReplicationSlot;
import io.repmgr4j.sql.ServerProbe;
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
import java.util.stream.Collectors;

/**
 * {@code node rejoin}: attaches a stopped node as a standby of the primary. Checks that
 * the node is stopped, belongs to the same system, shut down cleanly (or runs its crash
 * recovery first, when asked), and whether pg_rewind is needed; then rewinds (keeping the
 * configuration files of the data directory), writes the recovery settings, starts the
 * node, waits until it streams and records it. Also the way a switchover attaches the old
 * primary. Everything on the node's host goes through its CommandRunner. Thread-safe
 * (stateless apart from the context; one {@link Attach} per run).
 */
final class RejoinOperation {
    static final String NAME = "node rejoin";

    /** Files of the data directory that pg_rewind would overwrite with the source's copies. */
    static final List<String> CONFIG_FILES = List.of("postgresql.conf", "postgresql.auto.conf", "pg_hba.conf", "pg_ident.conf");
    private static final Duration REWIND_TIMEOUT = Duration.ofHours(1);
    private static final Duration CRASH_RECOVERY_TIMEOUT = Duration.ofHours(1);
    private static final Duration AHEAD_TIMEOUT = Duration.ofSeconds(90);
    private static final Set<String> CRASHED_AS_STANDBY = Set.of("in archive recovery");
    private static final String ASIDE = RecoveryConfig.SET_ASIDE_SUFFIX;
    /** Exit codes of the scripts below when their own part failed (not the program they wrap). */
    private static final int SET_ASIDE_FAILED = 91;
    private static final int PUT_BACK_FAILED = 92;
    private static final String KEPT_MARK = "repmgr4j-kept:";
    private static final String BACKUP_MARK = "repmgr4j-backup:";

    /**
     * Crash recovery as one command on the node's host: recovery signal files set aside
     * (single-user mode refuses standby mode), the server in single-user mode (the
     * arguments after the first two), the signal files put back, then pg_controldata.
     * Arguments: data directory, pg_controldata, the postgres command.
     */
    static final String CRASH_RECOVERY_SH = "d=$1; controldata=$2; shift 2\n"
            + "aside=\n"
            + "setaside() {\n"
            + "  for s in " + RecoveryConfig.STANDBY_SIGNAL + " recovery.signal; do\n"
            + "    if [ -e \"$d/$s\" ]; then\n"
            + "      mv -- \"$d/$s\" \"$d/$s" + ASIDE + "\" || exit " + SET_ASIDE_FAILED + "\n"
            + "      case \" $aside \" in *\" $s \"*) ;; *) aside=\"$aside $s\" ;; esac\n"
            + "    fi\n"
            + "  done\n"
            + "}\n"
            + "setaside\n"
            + "\"$@\" </dev/null; rc=$?\n"
            // a signal file written while single-user mode started (the old primary's daemon fencing it
            // while its server is down) makes postgres refuse at once: set it aside too and run again
            + "if [ $rc -ne 0 ] && { [ -e \"$d/" + RecoveryConfig.STANDBY_SIGNAL + "\" ] || [ -e \"$d/recovery.signal\" ]; }; then\n"
            + "  setaside\n"
            + "  \"$@\" </dev/null; rc=$?\n"
            + "fi\n"
            + "for s in $aside; do\n"
            + "  mv -- \"$d/$s" + ASIDE + "\" \"$d/$s\" || { echo \"$s is left as $d/$s" + ASIDE + "\" >&2; exit "
            + PUT_BACK_FAILED + "; }\n"
            + "done\n"
            + "[ $rc -eq 0 ] || exit $rc\n"
            + "exec \"$controldata\" -D \"$d\"\n";

    /**
     * pg_rewind as one command on the node's host, keeping the node's configuration files
     * (pg_rewind copies the source's over them): they are copied into a private temporary
     * directory, pg_rewind runs (the arguments after the first), and they are copied back.
     * Prints which were kept ({@link #KEPT_MARK}); exits with pg_rewind's code.
     */
    static final String REWIND_SH = "d=$1; shift\n"
            + "b=$(mktemp -d -t repmgr4j-rewind.XXXXXXXX) || exit " + SET_ASIDE_FAILED + "\n"
            + "echo \"" + BACKUP_MARK + "$b\"\n"
            + "kept=\n"
            + "for f in " + String.join(" ", CONFIG_FILES) + "; do [ -e \"$d/$f\" ] && kept=\"$kept $f\"; done\n"
            + "if [ -n \"$kept\" ]; then\n"
            + "  (cd \"$d\" && cp -p -- $kept \"$b\"/) || { rm -rf -- \"$b\"; exit " + SET_ASIDE_FAILED + "; }\n"
            + "fi\n"
            + "echo \"" + KEPT_MARK + "$kept\"\n"
            + "\"$@\" </dev/null; rc=$?\n"
            + "if [ -n \"$kept\" ]; then\n"
            + "  (cd \"$b\" && cp -p -- $kept \"$d\"/) || { echo \"the configuration files are left in $b\" >&2; exit "
            + PUT_BACK_FAILED + "; }\n"
            + "fi\n"
            + "rm -rf -- \"$b\"\n"
            + "exit $rc\n";

    private final Topology topo;

    RejoinOperation(Topology topo) {
        this.topo = topo;
    }

    /** One node being attached to a target: its handles, the options, and what was found. Used by one thread. */
    static final class Attach {
        final NodeConfig config;
        final NodeRecord record;
        final NodeRecord target;
        final PgControl control;
        final NodeHost host;
        final boolean forceRewind;
        final boolean recoverCrashed;
        final Duration timeout;
        final boolean standalone;
        /** Nodes that stream from this one now but are being moved elsewhere (a switchover's siblings): their slots here go. */
        Set<Integer> leaving = Set.of();
        ControlData controlData;
        Lineage targetLineage;
        /** True, false, or null while unknown (before a crashed primary's crash recovery). */
        Boolean rewindNeeded;
        /** Answers asked for ahead of the checks that need them (a standalone rejoin's), else null: asked then. */
        CompletableFuture<Boolean> runningAhead;
        CompletableFuture<ControlData> controlDataAhead;
        CompletableFuture<Lineage> targetLineageAhead;
        CompletableFuture<Boolean> fsyncOffAhead;

        Attach(NodeConfig config, NodeRecord record, NodeRecord target, PgControl control, boolean forceRewind,
               boolean recoverCrashed, Duration timeout, boolean standalone) {
            this.config = config;
            this.record = record;
            this.target = target;
            this.control = control;
            this.host = new NodeHost(control.runner());
            this.forceRewind = forceRewind;
            this.recoverCrashed = recoverCrashed;
            this.timeout = timeout;
            this.standalone = standalone;
        }

        String dir() {
            return config.dataDirectory();
        }

        boolean running() {
            return runningAhead != null ? awaitAhead(runningAhead) : control.isRunning();
        }

        /**
         * True when the node's own configuration says {@code fsync = off}: it never makes
         * its data durable, so neither need pg_rewind.
         */
        boolean fsyncOff() {
            return fsyncOffAhead != null ? awaitAhead(fsyncOffAhead) : readFsyncOff(control);
        }

        ControlData readControlData() {
            return controlDataAhead != null ? awaitAhead(controlDataAhead) : control.controlData();
        }

        Lineage readTargetLineage(Topology topo) {
            return targetLineageAhead != null ? awaitAhead(targetLineageAhead)
                    : topo.lineage(target.conninfo(), target.describe(), ErrorCode.REJOIN_FAIL);
        }

        boolean crashed() {
            return !controlData.shutDownCleanly();
        }

        /** Crashed while a primary (or in crash recovery): its crash recovery must run before anything else. */
        boolean crashedAsPrimary() {
            return crashed() && !CRASHED_AS_STANDBY.contains(controlData.clusterState());
        }

        /** Crash recovery runs first: a crashed primary, or a crashed standby that will be rewound anyway. */
        boolean needsCrashRecovery() {
            return crashedAsPrimary() || (crashed() && Boolean.TRUE.equals(rewindNeeded));
        }
    }

    static boolean readFsyncOff(PgControl control) {
        return control.configuredSetting("fsync").map("off"::equalsIgnoreCase).orElse(false);
    }

    /** The answer of work started ahead (bounded), its ReplicationException as thrown. */
    static <T> T awaitAhead(CompletableFuture<T> f) {
        try {
            return f.get(AHEAD_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ReplicationException re) {
                throw re;
            }
            throw new ReplicationException(ErrorCode.INTERNAL, "a check failed unexpectedly", String.valueOf(e.getCause()), null,
                    e.getCause());
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new ReplicationException(ErrorCode.REJOIN_FAIL, "no answer within " + Topology.seconds(AHEAD_TIMEOUT), null,
                    "check the node's host and its runner");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ReplicationException(ErrorCode.INTERNAL, "interrupted while checking");
        }
    }

    // ------------------------------------------------------------------ checks

    /** The node's server is not running. */
    OperationRun.Found checkStopped(Attach a) {
        if (a.running()) {
            throw new ReplicationException(ErrorCode.REJOIN_FAIL, a.record.describe() + " is running",
                    "pg_ctl status finds a server on " + a.dir() + " on " + a.control.runner().describe(),
                    "stop it first; a running standby can follow another node instead");
        }
        return OperationRun.Found.ok("not running");
    }

    /** Same system identifier as the target (also reads the control file and the target's lineage). */
    OperationRun.Found checkSystem(Attach a) {
        a.controlData = a.readControlData();
        a.targetLineage = a.readTargetLineage(topo);
        long mine = a.controlData.systemIdentifier();
        long theirs = a.targetLineage.system().systemIdentifier();
        if (mine != theirs) {
            throw new ReplicationException(ErrorCode.REJOIN_FAIL,
                    a.record.describe() + " is not part of the same cluster as rejoin target " + a.target.describe(),
                    "system identifiers differ: local " + Long.toUnsignedString(mine) + ", target " + Long.toUnsignedString(theirs),
                    "check data_directory in the node's configuration; a node of another cluster must be cloned again");
        }
        return OperationRun.Found.ok("local and rejoin target system identifiers match: " + Long.toUnsignedString(mine));
    }

    /** Clean shutdown, or crash recovery allowed. */
    OperationRun.Found checkClean(Attach a) {
        String state = a.controlData.clusterState();
        if (!a.crashed()) {
            return OperationRun.Found.ok("database cluster state: " + state);
        }
        if (!a.crashedAsPrimary()) {
            return OperationRun.Found.warning("not shut down cleanly (state \"" + state + "\"): it stopped as a standby,"
                    + " and recovers as one when started");
        }
        if (!a.recoverCrashed) {
            throw new ReplicationException(ErrorCode.REJOIN_FAIL, "database is not shut down cleanly",
                    "pg_controldata says \"" + state + "\" for " + a.dir() + "; pg_rewind and a standby start need a node that"
                            + " finished its crash recovery",
                    "use recoverCrashedNode(true) to run its crash recovery first (single-user mode), or start it once and"
                            + " stop it cleanly");
        }
        return OperationRun.Found.warning("not shut down cleanly (state \"" + state + "\"); its crash recovery will run"
                + " first, in single-user mode (no connections, no replication)");
    }

    /** Whether it can attach without pg_rewind, and if not whether pg_rewind may and can run. */
    OperationRun.Found checkAttach(Attach a) {
        ControlData cd = a.controlData;
        ForkCheck.Verdict v = verdict(a);
        if (a.crashedAsPrimary()) {
            // crash recovery writes WAL at the end of what is there, past any point we can see now
            a.rewindNeeded = v.canAttach() ? null : Boolean.TRUE;
            if (a.rewindNeeded == null) {
                checkRewindUsable(a, false);
                return OperationRun.Found.warning("decided after crash recovery (" + v.detail() + ")"
                        + (a.forceRewind ? "; pg_rewind will run if needed" : "; without forceRewind the rejoin stops there"
                        + " if pg_rewind is needed"));
            }
        } else {
            a.rewindNeeded = !v.canAttach();
        }
        if (!a.rewindNeeded) {
            return OperationRun.Found.ok("local node " + a.record.nodeId() + " can attach to rejoin target node "
                    + a.target.nodeId() + ": " + v.detail());
        }
        if (!a.forceRewind) {
            throw new ReplicationException(ErrorCode.REJOIN_FAIL,
                    "pg_rewind execution required for this node to attach to rejoin target node " + a.target.nodeId(),
                    v.detail(), "use forceRewind(true) to run pg_rewind (it needs wal_log_hints or data checksums)");
        }
        checkRewindUsable(a, true);
        return OperationRun.Found.ok("pg_rewind execution required for this node to attach to rejoin target node "
                + a.target.nodeId() + ": " + v.detail() + " (checkpoint " + cd.checkpointLocation() + ")");
    }

    private static void checkRewindUsable(Attach a, boolean needed) {
        if (!a.forceRewind) {
            return;
        }
        ControlData cd = a.controlData;
        if (!cd.walLogHints() && !cd.dataChecksumsEnabled()) {
            throw new ReplicationException(ErrorCode.REJOIN_FAIL, "force rewind specified but pg_rewind cannot be used",
                    "\"wal_log_hints\" is set to \"off\" and data checksums are disabled" + (needed ? ""
                            : " (pg_rewind may be needed after crash recovery)"),
                    "set wal_log_hints = on on the node (it takes effect when the server next starts), or clone it again");
        }
    }

    /** The points the node's data reached (checkpoint, minimum recovery point) against the target's history. */
    private static ForkCheck.Verdict verdict(Attach a) {
        ControlData cd = a.controlData;
        List<ForkCheck.Point> points = new ArrayList<>();
        points.add(new ForkCheck.Point("recovery point", cd.checkpointTimeline(), cd.checkpointLocation(), true));
        // a minimum recovery point means something only for a node that stopped in recovery
        if (cd.clusterState().contains("recovery") && cd.minRecoveryEndLocation().value() != 0) {
            points.add(new ForkCheck.Point("minimum recovery point", cd.minRecoveryEndTimeline(), cd.minRecoveryEndLocation(), false));
        }
        return ForkCheck.check(points, a.targetLineage);
    }

    // ------------------------------------------------------------------ steps

    /** The steps that attach the node; the checks above must have run. */
    List<OperationRun.PlanStep> steps(Attach a) {
        String node = a.record.describe();
        String target = a.target.describe();
        List<OperationRun.PlanStep> plan = new ArrayList<>();
        if (a.needsCrashRecovery()) {
            plan.add(new OperationRun.PlanStep("run the crash recovery of " + node + " (single-user mode)", () -> crashRecovery(a)));
            plan.add(new OperationRun.PlanStep("check whether " + node + " can attach to " + target + " after crash recovery",
                    () -> checkAttach(a).detail()));
        }
        if (a.forceRewind && !Boolean.FALSE.equals(a.rewindNeeded)) {
            plan.add(new OperationRun.PlanStep("pg_rewind " + node + " from " + target + " (configuration files kept)",
                    () -> Boolean.TRUE.equals(a.rewindNeeded) ? rewind(a) : "not needed"));
        }
        a.record.slotName().ifPresent(slot -> plan.add(new OperationRun.PlanStep(
                "create replication slot \"" + slot + "\" on " + target + " if missing",
                () -> topo.withConnection(a.target.conninfo(), c -> ReplicationControl.ensurePhysicalSlot(c, slot) ? "created" : "exists already"))));
        plan.add(new OperationRun.PlanStep("write the recovery configuration of " + node + " (standby.signal, primary_conninfo to "
                + target + ")", () -> {
            RecoveryConfig rc = RecoveryConfig.streamingFrom(a.config, a.target.conninfo(), a.record.slotName());
            rc.writeTo(a.host, a.dir());
            return rc.describe();
        }));
        plan.add(new OperationRun.PlanStep("start " + node + " as a standby", () -> {
            topo.startAndAwait(a.control, a.record, a.timeout, ErrorCode.REJOIN_FAIL);
            return null;
        }));
        plan.add(new OperationRun.PlanStep("wait until " + node + " streams from " + target, () -> {
            try {
                Attachment.await(topo.ctx, a.record.conninfo(), a.record.nodeName(), a.target.conninfo(), a.timeout,
                        Topology.ATTACH_POLL);
            } catch (ReplicationException e) {
                throw new ReplicationException(ErrorCode.REJOIN_FAIL, node + " was started but does not stream from " + target,
                        e.detail().orElse("") + a.control.serverLogTail(5).map(t -> "; its server log ends with:\n" + t).orElse(""),
                        "it runs as a standby and accepts no writes; see its server log, then stop it and rejoin it again", e);
            }
            return null;
        }));
        plan.add(new OperationRun.PlanStep("record " + node + " as a standby of " + target
                + (a.standalone ? " (node_rejoin)" : ""), () -> record(a)));
        plan.add(new OperationRun.PlanStep("drop unused replication slots left on " + node, () -> dropStaleSlots(a)));
        return plan;
    }

    /**
     * Runs the node's crash recovery: the server in single-user mode (it accepts no
     * connections and streams nothing), which replays its WAL and, on end of input, writes
     * a shutdown checkpoint and exits. Recovery signal files are set aside meanwhile:
     * single-user mode refuses standby mode.
     */
    String crashRecovery(Attach a) {
        CommandResult r = a.control.runner().run(Command.of(List.of("sh", "-c", CRASH_RECOVERY_SH, "sh", a.dir(),
                        a.control.tool("pg_controldata"), a.control.tool("postgres"), "--single", "-D", a.dir(), "template1"))
                .withEnv("LC_ALL", "C").withTimeout(CRASH_RECOVERY_TIMEOUT));
        if (r.exitCode() == SET_ASIDE_FAILED || r.exitCode() == PUT_BACK_FAILED) {
            throw new ReplicationException(ErrorCode.REJOIN_FAIL, "crash recovery of " + a.record.describe() + " failed",
                    r.lastErrorLine(), "check the data directory's permissions; a signal file named *" + ASIDE
                            + " must be renamed back by hand");
        }
        if (!r.succeeded()) {
            throw new ReplicationException(ErrorCode.REJOIN_FAIL, "crash recovery of " + a.record.describe() + " failed",
                    r.timedOut() ? "single-user mode did not end within " + Topology.seconds(CRASH_RECOVERY_TIMEOUT) : r.lastErrorLine(),
                    "start the server once by hand and read its log");
        }
        a.controlData = ControlData.parse(r.stdout());
        if (a.crashed()) {
            throw new ReplicationException(ErrorCode.REJOIN_FAIL, "crash recovery of " + a.record.describe()
                    + " did not leave it cleanly shut down", "pg_controldata says \"" + a.controlData.clusterState() + "\"",
                    "start the server once by hand and read its log");
        }
        return "database cluster state now \"" + a.controlData.clusterState() + "\"; latest checkpoint "
                + a.controlData.checkpointLocation() + " on timeline " + a.controlData.checkpointTimeline();
    }

    /**
     * pg_rewind from the target, with the password in the environment (never in the
     * argument vector). pg_rewind copies the source's configuration files over the node's;
     * they are copied to a private temporary directory on the node's host before and back
     * after, so the node keeps its own settings (port, pg_hba.conf, ...).
     */
    String rewind(Attach a) {
        ConnInfo source = a.target.conninfo();
        // pg_rewind reads the source's timeline from its control file, which a promotion
        // updates only at its next checkpoint: without one, a freshly promoted source looks
        // as if it were still on the old timeline, and pg_rewind wrongly finds nothing to do
        topo.withConnection(source, c -> {
            if (ReplicationControl.checkpointTimeline(c) != ServerProbe.timeline(c)) {
                ReplicationControl.checkpoint(c);
            }
            return null;
        });
        List<String> argv = new ArrayList<>(List.of("sh", "-c", REWIND_SH, "sh", a.dir(), a.control.tool("pg_rewind"),
                "-D", a.dir(), "--progress", "--source-server=" + source.without("password").without("target_session_attrs").render()));
        // pg_rewind's sync of the whole directory buys nothing on a node that runs without fsync
        boolean noSync = a.fsyncOff();
        if (noSync) {
            argv.add("--no-sync");
        }
        Command cmd = Command.of(argv).withEnv("LC_ALL", "C").withTimeout(REWIND_TIMEOUT);
        if (source.password().isPresent()) {
            cmd = cmd.withEnv("PGPASSWORD", source.password().get());
        }
        CommandResult r = a.control.runner().run(cmd);
        if (r.exitCode() == SET_ASIDE_FAILED) {
            throw new ReplicationException(ErrorCode.REJOIN_FAIL, "unable to save the configuration files of "
                    + a.record.describe() + " before pg_rewind", r.lastErrorLine(),
                    "check that the OS user may create a temporary directory on " + a.control.runner().describe()
                            + "; nothing was changed");
        }
        if (r.exitCode() == PUT_BACK_FAILED) {
            throw new ReplicationException(ErrorCode.REJOIN_FAIL, "unable to put the configuration files of "
                    + a.record.describe() + " back after pg_rewind", source.maskIn(r.lastErrorLine()),
                    "copy them from the directory named in the detail into " + a.dir() + " before starting the node");
        }
        List<String> present = r.stdout().lines().filter(l -> l.startsWith(KEPT_MARK))
                .flatMap(l -> java.util.Arrays.stream(l.substring(KEPT_MARK.length()).trim().split(" ")))
                .filter(f -> !f.isEmpty()).toList();
        String output = source.maskIn(r.stderr() + "\n" + r.stdout());
        if (!r.succeeded()) {
            String backup = r.stdout().lines().filter(l -> l.startsWith(BACKUP_MARK)).map(l -> l.substring(BACKUP_MARK.length()))
                    .findFirst().orElse("?");
            throw new ReplicationException(ErrorCode.REJOIN_FAIL, "pg_rewind of " + a.record.describe() + " failed",
                    r.timedOut() ? "pg_rewind did not end within " + Topology.seconds(REWIND_TIMEOUT)
                            + "; the node's configuration files are in " + backup + " on " + a.control.runner().describe()
                            : source.maskIn(r.lastErrorLine()),
                    "the data directory may be half rewound: run the rejoin again with forceRewind, or clone the node again");
        }
        a.controlData = a.control.controlData();
        a.targetLineage = topo.lineage(a.target.conninfo(), a.target.describe(), ErrorCode.REJOIN_FAIL);
        ForkCheck.Verdict after = verdict(a);
        if (!after.canAttach()) {
            throw new ReplicationException(ErrorCode.REJOIN_FAIL, "after pg_rewind " + a.record.describe()
                    + " still cannot attach to " + a.target.describe(), after.detail() + "; pg_rewind said: "
                    + output.strip().replace('\n', ' '), "run the rejoin again, or clone the node again");
        }
        String said = output.lines().map(String::strip)
                .filter(l -> l.contains("diverged") || l.contains("need to copy") || l.contains("Done")
                        || l.contains("no rewind required"))
                .map(l -> l.replaceFirst("^pg_rewind: ", "")).collect(Collectors.joining("; "));
        return (said.isEmpty() ? "done" : said) + "; kept " + String.join(", ", present)
                + (noSync ? "; not synced to disk (the node runs with fsync = off)" : "");
    }

    private String record(Attach a) {
        String details = "node " + a.record.nodeId() + " is now attached to node " + a.target.nodeId();
        MetadataStore store = topo.ctx.storeOn(a.target.conninfo());
        EventRecord stored = store.inTransaction(tx -> {
            NodeRecord now = tx.node(a.record.nodeId()).orElse(a.record);
            tx.updateNode(NodeRecord.builder().from(now).type(NodeType.STANDBY).upstreamNodeId(a.target.nodeId())
                    .active(true).build());
            return a.standalone ? tx.appendEvent(Registration.event(a.record.nodeId(), Events.NODE_REJOIN, true, details)) : null;
        });
        if (stored != null) {
            topo.notify(stored);
        }
        TopologyNotifier.publishLater(topo.ctx, a.target.conninfo(), 0, "rejoin");
        return details;
    }

    /**
     * Drops the inactive repmgr slots the node kept from when it was a primary (slots are
     * not part of what a standby replicates, and an unused one holds WAL forever), unless a
     * registered node streams from this one and uses it.
     */
    private String dropStaleSlots(Attach a) {
        List<NodeRecord> nodes = topo.ctx.storeOn(a.target.conninfo()).nodes();
        Set<String> inUse = nodes.stream().filter(n -> n.upstreamNodeId().equals(OptionalInt.of(a.record.nodeId()))
                        && !a.leaving.contains(n.nodeId()))
                .flatMap(n -> n.slotName().stream()).collect(Collectors.toSet());
        return topo.withConnection(a.record.conninfo(), c -> {
            List<String> dropped = new ArrayList<>();
            for (ReplicationSlot s : ServerProbe.replicationSlots(c)) {
                if (s.slotName().startsWith("repmgr_slot_") && !s.active() && !inUse.contains(s.slotName())
                        && ReplicationControl.dropInactiveSlot(c, s.slotName())) {
                    dropped.add(s.slotName());
                }
            }
            return dropped.isEmpty() ? "none" : "dropped " + dropped;
        });
    }

    // ------------------------------------------------------------------ the standalone operation

    OperationReport run(NodeConfig config, Optional<ConnInfo> targetConninfo, OptionalInt targetId, boolean forceRewind,
                        boolean recoverCrashed, Optional<Duration> timeoutOption, boolean dryRun) {
        OperationRun run = new OperationRun(NAME, dryRun);
        List<NodeRecord> nodes = topo.nodes();
        NodeRecord[] node = new NodeRecord[1];
        NodeRecord[] target = new NodeRecord[1];
        TopologyLock[] lock = new TopologyLock[1];
        PgControl control = topo.ctx.control(config);
        Duration timeout = timeoutOption.orElse(Duration.ofSeconds(config.nodeRejoinTimeout()));
        Attach[] attach = new Attach[1];
        List<OperationRun.PlanStep> plan;
        // the node's host answers while the SQL checks run: whether it runs, its control file
        CompletableFuture<Boolean> runningAhead = CompletableFuture.supplyAsync(control::isRunning, topo.ctx.probePool());
        CompletableFuture<ControlData> controlDataAhead = CompletableFuture.supplyAsync(control::controlData, topo.ctx.probePool());
        CompletableFuture<Lineage> lineageAhead = null;
        try {
            run.check("node is registered", () -> {
                node[0] = Topology.require(nodes, config.nodeId());
                return OperationRun.Found.ok(node[0].describe());
            });
            run.check("rejoin target is a running primary", () -> {
                target[0] = resolveTarget(nodes, node[0], targetConninfo, targetId);
                return OperationRun.Found.ok(target[0].describe());
            });
            NodeRecord t = target[0];
            lineageAhead = CompletableFuture.supplyAsync(() -> topo.lineage(t.conninfo(), t.describe(), ErrorCode.REJOIN_FAIL),
                    topo.ctx.probePool());
            run.check("PostgreSQL programs of " + node[0].describe() + " run on its host", () -> {
                int v = topo.ctx.majorVersions(control, forceRewind ? List.of("pg_ctl", "pg_rewind") : List.of("pg_ctl")).get(0);
                return OperationRun.Found.ok("PostgreSQL " + v + " on " + control.runner().describe());
            });
            run.check("no other topology operation is running", () -> {
                lock[0] = TopologyLock.acquire(topo.ctx, nodes, "node rejoin, node " + config.nodeId(), ErrorCode.REJOIN_FAIL);
                return OperationRun.Found.ok("cluster-wide lock taken on nodes " + lock[0].nodeIds());
            });
            attach[0] = new Attach(config, node[0], target[0], control, forceRewind, recoverCrashed, timeout, true);
            Attach a = attach[0];
            a.runningAhead = runningAhead;
            a.controlDataAhead = controlDataAhead;
            a.targetLineageAhead = lineageAhead;
            if (forceRewind) {
                a.fsyncOffAhead = CompletableFuture.supplyAsync(() -> readFsyncOff(control), topo.ctx.probePool());
            }
            run.check(node[0].describe() + " is stopped", () -> checkStopped(a));
            run.check("same system as the rejoin target", () -> checkSystem(a));
            run.check("shutdown state of " + node[0].describe(), () -> checkClean(a));
            run.check("can attach to " + target[0].describe() + " without pg_rewind", () -> checkAttach(a));
            plan = steps(a);
        } catch (OperationRun.CheckFailed f) {
            FollowOperation.closeQuietly(lock[0]);
            OperationReport report = run.report(false, OperationRun.describe(f.reason()));
            if (dryRun) {
                return report;
            }
            topo.failureEvent(config.nodeId(), Events.NODE_REJOIN, f.reason().getMessage());
            throw new OperationException(f.reason().code(), f.reason().getMessage(), f.reason().detail().orElse(null),
                    f.reason().hint().orElse(null), report, f.reason());
        } catch (RuntimeException e) {
            FollowOperation.closeQuietly(lock[0]);
            throw e;
        }
        try {
            run.run(plan);
            if (target[0].type() == io.repmgr4j.NodeType.PRIMARY) {
                SyncStep.configure(topo.ctx, run, target[0], Duration.ofSeconds(5));
            }
            String summary = dryRun ? node[0].describe() + " would be attached to " + target[0].describe()
                    : "NODE REJOIN successful: node " + node[0].nodeId() + " is now attached to node " + target[0].nodeId();
            return run.report(true, summary);
        } catch (ReplicationException e) {
            OperationReport report = run.report(false, OperationRun.describe(e));
            topo.failureEvent(config.nodeId(), Events.NODE_REJOIN, e.getMessage());
            throw new OperationException(ErrorCode.REJOIN_FAIL, e.getMessage(), e.detail().orElse(null),
                    e.hint().orElse("see the report's steps for the state the node was left in"), report, e);
        } finally {
            FollowOperation.closeQuietly(lock[0]);
        }
    }

    private NodeRecord resolveTarget(List<NodeRecord> nodes, NodeRecord node, Optional<ConnInfo> conninfo, OptionalInt id) {
        NodeRecord t;
        if (id.isPresent()) {
            t = Topology.require(nodes, id.getAsInt());
        } else {
            ConnInfo where = conninfo.orElseGet(() -> topo.ctx.locatePrimary());
            t = Topology.byAddress(nodes, where).orElseThrow(() -> new ReplicationException(ErrorCode.BAD_CONFIG,
                    "rejoin target " + where.hosts() + " is not a registered node", null,
                    "name a registered node, normally the primary"));
        }
        if (t.nodeId() == node.nodeId()) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "a node cannot rejoin itself",
                    "the rejoin target is " + t.describe(), "name the primary as the rejoin target");
        }
        Topology.ServerState s = topo.state(t, ErrorCode.REJOIN_FAIL);
        if (s.inRecovery()) {
            throw new ReplicationException(ErrorCode.REJOIN_FAIL, "rejoin target " + t.describe() + " is not a primary",
                    "the server is in recovery (a standby)", "rejoin the node to the current primary");
        }
        return t;
    }
}

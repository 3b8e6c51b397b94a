package io.repmgr4j.core.daemon;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.EventRecord;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.spi.CommandRunner;
import io.repmgr4j.spi.EventListener;
import io.repmgr4j.spi.FencingHook;
import io.repmgr4j.spi.MetadataStore;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a daemon's events go: into {@code repmgr.events} on the primary (kept in order in
 * memory while no primary can be written, and written later with their original time),
 * to the daemon's and the cluster handle's listeners, and to
 * {@code event_notification_command} through the node's runner. Listeners, the command and
 * the fencing hook run on the daemon's notification thread, never on its monitoring
 * thread. Thread-safe.
 */
final class EventSink implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EventSink.class);
    private static final DateTimeFormatter REPMGR_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSSx");
    /** How many unwritten events are kept while no primary can be reached; the oldest go first. */
    static final int MAX_PENDING = 500;

    /** What {@code %p}, {@code %a} and {@code %c} stand for in one event. */
    record Context(OptionalInt primaryId, Optional<String> primaryName, Optional<ConnInfo> primaryConninfo) {
        static final Context NONE = new Context(OptionalInt.empty(), Optional.empty(), Optional.empty());

        static Context primary(NodeRecord primary) {
            return new Context(OptionalInt.of(primary.nodeId()), Optional.of(primary.nodeName()), Optional.of(primary.conninfo()));
        }

        Context withPrimaryId(int id) {
            return new Context(OptionalInt.of(id), primaryName, primaryConninfo);
        }
    }

    private final NodeConfig self;
    private final CommandRunner runner;
    private final ClusterAccess access;
    private final Duration commandTimeout;
    private final List<EventListener> listeners = new CopyOnWriteArrayList<>();
    private final Deque<EventRecord> pending = new ArrayDeque<>();
    private final ThreadPoolExecutor notifier;
    private volatile EventRecord last;

    EventSink(NodeConfig self, CommandRunner runner, ClusterAccess access, Duration commandTimeout, String threadName) {
        this.self = self;
        this.runner = runner;
        this.access = access;
        this.commandTimeout = commandTimeout;
        this.notifier = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(1000), r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        }, (r, ex) -> LOG.warn("{}: notification queue full; a notification was dropped", self.nodeName()));
    }

    void addListener(EventListener l) {
        listeners.add(l);
    }

    boolean removeListener(EventListener l) {
        return listeners.remove(l);
    }

    Optional<EventRecord> last() {
        return Optional.ofNullable(last);
    }

    /** Records an event of this node: queued for the metadata, announced to listeners and the command. */
    EventRecord record(String event, boolean successful, String details, Context context) {
        EventRecord e = EventRecord.builder()
                .nodeId(self.nodeId())
                .event(event)
                .successful(successful)
                .timestamp(OffsetDateTime.now())
                .details(Optional.ofNullable(details))
                .nodeName(self.nodeName())
                .build();
        last = e;
        if (successful) {
            LOG.info("[{}] {}: {}", self.nodeName(), event, details == null ? "" : details);
        } else {
            LOG.warn("[{}] {} (failed): {}", self.nodeName(), event, details == null ? "" : details);
        }
        synchronized (pending) {
            if (pending.size() >= MAX_PENDING) {
                EventRecord dropped = pending.removeFirst();
                LOG.warn("[{}] no primary reachable to record events; dropped event {} of {}", self.nodeName(),
                        dropped.event(), dropped.timestamp().orElse(null));
            }
            pending.addLast(e);
        }
        announce(e, context, true);
        return e;
    }

    /**
     * Tells this daemon's listeners (and the command) of an event an operation recorded
     * itself; the operation told the cluster handle's listeners already.
     */
    void announceOnly(EventRecord e) {
        last = e;
        announce(e, Context.NONE, false);
    }

    int pendingCount() {
        synchronized (pending) {
            return pending.size();
        }
    }

    /**
     * Writes queued events to {@code store}, oldest first, and stops at the first failure;
     * returns true when nothing is left.
     */
    boolean flush(MetadataStore store) {
        while (true) {
            EventRecord e;
            synchronized (pending) {
                e = pending.peekFirst();
            }
            if (e == null) {
                return true;
            }
            try {
                store.appendEvent(e);
            } catch (ReplicationException ex) {
                LOG.debug("[{}] could not record event {} yet: {}", self.nodeName(), e.event(), ex.getMessage());
                return false;
            }
            synchronized (pending) {
                if (pending.peekFirst() == e) {
                    pending.removeFirst();
                }
            }
        }
    }

    /** Runs the fencing hook on the notification thread. */
    void fence(FencingHook hook, NodeRecord stale, NodeRecord current) {
        submit(() -> {
            try {
                hook.fence(stale, current);
            } catch (RuntimeException ex) {
                LOG.warn("[{}] fencing hook threw: {}", self.nodeName(), ex.toString());
            }
        });
    }

    /** Runs a task (a fencing hook call) on the notification thread; anything it throws is logged. */
    void submitTask(Runnable task) {
        submit(() -> {
            try {
                task.run();
            } catch (RuntimeException ex) {
                LOG.warn("[{}] fencing hook threw: {}", self.nodeName(), ex.toString());
            }
        });
    }

    private void announce(EventRecord e, Context context, boolean clusterListeners) {
        submit(() -> {
            for (EventListener l : listeners) {
                try {
                    l.onEvent(e);
                } catch (RuntimeException ex) {
                    LOG.warn("[{}] event listener {} threw on {}: {}", self.nodeName(), l, e.event(), ex.toString());
                }
            }
            if (clusterListeners) {
                try {
                    access.notifyListeners(e);
                } catch (RuntimeException ex) {
                    LOG.warn("[{}] cluster listener threw on {}: {}", self.nodeName(), e.event(), ex.toString());
                }
            }
            runCommand(e, context);
        });
    }

    private void submit(Runnable task) {
        try {
            notifier.execute(task);
        } catch (RejectedExecutionException ex) {
            LOG.debug("[{}] notification not sent: the daemon is closed", self.nodeName());
        }
    }

    private void runCommand(EventRecord e, Context context) {
        Optional<String> template = self.eventNotificationCommand().filter(s -> !s.isBlank());
        if (template.isEmpty()) {
            return;
        }
        if (!self.eventNotifications().isEmpty() && !self.eventNotifications().contains(e.event())) {
            return;
        }
        String command = NotificationCommand.expand(template.get(), placeholders(e, context));
        try {
            CommandResult r = runner.run(Command.of("sh", "-c", command).withTimeout(commandTimeout));
            if (!r.succeeded()) {
                LOG.warn("[{}] event_notification_command for {} {}: {}", self.nodeName(), e.event(),
                        r.timedOut() ? "was stopped after " + commandTimeout.toSeconds() + " s" : "exited with " + r.exitCode(),
                        r.lastErrorLine());
            }
        } catch (ReplicationException ex) {
            LOG.warn("[{}] could not run event_notification_command for {}: {}", self.nodeName(), e.event(), ex.getMessage());
        }
    }

    /** The placeholder values of one event. */
    static Map<Character, String> placeholders(EventRecord e, Context context) {
        Map<Character, String> v = new HashMap<>();
        v.put('n', String.valueOf(e.nodeId()));
        v.put('e', e.event());
        v.put('s', e.successful() ? "1" : "0");
        v.put('t', e.timestamp().map(REPMGR_TIME::format).orElse(""));
        v.put('d', e.details().orElse(""));
        v.put('p', context.primaryId().isPresent() ? String.valueOf(context.primaryId().getAsInt()) : "");
        v.put('a', context.primaryName().orElse(""));
        v.put('c', context.primaryConninfo().map(ConnInfo::masked).orElse(""));
        return v;
    }

    /** Lets queued notifications finish (up to {@code wait}), then stops the thread. */
    @Override
    public void close() {
        close(Duration.ofSeconds(5));
    }

    void close(Duration wait) {
        notifier.shutdown();
        try {
            if (!notifier.awaitTermination(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                notifier.shutdownNow();
                notifier.awaitTermination(2, TimeUnit.SECONDS);
            }
        } catch (InterruptedException ex) {
            notifier.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    ExecutorService executor() {
        return notifier;
    }
}

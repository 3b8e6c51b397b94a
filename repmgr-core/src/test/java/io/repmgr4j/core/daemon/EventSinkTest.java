package io.repmgr4j.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.inOrder;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.EventRecord;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.spi.CommandRunner;
import io.repmgr4j.spi.MetadataStore;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.mockito.ArgumentCaptor;
import org.mockito.InOrder;

/** The daemon's events: queued while no primary is reachable, listeners off the monitoring thread, the command. */
class EventSinkTest {
    private static final NodeConfig NODE = NodeConfig.builder().nodeId(2).nodeName("pg2")
            .conninfo(ConnInfo.parse("host=127.0.0.1 port=5432 user=repmgr password=secret")).dataDirectory("/data")
            .eventNotificationCommand("/bin/notify %n %e %s \"%d\" %p")
            .eventNotifications(Set.of("repmgrd_failover_promote")).build();

    private final CommandRunner runner = mock(CommandRunner.class);
    private final ClusterAccess access = mock(ClusterAccess.class);

    @Test
    void eventsWaitInOrderUntilAPrimaryCanBeWritten() {
        try (EventSink sink = new EventSink(NODE, runner, access, Duration.ofSeconds(5), "test-notify")) {
            sink.record("repmgrd_upstream_disconnect", true, "lost", EventSink.Context.NONE);
            sink.record("repmgrd_failover_aborted", false, "no majority", EventSink.Context.NONE);
            MetadataStore down = mock(MetadataStore.class);
            when(down.appendEvent(any())).thenThrow(new ReplicationException(ErrorCode.DB_CONN, "down"));
            assertThat(sink.flush(down)).isFalse();
            assertThat(sink.pendingCount()).isEqualTo(2);

            MetadataStore up = mock(MetadataStore.class);
            assertThat(sink.flush(up)).isTrue();
            assertThat(sink.pendingCount()).isZero();
            ArgumentCaptor<EventRecord> written = ArgumentCaptor.forClass(EventRecord.class);
            verify(up, times(2)).appendEvent(written.capture());
            assertThat(written.getAllValues()).extracting(EventRecord::event)
                    .containsExactly("repmgrd_upstream_disconnect", "repmgrd_failover_aborted");
            assertThat(written.getAllValues()).allSatisfy(e -> assertThat(e.timestamp()).isPresent());
            assertThat(written.getAllValues().get(1).successful()).isFalse();
        }
    }

    @Test
    void aWriteFailureMidwayKeepsTheRestForLater() {
        try (EventSink sink = new EventSink(NODE, runner, access, Duration.ofSeconds(5), "test-notify")) {
            sink.record("a", true, null, EventSink.Context.NONE);
            sink.record("b", true, null, EventSink.Context.NONE);
            MetadataStore flaky = mock(MetadataStore.class);
            when(flaky.appendEvent(any())).thenAnswer(i -> i.getArgument(0))
                    .thenThrow(new ReplicationException(ErrorCode.DB_CONN, "lost"));
            assertThat(sink.flush(flaky)).isFalse();
            assertThat(sink.pendingCount()).isEqualTo(1);
            MetadataStore ok = mock(MetadataStore.class);
            sink.flush(ok);
            InOrder order = inOrder(ok);
            order.verify(ok).appendEvent(org.mockito.ArgumentMatchers.argThat(e -> e.event().equals("b")));
        }
    }

    @Test
    void listenersRunOnTheNotificationThreadAndOneThatThrowsDoesNotStopTheOthers() throws Exception {
        List<String> threads = new CopyOnWriteArrayList<>();
        CountDownLatch got = new CountDownLatch(2);
        try (EventSink sink = new EventSink(NODE, runner, access, Duration.ofSeconds(5), "test-notify")) {
            sink.addListener(e -> {
                throw new IllegalStateException("listener bug");
            });
            sink.addListener(e -> {
                threads.add(Thread.currentThread().getName());
                got.countDown();
            });
            sink.record("x", true, null, EventSink.Context.NONE);
            sink.record("y", true, null, EventSink.Context.NONE);
            assertThat(got.await(5, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(threads).containsOnly("test-notify");
        verify(access, times(2)).notifyListeners(any());
    }

    @Test
    void theNotificationCommandRunsThroughTheNodesRunnerForFilteredEventsOnly() {
        when(runner.run(any())).thenReturn(new CommandResult(0, "", "", false, Duration.ZERO));
        try (EventSink sink = new EventSink(NODE, runner, access, Duration.ofSeconds(7), "test-notify")) {
            sink.record("repmgrd_upstream_disconnect", true, "lost", EventSink.Context.NONE);
            sink.record("repmgrd_failover_promote", true, "node \"pg2\" (ID: 2) promoted",
                    new EventSink.Context(java.util.OptionalInt.of(1), java.util.Optional.of("pg2"), java.util.Optional.empty()));
        }
        ArgumentCaptor<Command> cmd = ArgumentCaptor.forClass(Command.class);
        verify(runner).run(cmd.capture());
        assertThat(cmd.getValue().argv()).containsExactly("sh", "-c",
                "/bin/notify '2' 'repmgrd_failover_promote' '1' \"node \\\"pg2\\\" (ID: 2) promoted\" '1'");
        assertThat(cmd.getValue().timeout()).isEqualTo(Duration.ofSeconds(7));
    }

    @Test
    void aFailingCommandIsLoggedNotThrown() {
        doThrow(new ReplicationException(ErrorCode.LOCAL_COMMAND, "cannot start sh")).when(runner).run(any());
        MetadataStore store = mock(MetadataStore.class);
        try (EventSink sink = new EventSink(NODE, runner, access, Duration.ofSeconds(7), "test-notify")) {
            sink.record("repmgrd_failover_promote", true, "x", EventSink.Context.NONE);
            sink.flush(store);
        }
        verify(store).appendEvent(any());
    }
}

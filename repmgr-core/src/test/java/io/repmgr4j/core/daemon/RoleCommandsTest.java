package io.repmgr4j.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.NodeRecord;
import io.repmgr4j.NodeType;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.spi.CommandRunner;
import io.repmgr4j.spi.EventListener;
import io.repmgr4j.spi.MetadataStore;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * follow_command against the SPI contracts it uses (the node's CommandRunner, the cluster
 * access): placeholders expanded and quoted, the built-in follow not used, the standby's
 * attachment awaited and its record corrected; a failing command is a FOLLOW_FAIL with the
 * command's last error line; without follow_command the built-in follow runs. Every
 * successful follow reaches the role change listeners.
 */
class RoleCommandsTest {
    private final ClusterAccess access = mock(ClusterAccess.class);
    private final TopologyActions builtIn = mock(TopologyActions.class);
    private final CommandRunner runner = mock(CommandRunner.class);
    private final MetadataStore store = mock(MetadataStore.class);
    private final List<String> told = new CopyOnWriteArrayList<>();

    private NodeConfig node(Optional<String> follow) {
        return NodeConfig.builder().nodeId(3).nodeName("pg3").conninfo(ConnInfo.parse("host=127.0.0.1 port=5501 user=r"))
                .dataDirectory("/d3").followCommand(follow).build();
    }

    private final NodeRecord upstream = NodeRecord.from(NodeConfig.builder().nodeId(2).nodeName("pg 2'x")
            .conninfo(ConnInfo.parse("host=127.0.0.1 port=5502 user=r")).dataDirectory("/d2").build(), NodeType.PRIMARY,
            OptionalInt.empty());

    private RoleCommands commands() {
        when(access.runner(3)).thenReturn(runner);
        when(access.locatePrimary()).thenReturn(upstream.conninfo());
        when(access.storeOn(any())).thenReturn(store);
        RoleChanges roles = new RoleChanges(node(Optional.empty()), List.of(new io.repmgr4j.spi.RoleChangeListener() {
            @Override
            public void onFollow(io.repmgr4j.spi.RoleChange c) {
                told.add("follow " + c.upstreamNodeId().getAsInt());
            }
        }));
        return new RoleCommands(builtIn, access, roles);
    }

    @Test
    void followCommandRunsInsteadOfTheBuiltInFollow() {
        RoleCommands rc = commands();
        when(runner.run(any())).thenReturn(new CommandResult(0, "", "", false, Duration.ZERO));
        NodeRecord me = NodeRecord.from(node(Optional.empty()), NodeType.STANDBY, OptionalInt.of(1));
        when(store.node(3)).thenReturn(Optional.of(me));
        NodeConfig self = node(Optional.of("repmgr standby follow --upstream-node-id=%n -f /etc/repmgr.conf # %a"));
        rc.follow(self, upstream, Duration.ofSeconds(5), EventListener.NONE);
        org.mockito.ArgumentCaptor<Command> cmd = org.mockito.ArgumentCaptor.forClass(Command.class);
        verify(runner).run(cmd.capture());
        assertThat(cmd.getValue().argv()).containsExactly("sh", "-c",
                "repmgr standby follow --upstream-node-id='2' -f /etc/repmgr.conf # 'pg 2'\\''x'");
        verify(builtIn, never()).follow(any(), any(), any(), any());
        verify(access).awaitAttached(self.conninfo(), "pg3", upstream.conninfo(), Duration.ofSeconds(5));
        verify(store).updateNode(NodeRecord.builder().from(me).upstreamNodeId(OptionalInt.of(2)).build());
        DaemonTestSupport.await("the follow to be told", Duration.ofSeconds(5), () -> told.contains("follow 2"));
    }

    @Test
    void aFailingFollowCommandIsAFollowFailure() {
        RoleCommands rc = commands();
        when(runner.run(any())).thenReturn(new CommandResult(3, "", "first\nERROR: upstream not found\n", false, Duration.ZERO));
        assertThatThrownBy(() -> rc.follow(node(Optional.of("false")), upstream, Duration.ofSeconds(5), EventListener.NONE))
                .isInstanceOfSatisfying(ReplicationException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.FOLLOW_FAIL);
                    assertThat(e.getMessage()).contains("follow_command failed on node \"pg3\"");
                    assertThat(e.detail()).hasValueSatisfying(d -> assertThat(d).contains("exit", "status 3",
                            "ERROR: upstream not found"));
                });
        verify(access, never()).awaitAttached(any(), any(), any(), any());
        assertThat(told).isEmpty();
    }

    @Test
    void withoutFollowCommandTheBuiltInFollowRuns() {
        RoleCommands rc = commands();
        NodeConfig self = node(Optional.empty());
        rc.follow(self, upstream, Duration.ofSeconds(5), EventListener.NONE);
        verify(builtIn).follow(self, upstream, Duration.ofSeconds(5), EventListener.NONE);
        verify(runner, never()).run(any());
        DaemonTestSupport.await("the follow to be told", Duration.ofSeconds(5), () -> told.contains("follow 2"));
    }

    @Test
    void theWrappedAccessGivesTheseActionsAndForwardsTheRest() {
        when(access.topology()).thenReturn(builtIn);
        when(access.runner(3)).thenReturn(runner);
        ClusterAccess wrapped = RoleCommands.wrap(access, new RoleChanges(node(Optional.empty()), List.of()));
        assertThat(wrapped.topology()).isInstanceOf(RoleCommands.class);
        assertThat(wrapped.runner(3)).isSameAs(runner);
        when(access.locatePrimary()).thenThrow(new ReplicationException(ErrorCode.DB_CONN, "no primary"));
        assertThatThrownBy(wrapped::locatePrimary).isInstanceOf(ReplicationException.class).hasMessage("no primary");
    }
}

package io.repmgr4j.core.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.repmgr4j.ErrorCode;
import io.repmgr4j.NodeConfig;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.testkit.PgServer;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** NodeHost and PgControl against a real server and its host, through the server's OS user. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostToolsTest {
    private PgServer server;
    private PgControl control;
    private NodeHost host;
    private String scratch;

    @BeforeAll
    void start() {
        server = PgServer.builder().name("hosttools").start();
        NodeConfig cfg = NodeConfig.builder().nodeId(1).nodeName("hosttools").conninfo(server.conninfo())
                .dataDirectory(server.dataDirectory().toString()).pgBindir(server.bindir().toString()).build();
        control = new PgControl(cfg, server.runner());
        host = new NodeHost(server.runner());
        scratch = server.dataDirectory().getParent().resolve("scratch dir; $(touch pwned)").toString();
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void filesThroughTheRunner() {
        assertThat(host.exists(scratch)).isFalse();
        host.mkdirs(scratch, 0700);
        assertThat(host.isEmptyDirectory(scratch)).isTrue();
        assertThat(host.stat(scratch)).hasValueSatisfying(s -> {
            assertThat(s.octalMode()).isEqualTo("700");
            assertThat(s.directory()).isTrue();
            assertThat(s.owner()).isEqualTo(server.osUser());
        });
        String file = scratch + "/it's a file";
        host.writeFile(file, "line one\nline 'two'\n", 0600);
        host.appendFile(file, "three\n");
        assertThat(host.readFile(file)).isEqualTo("line one\nline 'two'\nthree\n");
        assertThat(host.list(scratch)).containsExactly("it's a file");
        assertThat(host.isEmptyDirectory(scratch)).isFalse();
        assertThat(host.isWritableDirectory(scratch)).isTrue();
        host.removeRecursively(scratch);
        assertThat(host.exists(scratch)).isFalse();
        assertThat(host.exists(server.dataDirectory().getParent().resolve("pwned").toString())).isFalse();
        assertThatThrownBy(() -> host.readFile(scratch + "/missing"))
                .isInstanceOfSatisfying(ReplicationException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.LOCAL_COMMAND));
    }

    @Test
    void directoryProbeRemoveContentsAndOptionalReads() {
        String dir = scratch + "-probe";
        NodeHost.DirectoryState missing = host.probeDirectory(dir + "/a/b");
        assertThat(missing.exists()).isFalse();
        assertThat(missing.absentOrEmpty()).isTrue();
        assertThat(missing.user()).isEqualTo(server.osUser());
        assertThat(missing.nearestAncestor()).contains(server.dataDirectory().getParent().toString());
        assertThat(missing.ancestorWritable()).isTrue();

        host.mkdirs(dir, 0750);
        NodeHost.DirectoryState empty = host.probeDirectory(dir);
        assertThat(empty.exists()).isTrue();
        assertThat(empty.directory()).isTrue();
        assertThat(empty.entries()).hasValue(0);
        assertThat(empty.absentOrEmpty()).isTrue();
        assertThat(empty.owner()).contains(server.osUser());
        assertThat(empty.mode()).hasValue(0750);
        assertThat(empty.writable()).isTrue();
        assertThat(empty.postmasterPid()).isFalse();

        assertThat(host.readFileIfExists(dir + "/.hidden")).isEmpty();
        host.writeFile(dir + "/.hidden", "secret\n", 0600);
        host.writeFile(dir + "/plain", "", 0644);
        host.mkdirs(dir + "/sub dir/deeper", 0700);
        assertThat(host.readFileIfExists(dir + "/.hidden")).contains("secret\n");
        assertThat(host.stat(dir + "/plain")).hasValueSatisfying(st -> assertThat(st.octalMode()).isEqualTo("644"));
        assertThat(host.list(dir)).doesNotContain(".hidden.repmgr4j-tmp");
        NodeHost.DirectoryState full = host.probeDirectory(dir);
        assertThat(full.entries()).hasValue(3);
        assertThat(full.absentOrEmpty()).isFalse();

        host.removeContents(dir);
        assertThat(host.isEmptyDirectory(dir)).isTrue();
        host.removeRecursively(dir);

        NodeHost.DirectoryState data = host.probeDirectory(server.dataDirectory().toString());
        assertThat(data.postmasterPid()).isTrue();
        NodeHost.DirectoryState file = host.probeDirectory(server.dataDirectory() + "/PG_VERSION");
        assertThat(file.exists()).isTrue();
        assertThat(file.directory()).isFalse();
        assertThat(file.absentOrEmpty()).isFalse();
    }

    @Test
    void oneProbeAnswersForTheDirectoryAndEveryProgram() {
        String pgCtl = control.tool("pg_ctl");
        String missing = server.bindir().resolve("no_such_program").toString();
        NodeHost.Probe probe = host.probe(server.dataDirectory().toString(), java.util.List.of(pgCtl, missing));
        assertThat(probe.directory().postmasterPid()).isTrue();
        assertThat(probe.directory().owner()).hasValue(server.osUser());
        assertThat(probe.versions()).containsOnlyKeys(pgCtl, missing);
        assertThat(control.majorVersion("pg_ctl", probe.versions().get(pgCtl))).isEqualTo(15);
        assertThat(probe.versions().get(missing).exitCode()).isNotZero();
        assertThatThrownBy(() -> control.majorVersion("no_such_program", probe.versions().get(missing)))
                .isInstanceOfSatisfying(ReplicationException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.LOCAL_COMMAND);
                    assertThat(e.getMessage()).contains("no_such_program --version");
                    assertThat(e.detail().orElse("")).contains("no_such_program");
                });
        // the directory's answers are the same as those of a probe without programs
        assertThat(probe.directory()).isEqualTo(host.probeDirectory(server.dataDirectory().toString()));
    }

    @Test
    void aKnownAnswerIsReusedOnlyWhileTheProgramsFileIsUnchanged() {
        String scratchDir = server.dataDirectory().getParent().resolve("fakebin").toString();
        host.mkdirs(scratchDir, 0700);
        String fake = scratchDir + "/pg_basebackup";
        host.writeFile(fake, "#!/bin/sh\necho 'pg_basebackup (PostgreSQL) 14.9'\n", 0700);
        NodeHost.Probe first = host.probe(scratchDir, java.util.List.of(fake));
        NodeHost.ProgramAnswer answer = first.versions().get(fake);
        assertThat(answer.exitCode()).isZero();
        assertThat(answer.fileIdentity()).isNotEmpty();
        assertThat(control.majorVersion("pg_basebackup", answer)).isEqualTo(14);

        // unchanged file: the known answer comes back (even a made-up one: proof the program did not run)
        NodeHost.ProgramAnswer madeUp = new NodeHost.ProgramAnswer(0, "pg_basebackup (PostgreSQL) 99\n", answer.fileIdentity());
        assertThat(host.probe(scratchDir, java.util.List.of(fake), java.util.Map.of(fake, madeUp)).versions().get(fake))
                .isSameAs(madeUp);
        // a changed file is asked again
        host.writeFile(fake, "#!/bin/sh\necho 'pg_basebackup (PostgreSQL) 15.10 (changed)'\n", 0700);
        NodeHost.ProgramAnswer again = host.probe(scratchDir, java.util.List.of(fake), java.util.Map.of(fake, madeUp))
                .versions().get(fake);
        assertThat(again.fileIdentity()).isNotEqualTo(answer.fileIdentity());
        assertThat(control.majorVersion("pg_basebackup", again)).isEqualTo(15);
        host.removeRecursively(scratchDir);
    }

    @Test
    void stopStartAndControlData() {
        assertThat(control.majorVersion("pg_ctl")).isEqualTo(15);
        assertThat(control.isRunning()).isTrue();
        assertThat(control.controlData().clusterState()).isEqualTo("in production");
        control.stop(PgControl.StopMode.FAST, Duration.ofSeconds(30));
        assertThat(control.isRunning()).isFalse();
        ControlData cd = control.controlData();
        assertThat(cd.shutDownCleanly()).isTrue();
        assertThat(cd.checkpointTimeline()).isEqualTo(1);
        assertThat(cd.walLogHints()).isTrue();
        control.start(Duration.ofSeconds(30));
        assertThat(server.query("SELECT system_identifier FROM pg_control_system()", Long.class)).isEqualTo(cd.systemIdentifier());
        server.kill9();
        assertThat(control.controlData().shutDownCleanly()).isFalse();
        server.start();
        assertThat(control.isRunning()).isTrue();
    }
}

package io.repmgr4j.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.repmgr4j.ConnInfo;
import io.repmgr4j.EventRecord;
import io.repmgr4j.spi.Command;
import io.repmgr4j.spi.CommandResult;
import io.repmgr4j.spi.LocalCommandRunner;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** event_notification_command: placeholders and quoting, checked by running the result through sh. */
class NotificationCommandTest {
    private static final Map<Character, String> VALUES = Map.of('n', "2", 'e', "repmgrd_failover_promote", 's', "1",
            'd', "node \"pg2\" (ID: 2) promoted; it's $(rm -rf /) `x` \\ ; done");

    private static String shell(String command) {
        CommandResult r = LocalCommandRunner.asCurrentUser().run(Command.of("sh", "-c", command));
        assertThat(r.succeeded()).as("%s: %s", command, r.stderr()).isTrue();
        return r.stdout();
    }

    @Test
    void bareDoubleQuotedAndSingleQuotedPlaceholdersReachTheProgramAsOneWordUnchanged() {
        String d = VALUES.get('d');
        for (String template : new String[] {"printf '%%s|' %n %e %d", "printf '%%s|' %n %e \"%d\"", "printf '%%s|' %n %e '%d'"}) {
            String expanded = NotificationCommand.expand(template, VALUES);
            assertThat(shell(expanded)).as(template).isEqualTo("2|repmgrd_failover_promote|" + d + "|");
        }
    }

    @Test
    void percentPercentIsALiteralPercentAndUnknownPlaceholdersStay() {
        assertThat(NotificationCommand.expand("echo 100%% %x %n", VALUES)).isEqualTo("echo 100% %x '2'");
        assertThat(NotificationCommand.expand("echo %", VALUES)).isEqualTo("echo %");
    }

    @Test
    void placeholderValuesOfAnEvent() {
        EventRecord e = EventRecord.builder().nodeId(2).event("repmgrd_failover_promote").successful(true)
                .timestamp(OffsetDateTime.of(2022, 8, 10, 14, 5, 24, 733_076_000, ZoneOffset.ofHours(8)))
                .details("node \"pg2\" (ID: 2) promoted to primary").build();
        Map<Character, String> v = EventSink.placeholders(e, new EventSink.Context(OptionalInt.of(1), Optional.of("pg2"),
                Optional.of(ConnInfo.parse("host=h port=5 user=repmgr password=secret"))));
        assertThat(v).containsEntry('n', "2").containsEntry('e', "repmgrd_failover_promote").containsEntry('s', "1")
                .containsEntry('t', "2022-08-10 14:05:24.733076+08").containsEntry('p', "1").containsEntry('a', "pg2");
        assertThat(v.get('c')).contains("host=h").doesNotContain("secret");
        Map<Character, String> none = EventSink.placeholders(e, EventSink.Context.NONE);
        assertThat(none).containsEntry('p', "").containsEntry('a', "").containsEntry('c', "");
    }
}

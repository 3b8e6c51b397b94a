package io.repmgr4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.repmgr4j.ConnInfo.HostPort;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class ConnInfoTest {

    /** The seed's conninfo, as repmgr.conf and the nodes table hold it. */
    static final String SEED =
            "host=10.67.38.50 port=1998 user=repmgr password=repmgr dbname=repmgr connect_timeout=5";

    static final String SECRET = "Sup3r-S3cret";

    static ReplicationException badConfig(String conninfo) {
        ReplicationException e = catchThrowableOfType(ReplicationException.class, () -> ConnInfo.parse(conninfo));
        assertThat(e).as("parse(%s) should fail", conninfo).isNotNull();
        assertThat(e.code()).isEqualTo(ErrorCode.BAD_CONFIG);
        return e;
    }

    @Nested
    class KeywordForm {

        @Test
        void seedConninfoKeepsOrderAndValues() {
            ConnInfo c = ConnInfo.parse(SEED);
            assertThat(c.params()).containsExactly(
                    Map.entry("host", "10.67.38.50"),
                    Map.entry("port", "1998"),
                    Map.entry("user", "repmgr"),
                    Map.entry("password", "repmgr"),
                    Map.entry("dbname", "repmgr"),
                    Map.entry("connect_timeout", "5"));
            assertThat(c.host()).isEqualTo("10.67.38.50");
            assertThat(c.port()).isEqualTo(1998);
            assertThat(c.user()).contains("repmgr");
            assertThat(c.dbname()).contains("repmgr");
            assertThat(c.password()).contains("repmgr");
            assertThat(c.connectTimeoutSeconds()).contains(5);
        }

        @Test
        void singleQuotedValuesMayHoldSpacesAndEquals() {
            ConnInfo c = ConnInfo.parse("host=pg1 options='-c search_path=repmgr' application_name='my app'");
            assertThat(c.get("options")).contains("-c search_path=repmgr");
            assertThat(c.get("application_name")).contains("my app");
        }

        @Test
        void backslashEscapesInsideQuotes() {
            ConnInfo c = ConnInfo.parse("password='it\\'s a \\\\ back' user=u");
            assertThat(c.password()).contains("it's a \\ back");
            assertThat(c.user()).contains("u");
        }

        @Test
        void backslashEscapesInUnquotedValues() {
            ConnInfo c = ConnInfo.parse("password=a\\ b\\\\c host=h");
            assertThat(c.password()).contains("a b\\c");
            assertThat(c.host()).isEqualTo("h");
        }

        @Test
        void spacesAroundEqualsAreAllowed() {
            ConnInfo c = ConnInfo.parse("  host = pg1   port= 5433 user =repmgr\tdbname\t=\tdb  ");
            assertThat(c.params()).containsExactly(
                    Map.entry("host", "pg1"), Map.entry("port", "5433"),
                    Map.entry("user", "repmgr"), Map.entry("dbname", "db"));
        }

        @Test
        void emptyQuotedValue() {
            ConnInfo c = ConnInfo.parse("host=pg1 password='' user=u");
            assertThat(c.password()).contains("");
            assertThat(c.user()).contains("u");
        }

        @Test
        void equalsSignInsideAnUnquotedValueIsKept() {
            assertThat(ConnInfo.parse("options=-cwork_mem=64MB").get("options")).contains("-cwork_mem=64MB");
        }

        @Test
        void laterKeywordWins() {
            assertThat(ConnInfo.parse("port=1 port=2").port()).isEqualTo(2);
        }

        @Test
        void unterminatedQuoteIsBadConfigWithoutThePassword() {
            ReplicationException e = badConfig("host=pg1 password='" + SECRET + " user=u");
            assertThat(e.getMessage()).contains("unterminated").contains("password");
            assertThat(e.toReport()).doesNotContain(SECRET);
        }

        @Test
        void trailingBackslashInQuotesIsUnterminated() {
            badConfig("host='pg1\\'");
        }

        @Test
        void missingEquals() {
            ReplicationException e = badConfig("host=pg1 port");
            assertThat(e.getMessage()).contains("missing \"=\"").contains("\"port\"");
            assertThat(e.hint()).isPresent();
        }

        @Test
        void missingEqualsAfterAnUnquotedPasswordWithASpaceDoesNotRepeatIt() {
            ReplicationException e = badConfig("host=pg1 password=first " + SECRET + " user=u");
            assertThat(e.toReport()).doesNotContain(SECRET).doesNotContain("first");
        }

        @Test
        void valueWithoutKeyword() {
            assertThat(badConfig("host=pg1 =5432").getMessage()).contains("without a keyword");
        }

        @ParameterizedTest
        @ValueSource(strings = {"", "   ", "\t\n"})
        void emptyStringIsBadConfig(String s) {
            badConfig(s);
        }

        @Test
        void nullIsBadConfig() {
            badConfig(null);
        }
    }

    @Nested
    class Uris {

        @Test
        void postgresqlScheme() {
            ConnInfo c = ConnInfo.parse("postgresql://repmgr:" + SECRET + "@pg1:5433/repmgr");
            assertThat(c.params()).containsExactly(
                    Map.entry("user", "repmgr"), Map.entry("password", SECRET),
                    Map.entry("host", "pg1"), Map.entry("port", "5433"), Map.entry("dbname", "repmgr"));
        }

        @Test
        void shortPostgresScheme() {
            ConnInfo c = ConnInfo.parse("postgres://u@pg1/db");
            assertThat(c.user()).contains("u");
            assertThat(c.password()).isEmpty();
            assertThat(c.hosts()).containsExactly(new HostPort("pg1", 5432));
            assertThat(c.dbname()).contains("db");
        }

        @Test
        void percentEncodingIsDecoded() {
            ConnInfo c = ConnInfo.parse("postgresql://us%40er:p%40ss%2Fw%3Ard%20x@pg1/my%20db?application_name=a%26b");
            assertThat(c.user()).contains("us@er");
            assertThat(c.password()).contains("p@ss/w:rd x");
            assertThat(c.dbname()).contains("my db");
            assertThat(c.get("application_name")).contains("a&b");
        }

        @Test
        void plusIsALiteralPlusNotASpace() {
            assertThat(ConnInfo.parse("postgresql://u:a+b@h/db").password()).contains("a+b");
        }

        @Test
        void percentEncodedUnixSocketDirectory() {
            assertThat(ConnInfo.parse("postgresql://%2Fvar%2Frun%2Fpostgresql/db").host())
                    .isEqualTo("/var/run/postgresql");
        }

        @Test
        void ipv6WithPort() {
            ConnInfo c = ConnInfo.parse("postgresql://[::1]:5433/db");
            assertThat(c.get("host")).contains("::1");
            assertThat(c.hosts()).containsExactly(new HostPort("::1", 5433));
            assertThat(c.hosts().get(0)).hasToString("[::1]:5433");
        }

        @Test
        void ipv6WithoutPort() {
            assertThat(ConnInfo.parse("postgresql://[fe80::1]/db").hosts())
                    .containsExactly(new HostPort("fe80::1", 5432));
        }

        @Test
        void unterminatedIpv6IsBadConfig() {
            badConfig("postgresql://[::1:5433/db");
        }

        @Test
        void multipleHostsWithPorts() {
            ConnInfo c = ConnInfo.parse("postgresql://host1:5433,host2:5434/db");
            assertThat(c.get("host")).contains("host1,host2");
            assertThat(c.get("port")).contains("5433,5434");
            assertThat(c.hosts()).containsExactly(new HostPort("host1", 5433), new HostPort("host2", 5434));
        }

        @Test
        void multipleHostsSomeWithoutPorts() {
            assertThat(ConnInfo.parse("postgresql://host1,host2:5434,[::1]/db").hosts()).containsExactly(
                    new HostPort("host1", 5432), new HostPort("host2", 5434), new HostPort("::1", 5432));
        }

        @Test
        void hostsWithoutPortsGiveNoPortKeyword() {
            ConnInfo c = ConnInfo.parse("postgresql://host1,host2/db");
            assertThat(c.get("port")).isEmpty();
            assertThat(c.hosts()).containsExactly(new HostPort("host1", 5432), new HostPort("host2", 5432));
        }

        @Test
        void portOnly() {
            ConnInfo c = ConnInfo.parse("postgresql://:5433/db");
            assertThat(c.get("host")).isEmpty();
            assertThat(c.hosts()).containsExactly(new HostPort("localhost", 5433));
        }

        @Test
        void noHostNoPath() {
            ConnInfo c = ConnInfo.parse("postgresql://");
            assertThat(c.params()).isEmpty();
            assertThat(c.hosts()).containsExactly(new HostPort("localhost", 5432));
        }

        @Test
        void dbnameOnly() {
            ConnInfo c = ConnInfo.parse("postgresql:///repmgr");
            assertThat(c.params()).containsExactly(Map.entry("dbname", "repmgr"));
        }

        @Test
        void queryParameters() {
            ConnInfo c = ConnInfo.parse("postgresql://u@h1:5433,h2:5434/db?connect_timeout=7&sslmode=require"
                    + "&application_name=repmgrd&target_session_attrs=read-write");
            assertThat(c.connectTimeoutSeconds()).contains(7);
            assertThat(c.get("sslmode")).contains("require");
            assertThat(c.get("application_name")).contains("repmgrd");
            assertThat(c.get("target_session_attrs")).contains("read-write");
        }

        @Test
        void sslTrueMeansSslmodeRequire() {
            assertThat(ConnInfo.parse("postgresql://h/db?ssl=true").get("sslmode")).contains("require");
        }

        @Test
        void emptyQueryAndEmptyPairsAreIgnored() {
            assertThat(ConnInfo.parse("postgresql://h/db?").params()).containsOnlyKeys("host", "dbname");
            assertThat(ConnInfo.parse("postgresql://h/db?&sslmode=disable&").get("sslmode")).contains("disable");
        }

        @Test
        void queryParameterWithoutValueIsBadConfig() {
            assertThat(badConfig("postgresql://h/db?sslmode").getMessage()).contains("sslmode");
        }

        @Test
        void badPortIsBadConfig() {
            assertThat(badConfig("postgresql://h:abc/db").getMessage()).contains("abc");
            badConfig("postgresql://h:70000/db");
            badConfig("postgresql://h:0/db");
        }

        @Test
        void badPercentEncodingIsBadConfig() {
            badConfig("postgresql://h/db%zz");
        }

        @Test
        void passwordWithQuestionMarkStaysInThePassword() {
            ConnInfo c = ConnInfo.parse("postgresql://u:pa?ss@h:5433/db?sslmode=disable");
            assertThat(c.password()).contains("pa?ss");
            assertThat(c.hosts()).containsExactly(new HostPort("h", 5433));
            assertThat(c.get("sslmode")).contains("disable");
        }

        @Test
        void passwordWithQuestionMarkAndNoPathStaysInThePassword() {
            ConnInfo c = ConnInfo.parse("postgresql://u:pa?ss@h");
            assertThat(c.password()).contains("pa?ss");
            assertThat(c.host()).isEqualTo("h");
        }

        @Test
        void emptyPassword() {
            assertThat(ConnInfo.parse("postgresql://u:@h/db").password()).contains("");
        }

        @Test
        void errorsInAUriNeverShowThePassword() {
            for (String uri : List.of(
                    "postgresql://u:" + SECRET + "@h:99999/db",
                    "postgresql://u:" + SECRET + "@[::1/db",
                    "postgresql://u:" + SECRET + "@h/db?x",
                    "postgresql://u:" + SECRET + "@h/d%zzb")) {
                assertThat(badConfig(uri).toReport()).as(uri).doesNotContain(SECRET);
            }
        }
    }

    @Nested
    class Defaults {

        @Test
        void hostAndPortDefaultToLocalhost5432() {
            ConnInfo c = ConnInfo.parse("dbname=repmgr");
            assertThat(c.hosts()).containsExactly(new HostPort("localhost", 5432));
            assertThat(c.host()).isEqualTo("localhost");
            assertThat(c.port()).isEqualTo(ConnInfo.DEFAULT_PORT);
        }

        @Test
        void hostaddrIsUsedWhenThereIsNoHost() {
            assertThat(ConnInfo.parse("hostaddr=10.0.0.1 port=6000").hosts())
                    .containsExactly(new HostPort("10.0.0.1", 6000));
        }

        @Test
        void onePortAppliesToEveryHost() {
            assertThat(ConnInfo.parse("host=a,b port=5433").hosts())
                    .containsExactly(new HostPort("a", 5433), new HostPort("b", 5433));
        }

        @Test
        void emptyHostOrPortEntriesTakeDefaults() {
            assertThat(ConnInfo.parse("host=a,,c port=5433,,").hosts()).containsExactly(
                    new HostPort("a", 5433), new HostPort("localhost", 5432), new HostPort("c", 5432));
        }

        @Test
        void hostPortCountMismatchIsBadConfig() {
            ConnInfo c = ConnInfo.parse("host=a,b,c port=1,2");
            assertThatThrownBy(c::hosts).isInstanceOf(ReplicationException.class)
                    .hasMessageContaining("3 hosts but 2 ports");
        }

        @Test
        void badPortInKeywordFormIsBadConfigWhenUsed() {
            ConnInfo c = ConnInfo.parse("host=a port=x");
            assertThatThrownBy(c::port).isInstanceOf(ReplicationException.class).hasMessageContaining("\"x\"");
        }

        @Test
        void userAndDbname() {
            ConnInfo none = ConnInfo.parse("host=a");
            assertThat(none.user()).isEmpty();
            assertThat(none.dbname()).isEmpty();
            ConnInfo userOnly = ConnInfo.parse("host=a user=repmgr");
            assertThat(userOnly.dbname()).as("libpq's default dbname is the user").contains("repmgr");
            assertThat(ConnInfo.parse("user=u dbname=d").dbname()).contains("d");
        }

        @Test
        void connectTimeout() {
            assertThat(ConnInfo.parse("host=a").connectTimeoutSeconds()).isEmpty();
            assertThat(ConnInfo.parse("connect_timeout=' 12 '").connectTimeoutSeconds()).contains(12);
            ConnInfo bad = ConnInfo.parse("connect_timeout=soon");
            assertThatThrownBy(bad::connectTimeoutSeconds).isInstanceOf(ReplicationException.class)
                    .satisfies(e -> assertThat(((ReplicationException) e).code()).isEqualTo(ErrorCode.BAD_CONFIG));
        }
    }

    @Nested
    class Rendering {

        static Stream<String> samples() {
            return Stream.of(
                    SEED,
                    "host=pg1 options='-c search_path=repmgr' application_name='my app'",
                    "password='it\\'s a \\\\ back' user=u",
                    "host=pg1 password='' user=u",
                    "password=a\\ b host=h",
                    "options=-cwork_mem=64MB",
                    "host='' dbname=x",
                    "postgresql://us%40er:p%40ss%2Fw%3Ard%20x@h1:5433,h2/my%20db?sslmode=require&application_name=a%26b",
                    "postgresql://[::1]:5433/db?target_session_attrs=read-write",
                    "postgres://u@pg1/db");
        }

        @ParameterizedTest
        @MethodSource("samples")
        void parseOfRenderIsTheSame(String s) {
            ConnInfo c = ConnInfo.parse(s);
            ConnInfo again = ConnInfo.parse(c.render());
            assertThat(again).isEqualTo(c);
            assertThat(again.params()).containsExactlyEntriesOf(c.params());
            assertThat(again.hashCode()).isEqualTo(c.hashCode());
        }

        @Test
        void renderQuotesOnlyWhenNeeded() {
            assertThat(ConnInfo.parse(SEED).render()).isEqualTo(SEED);
            Map<String, String> m = new LinkedHashMap<>();
            m.put("host", "pg1");
            m.put("application_name", "two words");
            m.put("password", "it's\\");
            m.put("sslrootcert", "");
            assertThat(ConnInfo.of(m).render())
                    .isEqualTo("host=pg1 application_name='two words' password='it\\'s\\\\' sslrootcert=''");
        }

        @Test
        void quote() {
            assertThat(ConnInfo.quote("plain")).isEqualTo("plain");
            assertThat(ConnInfo.quote("")).isEqualTo("''");
            assertThat(ConnInfo.quote("a b")).isEqualTo("'a b'");
            assertThat(ConnInfo.quote("a'b")).isEqualTo("'a\\'b'");
            assertThat(ConnInfo.quote("a\\b")).isEqualTo("'a\\\\b'");
        }

        @Test
        void equalityIgnoresKeywordOrder() {
            assertThat(ConnInfo.parse("host=a port=1")).isEqualTo(ConnInfo.parse("port=1 host=a"));
            assertThat(ConnInfo.parse("host=a port=1")).isNotEqualTo(ConnInfo.parse("host=a port=2"));
        }

        @Test
        void withAndWithout() {
            ConnInfo c = ConnInfo.parse("host=a port=1");
            assertThat(c.with("dbname", "x").render()).isEqualTo("host=a port=1 dbname=x");
            assertThat(c.with("port", "2").render()).isEqualTo("host=a port=2");
            assertThat(c.without("port").render()).isEqualTo("host=a");
            assertThat(c.render()).as("unchanged").isEqualTo("host=a port=1");
        }

        @Test
        void keywordsThatCannotBeWrittenBackAreRefused() {
            ConnInfo c = ConnInfo.parse("host=a");
            assertThatThrownBy(() -> c.with("bad key", "x")).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> c.with("a=b", "x")).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> c.with("", "x")).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> ConnInfo.of(Map.of("it's", "x"))).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> ConnInfo.of(Map.of(" ", "x"))).isInstanceOf(IllegalArgumentException.class);
            Map<String, String> nullValue = new LinkedHashMap<>();
            nullValue.put("host", null);
            assertThatThrownBy(() -> ConnInfo.of(nullValue)).isInstanceOf(IllegalArgumentException.class);
        }

        @Test
        void paramsAreUnmodifiable() {
            assertThatThrownBy(() -> ConnInfo.parse("host=a").params().put("x", "y"))
                    .isInstanceOf(UnsupportedOperationException.class);
        }
    }

    @Nested
    class Masking {

        @Test
        void maskedAndToStringHideThePassword() {
            ConnInfo c = ConnInfo.parse("host=pg1 user=repmgr password=" + SECRET + " dbname=repmgr");
            assertThat(c.masked()).isEqualTo("host=pg1 user=repmgr password=" + ConnInfo.MASK + " dbname=repmgr");
            assertThat(c.toString()).isEqualTo(c.masked()).doesNotContain(SECRET);
            assertThat(c.render()).contains(SECRET);
        }

        @Test
        void maskedHidesAPasswordThatCameFromAUri() {
            ConnInfo c = ConnInfo.parse("postgresql://repmgr:" + SECRET + "@pg1:5433/repmgr");
            assertThat(c.masked()).doesNotContain(SECRET).contains("password=" + ConnInfo.MASK);
            assertThat(c.toString()).doesNotContain(SECRET);
        }

        @Test
        void maskedHidesAQuotedPasswordWithSpaces() {
            ConnInfo c = ConnInfo.parse("host=pg1 password='two " + SECRET + "'");
            assertThat(c.masked()).isEqualTo("host=pg1 password=" + ConnInfo.MASK);
        }

        @Test
        void maskedHidesSslpasswordToo() {
            ConnInfo c = ConnInfo.parse("host=pg1 sslpassword=" + SECRET);
            assertThat(c.masked()).doesNotContain(SECRET);
            assertThat(c.maskIn("key pass " + SECRET)).isEqualTo("key pass " + ConnInfo.MASK);
        }

        @Test
        void maskInReplacesEveryOccurrence() {
            ConnInfo c = ConnInfo.parse("host=pg1 password=" + SECRET);
            assertThat(c.maskIn("FATAL: " + SECRET + " and " + SECRET))
                    .isEqualTo("FATAL: " + ConnInfo.MASK + " and " + ConnInfo.MASK);
        }

        @Test
        void maskInCoversTheRenderedAndTheUriForms() {
            String pw = "it's a/b@c";
            ConnInfo c = ConnInfo.of(Map.of("host", "pg1", "password", pw));
            assertThat(c.maskIn(c.render())).doesNotContain("it").doesNotContain("a/b@c");
            assertThat(c.maskIn("postgresql://u:it%27s+a%2Fb%40c@pg1/db")).doesNotContain("a%2Fb");
            assertThat(c.maskIn("postgresql://u:it%27s%20a%2Fb%40c@pg1/db")).doesNotContain("a%2Fb");
        }

        @Test
        void maskInWithoutPasswordChangesNothing() {
            ConnInfo c = ConnInfo.parse("host=pg1");
            assertThat(c.maskIn("text")).isEqualTo("text");
            assertThat(c.maskIn(null)).isNull();
            assertThat(ConnInfo.parse("host=pg1 password=''").maskIn("text")).isEqualTo("text");
        }
    }
}

package io.repmgr4j.core.host;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The one host comparison of the library (the attachment checks and the daemon's WAL receiver check use it). */
class HostsTest {

    @Test
    void namesAddressesAndLoopback() {
        assertThat(Hosts.sameHost("DB1.example", "db1.example")).isTrue();
        assertThat(Hosts.sameHost("127.0.0.1", "localhost")).isTrue();
        assertThat(Hosts.sameHost("127.0.0.1", "127.0.0.2")).as("both loopback").isTrue();
        assertThat(Hosts.sameHost("127.0.0.1", "10.231.1.1")).isFalse();
        assertThat(Hosts.sameHost("no-such-host.invalid", "127.0.0.1")).isFalse();
    }

    @Test
    void socketDirectoriesEqualOnlyThemselves() {
        assertThat(Hosts.sameHost("/tmp/sock", "/tmp/sock")).isTrue();
        assertThat(Hosts.sameHost("/tmp/sock", "localhost")).isFalse();
        assertThat(Hosts.sameHost(null, "localhost")).isFalse();
    }
}

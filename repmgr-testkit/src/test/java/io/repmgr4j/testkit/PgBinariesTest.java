package io.repmgr4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class PgBinariesTest {

    @Test
    void findsTheServerPrograms() {
        Path bin = PgBinaries.locate();
        assertThat(bin.resolve("initdb")).isExecutable();
        assertThat(bin.resolve("pg_ctl")).isExecutable();
    }

    @Test
    void aWrongConfiguredDirectoryIsReportedWithWhatToInstall() {
        String before = System.getProperty(PgBinaries.BINDIR_PROPERTY);
        System.setProperty(PgBinaries.BINDIR_PROPERTY, "/nonexistent/pg/bin");
        try {
            assertThatThrownBy(PgBinaries::locate)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("/nonexistent/pg/bin")
                    .hasMessageContaining("apt-get install postgresql-15");
        } finally {
            if (before == null) {
                System.clearProperty(PgBinaries.BINDIR_PROPERTY);
            } else {
                System.setProperty(PgBinaries.BINDIR_PROPERTY, before);
            }
        }
    }
}

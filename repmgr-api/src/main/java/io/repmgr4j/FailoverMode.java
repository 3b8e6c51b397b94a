package io.repmgr4j;

/** repmgr.conf's {@code failover}: whether the daemon may promote or follow on its own. */
public enum FailoverMode {
    MANUAL, AUTOMATIC
}

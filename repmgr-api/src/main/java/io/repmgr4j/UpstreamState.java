package io.repmgr4j;

/** Whether {@code cluster show} could confirm a standby streams from its registered upstream. */
public enum UpstreamState {
    /** No upstream: a primary. */
    NONE(""),
    /** Attached and streaming from the registered upstream. */
    ATTACHED(""),
    /** Could not tell: the node or its upstream could not be reached. */
    UNKNOWN("? "),
    /** Reached both, and the node is not streaming from the registered upstream. */
    NOT_ATTACHED("! ");

    private final String marker;

    UpstreamState(String marker) {
        this.marker = marker;
    }

    /** The prefix repmgr puts before the upstream's name. */
    public String marker() {
        return marker;
    }
}

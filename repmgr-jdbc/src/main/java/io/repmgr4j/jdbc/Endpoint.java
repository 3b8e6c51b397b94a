package io.repmgr4j.jdbc;

/** One server address (host and port) of the cluster. Immutable; thread-safe. */
record Endpoint(String host, int port) {
    @Override
    public String toString() {
        return host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
    }
}

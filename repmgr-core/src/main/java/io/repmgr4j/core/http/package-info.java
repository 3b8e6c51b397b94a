/**
 * The daemon's HTTP health endpoints: Patroni-compatible paths ({@code /primary},
 * {@code /replica}, {@code /health}, ...) answered from the daemon's state, on the JDK's
 * built-in HTTP server. Internal; the daemon starts and stops the server.
 */
package io.repmgr4j.core.http;

/**
 * Reaching a node's host over SSH: {@link io.repmgr4j.core.ssh.SshCommandRunner} (the
 * {@link io.repmgr4j.spi.CommandRunner} for nodes on other machines, on JSch),
 * {@link io.repmgr4j.core.ssh.SshOptions} (host, port, user, keys, known_hosts, timeouts),
 * {@link io.repmgr4j.core.ssh.SshConfigOptions} (repmgr.conf's {@code ssh_options}) and
 * {@link io.repmgr4j.core.ssh.ShellQuote} (the one POSIX quoting function).
 */
package io.repmgr4j.core.ssh;

package io.repmgr4j.sql;

import io.repmgr4j.Lsn;

/**
 * What {@code IDENTIFY_SYSTEM} on a replication connection answers: the database system
 * identifier, the server's current timeline and how far its WAL goes (flushed on a
 * primary, replayed on a standby). Immutable; thread-safe.
 *
 * @param systemIdentifier equal on a primary and every standby cloned from it
 * @param timeline the timeline the server is on now
 * @param xlogPos the server's WAL position
 */
public record SystemIdentity(long systemIdentifier, int timeline, Lsn xlogPos) {
}

package io.repmgr4j;

/**
 * Told how far a standby clone's copy is, as pg_basebackup reports it (about once a
 * second): bytes copied so far and the estimated total, which may grow while the copy
 * runs. Called from the thread that reads pg_basebackup's output.
 *
 * <p>Contract: return fast, never block, never throw (anything thrown is ignored).
 * Implementations must be thread-safe.
 */
@FunctionalInterface
public interface CloneProgressListener {

    /** A listener that does nothing. */
    CloneProgressListener NONE = (done, total) -> { };

    /**
     * @param bytesDone bytes copied so far
     * @param bytesTotal the estimated size of the copy, at least {@code bytesDone}
     */
    void onProgress(long bytesDone, long bytesTotal);
}

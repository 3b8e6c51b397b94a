package io.repmgr4j.spi;

import io.repmgr4j.EventRecord;

/**
 * Told of every event the library records (the same rows as {@code repmgr.events}).
 * Contract: return fast, never block the caller, never throw; the library logs and
 * ignores anything thrown. Implementations must be thread-safe.
 */
@FunctionalInterface
public interface EventListener {

    /** A listener that does nothing. */
    EventListener NONE = event -> { };

    /** Called after an event was recorded (or could not be stored, then with the event as built). */
    void onEvent(EventRecord event);
}

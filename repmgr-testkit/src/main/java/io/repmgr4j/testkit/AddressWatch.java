package io.repmgr4j.testkit;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Watches where an address (a virtual IP) is among some {@link NetNode}s: a background
 * thread reads every node's addresses in turn, as fast as {@code ip} answers, and counts the
 * samples and those that found the address on more than one node (which must never happen).
 * Closing stops the thread. Thread-safe.
 */
public final class AddressWatch implements AutoCloseable {
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong samples = new AtomicLong();
    private final AtomicLong onTwo = new AtomicLong();
    private final Thread thread;

    private AddressWatch(List<NetNode> nodes, String address) {
        thread = new Thread(() -> {
            while (running.get()) {
                int holders = 0;
                for (NetNode n : nodes) {
                    holders += n.hasAddress(address) ? 1 : 0;
                }
                samples.incrementAndGet();
                if (holders > 1) {
                    onTwo.incrementAndGet();
                }
            }
        }, "address-watch-" + address);
        thread.setDaemon(true);
    }

    /** Starts watching {@code address} on {@code nodes}. */
    public static AddressWatch start(List<NetNode> nodes, String address) {
        AddressWatch w = new AddressWatch(List.copyOf(nodes), address);
        w.thread.start();
        return w;
    }

    /** Samples taken so far (each reads every node once). */
    public long samples() {
        return samples.get();
    }

    /** Samples that found the address on two or more nodes. */
    public long samplesOnTwo() {
        return onTwo.get();
    }

    /** Stops the thread and waits up to 5 s for its last sample. */
    @Override
    public void close() {
        running.set(false);
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

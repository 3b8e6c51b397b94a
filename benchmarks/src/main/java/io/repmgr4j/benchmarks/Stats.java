package io.repmgr4j.benchmarks;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Small statistics helpers shared by the benchmarks. Stateless; thread-safe. */
final class Stats {
    private Stats() {
    }

    /** The median of the values (the mean of the middle two for an even count). */
    static double median(List<Long> values) {
        if (values.isEmpty()) {
            throw new IllegalArgumentException("no values");
        }
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2.0;
    }

    /** Prints one figure in the name=value form the benchmark runner reads. */
    static void figure(String name, double value) {
        System.out.println(name + "=" + (value == Math.rint(value) ? String.valueOf((long) value) : String.format("%.1f", value)));
    }
}

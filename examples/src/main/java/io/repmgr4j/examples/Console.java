package io.repmgr4j.examples;

/** How the examples print what they are about to do. Stateless; thread-safe. */
final class Console {
    private Console() {
    }

    /** Prints a blank line and {@code ==> what}. */
    static void say(String what) {
        System.out.println();
        System.out.println("==> " + what);
    }
}

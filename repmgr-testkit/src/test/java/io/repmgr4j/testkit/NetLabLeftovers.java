package io.repmgr4j.testkit;

import java.util.List;
import java.util.Map;

/**
 * A program for {@link NetLabTest}: builds a lab with one node running {@code sleep}, prints
 * the node's namespace and the sleeper's pid, and waits to be killed, so that the test can
 * check what the next lab removes after a JVM that died without closing its lab.
 */
final class NetLabLeftovers {
    private NetLabLeftovers() {
    }

    public static void main(String[] args) throws Exception {
        NetLab lab = NetLab.create();
        NetNode n = lab.node("left");
        NetProcess p = n.start("sleep", List.of("sleep", "600"), Map.of(), lab.directory().resolve("sleep.log"));
        System.out.println("READY " + n.netns() + " " + p.pid());
        System.out.flush();
        Thread.sleep(600_000);
    }
}

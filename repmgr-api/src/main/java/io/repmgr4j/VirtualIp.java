package io.repmgr4j;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A node's virtual IP as repmgr.conf gives it ({@code vip = 10.0.0.100/24},
 * {@code vip_interface = eth0}), checked: an IPv4 address, a prefix 1 to 32, an interface
 * name as Linux allows it (1 to 15 characters, no {@code /}, blanks or {@code :}).
 * Immutable; thread-safe.
 *
 * @param address the IPv4 address ({@code 10.0.0.100})
 * @param prefix the prefix length ({@code 24})
 * @param iface the interface ({@code eth0})
 */
public record VirtualIp(String address, int prefix, String iface) {
    private static final Pattern CIDR = Pattern.compile("([0-9]{1,3})\\.([0-9]{1,3})\\.([0-9]{1,3})\\.([0-9]{1,3})/([0-9]{1,2})");
    private static final Pattern IFACE = Pattern.compile("[A-Za-z0-9_.@-]{1,15}");

    /** {@code address/prefix}, as {@code ip addr} takes it. */
    public String cidr() {
        return address + "/" + prefix;
    }

    /**
     * The node's virtual IP, when it has one.
     *
     * @throws ReplicationException {@code BAD_CONFIG} when {@code vip} or {@code vip_interface}
     *     is invalid, or one is set without the other
     */
    public static Optional<VirtualIp> of(NodeConfig node) {
        return parse(node.vip(), node.vipInterface());
    }

    static Optional<VirtualIp> parse(Optional<String> vip, Optional<String> iface) {
        if (vip.isEmpty() && iface.isEmpty()) {
            return Optional.empty();
        }
        if (vip.isEmpty() || iface.isEmpty()) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, (vip.isEmpty() ? "vip_interface" : "vip") + " is set, but "
                    + (vip.isEmpty() ? "vip" : "vip_interface") + " is not", "the daemon adds the vip to vip_interface",
                    "set both (vip = 10.0.0.100/24, vip_interface = eth0), or neither");
        }
        Matcher m = CIDR.matcher(vip.get().trim());
        boolean ok = m.matches();
        for (int i = 1; ok && i <= 4; i++) {
            ok = Integer.parseInt(m.group(i)) <= 255;
        }
        int prefix = ok ? Integer.parseInt(m.group(5)) : -1;
        if (!ok || prefix < 1 || prefix > 32) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "invalid value \"" + vip.get() + "\" for \"vip\"",
                    "vip is an IPv4 address with its prefix length, ADDR/PREFIX", "write it as 10.0.0.100/24");
        }
        if (!IFACE.matcher(iface.get()).matches()) {
            throw new ReplicationException(ErrorCode.BAD_CONFIG, "invalid value \"" + iface.get() + "\" for \"vip_interface\"",
                    "an interface name is 1 to 15 letters, digits or . _ - @", "give the interface as ip link lists it");
        }
        String addr = m.group(1) + "." + m.group(2) + "." + m.group(3) + "." + m.group(4);
        return Optional.of(new VirtualIp(addr, prefix, iface.get()));
    }
}

package io.repmgr4j.spi;

import io.repmgr4j.ConsensusConfig;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import java.time.Duration;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * A distributed consensus store that decides who may be the cluster's primary: a leader key
 * held under a lease (etcd, in module {@code repmgr-etcd}). The key names the leader; its
 * creation revision is the leader's term, so every new leader has a higher term than the one
 * before. A failover daemon with a store promotes only after {@link #campaign winning} the
 * key, renews it while its server is primary, and fences its server before the lease can
 * expire when it cannot renew. Cluster-wide state (the pause flag) lives there too, so it
 * can be read and changed while the primary is down.
 *
 * <p>Without a store (the default, {@code consensus = peers}) the daemon's built-in peer
 * voting decides, as before: a quorum of the nodes and the witness, the voting term in the
 * metadata. That built-in voting is not an implementation of this interface: it is spread
 * over the daemon's election and isolation watch, and an absent store means "use it".
 *
 * <p>Every call returns or throws within the store's configured timeout.
 * {@link ConsensusException} with {@link ConsensusException#unavailable()} true means the
 * store did not answer in time (the outcome of a write is then unknown); anything else it
 * throws is a clear refusal. Implementations are thread-safe; {@link #close()} is idempotent.
 */
public interface ConsensusStore extends AutoCloseable {

    /**
     * Opens an etcd store through the {@link ConsensusStoreProvider} of kind {@code etcd} on
     * the class path (module {@code repmgr-etcd}).
     *
     * @throws ReplicationException BAD_CONFIG when no such provider is on the class path
     */
    static ConsensusStore open(ConsensusConfig config) {
        for (ConsensusStoreProvider p : ServiceLoader.load(ConsensusStoreProvider.class,
                ConsensusStore.class.getClassLoader())) {
            if (p.kind().equals("etcd")) {
                return p.open(config);
            }
        }
        throw new ReplicationException(ErrorCode.BAD_CONFIG, "consensus = etcd, but no etcd consensus store is on the class path",
                "the etcd store is in the optional module io.repmgr4j:repmgr-etcd",
                "add repmgr-etcd to the class path, or set consensus = peers");
    }

    /** A short name of the store for logs and status ({@code etcd}). */
    String kind();

    /** The lease length a campaign asks for; a leader must renew well within it. */
    Duration ttl();

    /**
     * Who holds the leader key now.
     *
     * @return the leader's name and term, empty when nobody holds the key
     */
    Optional<Leader> leader();

    /**
     * Tries to take the leader key for {@code candidate}: in one atomic step, creates the key
     * if it does not exist, attached to a new lease of {@link #ttl()}; when the key exists
     * nothing is written.
     *
     * When the key already names {@code candidate} (its daemon restarted while the lease
     * ran), the existing lease is renewed and returned: one name is one contender.
     *
     * @param candidate the name stored as the leader (a node name); 1 to 200 characters
     * @return the leadership won, empty when another candidate holds the key (the lease this
     *     call granted is revoked again)
     */
    Optional<Leadership> campaign(String candidate);

    /**
     * Renews the lease of a leadership this store granted.
     *
     * @return the same leadership with a later {@link Leadership#validUntilNanos()}
     * @throws ConsensusException when the lease or key is gone or the key names another
     *     leader ({@link ConsensusException#lost()}), or the store did not answer in time
     */
    Leadership renew(Leadership held);

    /**
     * Gives the key up at once (deletes it when it still belongs to {@code held}, then
     * revokes the lease), so another candidate does not wait for the lease to expire.
     * Nothing happens when the key is already gone or held by another.
     */
    void resign(Leadership held);

    /** Whether automatic failover is paused cluster-wide. */
    boolean paused();

    /** Sets or clears the cluster-wide pause flag. */
    void setPaused(boolean paused);

    /** Releases the connections; does not resign (a lease then runs out by itself). */
    @Override
    void close();

    /**
     * The holder of the leader key.
     *
     * @param name what the leader stored (its node name)
     * @param term the key's creation revision: higher for every later leader
     */
    record Leader(String name, long term) {
    }
}

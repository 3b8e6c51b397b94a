package io.repmgr4j.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Lease;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.lease.LeaseGrantResponse;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.repmgr4j.ConsensusConfig;
import io.repmgr4j.ErrorCode;
import io.repmgr4j.ReplicationException;
import io.repmgr4j.spi.ConsensusException;
import io.repmgr4j.spi.ConsensusStore;
import io.repmgr4j.spi.Leadership;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link ConsensusStore} on etcd v3, through jetcd: the leader key
 * {@code <prefix>/<cluster>/leader} is created in a transaction that succeeds only while the
 * key does not exist (create revision 0), attached to a lease of {@code ttl}; its creation
 * revision is the term; renewing is one lease keep-alive plus a read that checks the key is
 * still this lease's; resigning revokes the lease, which deletes the key with it. The pause
 * flag is the key {@code <prefix>/<cluster>/paused}. Every call waits at most the configured
 * timeout (the future is cancelled after it). The password is handed to jetcd only, never
 * logged. Thread-safe.
 */
public final class EtcdConsensusStore implements ConsensusStore {
    private static final Logger LOG = LoggerFactory.getLogger(EtcdConsensusStore.class);
    private static final int MAX_NAME = 200;

    private final ConsensusConfig config;
    private final Client client;
    private final KV kv;
    private final Lease leases;
    private final ByteSequence leaderKey;
    private final ByteSequence pausedKey;
    private final String where;

    private EtcdConsensusStore(ConsensusConfig config, Client client) {
        this.config = config;
        this.client = client;
        this.kv = client.getKVClient();
        this.leases = client.getLeaseClient();
        this.leaderKey = bytes(config.leaderKey());
        this.pausedKey = bytes(config.pausedKey());
        this.where = config.endpoints().stream().map(u -> u.getHost() + ":" + u.getPort()).collect(Collectors.joining(","));
    }

    /**
     * Connects to etcd (lazily: no call is made here) with the endpoints, TLS files and
     * login of {@code config}.
     *
     * @throws ReplicationException BAD_CONFIG when a TLS file cannot be read
     */
    public static EtcdConsensusStore open(ConsensusConfig config) {
        ClientBuilder b = Client.builder()
                .endpoints(config.endpoints().toArray(new java.net.URI[0]))
                .loadBalancerPolicy("round_robin")
                .connectTimeout(config.timeout())
                .keepaliveTime(Duration.ofSeconds(5))
                .keepaliveTimeout(config.timeout())
                .retryMaxDuration(config.timeout())
                .retryMaxAttempts(2)
                .retryDelay(50)
                .retryMaxDelay(200);
        config.user().ifPresent(u -> b.user(bytes(u)));
        config.password().ifPresent(p -> b.password(bytes(p)));
        if (config.tls()) {
            for (var f : List.of(config.caFile(), config.certFile(), config.keyFile())) {
                if (f.isPresent() && !Files.isReadable(f.get())) {
                    throw new ReplicationException(ErrorCode.BAD_CONFIG, "cannot read etcd TLS file " + f.get(),
                            "the file does not exist or this process may not read it",
                            "correct etcd_ca_file, etcd_cert_file or etcd_key_file");
                }
            }
            try {
                b.sslContext(ssl -> {
                    config.caFile().ifPresent(ca -> ssl.trustManager(ca.toFile()));
                    if (config.certFile().isPresent()) {
                        ssl.keyManager(config.certFile().get().toFile(), config.keyFile().orElseThrow().toFile());
                    }
                });
            } catch (SSLException | RuntimeException e) {
                throw new ReplicationException(ErrorCode.BAD_CONFIG, "cannot set up TLS for etcd", e.getMessage(),
                        "check that etcd_ca_file and etcd_cert_file are PEM certificates and etcd_key_file a PKCS#8 PEM key", e);
            }
        }
        EtcdConsensusStore s = new EtcdConsensusStore(config, b.build());
        LOG.info("etcd consensus store at {} (key {}, lease {} s, call timeout {} ms{}{})", s.where, config.leaderKey(),
                config.ttl().getSeconds(), config.timeout().toMillis(), config.tls() ? ", TLS" : "",
                config.user().map(u -> ", user " + u).orElse(""));
        return s;
    }

    @Override
    public String kind() {
        return "etcd";
    }

    @Override
    public Duration ttl() {
        return config.ttl();
    }

    @Override
    public Optional<Leader> leader() {
        GetResponse r = await(kv.get(leaderKey), "reading the leader key");
        return r.getKvs().stream().findFirst().map(k -> new Leader(text(k.getValue()), k.getCreateRevision()));
    }

    @Override
    public Optional<Leadership> campaign(String candidate) {
        if (candidate == null || candidate.isBlank() || candidate.length() > MAX_NAME) {
            throw new IllegalArgumentException("a candidate's name is 1 to " + MAX_NAME + " characters");
        }
        long sent = System.nanoTime();
        LeaseGrantResponse grant = await(leases.grant(config.ttl().getSeconds()), "granting a lease");
        long leaseId = grant.getID();
        long validUntil = sent + TimeUnit.SECONDS.toNanos(grant.getTTL());
        TxnResponse txn;
        try {
            txn = await(kv.txn()
                    .If(new Cmp(leaderKey, Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
                    .Then(Op.put(leaderKey, bytes(candidate), PutOption.builder().withLeaseId(leaseId).build()))
                    .Else(Op.get(leaderKey, GetOption.DEFAULT))
                    .commit(), "creating the leader key");
        } catch (ConsensusException e) {
            // outcome unknown: revoking the lease removes the key if the transaction did create it
            revokeQuietly(leaseId);
            throw e;
        }
        if (txn.isSucceeded()) {
            long term = txn.getHeader().getRevision();
            LOG.info("{} took the leader key {} (term {}, lease {})", candidate, config.leaderKey(), term, Long.toHexString(leaseId));
            return Optional.of(new Leadership(candidate, term, leaseId, validUntil));
        }
        revokeQuietly(leaseId);
        Optional<KeyValue> existing = txn.getGetResponses().stream().flatMap(g -> g.getKvs().stream()).findFirst();
        if (existing.isPresent() && text(existing.get().getValue()).equals(candidate) && existing.get().getLease() != 0) {
            // the key is this candidate's already (its daemon restarted): adopt its lease
            KeyValue k = existing.get();
            Leadership adopted = renew(new Leadership(candidate, k.getCreateRevision(), k.getLease(), System.nanoTime()));
            LOG.info("{} holds the leader key {} already (term {}): its lease is renewed", candidate, config.leaderKey(),
                    adopted.term());
            return Optional.of(adopted);
        }
        String holder = existing.map(k -> text(k.getValue()) + " (term " + k.getCreateRevision() + ")").orElse("another candidate");
        LOG.info("{} did not take the leader key {}: {} holds it", candidate, config.leaderKey(), holder);
        return Optional.empty();
    }

    @Override
    public Leadership renew(Leadership held) {
        long sent = System.nanoTime();
        LeaseKeepAliveResponse k;
        try {
            k = await(leases.keepAliveOnce(held.leaseId()), "renewing the leader lease");
        } catch (ConsensusException e) {
            if (e.lost()) {
                throw lost(held, "its lease is gone (expired or revoked)");
            }
            throw e;
        }
        if (k.getTTL() <= 0) {
            throw lost(held, "its lease expired");
        }
        long validUntil = sent + TimeUnit.SECONDS.toNanos(k.getTTL());
        GetResponse r = await(kv.get(leaderKey), "reading the leader key");
        Optional<KeyValue> now = r.getKvs().stream().findFirst();
        if (now.isEmpty()) {
            throw lost(held, "the leader key is gone");
        }
        KeyValue kv0 = now.get();
        if (kv0.getCreateRevision() != held.term() || kv0.getLease() != held.leaseId()) {
            throw lost(held, "the key names " + text(kv0.getValue()) + " (term " + kv0.getCreateRevision() + ")");
        }
        return held.validUntil(validUntil);
    }

    @Override
    public void resign(Leadership held) {
        revoke(held.leaseId());
        LOG.info("{} resigned the leader key {} (term {})", held.name(), config.leaderKey(), held.term());
    }

    @Override
    public boolean paused() {
        GetResponse r = await(kv.get(pausedKey), "reading the pause flag");
        return r.getKvs().stream().findFirst().map(k -> text(k.getValue()).equals("true")).orElse(false);
    }

    @Override
    public void setPaused(boolean paused) {
        if (paused) {
            await(kv.put(pausedKey, bytes("true")), "setting the pause flag");
        } else {
            await(kv.delete(pausedKey), "clearing the pause flag");
        }
    }

    @Override
    public void close() {
        client.close();
    }

    @Override
    public String toString() {
        return "EtcdConsensusStore[" + where + ", " + config.leaderKey() + "]";
    }

    // ---------------------------------------------------------------- internals

    private void revoke(long leaseId) {
        try {
            await(leases.revoke(leaseId), "revoking the leader lease");
        } catch (ConsensusException e) {
            if (!e.lost()) {
                throw e;
            }
            // already gone: nothing to give up
        }
    }

    private void revokeQuietly(long leaseId) {
        try {
            revoke(leaseId);
        } catch (ConsensusException e) {
            LOG.debug("could not revoke lease {} (it expires by itself): {}", Long.toHexString(leaseId), e.getMessage());
        }
    }

    private ConsensusException lost(Leadership held, String why) {
        return new ConsensusException(ConsensusException.Reason.LOST, held.name() + " no longer holds the leader key "
                + config.leaderKey() + " (term " + held.term() + ")", why,
                "stop accepting writes; campaign again only as a standby that wins the election", null);
    }

    private <T> T await(CompletableFuture<T> f, String what) {
        long ms = config.timeout().toMillis();
        try {
            return f.get(ms, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new ConsensusException(ConsensusException.Reason.UNAVAILABLE, "etcd did not answer within " + ms
                    + " ms while " + what, "endpoints " + where + ": no member answered, or the members have no quorum",
                    "check that a majority of the etcd members run and are reachable from this host", e);
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new ConsensusException(ConsensusException.Reason.UNAVAILABLE, "interrupted while " + what, null, null, e);
        } catch (ExecutionException e) {
            throw translate(e.getCause() == null ? e : e.getCause(), what);
        }
    }

    private ConsensusException translate(Throwable t, String what) {
        Status.Code code = null;
        for (Throwable c = t; c != null && code == null; c = c.getCause()) {
            if (c instanceof StatusRuntimeException s) {
                code = s.getStatus().getCode();
            } else if (c instanceof io.grpc.StatusException s) {
                code = s.getStatus().getCode();
            } else if (c instanceof EtcdException ee) {
                code = Status.Code.valueOf(ee.getErrorCode().name());
            }
        }
        String msg = String.valueOf(t.getMessage());
        if (code == Status.Code.NOT_FOUND || msg.contains("requested lease not found")) {
            return new ConsensusException(ConsensusException.Reason.LOST, "etcd: lease not found while " + what, msg, null, t);
        }
        if (code == null || code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED
                || code == Status.Code.CANCELLED || code == Status.Code.UNKNOWN) {
            return new ConsensusException(ConsensusException.Reason.UNAVAILABLE, "etcd unavailable while " + what,
                    "endpoints " + where + ": " + msg,
                    "check that a majority of the etcd members run and are reachable from this host", t);
        }
        String hint = code == Status.Code.PERMISSION_DENIED || code == Status.Code.UNAUTHENTICATED
                || code == Status.Code.INVALID_ARGUMENT && msg.contains("authentication")
                ? "check etcd_user and etcd_password, and that the user's role may read and write " + config.prefix() + "/"
                : null;
        return new ConsensusException(ConsensusException.Reason.REFUSED, "etcd refused " + what, code + ": " + msg, hint, t);
    }

    private static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    private static String text(ByteSequence b) {
        return b.toString(StandardCharsets.UTF_8);
    }
}

package io.repmgr4j.testkit.junit;

import io.repmgr4j.ReplicationCluster;
import io.repmgr4j.SyncMode;
import io.repmgr4j.spi.ReplicationClusterFactory;
import io.repmgr4j.testkit.PgNode;
import io.repmgr4j.testkit.ReplicaSet;
import io.repmgr4j.testkit.ReplicaSets;
import io.repmgr4j.testkit.spi.ReplicaSetSpec;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestInstancePostProcessor;
import org.junit.platform.commons.support.AnnotationSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JUnit 5 extension behind {@link PgReplicaSetTest}: chooses the backend
 * ({@link ReplicaSets#choose}), starts the replica set (per class in {@code beforeAll}, per
 * method in {@code beforeEach}), injects it, its nodes and its {@link ReplicationCluster}
 * handle into parameters and fields, and closes handle and set in
 * {@code afterAll}/{@code afterEach}, which JUnit runs whether the tests passed or failed.
 * Handle and set are also kept in JUnit's store as a closeable resource, so they are closed
 * even when a later callback of another extension throws. Fields are injected on each test
 * instance (static fields once per class). Thread-safe: state lives in JUnit's extension store.
 */
public final class PgReplicaSetExtension implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback,
        AfterEachCallback, TestInstancePostProcessor, ParameterResolver {
    private static final Logger LOG = LoggerFactory.getLogger(PgReplicaSetExtension.class);
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(PgReplicaSetExtension.class);
    private static final String KEY = "replica-set";

    /** Created by JUnit through {@link PgReplicaSetTest}'s {@code @ExtendWith}. */
    public PgReplicaSetExtension() {
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        PgReplicaSetTest config = config(context);
        if (config.lifecycle() == PgReplicaSetTest.Lifecycle.PER_CLASS) {
            Resource r = start(config, context.getRequiredTestClass().getSimpleName(), context);
            context.getStore(NS).put(KEY, r);
            injectFields(context.getRequiredTestClass(), null, r, true);
        }
    }

    @Override
    public void postProcessTestInstance(Object testInstance, ExtensionContext context) {
        // PER_CLASS: the set exists already; PER_METHOD: fields are injected in beforeEach
        find(context).ifPresent(r -> injectFields(testInstance.getClass(), testInstance, r, false));
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        PgReplicaSetTest config = config(context);
        if (config.lifecycle() == PgReplicaSetTest.Lifecycle.PER_METHOD) {
            Resource r = start(config, context.getRequiredTestClass().getSimpleName() + "."
                    + context.getRequiredTestMethod().getName(), context);
            context.getStore(NS).put(KEY, r);
            injectFields(context.getRequiredTestClass(), null, r, true);
        }
        // every lifecycle: a test instance made before the set existed (@TestInstance(PER_CLASS)) gets it now
        Object instance = context.getRequiredTestInstance();
        find(context).ifPresent(r -> injectFields(instance.getClass(), instance, r, false));
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (config(context).lifecycle() == PgReplicaSetTest.Lifecycle.PER_METHOD) {
            closeIn(context);
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (config(context).lifecycle() == PgReplicaSetTest.Lifecycle.PER_CLASS) {
            closeIn(context);
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return injectable(parameterContext.getParameter().getType());
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        Resource r = find(extensionContext).orElseThrow(() -> new ParameterResolutionException(
                "no replica set is running for " + parameterContext.getDeclaringExecutable()
                        + ": with lifecycle PER_METHOD, the constructor and @BeforeAll methods run before it is started;"
                        + " take it as a parameter of the test method or of a @BeforeEach method instead"));
        try {
            return value(r, parameterContext.getParameter().getType(),
                    parameterContext.findAnnotation(Node.class).map(Node::value).orElse(1),
                    parameterContext.getParameter().toString());
        } catch (IllegalStateException | IllegalArgumentException e) {
            throw new ParameterResolutionException(e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------ internals

    private static boolean injectable(Class<?> type) {
        return type == ReplicationCluster.class || ReplicaSet.class.isAssignableFrom(type)
                || PgNode.class.isAssignableFrom(type);
    }

    /** What a parameter or field of {@code type} receives; {@code node} is its {@link Node} number (1 without). */
    private static Object value(Resource r, Class<?> type, int node, String target) {
        if (type == ReplicationCluster.class) {
            return r.cluster();
        }
        Object value;
        if (ReplicaSet.class.isAssignableFrom(type)) {
            value = r.set;
        } else {
            if (node < 1 || node > r.set.nodes().size()) {
                throw new IllegalArgumentException("@Node(" + node + ") on " + target + ": the replica set has nodes 1 to "
                        + r.set.nodes().size());
            }
            value = r.set.node(node);
        }
        if (!type.isInstance(value)) {
            throw new IllegalStateException(target + " is a " + type.getSimpleName() + ", but this replica set runs on"
                    + " backend " + r.set.backend() + " (" + r.why + "), whose " + (value instanceof ReplicaSet ? "set is a "
                    : "nodes are ") + value.getClass().getSimpleName() + ". Declare it as "
                    + (value instanceof ReplicaSet ? "ReplicaSet" : "PgNode") + " to run on either backend, or say"
                    + " @PgReplicaSetTest(backend = ...) to pin the backend");
        }
        return value;
    }

    private static PgReplicaSetTest config(ExtensionContext context) {
        return AnnotationSupport.findAnnotation(context.getRequiredTestClass(), PgReplicaSetTest.class)
                .orElseThrow(() -> new ExtensionConfigurationException("PgReplicaSetExtension needs @PgReplicaSetTest on "
                        + context.getRequiredTestClass().getName() + " (it says how many nodes to start)"));
    }

    /** Checks the annotation, chooses the backend, starts the set and applies the synchronous mode; all or nothing. */
    private static Resource start(PgReplicaSetTest config, String testName, ExtensionContext context) {
        ReplicaSetSpec spec = spec(config, testName);
        ClassLoader loader = Optional.ofNullable(Thread.currentThread().getContextClassLoader())
                .orElse(PgReplicaSetExtension.class.getClassLoader());
        Optional<ReplicationClusterFactory> factory = ReplicationClusterFactory.find(loader);
        if (config.synchronous() != SyncMode.OFF && factory.isEmpty()) {
            throw new ExtensionConfigurationException("@PgReplicaSetTest(synchronous = " + config.synchronous() + ") of "
                    + testName + " needs repmgr-core on the test class path (it applies the mode through"
                    + " cluster.synchronousReplication()); add the test dependency io.repmgr4j:repmgr-core");
        }
        ReplicaSets.Choice choice;
        try {
            choice = ReplicaSets.choose(config.backend(), key -> context.getConfigurationParameter(key).orElse(null), loader);
        } catch (IllegalStateException | IllegalArgumentException e) {
            throw new ExtensionConfigurationException("@PgReplicaSetTest of " + testName + ": " + e.getMessage(), e);
        }
        long t0 = System.nanoTime();
        ReplicaSet set = choice.start(spec);
        Resource r = new Resource(set, spec, choice.backend() + ", " + choice.reason(), factory.orElse(null));
        try {
            if (config.synchronous() != SyncMode.OFF) {
                ClusterSetup.synchronous(r.cluster(), set.primary(), config.synchronous(), config.synchronousCount());
            }
        } catch (RuntimeException e) {
            try {
                r.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        LOG.info("replica set for {} started on {} ({}) in {} ms: {}", testName, choice.backend(), choice.reason(),
                (System.nanoTime() - t0) / 1_000_000, set.nodes().stream().map(PgNode::name).toList());
        return r;
    }

    private static ReplicaSetSpec spec(PgReplicaSetTest config, String testName) {
        try {
            Map<Integer, Integer> cascade = new java.util.HashMap<>();
            for (String c : config.cascade()) {
                int[] parsed = ReplicaSetSpec.cascade(c);
                cascade.put(parsed[0], parsed[1]);
            }
            Map<String, String> settings = new java.util.LinkedHashMap<>();
            for (String s : config.settings()) {
                Map.Entry<String, String> e = ReplicaSetSpec.setting(s);
                settings.put(e.getKey(), e.getValue());
            }
            ReplicaSetSpec spec = new ReplicaSetSpec(config.nodes(), cascade, settings, testName);
            ClusterSetup.checkSynchronous(spec, config.synchronous(), config.synchronousCount());
            return spec;
        } catch (IllegalArgumentException e) {
            throw new ExtensionConfigurationException("@PgReplicaSetTest of " + testName + ": " + e.getMessage(), e);
        }
    }

    /** The set of this context or of an enclosing one (the class's, seen from a method). */
    private static Optional<Resource> find(ExtensionContext context) {
        return Optional.ofNullable(context.getStore(NS).get(KEY, Resource.class));
    }

    private static void closeIn(ExtensionContext context) {
        Resource r = context.getStore(NS).remove(KEY, Resource.class);
        if (r != null) {
            r.close();
        }
    }

    private static void injectFields(Class<?> type, Object instance, Resource r, boolean statics) {
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                boolean isStatic = Modifier.isStatic(f.getModifiers());
                if (isStatic != statics || !injectable(f.getType())) {
                    continue;
                }
                if (Modifier.isFinal(f.getModifiers())) {
                    throw new ExtensionConfigurationException("field " + f + " is final; the replica set cannot be"
                            + " injected into it");
                }
                try {
                    Object value = value(r, f.getType(),
                            Optional.ofNullable(f.getAnnotation(Node.class)).map(Node::value).orElse(1), f.toString());
                    f.setAccessible(true);
                    f.set(instance, value);
                } catch (ReflectiveOperationException | RuntimeException e) {
                    throw new ExtensionConfigurationException("cannot inject into field " + f + ": " + e.getMessage(), e);
                }
            }
        }
    }

    /**
     * The set in JUnit's store, with its cluster handle once asked for: closed by this
     * extension, or by JUnit when the store closes; the handle first, the set even when
     * closing the handle fails.
     */
    private static final class Resource implements ExtensionContext.Store.CloseableResource {
        final ReplicaSet set;
        final ReplicaSetSpec spec;
        final String why;
        private final ReplicationClusterFactory factory;
        private ReplicationCluster cluster;
        private boolean closed;

        Resource(ReplicaSet set, ReplicaSetSpec spec, String why, ReplicationClusterFactory factory) {
            this.set = set;
            this.spec = spec;
            this.why = why;
            this.factory = factory;
        }

        /** The handle of the set, its nodes registered (ids 1, 2, ...) the first time it is asked for. */
        synchronized ReplicationCluster cluster() {
            if (closed) {
                throw new IllegalStateException("the replica set was closed already");
            }
            if (cluster == null) {
                if (factory == null) {
                    throw new IllegalStateException("a ReplicationCluster parameter or field needs repmgr-core on the test"
                            + " class path (the handle is opened by it, found with java.util.ServiceLoader); add the test"
                            + " dependency io.repmgr4j:repmgr-core");
                }
                cluster = ClusterSetup.openRegistered(factory, set, spec);
            }
            return cluster;
        }

        @Override
        public void close() {
            ReplicationCluster c;
            synchronized (this) {
                if (closed) {
                    return;
                }
                closed = true;
                c = cluster;
            }
            try {
                if (c != null) {
                    c.close();
                }
            } finally {
                set.close();
            }
        }
    }
}

package io.repmgr4j.testkit.junit;

import io.repmgr4j.testkit.PgReplicaSet;
import io.repmgr4j.testkit.PgServer;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
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
 * The JUnit 5 extension behind {@link PgReplicaSetTest}: starts the replica set (per class
 * in {@code beforeAll}, per method in {@code beforeEach}), injects it and its servers into
 * parameters and fields of type {@link PgReplicaSet} and {@link PgServer}, and closes it in
 * {@code afterAll}/{@code afterEach}, which JUnit runs whether the tests passed or failed.
 * The set is also kept in JUnit's store as a closeable resource, so it is closed even when
 * a later callback of another extension throws. Fields are injected on each test instance
 * (static fields once per class). Thread-safe: state lives in JUnit's extension store.
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
            PgReplicaSet set = start(config, context.getRequiredTestClass().getSimpleName());
            context.getStore(NS).put(KEY, new Resource(set));
            injectFields(context.getRequiredTestClass(), null, set, true);
        }
    }

    @Override
    public void postProcessTestInstance(Object testInstance, ExtensionContext context) {
        // PER_CLASS: the set exists already; PER_METHOD: fields are injected in beforeEach
        find(context).ifPresent(set -> injectFields(testInstance.getClass(), testInstance, set, false));
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        PgReplicaSetTest config = config(context);
        if (config.lifecycle() == PgReplicaSetTest.Lifecycle.PER_METHOD) {
            PgReplicaSet set = start(config, context.getRequiredTestClass().getSimpleName() + "."
                    + context.getRequiredTestMethod().getName());
            context.getStore(NS).put(KEY, new Resource(set));
            injectFields(context.getRequiredTestClass(), null, set, true);
        }
        // every lifecycle: a test instance made before the set existed (@TestInstance(PER_CLASS)) gets it now
        Object instance = context.getRequiredTestInstance();
        find(context).ifPresent(set -> injectFields(instance.getClass(), instance, set, false));
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
        Class<?> type = parameterContext.getParameter().getType();
        return type == PgReplicaSet.class || type == PgServer.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        PgReplicaSet set = find(extensionContext).orElseThrow(() -> new ParameterResolutionException(
                "no replica set is running for " + parameterContext.getDeclaringExecutable()
                        + ": with lifecycle PER_METHOD, the constructor and @BeforeAll methods run before it is started;"
                        + " take it as a parameter of the test method or of a @BeforeEach method instead"));
        Class<?> type = parameterContext.getParameter().getType();
        if (type == PgReplicaSet.class) {
            return set;
        }
        int n = parameterContext.findAnnotation(Node.class).map(Node::value).orElse(1);
        return node(set, n, parameterContext.getParameter().toString());
    }

    // ------------------------------------------------------------------ internals

    private static PgReplicaSetTest config(ExtensionContext context) {
        return AnnotationSupport.findAnnotation(context.getRequiredTestClass(), PgReplicaSetTest.class)
                .orElseThrow(() -> new ExtensionConfigurationException("PgReplicaSetExtension needs @PgReplicaSetTest on "
                        + context.getRequiredTestClass().getName() + " (it says how many nodes to start)"));
    }

    private static PgReplicaSet start(PgReplicaSetTest config, String testName) {
        PgReplicaSet.Builder b = PgReplicaSet.builder().nodes(config.nodes()).namePrefix(testName);
        try {
            for (String c : config.cascade()) {
                b.cascade(c);
            }
            for (String s : config.settings()) {
                b.setting(s);
            }
            b.validate();
        } catch (IllegalArgumentException e) {
            throw new ExtensionConfigurationException("@PgReplicaSetTest of " + testName + ": " + e.getMessage(), e);
        }
        long t0 = System.nanoTime();
        PgReplicaSet set = b.start();
        LOG.info("replica set for {} started in {} ms: {}", testName, (System.nanoTime() - t0) / 1_000_000, set.servers()
                .stream().map(PgServer::name).toList());
        return set;
    }

    /** The set of this context or of an enclosing one (the class's, seen from a method). */
    private static Optional<PgReplicaSet> find(ExtensionContext context) {
        Resource r = context.getStore(NS).get(KEY, Resource.class);
        return Optional.ofNullable(r).map(Resource::set);
    }

    private static void closeIn(ExtensionContext context) {
        Resource r = context.getStore(NS).remove(KEY, Resource.class);
        if (r != null) {
            r.close();
        }
    }

    private static PgServer node(PgReplicaSet set, int n, String target) {
        if (n < 1 || n > set.servers().size()) {
            throw new ParameterResolutionException("@Node(" + n + ") on " + target + ": the replica set has nodes 1 to "
                    + set.servers().size());
        }
        return set.node(n);
    }

    private static void injectFields(Class<?> type, Object instance, PgReplicaSet set, boolean statics) {
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                boolean isStatic = Modifier.isStatic(f.getModifiers());
                if (isStatic != statics || (f.getType() != PgReplicaSet.class && f.getType() != PgServer.class)) {
                    continue;
                }
                if (Modifier.isFinal(f.getModifiers())) {
                    throw new ExtensionConfigurationException("field " + f + " is final; the replica set cannot be"
                            + " injected into it");
                }
                Object value = f.getType() == PgReplicaSet.class ? set
                        : node(set, Optional.ofNullable(f.getAnnotation(Node.class)).map(Node::value).orElse(1), f.toString());
                try {
                    f.setAccessible(true);
                    f.set(instance, value);
                } catch (ReflectiveOperationException | RuntimeException e) {
                    throw new ExtensionConfigurationException("cannot inject into field " + f + ": " + e.getMessage(), e);
                }
            }
        }
    }

    /** The set in JUnit's store: closed by this extension, or by JUnit when the store closes. */
    private record Resource(PgReplicaSet set) implements ExtensionContext.Store.CloseableResource {
        @Override
        public void close() {
            set.close();
        }
    }
}

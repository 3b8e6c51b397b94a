package io.repmgr4j.testcontainers.junit;

import io.repmgr4j.testcontainers.PgContainer;
import io.repmgr4j.testcontainers.PgContainerReplicaSet;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.LinkedHashMap;
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
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * The extension behind {@link PgContainerReplicaSetTest}: starts the set in
 * {@code beforeAll} (or {@code beforeEach} with {@code perMethod}), injects it, and removes
 * its containers in {@code afterAll}/{@code afterEach}, which JUnit runs also after a failed
 * test; the set is kept in JUnit's store as a closeable resource too. Thread-safe: state
 * lives in JUnit's extension store.
 */
public final class PgContainerReplicaSetExtension implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback,
        AfterEachCallback, ParameterResolver {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(PgContainerReplicaSetExtension.class);
    private static final String KEY = "container-replica-set";

    /** Created by JUnit through {@link PgContainerReplicaSetTest}'s {@code @ExtendWith}. */
    public PgContainerReplicaSetExtension() {
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        if (!config(context).perMethod()) {
            context.getStore(NS).put(KEY, new Resource(start(config(context))));
        }
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        if (config(context).perMethod()) {
            context.getStore(NS).put(KEY, new Resource(start(config(context))));
        }
        Object instance = context.getRequiredTestInstance();
        PgContainerReplicaSet set = find(context).orElseThrow();
        for (Class<?> c = instance.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers())
                        || (f.getType() != PgContainerReplicaSet.class && f.getType() != PgContainer.class)) {
                    continue;
                }
                Object value = f.getType() == PgContainerReplicaSet.class ? set
                        : node(set, Optional.ofNullable(f.getAnnotation(ContainerNode.class)).map(ContainerNode::value).orElse(1),
                        f.toString());
                try {
                    f.setAccessible(true);
                    f.set(instance, value);
                } catch (ReflectiveOperationException | RuntimeException e) {
                    throw new ExtensionConfigurationException("cannot inject into field " + f + ": " + e.getMessage(), e);
                }
            }
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (config(context).perMethod()) {
            close(context);
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (!config(context).perMethod()) {
            close(context);
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
        Class<?> type = p.getParameter().getType();
        return type == PgContainerReplicaSet.class || type == PgContainer.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext e) {
        PgContainerReplicaSet set = find(e).orElseThrow(() -> new ParameterResolutionException(
                "no container replica set is running for " + p.getDeclaringExecutable()));
        if (p.getParameter().getType() == PgContainerReplicaSet.class) {
            return set;
        }
        return node(set, p.findAnnotation(ContainerNode.class).map(ContainerNode::value).orElse(1), p.getParameter().toString());
    }

    private static PgContainerReplicaSetTest config(ExtensionContext context) {
        return AnnotationSupport.findAnnotation(context.getRequiredTestClass(), PgContainerReplicaSetTest.class)
                .orElseThrow(() -> new ExtensionConfigurationException("PgContainerReplicaSetExtension needs"
                        + " @PgContainerReplicaSetTest on " + context.getRequiredTestClass().getName()));
    }

    private static PgContainerReplicaSet start(PgContainerReplicaSetTest config) {
        Map<String, String> settings = new LinkedHashMap<>();
        Map<Integer, Integer> cascade = new LinkedHashMap<>();
        for (String s : config.settings()) {
            int eq = s.indexOf('=');
            if (eq <= 0) {
                throw new ExtensionConfigurationException("a setting is \"name=value\"; got \"" + s + "\"");
            }
            settings.put(s.substring(0, eq).trim(), s.substring(eq + 1).trim());
        }
        for (String c : config.cascade()) {
            String[] parts = c.split("=", -1);
            try {
                if (parts.length != 2) {
                    throw new NumberFormatException();
                }
                cascade.put(Integer.parseInt(parts[0].trim().replaceFirst("^pg", "")),
                        Integer.parseInt(parts[1].trim().replaceFirst("^pg", "")));
            } catch (NumberFormatException e) {
                throw new ExtensionConfigurationException("a cascade is \"standby=upstream\", e.g. \"pg3=pg2\"; got \"" + c + "\"");
            }
        }
        try {
            return PgContainerReplicaSet.start(config.nodes(), settings, cascade);
        } catch (IllegalArgumentException e) {
            throw new ExtensionConfigurationException("@PgContainerReplicaSetTest: " + e.getMessage(), e);
        }
    }

    private static Optional<PgContainerReplicaSet> find(ExtensionContext context) {
        return Optional.ofNullable(context.getStore(NS).get(KEY, Resource.class)).map(Resource::set);
    }

    private static void close(ExtensionContext context) {
        Resource r = context.getStore(NS).remove(KEY, Resource.class);
        if (r != null) {
            r.close();
        }
    }

    private static PgContainer node(PgContainerReplicaSet set, int n, String target) {
        if (n < 1 || n > set.nodes().size()) {
            throw new ParameterResolutionException("@ContainerNode(" + n + ") on " + target + ": the set has nodes 1 to "
                    + set.nodes().size());
        }
        return set.node(n);
    }

    /** The set in JUnit's store: closed by this extension, or by JUnit when the store closes. */
    private record Resource(PgContainerReplicaSet set) implements ExtensionContext.Store.CloseableResource {
        @Override
        public void close() {
            set.close();
        }
    }
}

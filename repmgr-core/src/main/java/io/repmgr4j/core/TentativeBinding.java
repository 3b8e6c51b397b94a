package io.repmgr4j.core;

import io.repmgr4j.NodeConfig;
import io.repmgr4j.plan.OperationException;
import io.repmgr4j.plan.Step;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Optional;
import java.util.Set;

/**
 * An operation builder given a {@link NodeConfig} (promote, follow, switchover, rejoin by
 * configuration) that binds the configuration to the handle only while it plans or runs,
 * and keeps it bound only when the run got past its checks: a dry run, or a run refused
 * before any step ran, leaves the handle's node configuration as it was, so a later
 * operation on the same handle still finds the data directory it knew. Builders are not
 * thread-safe; this wrapper is as thread-safe as the builder it wraps.
 */
final class TentativeBinding {
    private static final Set<Step.Status> RAN = Set.of(Step.Status.DONE, Step.Status.FAILED, Step.Status.UNDONE,
            Step.Status.UNDO_FAILED);

    private TentativeBinding() {
    }

    @SuppressWarnings("unchecked")
    static <T> T wrap(ClusterContext ctx, NodeConfig config, Class<T> type, T builder) {
        return (T) Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, method, args) -> {
            boolean plan = method.getName().equals("plan") && method.getParameterCount() == 0;
            boolean execute = method.getName().equals("execute") && method.getParameterCount() == 0;
            if (method.getDeclaringClass() == Object.class || !(plan || execute)) {
                Object r = invoke(method, builder, args);
                return r == builder ? proxy : r;
            }
            Optional<NodeBinding> before = ctx.binding(config.nodeId());
            ctx.bind(config);
            boolean keep = false;
            try {
                Object r = invoke(method, builder, args);
                keep = execute;
                return r;
            } catch (OperationException e) {
                keep = execute && e.report().steps().stream().anyMatch(s -> RAN.contains(s.status()));
                throw e;
            } finally {
                if (!keep) {
                    ctx.restoreBinding(config.nodeId(), before);
                }
            }
        });
    }

    private static Object invoke(java.lang.reflect.Method method, Object target, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}

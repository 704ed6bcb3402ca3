package io.hangar.core.vfs;

import io.hangar.fs.FsException;
import io.hangar.spi.meta.MetadataEngine;
import io.micrometer.core.instrument.Timer;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.concurrent.TimeUnit;

/**
 * The volume's metadata engine with every call timed by method ({@code hangar_meta_op_duration_seconds}) and
 * every failure counted by errno. A proxy rather than a hand-written decorator: the engine SPI has some forty
 * methods and grows, and a forgotten one would go unmeasured silently. The cost (a reflective call, well
 * under a microsecond) is small next to a metadata transaction.
 */
final class MeteredMetadataEngine implements InvocationHandler {
    private final MetadataEngine engine;
    private final VfsMetrics metrics;

    private MeteredMetadataEngine(MetadataEngine engine, VfsMetrics metrics) {
        this.engine = engine;
        this.metrics = metrics;
    }

    static MetadataEngine wrap(MetadataEngine engine, VfsMetrics metrics) {
        return (MetadataEngine) Proxy.newProxyInstance(MetadataEngine.class.getClassLoader(),
                new Class<?>[] {MetadataEngine.class}, new MeteredMetadataEngine(engine, metrics));
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        if (method.getDeclaringClass() == Object.class) {
            return switch (method.getName()) {
                case "equals" -> proxy == args[0];
                case "hashCode" -> System.identityHashCode(proxy);
                default -> "metered " + engine;
            };
        }
        Timer timer = metrics.metaOp(method.getName());
        long t = System.nanoTime();
        try {
            return method.invoke(engine, args);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            metrics.metaError(method.getName(), cause instanceof FsException fe ? fe.errno().name()
                    : cause.getClass().getSimpleName()).increment();
            throw cause;
        } finally {
            timer.record(System.nanoTime() - t, TimeUnit.NANOSECONDS);
        }
    }
}

package io.hangar.cli;

import java.io.PrintStream;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarConsumer;

/**
 * A progress bar (done of total, rate, ETA) for a copy or a benchmark phase, drawn by
 * {@code me.tongfei:progressbar} on stderr when the {@code ./hangar} process runs in a terminal; otherwise,
 * and always inside the runtime (the library is not a bundle and the {@code cli} bundle imports it
 * optionally, so it never resolves there), quiet. Counting is {@link #step(long)}, an addition under the
 * library's lock; the bar is redrawn from the library's own thread at most every {@link #UPDATE_MS}.
 *
 * <p>Only {@link Bar} names the library's classes, and it is loaded only for a bar that is drawn: in the
 * runtime this class loads and stays quiet.
 */
public final class Progress implements AutoCloseable {
    /** How often the bar is redrawn at most. */
    static final int UPDATE_MS = 200;
    private static final String LIBRARY = "me.tongfei.progressbar.ProgressBar";
    private static final Progress QUIET = new Progress(null);

    private final Bar bar;

    private Progress(Bar bar) {
        this.bar = bar;
    }

    /** A bar over {@code total} bytes on stderr when this process is interactive; else quiet. */
    public static Progress bytes(String task, long total) {
        return bytes(interactive(), System.err, task, total, 0);
    }

    /** A bar over {@code total} items named {@code unit} (e.g. "files") on stderr when interactive; else quiet. */
    public static Progress count(String task, long total, String unit) {
        return count(interactive(), System.err, task, total, unit, 0);
    }

    /**
     * A bar over {@code total} bytes (shown in KiB, MiB or GiB by the total's size) on {@code out}, or quiet
     * when not {@code interactive}. {@code width} is the bar's length in characters; 0 is the terminal's.
     */
    static Progress bytes(boolean interactive, PrintStream out, String task, long total, int width) {
        // An unknown total (-1, an open-ended bar) counts in MiB.
        long unit = total >= 16L << 30 ? 1L << 30 : total >= 16L << 20 || total < 0 ? 1L << 20 : 1L << 10;
        String name = unit == 1L << 30 ? "GiB" : unit == 1L << 20 ? "MiB" : "KiB";
        return open(interactive, out, task, total, name, unit, width);
    }

    /** As {@link #count(String, long, String)}, on {@code out}, quiet when not {@code interactive}. */
    static Progress count(boolean interactive, PrintStream out, String task, long total, String unit, int width) {
        return open(interactive, out, task, total, unit, 1, width);
    }

    private static Progress open(boolean interactive, PrintStream out, String task, long total, String unit,
            long unitSize, int width) {
        if (!interactive) {
            return QUIET;
        }
        try {
            return new Progress(new Bar(out, task, total, unit, unitSize, width));
        } catch (LinkageError e) {
            // The library or jline-terminal missing from this class path: no bar, the copy goes on.
            return QUIET;
        }
    }

    /**
     * Whether a bar is drawn: a terminal on this process ({@code System.console()}, which is null when stdin
     * or stdout is redirected) and the library on its class path (the CLI's; not the runtime's).
     */
    static boolean interactive() {
        if (System.console() == null) {
            return false;
        }
        try {
            Class.forName(LIBRARY, false, Progress.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** Counts {@code n} more done. */
    public void step(long n) {
        if (bar != null) {
            bar.bar.stepBy(n);
        }
    }

    /** Draws the final state and ends the bar's line. */
    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }

    /** The library's bar; loaded only when one is drawn. */
    private static final class Bar {
        final ProgressBar bar;
        private final Line line;

        Bar(PrintStream out, String task, long total, String unit, long unitSize, int width) {
            line = new Line(width > 0 ? new ConsoleProgressBarConsumer(out, width)
                    : new ConsoleProgressBarConsumer(out));
            bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setUnit(" " + unit, unitSize)
                    .showSpeed().setUpdateIntervalMillis(UPDATE_MS).setConsumer(line).build();
        }

        void close() {
            bar.close();
            // The library leaves the line open when the bar closes before its first redraw: end it here.
            line.close();
        }
    }

    /**
     * The library's console line, ended once: its redraw thread may close it too (a redraw that saw the bar
     * done just before {@link ProgressBar#close()}), and nothing is drawn after that.
     */
    private static final class Line implements ProgressBarConsumer {
        private final ConsoleProgressBarConsumer console;
        private boolean closed;

        Line(ConsoleProgressBarConsumer console) {
            this.console = console;
        }

        @Override
        public synchronized int getMaxRenderedLength() {
            return console.getMaxRenderedLength();
        }

        @Override
        public synchronized void accept(String rendered) {
            if (!closed) {
                console.accept(rendered);
            }
        }

        @Override
        public synchronized void close() {
            if (!closed) {
                closed = true;
                console.close();
            }
        }
    }
}

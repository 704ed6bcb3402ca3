package io.hangar.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * One scrape of a {@code /metrics} page (Prometheus text format 0.0.4), kept as samples for {@code hangar
 * stats} to sum and difference. Reads only what the format says a sample line is: a name, optional labels in
 * braces, a value; comments and malformed lines are skipped.
 */
record MetricSamples(List<Sample> samples) {
    record Sample(String name, Map<String, String> labels, double value) {
    }

    static MetricSamples parse(String text) {
        List<Sample> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isEmpty() || line.charAt(0) == '#') {
                continue;
            }
            Sample s = sample(line);
            if (s != null) {
                out.add(s);
            }
        }
        return new MetricSamples(out);
    }

    private static Sample sample(String line) {
        int i = 0;
        int n = line.length();
        while (i < n && line.charAt(i) != '{' && line.charAt(i) != ' ') {
            i++;
        }
        String name = line.substring(0, i);
        Map<String, String> labels = new LinkedHashMap<>();
        if (i < n && line.charAt(i) == '{') {
            i++;
            while (i < n && line.charAt(i) != '}') {
                int eq = line.indexOf('=', i);
                if (eq < 0 || eq + 1 >= n || line.charAt(eq + 1) != '"') {
                    return null;
                }
                String key = line.substring(i, eq).trim();
                StringBuilder v = new StringBuilder();
                int j = eq + 2;
                for (; j < n && line.charAt(j) != '"'; j++) {
                    char c = line.charAt(j);
                    if (c == '\\' && j + 1 < n) {
                        char e = line.charAt(++j);
                        v.append(e == 'n' ? '\n' : e);
                    } else {
                        v.append(c);
                    }
                }
                labels.put(key, v.toString());
                i = j + 1;
                if (i < n && line.charAt(i) == ',') {
                    i++;
                }
            }
            i++;
        }
        String[] rest = line.substring(Math.min(i, n)).trim().split("\\s+");
        if (name.isEmpty() || rest.length == 0 || rest[0].isEmpty()) {
            return null;
        }
        try {
            return new Sample(name, labels, Double.parseDouble(rest[0]));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** The sum of every sample named {@code name} whose labels pass {@code where}. */
    double sum(String name, Predicate<Map<String, String>> where) {
        double total = 0;
        for (Sample s : samples) {
            if (s.name.equals(name) && where.test(s.labels)) {
                total += s.value;
            }
        }
        return total;
    }

    double sum(String name) {
        return sum(name, l -> true);
    }

    boolean has(String name) {
        return samples.stream().anyMatch(s -> s.name.equals(name));
    }
}

package io.hangar.metrics.prometheus;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Set;

/** GET: the registry in the Prometheus text format (0.0.4), or OpenMetrics when the scraper asks for it. */
final class MetricsServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    static final String TEXT = "text/plain; version=0.0.4; charset=utf-8";
    static final String OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    private final transient PrometheusMeterRegistry registry;

    MetricsServlet(PrometheusMeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String accept = req.getHeader("Accept");
        String type = accept != null && accept.contains("application/openmetrics-text") ? OPENMETRICS : TEXT;
        String[] names = req.getParameterValues("name[]");
        resp.setStatus(200);
        resp.setContentType(type);
        resp.setHeader("Cache-Control", "no-store");
        if (names != null && names.length > 0) {
            registry.scrape(resp.getOutputStream(), type, Set.of(names));
        } else {
            registry.scrape(resp.getOutputStream(), type);
        }
    }
}

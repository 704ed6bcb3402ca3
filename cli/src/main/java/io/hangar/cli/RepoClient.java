package io.hangar.cli;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Flow;
import java.util.function.LongConsumer;

/**
 * A client of the model repository's REST API ({@code <server>/api/v1}, openapi.yaml in frontend-http) on the
 * JDK's HttpClient (HTTP/1.1: {@code Expect: 100-continue} and no h2c upgrade attempt). JSON in and out; a
 * refusal {@code {"code", "message"}} becomes a {@link CliException} "code: message" whose exit code is of its
 * kind: 12 for 401/403, 3 for 404, 8 for 409, 2 for 400, 5 for 503 and unreachable, 7 for 507, else 1.
 */
final class RepoClient {
    static final String PREFIX = "/api/v1";
    private final String base;
    private final String token;
    private final HttpClient http;

    RepoClient(String server, String token) {
        this.base = server + PREFIX;
        this.token = token;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /** One path segment, percent-encoded. */
    static String segment(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** A '/'-separated file path, each segment percent-encoded. */
    static String filePath(String path) {
        StringBuilder b = new StringBuilder();
        for (String s : path.split("/", -1)) {
            if (b.length() > 0) {
                b.append('/');
            }
            b.append(segment(s));
        }
        return b.toString();
    }

    /** A query string {@code ?k=v&…} of the non-null values, or "". */
    static String query(Map<String, ?> params) {
        StringBuilder b = new StringBuilder();
        params.forEach((k, v) -> {
            if (v != null) {
                b.append(b.length() == 0 ? '?' : '&').append(segment(k)).append('=').append(segment(v.toString()));
            }
        });
        return b.toString();
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", "Bearer " + token)
                .header("Accept", "application/json");
    }

    /** GET of a JSON body, returned as text. */
    String getText(String path) throws InterruptedException {
        return text(send(request(path).GET().build(), HttpResponse.BodyHandlers.ofString()));
    }

    Object get(String path) throws InterruptedException {
        return Json.parse(getText(path));
    }

    Object post(String path, Object body) throws InterruptedException {
        return json("POST", path, body);
    }

    Object put(String path, Object body) throws InterruptedException {
        return json("PUT", path, body);
    }

    Object delete(String path) throws InterruptedException {
        return json("DELETE", path, null);
    }

    private Object json(String method, String path, Object body) throws InterruptedException {
        HttpRequest.BodyPublisher p = body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(Json.write(body));
        HttpRequest req = request(path).header("Content-Type", "application/json").method(method, p).build();
        return Json.parse(text(send(req, HttpResponse.BodyHandlers.ofString())));
    }

    /**
     * PUT of a local file into a draft, streamed from the file, with its MD5 (when known here) in
     * {@code x-hangar-md5} (the server checks it: BadDigest). No {@code Expect: 100-continue}: the JDK 17 client waits forever for the rest of an
     * answer that comes in place of the 100 (the server links a known MD5 that way), so push asks which MD5s
     * are known first and links those. {@code sent} counts the bytes as they go.
     */
    Map<String, Object> upload(String path, Path file, String md5, LongConsumer sent) throws InterruptedException {
        HttpRequest.BodyPublisher body;
        try {
            body = counting(HttpRequest.BodyPublishers.ofFile(file), sent);
        } catch (FileNotFoundException e) {
            throw new CliException(ExitCodes.NOT_FOUND, file + ": no such file or directory", e);
        }
        HttpRequest.Builder b = request(path).header("Content-Type", "application/octet-stream");
        if (md5 != null) {
            b.header("x-hangar-md5", md5);
        }
        HttpRequest req = b.PUT(body).build();
        return Json.obj(Json.parse(text(send(req, HttpResponse.BodyHandlers.ofString()))));
    }

    /** GET of a file's bytes: the open body stream of a 200 answer (the caller closes it). */
    InputStream download(String path) throws InterruptedException {
        HttpResponse<InputStream> r = send(request(path).header("Accept", "application/octet-stream").GET().build(),
                HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() / 100 != 2) {
            String text;
            try (InputStream in = r.body()) {
                text = new String(in.readNBytes(64 << 10), StandardCharsets.UTF_8);
            } catch (IOException e) {
                text = "";
            }
            throw refusal(r.statusCode(), text);
        }
        return r.body();
    }

    private <T> HttpResponse<T> send(HttpRequest req, HttpResponse.BodyHandler<T> handler) throws InterruptedException {
        try {
            return http.send(req, handler);
        } catch (ConnectException | HttpConnectTimeoutException e) {
            throw new CliException(ExitCodes.UNREACHABLE, "cannot reach " + base + " (is a runtime up? --server, "
                    + "HANGAR_SERVER)", e);
        } catch (IOException e) {
            throw new CliException(ExitCodes.UNREACHABLE, req.method() + " " + req.uri().getRawPath() + ": "
                    + (e.getMessage() != null ? e.getMessage() : e.toString()), e);
        }
    }

    private static String text(HttpResponse<String> r) {
        if (r.statusCode() / 100 != 2) {
            throw refusal(r.statusCode(), r.body());
        }
        return r.body();
    }

    /** The CliException of an API refusal: "code: message", exit code by status. */
    static CliException refusal(int status, String body) {
        String code = "HTTP" + status;
        String message = body == null ? "" : body.strip();
        try {
            Map<String, Object> e = Json.object(body);
            if (e.get("code") != null) {
                code = Json.str(e, "code");
                message = String.valueOf(e.getOrDefault("message", ""));
            }
        } catch (IllegalArgumentException notJson) {
            if (message.length() > 200) {
                message = message.substring(0, 200) + "…";
            }
        }
        int exit = switch (status) {
            case 401, 403 -> ExitCodes.DENIED;
            case 404 -> ExitCodes.NOT_FOUND;
            case 409 -> ExitCodes.REFUSED;
            case 400 -> "BadDigest".equals(code) ? ExitCodes.FAILURE : ExitCodes.USAGE;
            case 503 -> ExitCodes.UNREACHABLE;
            case 507 -> ExitCodes.NO_SPACE;
            default -> ExitCodes.FAILURE;
        };
        return new ApiException(exit, status, code, code + ": " + message);
    }

    /** A refusal of the API; {@link #status()} for callers that tolerate one (409 on create, 404 on a tag). */
    static final class ApiException extends CliException {
        private static final long serialVersionUID = 1L;
        private final int status;
        private final String code;

        ApiException(int exit, int status, String code, String message) {
            super(exit, message);
            this.status = status;
            this.code = code;
        }

        int status() {
            return status;
        }

        String code() {
            return code;
        }
    }

    /** A body publisher that reports the bytes its delegate hands to the connection. */
    private static HttpRequest.BodyPublisher counting(HttpRequest.BodyPublisher delegate, LongConsumer sent) {
        return new HttpRequest.BodyPublisher() {
            @Override
            public long contentLength() {
                return delegate.contentLength();
            }

            @Override
            public void subscribe(Flow.Subscriber<? super ByteBuffer> s) {
                delegate.subscribe(new Flow.Subscriber<ByteBuffer>() {
                    @Override
                    public void onSubscribe(Flow.Subscription sub) {
                        s.onSubscribe(sub);
                    }

                    @Override
                    public void onNext(ByteBuffer item) {
                        sent.accept(item.remaining());
                        s.onNext(item);
                    }

                    @Override
                    public void onError(Throwable t) {
                        s.onError(t);
                    }

                    @Override
                    public void onComplete() {
                        s.onComplete();
                    }
                });
            }
        };
    }
}

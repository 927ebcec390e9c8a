package l0stream.serving;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;

/**
 * A blocking client of the serving API for benchmarks and tools. {@link HttpURLConnection} keeps
 * the connection alive once a body is read to its end, sends a fixed-length body in one write, and
 * costs far less CPU per request than the asynchronous {@code java.net.http} client, whose
 * separate header and body writes meet the server's delayed ACK (~40 ms a request) — which matters
 * when client and server share two cores. Thread-safe (a connection per call, pooled by the JDK).
 */
public final class ServingClient {

    /** A response: status and body. */
    public record Response(int status, String body) {}

    private final URL predict;
    private final URL feedback;

    public ServingClient(String host, int port) {
        try {
            this.predict = URI.create("http://" + host + ":" + port + "/v1/predict").toURL();
            this.feedback = URI.create("http://" + host + ":" + port + "/v1/feedback").toURL();
        } catch (java.net.MalformedURLException e) {
            throw new IllegalArgumentException("Invalid address " + host + ":" + port, e);
        }
    }

    /** {@code POST /v1/predict} with a raw u8 image of the model's input shape; {@code key} may be null. */
    public Response predict(byte[] raw, String key) throws IOException {
        return post(predict, "application/x-raw-u8", raw, key);
    }

    /** {@code POST /v1/feedback}. */
    public Response feedback(String requestId, int label) throws IOException {
        byte[] body = ("{\"request_id\": \"" + requestId + "\", \"label\": " + label + "}").getBytes(StandardCharsets.UTF_8);
        return post(feedback, "application/json", body, null);
    }

    private static Response post(URL url, String type, byte[] body, String key) throws IOException {
        HttpURLConnection c = (HttpURLConnection) url.openConnection();
        c.setDoOutput(true);
        c.setRequestMethod("POST");
        c.setRequestProperty("Content-Type", type);
        if (key != null) {
            c.setRequestProperty("X-Request-Key", key);
        }
        c.setFixedLengthStreamingMode(body.length);
        try (OutputStream os = c.getOutputStream()) {
            os.write(body);
        }
        int status = c.getResponseCode();
        try (InputStream in = status < 400 ? c.getInputStream() : c.getErrorStream()) {
            return new Response(status, in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }
}

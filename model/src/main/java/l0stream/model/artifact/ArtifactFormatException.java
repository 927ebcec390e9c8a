package l0stream.model.artifact;

import java.io.IOException;

/** A checkpoint or snapshot artifact that cannot be trusted: the message says why. */
public class ArtifactFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public ArtifactFormatException(String message) {
        super(message);
    }

    public ArtifactFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}

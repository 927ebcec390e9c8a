package l0stream.connectors.snapshot;

/** A snapshot record that cannot be trusted; the message says why. */
public final class InvalidSnapshotException extends Exception {
    private static final long serialVersionUID = 1L;

    public InvalidSnapshotException(String message) {
        super(message);
    }

    public InvalidSnapshotException(String message, Throwable cause) {
        super(message, cause);
    }
}

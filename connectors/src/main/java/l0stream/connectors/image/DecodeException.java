package l0stream.connectors.image;

/** A record that cannot be decoded: its class and a message a person can act on. */
public final class DecodeException extends Exception {
    private static final long serialVersionUID = 1L;
    private final DecodeError errorClass;

    public DecodeException(DecodeError errorClass, String message) {
        super(message);
        this.errorClass = errorClass;
    }

    public DecodeException(DecodeError errorClass, String message, Throwable cause) {
        super(message, cause);
        this.errorClass = errorClass;
    }

    public DecodeError errorClass() {
        return errorClass;
    }
}

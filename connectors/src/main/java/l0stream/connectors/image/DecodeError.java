package l0stream.connectors.image;

/** Why a record could not become a training example; the id goes into the {@code error-class} header. */
public enum DecodeError {
    EMPTY_VALUE("empty-value"),
    OVERSIZE("oversize"),
    MISSING_LABEL("missing-label"),
    INVALID_LABEL("invalid-label"),
    LABEL_OUT_OF_RANGE("label-out-of-range"),
    INVALID_TIMESTAMP("invalid-timestamp"),
    UNKNOWN_CONTENT_TYPE("unknown-content-type"),
    INVALID_SHAPE("invalid-shape"),
    RAW_SIZE_MISMATCH("raw-size-mismatch"),
    UNDECODABLE_IMAGE("undecodable-image"),
    WRONG_SIZE("wrong-size"),
    WRONG_CHANNELS("wrong-channels");

    private final String id;

    DecodeError(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    /** The class with this {@code error-class} id (e.g. {@code invalid-label}). */
    public static DecodeError fromId(String id) {
        for (DecodeError e : values()) {
            if (e.id.equals(id)) {
                return e;
            }
        }
        throw new IllegalArgumentException("Invalid value " + id + " for error-class: not a known decode error");
    }
}

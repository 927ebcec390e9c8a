package l0stream.connectors.image;

/**
 * Kafka header names of the labeled-image wire format and of dead letters. Header values are
 * UTF-8 text.
 *
 * <ul>
 *   <li>{@value #LABEL} (required): the class, a decimal integer in [0, classes);
 *   <li>{@value #CONTENT_TYPE}: {@code image/png}, {@code image/jpeg}, or
 *       {@code application/x-raw-u8} (then {@value #SHAPE} = {@code HxWxC} is required); when
 *       absent, PNG and JPEG are recognised by their magic bytes;
 *   <li>{@value #ID}, {@value #TS} (optional): an id, and an event time in epoch milliseconds.
 * </ul>
 * Dead letters carry the original key, value and headers plus {@value #ERROR} (a sentence),
 * {@value #ERROR_CLASS} (one of {@link DecodeError}'s ids) and where the record came from.
 */
public final class ImageHeaders {
    public static final String LABEL = "label";
    public static final String CONTENT_TYPE = "content-type";
    public static final String SHAPE = "shape";
    public static final String ID = "id";
    public static final String TS = "ts";
    public static final String ERROR = "error";
    public static final String ERROR_CLASS = "error-class";
    public static final String SOURCE_TOPIC = "source-topic";
    public static final String SOURCE_PARTITION = "source-partition";
    public static final String SOURCE_OFFSET = "source-offset";

    public static final String PNG = "image/png";
    public static final String JPEG = "image/jpeg";
    public static final String RAW_U8 = "application/x-raw-u8";

    private ImageHeaders() {}
}

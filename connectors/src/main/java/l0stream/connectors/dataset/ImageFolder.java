package l0stream.connectors.dataset;

import l0stream.connectors.image.DecodeException;
import l0stream.connectors.image.DecodePolicy;
import l0stream.connectors.image.ImageDecoder;
import l0stream.connectors.image.ImageHeaders;
import l0stream.connectors.image.LabeledImage;

import org.apache.kafka.common.header.internals.RecordHeaders;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * A dataset of PNG/JPEG files laid out as {@code <dir>/<label>/<name>.png|jpg|jpeg}, the label
 * being the folder's decimal name. Each image is decoded and conformed with the same
 * {@link DecodePolicy} as stream input (so folders of any size and colour work); files that
 * fail are reported with their path, never silently skipped.
 */
public final class ImageFolder {

    private ImageFolder() {}

    public static ImageDataset load(Path dir, DecodePolicy policy) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException("Image folder " + dir + " does not exist");
        }
        ImageDecoder decoder = new ImageDecoder(policy);
        List<LabeledImage> images = new ArrayList<>();
        List<Path> files;
        try (Stream<Path> walk = Files.walk(dir, 2)) {
            files = walk.filter(Files::isRegularFile).filter(ImageFolder::isImage).sorted().toList();
        }
        for (Path f : files) {
            String label = f.getParent().getFileName().toString();
            RecordHeaders h = new RecordHeaders();
            h.add(ImageHeaders.LABEL, label.getBytes(StandardCharsets.UTF_8));
            h.add(ImageHeaders.ID, f.getFileName().toString().getBytes(StandardCharsets.UTF_8));
            // The extension says what the file claims to be, as a producer's content-type would.
            String type = f.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png") ? ImageHeaders.PNG : ImageHeaders.JPEG;
            h.add(ImageHeaders.CONTENT_TYPE, type.getBytes(StandardCharsets.UTF_8));
            try {
                images.add(decoder.decode(Files.readAllBytes(f), h));
            } catch (DecodeException e) {
                throw new IOException("Cannot use " + f + " (" + e.errorClass().id() + "): " + e.getMessage(), e);
            }
        }
        if (images.isEmpty()) {
            throw new IOException("Image folder " + dir + " has no <label>/*.png|jpg files");
        }
        int c = policy.channels(), h = policy.height(), w = policy.width(), hw = h * w;
        byte[] px = new byte[images.size() * c * hw];
        int[] labels = new int[images.size()];
        for (int i = 0; i < images.size(); i++) {
            float[] p = images.get(i).pixels(); // C×H×W
            labels[i] = images.get(i).label();
            for (int ch = 0; ch < c; ch++) {
                for (int k = 0; k < hw; k++) {
                    px[(i * hw + k) * c + ch] = (byte) Math.round(Math.max(0, Math.min(1, p[ch * hw + k])) * 255);
                }
            }
        }
        return new ImageDataset("folder-" + dir.getFileName(), images.size(), h, w, c, px, labels);
    }

    private static boolean isImage(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg");
    }
}

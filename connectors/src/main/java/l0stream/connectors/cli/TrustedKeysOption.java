package l0stream.connectors.cli;

import l0stream.connectors.trust.SnapshotKeys;
import l0stream.connectors.trust.SnapshotTrust;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The snapshot-reading commands' trust options, one meaning everywhere: {@code --trusted-keys
 * a.pub,b.pub}, or without it the local key that demo and train generate
 * ({@code var/keys/snapshot.pub}) when it exists; {@code --allow-unsigned} admits unsigned ones.
 */
public final class TrustedKeysOption {

    private TrustedKeysOption() {}

    /**
     * @param say where to tell the user that the local key is trusted by default
     * @throws IllegalArgumentException naming {@code --trusted-keys} when a key file is unreadable
     */
    public static SnapshotTrust from(Args a, Consumer<String> say) {
        String given = a.string("--trusted-keys", null);
        List<Path> keys = new ArrayList<>();
        if (given != null) {
            for (String k : given.split(",")) {
                if (!k.isBlank()) {
                    keys.add(Path.of(k.trim()));
                }
            }
        } else {
            Path local = SnapshotKeys.publicKeyFileFor(Workspace.defaultSigningKey());
            if (Files.exists(local)) {
                say.accept("trusting the local snapshot key " + local + " (no --trusted-keys given)");
                keys.add(local);
            }
        }
        try {
            return SnapshotTrust.fromFiles(keys, a.flag("--allow-unsigned"));
        } catch (IOException e) {
            throw new IllegalArgumentException("Invalid value " + given + " for --trusted-keys: " + e.getMessage(), e);
        }
    }
}

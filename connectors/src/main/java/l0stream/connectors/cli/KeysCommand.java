package l0stream.connectors.cli;

import l0stream.connectors.trust.SnapshotKeys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.List;
import java.util.function.Consumer;

/**
 * {@code l0stream keys generate [--out var/keys/snapshot.key]}: a new Ed25519 key pair for signing
 * snapshots ({@code .key} private, owner-only; {@code .pub} beside it, for the servers that trust
 * it). {@code l0stream keys show [--key var/keys/snapshot.pub]} prints a public key's id.
 */
public final class KeysCommand {

    private KeysCommand() {}

    public static void main(String[] argv) throws Exception {
        if (argv.length == 0 || !(argv[0].equals("generate") || argv[0].equals("show"))) {
            throw new IllegalArgumentException("usage: l0stream keys generate [--out var/keys/snapshot.key] | show [--key <file.pub>]");
        }
        String[] rest = java.util.Arrays.copyOfRange(argv, 1, argv.length);
        if (argv[0].equals("generate")) {
            Args a = Args.parse(rest, List.of("--out"), List.of());
            Path out = Path.of(a.string("--out", Workspace.defaultSigningKey().toString()));
            KeyPair kp = SnapshotKeys.generate(out);
            System.out.println("keys: private key " + out + " (keep it secret; the publisher's signing-key)");
            System.out.println("keys: public key  " + SnapshotKeys.publicKeyFileFor(out) + " (give it to serving: --trusted-keys)");
            System.out.println("keys: key id " + SnapshotKeys.keyId(kp.getPublic()));
        } else {
            Args a = Args.parse(rest, List.of("--key"), List.of());
            Path pub = Path.of(a.string("--key", SnapshotKeys.publicKeyFileFor(Workspace.defaultSigningKey()).toString()));
            System.out.println(SnapshotKeys.keyId(SnapshotKeys.readPublic(pub)) + "  " + pub);
        }
    }

    /** The default signing key, generated on first use (saying so through {@code say}). */
    public static Path ensureDefaultKey(Consumer<String> say) throws IOException {
        Path key = Workspace.defaultSigningKey();
        if (!Files.exists(key)) {
            KeyPair kp = SnapshotKeys.generate(key);
            say.accept("keys: generated the snapshot signing key " + key + " (id " + SnapshotKeys.keyId(kp.getPublic())
                    + "); serving trusts " + SnapshotKeys.publicKeyFileFor(key));
        }
        return key;
    }
}

package dev.vecllama.io;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * How every file vecllama writes gets to its name: written in full under a temporary name beside it,
 * then renamed over it, so an interrupted or failed run leaves the old file (or none), never half a one.
 */
public final class AtomicFile {
    private AtomicFile() {}

    /**
     * A new empty temporary file in {@code out}'s directory. {@link Files#createTempFile} makes it
     * readable by its owner only; a model or a saved conversation should be readable like any other
     * file the user writes, so it gets rw-r--r-- (what the usual umask 022 gives).
     */
    public static Path temporaryBeside(Path out) throws IOException {
        Path dir = out.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, "." + out.getFileName() + ".", ".tmp");
        if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
        }
        return tmp;
    }

    /** Renames the complete {@code tmp} over {@code out}: atomically where the file system can. */
    public static void commit(Path tmp, Path out) throws IOException {
        try {
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Removes an uncommitted temporary file; quietly, since the failure that led here is the one to report. */
    public static void discard(Path tmp) {
        if (tmp == null) return;
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
            // the original failure is the one worth reporting
        }
    }
}

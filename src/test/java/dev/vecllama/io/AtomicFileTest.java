package dev.vecllama.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vecllama.gguf.GGUFWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFileTest {
    @TempDir
    Path dir;

    private List<Path> files() throws Exception {
        try (var s = Files.list(dir)) {
            return s.toList();
        }
    }

    @Test
    void committedFileIsReadableLikeAnyOtherAndReplacesTheOld() throws Exception {
        Path out = dir.resolve("out.bin");
        Files.writeString(out, "old");
        Path tmp = AtomicFile.temporaryBeside(out);
        Files.writeString(tmp, "new");
        AtomicFile.commit(tmp, out);
        assertEquals("new", Files.readString(out));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(out)));
        assertEquals(List.of(out), files());
    }

    @Test
    void discardedFileLeavesNothingAndKeepsTheOld() throws Exception {
        Path out = dir.resolve("out.bin");
        Files.writeString(out, "old");
        Path tmp = AtomicFile.temporaryBeside(out);
        assertTrue(Files.exists(tmp));
        AtomicFile.discard(tmp);
        assertFalse(Files.exists(tmp));
        assertEquals("old", Files.readString(out));
        assertEquals(List.of(out), files());
    }

    @Test
    void ggufFilesWeWriteAreNotOwnerOnly() throws Exception {
        Path out = dir.resolve("m.gguf");
        GGUFWriter w = new GGUFWriter();
        w.put("general.architecture", dev.vecllama.gguf.MetadataValue.string("llama"));
        w.write(out);
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(out)));
    }
}

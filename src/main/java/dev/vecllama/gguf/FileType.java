package dev.vecllama.gguf;

/** Names of {@code general.file_type} values (llama.cpp's llama_ftype numbering). */
public final class FileType {
    private FileType() {}

    private static final String[] NAMES = new String[64];

    static {
        String[] pairs = {
            "0", "F32", "1", "F16", "2", "Q4_0", "3", "Q4_1", "7", "Q8_0", "8", "Q5_0", "9", "Q5_1",
            "10", "Q2_K", "11", "Q3_K_S", "12", "Q3_K_M", "13", "Q3_K_L", "14", "Q4_K_S", "15", "Q4_K_M",
            "16", "Q5_K_S", "17", "Q5_K_M", "18", "Q6_K", "19", "IQ2_XXS", "20", "IQ2_XS", "21", "Q2_K_S",
            "22", "IQ3_XS", "23", "IQ3_XXS", "24", "IQ1_S", "25", "IQ4_NL", "26", "IQ3_S", "27", "IQ3_M",
            "28", "IQ2_S", "29", "IQ2_M", "30", "IQ4_XS", "31", "IQ1_M", "32", "BF16", "36", "TQ1_0",
            "37", "TQ2_0", "38", "MXFP4_MOE"
        };
        for (int i = 0; i < pairs.length; i += 2) NAMES[Integer.parseInt(pairs[i])] = pairs[i + 1];
    }

    /**
     * llama_ftype has no value for a file mostly in a vecllama type, so such a file states the
     * type's own id ({@link GGMLType#isExtension}), which no llama_ftype value will take.
     */
    public static String name(int fileType) {
        String n = fileType >= 0 && fileType < NAMES.length ? NAMES[fileType] : null;
        GGMLType ours = GGMLType.extension(fileType);
        return n != null ? n : ours != null ? ours.name() : "unknown (" + fileType + ")";
    }

    /** The id of a file type name, or -1. */
    public static int id(String name) {
        for (int i = 0; i < NAMES.length; i++) if (name.equals(NAMES[i])) return i;
        for (GGMLType t : GGMLType.values()) if (t.isExtension() && t.name().equals(name)) return t.id;
        return -1;
    }
}

package dev.vecllama.gguf;

/**
 * Tensor element types as numbered by ggml, and vecllama's own. Ids are the on-disk values; block
 * size is how many weights share one block and typeSize how many bytes such a block takes.
 *
 * <p>vecllama's types ({@link #isExtension}) have ids no ggml build uses, 0x564C0000 ("VL" in the
 * high half) plus a number, and a file must declare them in its metadata ({@link TypeDeclarations}):
 * {@link #byId} never returns them, so an undeclared use stays an unknown type. A row of such a type
 * may also hold group headers: every {@code groupBlocks} blocks of a row (the last group may be
 * shorter) are preceded by {@code groupBytes} bytes.
 */
public enum GGMLType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 18),
    Q4_1(3, 32, 20),
    Q5_0(6, 32, 22),
    Q5_1(7, 32, 24),
    Q8_0(8, 32, 34),
    Q8_1(9, 32, 36),
    Q2_K(10, 256, 84),
    Q3_K(11, 256, 110),
    Q4_K(12, 256, 144),
    Q5_K(13, 256, 176),
    Q6_K(14, 256, 210),
    Q8_K(15, 256, 292),
    IQ2_XXS(16, 256, 66),
    IQ2_XS(17, 256, 74),
    IQ3_XXS(18, 256, 98),
    IQ1_S(19, 256, 50),
    IQ4_NL(20, 32, 18),
    IQ3_S(21, 256, 110),
    IQ2_S(22, 256, 82),
    IQ4_XS(23, 256, 136),
    I8(24, 1, 1),
    I16(25, 1, 2),
    I32(26, 1, 4),
    I64(27, 1, 8),
    F64(28, 1, 8),
    IQ1_M(29, 256, 56),
    BF16(30, 1, 2),
    TQ1_0(34, 256, 54),
    TQ2_0(35, 256, 66),
    MXFP4(39, 32, 17),
    /** QLoRA's NormalFloat: per 64 weights an f16 absmax and 32 bytes of 4-bit codes (see quant.NF4). */
    NF4(GGMLType.EXTENSION_IDS + 1, 64, 34, 0, 0),
    /** NF4 with 8-bit block scales: per 64 weights one scale byte and the codes; per 256 blocks of a row an f32 step first. */
    NF4_DQ(GGMLType.EXTENSION_IDS + 2, 64, 33, 256, 4);

    /** The high half of every vecllama type id; the qualified use above is how an enum constant may name it. */
    static final int EXTENSION_IDS = 0x564C0000;

    public final int id;
    public final int blockSize;
    public final int typeSize;
    public final int groupBlocks;
    public final int groupBytes;

    GGMLType(int id, int blockSize, int typeSize) {
        this(id, blockSize, typeSize, 0, 0);
    }

    GGMLType(int id, int blockSize, int typeSize, int groupBlocks, int groupBytes) {
        this.id = id;
        this.blockSize = blockSize;
        this.typeSize = typeSize;
        this.groupBlocks = groupBlocks;
        this.groupBytes = groupBytes;
    }

    private static final GGMLType[] BY_ID = new GGMLType[64];

    static {
        for (GGMLType t : values()) if (!t.isExtension()) BY_ID[t.id] = t;
    }

    /** The ggml type with this on-disk id, or null when ggml has none we know of. */
    public static GGMLType byId(int id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[id] : null;
    }

    /** The vecllama type with this id, or null: valid only where the file declares it. */
    public static GGMLType extension(int id) {
        for (GGMLType t : values()) if (t.isExtension() && t.id == id) return t;
        return null;
    }

    /** A vecllama type rather than one of ggml's. */
    public boolean isExtension() {
        return (id & 0xFFFF0000) == EXTENSION_IDS;
    }

    /**
     * Bytes taken by {@code n} elements of a type without group headers (every ggml type); n must be
     * a multiple of the block size. Types with group headers size by the row: {@link #rowBytes}.
     */
    public long bytesFor(long n) {
        if (groupBlocks != 0) throw new IllegalStateException(this + " is sized per row (rowBytes)");
        return Math.multiplyExact(n / blockSize, (long) typeSize);
    }

    /** Bytes one row of {@code cols} elements takes, group headers included; cols a multiple of the block size. */
    public long rowBytes(long cols) {
        long blocks = cols / blockSize;
        long headers = groupBlocks == 0 ? 0 : Math.multiplyExact((blocks + groupBlocks - 1) / groupBlocks, (long) groupBytes);
        return Math.addExact(Math.multiplyExact(blocks, (long) typeSize), headers);
    }

    /** Bytes a tensor of these dims (dims[0] the row length) takes. */
    public long tensorBytes(long[] dims) {
        long rows = 1;
        for (int i = 1; i < dims.length; i++) rows = Math.multiplyExact(rows, dims[i]);
        return Math.multiplyExact(rows, rowBytes(dims[0]));
    }

    public double bitsPerWeight() {
        return 8.0 * typeSize / blockSize;
    }
}

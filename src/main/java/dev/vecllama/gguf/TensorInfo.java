package dev.vecllama.gguf;

/**
 * One tensor's entry in the GGUF header. {@code dims[0]} is the contiguous (row) dimension, as in
 * ggml. {@code type} is null when the file names a type id we do not know; such a tensor is only an
 * error once something tries to use it.
 */
public record TensorInfo(String name, long[] dims, int typeId, GGMLType type, long offset, long byteSize) {

    public long elementCount() {
        long n = 1;
        for (long d : dims) n *= d;
        return n;
    }

    /** The type, or a one-line error naming the tensor and the unknown id. */
    public GGMLType requireType() {
        if (type == null) {
            GGMLType ours = GGMLType.extension(typeId);
            String why = ours == null ? "" : " (vecllama's " + ours + ", but the file does not declare it in " + TypeDeclarations.LIST + ")";
            throw new GGUFFormatException("tensor " + name + ": unknown tensor type id " + typeId + why);
        }
        return type;
    }

    public long rows() {
        long r = 1;
        for (int i = 1; i < dims.length; i++) r *= dims[i];
        return r;
    }

    public long cols() {
        return dims.length == 0 ? 1 : dims[0];
    }
}

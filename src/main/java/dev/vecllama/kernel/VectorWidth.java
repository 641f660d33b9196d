package dev.vecllama.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one vector width every kernel of a run uses: the platform's preferred one unless
 * {@code -Dvecllama.vector.bits=512|256|128} asks for another, which is how the tests run the same
 * kernels at all three widths, each in its own JVM. Static finals, because C2 only intrinsifies vector
 * operations whose species is a compile-time constant.
 */
public final class VectorWidth {
    private VectorWidth() {}

    public static final int BITS = chosenBits();

    /** Floats at {@link #BITS}. */
    public static final VectorSpecies<Float> FLOATS = VectorSpecies.of(float.class, VectorShape.forBitSize(BITS));

    private static int chosenBits() {
        int bits = Integer.getInteger("vecllama.vector.bits", VectorShape.preferredShape().vectorBitSize());
        if (bits != 128 && bits != 256 && bits != 512) {
            throw new IllegalStateException("vecllama.vector.bits must be 128, 256 or 512, not " + bits);
        }
        return bits;
    }
}

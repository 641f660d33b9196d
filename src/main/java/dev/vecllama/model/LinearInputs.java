package dev.vecllama.model;

/**
 * The inputs of a model's linear layers, numbered for calibration and static scales: per layer
 * the attention norm's output (feeding Q, K, V), the attention output (feeding wo), the FFN norm's
 * output (feeding gate and up) and the SwiGLU output (feeding down); then the final norm's output
 * (feeding the output projection). Each is named after the weights it feeds, so the names read
 * like the tensors' own ({@code blk.3.attn_qkv}, {@code output}).
 */
public final class LinearInputs {
    public static final int ATTN_QKV = 0, ATTN_OUTPUT = 1, FFN_GATE_UP = 2, FFN_DOWN = 3;
    private static final int PER_LAYER = 4;
    private static final String[] LAYER_NAMES = {"attn_qkv", "attn_output", "ffn_gate_up", "ffn_down"};

    private LinearInputs() {}

    public static int count(int layers) {
        return layers * PER_LAYER + 1;
    }

    /** The index of input {@code which} (ATTN_QKV ..) of layer {@code layer}. */
    public static int of(int layer, int which) {
        return layer * PER_LAYER + which;
    }

    /** The index of the output projection's input. */
    public static int output(int layers) {
        return layers * PER_LAYER;
    }

    public static String name(int index, int layers) {
        if (index == output(layers)) return "output";
        return "blk." + index / PER_LAYER + "." + LAYER_NAMES[index % PER_LAYER];
    }
}

package dev.vecllama.cli;

import dev.vecllama.quant.NF4;
import picocli.CommandLine.Option;

/** Quantization to NF4 on load, shared by the commands that load a model to generate with (run, chat). */
final class NF4Options {
    @Option(names = "--nf4", description = "quantize the attention and FFN weights to NF4 on load (4.25 bits per weight)")
    boolean plain;

    @Option(names = "--nf4-double", description = "as --nf4, with the block scales quantized to 8 bits too (about 4.13 bits per weight; saved: quantize ... NF4_DQ)")
    boolean doubleQuant;

    /** The format asked for, or null to run the weights as stored. */
    NF4 format() {
        if (plain && doubleQuant) throw new IllegalArgumentException("--nf4 and --nf4-double are alternatives; give one");
        return plain ? NF4.INSTANCE : doubleQuant ? NF4.DOUBLE_QUANT : null;
    }
}

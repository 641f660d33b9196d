package dev.vecllama.cli;

import dev.vecllama.quant.ModelQuantizer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code quantize in.gguf out.gguf TYPE}: llama-quantize's job for the types vecllama computes with. */
@Command(name = "quantize", sortOptions = false,
        description = "Quantize an F32/F16/BF16 GGUF model. TYPE: Q8_0, Q4_0, Q4_K_M, TQ1_0, TQ2_0 (llama.cpp's mixes), Q4_K, Q6_K (every weight that type), "
                + "NF4, NF4_DQ (the attention/FFN weights as --nf4/--nf4-double convert them; a vecllama type other readers refuse).")
final class QuantizeCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "IN", description = "GGUF model with float weights")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT", description = "GGUF file to write (appears only when complete)")
    Path out;

    @Parameters(index = "2", paramLabel = "TYPE", description = "Q8_0, Q4_0, Q4_K, Q6_K, Q4_K_M, TQ1_0, TQ2_0, NF4 or NF4_DQ")
    String type;

    @Option(names = "--allow-requantize", description = "accept already-quantized input (dequantized first; loses more quality)")
    boolean allowRequantize;

    @Option(names = {"-t", "--threads"}, description = "threads (default: all cores)")
    Integer threads;

    @Override
    public Integer call() {
        ModelQuantizer.Target target = ModelQuantizer.Target.parse(type);
        long t0 = System.nanoTime();
        ModelQuantizer.quantize(in, out, target, allowRequantize, Options.threads(threads), System.err);
        System.err.printf("wrote %s (%s) in %.1f s%n", out, target, (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}

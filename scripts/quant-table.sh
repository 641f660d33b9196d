#!/usr/bin/env bash
# Reproduces README's "what does each quantization choice cost?" table on vl-tiny-f with valid.txt:
# PPL, mean KLD and same-top-token vs F16, bits per weight, file size and decode speed for every
# weight type x activation mode (f32, dynamic, static with each calibration method).
#   scripts/quant-table.sh [CHUNKS]      CHUNKS: chunks of valid.txt to score (default 4; "all" = the whole file)
# Environment: THREADS (default 2), CALIB_CHUNKS (calibration chunks of calib.txt, default 16),
# GEN (decode tokens timed, default 32), OUT (work directory, default target/quant-table).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="$(cd "$here/../shared" && pwd)"
chunks="${1:-4}"
threads="${THREADS:-2}"
calib_chunks="${CALIB_CHUNKS:-16}"
gen="${GEN:-32}"
out="${OUT:-$here/target/quant-table}"
ctx=256
run() { "$here/run.sh" "$@"; }
mkdir -p "$out"
chunk_opt=(); [ "$chunks" = all ] || chunk_opt=(--chunks "$chunks")

f16="$shared/models/vl-tiny-f-F16.gguf"
# Ours: the pure k-quant files llama.cpp's bundled set lacks (our Q8_0/Q4_0/Q4_K_M equal llama-quantize's byte for byte).
for t in Q4_K Q6_K; do
    [ -f "$out/vl-tiny-f-$t-vecllama.gguf" ] || run quantize "$f16" "$out/vl-tiny-f-$t-vecllama.gguf" "$t" -t "$threads" >/dev/null
done
models=("$f16" "$shared/models/vl-tiny-f-Q8_0.gguf" "$shared/models/vl-tiny-f-Q4_K_M.gguf" "$shared/models/vl-tiny-f-Q4_0.gguf"
        "$out/vl-tiny-f-Q6_K-vecllama.gguf" "$out/vl-tiny-f-Q4_K-vecllama.gguf")

scales="$out/scales.gguf"
[ -f "$scales" ] || run calibrate "$f16" -f "$shared/text/calib.txt" -o "$scales" -c "$ctx" --chunks "$calib_chunks" -t "$threads" 2>/dev/null
base="$out/f16-$chunks.kld"
[ -f "$base" ] || run perplexity "$f16" -f "$shared/text/valid.txt" -c "$ctx" "${chunk_opt[@]}" -t "$threads" --kl-divergence-base "$base" >/dev/null 2>&1

field() { sed -n "s/^$1 *: *\([^ ]*\).*/\1/p"; }
scored=$(( (ctx - 1 - ctx / 2) ))
if [ "$chunks" = all ]; then what="the whole of valid.txt"; else what="the first $chunks chunks of valid.txt ($((chunks * scored)) scored positions)"; fi
echo "vl-tiny-f, $what, -c $ctx, $threads threads; KLD and same-top vs F16 with dynamic activations; static scales from $calib_chunks chunks of calib.txt; decode = tg$gen"
echo
echo "| weights | activations | PPL | mean KLD | same top % | bits/weight | file size | decode tok/s |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for m in "${models[@]}"; do
    info="$(run info "$m" 2>/dev/null)"
    type="$(echo "$info" | sed -n 's/^file type: *//p')"
    case "$m" in "$out"/*) type="$type (ours)";; esac
    bpw="$(echo "$info" | sed -n 's/^bits per weight: *//p')"
    size="$(echo "$info" | sed -n 's/^file size:.*(\(.*\))/\1/p')"
    modes=(f32 dynamic)
    # F16 weights meet f16-rounded floats, never int8 activations: static would change nothing.
    [ "$m" = "$f16" ] || modes+=(static:absmax static:p99.9 static:p99.99 static:mse static:entropy)
    for mode in "${modes[@]}"; do
        act=(--act-quant "${mode%%:*}"); label="$mode"
        [ "${mode%%:*}" = static ] && act+=(--act-scales "$scales" --act-scale-method "${mode#*:}")
        report="$(run perplexity "$m" --kl-divergence-base "$base" --kl-divergence -t "$threads" "${act[@]}" 2>/dev/null)"
        ppl="$(echo "$report" | field 'PPL(Q)')"
        kld="$(echo "$report" | field 'Mean KLD')"
        top="$(echo "$report" | field 'Same top token')"
        tg="$(run bench "$m" -p 0 -n "$gen" -r 2 -t "$threads" "${act[@]}" 2>/dev/null | sed -n "s/.*| tg$gen | \([0-9.]*\) ±.*/\1/p")"
        echo "| $type | $label | $ppl | $kld | $top | $bpw | $size | $tg |"
    done
done

#!/usr/bin/env bash
# vecllama launcher: finds a JDK 22+, builds the jar on first use (or when sources changed), runs it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/scripts/find-jdk.sh"
find_jdk || exit 1
export JAVA_HOME="$VECLLAMA_JAVA_HOME"

jar="$here/target/vecllama.jar"
if [ ! -f "$jar" ] || [ -n "$(find "$here/src/main" "$here/pom.xml" -newer "$jar" -print -quit 2>/dev/null)" ]; then
    if ! command -v mvn >/dev/null 2>&1; then
        echo "vecllama: Maven (mvn) is needed to build the jar; install it (e.g. apt-get install maven)" >&2
        exit 1
    fi
    echo "vecllama: building target/vecllama.jar (first run only) ..." >&2
    if ! (cd "$here" && mvn -q -B -DskipTests package >"$here/target-build.log" 2>&1); then
        echo "vecllama: build failed; see $here/target-build.log" >&2
        exit 1
    fi
    rm -f "$here/target-build.log"
fi

# The JVM announces incubator modules on stderr before main; that line is not for users.
exec 2> >(sed -u '1{/^WARNING: Using incubator modules/d}' >&2)
# Vector loads skip their per-access bounds checks (about a fifth of decode time): every tensor's
# extent is checked against the file and every matrix's shape against the model when it loads, and
# the kernels index only within those rows. Tests run with the checks on.
# Each format's kernels (dot*, unpack*) are compiled as roots of their own (dontinline): inlined into the row loop
# that calls it, a kernel can exceed C2's inlining budget, and its vector operations then fall back
# to the Java implementation for the rest of the run (20x slower, in some runs and not others).
# No top-tier on-stack replacement: the row kernels take a whole matrix per call, so C2 compiled a
# version of each for every loop level it was caught in, queued behind one another; without them a
# tiny TQ1_0 model's first 200 tokens took 2.6-2.7 s instead of 3.6-3.7 s (steady state unchanged).
# Serial GC and a small starting heap: the weights live in the mapped file, the heap holds little,
# and this keeps the resident set near file size + KV cache (a 1B Q4_K_M model: ~45 MiB over its file).
# A 2 MiB young generation: by default it is a third of the heap and grows with it (5-7 MiB once the
# tokenizer and a prompt batch's buffers are in), and every page of it is touched between collections.
# Peak RSS, tiny Q4_K_M: 200-token run 99-101 -> 94-96 MiB, bench -p 256 122-126 -> 118-121 MiB (F16:
# 112-113 -> 108-111, 134-135 -> 131-133). Warm-up collects more often (bench -p 0: 700 -> 2100 pauses
# of under 0.1 ms) but decode allocates nothing: tg64 and time to first token unchanged (2026-12-07).
# A kernel left in the Vector API's Java fallback allocates on every call, and then collects three
# times as often as with the default (README Speed: a 1.1B TQ1_0 prompt's 30,000 collections).
# The native heap trimmed every second: the compilers' scratch memory goes back to the system once the
# kernels are compiled (tiny Q4_K_M after bench: 124 -> 88 MiB resident). The flag is experimental in
# JDK 22 and a product flag from 23, so it is unlocked first.
exec "$JAVA_HOME/bin/java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
    -XX:CompileCommand=quiet -XX:CompileCommand=dontinline,dev.vecllama.quant.*::dot* -XX:CompileCommand=dontinline,dev.vecllama.quant.*::unpack* \
    -XX:Tier4BackEdgeThreshold=100000000 -XX:+UseSerialGC -XX:+UnlockExperimentalVMOptions -XX:TrimNativeHeapInterval=1000 -Xms16m -Xmn2m -Xss4m -Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0 ${VECLLAMA_JAVA_OPTS:-} -jar "$jar" "$@"

#!/usr/bin/env bash
# Runs the JMH benchmarks in src/jmh on a JDK 22+ (found like run.sh finds it), e.g.
#   scripts/jmh.sh "MatvecBench -p type=Q8_0 -f 1"
# Maven itself must run on that JDK: the benchmark JVM is the one Maven runs on.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$here/scripts/find-jdk.sh"
find_jdk || exit 1
export JAVA_HOME="$VECLLAMA_JAVA_HOME"
cd "$here"
exec mvn -q -B -Pjmh verify -Djmh.args="${1:--h}"

# Sourced by run.sh and .ci/run: sets VECLLAMA_JAVA_HOME to a JDK 22 or newer, or explains what is missing.
# Looks at $JAVA_HOME first, then every JDK under /usr/lib/jvm (newest first), then the java on PATH.

# The JDK's release file when it has one: starting a JVM only to ask its version cost every run
# about 0.17 s before its first token.
java_feature_version() {
    local v
    v=$(sed -n 's/^JAVA_VERSION="\([0-9.]*\).*/\1/p' "$1/release" 2>/dev/null | head -n 1)
    [ -n "$v" ] || v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 \
        | sed -n 's/^ *java\.specification\.version = \([0-9.]*\).*/\1/p' | head -n 1)
    echo "$v"
}

find_jdk() {
    local candidates=() dir v
    [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
    for dir in $(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -rV); do candidates+=("${dir%/}"); done
    if command -v java >/dev/null 2>&1; then
        candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
    fi
    for dir in "${candidates[@]}"; do
        [ -x "$dir/bin/java" ] && [ -x "$dir/bin/javac" ] || continue
        v=$(java_feature_version "$dir")
        v=${v%%.*}
        if [ -n "$v" ] && [ "$v" -ge 22 ] 2>/dev/null && [ -d "$dir/jmods" -o -f "$dir/lib/modules" ]; then
            VECLLAMA_JAVA_HOME="$dir"
            return 0
        fi
    done
    echo "vecllama: no JDK 22 or newer found (looked at \$JAVA_HOME, /usr/lib/jvm/* and java on PATH);" \
         "install one (e.g. Temurin 25) and/or set JAVA_HOME to it" >&2
    return 1
}

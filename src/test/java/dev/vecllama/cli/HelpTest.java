package dev.vecllama.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/** Every verb answers -h/--help with its usage, even though its required MODEL (or IN/OUT) is missing. */
class HelpTest {

    /** The verbs as registered, so a verb added later is covered without editing this test. */
    static List<String> verbs() {
        return List.copyOf(new CommandLine(new RunCommand()).getSubcommands().keySet());
    }

    static Stream<Arguments> verbAndFlag() {
        return verbs().stream().flatMap(v -> Stream.of(Arguments.of(v, "-h"), Arguments.of(v, "--help")));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("verbAndFlag")
    void everyVerbPrintsUsageAndSucceeds(String verb, String flag) {
        CliRun r = CliRun.of(verb, flag);
        assertEquals(0, r.exitCode(), () -> verb + " " + flag + " failed: " + r.err());
        assertTrue(r.out().startsWith("Usage: vecllama " + verb), () -> "no usage for " + verb + ": " + r.out());
        assertEquals("", r.err());
    }

    @Test
    void topLevelHelpListsEveryVerb() {
        CliRun r = CliRun.of("--help");
        assertEquals(0, r.exitCode());
        String commands = r.out().substring(r.out().indexOf("Commands:"));
        for (String verb : verbs()) assertTrue(commands.contains("\n  " + verb + " "), () -> verb + " not listed:\n" + commands);
        assertTrue(verbs().size() >= 7, "verbs: " + verbs());
    }
}

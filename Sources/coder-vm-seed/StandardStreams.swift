import ArgumentParser
import Foundation
import Seed

/// Prints a message to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
}

/// Writes text to standard output exactly as given.
func writeOutput(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}

/// Runs `body`, turning a SeedError into its message and exit code.
func reportingErrors(_ body: () throws(SeedError) -> Void) throws {
    do {
        try body()
    } catch {
        printError(error.description)
        throw ExitCode(error.exitCode)
    }
}

import Glibc

/// Prints a line to standard error (write(2): no shared C `FILE *` state).
func printError(_ text: String) {
    let line = text + "\n"
    _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
}

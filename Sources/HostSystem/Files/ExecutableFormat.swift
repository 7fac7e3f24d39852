/// What the first bytes of a file say it is, to refuse a download that is
/// not a program (an HTML error page served with 200) before it replaces a
/// working binary.
public enum ExecutableFormat: Equatable, Sendable {
    /// An ELF executable or shared object for `machine` (`e_machine`).
    case elf(machine: UInt16)
    /// A script with a `#!` line naming its interpreter.
    case script(interpreter: String)
    case notExecutable

    public init(prefix bytes: [UInt8]) {
        if bytes.count >= 20, bytes[0] == 0x7F, bytes[1] == UInt8(ascii: "E"), bytes[2] == UInt8(ascii: "L"),
            bytes[3] == UInt8(ascii: "F")
        {
            // e_machine is at offset 18, in the byte order EI_DATA (byte 5) names.
            let machine = bytes[5] == 2 ? UInt16(bytes[18]) << 8 | UInt16(bytes[19]) : UInt16(bytes[19]) << 8 | UInt16(bytes[18])
            self = .elf(machine: machine)
        } else if bytes.count > 3, bytes[0] == UInt8(ascii: "#"), bytes[1] == UInt8(ascii: "!") {
            let line = bytes.dropFirst(2).prefix { $0 != UInt8(ascii: "\n") }
            let interpreter = String(decoding: line, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
            self = interpreter.hasPrefix("/") ? .script(interpreter: interpreter) : .notExecutable
        } else {
            self = .notExecutable
        }
    }

    /// Runs on this machine: an ELF for its architecture, or a script.
    public var runsHere: Bool {
        switch self {
        case .elf(let machine): machine == Machine.elfMachine
        case .script: true
        case .notExecutable: false
        }
    }
}

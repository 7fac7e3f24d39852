import Glibc

/// What a write to a pipe or socket whose reader is gone does in this process.
public enum BrokenPipes {
    /// Such a write fails with EPIPE instead of killing the process
    /// (SIGPIPE's default action): the daemon writes requests to children
    /// that may have exited first (a spare fetch worker that died while it
    /// waited). Children start with every signal's default action again
    /// (swift-subprocess resets them when it spawns), so their own pipelines
    /// behave as usual. Under its unit systemd already starts the daemon so
    /// (`IgnoreSIGPIPE=yes` is the default); this holds when it is run by
    /// hand too. Wraps signal(2) with SIG_IGN.
    public static func failWrites() {
        signal(SIGPIPE, SIG_IGN)
    }
}

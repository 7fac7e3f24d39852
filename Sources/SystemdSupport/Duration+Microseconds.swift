extension Duration {
    /// Whole microseconds, rounded up, clamped to `0...UInt64.max`: the unit
    /// systemd takes timeouts in. Rounding up because asking systemd for a
    /// bit more time is harmless and for less is not.
    var microsecondsRoundedUp: UInt64 {
        let (seconds, attoseconds) = components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000)
        if overflow { return .max }
        let fraction = UInt64((attoseconds + 999_999_999_999) / 1_000_000_000_000)
        let (total, overflow2) = whole.addingReportingOverflow(fraction)
        return overflow2 ? .max : total
    }
}

/// The release both executables report with `--version`; packaging/ reads it from here.
public enum BuildInfo {
    public static let version = "0.1.0"
}

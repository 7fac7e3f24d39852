// swift-tools-version:6.1
import PackageDescription

// Two executables over small library modules. The in-VM daemon
// (coder-vm-bootstrap) must stay portable across seven distributions, so
// nothing in its graph may import full Foundation (ICU) or link libcurl
// directly (versioned symbols): see scripts/check-portability.sh.
let package = Package(
    name: "coder-vm-bootstrap",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "coder-vm-bootstrap", targets: ["coder-vm-bootstrap"]),
        .executable(name: "coder-vm-seed", targets: ["coder-vm-seed"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.11.0"),
        // Without its Foundation trait: the daemon stays FoundationEssentials-only.
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.0", traits: []),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        // Host side only: YAML in and out for the companion. Never a
        // dependency of the daemon (it pulls in ICU).
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // C interop: module maps and thin shims, nothing else.
        .systemLibrary(
            name: "CSystemd", pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"]), .yum(["systemd-devel"])]),
        // dlopen() and dlsym() for the three loaders below.
        .target(name: "CDynamicLibrary", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "CCurl", dependencies: ["CDynamicLibrary"]),
        // zlib, dlopen'ed like libcurl: <zlib.h> at build time only.
        .target(name: "CZlib", dependencies: ["CDynamicLibrary"]),
        .target(name: "CGlibcCompat"),
        .target(name: "CLinuxExtensions"),
        // libcrypto, dlopen'ed like libcurl (only a process that hashes maps
        // it): <openssl/evp.h> (libssl-dev, openssl-devel) at build time only.
        .target(name: "CCrypto", dependencies: ["CDynamicLibrary"]),

        .target(name: "WorkspaceSpec"),
        // The seven distributions and their families' facts, for both
        // executables (the daemon matches os-release to a row, the companion
        // picks one by name).
        .target(name: "Distributions"),
        .target(
            name: "SystemdSupport",
            dependencies: [
                "CSystemd",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(name: "Fetch", dependencies: ["CCurl", "CCrypto"]),
        // The system layer: the only module of the daemon that makes system
        // calls (files below trusted roots, commands with deadlines, sockets).
        .target(
            name: "HostSystem",
            dependencies: [
                "CZlib", "CLinuxExtensions",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]),
        .target(
            name: "Bootstrap",
            dependencies: [
                "WorkspaceSpec", "Distributions", "SystemdSupport", "Fetch", "HostSystem",
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Host side only (full Foundation and Yams are fine here). CCrypto
        // gives SHA-1 for the name-based firmware UUID.
        .target(
            name: "Seed",
            dependencies: [
                "WorkspaceSpec", "Distributions", "CCrypto",
                .product(name: "Yams", package: "Yams"),
            ]),
        // Fakes for the supervisor's tests: units whose programs a test
        // scripts, a clock that moves only when slept on, an event recorder.
        .target(name: "BootstrapTestKit", dependencies: ["Bootstrap", "SystemdSupport", "WorkspaceSpec"]),
        .executableTarget(
            name: "coder-vm-bootstrap",
            dependencies: [
                "Bootstrap", "HostSystem", "WorkspaceSpec", "SystemdSupport", "CGlibcCompat",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // --no-export-dynamic: the Swift static stdlib's link arguments export
            // every symbol (about 5,000 no one looks up): 0.56 MB of the stripped
            // binary (bench/link_variants.py).
            linkerSettings: [.unsafeFlags(["-Xlinker", "--wrap=hypotf", "-Xlinker", "--no-export-dynamic"])]
        ),
        .executableTarget(
            name: "coder-vm-seed",
            dependencies: [
                "Seed", "WorkspaceSpec",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // Not shipped: runs Fetch the way the daemon does, for bench/ (downloads
        // against the curl CLI, the fleet simulation).
        .executableTarget(name: "bench-fetch", dependencies: ["Fetch"], path: "bench/bench-fetch"),

        // Depends on the daemon so `swift test` builds it: every bad spec is also checked through check-config.
        .testTarget(name: "WorkspaceSpecTests", dependencies: ["WorkspaceSpec", "BootstrapTestKit", "coder-vm-bootstrap"]),
        .testTarget(name: "SystemdSupportTests", dependencies: ["SystemdSupport"]),
        .testTarget(name: "DistributionsTests", dependencies: ["Distributions"]),
        .testTarget(name: "FetchTests", dependencies: ["Fetch"], resources: [.copy("Resources")]),
        // Depends on the executable so `swift test` builds it for the CLI tests.
        .testTarget(name: "BootstrapTests", dependencies: ["Bootstrap", "BootstrapTestKit", "coder-vm-bootstrap"]),
        .testTarget(name: "HostSystemTests", dependencies: ["HostSystem", "BootstrapTestKit"]),
        // Depends on the executable so `swift test` builds it: the tests run
        // the real binary for exit codes and the Terraform protocol.
        .testTarget(
            name: "SeedTests",
            dependencies: [
                "Seed", "WorkspaceSpec", "coder-vm-seed",
                .product(name: "Yams", package: "Yams"),
            ], exclude: ["Validators"]),
    ]
)

// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "repro",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "repro", targets: ["repro"]),
        .library(name: "Engine", targets: ["Engine"]),
        .library(name: "Model", targets: ["Model"]),
        .library(name: "Metrics", targets: ["Metrics"]),
        .library(name: "Data", targets: ["Data"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // System libraries: Debian's OpenBLAS (pthread build) and Cairo, found through pkg-config.
        .systemLibrary(
            name: "CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CCairo", pkgConfig: "cairo",
            providers: [.apt(["libcairo2-dev"])]),
        // OpenSSL's libcrypto for SHA-256: swift-crypto compiles BoringSSL from source (359 of the
        // build's 402 steps, 52 s of a 200-s release build) for this one digest.
        .systemLibrary(
            name: "COpenSSL", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]),

        .target(name: "Engine", dependencies: ["CBLAS"]),
        .target(name: "Model", dependencies: ["Engine"]),
        // ROUGE, BLEU and MME as their reference implementations compute them; Foundation only.
        .target(name: "Metrics"),
        // The rendered world, its corpora, the tokenizer and the real VL-RewardBench loader.
        .target(name: "Data", dependencies: ["Engine", "CCairo"]),
        // Study files (catalog, resolution, hash, profiles), the workspace and the results store:
        // what a study is and what it left behind, nothing that trains.
        .target(
            name: "Study",
            dependencies: [
                "Engine", "Model", "Data", "COpenSSL",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]),
        // The pipeline that trains and evaluates a study: runner, stages, trainer, objectives, gates, evaluation.
        .target(
            name: "Pipeline",
            dependencies: [
                "Study", "Engine", "Model", "Data", "Metrics",
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Figure 2, Tables 1-2, the check against the paper and the report: reads results (the store
        // opened read-only) and cannot train, since it does not depend on Pipeline.
        .target(
            name: "Report",
            dependencies: [
                "Study", "Metrics", "CCairo",
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]),
        .executableTarget(
            name: "repro",
            dependencies: [
                "Engine",
                "Model",
                "Metrics",
                "Data",
                "Study",
                "Pipeline",
                "Report",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // The bad-input corpus (Tests/BadInput) and the fuzzers' mutator, shared by the test targets.
        .target(name: "TestSupport", dependencies: ["Metrics"], path: "Tests/TestSupport"),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "ModelTests", dependencies: ["Model", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "MetricsTests", dependencies: ["Metrics", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "DataTests", dependencies: ["Data", "Engine", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(
            name: "StudyTests",
            dependencies: ["Study", "Pipeline", "Data", "Model", "TestSupport", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "Study", "Metrics", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)

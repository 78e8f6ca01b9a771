// swift-tools-version:6.1
import PackageDescription

/// Settings shared by every target (see docs/architecture.md, "Build settings").
let strictSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// Numeric targets are optimised even in debug builds: the test suite trains real models, and unoptimised
/// Swift numeric code is 20-100x slower. This changes speed only, never results: the same flags apply to the test
/// build and to the `cohort` binary those tests launch.
let numericSettings: [SwiftSetting] = strictSettings + [
    .unsafeFlags(["-O"], .when(configuration: .debug))
]

let package = Package(
    name: "cohort",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "cohort", targets: ["cohort"]),
        .library(name: "CohortTesting", targets: ["CohortTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .target(
            name: "CohortTensor",
            swiftSettings: numericSettings
        ),
        .target(
            name: "CohortModel",
            dependencies: [
                "CohortTensor",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: numericSettings
        ),
        .target(
            name: "CohortData",
            dependencies: [
                "CohortTensor",
                "CohortModel",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: numericSettings
        ),
        .target(
            name: "CohortCompression",
            dependencies: [
                "CohortTensor",
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: numericSettings
        ),
        .target(
            name: "CohortPrivacy",
            dependencies: ["CohortTensor", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: numericSettings
        ),
        .target(
            name: "CohortSecAgg",
            dependencies: [
                "CohortTensor",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: numericSettings
        ),
        .target(
            name: "CohortAnalytics",
            dependencies: [
                "CohortTensor", "CohortModel", "CohortData", "CohortPrivacy",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: numericSettings
        ),
        .target(
            name: "CohortStrategy",
            dependencies: ["CohortTensor", "CohortModel", "CohortPrivacy", "CohortCompression"],
            swiftSettings: numericSettings
        ),
        .target(
            name: "CohortRuntime",
            dependencies: [
                "CohortTensor", "CohortModel", "CohortData", "CohortStrategy", "CohortPrivacy", "CohortSecAgg", "CohortAnalytics",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: numericSettings
        ),
        .target(
            name: "CohortStore",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "CohortPKI",
            dependencies: [
                "CohortAnalytics",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "CohortWire",
            dependencies: [
                "CohortModel", "CohortStrategy", "CohortRuntime", "CohortCompression", "CohortSecAgg",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            exclude: ["Protos"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "CohortCoordinator",
            dependencies: [
                "CohortTensor", "CohortModel", "CohortData", "CohortStrategy", "CohortRuntime", "CohortWire", "CohortStore", "CohortPKI", "CohortCompression", "CohortSecAgg", "CohortAnalytics",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "CohortSite",
            dependencies: [
                "CohortTensor", "CohortModel", "CohortData", "CohortStrategy", "CohortRuntime", "CohortWire", "CohortStore", "CohortPKI", "CohortPrivacy", "CohortCompression", "CohortSecAgg", "CohortAnalytics",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "CohortReport",
            dependencies: ["CohortModel", "CohortRuntime", "CohortPrivacy", "CohortCompression"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "CohortCLI",
            dependencies: [
                "CohortTensor", "CohortModel", "CohortData", "CohortStrategy", "CohortRuntime", "CohortReport",
                "CohortWire", "CohortStore", "CohortPKI", "CohortCoordinator", "CohortSite", "CohortPrivacy", "CohortSecAgg",
                "CohortCompression", "CohortAnalytics",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "cohort",
            dependencies: ["CohortCLI"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "CohortTesting",
            dependencies: ["CohortTensor", "CohortModel", "CohortData", "CohortStrategy", "CohortRuntime"],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "CohortTensorTests", dependencies: ["CohortTensor", "CohortTesting"], swiftSettings: numericSettings),
        .testTarget(name: "CohortModelTests", dependencies: ["CohortModel", "CohortTesting"], swiftSettings: numericSettings),
        .testTarget(name: "CohortCompressionTests", dependencies: ["CohortCompression", "CohortTensor", "CohortTesting"], swiftSettings: numericSettings),
        .testTarget(
            name: "CohortAnalyticsTests",
            dependencies: [
                "CohortAnalytics", "CohortData", "CohortPrivacy", "CohortTensor", "CohortTesting",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: numericSettings
        ),
        .testTarget(name: "CohortPrivacyTests", dependencies: ["CohortPrivacy", "CohortTensor", "CohortTesting"], swiftSettings: numericSettings),
        .testTarget(
            name: "CohortSecAggTests",
            dependencies: ["CohortSecAgg", "CohortTensor", "CohortTesting", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: numericSettings
        ),
        .testTarget(
            name: "CohortStrategyTests",
            dependencies: ["CohortStrategy", "CohortRuntime", "CohortData", "CohortModel", "CohortTensor", "CohortTesting"],
            swiftSettings: numericSettings
        ),
        .testTarget(name: "CohortDataTests", dependencies: ["CohortData", "CohortRuntime", "CohortTesting"], swiftSettings: numericSettings),
        .testTarget(
            name: "CohortRuntimeTests",
            dependencies: ["CohortRuntime", "CohortStrategy", "CohortReport", "CohortTesting", "CohortModel", "CohortData", "CohortTensor", "CohortPrivacy", "CohortWire"],
            swiftSettings: numericSettings
        ),
        .testTarget(
            name: "CohortStoreTests",
            dependencies: [
                "CohortStore", "CohortTesting",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CohortPKITests",
            dependencies: [
                "CohortPKI", "CohortTesting", "CohortAnalytics",
                .product(name: "X509", package: "swift-certificates"), .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CohortNetworkTests",
            dependencies: [
                "CohortCoordinator", "CohortSite", "CohortPKI", "CohortWire", "CohortStore", "CohortRuntime", "CohortData",
                "CohortModel", "CohortStrategy", "CohortTensor", "CohortTesting", "CohortPrivacy",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CohortCLITests",
            dependencies: [
                "CohortCLI", "CohortTesting", "CohortData", "CohortModel", "CohortRuntime", "CohortStrategy", "CohortStore",
                "CohortTensor", "CohortPKI", "CohortAnalytics", "cohort", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)

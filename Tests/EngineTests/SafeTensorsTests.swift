import Engine
import Foundation
import Testing

@Suite struct SafeTensorsTests {
    @Test func roundTripKeepsNamesShapesValuesAndMetadata() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("roundtrip-\(getpid()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let tensors = ["b.weight": random([3, 2], seed: 1), "a": random([5], seed: 2), "scalar": Tensor(shape: [], values: [7]),
                       "empty": Tensor(zeros: [0, 4])]
        try SafeTensors.write(tensors, metadata: ["format": "pt"], to: url)
        let file = try SafeTensors.read(url)
        #expect(file.names == ["a", "b.weight", "empty", "scalar"])
        #expect(file.metadata == ["format": "pt"])
        for (name, t) in tensors {
            let read = try file.tensor(name)
            #expect(read.shape == t.shape)
            #expect(read.values == t.values)
        }
    }

    @Test func readsEveryDTypeThePythonPackageWrites() throws {
        let file = try fixture("dtypes")
        #expect(file.metadata["safetensors"] != nil, "the fixture records the package version that wrote it")
        // The values tools/make_engine_fixtures.py writes (float32 rounds each literal the same way).
        let written: [Float] = [0, 1, -2.5, 3.140625, 65504, -1e-4, 6e-8, 0.333]
        #expect(try file.tensor("f32").values == written)
        #expect(try file.tensor("f16").values == file.tensor("f16_as_f32").values)
        #expect(try file.tensor("bf16").values == file.tensor("bf16_as_f32").values)
        #expect(try file.tensor("f64").values == file.tensor("f32").values)
        #expect(try file.tensor("f32").shape == [2, 4])
        let i64 = try file.integers("i64")
        #expect(i64.values == [1, -2, 3, 1 << 40, 0, -(1 << 33)] && i64.shape == [2, 3])
        #expect(try file.integers("i32").values == [7, -8])
        #expect(try file.integers("bool").values == [1, 0, 1])
        #expect(try file.tensor("empty").shape == [0, 3])
        #expect(throws: SafeTensorsError.self) { try file.tensor("i64") }
        #expect(throws: SafeTensorsError.self) { try file.tensor("missing") }
    }

    /// A valid file's bytes with its JSON header replaced.
    func withHeader(_ json: String, data: Int = 8) -> Data {
        var bytes = Data()
        withUnsafeBytes(of: UInt64(json.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(Data(json.utf8))
        bytes.append(Data(count: data))
        return bytes
    }

    @Test(arguments: [
        ("short", "shorter than the 8-byte header length"),
        ("huge header", "not a safetensors file"),
        ("cut header", "truncated"),
        ("not json", "not valid JSON"),
        ("bad dtype", "unsupported dtype X9"),
        ("bad shape", "shape is not a list"),
        ("size mismatch", "needs 8 bytes, data_offsets give 4"),
        ("past end", "truncated"),
        ("overlap", "overlap"),
    ])
    func malformedFilesAreRejectedWithTheReason(name: String, reason: String) throws {
        let valid = try SafeTensors.serialize(["x": Tensor(shape: [2], values: [1, 2])])
        let bytes: Data
        switch name {
        case "short": bytes = valid.prefix(5)
        case "huge header": bytes = Data([0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0]) + valid.dropFirst(8)
        case "cut header": bytes = valid.prefix(20)
        case "not json": bytes = withHeader("{\"x\": [")
        case "bad dtype": bytes = withHeader(#"{"x":{"dtype":"X9","shape":[2],"data_offsets":[0,8]}}"#)
        case "bad shape": bytes = withHeader(#"{"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#)
        case "size mismatch": bytes = withHeader(#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#)
        case "past end": bytes = withHeader(#"{"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#)
        default: bytes = withHeader(#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"y":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#)
        }
        #expect(throws: SafeTensorsError.self) { try SafeTensors.parse(bytes, path: "damaged.safetensors") }
        do {
            _ = try SafeTensors.parse(bytes, path: "damaged.safetensors")
        } catch let error as SafeTensorsError {
            #expect(error.description.hasPrefix("damaged.safetensors: "))
            #expect(error.description.contains(reason), "\(error)")
        }
    }
}

@Suite struct ParameterSetTests {
    @Test func loadsMatchingTensorsAndNamesTheFreshOnes() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("params-\(getpid()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let saved = ParameterSet([Tensor(shape: [2], values: [1, 2], name: "a"), Tensor(shape: [3], values: [3, 4, 5], name: "b")])
        try SafeTensors.write(saved.byName, to: url)

        let model = ParameterSet([Tensor(zeros: [2], requiresGrad: true, name: "a"), Tensor(zeros: [4], requiresGrad: true, name: "b"),
                                  Tensor(zeros: [1], name: "c")])
        let result = try model.load(from: SafeTensors.read(url))
        #expect(result.loaded == ["a"] && result.fresh == ["b", "c"])
        #expect(model["a"]!.values == [1, 2] && model["b"]!.values == [0, 0, 0, 0])
        #expect(model.count == 7 && model.trainableCount == 6)
        model.setTrainable { $0 == "c" }
        #expect(model.trainable.map(\.name) == ["c"])
    }
}

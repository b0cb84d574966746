import Engine

/// Classification heads over the vision encoder, for pretraining it with direct supervision (the
/// stand-in for EVA-CLIP): per grid cell (patch tokens averaged over the cell), per patch, or for
/// the whole image (the class token). The heads are discarded after pretraining; only the ViT is kept.
public final class VisionProbe {
    /// What a head reads.
    public enum Reads: Sendable {
        /// Each grid cell: its patch tokens averaged by area.
        case cell
        /// Each patch token on its own.
        case patch
        /// The class token, for `slots` outputs.
        case classToken(slots: Int)
    }

    /// One head: `classes` logits for each cell, patch or class-token slot.
    public struct Head: Sendable {
        public let name: String
        public let classes: Int
        public let reads: Reads

        public init(name: String, classes: Int, reads: Reads) {
            self.name = name
            self.classes = classes
            self.reads = reads
        }

        var outputsPerRead: Int {
            if case .classToken(let slots) = reads { return slots }
            return 1
        }
    }

    public let heads: [Head]
    public let grid: Int
    let linears: [Linear]
    /// `[N, grid²]`: the share of each patch's area in each cell, each column summing to 1.
    let cellPooling: Tensor
    /// Per patch in reading order, the grid cell holding most of it (cells in reading order): what
    /// a patch token must carry for a query to find a cell's patches by position.
    public let patchCells: [Int]

    public init(vision: VisionConfig, heads: [Head], grid: Int = 3, seed: UInt64) {
        self.heads = heads
        self.grid = grid
        let builder = ParameterBuilder(seed: seed)
        let scope = builder.scope("probe")
        linears = heads.map { head in
            scope.linear(head.name, vision.hiddenSize, head.classes * head.outputsPerRead, std: vision.initializerRange)
        }
        let patchesPerSide = vision.imageSize / vision.patchSize
        var weights = [Float](repeating: 0, count: patchesPerSide * patchesPerSide * grid * grid)
        let cellSide = Float(vision.imageSize) / Float(grid), patch = Float(vision.patchSize)
        func overlap(_ a0: Float, _ a1: Float, _ b0: Float, _ b1: Float) -> Float { max(0, min(a1, b1) - max(a0, b0)) }
        for py in 0..<patchesPerSide {
            for px in 0..<patchesPerSide {
                for cy in 0..<grid {
                    for cx in 0..<grid {
                        let area = overlap(Float(px) * patch, Float(px + 1) * patch, Float(cx) * cellSide, Float(cx + 1) * cellSide)
                            * overlap(Float(py) * patch, Float(py + 1) * patch, Float(cy) * cellSide, Float(cy + 1) * cellSide)
                        weights[(py * patchesPerSide + px) * grid * grid + cy * grid + cx] = area / (cellSide * cellSide)
                    }
                }
            }
        }
        cellPooling = Tensor(shape: [patchesPerSide * patchesPerSide, grid * grid], values: weights)
        let cells = grid * grid
        patchCells = (0..<(patchesPerSide * patchesPerSide)).map { patch in
            let shares = weights[(patch * cells)..<((patch + 1) * cells)]
            return shares.indices.max { shares[$0] < shares[$1] }! - patch * cells
        }
    }

    public var parameters: [Tensor] { linears.flatMap { [$0.weight] + ($0.bias.map { [$0] } ?? []) } }

    /// Each head's logits: `[B * grid², classes]` per cell (cells in reading order within each
    /// image), `[B * N, classes]` per patch, `[B * slots, classes]` from the class token.
    public func logits(_ model: InstructBlip, pixels: Tensor, _ context: ForwardContext) -> [Tensor] {
        let features = model.vision(pixels, context)  // [B, N+1, D]
        let (b, n, d) = (features.shape[0], features.shape[1] - 1, features.shape[2])
        let classToken = reshape(slice(features, axis: 1, 0..<1), [b, d])
        // [B, D, cells] = patchesᵀ @ pooling, then [B, cells, D]
        let patches = slice(features, axis: 1, 1..<(n + 1))  // [B, N, D]
        let cells = permute(matmul(patches, cellPooling, transposeA: true), [0, 2, 1])
        return zip(heads, linears).map { head, linear in
            switch head.reads {
            case .cell: return reshape(linear(cells, context), [b * grid * grid, head.classes])
            case .patch: return reshape(linear(patches, context), [b * n, head.classes])
            case .classToken(let slots): return reshape(linear(classToken, context), [b * slots, head.classes])
            }
        }
    }
}

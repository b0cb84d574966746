import Data
import Engine
import Foundation
import Model
import TOMLKit

/// A study after `extends` and the profile are merged, validated, and hashed: one replicate (one
/// seed) of a study file.
public struct ResolvedStudy: Sendable {
    /// The file name without `.toml` (`exp03-medium-enhanced`), with `@<seed>` for a replicate
    /// whose seed is not the file's own (`exp03-medium-enhanced@1`).
    public let name: String
    /// The study file's name: what every replicate of it shares, and what paper.toml names.
    public let base: String
    /// `train.seed` of this replicate.
    public var seed: UInt64 { spec.train.seed }
    public let file: String
    public let spec: StudySpec
    public let data: DataRecipe
    /// Canonical JSON of everything that decides the result: the resolved study, the data recipe,
    /// the engine's numerics version and the hashes of the studies it starts from.
    public let canonical: String
    /// SHA-256 of `canonical`, in hex: a stored result is reused only when this matches.
    public let hash: String
    /// Studies whose results this one needs (what it starts from, and the CLIP scorer).
    public let dependencies: [String]
    /// For each gate minimum, the file that set it (the study's own, a parent it extends, or the profile).
    public let gateFiles: [String: String]
}

/// Every study under a `studies/` folder, resolved for one profile.
public struct StudyCatalog: Sendable {
    public let directory: URL
    public let profile: String?
    /// What the profile's `[slurm]` table asks of `repro run --executor slurm` (empty without one).
    public var cluster = ClusterSettings()
    /// In dependency order: each study after those it needs.
    public let studies: [ResolvedStudy]

    /// Reads, merges, validates and hashes every study file, and makes each study's replicates. All
    /// problems in all files are reported together, one line each. `seeds` replaces the seeds of
    /// the studies it names (all studies that replicate, when it names none).
    public static func load(directory: URL, profile: String? = nil, seeds: SeedChoice? = nil) throws -> StudyCatalog {
        var loader = TreeLoader(directory: directory)
        let profileTree = try profile.map { try loader.profile(named: $0) }
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory.path, isDirectory: &isFolder), !isFolder.boolValue {
            throw StudyError(file: directory.path, key: nil, problem: "is a file, not a folder; pass --studies the folder of study files")
        }
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".toml") }.sorted()
        } catch {
            throw StudyError(file: directory.path, key: nil, problem: "\(FileProblem(error)); pass --studies the folder of study files")
        }
        guard !files.isEmpty else {
            throw StudyError(file: directory.path, key: nil, problem: "holds no study files (*.toml); pass --studies the folder of study files")
        }
        var errors: [StudyError] = []
        var parsed: [(name: String, file: String, spec: StudySpec, data: DataRecipe, tree: SourcedTree)] = []
        for file in files {
            guard !file.contains("@") else {
                errors.append(StudyError(file: directory.appendingPathComponent(file).path, key: nil,
                                         problem: "has '@' in its name, which names a study's replicates (exp03@1); rename the file"))
                continue
            }
            do {
                var tree = try loader.resolve(file)
                if let profileTree { tree = profileTree.apply(to: tree, study: String(file.dropLast(5))) }
                let (spec, data) = try decode(tree)
                if !spec.abstract { parsed.append((String(file.dropLast(5)), file, spec, data, tree)) }
            } catch let error as StudyError {
                errors.append(error)
            } catch let error as StudyErrors {
                errors += error.errors
            }
        }
        // Names that studies refer to must exist; then order and hash.
        let names = Set(parsed.map(\.name))
        var dependencies: [String: [String]] = [:]
        for study in parsed {
            var needs: [String] = []
            let references = [("init", study.spec.`init`), ("init_vision", study.spec.initVision), ("init_qformer", study.spec.initQformer),
                              ("init_language", study.spec.initLanguage), ("eval.clip_study", study.spec.eval.clipStudy)]
            for (key, target) in references where !target.isEmpty {
                if names.contains(target) {
                    if target != study.name && !needs.contains(target) { needs.append(target) }
                } else {
                    errors.append(StudyError(file: study.tree.file(of: key), key: key,
                                             problem: "names study '\(target)', which does not exist (studies: \(names.sorted().joined(separator: ", ")))"))
                }
            }
            dependencies[study.name] = needs
        }
        guard errors.isEmpty else {
            // A problem in a shared parent shows up in every study that extends it: report it once.
            var seen = Set<String>()
            throw StudyErrors(errors: errors.filter { seen.insert($0.description).inserted })
        }
        let order = try dependencyOrder(dependencies, files: Dictionary(uniqueKeysWithValues: parsed.map { ($0.name, $0.file) }))
        // The studies --seeds names, by exact name or unique prefix (none: every study that replicates).
        let seeded: Set<String>? = try seeds.map { choice in
            Set(try choice.studies.map { given in
                let name = String(given.prefix { $0 != "@" })  // a replicate names its study
                let matches = parsed.map(\.name).filter { $0 == name || $0.hasPrefix(name) }
                guard let match = matches.first(where: { $0 == name }) ?? (matches.count == 1 ? matches[0] : nil) else {
                    throw StudyError(file: directory.path, key: nil, problem: matches.isEmpty
                        ? "no study is named '\(name)' (studies: \(parsed.map(\.name).sorted().joined(separator: ", ")))"
                        : "'\(name)' matches \(matches.joined(separator: ", ")); give more of the name")
                }
                return match
            })
        }
        // Each replicate's name by base study and seed; a replicate starts from the replicate of the
        // same seed of each study it needs, where that study has one, else from the study itself.
        var replicateNames: [String: [UInt64: String]] = [:]
        var firstReplicate: [String: String] = [:]
        var hashes: [String: String] = [:]
        var resolved: [ResolvedStudy] = []
        for base in order {
            let study = parsed.first { $0.name == base }!
            let first = study.spec.train.seed
            var replicateSeeds = (0..<UInt64(max(study.spec.replicates, 1))).map { first + $0 }
            if let seeds, let seeded, seeded.isEmpty ? study.spec.replicates > 1 : seeded.contains(base) {
                replicateSeeds = seeds.seeds(from: first)
            }
            for seed in replicateSeeds {
                var spec = study.spec
                spec.train.seed = seed
                let name = seed == study.spec.train.seed ? base : "\(base)@\(seed)"
                // The same seed's replicate of each input, else its first (the input itself, unless
                // --seeds left the input's own seed out).
                let needs = dependencies[base]!.map { input in replicateNames[input]?[seed] ?? firstReplicate[input]! }
                let canonical = canonicalJSON(spec: spec, data: study.data, dependencies: needs.map { ($0.split(separator: "@")[0].description, hashes[$0]!) })
                let hash = sha256Hex(Data(canonical.utf8))
                hashes[name] = hash
                replicateNames[base, default: [:]][seed] = name
                if firstReplicate[base] == nil { firstReplicate[base] = name }
                let gateFiles = Dictionary(uniqueKeysWithValues: spec.gates.keys.map { ($0, study.tree.file(of: "gates.\($0)")) })
                resolved.append(ResolvedStudy(name: name, base: base, file: directory.appendingPathComponent(study.file).path, spec: spec,
                                              data: study.data, canonical: canonical, hash: hash, dependencies: needs, gateFiles: gateFiles))
            }
        }
        var catalog = StudyCatalog(directory: directory, profile: profile, studies: resolved)
        catalog.cluster = profileTree?.cluster ?? ClusterSettings()
        return catalog
    }

    /// The replicates of the study `name` names (a study file's name or unique prefix: every seed;
    /// a replicate's own name: that one), in seed order.
    public func replicates(of name: String) throws -> [ResolvedStudy] {
        if let exact = studies.first(where: { $0.name == name }), exact.name != exact.base { return [exact] }
        let base = try study(named: name).base
        return studies.filter { $0.base == base }
    }

    /// The study named exactly (a replicate by its own name), or the only study file whose name
    /// is or starts with `prefix` (its first replicate).
    public func study(named prefix: String) throws -> ResolvedStudy {
        if let exact = studies.first(where: { $0.name == prefix }) { return exact }
        var bases: [String] = []
        for study in studies where !bases.contains(study.base) { bases.append(study.base) }
        let matches = bases.contains(prefix) ? [prefix] : bases.filter { $0.hasPrefix(prefix) }
        guard matches.count == 1 else {
            throw StudyError(file: directory.path, key: nil, problem: matches.isEmpty
                ? "no study is named '\(prefix)' (studies: \(bases.joined(separator: ", ")))"
                : "'\(prefix)' matches \(matches.joined(separator: ", ")); give more of the name")
        }
        return studies.first { $0.base == matches[0] }!
    }

    /// The named studies (every replicate of each) and everything they need, in dependency order.
    public func closure(of names: [String]) throws -> [ResolvedStudy] {
        var wanted = Set(try names.flatMap { try replicates(of: $0).map(\.name) })
        var changed = true
        while changed {
            changed = false
            for study in studies where wanted.contains(study.name) {
                for dependency in study.dependencies where !wanted.contains(dependency) {
                    wanted.insert(dependency)
                    changed = true
                }
            }
        }
        return studies.filter { wanted.contains($0.name) }
    }
}

/// Seeds chosen on the command line (`repro run exp03 --seeds 0-4`): a count (the first N seeds
/// from each study's own), a list (`0,2,5`) or a range (`0-4`).
public struct SeedChoice: Sendable, Equatable {
    public enum Seeds: Sendable, Equatable {
        case count(Int)
        case list([UInt64])
    }

    public let choice: Seeds
    /// The studies whose seeds it sets; none: every study that replicates.
    public let studies: [String]

    /// Parses `--seeds`; a bad value is one line naming it and what is allowed.
    public init(parsing text: String, studies: [String] = []) throws {
        self.studies = studies
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let allowed = "give a count (3), a list (0,2,5) or a range (0-4) of seeds"
        if let count = Int(trimmed) {
            guard count >= 1 else { throw SeedChoiceError("--seeds \(text): a seed count must be at least 1; \(allowed)") }
            choice = .count(count)
        } else if trimmed.contains("-") {
            let ends = trimmed.split(separator: "-", omittingEmptySubsequences: false).map { UInt64($0.trimmingCharacters(in: .whitespaces)) }
            guard ends.count == 2, let low = ends[0], let high = ends[1] else { throw SeedChoiceError("--seeds \(text): not a range of seeds; \(allowed)") }
            guard low <= high else { throw SeedChoiceError("--seeds \(text): the range runs backwards; write \(high)-\(low)") }
            choice = .list(Array(low...high))
        } else {
            let seeds = trimmed.split(separator: ",", omittingEmptySubsequences: false).map { UInt64($0.trimmingCharacters(in: .whitespaces)) }
            guard seeds.count > 1, seeds.allSatisfy({ $0 != nil }) else { throw SeedChoiceError("--seeds \(text): not a seed count, list or range; \(allowed)") }
            guard Set(seeds).count == seeds.count else { throw SeedChoiceError("--seeds \(text): a seed is listed twice") }
            choice = .list(seeds.map { $0! })
        }
    }

    /// The seeds of a study whose own seed is `first`.
    func seeds(from first: UInt64) -> [UInt64] {
        switch choice {
        case .count(let count): (0..<UInt64(count)).map { first + $0 }
        case .list(let seeds): seeds
        }
    }
}

/// A `--seeds` value that is not a count, a list or a range.
public struct SeedChoiceError: Error, CustomStringConvertible, Equatable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The engine's numerics version: part of every hash, raised when a kernel's results change.
public let numericsVersion = "engine-3"

/// Sorted-key JSON of the resolved study, its data recipe and its inputs' hashes.
func canonicalJSON(spec: StudySpec, data: DataRecipe, dependencies: [(String, String)]) -> String {
    let object: [String: Any] = [
        "study": specTree(spec).hashed.foundation,
        "data": (try? JSONSerialization.jsonObject(with: data.canonicalJSON)) ?? [:],
        "numerics": numericsVersion,
        "inputs": Dictionary(uniqueKeysWithValues: dependencies),
    ]
    let bytes = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    return String(decoding: bytes, as: UTF8.self)
}

extension StudyValue {
    /// The spec's tree without what cannot change a result: its gate minimums, which only decide
    /// warnings, and its replicate count (each replicate's seed is in its own tree).
    var hashed: StudyValue {
        guard case .table(var fields) = self else { return self }
        fields.removeValue(forKey: "gates")
        fields.removeValue(forKey: "replicates")
        return .table(fields)
    }
}

/// The spec as a tree of snake_case keys (also the schema that files are checked against).
/// TOMLKit's encoder keeps the Swift types apart (booleans, integers, reals), which JSON does not.
func specTree(_ spec: StudySpec) -> StudyValue {
    func snakeKeys(_ value: StudyValue) -> StudyValue {
        switch value {
        case .table(let fields): return .table(Dictionary(uniqueKeysWithValues: fields.map { ($0.key.snakeCased, snakeKeys($0.value)) }))
        case .array(let items): return .array(items.map(snakeKeys))
        default: return value
        }
    }
    return snakeKeys(try! StudyValue(toml: TOMLTable(spec), file: "StudySpec"))
}

/// Orders studies so that each comes after what it needs; a cycle is an error naming its members.
func dependencyOrder(_ dependencies: [String: [String]], files: [String: String]) throws -> [String] {
    var order: [String] = []
    var state: [String: Int] = [:]  // 1 visiting, 2 done
    func visit(_ name: String, path: [String]) throws {
        if state[name] == 2 { return }
        if state[name] == 1 {
            let cycle = path[path.firstIndex(of: name)!...] + [name]
            throw StudyError(file: files[name] ?? name, key: "init", problem: "studies start from each other in a cycle: \(cycle.joined(separator: " -> "))")
        }
        state[name] = 1
        for dependency in dependencies[name] ?? [] { try visit(dependency, path: path + [name]) }
        state[name] = 2
        order.append(name)
    }
    for name in dependencies.keys.sorted() { try visit(name, path: []) }
    return order
}

/// Checks a merged tree against the spec's keys and types, decodes it, and validates the values.
func decode(_ tree: SourcedTree) throws -> (StudySpec, DataRecipe) {
    var errors: [StudyError] = []
    var fields = tree.fields
    fields.removeValue(forKey: "extends")
    let dataTree = fields.removeValue(forKey: "data") ?? .table([:])
    let defaults = specTree(StudySpec()).table!
    checkShape(fields, against: settableKeys(defaults), path: "", tree: tree, errors: &errors)
    guard errors.isEmpty else { throw StudyErrors(errors: errors) }
    // Keys no file sets keep the built-in defaults, which are part of the resolved (hashed) study.
    var complete = SourcedTree(fields: defaults)
    complete.overlay(SourcedTree(fields: fields))
    fields = complete.fields
    // Gate names are data, not keys: read apart, so that the snake_case conversion leaves them alone.
    let gates = fields.updateValue(.table([:]), forKey: "gates")?.table ?? [:]

    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    var spec: StudySpec
    do {
        let json = try JSONSerialization.data(withJSONObject: StudyValue.table(fields).foundation)
        spec = try decoder.decode(StudySpec.self, from: json)
    } catch let error as DecodingError {
        throw studyError(error, prefix: "", tree: tree)
    }
    spec.gates = gates.compactMapValues { value in
        switch value {
        case .real(let number): number
        case .integer(let number): Double(number)
        default: nil
        }
    }
    var data: DataRecipe
    do {
        data = try JSONDecoder().decode(DataRecipe.self, from: JSONSerialization.data(withJSONObject: dataTree.foundation))
    } catch let error as DecodingError {
        throw studyError(error, prefix: "data", tree: tree)
    }
    // The tokenizer's vocabulary is the model's: one number, set under [data].
    spec.model.textConfig.vocabSize = data.vocabularySize
    spec.model.qformerConfig.vocabSize = data.vocabularySize
    spec.model.visionConfig.imageSize = data.imageSize
    spec.model.qformerConfig.encoderHiddenSize = spec.model.visionConfig.hiddenSize

    for problem in spec.model.problems() {
        errors.append(StudyError(file: tree.file(of: "model.\(problem.key)"), key: "model.\(problem.key)", problem: problem.message))
    }
    for problem in data.problems {
        let key = "data." + (problem.split(separator: ":").first.map(String.init) ?? "")
        errors.append(StudyError(file: tree.file(of: key), key: key, problem: String(problem.drop { $0 != ":" }.dropFirst(2))))
    }
    errors += semanticProblems(spec, tree: tree)
    guard errors.isEmpty else { throw StudyErrors(errors: errors) }
    return (spec, data)
}

/// The schema without the model keys that follow [data] (vocabulary, image size) or the vision
/// config (the Q-Former's encoder width): a file that sets them is told where they come from.
func settableKeys(_ schema: [String: StudyValue]) -> [String: StudyValue] {
    guard var model = schema["model"]?.table else { return schema }
    for (section, key) in [("text_config", "vocab_size"), ("qformer_config", "vocab_size"), ("vision_config", "image_size"),
                           ("qformer_config", "encoder_hidden_size")] {
        guard var table = model[section]?.table else { continue }
        table.removeValue(forKey: key)
        model[section] = .table(table)
    }
    var out = schema
    out["model"] = .table(model)
    return out
}

/// Problems between keys that the model config cannot see.
func semanticProblems(_ spec: StudySpec, tree: SourcedTree) -> [StudyError] {
    var errors: [StudyError] = []
    func check(_ ok: Bool, _ key: String, _ problem: String) {
        if !ok { errors.append(StudyError(file: tree.file(of: key), key: key, problem: problem)) }
    }
    let width = spec.model.textConfig.hiddenSize
    check(spec.lora.r >= 0, "lora.r", "\(spec.lora.r) must not be negative")
    check(spec.lora.r <= width, "lora.r", "\(spec.lora.r) is larger than the layers it adapts (\(width) wide)")
    check(spec.lora.r == 0 || spec.lora.alpha > 0, "lora.alpha", "must be positive when lora.r > 0")
    check(spec.lora.dropout >= 0 && spec.lora.dropout < 1, "lora.dropout", "\(spec.lora.dropout) is outside [0, 1)")
    let train = spec.train
    check(train.epochs > 0 || train.maxSteps > 0, "train.epochs", "a study needs epochs > 0 or train.max_steps > 0")
    check(train.microBatch > 0, "train.micro_batch", "\(train.microBatch) must be positive")
    check(train.accumulation > 0, "train.accumulation", "\(train.accumulation) must be positive")
    check(train.threads >= 0, "train.threads", "\(train.threads) must not be negative (0: every core)")
    check(train.learningRate > 0, "train.learning_rate", "\(train.learningRate) must be positive")
    check(train.warmupRatio >= 0 && train.warmupRatio < 1, "train.warmup_ratio", "\(train.warmupRatio) is outside [0, 1)")
    check(train.checkpointEvery > 0, "train.checkpoint_every", "\(train.checkpointEvery) must be positive")
    check(train.evalEvery >= 0, "train.eval_every", "\(train.evalEvery) must not be negative (0: about 20 points a run)")
    check(["eval_loss", "last"].contains(train.selectBest), "train.select_best", "'\(train.selectBest)' is not eval_loss or last")
    check(TrainableParts(spec: train.trainable, layers: spec.model.textConfig.numHiddenLayers) != nil, "train.trainable",
          "'\(train.trainable)' is not all, adapters, paper:N, or a +-joined list of vision, qformer, language")
    check(train.sceneCodeWeight >= 0, "train.scene_code_weight", "\(train.sceneCodeWeight) must not be negative")
    check(train.sceneCodeWeight == 0 || [.align, .instruct].contains(spec.kind), "train.scene_code_weight",
          "applies only to align and instruct studies, whose images are rendered scenes; set it to 0")
    check(train.codeWordWeight == 0 || train.sceneCodeWeight > 0, "train.code_word_weight",
          "\(train.codeWordWeight) needs train.scene_code_weight above 0 (it reads the same scene code)")
    check(train.codeWordWeight >= 0, "train.code_word_weight", "\(train.codeWordWeight) must not be negative")
    check(train.answerWordWeight == 0 || train.sceneCodeWeight > 0, "train.answer_word_weight",
          "\(train.answerWordWeight) needs train.scene_code_weight above 0 (it reads the same scene code)")
    check(train.answerWordWeight >= 0, "train.answer_word_weight", "\(train.answerWordWeight) must not be negative")
    check(train.answerWordWeight == 0 || train.codeAnswer || train.codeAsked, "train.answer_word_weight",
          "\(train.answerWordWeight) weighs the answer's and the asked words' positions, and the code carries neither; set it to 0")
    for skill in train.skills {
        check(Skill(rawValue: skill) != nil, "train.skills", "'\(skill)' is not a skill (one of \(Skill.allCases.map(\.rawValue).joined(separator: ", ")))")
    }
    check(train.skills.isEmpty || [.align, .instruct].contains(spec.kind), "train.skills",
          "applies only to align and instruct studies, which train on the corpus's questions; remove it")
    check(train.rows == .finetune || spec.kind == .finetune, "train.rows",
          "applies only to finetune studies (the stages train on the pretraining corpus itself); remove it")
    check(train.codeNoise >= 0, "train.code_noise", "\(train.codeNoise) must not be negative")
    check(train.codeNoise == 0 || spec.kind == .language, "train.code_noise",
          "applies only to the language stage, which reads scene codes; set it to 0")
    check(train.tokenLoss || train.sceneCodeWeight > 0, "train.token_loss", "false leaves nothing to train; set train.scene_code_weight above 0")
    // An abstract parent's gates are checked in the studies that extend it, whose kind decides the names.
    let known = GateFigures.names(spec.kind)
    for name in spec.gates.keys.sorted() where !known.contains(name) && !spec.abstract {
        check(false, "gates.\(name)", known.isEmpty ? "\(spec.kind.rawValue) studies have no gate figures; remove [gates]"
              : "is not a gate of \(spec.kind.rawValue) studies (known: \(known.sorted().joined(separator: ", ")))")
    }
    check(spec.replicates >= 1, "replicates", "\(spec.replicates) must be at least 1 (one seed: the study itself)")
    check(spec.eval.beams >= 1, "eval.beams", "\(spec.eval.beams) must be at least 1")
    check(spec.eval.maxNewTokens > 0, "eval.max_new_tokens", "\(spec.eval.maxNewTokens) must be positive")
    return errors
}

/// Unknown keys and values of the wrong type, against the default spec's tree.
func checkShape(_ fields: [String: StudyValue], against schema: [String: StudyValue], path: String,
                tree: SourcedTree, errors: inout [StudyError]) {
    for key in fields.keys.sorted() {
        let value = fields[key]!
        let keyPath = path.isEmpty ? key : "\(path).\(key)"
        guard let expected = schema[key] else {
            let known = schema.keys.sorted().joined(separator: ", ")
            let hint = ["vocab_size", "image_size"].contains(key) ? " (it follows [data]: vocabulary_size and image_size)"
                : key == "encoder_hidden_size" ? " (it follows vision_config.hidden_size)" : " (known here: \(known))"
            errors.append(StudyError(file: tree.file(of: keyPath), key: keyPath, problem: "unknown key\(hint)"))
            continue
        }
        switch (expected, value) {
        case (.table, .table(let given)) where keyPath == "gates":
            // Names are the stage's gate figures (checked against the study's kind later); values are minimums.
            for (name, minimum) in given {
                switch minimum {
                case .real, .integer: continue
                default: errors.append(StudyError(file: tree.file(of: "gates.\(name)"), key: "gates.\(name)",
                                                  problem: "expected a number (the figure's minimum), got \(minimum.typeName)"))
                }
            }
        case (.table(let inner), .table(let given)):
            checkShape(given, against: inner, path: keyPath, tree: tree, errors: &errors)
        case (.array, .array), (.string, .string), (.boolean, .boolean), (.integer, .integer), (.real, .real), (.real, .integer):
            continue
        default:
            errors.append(StudyError(file: tree.file(of: keyPath), key: keyPath,
                                     problem: "expected \(expected.typeName), got \(value.typeName)"))
        }
    }
}

/// A decoding error as the file and key it concerns.
func studyError(_ error: DecodingError, prefix: String, tree: SourcedTree) -> StudyError {
    let context: DecodingError.Context
    switch error {
    case .typeMismatch(_, let c), .valueNotFound(_, let c), .keyNotFound(_, let c), .dataCorrupted(let c): context = c
    @unknown default: return StudyError(file: tree.file(of: prefix), key: prefix, problem: "\(error)")
    }
    let parts = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue.snakeCased }
    let key = ([prefix] + parts).filter { !$0.isEmpty }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
    return StudyError(file: tree.file(of: key), key: key, problem: context.debugDescription)
}

/// Reads study files and follows `extends`.
struct TreeLoader {
    let directory: URL
    private var cache: [String: SourcedTree] = [:]

    init(directory: URL) { self.directory = directory }

    /// Parses one file into a tree marked with its path.
    func parse(_ url: URL) throws -> SourcedTree {
        let path = url.path
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw StudyError(file: path, key: nil, problem: "cannot be read")
        }
        guard case .table(let fields) = try StudyValue(toml: parseTOML(text, file: path), file: path) else { fatalError() }
        return SourcedTree(fields: fields, file: path)
    }

    /// The file merged over everything it extends.
    mutating func resolve(_ file: String, chain: [String] = []) throws -> SourcedTree {
        if let cached = cache[file] { return cached }
        let path = directory.appendingPathComponent(file).path
        guard !chain.contains(file) else {
            throw StudyError(file: path, key: "extends", problem: "extends itself through \((chain + [file]).joined(separator: " -> "))")
        }
        guard FileManager.default.fileExists(atPath: path) else {
            let from = chain.last.map { directory.appendingPathComponent($0).path } ?? path
            throw StudyError(file: from, key: chain.isEmpty ? nil : "extends", problem: "\(file) does not exist")
        }
        let own = try parse(URL(fileURLWithPath: path))
        var tree = SourcedTree()
        if let parent = own.fields["extends"] {
            guard case .string(let parentFile) = parent else {
                throw StudyError(file: path, key: "extends", problem: "expected a string, got \(parent.typeName)")
            }
            tree = try resolve(parentFile, chain: chain + [file])
        }
        tree.overlay(own)
        // `abstract` marks one file, not the files that extend it.
        if own.fields["abstract"] == nil { tree.fields.removeValue(forKey: "abstract") }
        cache[file] = tree
        return tree
    }

    /// A profile: tables that overlay every study, and `[studies.NAME]` tables for one study.
    func profile(named name: String) throws -> Profile {
        let url = directory.appendingPathComponent("profiles").appendingPathComponent("\(name).toml")
        guard FileManager.default.fileExists(atPath: url.path) else {
            let available = (try? FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path))?
                .filter { $0.hasSuffix(".toml") }.map { String($0.dropLast(5)) }.sorted() ?? []
            throw StudyError(file: url.path, key: nil, problem: "no such profile (profiles: \(available.joined(separator: ", ")))")
        }
        var tree = try parse(url)
        var perStudy: [String: SourcedTree] = [:]
        if let studies = tree.fields.removeValue(forKey: "studies") {
            guard let table = studies.table else { throw StudyError(file: url.path, key: "studies", problem: "expected a table of study names") }
            for (study, overrides) in table {
                guard let fields = overrides.table else {
                    throw StudyError(file: url.path, key: "studies.\(study)", problem: "expected a table")
                }
                perStudy[study] = SourcedTree(fields: fields, file: url.path)
            }
        }
        var cluster = ClusterSettings()
        if let slurm = tree.fields.removeValue(forKey: "slurm") {
            guard let table = slurm.table else { throw StudyError(file: url.path, key: "slurm", problem: "expected a table") }
            for (key, value) in table {
                switch (key, value) {
                case ("partition", .string(let text)): cluster.partition = text
                case ("time", .string(let text)): cluster.time = text
                case ("sbatch_args", .array(let items)):
                    cluster.sbatchArguments = try items.map {
                        guard case .string(let text) = $0 else {
                            throw StudyError(file: url.path, key: "slurm.sbatch_args", problem: "expected a list of strings, like [\"--account=lab\"]")
                        }
                        return text
                    }
                case ("partition", _), ("time", _):
                    throw StudyError(file: url.path, key: "slurm.\(key)", problem: "expected a string")
                case ("sbatch_args", _):
                    throw StudyError(file: url.path, key: "slurm.sbatch_args", problem: "expected a list of strings, like [\"--account=lab\"]")
                default:
                    throw StudyError(file: url.path, key: "slurm.\(key)", problem: "unknown key; [slurm] takes partition, time and sbatch_args")
                }
            }
        }
        return Profile(everyStudy: tree, perStudy: perStudy, cluster: cluster)
    }
}

/// How `repro run --executor slurm` submits its jobs, from a profile's `[slurm]` table; the
/// command line's options take precedence.
public struct ClusterSettings: Sendable, Equatable {
    /// `sbatch --partition` (the cluster's default when nil).
    public var partition: String?
    /// `sbatch --time`, in any form Slurm takes ("30", "1:00:00", "2-00").
    public var time: String?
    /// Further `sbatch` arguments, one per item (`["--account=lab", "--qos=short"]`).
    public var sbatchArguments: [String] = []

    public init(partition: String? = nil, time: String? = nil, sbatchArguments: [String] = []) {
        (self.partition, self.time, self.sbatchArguments) = (partition, time, sbatchArguments)
    }
}

/// A profile's overlays.
struct Profile {
    let everyStudy: SourcedTree
    let perStudy: [String: SourcedTree]
    let cluster: ClusterSettings

    func apply(to tree: SourcedTree, study: String) -> SourcedTree {
        var out = tree
        var everyStudy = self.everyStudy
        // A profile-wide replicate count changes the studies that replicate, not every stage.
        if case .integer(let count)? = tree.fields["replicates"], count > 1 {} else { everyStudy.fields.removeValue(forKey: "replicates") }
        out.overlay(everyStudy)
        if let own = perStudy[study] { out.overlay(own) }
        out.origin = tree.origin
        return out
    }
}
